use crate::model::{KarpenterApi, Workload, misplaced};
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, declare_rule};
use crate::source::Document;

declare_rule! {
    /// A Karpenter object uses a deprecated API version, or a v1beta1 field that moved or changed in v1.
    ///
    /// ## Why
    /// Karpenter v1.1 and later serve only `karpenter.sh/v1` and `karpenter.k8s.aws/v1`: a
    /// `v1beta1` NodePool or EC2NodeClass (or a `v1alpha5` Provisioner) is rejected with
    /// `no matches for kind`. Changing the `apiVersion` is not enough: fields that moved are
    /// pruned by the API server without a word, and some defaults changed. Besides the
    /// `apiVersion`, API001 reports each of these at the field itself:
    ///
    /// | v1beta1 | v1 |
    /// |---|---|
    /// | NodePool `spec.disruption.expireAfter` | `spec.template.spec.expireAfter` |
    /// | NodePool `spec.template.spec.kubelet` | `spec.kubelet` of the EC2NodeClass the pool's `nodeClassRef` names (shared by every pool that uses it) |
    /// | NodePool `spec.template.spec.resources` | removed |
    /// | `nodeClassRef.apiVersion` (only `name` required) | `group` (`karpenter.k8s.aws`); `group`, `kind` and `name` required |
    /// | `consolidationPolicy: WhenUnderutilized` | `WhenEmptyOrUnderutilized` |
    /// | `consolidateAfter` optional (forbidden with `WhenUnderutilized`) | required when `disruption` is set; `0s` keeps the v1beta1 behaviour |
    /// | EC2NodeClass `amiFamily` without `amiSelectorTerms` | `amiSelectorTerms: [{alias: al2023@v20240625}]` (pin a release; `@latest` replaces nodes at every AMI release) |
    /// | `amiFamily: Ubuntu` | removed: `Custom` with your own AMIs and `userData` |
    /// | `metadataOptions.httpPutResponseHopLimit` default `2` | default `1`: pods off the host network lose IMDS |
    /// | tag `karpenter.sh/managed-by` (restricted, set by Karpenter) | no longer set; Karpenter tags `eks:eks-cluster-name`, which `spec.tags` may not set |
    /// | pod annotations `karpenter.sh/do-not-evict`, `karpenter.sh/do-not-consolidate` | `karpenter.sh/do-not-disrupt` |
    /// | tolerations of the taint `karpenter.sh/disruption=disrupting:NoSchedule` | `karpenter.sh/disrupted:NoSchedule` |
    ///
    /// The last two are checked on every workload's pod template and on NodePool templates, in
    /// any API version.
    ///
    /// A Karpenter or Auto Mode kind under a group or version that does not serve it is
    /// reported too, with the `apiVersion` that does: `karpenter.sh/v1beta1` with
    /// `kind: EC2NodeClass` (EC2NodeClass lives in `karpenter.k8s.aws`), `karpenter.k8s.aws/v1`
    /// or `eks.amazonaws.com/v1` with `kind: NodePool` (every NodePool, Auto Mode's included,
    /// is `karpenter.sh/v1`), `karpenter.sh/v2`. The API server answers `no matches for kind`,
    /// so such an object is never created; eksgate still checks its fields as the kind it
    /// names. Only the groups `karpenter.sh`, `karpenter.k8s.aws` and `eks.amazonaws.com` are
    /// judged: a `NodePool` of Crossplane or another cloud is another API. `eksgate migrate FILE` prints the v1 form of a file (keeping its
    /// comments) and says what it cannot convert by itself.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.k8s.aws/v1beta1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   amiFamily: AL2023
    ///   amiSelectorTerms:
    ///     - name: platform-hardened-al2023-*
    ///   role: KarpenterNodeRole-platform
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: platform}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: platform}}]
    ///   metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 1}
    /// ```
    /// Use instead:
    /// ```yaml,pass
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata:
    ///   name: default
    /// spec:
    ///   amiFamily: AL2023
    ///   amiSelectorTerms:
    ///     - name: platform-hardened-al2023-*
    ///   role: KarpenterNodeRole-platform
    ///   subnetSelectorTerms: [{tags: {karpenter.sh/discovery: platform}}]
    ///   securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: platform}}]
    ///   metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 1}
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

/// Pod (and node) annotations Karpenter v1 no longer reads; `karpenter.sh/do-not-disrupt`
/// replaced both.
pub(crate) const OLD_ANNOTATIONS: &[&str] = &[
    "karpenter.sh/do-not-evict",
    "karpenter.sh/do-not-consolidate",
];

