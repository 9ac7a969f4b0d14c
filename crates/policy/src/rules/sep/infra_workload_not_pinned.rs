use crate::model::scheduling::{self, Alternative};
use crate::model::separation::labels_text;
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A workload in an infrastructure namespace does not both tolerate the infrastructure taint and select infrastructure nodes.
    ///
    /// ## Why
    /// The infrastructure pool is fenced off by a taint, so a platform pod (Istio, Vault,
    /// SigNoz, ingress, monitoring: the policy's `namespaces.infrastructure`) needs two things
    /// to run there: a toleration of the taint (`workload-type=infrastructure`), or it can
    /// never land on those nodes; and a node selector for the infrastructure label
    /// (`node-type=infrastructure`), or it may land on client nodes instead, competing with
    /// client workloads and billed to them. Each missing half is one finding.
    ///
    /// A toleration counts when it tolerates the taint for one of the class's effects
    /// (`Exists` on the key, or a wildcard, count too). Selecting counts when every way the
    /// pod may be placed requires the infrastructure labels: a `nodeSelector` with all of
    /// them, or a required node affinity whose every term requires them (`node-type In
    /// [infrastructure]`), or `karpenter.sh/nodepool` naming infrastructure pools of the
    /// checked set. Deployments, StatefulSets, ReplicaSets, Jobs, CronJobs and Pods are
    /// checked; DaemonSets are not, as they run one pod on every node by design. A workload
    /// without `metadata.namespace` is in `default`.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: istiod
    ///   namespace: istio-system
    /// spec:
    ///   selector:
    ///     matchLabels: {app: istiod}
    ///   template:
    ///     metadata:
    ///       labels: {app: istiod}
    ///     spec:
    ///       nodeSelector: {node-type: infrastructure}
    ///       containers:
    ///         - {name: discovery, image: docker.io/istio/pilot:1.24.2}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: istiod
    ///   namespace: istio-system
    /// spec:
    ///   selector:
    ///     matchLabels: {app: istiod}
    ///   template:
    ///     metadata:
    ///       labels: {app: istiod}
    ///     spec:
    ///       nodeSelector: {node-type: infrastructure}
    ///       tolerations:
    ///         - {key: workload-type, operator: Equal, value: infrastructure, effect: NoSchedule}
    ///       containers:
    ///         - {name: discovery, image: docker.io/istio/pilot:1.24.2}
    /// ```
    pub InfraWorkloadNotPinned { id: "SEP004", name: "infra-workload-not-pinned", severity: Error }
}

/// Whether a placement alternative can only land on infrastructure nodes.
fn alternative_pinned(
    alt: &Alternative<'_, '_>,
    labels: &[(String, String)],
    pools: &[&str],
) -> bool {
    let by_labels = !labels.is_empty()
        && labels.iter().all(|(k, v)| {
            alt.get(k)
                .and_then(scheduling::LabelSet::required_values)
                .is_some_and(|values| values.iter().all(|x| x == v))
        });
    let by_pool = alt
        .get("karpenter.sh/nodepool")
        .and_then(scheduling::LabelSet::required_values)
        .is_some_and(|names| {
            !names.is_empty() && names.iter().all(|n| pools.contains(&n.as_str()))
        });
    by_labels || by_pool
}

