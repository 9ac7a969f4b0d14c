use std::sync::Arc;

use crate::cel::crd::{CompiledSchema, OutcomeKind};
use crate::cel::native::{self, NativeKind};
use crate::diagnostic::Severity;
use crate::node::Node;
use crate::rules::{Context, Findings, Rule, RuleMeta, Subject, Violation, declare_rule};
use crate::schema::SchemaOrigin;
use crate::source::Document;

declare_rule! {
    /// An object breaks a validation rule of its CRD, so the API server rejects it.
    ///
    /// ## Why
    /// CRDs carry CEL rules (`x-kubernetes-validations`) that the API server evaluates on every
    /// create and update; one that is false rejects the whole object (`kubectl apply` fails,
    /// and a GitOps sync stays degraded). eksgate evaluates them before the object gets there:
    ///
    /// - Karpenter v1 NodePool, NodeClaim and EC2NodeClass, and the EKS Auto Mode NodeClass:
    ///   every rule of the Karpenter v1.14.1 CRDs (and the Auto Mode schema) is built in, with
    ///   messages that say what to change: restricted requirement keys and label domains
    ///   (`karpenter.sh`, `karpenter.k8s.aws`, `karpenter.sh/nodepool`,
    ///   `kubernetes.io/hostname`; the domain is the key's text before its first `/`, and any
    ///   domain that ends with a restricted one is restricted too, as in the CRD), `In`
    ///   requirements without values, `Gt`/`Lt`/`Gte`/`Lte` with anything but one non-negative
    ///   integer, `minValues` above the number of values, disruption budgets with `schedule`
    ///   but no `duration`, static pools (`replicas`) with `weight` or limits other than
    ///   `nodes`, empty `nodeClassRef` fields, exactly one of `role` and `instanceProfile`,
    ///   `amiSelectorTerms` (alias format, family and Windows `@latest`, `alias` and `id` alone
    ///   in their term, an alias term alone in the list, `amiFamily` matching the alias or
    ///   required without one), at most one `rootVolume`, `volumeSize` or `snapshotID` on each
    ///   EBS volume, kubelet eviction and reservation keys, network interfaces, placement
    ///   groups, non-empty selector terms and tags.
    /// - Any CRD given with `eksgate check --crd FILE|DIR` (Karpenter's own included): its
    ///   rules run through a CEL engine, on the object as the API server sees it (unknown fields
    ///   pruned, defaults applied, values typed by the schema). The finding quotes the CRD's
    ///   message.
    ///
    /// A rule that says "every entry" points at the entry that breaks it. Rules that compare
    /// with the previous object (`oldSelf`) only run on updates and are skipped. Restricted
    /// keys in a node class's `spec.tags` are TAG004's and empty keys TAG003's (each reported
    /// once, there) unless that rule is disabled. A rule that cannot be evaluated offline (it calls a Kubernetes function
    /// eksgate does not have, such as `quantity` or `url`, or its evaluation fails) is
    /// reported at `info` with the reason, never as a verdict.
    ///
    /// ## Example
    /// ```yaml,fail
    /// apiVersion: karpenter.sh/v1
    /// kind: NodePool
    /// metadata:
    ///   name: default
    /// spec:
    ///   template:
    ///     spec:
    ///       nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
    ///       requirements:
    ///         - key: karpenter.sh/capacity-types
    ///           operator: In
    ///           values: [spot]
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
    ///       requirements:
    ///         - key: karpenter.sh/capacity-type
    ///           operator: In
    ///           values: [spot]
    /// ```
    pub CrdRuleViolated { id: "CEL001", name: "crd-rule-violated", severity: Error }
}

/// CEL001 at `info`: a rule that could not be evaluated offline.
static NOT_EVALUABLE: RuleMeta = RuleMeta {
    id: "CEL001",
    name: "crd-rule-violated",
    severity: Severity::Info,
    raw_docs: " A CRD validation rule could not be evaluated offline.\n",
    fix: None,
};

/// The tag rule that reports this CRD rule's failure instead of CEL001, if it is enabled:
/// TAG003 for an empty key and TAG004 for a restricted key in a node class's `spec.tags`.
fn owned_by_tag_rule(doc: &Document, path: &str, message: &str) -> Option<&'static str> {
    if path != "spec.tags" || crate::model::NodeClass::from_document(doc).is_none() {
        return None;
    }
    if message.starts_with("tag contains a restricted tag") {
        Some("TAG004")
    } else if message.starts_with("empty tag keys") {
        Some("TAG003")
    } else {
        None
    }
}

