use crate::node::Node;
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A client workload tolerates the infrastructure taint or selects infrastructure nodes.
    ///
    /// ## Why
    /// The infrastructure taint keeps client applications off the nodes that run Istio, Vault
    /// and monitoring. A workload outside the infrastructure namespaces (and outside the exempt
    /// ones, such as `kube-system`) that tolerates it can be placed there, and one that also
    /// selects the infrastructure label (`node-type=infrastructure`) or an infrastructure
    /// `karpenter.sh/nodepool` asks to be: it then competes with the platform for capacity and
    /// its cost lands on the shared-services budget.
    ///
    /// A toleration with `operator: Exists` and no key tolerates every taint, the
    /// infrastructure one included; so does `operator: Exists` on the taint's key. Each such
    /// toleration, and each `nodeSelector` entry or required affinity expression (`In`) that
    /// selects infrastructure nodes, is one finding. A DaemonSet that tolerates the
    /// infrastructure taint runs a pod on every infrastructure node (a tenant's log shipper
    /// with `operator: Exists` does), so it is reported too, unless its own `nodeSelector` or
    /// required node affinity keeps it off nodes with the infrastructure label; node agents of
    /// the platform belong in the infrastructure or exempt namespaces, where this rule does not
    /// look.
    /// A workload without `metadata.namespace` is applied to `default` (or to the namespace of
    /// the `kubectl` context) and is checked as a client workload.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: checkout
    ///   namespace: shop
    /// spec:
    ///   selector:
    ///     matchLabels: {app: checkout}
    ///   template:
    ///     metadata:
    ///       labels: {app: checkout}
    ///     spec:
    ///       tolerations:
    ///         - operator: Exists
    ///       containers:
    ///         - {name: checkout, image: ghcr.io/acme/checkout:1.4.0}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: checkout
    ///   namespace: shop
    /// spec:
    ///   selector:
    ///     matchLabels: {app: checkout}
    ///   template:
    ///     metadata:
    ///       labels: {app: checkout}
    ///     spec:
    ///       nodeSelector: {node-type: applications}
    ///       containers:
    ///         - {name: checkout, image: ghcr.io/acme/checkout:1.4.0}
    /// ```
    pub ClientWorkloadOnInfra { id: "SEP005", name: "client-workload-on-infra", severity: Error }
}