/// The annotation that replaced [`OLD_ANNOTATIONS`].
pub(crate) const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

/// The taint key v1beta1 put on nodes being disrupted (`karpenter.sh/disruption=disrupting`).
pub(crate) const OLD_DISRUPTION_TAINT: &str = "karpenter.sh/disruption";

/// The taint key v1 puts on them instead (`karpenter.sh/disrupted:NoSchedule`).
pub(crate) const DISRUPTED_TAINT: &str = "karpenter.sh/disrupted";

/// The `amiSelectorTerms` alias family for a v1beta1 `amiFamily`, and an example pinned
/// version (Windows aliases accept only `latest`).
pub(crate) fn alias_family(ami_family: &str) -> Option<(&'static str, &'static str)> {
    Some(match ami_family {
        "AL2" => ("al2", "v20240625"),
        "AL2023" => ("al2023", "v20240625"),
        "Bottlerocket" => ("bottlerocket", "v1.20.3"),
        "Windows2019" => ("windows2019", "latest"),
        "Windows2022" => ("windows2022", "latest"),
        _ => return None,
    })
}

/// The path of a workload's pod template metadata (`metadata` of a Pod).
pub(crate) fn pod_metadata_path(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["metadata"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "metadata"],
        _ => &["spec", "template", "metadata"],
    }
}

/// The path of a workload's pod spec.
pub(crate) fn pod_spec_path(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &["spec", "template", "spec"],
    }
}

/// Whether a document is a Karpenter NodePool (`karpenter.sh`, any version).
pub(crate) fn is_node_pool(doc: &Document) -> bool {
    doc.kind() == Some("NodePool") && doc.group() == "karpenter.sh"
}

impl Rule for DeprecatedApiVersion {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        for doc in cx.documents {
            let (Some(api), Some(kind)) = (doc.api_version(), doc.kind()) else {
                continue;
            };
            if let Some((_, _, replacement)) =
                DEPRECATED.iter().find(|(a, k, _)| *a == api && *k == kind)
                && let Some(at) = doc.root.get("apiVersion")
            {
                let mut help =
                    format!("use `{replacement}`; Karpenter v1.1 and later serve only v1");
                if matches!(kind, "NodePool" | "EC2NodeClass") {
                    help.push_str(
                        "; `eksgate migrate FILE` prints the v1 form (the fields that moved \
                         are reported one by one)",
                    );
                }
                out.report(
                    doc,
                    at,
                    format!("`{api}` {kind} is deprecated and not served by Karpenter v1.1+"),
                )
                .help(help);
            }
            if let Some(m) = misplaced(doc)
                && let Some(at) = doc.root.get("apiVersion")
            {
                let mut help = format!("write `apiVersion: {}`", m.served_at);
                if m.api == KarpenterApi::V1beta1 {
                    help.push_str(" and move its v1beta1 fields to v1 (`eksgate explain API001`)");
                }
                out.report(
                    doc,
                    at,
                    format!(
                        "`{api}` does not serve `{kind}`: the API server answers `no matches for kind \"{kind}\" in version \"{api}\"`"
                    ),
                )
                .help(help);
            }
            match (api, kind) {
                ("karpenter.sh/v1beta1", "NodePool") => node_pool(cx, doc, out),
                ("karpenter.k8s.aws/v1beta1", "EC2NodeClass") => node_class(doc, out),
                _ => {}
            }
            if is_node_pool(doc)
                && let Some(annotations) =
                    doc.root
                        .path(&["spec", "template", "metadata", "annotations"])
            {
                old_annotations(doc, annotations, "NodePool template", out);
            }
        }
        for workload in cx.workloads() {
            workload_findings(&workload, out);
        }
    }
}

