use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A nodeClassRef group and kind do not match each other or the node class.
    pub NodeClassRefMismatch { id: "REF002", name: "node-class-ref-mismatch", severity: Error }
}

impl Rule for NodeClassRefMismatch {}
