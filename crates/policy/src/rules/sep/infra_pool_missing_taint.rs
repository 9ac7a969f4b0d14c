use crate::fix::{Applicability, Change, NewValue};
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
    /// ## Fix
    /// Unsafe (`--fix --unsafe-fixes`): adds the taint to `spec.template.spec.taints` (and
    /// the list if there is none). It changes scheduling: new infrastructure nodes repel every
    /// pod that does not tolerate the taint, so check that the platform workloads meant for
    /// them do (SEP004 reports those that do not). A taint with the right key but another value
    /// or effect is left to you.
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
    pub InfraPoolMissingTaint { id: "SEP001", name: "infra-pool-missing-taint", severity: Error, fix: Unsafe }
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
                let effect = spec.effects.first().map_or("NoSchedule", |e| e.as_str());
                let taint = NewValue::strings([
                    ("key", spec.key.as_str()),
                    ("value", spec.value.as_str()),
                    ("effect", effect),
                ]);
                let path = ["spec", "template", "spec", "taints"];
                let change = match pool.doc.root.path(&path) {
                    Some(seq) => Change::Append { seq, item: taint },
                    None => Change::Insert {
                        map: &pool.doc.root,
                        path: path.map(String::from).to_vec(),
                        value: NewValue::List(vec![taint]),
                    },
                };
                let violation = out.report(pool.doc, node, message);
                if !pool.taints.iter().any(|t| t.key == spec.key) {
                    violation.fix(
                        Applicability::Unsafe,
                        format!("add the taint `{wanted}`"),
                        change,
                    );
                }
                violation.help(format!(
                    "add `{{key: {}, value: {}, effect: {}}}` to `spec.template.spec.taints` (effect `{effects}`)",
                    spec.key,
                    spec.value,
                    spec.effects.first().map_or("NoSchedule", |e| e.as_str())
                ));
            }
        }
    }
}
