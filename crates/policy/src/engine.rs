//! A run in two phases, so that checking costs about what parsing costs, on every core, in
//! memory that does not grow with the repository.
//!
//! 1. [`Checker::file`], per file and independent of every other file (the CLI runs it on a
//!    thread pool; the WASM build and [`crate::check`] call it in a loop): parse, run the
//!    rules of [`Scope::Document`] with the file's text and trees at hand, render their fixes,
//!    read the file's suppressions, and keep only what the rest of the run needs: the
//!    findings, the ordering facts, and the NodePools, node classes and workloads the
//!    cross-document rules read, pruned to the fields those rules read. Every
//!    other tree goes when the file is done; the caller may drop the text too
//!    ([`CheckedFile::drop_text`]).
//! 2. [`Checker::finish`]: the rules of [`Scope::Run`] over what the files kept, then
//!    overrides, sorting and "one problem, one finding" over all findings. The order of the
//!    findings depends only on the files' order, never on which thread read which file.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::{CheckedObject, CustomRuleInfo, Diagnostic, Report, Severity};
use crate::model;
use crate::model::repo::{FileFacts, Repository};
use crate::node::{Entry, Node, Span, Value};
use crate::placeholder;
use crate::rules::{self, Context, Findings, RULES, Scope};
use crate::source::packed::Packed;
use crate::source::{self, DecodeFault, Document, Origin, ParseNoteKind, SourceFile};
use crate::suppress::Suppressions;
use crate::{CheckOptions, Input, Policy, generate};

/// Runs the two phases for one policy and one set of options.
#[derive(Debug)]
pub struct Checker<'p> {
    policy: &'p Policy,
    options: &'p CheckOptions,
    custom_ids: Vec<String>,
}

/// What phase 1 keeps of one file: owned, `Send`, and free of every tree no later rule reads.
#[derive(Debug)]
pub struct CheckedFile {
    /// The file as the user wrote it (before `--var` substitution).
    pub source: SourceFile,
    /// Findings so far, at spans of the checked text (see `substitution`).
    diagnostics: Vec<Diagnostic>,
    /// The documents the [`Scope::Run`] rules read, pruned to what they read and packed into
    /// one buffer (see `source::packed`: as trees, they fragmented the heap the next files
    /// are parsed in).
    kept: Packed,
    /// `kept` unpacked ([`CheckedFile::unpack`]).
    unpacked: Vec<Document>,
    facts: FileFacts,
    suppressions: Suppressions,
    /// How spans of the substituted text map back into `source` (`--var`), without the
    /// substituted text itself.
    substitution: Option<placeholder::Substituted>,
    /// Documents read (items of a `List` count one each).
    documents: usize,
    objects: Vec<CheckedObject>,
    suppressed: usize,
}

impl CheckedFile {
    /// Drops the file's text (and its line index): the caller re-reads the file to locate
    /// findings (`render::locate`), so a run holds one text at a time, not the repository.
    pub fn drop_text(&mut self) {
        self.source = SourceFile::new(std::mem::take(&mut self.source.name), "");
    }

    /// Unpacks the documents kept for phase 2, which [`Checker::finish`] otherwise does itself.
    /// A caller with threads calls this on each of them once phase 1 is over: the trees then
    /// take the memory the parse trees gave back to those threads' heaps, rather than grow
    /// the heap of the thread that finishes (22 MB less at the peak on the 100,000-document
    /// bench corpus at `-j 2`: 157 MB against 179).
    pub fn unpack(&mut self) {
        let kept = std::mem::take(&mut self.kept);
        let unpacked = kept.unpack(self.facts.file);
        debug_assert!(unpacked.is_some(), "a buffer of `Packed::new` unpacks");
        self.unpacked.extend(unpacked.unwrap_or_default());
    }

    /// Makes `index` the file's index in the run, everywhere phase 1 recorded it.
    fn set_index(&mut self, index: usize) {
        for d in &mut self.diagnostics {
            d.file = index;
        }
        for o in &mut self.objects {
            o.file = index;
        }
        for doc in &mut self.unpacked {
            doc.file = index;
        }
        self.facts.file = index;
    }
}