impl Rule for ClientWorkloadOnInfra {
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
            if cx.policy.is_infra_namespace(ns) || cx.policy.is_exempt_namespace(ns) {
                continue;
            }
            let place = match w.namespace {
                Some(ns) => format!("in namespace `{ns}`"),
                None => "in namespace `default` (it sets no `metadata.namespace`)".to_string(),
            };
            let what = w.describe();
            let move_help = "if it is a platform workload, move it to an infrastructure namespace (the policy's `namespaces.infrastructure`)";
            // A DaemonSet runs a pod on every node it tolerates and selects: one that keeps
            // off infrastructure nodes by its own selection may tolerate whatever it likes.
            if !(w.is_daemon_set() && avoids_infra_nodes(w, labels)) {
                for t in &w.tolerations {
                    let Some((spec, effect)) = class.tolerated_taint(t) else {
                        continue;
                    };
                    let taint = spec.text(Some(effect));
                    let lands = if w.is_daemon_set() {
                        ", so it runs a pod on every infrastructure node"
                    } else {
                        ""
                    };
                    let daemon_help = if w.is_daemon_set() {
                        "; or keep it off infrastructure nodes with a `nodeSelector` of a client pool's label (for example `node-type: applications`)"
                    } else {
                        ""
                    };
                    let (message, help) = if t.matches_every_key() {
                        (
                            format!(
                                "{what} {place} tolerates every {}taint (`operator: Exists` without a key), the infrastructure taint `{taint}` included{lands}",
                                if t.effect.is_empty() {
                                    String::new()
                                } else {
                                    format!("`{}` ", t.effect)
                                }
                            ),
                            format!(
                                "replace it with tolerations of the taints this workload needs, by key{daemon_help}; {move_help}"
                            ),
                        )
                    } else if t.operator == "Exists" {
                        (
                            format!(
                                "{what} {place} tolerates the infrastructure taint `{taint}` (`operator: Exists` on key `{}`){lands}",
                                t.key
                            ),
                            format!("remove this toleration{daemon_help}; {move_help}"),
                        )
                    } else {
                        (
                            format!(
                                "{what} {place} tolerates the infrastructure taint `{taint}`{lands}"
                            ),
                            format!("remove this toleration{daemon_help}; {move_help}"),
                        )
                    };
                    out.report(w.doc, t.node, message).help(help);
                }
            }
            let selects = |key: &str, value: &str| {
                labels.iter().any(|(k, v)| k == key && v == value)
                    || (key == "karpenter.sh/nodepool" && pools.contains(&value))
            };
            let mut report_selector = |node: &Node, key: &str, value: &str| {
                out.report(
                    w.doc,
                    node,
                    format!("{what} {place} selects infrastructure nodes (`{key}={value}`)"),
                )
                .help(format!(
                    "select the nodes of a client pool instead (for example `node-type: applications`); {move_help}"
                ));
            };
            for (key, value) in &w.node_selector {
                let text = value.scalar_text().unwrap_or_default();
                if selects(key, &text) {
                    report_selector(value, key, &text);
                }
            }
            for term in w.affinity_terms.iter().flatten() {
                for e in &term.expressions {
                    if e.operator != "In" {
                        continue;
                    }
                    if let Some(v) = e.values.iter().find(|v| selects(e.key, v)) {
                        let node = e
                            .node
                            .get("values")
                            .and_then(|vs| {
                                vs.items()
                                    .iter()
                                    .find(|n| n.scalar_text().as_deref() == Some(v.as_str()))
                            })
                            .unwrap_or(e.node);
                        report_selector(node, e.key, v);
                    }
                }
            }
        }
    }
}

