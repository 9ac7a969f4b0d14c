use crate::model::anchor_key;
use crate::node::Value;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// A NodePool has no limits, so its spend is unbounded.
    ///
    /// ## Why
    /// `spec.limits` caps the resources (`cpu`, `memory`, `nodes`, ...) that all nodes of a
    /// NodePool may add up to; Karpenter launches nothing more once the pool reaches them.
    /// Without limits, a runaway Deployment, a HorizontalPodAutoscaler gone wrong, a crash loop
    /// of Jobs or a pod with an impossible request keeps Karpenter launching instances, and the
    /// bill grows until someone notices. Limits are also the only guard when a pool can launch
    /// large or GPU instance types. A missing or empty `limits` is reported. Static NodePools
    /// (`spec.replicas` set) have a fixed node count and are exempt.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements: []
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: apps
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}
    ///       requirements: []
    ///   limits:
    ///     cpu: "1000"
    ///     memory: 1000Gi
    /// ```
    pub PoolWithoutLimits { id: "KARP002", name: "pool-without-limits", severity: Warning }
}

impl Rule for PoolWithoutLimits {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            let spec = pool.doc.root.get("spec");
            if spec.and_then(|s| s.get("replicas")).is_some() {
                continue;
            }
            let limits = spec.and_then(|s| s.get("limits"));
            let empty = match limits.map(|l| &l.value) {
                None | Some(Value::Null) => true,
                Some(Value::Map(entries)) => entries.is_empty(),
                // A list or a scalar is a schema finding.
                Some(_) => false,
            };
            if !empty {
                continue;
            }
            let what = if limits.is_some() { "empty" } else { "no" };
            out.report(
                pool.doc,
                anchor_key(&pool.doc.root, &["spec", "limits"]),
                format!(
                    "NodePool `{}` has {what} `limits`, so Karpenter can launch nodes for it without bound",
                    pool.name
                ),
            )
            .help(
                "add `spec.limits` sized to the pool's budget, e.g. `limits: {cpu: \"1000\", memory: 1000Gi}`",
            );
        }
    }
}
