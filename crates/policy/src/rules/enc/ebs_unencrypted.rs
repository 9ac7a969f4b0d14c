use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// An EBS volume of a node class is not encrypted.
    pub EbsUnencrypted { id: "ENC001", name: "ebs-volume-unencrypted", severity: Error }
}

impl Rule for EbsUnencrypted {}
