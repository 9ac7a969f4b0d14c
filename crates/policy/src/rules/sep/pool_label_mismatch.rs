use crate::fix::{Applicability, Change, NewValue, Quotes, is_plain};
use crate::model::{NodePool, anchor_key};
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// A NodePool lacks the labels of its pool class, or carries the labels of another class.
    ///
    /// ## Why
    /// Workloads find the infrastructure nodes through their label (`node-type=infrastructure`
    /// in the default policy), and dashboards and chargeback group nodes by it. An
    /// infrastructure pool without it cannot be selected by Istio, Vault or monitoring, which
    /// then stay Pending or spill elsewhere; a client pool that carries it attracts platform
    /// pods onto client capacity and hides them from the infrastructure budget.
    ///
    /// A pool's class comes from its template labels, its name (`infra-*`, `client-*`, ... as
    /// the policy's `poolClasses[].match.names` says) or the infrastructure taint. This rule
    /// reports a pool whose name or taint says one class while its labels say another (say
    /// `client-acme` labelled `node-type: infrastructure`), a pool that lacks a label its
    /// class requires (`poolClasses[].labels`) or has it with another value, and a pool of
    /// another class that carries the infrastructure class's labels. Pools no class
    /// recognises are left alone.
    ///
    /// ## Fix
    /// Unsafe (`--fix --unsafe-fixes`): adds a missing label of the pool's class to
    /// `spec.template.metadata.labels` (creating `metadata` and `labels` as needed), or sets
    /// one with the wrong value to the class's. It changes scheduling: workloads that select
    /// the label start landing on the pool's new nodes. Conflicts between a pool's name or
    /// taint and its labels, and another class's labels on a pool, are left to you: which
    /// one is wrong is your call.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: infra
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: infra}
    ///       requirements: []
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
    ///       requirements: []
    ///       taints:
    ///         - {key: workload-type, value: infrastructure, effect: NoSchedule}
    /// ```
    pub PoolLabelMismatch { id: "SEP002", name: "pool-label-mismatch", severity: Error, fix: Unsafe }
}