impl<'p> Checker<'p> {
    #[must_use]
    pub fn new(policy: &'p Policy, options: &'p CheckOptions) -> Self {
        Self {
            policy,
            options,
            custom_ids: policy.rules.iter().map(|r| r.id.to_string()).collect(),
        }
    }

    /// Phase 1 for one file. `index` is the file's place in the run; [`Checker::finish`]
    /// renumbers files by their order in the vector it gets, so a caller that leaves out
    /// files it could not read need not know indexes in advance.
    #[must_use]
    pub fn file(&self, index: usize, input: Input) -> CheckedFile {
        let policy = self.policy;
        if let Some(fault) = &input.fault {
            let span = match fault {
                DecodeFault::InvalidUtf8 { offset, .. } => Span::empty(*offset as u32),
                DecodeFault::TooLarge { .. } => Span::empty(0),
            };
            let diagnostic = parse_diagnostic(
                &rules::parse::SourceUnparsable,
                index,
                0,
                span,
                fault.to_string(),
                Some("eksgate reads UTF-8 YAML or JSON files".to_string()),
            );
            return CheckedFile {
                facts: FileFacts::extract(index, &input.source.name, &[], None),
                source: input.source,
                diagnostics: vec![diagnostic],
                kept: Packed::default(),
                unpacked: Vec::new(),
                suppressions: Suppressions::default(),
                substitution: None,
                documents: 0,
                objects: Vec::new(),
                suppressed: 0,
            };
        }
        // Substituted text is what is checked; spans go back into the original at the end.
        let (checked, original, substitution) = match self.options.vars.as_ref() {
            Some(vars) => {
                let mut substituted = placeholder::substitute(&input.source.text, vars);
                if substituted.is_empty() {
                    (input.source, None, None)
                } else {
                    let text = std::mem::take(&mut substituted.text);
                    let checked = SourceFile::new(input.source.name.clone(), text);
                    (checked, Some(input.source), Some(substituted))
                }
            }
            None => (input.source, None, None),
        };
        let mut loaded = source::load(index, &checked, &self.options.limits);
        let facts = FileFacts::extract(
            index,
            &checked.name,
            &loaded.documents,
            loaded.terraform.take(),
        );
        let documents = loaded.documents;
        let mut diagnostics = note_diagnostics(index, loaded.notes, &documents);

        let cx = Context::new(policy, &documents).with_schemas(&self.options.schemas);
        let mut suppressions = Suppressions::new(index, &checked, &documents, &self.custom_ids);
        diagnostics.extend(suppressions.problems());
        let mut suppressed = 0;
        // Fixes edit YAML and JSON files; manifests inside Terraform are fixed in Terraform.
        let fixable = !documents.iter().any(|d| {
            matches!(
                d.origin,
                Origin::TerraformPlan { .. } | Origin::TerraformSource { .. }
            )
        });
        // Read only when a finding proposes a fix: most files have none.
        let layout = std::cell::OnceCell::new();
        // Documents come in file order (the items of a `List` share their index), so the
        // documents of one index are found by halving, not by a walk per finding.
        let in_order = documents.is_sorted_by_key(|d| d.index);
        for violation in run_rules(policy, Scope::Document, &cx) {
            if suppressions.suppresses(&violation) {
                suppressed += 1;
                continue;
            }
            let fix = violation.fix.as_ref().and_then(|proposal| {
                if !fixable {
                    return None;
                }
                // Items of a `List` share their document index: the one holding the nodes renders.
                let wanted = violation.subject.document;
                let candidates = if in_order {
                    let from = documents.partition_point(|d| d.index < wanted);
                    let to = documents.partition_point(|d| d.index <= wanted);
                    documents.get(from..to).unwrap_or_default()
                } else {
                    &documents[..]
                };
                candidates
                    .iter()
                    .filter(|d| d.index == wanted)
                    .find_map(|d| {
                        let layout =
                            layout.get_or_init(|| crate::fix::layout::Layout::new(&checked.text));
                        proposal.render_in(layout, &d.root)
                    })
            });
            diagnostics.push(from_violation(violation, fix));
        }

        // eksgate's own ClusterRequests: judged by the same policy through what they render.
        for doc in &documents {
            if doc.api_version() != Some(crate::reader::API_VERSION)
                || doc.kind() != Some("ClusterRequest")
            {
                continue;
            }
            for d in generate::request_findings(doc, &checked, policy) {
                if suppressions.suppresses_at(&rules::Subject::of(doc), d.span, &d.rule) {
                    suppressed += 1;
                    continue;
                }
                diagnostics.push(d);
            }
        }

        for c in rules::custom::evaluate(policy, &documents) {
            if suppressions.suppresses_at(&rules::Subject::of(c.doc), c.span, &c.rule) {
                suppressed += 1;
                continue;
            }
            diagnostics.push(Diagnostic {
                rule_name: c.rule.to_lowercase().into(),
                rule: c.rule.into(),
                severity: c.severity,
                message: c.message,
                help: c.help,
                file: c.doc.file,
                span: c.span,
                pointer: c.pointer,
                document: c.doc.index,
                kind: c.doc.kind().map(str::to_string),
                name: c.doc.name().map(str::to_string),
                fix: None,
            });
        }

        let objects = documents
            .iter()
            .filter(|d| crate::is_checked_kind(d) || cx.schema_for(d).is_some())
            .map(|d| CheckedObject {
                file: d.file,
                document: d.index,
                kind: d.kind().map(str::to_string),
                name: d.name().map(str::to_string),
            })
            .collect();
        drop(cx);
        let count = documents.len();
        let kept: Vec<Document> = documents.into_iter().filter_map(keep_for_run).collect();
        let kept = Packed::new(&kept);
        CheckedFile {
            source: original.unwrap_or(checked),
            diagnostics,
            kept,
            unpacked: Vec::new(),
            facts,
            suppressions,
            substitution,
            documents: count,
            objects,
            suppressed,
        }
    }

