use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A NodePool has no limits, so its spend is unbounded.
    pub PoolWithoutLimits { id: "KARP002", name: "pool-without-limits", severity: Warning }
}

impl Rule for PoolWithoutLimits {}
