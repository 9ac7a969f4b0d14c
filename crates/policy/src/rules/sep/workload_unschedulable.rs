use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A workload fits no NodePool in the checked set and would stay Pending.
    pub WorkloadUnschedulable { id: "SEP006", name: "workload-unschedulable", severity: Error }
}

impl Rule for WorkloadUnschedulable {}
