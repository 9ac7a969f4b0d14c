//! Schemas of the kinds eksgate validates: built in (Karpenter v1 NodePool and EC2NodeClass,
//! EKS Auto Mode NodeClass) or loaded from CustomResourceDefinitions the user gives (`--crd`).
//!
//! A [`KindSchema`] holds a Kubernetes structural schema (`openAPIV3Schema`, as JSON) for one
//! `group/version` and kind. The SCH rules walk it for types, enums, bounds and unknown fields
//! ([`validate`]); CEL001 evaluates its `x-kubernetes-validations` (for CRD schemas) or runs the
//! built-in native checks (for built-in ones, whose data leaves the CEL rules out).

mod builtin;
mod compile;
mod hints;
mod validate;

use std::sync::Arc;

pub use validate::{Issue, IssueFix, IssueKind, validate};

use crate::node::Node;
use crate::source::{self, Document, Limits, SourceFile};

/// Where a schema came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaOrigin {
    /// Shipped with eksgate.
    BuiltIn,
    /// A CustomResourceDefinition in this file.
    Crd { file: String },
}

/// The schema of one served `group/version` of one kind.
#[derive(Clone, Debug)]
pub struct KindSchema {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The structural schema (`openAPIV3Schema`), with Kubernetes extensions.
    pub openapi: Arc<serde_json::Value>,
    pub origin: SchemaOrigin,
}

impl KindSchema {
    /// `group/version` as written in `apiVersion`.
    #[must_use]
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Schemas by `apiVersion` and kind.
#[derive(Clone, Debug, Default)]
pub struct SchemaSet {
    pub kinds: Vec<KindSchema>,
}

/// A CRD file that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct CrdError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SchemaSet {
    /// The schemas eksgate ships.
    #[must_use]
    pub fn builtin() -> &'static SchemaSet {
        builtin::schemas()
    }

    /// The schema for an object's `apiVersion` and kind.
    #[must_use]
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&KindSchema> {
        self.kinds
            .iter()
            .find(|k| k.kind == kind && k.api_version() == api_version)
    }

    /// Reads every `CustomResourceDefinition` (`apiextensions.k8s.io/v1`) of `sources`; each
    /// served version with a schema becomes a [`KindSchema`]. Other documents are ignored.
    ///
    /// # Errors
    /// [`CrdError`] for a file that cannot be parsed or a CRD without group, kind or versions.
    pub fn from_crd_sources(sources: &[SourceFile]) -> Result<SchemaSet, CrdError> {
        let mut set = SchemaSet::default();
        for source in sources {
            let loaded = source::load(0, source, &Limits::default());
            let fail = |span: crate::node::Span, message: String| {
                let (line, column) = source.line_col(span.start);
                CrdError {
                    file: source.name.clone(),
                    line,
                    column,
                    message,
                }
            };
            if let Some(note) = loaded
                .notes
                .iter()
                .find(|n| n.kind == source::ParseNoteKind::Syntax)
            {
                return Err(fail(note.span, note.message.clone()));
            }
            for doc in &loaded.documents {
                if doc.kind() != Some("CustomResourceDefinition") {
                    continue;
                }
                if doc.api_version() != Some("apiextensions.k8s.io/v1") {
                    let at = doc.root.get("apiVersion").map_or(doc.root.span, |n| n.span);
                    return Err(fail(
                        at,
                        "only `apiextensions.k8s.io/v1` CustomResourceDefinitions are supported"
                            .to_string(),
                    ));
                }
                set.add_crd(doc, source, &fail)?;
            }
        }
        Ok(set)
    }

    fn add_crd(
        &mut self,
        doc: &Document,
        source: &SourceFile,
        fail: &impl Fn(crate::node::Span, String) -> CrdError,
    ) -> Result<(), CrdError> {
        let spec = doc.root.get("spec").ok_or_else(|| {
            fail(
                doc.root.span,
                "CustomResourceDefinition without `spec`".to_string(),
            )
        })?;
        let text = |node: Option<&Node>, what: &str| -> Result<String, CrdError> {
            node.and_then(Node::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    fail(
                        spec.span,
                        format!("CustomResourceDefinition without `{what}`"),
                    )
                })
        };
        let group = text(spec.get("group"), "spec.group")?;
        let kind = text(spec.path(&["names", "kind"]), "spec.names.kind")?;
        let versions = spec.get("versions").and_then(Node::as_seq).ok_or_else(|| {
            fail(
                spec.span,
                "CustomResourceDefinition without `spec.versions`".to_string(),
            )
        })?;
        for version in versions {
            if version.get("served").and_then(Node::as_bool) == Some(false) {
                continue;
            }
            let Some(name) = version.get("name").and_then(Node::as_str) else {
                continue;
            };
            let Some(schema) = version.path(&["schema", "openAPIV3Schema"]) else {
                continue;
            };
            self.kinds.push(KindSchema {
                group: group.clone(),
                version: name.to_string(),
                kind: kind.clone(),
                openapi: Arc::new(schema.to_json()),
                origin: SchemaOrigin::Crd {
                    file: source.name.clone(),
                },
            });
        }
        Ok(())
    }
}
