use crate::model::{AUTO_MODE_GROUP, KARPENTER_GROUP, KarpenterApi, NodeClassRef, NodePool};
use crate::rules::{Context, Findings, Rule, Scope, declare_rule};

declare_rule! {
    /// A nodeClassRef group and kind do not match each other or the node class.
    ///
    /// ## Why
    /// Karpenter resolves `nodeClassRef` by group, kind and name together. Self-managed
    /// Karpenter on AWS serves `kind: EC2NodeClass` in `group: karpenter.k8s.aws`; EKS Auto Mode
    /// serves `kind: NodeClass` in `group: eks.amazonaws.com`. A pool that mixes them, names
    /// another group, or names a node class that exists only as the other kind (an Auto Mode
    /// `NodeClass` referenced as an `EC2NodeClass`) refers to nothing: it never becomes ready
    /// and launches no node. `group` and `kind` are also immutable on a NodePool, so fixing
    /// them later means deleting and recreating the pool. A `v1beta1` NodePool names the group
    /// through `nodeClassRef.apiVersion` (`karpenter.k8s.aws/v1beta1`); its version is ignored
    /// here, while a `v1` `group` that carries a version is reported (the API server accepts no
    /// `/` in it).
    ///
    /// Only the groups eksgate knows are judged: Karpenter runs on other clouds and simulators
    /// too, with their own node classes (`karpenter.kwok.sh` `KWOKNodeClass`,
    /// `karpenter.azure.com` `AKSNodeClass`, `karpenter.k8s.gcp`, ...), and a reference to
    /// one of those is left alone. `karpenter.sh` (Karpenter's own group, which serves no node
    /// class) and `kind: EC2NodeClass` under a group other than `karpenter.k8s.aws` are still
    /// reported.
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
    ///       nodeClassRef: {group: eks.amazonaws.com, kind: EC2NodeClass, name: apps}
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
    /// ```
    pub NodeClassRefMismatch { id: "REF002", name: "node-class-ref-mismatch", severity: Error }
}

/// Karpenter's own API group (NodePool, NodeClaim): it serves no node class.
const CORE_GROUP: &str = "karpenter.sh";

/// The kind each known group serves.
fn kind_of_group(group: &str) -> Option<&'static str> {
    match group {
        KARPENTER_GROUP => Some("EC2NodeClass"),
        AUTO_MODE_GROUP => Some("NodeClass"),
        _ => None,
    }
}

fn group_of_kind(kind: &str) -> Option<&'static str> {
    match kind {
        "EC2NodeClass" => Some(KARPENTER_GROUP),
        "NodeClass" => Some(AUTO_MODE_GROUP),
        _ => None,
    }
}

/// `a` or `an` before a kind.
fn article(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// `{group: ..., kind: ..., name: ...}` for a help text.
fn written(group: &str, kind: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("`{{group: {group}, kind: {kind}, name: {name}}}`"),
        None => format!("`{{group: {group}, kind: {kind}}}`"),
    }
}

impl Rule for NodeClassRefMismatch {
    // A pool and its node class may be in different files.
    fn scope(&self) -> Scope {
        Scope::Run
    }

    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for pool in &cx.node_pools {
            if let Some(reference) = pool.node_class_ref.as_ref() {
                check_ref(cx, pool, reference, out);
            }
        }
    }
}

