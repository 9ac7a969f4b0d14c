use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A nodeClassRef names a node class that is not in the checked set.
    pub NodeClassNotFound { id: "REF001", name: "node-class-not-found", severity: Warning }
}

impl Rule for NodeClassNotFound {}
