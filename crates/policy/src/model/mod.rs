//! Typed views over documents: what a rule needs, each part with the node it came from.
//!
//! Views borrow the document tree; nothing is copied or deserialized, so every field keeps its
//! position. Missing or mistyped fields read as absent (schema checks are their own rules).

pub mod crd_providers;
pub mod policy;
pub mod repo;
pub mod request;
pub mod scheduling;
pub mod separation;
pub mod storage;

use crate::node::Node;
use crate::source::Document;

/// Which API version of a Karpenter kind a document uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KarpenterApi {
    V1,
    V1beta1,
}

/// A Karpenter `NodePool` (`karpenter.sh/v1` or `v1beta1`).
#[derive(Debug)]
pub struct NodePool<'a> {
    pub doc: &'a Document,
    pub api: KarpenterApi,
    pub name: &'a str,
    /// `spec` (or the document root, when `spec` is missing).
    pub spec: &'a Node,
    /// `spec.template.spec` when present.
    pub template_spec: Option<&'a Node>,
    /// `spec.template.metadata.labels` entries.
    pub labels: Vec<(&'a str, &'a Node, &'a Node)>,
    pub labels_node: Option<&'a Node>,
    pub taints: Vec<Taint<'a>>,
    pub startup_taints: Vec<Taint<'a>>,
    pub requirements: Vec<Requirement<'a>>,
    pub node_class_ref: Option<NodeClassRef<'a>>,
}

/// A taint on a NodePool template.
#[derive(Debug, Clone)]
pub struct Taint<'a> {
    pub node: &'a Node,
    pub key: &'a str,
    pub value: &'a str,
    pub effect: &'a str,
}

/// A `requirements` entry (a node selector requirement with Karpenter's extra operators).
#[derive(Debug, Clone)]
pub struct Requirement<'a> {
    pub node: &'a Node,
    pub key: &'a str,
    pub operator: &'a str,
    pub values: Vec<String>,
    pub values_node: Option<&'a Node>,
    pub min_values: Option<i64>,
}

/// `spec.template.spec.nodeClassRef`.
#[derive(Debug, Clone)]
pub struct NodeClassRef<'a> {
    pub node: &'a Node,
    pub group: Option<&'a Node>,
    pub kind: Option<&'a Node>,
    pub name: Option<&'a Node>,
}

/// Karpenter's AWS provider: `EC2NodeClass`.
pub const KARPENTER_GROUP: &str = "karpenter.k8s.aws";
/// EKS Auto Mode: `NodeClass`.
pub const AUTO_MODE_GROUP: &str = "eks.amazonaws.com";

/// The API version that serves each Karpenter and EKS Auto Mode kind eksgate reads.
pub const SERVED_AT: &[(&str, &str)] = &[
    ("NodePool", "karpenter.sh/v1"),
    ("NodeClaim", "karpenter.sh/v1"),
    ("EC2NodeClass", "karpenter.k8s.aws/v1"),
    ("NodeClass", "eks.amazonaws.com/v1"),
];

/// API versions that serve (or served) a kind of [`SERVED_AT`] besides its current one:
/// v1beta1, which API001 reports as deprecated rather than misplaced.
const DEPRECATED_AT: &[(&str, &str)] = &[
    ("NodePool", "karpenter.sh/v1beta1"),
    ("NodeClaim", "karpenter.sh/v1beta1"),
    ("EC2NodeClass", "karpenter.k8s.aws/v1beta1"),
];

/// The API groups whose kinds eksgate knows. Other groups may serve kinds of the same names
/// (Crossplane's and Azure's `NodePool`, for one), so only these are judged.
pub const KARPENTER_API_GROUPS: &[&str] = &["karpenter.sh", KARPENTER_GROUP, AUTO_MODE_GROUP];

/// A Karpenter or Auto Mode kind under a known group that does not serve it, or under an
/// unknown version (`karpenter.sh/v1beta1` with `kind: EC2NodeClass`, `eks.amazonaws.com/v1`
/// with `kind: NodePool`, `karpenter.sh/v2`): the API server answers `no matches for kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Misplaced {
    pub kind: &'static str,
    /// The `apiVersion` that serves the kind.
    pub served_at: &'static str,
    /// The version written is `v1beta1` (its fields are read as v1beta1's).
    pub api: KarpenterApi,
}

/// Whether `doc` is a known kind written under the wrong group or version (see [`Misplaced`]).
#[must_use]
pub fn misplaced(doc: &Document) -> Option<Misplaced> {
    let api_version = doc.api_version()?.trim();
    let kind = doc.kind()?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or((api_version, ""));
    if !KARPENTER_API_GROUPS.contains(&group) {
        return None;
    }
    let &(kind, served_at) = SERVED_AT.iter().find(|(k, _)| *k == kind)?;
    if served_at == api_version || DEPRECATED_AT.contains(&(kind, api_version)) {
        return None;
    }
    let api = if version == "v1beta1" {
        KarpenterApi::V1beta1
    } else {
        KarpenterApi::V1
    };
    Some(Misplaced {
        kind,
        served_at,
        api,
    })
}

