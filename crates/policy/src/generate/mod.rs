//! `eksgate render`: a `ClusterRequest` in, the files of its cluster out (node classes,
//! NodePools, example workloads, `terraform.tfvars.json`, a DeployPlan), shaped by the policy.
//!
//! The request is judged by the policy's own rules: it is rendered, the rendered set is
//! checked, and each finding is carried back to the request field the rendered value came
//! from (every value of the tree remembers its field: [`tree::Y::From`]). So a Spot-only
//! infrastructure pool is SEP003 on `infraPool.capacityTypes`, a client id the policy's
//! pattern refuses is TAG002 on `billing.clientId`, a hop limit above the policy's is IMDS002
//! on `compliance.imdsHopLimit`, with no second copy of those rules. A request with no error
//! renders to a set with no error; a render that fails `eksgate check` is a bug.

mod deploy;
mod manifests;
pub mod tree;

use crate::diagnostic::{Diagnostic, Report, Severity};
use crate::model::request::ClusterRequest;
use crate::model::request::prices::{self, PriceTable, Spend};
use crate::node::Span;
use crate::reader::{self, Envelope};
use crate::source::{Document, SourceFile};
use crate::{CheckOptions, Input, Policy};

pub use deploy::{EXAMPLES_DIR, NODE_CLASSES_DIR, NODE_POOLS_DIR, PLAN_FILE, TFVARS_FILE};
use tree::Y;

use std::cell::RefCell;
use std::rc::Rc;

/// One rendered file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative path, `/`-separated (`nodepools/infra.yaml`).
    pub name: String,
    pub content: String,
}

/// What a request renders to.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The EKS cluster's name, `<clientName>-<environment>`.
    pub cluster: String,
    /// Sorted by name.
    pub files: Vec<RenderedFile>,
    pub spend: Spend,
    /// Per file (same order): where each marked value of its document came from.
    provenance: Vec<Provenance>,
}

#[derive(Clone, Debug)]
struct Provenance {
    /// The span the whole document comes from (its pool, or the request's `spec`).
    root: Span,
    /// `(pointer in the rendered document, span in the request)`.
    marks: Vec<(String, Span)>,
}

/// Renders a request that was read and checked.
#[must_use]
pub fn render(request: &Envelope<ClusterRequest>, policy: &Policy, table: &PriceTable) -> Rendered {
    let r = &request.spec;
    let shape = manifests::Shape::of(policy);
    let mut docs: Vec<(String, Y, Span)> = Vec::new();
    let yaml = |dir: &str, name: &str| format!("{dir}/{name}.yaml");
    let infra_span = r.infra_pool.span;
    docs.push((
        yaml(NODE_CLASSES_DIR, "infra"),
        manifests::node_class(r, &shape, "infra", Span::default(), true),
        infra_span,
    ));
    docs.push((
        yaml(NODE_POOLS_DIR, "infra"),
        manifests::infra_pool(r, &shape),
        infra_span,
    ));
    if let Some(workload) = manifests::infra_workload(policy, &shape) {
        docs.push((yaml(EXAMPLES_DIR, "infra-workload"), workload, infra_span));
    }
    for pool in r.client_pools.iter() {
        let name = pool.resource_name(&r.client_name);
        docs.push((
            yaml(NODE_CLASSES_DIR, &name),
            manifests::node_class(r, &shape, &name, pool.name.span, false),
            pool.span,
        ));
        docs.push((
            yaml(NODE_POOLS_DIR, &name),
            manifests::client_pool(r, &shape, pool),
            pool.span,
        ));
        docs.push((
            yaml(EXAMPLES_DIR, &format!("{name}-workload")),
            manifests::client_workload(r, &shape, pool),
            pool.span,
        ));
    }
    let spec_span = request.span;
    docs.push((PLAN_FILE.to_string(), deploy::plan(r), spec_span));
    let mut files: Vec<(RenderedFile, Provenance)> = docs
        .into_iter()
        .map(|(name, doc, root)| {
            let content = format!(
                "# Rendered by `eksgate render` from ClusterRequest `{}`; edit the request, not this file.\n{}",
                r.cluster_name(),
                tree::yaml(&doc)
            );
            (
                RenderedFile { name, content },
                Provenance {
                    root,
                    marks: tree::provenance(&doc),
                },
            )
        })
        .collect();
    let vars = deploy::tfvars(r);
    files.push((
        RenderedFile {
            name: TFVARS_FILE.to_string(),
            content: tree::json(&vars),
        },
        Provenance {
            root: spec_span,
            marks: tree::provenance(&vars),
        },
    ));
    files.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let (files, provenance) = files.into_iter().unzip();
    Rendered {
        cluster: r.cluster_name(),
        files,
        spend: prices::spend(r, table),
        provenance,
    }
}