fn enabled(cx: &Context<'_>, id: &str) -> bool {
    cx.policy
        .overrides
        .get(id)
        .and_then(|o| o.enabled)
        .unwrap_or(true)
}

impl Rule for CrdRuleViolated {
    fn check<'a>(&self, cx: &Context<'a>, out: &mut Findings<'a>) {
        // A CEL rule reads whole objects: a placeholder anywhere in one makes its verdict
        // unknown.
        out.treat_objects_with_placeholders_as_unknown();
        let tags = native::SpecTags {
            empty_keys: !enabled(cx, "TAG003"),
            restricted_keys: !enabled(cx, "TAG004"),
        };
        // Compiled once per schema and run, however many documents use it.
        let mut compiled: Vec<(Arc<serde_json::Value>, CompiledSchema)> = Vec::new();
        for doc in cx.documents {
            let (Some(api_version), Some(kind)) = (doc.api_version(), doc.kind()) else {
                continue;
            };
            match cx.schema_for(doc) {
                Some(schema) if matches!(schema.origin, SchemaOrigin::Crd { .. }) => {
                    let index = match compiled
                        .iter()
                        .position(|(s, _)| Arc::ptr_eq(s, &schema.openapi))
                    {
                        Some(i) => i,
                        None => {
                            compiled.push((
                                Arc::clone(&schema.openapi),
                                CompiledSchema::compile(&schema.openapi),
                            ));
                            compiled.len() - 1
                        }
                    };
                    let Some((_, rules)) = compiled.get(index) else {
                        continue;
                    };
                    let file = match &schema.origin {
                        SchemaOrigin::Crd { file } => file.as_str(),
                        SchemaOrigin::BuiltIn => "",
                    };
                    crd_path(doc, rules, file, tags, out);
                }
                _ => {
                    let Some(native_kind) = NativeKind::of(api_version, kind) else {
                        continue;
                    };
                    let mut hits = Vec::new();
                    native::run(native_kind, &doc.root, tags, &mut hits);
                    for hit in hits {
                        out.report(doc, hit.at, hit.message).help(hit.help);
                    }
                }
            }
        }
    }
}

fn crd_path<'a>(
    doc: &'a Document,
    rules: &CompiledSchema,
    file: &str,
    tags: native::SpecTags,
    out: &mut Findings<'a>,
) {
    let json = doc.root.to_json();
    let mut found: Vec<(&'a Node, OutcomeKind, String, String)> = Vec::new();
    rules.evaluate(&doc.root, &json, &mut |o| {
        let path = o.site.path_string();
        if let OutcomeKind::Failed { message } = &o.kind {
            match owned_by_tag_rule(doc, &path, message) {
                Some("TAG003") if !tags.empty_keys => return,
                Some("TAG004") if !tags.restricted_keys => return,
                _ => {}
            }
        }
        found.push((o.at, o.kind, o.rule.rule.clone(), path));
    });
    for (at, kind, rule, path) in found {
        let rule = shorten(&rule);
        match kind {
            OutcomeKind::Failed { message } => {
                out.report(doc, at, format!("the API server rejects this: {message}"))
                    .help(format!(
                        "the CRD's validation rule on `{path}` is false here: `{rule}` (from `{file}`)"
                    ));
            }
            OutcomeKind::NotEvaluable { reason } => {
                out.violations.push(Violation {
                    rule: &NOT_EVALUABLE,
                    subject: Subject::of(doc),
                    severity: NOT_EVALUABLE.severity,
                    span: at.span,
                    pointer: doc.pointer(at),
                    message: reason,
                    help: Some(format!(
                        "the CRD's rule on `{path}` is `{rule}` (from `{file}`); check it against a cluster with `kubectl apply --dry-run=server`"
                    )),
                    fix: None,
                });
            }
        }
    }
}

/// A long rule, cut for a help line (the CRD file has it whole).
fn shorten(rule: &str) -> String {
    const MAX: usize = 140;
    if rule.chars().count() <= MAX {
        return rule.to_string();
    }
    let cut: String = rule.chars().take(MAX).collect();
    format!("{cut}…")
}