/// The fields of a v1beta1 NodePool that moved or changed.
fn node_pool<'a>(cx: &Context<'a>, doc: &'a Document, out: &mut Findings<'a>) {
    let spec = doc.root.get("spec");
    let template_spec = spec.and_then(|s| s.path(&["template", "spec"]));
    let disruption = spec.and_then(|s| s.get("disruption"));

    if let Some(entry) = disruption.and_then(|d| d.entry("expireAfter")) {
        let value = entry.value.scalar_text().unwrap_or_default();
        out.report(
            doc,
            &entry.key,
            "`spec.disruption.expireAfter` moved to `spec.template.spec.expireAfter` in v1",
        )
        .help(format!(
            "move it under `spec.template.spec`: `expireAfter: {value}`; a v1 API server drops \
             it from `spec.disruption` without a word"
        ));
    }

    let class_ref = template_spec.and_then(|s| s.get("nodeClassRef"));
    if let Some(entry) = template_spec.and_then(|s| s.entry("kubelet")) {
        let class = class_ref.and_then(|r| r.get("name")).and_then(Node::as_str);
        let (target, present) = match class {
            Some(name) => {
                let present = cx
                    .node_classes
                    .iter()
                    .any(|c| c.name == name && c.kind() == "EC2NodeClass");
                (format!("EC2NodeClass `{name}`"), present)
            }
            None => ("the EC2NodeClass of its `nodeClassRef`".to_string(), false),
        };
        let elsewhere = if class.is_some() && !present {
            " (not in the checked files)"
        } else {
            ""
        };
        let help = format!(
            "move the `kubelet` block to `spec.kubelet` of {target}{elsewhere}; a v1 API server \
             drops it from the NodePool without a word. Every NodePool that uses that \
             EC2NodeClass gets its kubelet settings: give pools with different settings their \
             own EC2NodeClass"
        );
        out.report(
            doc,
            &entry.key,
            format!("`spec.template.spec.kubelet` moved to {target} (`spec.kubelet`) in v1"),
        )
        .help(help);
    }

    if let Some(entry) = template_spec.and_then(|s| s.entry("resources")) {
        out.report(
            doc,
            &entry.key,
            "`spec.template.spec.resources` was removed in v1",
        )
        .help("delete it (v1beta1 accepted it only empty)");
    }

    if let Some(class_ref) = class_ref {
        let group = class_ref.entry("group");
        if let Some(entry) = class_ref.entry("apiVersion") {
            let value = entry.value.as_str().unwrap_or_default();
            let wanted = value
                .split_once('/')
                .map_or(value, |(g, _)| g)
                .trim()
                .to_string();
            let wanted = if wanted.is_empty() {
                "karpenter.k8s.aws".to_string()
            } else {
                wanted
            };
            let help = if group.is_some() {
                "delete `apiVersion`; `group` names the API group".to_string()
            } else {
                format!("write `group: {wanted}` (the API group, without a version)")
            };
            out.report(
                doc,
                &entry.key,
                "`nodeClassRef.apiVersion` became `group` in v1",
            )
            .help(help);
        }
        let mut missing = Vec::new();
        if group.is_none() && class_ref.get("apiVersion").is_none() {
            missing.push(("group", "group: karpenter.k8s.aws"));
        }
        if class_ref.get("kind").is_none() {
            missing.push(("kind", "kind: EC2NodeClass"));
        }
        if !missing.is_empty() {
            let fields: Vec<String> = missing.iter().map(|(f, _)| format!("`{f}`")).collect();
            let add: Vec<&str> = missing.iter().map(|(_, yaml)| *yaml).collect();
            let at = template_spec
                .and_then(|s| s.entry("nodeClassRef"))
                .map_or(class_ref, |e| &e.key);
            out.report(
                doc,
                at,
                format!("`nodeClassRef` needs {} in v1", fields.join(" and ")),
            )
            .help(format!(
                "add `{}` (v1 requires `group`, `kind` and `name`)",
                add.join("`, `")
            ));
        }
    }

    if let Some(disruption) = disruption.filter(|d| d.as_map().is_some()) {
        let policy = disruption.get("consolidationPolicy");
        if let Some(policy) = policy.filter(|p| p.as_str() == Some("WhenUnderutilized")) {
            out.report(
                doc,
                policy,
                "`WhenUnderutilized` was renamed `WhenEmptyOrUnderutilized` in v1",
            )
            .help("write `consolidationPolicy: WhenEmptyOrUnderutilized`");
        }
        if disruption.get("consolidateAfter").is_none()
            && let Some(at) = spec.and_then(|s| s.entry("disruption"))
        {
            out.report(
                doc,
                &at.key,
                "`spec.disruption.consolidateAfter` is required in v1",
            )
            .help(
                "add `consolidateAfter: 0s` under `spec.disruption`: `0s` keeps the v1beta1 \
                 behaviour (consolidate as soon as a node is empty or underused)",
            );
        }
    }
}

