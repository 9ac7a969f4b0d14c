use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// An infrastructure NodePool has no disruption budget.
    pub InfraPoolWithoutBudget { id: "KARP003", name: "infra-pool-without-budget", severity: Warning }
}

impl Rule for InfraPoolWithoutBudget {}