    /// Phase 2: the cross-document rules over what the files kept, then the report.
    #[must_use]
    pub fn finish(&self, mut files: Vec<CheckedFile>) -> (Report, Repository) {
        let policy = self.policy;
        for (index, file) in files.iter_mut().enumerate() {
            file.set_index(index);
        }
        let mut report = Report {
            custom_rules: policy
                .rules
                .iter()
                .map(|r| CustomRuleInfo {
                    id: r.id.to_string(),
                    severity: r.severity,
                    summary: r
                        .message
                        .clone()
                        .unwrap_or_else(|| r.expression.to_string()),
                    expression: r.expression.to_string(),
                })
                .collect(),
            ..Report::default()
        };
        // Sized once: these hold a little of every file, and growing them by doubling would
        // cost up to twice that at the peak.
        let mut raw: Vec<Diagnostic> =
            Vec::with_capacity(files.iter().map(|f| f.diagnostics.len()).sum());
        let mut kept: Vec<Document> =
            Vec::with_capacity(files.iter().map(|f| f.kept.len() + f.unpacked.len()).sum());
        report
            .objects
            .reserve_exact(files.iter().map(|f| f.objects.len()).sum());
        report.files.reserve_exact(files.len());
        let mut facts = Vec::with_capacity(files.len());
        let mut suppressions = Vec::with_capacity(files.len());
        let mut substitutions = HashMap::new();
        for (index, file) in files.into_iter().enumerate() {
            raw.extend(file.diagnostics);
            kept.extend(file.unpacked);
            let unpacked = file.kept.unpack(index);
            debug_assert!(unpacked.is_some(), "a buffer of `Packed::new` unpacks");
            kept.extend(unpacked.unwrap_or_default());
            facts.push(file.facts);
            suppressions.push(file.suppressions);
            if let Some(substituted) = file.substitution {
                substitutions.insert(index, substituted);
            }
            report.summary.documents += file.documents;
            report.summary.suppressed += file.suppressed;
            report.objects.extend(file.objects);
            report.files.push(file.source);
        }

        let repository = Repository::new(facts, &policy.crd_providers);
        let cx = Context::new(policy, &kept)
            .with_schemas(&self.options.schemas)
            .with_repository(&repository);
        for violation in run_rules(policy, Scope::Run, &cx) {
            let silenced = suppressions
                .get(violation.subject.file)
                .is_some_and(|s| s.suppresses(&violation));
            if silenced {
                report.summary.suppressed += 1;
                continue;
            }
            // Cross-document rules propose no fixes (a test holds them to it): the text
            // they would be rendered against may be gone by now.
            raw.push(from_violation(violation, None));
        }
        drop(cx);
        drop(kept);

        for d in &mut raw {
            if let Some(severity) = policy
                .overrides
                .get(d.rule.as_ref())
                .and_then(|o| o.severity)
            {
                d.severity = severity;
            }
        }
        raw.retain(|d| {
            policy
                .overrides
                .get(d.rule.as_ref())
                .and_then(|o| o.enabled)
                .unwrap_or(true)
        });
        // Stable, so findings that tie keep the order of files and rules.
        raw.sort_by(|a, b| {
            (a.file, a.span.start, &a.rule, &a.message).cmp(&(
                b.file,
                b.span.start,
                &b.rule,
                &b.message,
            ))
        });
        raw.dedup_by(|a, b| {
            a.file == b.file && a.span == b.span && a.rule == b.rule && a.message == b.message
        });
        // One problem, one finding: of two rules at the same text for the same cause, the
        // more specific one stays (rules::YIELDS_TO).
        let mut at_span: HashMap<(usize, Span), Vec<String>> = HashMap::new();
        for d in &raw {
            at_span
                .entry((d.file, d.span))
                .or_default()
                .push(d.rule.to_string());
        }
        raw.retain(|d| {
            at_span
                .get(&(d.file, d.span))
                .is_none_or(|rules| !rules.iter().any(|winner| rules::yields_to(&d.rule, winner)))
        });
        for d in &mut raw {
            if let Some(substituted) = substitutions.get(&d.file) {
                d.span = substituted.original_span(d.span);
            }
        }

        report.summary.files = report.files.len();
        report.summary.skipped_documents = report.summary.documents - report.objects.len();
        for d in &raw {
            match d.severity {
                Severity::Error => report.summary.errors += 1,
                Severity::Warning => report.summary.warnings += 1,
                Severity::Info => report.summary.infos += 1,
            }
        }
        report.diagnostics = raw;
        (report, repository)
    }
}