/// The Karpenter API version a document of `kind` is read as: where it is served, or where it
/// was misplaced (so that its fields are still checked).
fn karpenter_api(doc: &Document, kind: &str) -> Option<KarpenterApi> {
    match (doc.api_version()?, doc.kind()?) {
        (api, k) if k == kind && SERVED_AT.contains(&(kind, api)) => Some(KarpenterApi::V1),
        (api, k) if k == kind && DEPRECATED_AT.contains(&(kind, api)) => {
            Some(KarpenterApi::V1beta1)
        }
        _ => misplaced(doc).filter(|m| m.kind == kind).map(|m| m.api),
    }
}

impl<'r> NodeClassRef<'r> {
    /// The API group the reference names, without a version (`v1beta1`'s `apiVersion:
    /// karpenter.k8s.aws/v1beta1` gives `karpenter.k8s.aws`), with the node it is written in.
    #[must_use]
    pub fn api_group(&self) -> Option<(&'r str, &'r Node)> {
        let node = self.group?;
        let text = node.as_str()?;
        Some((text.split_once('/').map_or(text, |(g, _)| g), node))
    }

    #[must_use]
    pub fn group(&self) -> Option<&str> {
        self.group.and_then(Node::as_str)
    }
    #[must_use]
    pub fn kind(&self) -> Option<&str> {
        self.kind.and_then(Node::as_str)
    }
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.and_then(Node::as_str)
    }
}

impl<'a> NodePool<'a> {
    #[must_use]
    pub fn from_document(doc: &'a Document) -> Option<Self> {
        let api = karpenter_api(doc, "NodePool")?;
        let spec = doc.root.get("spec").unwrap_or(&doc.root);
        let template_spec = spec.path(&["template", "spec"]);
        let labels_node = spec.path(&["template", "metadata", "labels"]);
        let labels = labels_node
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| Some((e.key_str()?, &e.key, &e.value)))
            .collect();
        let taints = template_spec
            .and_then(|s| s.get("taints"))
            .map(taints_of)
            .unwrap_or_default();
        let startup_taints = template_spec
            .and_then(|s| s.get("startupTaints"))
            .map(taints_of)
            .unwrap_or_default();
        let requirements = template_spec
            .and_then(|s| s.get("requirements"))
            .map(|r| r.items().iter().filter_map(requirement_of).collect())
            .unwrap_or_default();
        let node_class_ref = template_spec
            .and_then(|s| s.get("nodeClassRef"))
            .map(|node| NodeClassRef {
                node,
                // v1beta1 named the group through `apiVersion`.
                group: node.get("group").or_else(|| node.get("apiVersion")),
                kind: node.get("kind"),
                name: node.get("name"),
            });
        Some(Self {
            doc,
            api,
            name: doc.name().unwrap_or(""),
            spec,
            template_spec,
            labels,
            labels_node,
            taints,
            startup_taints,
            requirements,
            node_class_ref,
        })
    }

    /// The value of a template label.
    #[must_use]
    pub fn label(&self, key: &str) -> Option<&'a Node> {
        self.labels.iter().find(|(k, _, _)| *k == key).map(|l| l.2)
    }

    /// The best node to point at for something missing from the pool template
    /// (`spec.template.spec`, else `spec`, else `kind`).
    #[must_use]
    pub fn anchor(&self) -> &'a Node {
        anchor_key(&self.doc.root, &["spec", "template", "spec"])
    }

    /// The capacity types Karpenter v1 may launch for the pool. A pool without a
    /// `karpenter.sh/capacity-type` requirement allows every type: Karpenter adds no default
    /// requirement (kubernetes-sigs/karpenter `NodePool.SetDefaults` is empty, and
    /// `scheduling.Requirements.Get` answers `Exists` for an absent key), and the AWS provider
    /// then prefers `reserved`, then `spot`, then `on-demand` (`getCapacityType`). `reserved`
    /// is possible only when the node class selects capacity reservations
    /// (`capacityReservationSelectorTerms`), so it counts only when `reserved_possible`.
    #[must_use]
    pub fn capacity_types(&self, reserved_possible: bool) -> Vec<&'static str> {
        let all: &[&'static str] = if reserved_possible {
            &["on-demand", "spot", "reserved"]
        } else {
            &["on-demand", "spot"]
        };
        let mut allowed: Vec<&'static str> = all.to_vec();
        for req in self
            .requirements
            .iter()
            .filter(|r| r.key == "karpenter.sh/capacity-type")
        {
            let values: Vec<&str> = req.values.iter().map(String::as_str).collect();
            allowed.retain(|c| match req.operator {
                "In" => values.contains(c),
                "NotIn" => !values.contains(c),
                "DoesNotExist" => false,
                _ => true,
            });
        }
        allowed
    }
}

