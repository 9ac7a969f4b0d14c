use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// Node volumes are not encrypted with the customer-managed KMS key the policy requires.
    pub KmsKeyMissing { id: "ENC002", name: "kms-key-missing", severity: Error }
}

impl Rule for KmsKeyMissing {}
