use crate::node::Node;
use crate::rules::{Context, Findings, Rule, declare_rule};

declare_rule! {
    /// A Karpenter object uses a deprecated API version.
    ///
    /// ## Why
    /// Karpenter v1.1 and later serve only `karpenter.sh/v1` and `karpenter.k8s.aws/v1`: a
    /// `v1beta1` NodePool or EC2NodeClass (or a `v1alpha5` Provisioner) is rejected with
    /// `no matches for kind`, and fields that moved in v1 are dropped if the object is converted
    /// by hand without moving them. The finding says which fields of this object moved:
    /// `spec.disruption.expireAfter` went to `spec.template.spec.expireAfter`,
    /// `spec.template.spec.kubelet` went to the EC2NodeClass `spec.kubelet`, `nodeClassRef`
    /// needs `group` and `kind` instead of `apiVersion`, `WhenUnderutilized` became
    /// `WhenEmptyOrUnderutilized`, and EC2NodeClass needs `amiSelectorTerms` (an `alias` replaces
    /// `amiFamily`).
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1beta1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: default}
    ///   disruption:
    ///     consolidationPolicy: WhenUnderutilized
    ///     expireAfter: 720h
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
    ///       expireAfter: 720h
    ///       requirements: []
    ///   disruption:
    ///     consolidationPolicy: WhenEmptyOrUnderutilized
    ///     consolidateAfter: 0s
    /// ```
    pub DeprecatedApiVersion { id: "API001", name: "deprecated-api-version", severity: Error }
}

/// `(apiVersion, kind, replacement)`.
const DEPRECATED: &[(&str, &str, &str)] = &[
    ("karpenter.sh/v1beta1", "NodePool", "karpenter.sh/v1"),
    ("karpenter.sh/v1beta1", "NodeClaim", "karpenter.sh/v1"),
    (
        "karpenter.k8s.aws/v1beta1",
        "EC2NodeClass",
        "karpenter.k8s.aws/v1",
    ),
    (
        "karpenter.sh/v1alpha5",
        "Provisioner",
        "karpenter.sh/v1 NodePool",
    ),
    (
        "karpenter.k8s.aws/v1alpha1",
        "AWSNodeTemplate",
        "karpenter.k8s.aws/v1 EC2NodeClass",
    ),
];

impl Rule for DeprecatedApiVersion {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for doc in cx.documents {
            let (Some(api), Some(kind)) = (doc.api_version(), doc.kind()) else {
                continue;
            };
            let Some((_, _, replacement)) =
                DEPRECATED.iter().find(|(a, k, _)| *a == api && *k == kind)
            else {
                continue;
            };
            let Some(at) = doc.root.get("apiVersion") else {
                continue;
            };
            let moves = moved_fields(&doc.root, kind);
            let mut help = format!("use `{replacement}`; Karpenter v1.1 and later serve only v1");
            if !moves.is_empty() {
                help.push_str(". In this object: ");
                help.push_str(&moves.join("; "));
            }
            out.report(
                doc,
                at,
                format!("`{api}` {kind} is deprecated and not served by Karpenter v1.1+"),
            )
            .help(help);
        }
    }
}

/// What moved or changed in v1, for the fields this object sets.
fn moved_fields(root: &Node, kind: &str) -> Vec<String> {
    let mut moves = Vec::new();
    let spec = root.get("spec");
    let has = |path: &[&str]| spec.and_then(|s| s.path(path)).is_some();
    match kind {
        "NodePool" => {
            if has(&["disruption", "expireAfter"]) {
                moves.push(
                    "`spec.disruption.expireAfter` moved to `spec.template.spec.expireAfter`"
                        .to_string(),
                );
            }
            if has(&["template", "spec", "kubelet"]) {
                moves.push(
                    "`spec.template.spec.kubelet` moved to the EC2NodeClass `spec.kubelet`"
                        .to_string(),
                );
            }
            if has(&["template", "spec", "nodeClassRef", "apiVersion"]) {
                moves.push(
                    "`nodeClassRef.apiVersion` became `group` (`karpenter.k8s.aws`), and `kind` is required"
                        .to_string(),
                );
            }
            let policy = spec
                .and_then(|s| s.path(&["disruption", "consolidationPolicy"]))
                .and_then(Node::as_str);
            if policy == Some("WhenUnderutilized") {
                moves.push(
                    "`consolidationPolicy: WhenUnderutilized` is now `WhenEmptyOrUnderutilized`"
                        .to_string(),
                );
            }
            if has(&["disruption"]) && !has(&["disruption", "consolidateAfter"]) {
                moves.push(
                    "`spec.disruption.consolidateAfter` is required in v1 (`0s` keeps the v1beta1 behaviour)"
                        .to_string(),
                );
            }
        }
        "EC2NodeClass" => {
            if !has(&["amiSelectorTerms"]) {
                moves.push(
                    "`amiSelectorTerms` is required in v1 (an `alias` such as `al2023@latest` replaces `amiFamily`)"
                        .to_string(),
                );
            }
            if spec.and_then(|s| s.get("amiFamily")).and_then(Node::as_str) == Some("Ubuntu") {
                moves.push(
                    "`amiFamily: Ubuntu` was removed; use `Custom` with `amiSelectorTerms`"
                        .to_string(),
                );
            }
            if !has(&["metadataOptions"]) {
                moves.push(
                    "the default `httpPutResponseHopLimit` drops from 2 to 1 in v1".to_string(),
                );
            }
        }
        _ => {}
    }
    moves
}
