use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

const CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";

declare_rule! {
    /// An infrastructure NodePool allows a capacity type the policy forbids.
    ///
    /// ## Why
    /// Spot instances can be reclaimed with two minutes' notice. Losing an Istio control plane,
    /// Vault or the ingress controllers together with the node they run on takes every client
    /// application down with them, so the default policy keeps the infrastructure pool on
    /// `on-demand` capacity (`poolClasses[].capacityTypes`; any class may set the list). The
    /// capacity types a pool allows are read from its `karpenter.sh/capacity-type`
    /// requirements (`In`, `NotIn`, `Exists`, all of them intersected).
    ///
    /// A pool without such a requirement allows every capacity type, and gets spot nodes
    /// whenever spot is offered: Karpenter v1 adds no default requirement
    /// ([`NodePool.SetDefaults`](https://github.com/kubernetes-sigs/karpenter/blob/main/pkg/apis/v1/nodepool_defaults.go)
    /// is empty, and an absent key reads as `Exists` in
    /// [`scheduling.Requirements.Get`](https://github.com/kubernetes-sigs/karpenter/blob/main/pkg/scheduling/requirements.go)),
    /// and the AWS provider picks `reserved`, then `spot`, then `on-demand`
    /// ([`getCapacityType`](https://github.com/aws/karpenter-provider-aws/blob/main/pkg/providers/instance/instance.go);
    /// the v1 docs: "If a NodePool is compatible with multiple capacity types, Karpenter will
    /// prioritize `reserved` capacity, followed by `spot`, then finally `on-demand`"). The
    /// defaults of Karpenter before v1 (on-demand, `amd64`, `linux`, set by a webhook) are
    /// gone. `reserved` capacity exists only for a node class that selects capacity
    /// reservations (`capacityReservationSelectorTerms`), so `reserved` is judged only when
    /// the pool's node class is in the checked files and has such terms: the common
    /// `NotIn [spot]` on an ordinary node class means on-demand.
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
    ///       requirements:
    ///         - key: karpenter.sh/capacity-type
    ///           operator: In
    ///           values: [spot, on-demand]
    ///       taints:
    ///         - {key: workload-type, value: infrastructure, effect: NoSchedule}
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
    ///       requirements:
    ///         - key: karpenter.sh/capacity-type
    ///           operator: In
    ///           values: [on-demand]
    ///       taints:
    ///         - {key: workload-type, value: infrastructure, effect: NoSchedule}
    /// ```
    pub InfraPoolForbiddenCapacity { id: "SEP003", name: "infra-pool-forbidden-capacity", severity: Warning }
}

impl Rule for InfraPoolForbiddenCapacity {
    // `reserved` capacity depends on the pool's node class, which may be in another file.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            let Some(class) = cx.pool_class(pool) else {
                continue;
            };
            // An empty list restricts nothing, as an absent one.
            let Some(allowed) = class.capacity_types.as_ref().filter(|a| !a.is_empty()) else {
                continue;
            };
            let forbidden: Vec<&str> = cx
                .capacity_types(pool)
                .into_iter()
                .filter(|c| !allowed.iter().any(|a| a == c))
                .collect();
            let Some(first) = forbidden.first() else {
                continue;
            };
            // The requirement that lets the forbidden type through: its values, else itself.
            let requirements: Vec<_> = pool
                .requirements
                .iter()
                .filter(|r| r.key == CAPACITY_TYPE)
                .collect();
            let culprit = requirements
                .iter()
                .find(|r| match r.operator {
                    "In" => r.values.iter().any(|v| v == first),
                    "NotIn" => !r.values.iter().any(|v| v == first),
                    _ => true,
                })
                .or(requirements.first());
            let node = culprit
                .map(|r| {
                    let item = r.values_node.and_then(|values| {
                        values
                            .items()
                            .iter()
                            .find(|v| v.scalar_text().as_deref() == Some(*first))
                    });
                    match r.operator {
                        "In" => item.or(r.values_node).unwrap_or(r.node),
                        "NotIn" => r.values_node.unwrap_or(r.node),
                        _ => r.node.get("operator").unwrap_or(r.node),
                    }
                })
                .unwrap_or_else(|| pool.anchor());
            let allowed: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
            let allowed_text = allowed.join("`, `");
            let unrestricted = if requirements.is_empty() {
                " (it has no `karpenter.sh/capacity-type` requirement, and Karpenter then prefers spot to on-demand)"
            } else {
                ""
            };
            out.report(
                pool.doc,
                node,
                format!(
                    "pool `{}` (class `{}`) allows capacity type{} `{}`{unrestricted}; the policy allows only `{allowed_text}`",
                    pool.name,
                    class.name,
                    if forbidden.len() == 1 { "" } else { "s" },
                    forbidden.join("`, `")
                ),
            )
            .help(format!(
                "require `{{key: {CAPACITY_TYPE}, operator: In, values: [{}]}}` in `spec.template.spec.requirements`",
                allowed.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings;

    fn infra(requirements: &str) -> String {
        format!(
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: infra}}\nspec:\n  template:\n    metadata: {{labels: {{node-type: infrastructure}}}}\n    spec:\n      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}}\n      requirements: [{requirements}]\n"
        )
    }

    const RESERVING_CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  capacityReservationSelectorTerms: [{tags: {purpose: infra}}]\n";

    #[test]
    fn reserved_counts_only_when_the_node_class_selects_reservations() {
        let not_spot = infra("{key: karpenter.sh/capacity-type, operator: NotIn, values: [spot]}");
        assert!(findings("SEP003", &not_spot).is_empty());
        let found = findings("SEP003", &format!("{not_spot}---\n{RESERVING_CLASS}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found.iter().all(|f| f.contains("`reserved`")), "{found:?}");
    }

    #[test]
    fn capacity_types() {
        let f = |r: &str| findings("SEP003", &infra(r));
        assert_eq!(f("").len(), 1, "no requirement: spot is allowed");
        assert!(
            f("{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}").is_empty()
        );
        assert!(
            f("{key: karpenter.sh/capacity-type, operator: NotIn, values: [spot, reserved]}")
                .is_empty()
        );
        assert_eq!(
            f("{key: karpenter.sh/capacity-type, operator: In, values: [spot]}").len(),
            1
        );
        // Without capacity reservations on the node class, `NotIn [spot]` is on-demand only.
        assert!(f("{key: karpenter.sh/capacity-type, operator: NotIn, values: [spot]}").is_empty());
        assert_eq!(
            f("{key: karpenter.sh/capacity-type, operator: Exists}").len(),
            1
        );
        // An applications pool may use spot under the default policy.
        let apps = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: apps}\nspec:\n  template:\n    metadata: {labels: {node-type: applications}}\n    spec:\n      requirements: [{key: karpenter.sh/capacity-type, operator: In, values: [spot]}]\n";
        assert!(findings("SEP003", apps).is_empty());
    }
}
