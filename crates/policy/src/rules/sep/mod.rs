//! Separation of the infrastructure pool from client application pools.

pub mod client_workload_on_infra;
pub mod infra_pool_forbidden_capacity;
pub mod infra_pool_missing_taint;
pub mod infra_workload_not_pinned;
pub mod pool_label_mismatch;
pub mod workload_unschedulable;
