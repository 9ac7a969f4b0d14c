use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// An infrastructure NodePool lacks the infrastructure label, or a client pool carries it.
    pub PoolLabelMismatch { id: "SEP002", name: "pool-label-mismatch", severity: Error }
}

impl Rule for PoolLabelMismatch {}
