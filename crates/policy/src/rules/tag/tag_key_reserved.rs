use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A tag key is reserved by Karpenter or EKS.
    pub TagKeyReserved { id: "TAG004", name: "tag-key-reserved", severity: Error }
}

impl Rule for TagKeyReserved {}