impl Rendered {
    /// The rendered files as inputs of a check.
    #[must_use]
    pub fn inputs(&self) -> Vec<Input> {
        self.files
            .iter()
            .map(|f| Input::text(f.name.clone(), f.content.clone()))
            .collect()
    }

    /// The span of the request that the finding `d` (of a check of [`Rendered::inputs`]) is
    /// about: the deepest marked value that contains it, else its document's.
    fn origin(&self, d: &Diagnostic) -> Span {
        let Some(p) = self.provenance.get(d.file) else {
            return Span::default();
        };
        let within = |prefix: &str| {
            d.pointer == prefix
                || d.pointer
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        p.marks
            .iter()
            .filter(|(pointer, _)| within(pointer))
            .max_by_key(|(pointer, _)| pointer.len())
            .map_or(p.root, |(_, span)| *span)
    }
}

/// The request's fields in messages: what to change for a finding of this rule.
fn request_help(rule: &str, policy: &Policy) -> Option<String> {
    Some(match rule {
        "SEP003" => "list only the capacity types the policy allows in the pool's `capacityTypes`"
            .to_string(),
        "TAG001" => {
            "add the missing tags under `billing.tags` (or `infraPool.billing`)".to_string()
        }
        "TAG002" => "change the value to one the policy's pool class allows".to_string(),
        "IMDS002" => format!(
            "set `compliance.imdsHopLimit` to at most `{}`",
            policy.imds.max_hop_limit
        ),
        "ENC002" => "set `compliance.kmsKeyArn` to a customer-managed KMS key".to_string(),
        "KARP001" => "allow more `instanceCategories` or `instanceGenerations`".to_string(),
        _ => return None,
    })
}

/// Rules whose findings refuse a request although they only warn on hand-written manifests.
///
/// SEP003 warns on a NodePool in the repository (a pool being moved to on-demand still runs),
/// but a request asks for its infrastructure pool's capacity types by name: one the policy's
/// pool class forbids (a Spot-only infrastructure pool) is refused, so that a render is
/// compliant by construction. A policy that sets the rule's severity itself
/// (`spec.overrides.SEP003.severity`) is followed as it says.
const REFUSED_ON_REQUESTS: &[&str] = &["SEP003"];

/// The severity a finding carried back to a request gets: an error for the rules of
/// [`REFUSED_ON_REQUESTS`] unless the policy sets their severity, else the rule's.
fn request_severity(rule: &str, severity: Severity, policy: &Policy) -> Severity {
    let set_by_policy = policy
        .override_of(rule)
        .is_some_and(|o| o.severity.is_some());
    if REFUSED_ON_REQUESTS.contains(&rule) && !set_by_policy {
        Severity::Error
    } else {
        severity
    }
}

/// What the reader says of one `ClusterRequest` document: the request when it could be read
/// (errors or not), the reader's errors, and those errors as REQ001 findings.
fn read_request(
    doc: &Document,
    source: &SourceFile,
) -> (
    Option<Envelope<ClusterRequest>>,
    Vec<reader::ReadError>,
    Vec<Diagnostic>,
) {
    let meta =
        crate::rules::Describe::meta(&crate::rules::request::request_invalid::RequestInvalid);
    let read = reader::read_node_checked::<ClusterRequest>(&doc.root, source);
    let (request, errors) = match read {
        Ok((request, errors)) => (Some(request), errors),
        Err(e) => (None, vec![e]),
    };
    let out = errors
        .iter()
        .map(|e| Diagnostic {
            rule: meta.id.into(),
            rule_name: meta.name.into(),
            severity: meta.severity,
            message: e.message.clone(),
            help: Some("see `policies/schemas/cluster-request.schema.json`".to_string()),
            file: doc.file,
            span: e.span,
            pointer: if e.pointer.is_empty() {
                String::new()
            } else {
                format!("{}{}", doc.pointer_prefix, e.pointer)
            },
            document: doc.index,
            kind: doc.kind().map(str::to_string),
            name: doc.name().map(str::to_string),
            fix: None,
        })
        .collect();
    (request, errors, out)
}

/// The reader's findings (REQ001: the request's schema, DNS labels, ARNs and the like) on one
/// `ClusterRequest` document, without rendering it: the part of [`request_findings`] that
/// needs neither the policy nor the rendered set, for a form's field-by-field feedback.
#[must_use]
pub fn request_field_findings(doc: &Document, source: &SourceFile) -> Vec<Diagnostic> {
    read_request(doc, source).2
}

/// The findings of the policy on one `ClusterRequest` document: the reader's (REQ001), or
/// those of the rendered set, carried back to the request's lines.
#[must_use]
pub fn request_findings(doc: &Document, source: &SourceFile, policy: &Policy) -> Vec<Diagnostic> {
    let (request, errors, mut out) = read_request(doc, source);
    let Some(request) = request else {
        return out;
    };
    // A field the checks refused is reported once, by REQ001; the rules judge the rest.
    let refused = |span: Span| {
        errors
            .iter()
            .any(|e| e.span.start <= span.start && span.end <= e.span.end.max(e.span.start + 1))
    };
    let finding = |span: Span, message: String| {
        let meta =
            crate::rules::Describe::meta(&crate::rules::request::request_invalid::RequestInvalid);
        Diagnostic {
            rule: meta.id.into(),
            rule_name: meta.name.into(),
            severity: meta.severity,
            message,
            help: None,
            file: doc.file,
            span,
            pointer: String::new(),
            document: doc.index,
            kind: doc.kind().map(str::to_string),
            name: doc.name().map(str::to_string),
            fix: None,
        }
    };
    let table = match PriceTable::shipped() {
        Ok(t) => t,
        Err(e) => {
            out.push(finding(doc.root.span, e));
            return out;
        }
    };
    let rendered = render(&request, policy, &table);
    let report = check_rendered(&rendered, policy);
    for d in &report.diagnostics {
        let mut span = rendered.origin(d);
        if span == Span::default() {
            span = request.span;
        }
        if refused(span) {
            continue;
        }
        let inner = doc.root.pointer_to_span(span).unwrap_or_default();
        let file = rendered.files.get(d.file).map_or("", |f| f.name.as_str());
        let what = match (&d.kind, &d.name) {
            (Some(kind), Some(name)) => format!("{kind} `{name}` ({file})"),
            _ => format!("`{file}`"),
        };
        let help = request_help(&d.rule, policy);
        let detail = d
            .help
            .as_ref()
            .map(|h| format!("; in the rendered {what}: {h}"))
            .unwrap_or_else(|| format!(" (in the rendered {what})"));
        out.push(Diagnostic {
            rule: d.rule.clone(),
            rule_name: d.rule_name.clone(),
            severity: request_severity(&d.rule, d.severity, policy),
            message: d.message.clone(),
            help: Some(match help {
                Some(h) => format!("{h}{detail}"),
                None => format!("the request renders a set that fails `{}`{detail}", d.rule),
            }),
            file: doc.file,
            span,
            pointer: format!("{}{inner}", doc.pointer_prefix),
            document: doc.index,
            kind: doc.kind().map(str::to_string),
            name: doc.name().map(str::to_string),
            // A fix would edit the rendered file, not the request.
            fix: None,
        });
    }
    out
}

/// The last check of a rendered set under a policy a caller pinned with [`pin_policy`].
struct LastCheck {
    /// Held so that no other policy can live at its address while the entry does.
    policy: Rc<Policy>,
    files: Vec<RenderedFile>,
    report: Option<Report>,
}

thread_local! {
    static LAST_CHECK: RefCell<Option<LastCheck>> = const { RefCell::new(None) };
}

/// Remembers the check of the last rendered set under `policy` (per thread, one entry): a
/// request is rendered and its set checked to judge the request, and again to render it
/// (`render_source` checks the request first), and a form sends the same request to both
/// `validateRequest` and `render`; the same files under the same policy are checked once.
/// Only a policy pinned here is remembered (by identity, which the `Rc` keeps unique); a
/// different one replaces the entry.
pub fn pin_policy(policy: &Rc<Policy>) {
    LAST_CHECK.with(|cell| {
        let mut last = cell.borrow_mut();
        if !last.as_ref().is_some_and(|l| Rc::ptr_eq(&l.policy, policy)) {
            *last = Some(LastCheck {
                policy: Rc::clone(policy),
                files: Vec::new(),
                report: None,
            });
        }
    });
}

/// `eksgate check` of the rendered files with `policy`, remembered as [`pin_policy`] says.
fn check_rendered(rendered: &Rendered, policy: &Policy) -> Report {
    let pinned = LAST_CHECK.with(|cell| {
        let last = cell.borrow();
        let last = last.as_ref()?;
        if !std::ptr::eq(Rc::as_ptr(&last.policy), policy) {
            return None;
        }
        Some(
            last.report
                .as_ref()
                .filter(|_| last.files == rendered.files)
                .cloned(),
        )
    });
    match pinned {
        Some(Some(report)) => report,
        Some(None) => {
            let report = crate::check(rendered.inputs(), policy, &CheckOptions::default());
            LAST_CHECK.with(|cell| {
                if let Some(last) = cell.borrow_mut().as_mut()
                    && std::ptr::eq(Rc::as_ptr(&last.policy), policy)
                {
                    last.files.clone_from(&rendered.files);
                    last.report = Some(report.clone());
                }
            });
            report
        }
        None => crate::check(rendered.inputs(), policy, &CheckOptions::default()),
    }
}

/// Why a request could not be rendered.
#[derive(Clone, Debug)]
pub enum RenderError {
    /// The request has findings at error severity (the report of checking it).
    Findings(Box<Report>),
    /// The file holds no `ClusterRequest`, or more than one.
    NotARequest(reader::ReadError),
}

/// A render and the check of what it rendered.
#[derive(Clone, Debug)]
pub struct RenderOutcome {
    /// The check of the request itself (warnings included).
    pub request_report: Report,
    pub rendered: Rendered,
    /// The check of the rendered files with the same policy.
    pub report: Report,
}

/// Checks the request in `source` with `policy` and, when it has no error, renders it and
/// checks the rendered files.
///
/// # Errors
/// [`RenderError`] when the request cannot be rendered.
pub fn render_source(source: &SourceFile, policy: &Policy) -> Result<RenderOutcome, RenderError> {
    let request_report = crate::check(
        vec![Input {
            source: source.clone(),
            fault: None,
        }],
        policy,
        &CheckOptions::default(),
    );
    if request_report
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        return Err(RenderError::Findings(Box::new(request_report)));
    }
    let request =
        reader::read_document::<ClusterRequest>(source).map_err(RenderError::NotARequest)?;
    let table = PriceTable::shipped().map_err(|e| {
        RenderError::NotARequest(reader::ReadError::at(
            source,
            Span::default(),
            String::new(),
            e,
        ))
    })?;
    let rendered = render(&request, policy, &table);
    let report = check_rendered(&rendered, policy);
    Ok(RenderOutcome {
        request_report,
        rendered,
        report,
    })
}

#[cfg(test)]
mod tests;