/// `k: v, k2: v2` for messages and help.
fn yaml_labels(labels: &[(String, String)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label_text(pool: &NodePool<'_>, key: &str) -> Option<String> {
    pool.label(key).and_then(Node::scalar_text)
}

impl Rule for PoolLabelMismatch {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            let Some(class) = cx.pool_class(pool) else {
                continue;
            };
            // The labels say one class, the name (or the infrastructure taint) another.
            if let Some(by_labels) = cx.class_by_labels(pool) {
                let by_taint = cx
                    .has_infra_taint(pool)
                    .then(|| cx.policy.infrastructure_class())
                    .flatten();
                let other = match cx.class_by_name(pool) {
                    Some(named) => Some((named, "its name")),
                    None => by_taint.map(|c| (c, "its taint")),
                }
                .filter(|(c, _)| c.name != by_labels.name);
                if let Some((other, because)) = other {
                    let (key, value) = by_labels
                        .matcher
                        .labels
                        .first()
                        .map_or(("", ""), |(k, v)| (k.as_str(), v.as_str()));
                    let node = pool.label(key).unwrap_or_else(|| pool.anchor());
                    out.report(
                        pool.doc,
                        node,
                        format!(
                            "pool `{}` belongs to class `{}` by {because}, but its label `{key}={value}` belongs to class `{}`",
                            pool.name, other.name, by_labels.name
                        ),
                    )
                    .help(format!(
                        "give it the labels of class `{}` in `spec.template.metadata.labels` (`{}`), or {} if it belongs to class `{}`",
                        other.name,
                        yaml_labels(other.node_labels()),
                        if because == "its name" { "rename it" } else { "remove the taint" },
                        by_labels.name
                    ));
                    continue;
                }
            }
            // The labels its class requires.
            for (key, wanted) in &class.labels {
                match (pool.label(key), label_text(pool, key)) {
                    (Some(_), Some(actual)) if &actual == wanted => {}
                    (Some(node), actual) => {
                        let violation = out.report(
                            pool.doc,
                            node,
                            format!(
                                "pool `{}` (class `{}`) has label `{key}={}` instead of `{key}={wanted}`",
                                pool.name,
                                class.name,
                                actual.unwrap_or_default()
                            ),
                        )
                        .help(format!("set `{key}: {wanted}` in `spec.template.metadata.labels`"));
                        if is_plain(wanted) && node.as_map().is_none() && node.as_seq().is_none() {
                            violation.fix(
                                Applicability::Unsafe,
                                format!("set the label `{key}: {wanted}`"),
                                Change::Replace {
                                    node,
                                    text: wanted.clone(),
                                    quotes: Quotes::Keep,
                                },
                            );
                        }
                    }
                    (None, _) => {
                        let node =
                            anchor_key(&pool.doc.root, &["spec", "template", "metadata", "labels"]);
                        out.report(
                            pool.doc,
                            node,
                            format!(
                                "pool `{}` (class `{}`) lacks the label `{key}={wanted}`",
                                pool.name, class.name
                            ),
                        )
                        .help(format!(
                            "add `{key}: {wanted}` to `spec.template.metadata.labels`, so that workloads can select the pool's nodes"
                        ))
                        .fix(
                            Applicability::Unsafe,
                            format!("add the label `{key}: {wanted}`"),
                            Change::Insert {
                                map: &pool.doc.root,
                                path: ["spec", "template", "metadata", "labels", key.as_str()]
                                    .map(String::from)
                                    .to_vec(),
                                value: NewValue::str(wanted.as_str()),
                            },
                        );
                    }
                }
            }
            // Another class's pool dressed as infrastructure.
            if class.infrastructure {
                continue;
            }
            let Some(infra) = cx.policy.infrastructure_class() else {
                continue;
            };
            for (key, value) in infra.node_labels() {
                if class.labels.iter().any(|(k, _)| k == key) {
                    // Already reported above as a wrong value of this class's own label.
                    continue;
                }
                if label_text(pool, key).as_deref() == Some(value.as_str())
                    && let Some(node) = pool.label(key)
                {
                    out.report(
                        pool.doc,
                        node,
                        format!(
                            "pool `{}` (class `{}`) carries the label `{key}={value}` of class `{}`",
                            pool.name, class.name, infra.name
                        ),
                    )
                    .help(format!(
                        "remove `{key}: {value}` from `spec.template.metadata.labels`: infrastructure workloads select it"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]
    use crate::rules::testing::findings;

    fn pool(name: &str, labels: &str, taints: &str) -> String {
        format!(
            "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: {name}}}\nspec:\n  template:\n    metadata: {{labels: {{{labels}}}}}\n    spec:\n      requirements: []\n      taints: [{taints}]\n"
        )
    }
    const TAINT: &str = "{key: workload-type, value: infrastructure, effect: NoSchedule}";

    #[test]
    fn classes_and_labels() {
        // Compliant pools.
        assert!(findings("SEP002", &pool("infra", "node-type: infrastructure", TAINT)).is_empty());
        assert!(findings("SEP002", &pool("apps", "node-type: applications", "")).is_empty());
        assert!(
            findings("SEP002", &pool("batch", "team: data", "")).is_empty(),
            "no class"
        );
        // Name says infrastructure, labels missing / wrong.
        let got = findings("SEP002", &pool("infra-a", "", TAINT));
        assert!(
            got[0].contains("lacks the label `node-type=infrastructure`"),
            "{got:?}"
        );
        let got = findings("SEP002", &pool("infra-a", "node-type: infra", TAINT));
        assert!(got[0].contains("instead of"), "{got:?}");
        // Taint says infrastructure, no name glob, labels missing.
        let got = findings("SEP002", &pool("platform", "", TAINT));
        assert!(got[0].contains("lacks the label"), "{got:?}");
        // Conflicts between name (or taint) and labels: one finding, at the label.
        let got = findings(
            "SEP002",
            &pool("client-acme", "node-type: infrastructure", ""),
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("by its name"), "{got:?}");
        let got = findings(
            "SEP002",
            &pool("platform", "node-type: applications", TAINT),
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("by its taint"), "{got:?}");
        // An applications pool named so and labelled so, with the infra taint: labels and name agree.
        assert!(
            findings(
                "SEP002",
                &pool("client-x", "node-type: applications", TAINT)
            )
            .is_empty()
        );
    }
}
