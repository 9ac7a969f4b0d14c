//! Karpenter operational practice: spot diversity, limits, disruption budgets.

pub mod infra_pool_without_budget;
pub mod pool_without_limits;
pub mod spot_diversity_low;