/// The violations of every enabled rule of `scope`.
fn run_rules<'a>(policy: &Policy, scope: Scope, cx: &Context<'a>) -> Vec<rules::Violation<'a>> {
    let mut violations = Vec::new();
    for rule in RULES.iter().filter(|r| r.scope() == scope) {
        let meta = rule.meta();
        let enabled = policy
            .overrides
            .get(meta.id)
            .and_then(|o| o.enabled)
            .unwrap_or(true);
        if !enabled {
            continue;
        }
        let mut findings = Findings::new(meta);
        rule.check(cx, &mut findings);
        let overflow = findings.overflow();
        violations.extend(findings.violations);
        violations.extend(overflow);
    }
    violations
}

fn from_violation(v: rules::Violation<'_>, fix: Option<crate::fix::Fix>) -> Diagnostic {
    Diagnostic {
        rule: v.rule.id.into(),
        rule_name: v.rule.name.into(),
        severity: v.severity,
        message: v.message,
        help: v.help,
        file: v.subject.file,
        span: v.span,
        pointer: v.pointer,
        document: v.subject.document,
        kind: v.subject.kind.map(str::to_string),
        name: v.subject.name.map(str::to_string),
        fix,
    }
}

/// The decoder's notes as findings, each on the document it is in.
fn note_diagnostics(
    index: usize,
    notes: Vec<source::ParseNote>,
    documents: &[Document],
) -> Vec<Diagnostic> {
    // Documents by their index in the file (items of a `List` share their list's index),
    // so locating a note costs a lookup, not a scan of the file's documents.
    let mut by_index: HashMap<usize, Vec<&Document>> = HashMap::new();
    for doc in documents {
        by_index.entry(doc.index).or_default().push(doc);
    }
    let mut out = Vec::new();
    for note in notes {
        let candidates = by_index
            .get(&note.document)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let doc = candidates
            .iter()
            .copied()
            .find(|d| d.root.span.start <= note.span.start && note.span.end <= d.root.span.end);
        let is_object = |d: &Document| d.api_version().is_some() && d.kind().is_some();
        let rule: &dyn rules::Rule = match note.kind {
            ParseNoteKind::Syntax => &rules::parse::SourceUnparsable,
            // Only what Kubernetes decodes matters: a GitHub workflow's `on:` is fine, and
            // so is a `.nan` in a Helm values file.
            ParseNoteKind::NotJson if doc.is_some_and(is_object) => &rules::parse::SourceUnparsable,
            ParseNoteKind::Yaml11Scalar if doc.is_some_and(is_object) => {
                &rules::parse::Yaml11Scalar
            }
            ParseNoteKind::NotJson | ParseNoteKind::Yaml11Scalar => continue,
            ParseNoteKind::DuplicateKey => &rules::parse::DuplicateKey,
            ParseNoteKind::DocumentIgnored => &rules::parse::DocumentIgnored,
        };
        let mut diagnostic = parse_diagnostic(
            rule,
            index,
            note.document,
            note.span,
            note.message,
            note.help,
        );
        if let Some(doc) = doc {
            if let Some(inner) = doc.root.pointer_to_span(note.span) {
                diagnostic.pointer = format!("{}{inner}", doc.pointer_prefix);
            }
            diagnostic.kind = doc.kind().map(str::to_string);
            diagnostic.name = doc.name().map(str::to_string);
        }
        out.push(diagnostic);
    }
    out
}