fn check_ref<'a>(
    cx: &Context<'a>,
    pool: &NodePool<'a>,
    reference: &NodeClassRef<'a>,
    out: &mut Findings<'a>,
) {
    let name = reference.name().filter(|n| !n.is_empty());
    let kind = reference.kind().filter(|k| !k.is_empty());
    // The node classes of the checked set that carry the referenced name.
    let named: Vec<&str> = match name {
        Some(name) => cx.node_classes_named(name).map(|nc| nc.kind()).collect(),
        None => Vec::new(),
    };
    let group = reference.api_group().filter(|(g, _)| !g.is_empty());

    let expected_kind = match group {
        Some((group, group_node)) => {
            let via_api_version = reference.node.get("group").is_none();
            if !via_api_version
                && pool.api == KarpenterApi::V1
                && let Some(raw) = group_node.as_str()
                && raw.contains('/')
            {
                out.report(
                    pool.doc,
                    group_node,
                    format!("nodeClassRef group `{raw}` carries a version; `group` is the API group alone"),
                )
                .help(format!("write `group: {group}`"));
                return;
            }
            let Some(expected) = kind_of_group(group) else {
                // Other providers serve their own node classes (`karpenter.kwok.sh`,
                // `karpenter.azure.com`, ...): only a group Karpenter itself owns, or the AWS
                // kind under a group that does not serve it, is a mismatch.
                let kind_is_aws = kind == Some("EC2NodeClass");
                if group != CORE_GROUP && !kind_is_aws {
                    return;
                }
                let hint = kind
                    .and_then(group_of_kind)
                    .or_else(|| named.first().copied().and_then(group_of_kind));
                let help = match hint {
                    Some(g) => format!("write `group: {g}`"),
                    None => format!(
                        "use {} for Karpenter, or {} for EKS Auto Mode",
                        written(KARPENTER_GROUP, "EC2NodeClass", None),
                        written(AUTO_MODE_GROUP, "NodeClass", None)
                    ),
                };
                let message = if group == CORE_GROUP {
                    format!(
                        "nodeClassRef group `{group}` is Karpenter's own API, which serves no node class: Karpenter on AWS uses `{KARPENTER_GROUP}`, EKS Auto Mode `{AUTO_MODE_GROUP}`"
                    )
                } else {
                    format!(
                        "nodeClassRef group `{group}` does not serve `EC2NodeClass`, which is `{KARPENTER_GROUP}`'s"
                    )
                };
                out.report(pool.doc, group_node, message).help(help);
                return;
            };
            if let (Some(kind), Some(kind_node)) = (kind, reference.kind)
                && kind != expected
            {
                // The node class of that name, if the set has one, says which half is wrong.
                let (at, fix, message) = if named.contains(&kind) {
                    let right = group_of_kind(kind).unwrap_or(group);
                    (
                        group_node,
                        written(right, kind, name),
                        format!(
                            "nodeClassRef group `{group}` does not serve `{kind}`; `{}` is {} {kind} of `{right}`",
                            name.unwrap_or_default(),
                            article(kind)
                        ),
                    )
                } else {
                    (
                        kind_node,
                        written(group, expected, name),
                        format!(
                            "nodeClassRef kind `{kind}` does not belong to group `{group}`, which serves `{expected}`"
                        ),
                    )
                };
                let help = format!(
                    "write {fix}; Karpenter pairs `{KARPENTER_GROUP}` with `EC2NodeClass`, EKS Auto Mode `{AUTO_MODE_GROUP}` with `NodeClass`"
                );
                out.report(pool.doc, at, message).help(help);
                return;
            }
            expected
        }
        None => match kind {
            Some(kind) => {
                // Another provider's kind (`KWOKNodeClass`, `AKSNodeClass`) is not judged;
                // a miscased AWS one (`Ec2NodeClass`) is.
                let miscased = ["EC2NodeClass", "NodeClass"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(kind));
                if group_of_kind(kind).is_none()
                    && miscased
                    && let Some(kind_node) = reference.kind
                {
                    out.report(
                        pool.doc,
                        kind_node,
                        format!("nodeClassRef kind `{kind}` is not a node class kind"),
                    )
                    .help(format!(
                        "use {} for Karpenter, or {} for EKS Auto Mode",
                        written(KARPENTER_GROUP, "EC2NodeClass", name),
                        written(AUTO_MODE_GROUP, "NodeClass", name)
                    ));
                    return;
                }
                if group_of_kind(kind).is_none() {
                    return;
                }
                kind
            }
            // `v1beta1` defaults the kind to EC2NodeClass; a `v1` pool without either is a
            // schema error, not a mismatch.
            None if pool.api == KarpenterApi::V1beta1 => "EC2NodeClass",
            None => return,
        },
    };

    // The set has the named class only as the other kind.
    let Some(name) = name else {
        return;
    };
    let is_builtin = expected_kind == "NodeClass" && name == "default";
    if is_builtin || named.is_empty() || named.contains(&expected_kind) {
        return;
    }
    let Some(real) = named.first().copied() else {
        return;
    };
    let at = reference
        .kind
        .or(group.map(|(_, node)| node))
        .or(reference.name)
        .unwrap_or(reference.node);
    out.report(
        pool.doc,
        at,
        format!(
            "nodeClassRef asks for {expected_kind} `{name}`, but `{name}` in the checked files is {} {real}",
            article(real)
        ),
    )
    .help(format!(
        "write {} to use it",
        written(group_of_kind(real).unwrap_or(KARPENTER_GROUP), real, Some(name))
    ));
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use crate::{CheckOptions, Input, Policy, check};

    /// REF002 messages for a set of documents.
    fn ref002(text: &str) -> Vec<String> {
        let policy = Policy::default_policy().unwrap();
        let report = check(
            vec![Input::text("t.yaml", text)],
            &policy,
            &CheckOptions::default(),
        );
        report
            .diagnostics
            .into_iter()
            .filter(|d| d.rule == "REF002")
            .map(|d| d.message)
            .collect()
    }

    const EC2: &str =
        "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: apps}\n";
    const AUTO: &str =
        "apiVersion: eks.amazonaws.com/v1\nkind: NodeClass\nmetadata: {name: apps}\n";

    fn pool(api: &str, reference: &str) -> String {
        format!(
            "apiVersion: karpenter.sh/{api}\nkind: NodePool\nmetadata: {{name: apps}}\nspec:\n  template:\n    spec:\n      nodeClassRef: {reference}\n"
        )
    }

    #[test]
    fn v1beta1_api_version_is_a_group_with_a_version() {
        let p = pool(
            "v1beta1",
            "{apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: apps}",
        );
        assert!(ref002(&format!("{p}---\n{EC2}")).is_empty());
        // `kind` defaults to EC2NodeClass in v1beta1.
        let p = pool(
            "v1beta1",
            "{apiVersion: karpenter.k8s.aws/v1beta1, name: apps}",
        );
        assert!(ref002(&format!("{p}---\n{EC2}")).is_empty());
        let p = pool("v1beta1", "{name: apps}");
        assert!(ref002(&format!("{p}---\n{EC2}")).is_empty());
        // ...so a v1beta1 pool without a kind does not reach an Auto Mode NodeClass.
        let found = ref002(&format!("{p}---\n{AUTO}"));
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn v1_group_with_a_version_is_reported() {
        let p = pool(
            "v1",
            "{group: karpenter.k8s.aws/v1, kind: EC2NodeClass, name: apps}",
        );
        let found = ref002(&p);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("carries a version"), "{found:?}");
    }

    #[test]
    fn consistent_refs_pass_whatever_the_set() {
        let karpenter = pool(
            "v1",
            "{group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}",
        );
        let auto = pool(
            "v1",
            "{group: eks.amazonaws.com, kind: NodeClass, name: apps}",
        );
        assert!(ref002(&karpenter).is_empty());
        assert!(ref002(&auto).is_empty());
        assert!(ref002(&format!("{karpenter}---\n{EC2}")).is_empty());
        assert!(ref002(&format!("{auto}---\n{AUTO}")).is_empty());
        // Both kinds named `apps`: each ref finds its own.
        assert!(ref002(&format!("{karpenter}---\n{EC2}---\n{AUTO}")).is_empty());
        assert!(ref002(&format!("{auto}---\n{EC2}---\n{AUTO}")).is_empty());
    }

    #[test]
    fn builtin_default_is_never_the_other_kind() {
        let p = pool(
            "v1",
            "{group: eks.amazonaws.com, kind: NodeClass, name: default}",
        );
        let ec2_default = EC2.replace("apps", "default");
        assert!(ref002(&format!("{p}---\n{ec2_default}")).is_empty());
    }

    #[test]
    fn other_providers_node_classes_are_not_judged() {
        for reference in [
            "{group: karpenter.kwok.sh, kind: KWOKNodeClass, name: default}",
            "{group: karpenter.azure.com, kind: AKSNodeClass, name: default}",
            "{group: karpenter.k8s.gcp, kind: GCENodeClass, name: default}",
            "{kind: IBMNodeClass, name: default}",
        ] {
            assert!(ref002(&pool("v1", reference)).is_empty(), "{reference}");
        }
        // The AWS kind under another provider's group is still a mismatch.
        let found = ref002(&pool(
            "v1",
            "{group: karpenter.azure.com, kind: EC2NodeClass, name: default}",
        ));
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn kind_without_group_must_be_a_node_class_kind() {
        let p = pool("v1", "{kind: Ec2NodeClass, name: apps}");
        let found = ref002(&p);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("`Ec2NodeClass`"), "{found:?}");
    }

    #[test]
    fn a_wrong_kind_is_fixed_to_the_kind_of_its_group() {
        let p = pool(
            "v1",
            "{group: karpenter.k8s.aws, kind: Ec2NodeClass, name: apps}",
        );
        let policy = Policy::default_policy().unwrap();
        let report = check(
            vec![Input::text("t.yaml", format!("{p}---\n{AUTO}"))],
            &policy,
            &CheckOptions::default(),
        );
        let d = report
            .diagnostics
            .iter()
            .find(|d| d.rule == "REF002")
            .unwrap();
        assert_eq!(
            d.help.as_deref().map(|h| h.split(';').next().unwrap_or("")),
            Some("write `{group: karpenter.k8s.aws, kind: EC2NodeClass, name: apps}`")
        );
    }
}
