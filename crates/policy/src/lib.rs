//! eksgate's policy engine: Karpenter NodePools, EC2NodeClasses, EKS Auto Mode NodeClasses,
//! workload scheduling and AWS tags, checked against a platform policy.
//!
//! Pure: text in, a [`Report`] out. No file system, environment, clock or network, so the same
//! code runs in the CLI, in CI and in the browser (wasm32).
//!
//! ```
//! use eksgate_policy::{check, CheckOptions, Input, Policy, SourceFile};
//!
//! let policy = Policy::default_policy().unwrap();
//! let text = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec:\n  metadataOptions: {httpTokens: optional}\n";
//! let report = check(vec![Input::text("x.yaml", text)], &policy, &CheckOptions::default());
//! assert!(report.diagnostics.iter().any(|d| d.rule == "IMDS001"));
//! ```

pub mod catalogue;
pub mod cel;
pub mod diagnostic;
pub mod ffi;
pub mod generate;
pub mod migrate;
pub mod model;
pub mod node;
pub mod reader;
pub mod render;
pub mod rules;
pub mod schema;
pub mod select;
pub mod source;
mod suppress;
pub mod text;

pub use diagnostic::{
    CheckedObject, CustomRuleInfo, Diagnostic, Position, Report, Severity, Summary,
};
pub use model::policy::{Policy, PolicyError};
pub use source::{DecodeFault, Limits, SourceFile};

use rules::{Context, Findings, RULES};
use source::{Document, ParseNoteKind};

/// How a run behaves beyond the policy.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub limits: Limits,
    /// Schemas from CustomResourceDefinitions the user gave (`--crd`); they take precedence
    /// over the built-in schemas for the same `apiVersion` and kind.
    pub schemas: schema::SchemaSet,
}

/// One source handed to [`check`]: its text, or why its bytes could not be read as text.
#[derive(Clone, Debug)]
pub struct Input {
    pub source: SourceFile,
    pub fault: Option<DecodeFault>,
}

impl Input {
    /// A source that is already text.
    #[must_use]
    pub fn text(name: impl Into<String>, text: impl Into<std::sync::Arc<str>>) -> Self {
        Self {
            source: SourceFile::new(name, text),
            fault: None,
        }
    }

    /// A source from raw bytes: bytes that are not UTF-8 or too many become a `YAML001`
    /// finding (the text is kept, with replacement characters, for the code frame).
    #[must_use]
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>, limits: &Limits) -> Self {
        let name = name.into();
        if bytes.len() > limits.max_source_bytes {
            return Self::too_large(name, bytes.len(), limits);
        }
        match SourceFile::from_bytes(name.clone(), bytes, limits) {
            Ok(source) => Self {
                source,
                fault: None,
            },
            Err((fault, bytes)) => Self {
                source: SourceFile::new(name, String::from_utf8_lossy(&bytes).into_owned()),
                fault: Some(fault),
            },
        }
    }
}

impl Input {
    /// A source that was not read because it has `bytes` bytes, more than the limit allows.
    #[must_use]
    pub fn too_large(name: impl Into<String>, bytes: usize, limits: &Limits) -> Self {
        Self {
            fault: Some(DecodeFault::TooLarge {
                bytes,
                limit: limits.max_source_bytes,
            }),
            source: SourceFile::new(name, ""),
        }
    }
}

/// Kinds some rule reads; other documents are counted as skipped.
fn is_checked_kind(doc: &Document) -> bool {
    model::NodePool::from_document(doc).is_some()
        || model::NodeClass::from_document(doc).is_some()
        || model::Workload::from_document(doc).is_some()
        || matches!(
            (doc.api_version(), doc.kind()),
            (Some("karpenter.sh/v1alpha5"), Some("Provisioner"))
                | (Some("karpenter.k8s.aws/v1alpha1"), Some("AWSNodeTemplate"))
                | (
                    Some("karpenter.sh/v1beta1" | "karpenter.sh/v1"),
                    Some("NodeClaim")
                )
                | (Some(reader::API_VERSION), Some("ClusterRequest"))
        )
}

/// Reads every document of `inputs` and runs no rule: the cost of parsing alone, which the
/// benchmark compares a full check against. Returns the number of documents read.
#[must_use]
pub fn parse_only(inputs: &[Input], options: &CheckOptions) -> usize {
    inputs
        .iter()
        .filter(|i| i.fault.is_none())
        .enumerate()
        .map(|(index, input)| {
            source::load(index, &input.source, &options.limits)
                .documents
                .len()
        })
        .sum()
}

/// Checks every document of `inputs` against `policy`.
#[must_use]
pub fn check(inputs: Vec<Input>, policy: &Policy, options: &CheckOptions) -> Report {
    run(inputs, policy, options).0
}