/// Whether the workload's own node selection keeps it off nodes with the infrastructure
/// labels: its `nodeSelector` asks for another value of one of them, or every required
/// affinity term excludes one (`In` without the value, `NotIn` with it, `DoesNotExist`).
fn avoids_infra_nodes(w: &crate::model::Workload<'_>, labels: &[(String, String)]) -> bool {
    let selector_avoids = w.node_selector.iter().any(|(key, value)| {
        let text = value.scalar_text().unwrap_or_default();
        labels.iter().any(|(k, v)| k == key && *v != text)
    });
    let terms_avoid = w.affinity_terms.as_ref().is_some_and(|terms| {
        !terms.is_empty()
            && terms.iter().all(|term| {
                term.expressions.iter().any(|e| {
                    labels.iter().any(|(k, v)| {
                        k == e.key
                            && match e.operator {
                                "In" => !e.values.iter().any(|x| x == v),
                                "NotIn" => e.values.iter().any(|x| x == v),
                                "DoesNotExist" => true,
                                _ => false,
                            }
                    })
                })
            })
    });
    selector_avoids || terms_avoid
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]
    use crate::rules::testing::findings;

    fn deploy(ns: Option<&str>, kind: &str, spec: &str) -> String {
        let ns = ns.map_or(String::new(), |n| format!(", namespace: {n}"));
        format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: w{ns}}}\nspec:\n  template:\n    spec:\n{spec}"
        )
    }

    #[test]
    fn tolerations_that_reach_the_infra_taint() {
        let t = |tol: &str| {
            findings(
                "SEP005",
                &deploy(
                    Some("shop"),
                    "Deployment",
                    &format!("      tolerations: [{tol}]\n"),
                ),
            )
        };
        assert_eq!(t("{operator: Exists}").len(), 1);
        assert!(t("{operator: Exists}")[0].contains("tolerates every taint"));
        assert_eq!(t("{key: workload-type, operator: Exists}").len(), 1);
        assert_eq!(t("{key: workload-type, value: infrastructure}").len(), 1);
        assert_eq!(t("{operator: Exists, effect: NoExecute}").len(), 1);
        assert!(t("{key: workload-type, value: applications}").is_empty());
        assert!(t("{key: workload-type, operator: Exists, effect: PreferNoSchedule}").is_empty());
        assert!(t("{key: dedicated, operator: Exists}").is_empty());
    }

    #[test]
    fn namespaces() {
        let tol = "      tolerations: [{operator: Exists}]\n";
        let none = findings("SEP005", &deploy(None, "Deployment", tol));
        assert_eq!(none.len(), 1);
        assert!(
            none[0].contains("`default` (it sets no `metadata.namespace`)"),
            "{none:?}"
        );
        assert!(findings("SEP005", &deploy(Some("kube-system"), "Deployment", tol)).is_empty());
        assert!(findings("SEP005", &deploy(Some("istio-system"), "Deployment", tol)).is_empty());
    }

    #[test]
    fn daemonsets_that_tolerate_the_infra_taint_land_on_infra_nodes() {
        let tol = "      tolerations: [{operator: Exists}]\n";
        let found = findings("SEP005", &deploy(Some("logging"), "DaemonSet", tol));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("every infrastructure node"), "{found:?}");
        let no_schedule = "      tolerations: [{operator: Exists, effect: NoSchedule}]\n";
        assert_eq!(
            findings("SEP005", &deploy(Some("logging"), "DaemonSet", no_schedule)).len(),
            1
        );
        // Kept off infrastructure nodes by its own selection: fine.
        let off = format!("{tol}      nodeSelector: {{node-type: applications}}\n");
        assert!(findings("SEP005", &deploy(Some("logging"), "DaemonSet", &off)).is_empty());
        let not_in = format!(
            "{tol}      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{{key: node-type, operator: NotIn, values: [infrastructure]}}]\n"
        );
        assert!(findings("SEP005", &deploy(Some("logging"), "DaemonSet", &not_in)).is_empty());
        // Node agents of the platform run in exempt or infrastructure namespaces.
        assert!(findings("SEP005", &deploy(Some("kube-system"), "DaemonSet", tol)).is_empty());
        assert!(findings("SEP005", &deploy(Some("monitoring"), "DaemonSet", tol)).is_empty());
    }

    #[test]
    fn daemonsets_may_not_select_infra_nodes() {
        let select = "      nodeSelector: {node-type: infrastructure}\n";
        assert_eq!(
            findings("SEP005", &deploy(Some("logging"), "DaemonSet", select)).len(),
            1
        );
        // Tolerating the taint as well is a second problem, at its own line.
        let both = format!("      tolerations: [{{operator: Exists}}]\n{select}");
        assert_eq!(
            findings("SEP005", &deploy(Some("logging"), "DaemonSet", &both)).len(),
            2
        );
    }

    #[test]
    fn selections() {
        let s = |spec: &str| findings("SEP005", &deploy(Some("shop"), "Deployment", spec));
        let affinity = |expr: &str| {
            format!(
                "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{expr}]\n"
            )
        };
        assert_eq!(
            s("      nodeSelector: {node-type: infrastructure}\n").len(),
            1
        );
        assert!(s("      nodeSelector: {node-type: applications}\n").is_empty());
        assert_eq!(
            s(&affinity(
                "{key: node-type, operator: In, values: [applications, infrastructure]}"
            ))
            .len(),
            1
        );
        assert!(
            s(&affinity(
                "{key: node-type, operator: NotIn, values: [infrastructure]}"
            ))
            .is_empty()
        );
        assert!(s(&affinity("{key: node-type, operator: Exists}")).is_empty());
    }
}
