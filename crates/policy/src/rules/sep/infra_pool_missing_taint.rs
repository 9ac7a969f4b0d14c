use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// An infrastructure NodePool lacks the infrastructure taint.
    ///
    /// ## Why
    /// Without the taint (`workload-type=infrastructure` with effect `NoSchedule` or
    /// `NoExecute` in the default policy), any pod whose requirements fit lands on the
    /// infrastructure nodes: client workloads then compete with Istio, Vault and monitoring for
    /// capacity and their cost lands on the shared-services cost centre. A `PreferNoSchedule`
    /// taint does not fence anything off. A pool is infrastructure when its template labels,
    /// its name or its taints say so (the policy's `poolClasses[].match`).
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
    /// ```
    pub InfraPoolMissingTaint { id: "SEP001", name: "infra-pool-missing-taint", severity: Error }
}

impl Rule for InfraPoolMissingTaint {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            let Some(class) = cx.pool_class(pool).filter(|c| c.infrastructure) else {
                continue;
            };
            for spec in &class.taints {
                let present = pool.taints.iter().any(|t| {
                    t.key == spec.key
                        && t.value == spec.value
                        && spec.effects.iter().any(|e| *e == t.effect)
                });
                if present {
                    continue;
                }
                let wanted = format!(
                    "{}={}:{}",
                    spec.key,
                    spec.value,
                    spec.effects.first().map_or("NoSchedule", |e| e.as_str())
                );
                // A taint with the right key but a weak effect or wrong value is the place to fix.
                let (node, message) = match pool.taints.iter().find(|t| t.key == spec.key) {
                    Some(t) => (
                        t.node,
                        format!(
                            "infrastructure pool `{}` has taint `{}={}:{}` instead of `{wanted}`",
                            pool.name, t.key, t.value, t.effect
                        ),
                    ),
                    None => (
                        pool.anchor(),
                        format!(
                            "infrastructure pool `{}` lacks the taint `{wanted}`",
                            pool.name
                        ),
                    ),
                };
                let effects: Vec<&str> = spec.effects.iter().map(|e| e.as_str()).collect();
                let effects = effects.join("` or `");
                out.report(pool.doc, node, message).help(format!(
                    "add `{{key: {}, value: {}, effect: {}}}` to `spec.template.spec.taints` (effect `{effects}`)",
                    spec.key,
                    spec.value,
                    spec.effects.first().map_or("NoSchedule", |e| e.as_str())
                ));
            }
        }
    }
}