impl Rule for InfraWorkloadNotPinned {
    // A workload is judged against the infrastructure pools of the whole run.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        let Some(class) = cx.policy.infrastructure_class() else {
            return;
        };
        let labels = class.node_labels();
        let pools = cx.infra_pool_names();
        for w in cx.workloads() {
            let w = &w;
            let ns = w.effective_namespace();
            if w.is_daemon_set() || !cx.policy.is_infra_namespace(ns) || w.pod_spec.is_none() {
                continue;
            }
            let what = w.describe();
            let tolerations_key = w
                .pod_spec
                .and_then(|s| s.entry("tolerations"))
                .map(|e| &e.key);
            for spec in &class.taints {
                let tolerated = w.tolerations.iter().any(|t| {
                    spec.effects
                        .iter()
                        .any(|e| t.tolerates(&spec.key, &spec.value, e.as_str()))
                });
                if tolerated {
                    continue;
                }
                let effect = spec.effects.first().map_or("NoSchedule", |e| e.as_str());
                out.report(
                    w.doc,
                    tolerations_key.unwrap_or_else(|| w.anchor()),
                    format!(
                        "{what} in infrastructure namespace `{ns}` does not tolerate the infrastructure taint `{}`, so it cannot run on infrastructure nodes",
                        spec.text(None)
                    ),
                )
                .help(format!(
                    "add to the pod's `tolerations`: `{{key: {}, operator: Equal, value: {}, effect: {effect}}}`",
                    spec.key, spec.value
                ));
            }
            if labels.is_empty() && pools.is_empty() {
                continue;
            }
            let alternatives = scheduling::alternatives(w);
            let Some(loose) = alternatives
                .iter()
                .find(|alt| !alternative_pinned(alt, labels, &pools))
            else {
                continue;
            };
            let selector_key = w
                .pod_spec
                .and_then(|s| s.entry("nodeSelector"))
                .map(|e| &e.key);
            let (node, detail): (&Node, &str) = match (loose.term, selector_key) {
                (Some(term), _) => (
                    term.node,
                    "a required node affinity term does not require them",
                ),
                (None, Some(key)) => (key, "its `nodeSelector` does not require them"),
                (None, None) => (
                    w.anchor(),
                    "it has no `nodeSelector` or required node affinity",
                ),
            };
            let wanted = if labels.is_empty() {
                "an infrastructure `karpenter.sh/nodepool`".to_string()
            } else {
                format!("`{}`", labels_text(labels))
            };
            let yaml = labels
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.report(
                w.doc,
                node,
                format!(
                    "{what} in infrastructure namespace `{ns}` does not select infrastructure nodes ({wanted}): {detail}"
                ),
            )
            .help(if yaml.is_empty() {
                "select an infrastructure pool with `nodeSelector: {karpenter.sh/nodepool: <pool>}`".to_string()
            } else {
                format!("add `nodeSelector: {{{yaml}}}` to the pod spec")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::findings;

    fn pod(ns: &str, spec: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec:\n{spec}")
    }

    const TOL: &str = "  tolerations: [{key: workload-type, operator: Exists}]\n";

    fn affinity(terms: &str) -> String {
        format!(
            "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n{terms}"
        )
    }

    #[test]
    fn both_halves_are_separate_findings() {
        let got = findings("SEP004", &pod("vault", "  containers: []\n"));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().any(|m| m.contains("does not tolerate")));
        assert!(got.iter().any(|m| m.contains("does not select")));
    }

    #[test]
    fn every_affinity_term_must_require_the_label() {
        let pinned = affinity(
            "          - matchExpressions: [{key: node-type, operator: In, values: [infrastructure]}]\n          - matchExpressions: [{key: node-type, operator: In, values: [infrastructure]}, {key: kubernetes.io/arch, operator: In, values: [arm64]}]\n",
        );
        assert!(findings("SEP004", &pod("vault", &format!("{TOL}{pinned}"))).is_empty());
        let loose = affinity(
            "          - matchExpressions: [{key: node-type, operator: In, values: [infrastructure]}]\n          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]\n",
        );
        assert_eq!(
            findings("SEP004", &pod("vault", &format!("{TOL}{loose}"))).len(),
            1
        );
        let exists =
            affinity("          - matchExpressions: [{key: node-type, operator: Exists}]\n");
        assert_eq!(
            findings("SEP004", &pod("vault", &format!("{TOL}{exists}"))).len(),
            1
        );
        // A nodeSelector applies to every term.
        let selector = format!(
            "{TOL}  nodeSelector: {{node-type: infrastructure}}\n{}",
            affinity(
                "          - matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [arm64]}]\n"
            )
        );
        assert!(findings("SEP004", &pod("vault", &selector)).is_empty());
    }

    #[test]
    fn nodepool_selection_counts_only_for_infra_pools_in_the_set() {
        let pools = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: platform}\nspec:\n  template:\n    metadata: {labels: {node-type: infrastructure}}\n    spec:\n      requirements: []\n      taints: [{key: workload-type, value: infrastructure, effect: NoSchedule}]\n---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: apps}\nspec:\n  template:\n    metadata: {labels: {node-type: applications}}\n    spec:\n      requirements: []\n---\n";
        let on = |pool: &str| {
            findings(
                "SEP004",
                &format!(
                    "{pools}{}",
                    pod(
                        "vault",
                        &format!("{TOL}  nodeSelector: {{karpenter.sh/nodepool: {pool}}}\n")
                    )
                ),
            )
        };
        assert!(on("platform").is_empty());
        assert_eq!(on("apps").len(), 1);
        // Without the pool in the set there is no telling.
        assert_eq!(
            findings(
                "SEP004",
                &pod(
                    "vault",
                    &format!("{TOL}  nodeSelector: {{karpenter.sh/nodepool: platform}}\n")
                )
            )
            .len(),
            1
        );
    }

    #[test]
    fn daemonsets_and_other_namespaces_are_not_checked() {
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, namespace: monitoring}\nspec:\n  template:\n    spec:\n      containers: []\n";
        assert!(findings("SEP004", ds).is_empty());
        assert!(findings("SEP004", &pod("shop", "  containers: []\n")).is_empty());
        // No namespace: `default`, not an infrastructure namespace.
        let no_ns = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n";
        assert!(findings("SEP004", no_ns).is_empty());
    }
}
