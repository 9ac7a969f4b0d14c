use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A NodePool uses a node class billed to another pool class.
    pub BillingClassMismatch { id: "TAG005", name: "billing-class-mismatch", severity: Error }
}

impl Rule for BillingClassMismatch {}
