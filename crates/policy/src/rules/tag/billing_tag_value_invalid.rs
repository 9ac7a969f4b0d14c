use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A billing tag has a value the pool class does not allow.
    pub BillingTagValueInvalid { id: "TAG002", name: "billing-tag-value-invalid", severity: Error }
}

impl Rule for BillingTagValueInvalid {}
