use crate::model::anchor_key;
use crate::node::Value;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// An infrastructure NodePool has no disruption budget.
    ///
    /// ## Why
    /// Karpenter disrupts nodes on its own: it consolidates underutilized ones, replaces drifted
    /// ones and (in v1beta1) expires old ones. `spec.disruption.budgets` limits how many nodes
    /// of a pool it may disrupt at once and when. Without budgets Karpenter applies its default,
    /// one budget of `nodes: 10%` at all times, so it may drain infrastructure nodes (Istio
    /// gateways, Vault, monitoring, ingress) in the middle of business hours, several at a time
    /// on a large pool. An empty `budgets: []` is worse: no budget limits disruption at all.
    /// The rule checks pools whose policy class sets `requireDisruptionBudget: true` (the
    /// default policy's `infrastructure` class).
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: infra
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {node-type: infrastructure}
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
    ///       requirements: []
    ///       taints:
    ///         - {key: workload-type, value: infrastructure, effect: NoSchedule}
    ///   disruption:
    ///     consolidationPolicy: WhenEmptyOrUnderutilized
    ///     consolidateAfter: 10m
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: infra
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {node-type: infrastructure}
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
    ///       requirements: []
    ///       taints:
    ///         - {key: workload-type, value: infrastructure, effect: NoSchedule}
    ///   disruption:
    ///     consolidationPolicy: WhenEmptyOrUnderutilized
    ///     consolidateAfter: 10m
    ///     budgets:
    ///       # One node at a time, and none on weekdays from 08:00 to 18:00 UTC.
    ///       - nodes: "1"
    ///       - nodes: "0"
    ///         schedule: "0 8 * * mon-fri"
    ///         duration: 10h
    /// ```
    pub InfraPoolWithoutBudget { id: "KARP003", name: "infra-pool-without-budget", severity: Warning }
}

impl Rule for InfraPoolWithoutBudget {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            let Some(class) = cx.pool_class(pool).filter(|c| c.require_disruption_budget) else {
                continue;
            };
            let budgets = pool.doc.root.path(&["spec", "disruption", "budgets"]);
            let message = match budgets.map(|b| &b.value) {
                None | Some(Value::Null) => format!(
                    "{} pool `{}` has no disruption budget: Karpenter's default (`nodes: 10%`) \
                     lets it disrupt these nodes at any time",
                    class.name, pool.name
                ),
                Some(Value::Seq(items)) if items.is_empty() => format!(
                    "{} pool `{}` has an empty `budgets` list: nothing limits how many of its \
                     nodes Karpenter disrupts at once",
                    class.name, pool.name
                ),
                // Budgets are set (a mistyped value is a schema finding).
                Some(_) => continue,
            };
            out.report(
                pool.doc,
                anchor_key(&pool.doc.root, &["spec", "disruption", "budgets"]),
                message,
            )
            .help(
                "add `spec.disruption.budgets`, e.g. `- nodes: \"1\"` to disrupt one node at a time, \
                 and `- {nodes: \"0\", schedule: \"0 8 * * mon-fri\", duration: 10h}` to block \
                 voluntary disruption during business hours (UTC)",
            );
        }
    }
}
