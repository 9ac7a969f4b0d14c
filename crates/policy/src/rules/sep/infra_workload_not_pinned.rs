use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A platform workload does not both tolerate the infrastructure taint and select infrastructure nodes.
    pub InfraWorkloadNotPinned { id: "SEP004", name: "infra-workload-not-pinned", severity: Error }
}

impl Rule for InfraWorkloadNotPinned {}