/// Checks `inputs` as [`check`] does, and returns the apply order their Flux Kustomizations
/// and Argo CD Applications imply, with the ordering findings on it (`eksgate graph`).
#[must_use]
pub fn graph(
    inputs: Vec<Input>,
    policy: &Policy,
    options: &CheckOptions,
) -> (Report, model::repo::graph::Graph) {
    let (report, repository) = run(inputs, policy, options);
    let graph = model::repo::graph::Graph::new(&repository, &report.diagnostics);
    (report, graph)
}

fn run(
    inputs: Vec<Input>,
    policy: &Policy,
    options: &CheckOptions,
) -> (Report, model::repo::Repository) {
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
    let mut documents = Vec::new();
    let mut raw: Vec<Diagnostic> = Vec::new();
    // Per file, what the ordering rules need (owned: it outlives the file's trees).
    let mut facts: Vec<model::repo::FileFacts> = Vec::new();

    for (index, input) in inputs.into_iter().enumerate() {
        if let Some(fault) = &input.fault {
            let span = match fault {
                DecodeFault::InvalidUtf8 { offset, .. } => node::Span::empty(*offset as u32),
                DecodeFault::TooLarge { .. } => node::Span::empty(0),
            };
            raw.push(parse_diagnostic(
                &rules::parse::SourceUnparsable,
                index,
                0,
                span,
                fault.to_string(),
                Some("eksgate reads UTF-8 YAML or JSON files".to_string()),
            ));
            facts.push(model::repo::FileFacts::extract(
                index,
                &input.source.name,
                &[],
                None,
            ));
            report.files.push(input.source);
            continue;
        }
        let mut loaded = source::load(index, &input.source, &options.limits);
        facts.push(model::repo::FileFacts::extract(
            index,
            &input.source.name,
            &loaded.documents,
            loaded.terraform.take(),
        ));
        // Documents by their index in the file (items of a `List` share their list's index),
        // so locating a note costs a lookup, not a scan of the file's documents.
        let mut by_index: std::collections::HashMap<usize, Vec<&Document>> =
            std::collections::HashMap::new();
        for doc in &loaded.documents {
            by_index.entry(doc.index).or_default().push(doc);
        }
        for note in loaded.notes {
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
                ParseNoteKind::NotJson if doc.is_some_and(is_object) => {
                    &rules::parse::SourceUnparsable
                }
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
            raw.push(diagnostic);
        }
        documents.extend(loaded.documents);
        report.files.push(input.source);
    }

    let repository = model::repo::Repository::new(facts, &policy.crd_providers);
    let cx = Context::new(policy, &documents)
        .with_schemas(&options.schemas)
        .with_repository(&repository);
    let mut violations = Vec::new();
    for rule in RULES {
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
        rule.check(&cx, &mut findings);
        let overflow = findings.overflow();
        violations.extend(findings.violations);
        violations.extend(overflow);
    }

    let custom = rules::custom::evaluate(policy, &documents);
    let custom_ids = policy.rules.iter().map(|r| r.id.to_string()).collect();
    let mut suppressions = suppress::Suppressions::new(&report.files, &documents, custom_ids);
    raw.extend(suppressions.problems());
    for v in violations {
        if suppressions.suppresses(&v) {
            report.summary.suppressed += 1;
            continue;
        }
        raw.push(Diagnostic {
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
        });
    }

    // eksgate's own ClusterRequests: judged by the same policy through what they render.
    for doc in &documents {
        if doc.api_version() != Some(reader::API_VERSION) || doc.kind() != Some("ClusterRequest") {
            continue;
        }
        let Some(source) = report.files.get(doc.file) else {
            continue;
        };
        for d in generate::request_findings(doc, source, policy) {
            if suppressions.suppresses_at(&rules::Subject::of(doc), d.span, &d.rule) {
                report.summary.suppressed += 1;
                continue;
            }
            raw.push(d);
        }
    }

    for c in custom {
        if suppressions.suppresses_at(&rules::Subject::of(c.doc), c.span, &c.rule) {
            report.summary.suppressed += 1;
            continue;
        }
        raw.push(Diagnostic {
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
        });
    }

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
    // Unstable is deterministic here (no randomness) and needs no scratch copy of the findings.
    raw.sort_unstable_by(|a, b| {
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

    report.summary.files = report.files.len();
    report.summary.documents = documents.len();
    report.objects = documents
        .iter()
        .filter(|d| is_checked_kind(d) || cx.schema_for(d).is_some())
        .map(|d| CheckedObject {
            file: d.file,
            document: d.index,
            kind: d.kind().map(str::to_string),
            name: d.name().map(str::to_string),
        })
        .collect();
    report.summary.skipped_documents = documents.len() - report.objects.len();
    for d in &raw {
        match d.severity {
            Severity::Error => report.summary.errors += 1,
            Severity::Warning => report.summary.warnings += 1,
            Severity::Info => report.summary.infos += 1,
        }
    }
    report.diagnostics = raw;
    drop(cx);
    (report, repository)
}

fn parse_diagnostic(
    rule: &dyn rules::Rule,
    file: usize,
    document: usize,
    span: node::Span,
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
    }
}
