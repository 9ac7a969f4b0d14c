use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// An infrastructure NodePool allows a capacity type the policy forbids.
    pub InfraPoolForbiddenCapacity { id: "SEP003", name: "infra-pool-forbidden-capacity", severity: Warning }
}

impl Rule for InfraPoolForbiddenCapacity {}