fn parse_diagnostic(
    rule: &dyn rules::Rule,
    file: usize,
    document: usize,
    span: Span,
    message: String,
    help: Option<String>,
) -> Diagnostic {
    let meta = rule.meta();
    Diagnostic {
        rule: meta.id.into(),
        rule_name: meta.name.into(),
        severity: meta.severity,
        message,
        help,
        file,
        span,
        pointer: String::new(),
        document,
        kind: None,
        name: None,
        fix: None,
    }
}

/// What of `doc` the [`Scope::Run`] rules read, and nothing else: of NodePools, their
/// labels, requirements, taints and `nodeClassRef`; of node classes, their tags and what
/// says which OS and capacity they launch; of workloads, the pod spec's scheduling fields
/// (`nodeName`, `nodeSelector`, `tolerations`, required node affinity); of every kept object its
/// identity and suppression annotation (not its labels: only custom rules match on those,
/// and they run in phase 1). Documents of other kinds are not kept.
fn keep_for_run(doc: Document) -> Option<Document> {
    const IDENTITY: &[&[&str]] = &[
        &["apiVersion"],
        &["kind"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &[
            "metadata",
            "annotations",
            crate::diagnostic::IGNORE_ANNOTATION,
        ],
    ];
    const NODE_POOL: &[&[&str]] = &[
        &["spec", "template", "metadata", "labels"],
        &["spec", "template", "spec", "requirements"],
        &["spec", "template", "spec", "taints"],
        &["spec", "template", "spec", "startupTaints"],
        &["spec", "template", "spec", "nodeClassRef"],
    ];
    const NODE_CLASS: &[&[&str]] = &[
        &["spec", "tags"],
        &["spec", "amiFamily"],
        &["spec", "amiSelectorTerms"],
        &["spec", "capacityReservationSelectorTerms"],
    ];
    const POD_SPEC: &[&[&str]] = &[
        &["nodeName"],
        &["nodeSelector"],
        &["tolerations"],
        // The preferred terms are only weights: no run rule reads them.
        &[
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
        ],
    ];
    let mut paths: Vec<Vec<&str>> = IDENTITY.iter().map(|p| p.to_vec()).collect();
    if model::NodePool::from_document(&doc).is_some() {
        paths.extend(NODE_POOL.iter().map(|p| p.to_vec()));
    } else if model::NodeClass::from_document(&doc).is_some() {
        paths.extend(NODE_CLASS.iter().map(|p| p.to_vec()));
    } else {
        let pod: &[&str] = match model::Workload::from_document(&doc)?.kind {
            "Pod" => &["spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            _ => &["spec", "template", "spec"],
        };
        paths.extend(POD_SPEC.iter().map(|p| [pod, p].concat()));
    }
    let paths: Vec<&[&str]> = paths.iter().map(Vec::as_slice).collect();
    let root = keep_paths(&doc.root, &paths);
    Some(Document { root, ..doc })
}

/// `node` with only the entries on `paths` (each a path of mapping keys; a path's last value
/// is kept whole). Mappings on the way are kept even when nothing below them is, so a rule
/// that points at the nearest existing key (`anchor_key`) points where it did. Spans are
/// unchanged, and what is kept shares its subtrees with `node`.
fn keep_paths(node: &Node, paths: &[&[&str]]) -> Node {
    let Value::Map(entries) = &node.value else {
        return node.clone();
    };
    let mut kept = Vec::new();
    for entry in entries.iter() {
        let Some(key) = entry.key_str() else {
            continue;
        };
        let below: Vec<&[&str]> = paths
            .iter()
            .filter_map(|p| match p.split_first() {
                Some((head, rest)) if *head == key => Some(rest),
                _ => None,
            })
            .collect();
        if below.is_empty() {
            continue;
        }
        let value = if below.iter().any(|rest| rest.is_empty()) {
            entry.value.clone()
        } else {
            keep_paths(&entry.value, &below)
        };
        kept.push(Entry {
            key: entry.key.clone(),
            value,
        });
    }
    kept.shrink_to_fit();
    Node::new(Value::Map(Arc::from(kept)), node.span)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn rules_that_read_the_whole_run_propose_no_fixes() {
        // Their findings are made after the files' texts may have been dropped.
        for rule in RULES.iter().filter(|r| r.scope() == Scope::Run) {
            assert!(
                rule.meta().fix.is_none(),
                "{} reads the whole run and cannot propose fixes",
                rule.meta().id
            );
        }
    }

    #[test]
    fn pruning_keeps_positions_and_what_the_run_rules_read() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      nodeSelector: {team: shop}\n      containers: [{name: app, image: x}]\n      tolerations: [{key: a, operator: Exists}]\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: team, operator: In, values: [shop]}]}]}\n          preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {}}]\n";
        let source = SourceFile::new("d.yaml", text);
        let loaded = source::load(0, &source, &source::Limits::default());
        let doc = loaded.documents.into_iter().next().unwrap();
        let before = doc
            .root
            .path(&["spec", "template", "spec", "tolerations"])
            .cloned();
        let kept = keep_for_run(doc).unwrap();
        let spec = kept.root.path(&["spec", "template", "spec"]);
        assert!(spec.and_then(|s| s.get("containers")).is_none());
        assert_eq!(
            spec.and_then(|s| s.get("tolerations")).cloned(),
            before,
            "same values at the same spans"
        );
        assert_eq!(kept.name(), Some("web"));
        assert!(spec.and_then(|s| s.get("nodeSelector")).is_some());
        let node_affinity = spec.and_then(|s| s.path(&["affinity", "nodeAffinity"]));
        assert!(
            node_affinity
                .and_then(|a| a.get("requiredDuringSchedulingIgnoredDuringExecution"))
                .is_some()
        );
        assert!(
            node_affinity
                .and_then(|a| a.get("preferredDuringSchedulingIgnoredDuringExecution"))
                .is_none()
        );
    }

    #[test]
    fn kinds_no_run_rule_reads_are_not_kept() {
        let source = SourceFile::new(
            "c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
        );
        let loaded = source::load(0, &source, &source::Limits::default());
        assert!(
            loaded
                .documents
                .into_iter()
                .all(|d| keep_for_run(d).is_none())
        );
    }

    #[test]
    fn a_scalar_is_kept_as_it_is() {
        let node = Node::new(Value::Null, Span::new(3, 4));
        assert_eq!(keep_paths(&node, &[&["a"]]), node);
    }
}
