//! Which conversions each kind gets, and in which order (notes at one place of the text keep
//! this order). A new Karpenter migration is one file in this folder, with its tests, and one
//! line here.

use super::Level;
use super::planner::Planner;
use crate::model::Workload;
use crate::node::Node;
use crate::rules::api::pod_metadata_path;
use crate::source::Document;

/// A NodePool being converted: its parts, reached through entries written in place.
pub(super) struct Pool<'a> {
    pub(super) di: usize,
    pub(super) doc: &'a Document,
    pub(super) name: &'a str,
    pub(super) v1beta1: bool,
    /// `spec`, written in place.
    pub(super) spec: &'a Node,
    /// `spec.template.spec` as parsed (in place or not): where a missing field is reported.
    pub(super) template_spec: Option<&'a Node>,
    /// `spec.template.spec`, written in place.
    pub(super) tspec: Option<&'a Node>,
    /// `spec.template.spec.nodeClassRef`, written in place.
    pub(super) class_ref: Option<&'a Node>,
    /// `spec.disruption`, written in place.
    pub(super) disruption: Option<&'a Node>,
}

/// An EC2NodeClass being converted.
pub(super) struct NodeClass<'a> {
    pub(super) di: usize,
    pub(super) doc: &'a Document,
    pub(super) v1beta1: bool,
    /// `spec`, written in place.
    pub(super) spec: &'a Node,
    /// Whether `spec.amiSelectorTerms` selects anything.
    pub(super) has_terms: bool,
}

impl<'a> Planner<'a> {
    /// Plans the conversion of one document (a `List` item is a document too).
    pub(super) fn document(&mut self, di: usize, doc: &'a Document) {
        let (Some(api), Some(kind)) = (doc.api_version(), doc.kind()) else {
            return;
        };
        let cp = self.checkpoint();
        let name = doc.name().unwrap_or("");
        match (api, kind) {
            ("karpenter.sh/v1beta1" | "karpenter.sh/v1", "NodePool") => self.node_pool(di, doc),
            ("karpenter.k8s.aws/v1beta1" | "karpenter.k8s.aws/v1", "EC2NodeClass") => {
                self.node_class(di, doc);
            }
            ("karpenter.sh/v1beta1", "NodeClaim") => {
                self.note(
                    doc.root.get("apiVersion").unwrap_or(&doc.root),
                    Level::Error,
                    format!(
                        "NodeClaim `{name}` is not converted: Karpenter creates NodeClaims itself; \
                         remove it from your manifests"
                    ),
                );
            }
            ("karpenter.sh/v1alpha5", "Provisioner")
            | ("karpenter.k8s.aws/v1alpha1", "AWSNodeTemplate") => {
                self.note(
                    doc.root.get("apiVersion").unwrap_or(&doc.root),
                    Level::Error,
                    format!(
                        "`{api}` {kind} `{name}` is not converted: migrate it to v1beta1 first \
                         (Karpenter's `karpenter-convert`), then run `eksgate migrate` again"
                    ),
                );
            }
            _ => {
                if let Some(m) = crate::model::misplaced(doc) {
                    self.note(
                        doc.root.get("apiVersion").unwrap_or(&doc.root),
                        Level::Error,
                        format!(
                            "`{api}` does not serve {kind} `{name}`, so it is not converted: \
                             write `apiVersion: {}` (check that `kind` is what you meant), then \
                             run `eksgate migrate` again",
                            m.served_at
                        ),
                    );
                }
            }
        }
        if Workload::from_document(doc).is_some() {
            self.workload(di, doc, kind);
        }
        if let Some(reason) = self.manual.get(&di) {
            let reason = reason.clone();
            if self.rollback(&cp, di) {
                let what = match name {
                    "" => kind.to_string(),
                    name => format!("{kind} `{name}`"),
                };
                self.note(&doc.root, Level::Error, format!("{what}: {reason}"));
            }
        }
    }

    fn node_pool(&mut self, di: usize, doc: &'a Document) {
        let root = &doc.root;
        let name = doc.name().unwrap_or("");
        let v1beta1 = doc.api_version() == Some("karpenter.sh/v1beta1");
        let spec = root.get("spec");
        let template_spec = spec.and_then(|s| s.path(&["template", "spec"]));
        let disruption = spec.and_then(|s| s.get("disruption"));
        let class_ref = template_spec.and_then(|s| s.get("nodeClassRef"));
        let policy = disruption
            .and_then(|d| d.get("consolidationPolicy"))
            .and_then(Node::as_str);
        // A `karpenter.sh/v1` NodePool is converted only if it still has v1beta1 fields.
        let leftovers = disruption.is_some_and(|d| d.get("expireAfter").is_some())
            || template_spec
                .is_some_and(|s| s.get("kubelet").is_some() || s.get("resources").is_some())
            || class_ref.is_some_and(|r| r.get("apiVersion").is_some())
            || policy == Some("WhenUnderutilized");
        if !v1beta1 && !leftovers {
            self.annotations(
                di,
                doc,
                &["spec", "template", "metadata"],
                "NodePool template",
            );
            return;
        }
        if v1beta1 {
            self.api_version(di, doc, "karpenter.sh/v1");
        }
        let Some(spec) = self.reach(root, &["spec"]).filter(|s| s.as_map().is_some()) else {
            return;
        };
        let tspec = self
            .reach(spec, &["template", "spec"])
            .filter(|s| s.as_map().is_some());
        let class_ref = match tspec {
            Some(ts) => self.reach(ts, &["nodeClassRef"]),
            None => None,
        };
        let disruption = self.reach(spec, &["disruption"]);
        let pool = Pool {
            di,
            doc,
            name,
            v1beta1,
            spec,
            template_spec,
            tspec,
            class_ref,
            disruption,
        };
        self.node_class_ref(&pool);
        self.collect_kubelet(&pool);
        self.template_resources(&pool);
        self.disruption(&pool);
        self.annotations(
            di,
            doc,
            &["spec", "template", "metadata"],
            "NodePool template",
        );
    }

    fn node_class(&mut self, di: usize, doc: &'a Document) {
        let root = &doc.root;
        let v1beta1 = doc.api_version() == Some("karpenter.k8s.aws/v1beta1");
        let spec = root.get("spec").filter(|s| s.as_map().is_some());
        let has_terms = spec
            .and_then(|s| s.get("amiSelectorTerms"))
            .is_some_and(|t| !t.items().is_empty());
        let family = spec.and_then(|s| s.get("amiFamily")).and_then(Node::as_str);
        let needs_alias = !has_terms && family.is_some();
        // A `karpenter.k8s.aws/v1` class is converted only if it still selects AMIs by family.
        if !v1beta1 && !needs_alias {
            return;
        }
        if v1beta1 {
            self.api_version(di, doc, "karpenter.k8s.aws/v1");
        }
        let Some(spec) = spec.and_then(|_| self.reach(root, &["spec"])) else {
            return;
        };
        let class = NodeClass {
            di,
            doc,
            v1beta1,
            spec,
            has_terms,
        };
        self.ami_selection(&class);
        self.imds_hop_limit(&class);
        self.restricted_tags(&class);
    }

    /// A pod template: old annotations, and tolerations of the old disruption taint.
    fn workload(&mut self, di: usize, doc: &'a Document, kind: &str) {
        self.annotations(di, doc, pod_metadata_path(kind), "pod template");
        self.disruption_taint(di, doc, kind);
    }
}