/// The fields of a v1beta1 EC2NodeClass that moved or changed.
fn node_class<'a>(doc: &'a Document, out: &mut Findings<'a>) {
    let Some(spec) = doc.root.get("spec") else {
        return;
    };
    let has_terms = spec
        .get("amiSelectorTerms")
        .is_some_and(|t| !t.items().is_empty());
    if let Some(entry) = spec.entry("amiFamily") {
        let family = entry.value.as_str().unwrap_or_default();
        if family == "Ubuntu" {
            out.report(doc, &entry.value, "`amiFamily: Ubuntu` was removed in v1")
                .help(
                    "select your Ubuntu AMIs with `amiSelectorTerms` and set `amiFamily: Custom` \
                     with your own bootstrap `userData`, or move to `amiSelectorTerms: [{alias: \
                     al2023@v20240625}]`",
                );
        } else if !has_terms && let Some((alias, pinned)) = alias_family(family) {
            let help = if pinned == "latest" {
                format!(
                    "replace it with `amiSelectorTerms: [{{alias: {alias}@latest}}]` (Windows \
                     aliases accept only `latest`)"
                )
            } else {
                format!(
                    "replace it with `amiSelectorTerms: [{{alias: {alias}@{pinned}}}]`, pinned to \
                     the AMI release you run: `{alias}@latest` replaces every node when a new AMI \
                     is released"
                )
            };
            out.report(
                doc,
                &entry.key,
                format!(
                    "v1 requires `amiSelectorTerms`: `amiFamily: {family}` alone no longer selects an AMI"
                ),
            )
            .help(help);
        }
    }

    let options = spec.entry("metadataOptions");
    let hop_limit_set = options
        .and_then(|o| o.value.get("httpPutResponseHopLimit"))
        .is_some();
    if !hop_limit_set {
        let at = options.map_or_else(|| spec_key(doc).unwrap_or(&doc.root), |o| &o.key);
        out.report(
            doc,
            at,
            "the default `metadataOptions.httpPutResponseHopLimit` drops from 2 to 1 in v1",
        )
        .help(
            "set `httpPutResponseHopLimit` explicitly: `1` (the v1 default) keeps pods off the \
             host network away from instance metadata, `2` keeps the v1beta1 behaviour",
        );
    }

    for entry in spec.get("tags").map(Node::entries).unwrap_or_default() {
        match entry.key_str() {
            Some("karpenter.sh/managed-by") => {
                out.report(
                    doc,
                    &entry.key,
                    "`karpenter.sh/managed-by` is no longer set by Karpenter v1 (nor restricted): it tags instances with `eks:eks-cluster-name` instead",
                )
                .help(
                    "v1 accepts this tag but applies it only where you set it; IAM policy \
                     conditions and cost reports that match `karpenter.sh/managed-by` must match \
                     `eks:eks-cluster-name` in v1",
                );
            }
            Some("eks:eks-cluster-name") => {
                out.report(
                    doc,
                    &entry.key,
                    "`eks:eks-cluster-name` is a restricted tag in v1 (Karpenter sets it itself)",
                )
                .help(
                    "remove it from `spec.tags`; Karpenter v1 tags instances with the cluster name",
                );
            }
            _ => {}
        }
    }
}

fn spec_key(doc: &Document) -> Option<&Node> {
    doc.root.entry("spec").map(|e| &e.key)
}

/// `karpenter.sh/do-not-evict` and `karpenter.sh/do-not-consolidate` in an annotations map.
fn old_annotations<'a>(
    doc: &'a Document,
    annotations: &'a Node,
    whose: &str,
    out: &mut Findings<'a>,
) {
    for entry in annotations.entries() {
        let Some(key) = entry.key_str() else {
            continue;
        };
        if OLD_ANNOTATIONS.contains(&key) {
            out.report(
                doc,
                &entry.key,
                format!(
                    "annotation `{key}` on the {whose} was replaced by `{DO_NOT_DISRUPT}`; Karpenter v1 ignores it"
                ),
            )
            .help(format!("rename it: `{DO_NOT_DISRUPT}: \"true\"`"));
        }
    }
}

/// Old annotations and tolerations of the old disruption taint in a workload's pod template.
fn workload_findings<'a>(workload: &Workload<'a>, out: &mut Findings<'a>) {
    let doc = workload.doc;
    if let Some(annotations) = doc
        .root
        .path(pod_metadata_path(workload.kind))
        .and_then(|m| m.get("annotations"))
    {
        old_annotations(doc, annotations, "pod template", out);
    }
    for toleration in &workload.tolerations {
        if toleration.key != OLD_DISRUPTION_TAINT {
            continue;
        }
        let at = toleration.node.get("key").unwrap_or(toleration.node);
        out.report(
            doc,
            at,
            format!(
                "toleration of `{OLD_DISRUPTION_TAINT}` matches no taint in Karpenter v1, which \
                 taints disrupted nodes `{DISRUPTED_TAINT}:NoSchedule`"
            ),
        )
        .help(format!(
            "tolerate the v1 taint: `{{key: {DISRUPTED_TAINT}, operator: Exists, effect: NoSchedule}}`"
        ));
    }
}