fn taints_of(list: &Node) -> Vec<Taint<'_>> {
    list.items()
        .iter()
        .map(|node| Taint {
            node,
            key: node.get("key").and_then(Node::as_str).unwrap_or(""),
            value: node.get("value").and_then(Node::as_str).unwrap_or(""),
            effect: node.get("effect").and_then(Node::as_str).unwrap_or(""),
        })
        .collect()
}

fn requirement_of(node: &Node) -> Option<Requirement<'_>> {
    let values_node = node.get("values");
    Some(Requirement {
        node,
        key: node.get("key")?.as_str()?,
        operator: node.get("operator").and_then(Node::as_str).unwrap_or(""),
        values: values_node
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_text)
            .collect(),
        values_node,
        min_values: node.get("minValues").and_then(Node::as_i64),
    })
}

/// The deepest existing key node along `path`, or the `kind` key, or the root: where to report
/// something that is missing.
#[must_use]
pub fn anchor_key<'a>(root: &'a Node, path: &[&str]) -> &'a Node {
    let mut best = root.entry("kind").map_or(root, |e| &e.key);
    let mut node = root;
    for key in path {
        match node.entry(key) {
            Some(entry) => {
                best = &entry.key;
                node = &entry.value;
            }
            None => break,
        }
    }
    best
}

/// Which node class API a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeClassFlavor {
    /// Karpenter `karpenter.k8s.aws` `EC2NodeClass`.
    Ec2(KarpenterApi),
    /// EKS Auto Mode `eks.amazonaws.com/v1` `NodeClass`.
    AutoMode,
}

/// An `EC2NodeClass` or an EKS Auto Mode `NodeClass`.
#[derive(Debug)]
pub struct NodeClass<'a> {
    pub doc: &'a Document,
    pub flavor: NodeClassFlavor,
    pub name: &'a str,
    pub spec: Option<&'a Node>,
    /// `spec.tags`.
    pub tags: Option<&'a Node>,
}

impl<'a> NodeClass<'a> {
    /// Whether the node class selects capacity reservations (`capacityReservationSelectorTerms`
    /// with at least one term), without which Karpenter has no `reserved` offering.
    /// The operating system of the class's nodes (`kubernetes.io/os`): the AWS provider takes
    /// it from the AMI family (`getOS`: Windows families give `windows`, the others `linux`);
    /// EKS Auto Mode runs Linux only. `None` for `Custom` AMIs or a family eksgate cannot tell.
    #[must_use]
    pub fn os(&self) -> Option<&'static str> {
        if self.flavor == NodeClassFlavor::AutoMode {
            return Some("linux");
        }
        let spec = self.spec?;
        let family = spec
            .get("amiFamily")
            .and_then(Node::as_str)
            .map(str::to_ascii_lowercase);
        let aliases: Vec<String> = spec
            .get("amiSelectorTerms")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.get("alias").and_then(Node::as_str))
            .map(|a| a.split('@').next().unwrap_or(a).to_ascii_lowercase())
            .collect();
        let families: Vec<&str> = family
            .as_deref()
            .into_iter()
            .chain(aliases.iter().map(String::as_str))
            .collect();
        let os_of = |f: &str| match f {
            f if f.starts_with("windows") => Some("windows"),
            "al2" | "al2023" | "bottlerocket" | "ubuntu" => Some("linux"),
            _ => None,
        };
        let first = families.first().copied().and_then(os_of)?;
        families
            .iter()
            .all(|f| os_of(f) == Some(first))
            .then_some(first)
    }

    #[must_use]
    pub fn selects_reservations(&self) -> bool {
        self.spec
            .and_then(|s| s.get("capacityReservationSelectorTerms"))
            .is_some_and(|t| !t.items().is_empty())
    }

    #[must_use]
    pub fn from_document(doc: &'a Document) -> Option<Self> {
        let flavor = if let Some(api) = karpenter_api(doc, "EC2NodeClass") {
            NodeClassFlavor::Ec2(api)
        } else if karpenter_api(doc, "NodeClass").is_some() {
            NodeClassFlavor::AutoMode
        } else {
            return None;
        };
        let spec = doc.root.get("spec");
        Some(Self {
            doc,
            flavor,
            name: doc.name().unwrap_or(""),
            spec,
            tags: spec.and_then(|s| s.get("tags")),
        })
    }

    /// The API group a `nodeClassRef` uses for this class.
    #[must_use]
    pub fn group(&self) -> &'static str {
        match self.flavor {
            NodeClassFlavor::Ec2(_) => "karpenter.k8s.aws",
            NodeClassFlavor::AutoMode => "eks.amazonaws.com",
        }
    }

    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self.flavor {
            NodeClassFlavor::Ec2(_) => "EC2NodeClass",
            NodeClassFlavor::AutoMode => "NodeClass",
        }
    }

    /// The value of tag `key`.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&'a Node> {
        self.tags.and_then(|t| t.get(key))
    }

    /// Whether the class may carry tag `key` once rendered: it has it, or a key holding a
    /// placeholder (`${billing_key}`) could be it, or the whole `tags` is one.
    #[must_use]
    pub fn may_have_tag(&self, key: &str) -> bool {
        self.tag(key).is_some()
            || self.tags.is_some_and(|t| {
                // `tags: ${TAGS}`: the whole map is a placeholder.
                crate::placeholder::is_unknown(t, false)
                    || t.entries().iter().any(|e| {
                        e.key
                            .as_str()
                            .is_some_and(|k| crate::placeholder::may_equal(k, key))
                    })
            })
    }

    /// Where to report something missing from `spec` (`spec` key, else `kind`).
    #[must_use]
    pub fn anchor(&self, path: &[&str]) -> &'a Node {
        let mut full = vec!["spec"];
        full.extend_from_slice(path);
        anchor_key(&self.doc.root, &full)
    }
}

