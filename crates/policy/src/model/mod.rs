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
        let api = match (doc.api_version()?, doc.kind()?) {
            ("karpenter.sh/v1", "NodePool") => KarpenterApi::V1,
            ("karpenter.sh/v1beta1", "NodePool") => KarpenterApi::V1beta1,
            _ => return None,
        };
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

    /// The capacity types the pool allows: `None` when unrestricted by its requirements.
    /// Karpenter launches on-demand capacity when no requirement names `karpenter.sh/capacity-type`.
    #[must_use]
    pub fn capacity_types(&self) -> Vec<&'static str> {
        const ALL: [&str; 3] = ["on-demand", "spot", "reserved"];
        let mut allowed: Vec<&'static str> = vec!["on-demand"];
        let mut constrained = false;
        for req in self
            .requirements
            .iter()
            .filter(|r| r.key == "karpenter.sh/capacity-type")
        {
            if !constrained {
                allowed = ALL.to_vec();
                constrained = true;
            }
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
    #[must_use]
    pub fn from_document(doc: &'a Document) -> Option<Self> {
        let flavor = match (doc.api_version()?, doc.kind()?) {
            ("karpenter.k8s.aws/v1", "EC2NodeClass") => NodeClassFlavor::Ec2(KarpenterApi::V1),
            ("karpenter.k8s.aws/v1beta1", "EC2NodeClass") => {
                NodeClassFlavor::Ec2(KarpenterApi::V1beta1)
            }
            ("eks.amazonaws.com/v1", "NodeClass") => NodeClassFlavor::AutoMode,
            _ => return None,
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
