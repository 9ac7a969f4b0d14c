use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A client workload tolerates the infrastructure taint or selects infrastructure nodes.
    pub ClientWorkloadOnInfra { id: "SEP005", name: "client-workload-on-infra", severity: Error }
}

impl Rule for ClientWorkloadOnInfra {}