/// Kinds whose pod template eksgate checks.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
];

/// A pod template: a Pod, or the template of a workload controller.
#[derive(Debug)]
pub struct Workload<'a> {
    pub doc: &'a Document,
    pub kind: &'a str,
    pub name: &'a str,
    /// `metadata.namespace`, if the manifest sets it.
    pub namespace: Option<&'a str>,
    /// The pod spec (`spec` of a Pod, `spec.template.spec` of a Deployment, ...).
    pub pod_spec: Option<&'a Node>,
    pub tolerations: Vec<scheduling::Toleration<'a>>,
    /// `nodeSelector` entries.
    pub node_selector: Vec<(&'a str, &'a Node)>,
    pub node_selector_node: Option<&'a Node>,
    /// Required node affinity terms (ORed), when present.
    pub affinity_terms: Option<Vec<scheduling::SelectorTerm<'a>>>,
}

impl<'a> Workload<'a> {
    /// Kind and name, for messages: ``Deployment `web` ``.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }

    #[must_use]
    pub fn from_document(doc: &'a Document) -> Option<Self> {
        let kind = doc.kind()?;
        if !WORKLOAD_KINDS.contains(&kind) {
            return None;
        }
        let api = doc.api_version()?;
        let pod_path: &[&str] = match kind {
            "Pod" => &["spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            _ => &["spec", "template", "spec"],
        };
        // A `Pod` of another API group (say a CRD named Pod) is not a pod.
        if !(api == "v1" || api.starts_with("apps/") || api.starts_with("batch/")) {
            return None;
        }
        let pod_spec = doc.root.path(pod_path);
        let tolerations = pod_spec
            .and_then(|s| s.get("tolerations"))
            .map(|t| {
                t.items()
                    .iter()
                    .map(scheduling::Toleration::from_node)
                    .collect()
            })
            .unwrap_or_default();
        let node_selector_node = pod_spec.and_then(|s| s.get("nodeSelector"));
        let node_selector = node_selector_node
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| Some((e.key_str()?, &e.value)))
            .collect();
        let affinity_terms = pod_spec
            .and_then(|s| {
                s.path(&[
                    "affinity",
                    "nodeAffinity",
                    "requiredDuringSchedulingIgnoredDuringExecution",
                    "nodeSelectorTerms",
                ])
            })
            .map(|terms| {
                terms
                    .items()
                    .iter()
                    .map(scheduling::SelectorTerm::from_node)
                    .collect()
            });
        Some(Self {
            doc,
            kind,
            name: doc.name().unwrap_or(""),
            namespace: doc.namespace(),
            pod_spec,
            tolerations,
            node_selector,
            node_selector_node,
            affinity_terms,
        })
    }

    /// The namespace the object lands in when applied as written (`default` when unset).
    #[must_use]
    pub fn effective_namespace(&self) -> &'a str {
        self.namespace.unwrap_or("default")
    }

    #[must_use]
    pub fn is_daemon_set(&self) -> bool {
        self.kind == "DaemonSet"
    }

    /// Where to report something missing from the pod spec.
    #[must_use]
    pub fn anchor(&self) -> &'a Node {
        let path: &[&str] = match self.kind {
            "Pod" => &["spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            _ => &["spec", "template", "spec"],
        };
        anchor_key(&self.doc.root, path)
    }
}
