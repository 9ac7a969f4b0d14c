//! A string-in, JSON-out API over the engine, for adapters that cross a language boundary
//! (the WASM build in `crates/wasm`, and anything else that speaks JSON).
//!
//! - [`check`]: manifests (YAML or JSON, several documents) and an optional policy file's
//!   text in; the report out as the JSON contract of `eksgate check --format json`
//!   (`{"version": 1, "diagnostics": [...], "summary": {...}}`), or, when the policy cannot be
//!   used, `{"version": 1, "error": {"file", "line", "column", "pointer", "message"}}`
//!   (`pointer`: the JSON pointer of the policy's node at fault).
//! - [`check_files`]: the same for several named files (the cross-document rules need the
//!   whole set), each given as text or as raw bytes (bytes that are not UTF-8 are a `YAML001`
//!   finding, as in the CLI). Named as the CLI names them, the report is byte for byte the
//!   CLI's.
//! - [`rules`]: every built-in rule as `[{"id", "name", "severity", "summary", "docs"}]`.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;

use crate::{CheckOptions, Input, Policy, SourceFile, render, rules as registry};

/// The name manifests are reported under.
pub const INPUT_NAME: &str = "input.yaml";
/// The name a policy's errors are reported under.
pub const POLICY_NAME: &str = "policy.yaml";

/// Checks `text` against `policy` (the text of a policy file; `None` = the default policy).
#[must_use]
pub fn check(text: &str, policy: Option<&str>) -> String {
    check_files(vec![File::text(INPUT_NAME, text)], policy)
}

/// One named file for [`check_files`]: its text, or its raw bytes as read from disk.
#[derive(Clone, Debug)]
pub struct File {
    pub name: String,
    pub content: Content,
}

/// What a [`File`] holds.
#[derive(Clone, Debug)]
pub enum Content {
    Text(String),
    /// Raw bytes: decoded as the CLI decodes a file (not UTF-8 = a `YAML001` finding).
    Bytes(Vec<u8>),
}

impl File {
    #[must_use]
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            content: Content::Text(text.into()),
        }
    }

    #[must_use]
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            content: Content::Bytes(bytes),
        }
    }
}

/// Checks the set of `files` together against `policy` (the text of a policy file; `None` =
/// the default policy), in the order given, with the CLI's default limits.
#[must_use]
pub fn check_files(files: Vec<File>, policy: Option<&str>) -> String {
    let options = CheckOptions::default();
    match parsed_policy(policy) {
        Ok(policy) => {
            let inputs = files
                .into_iter()
                .map(|f| match f.content {
                    Content::Text(text) if text.len() > options.limits.max_source_bytes => {
                        Input::too_large(f.name, text.len(), &options.limits)
                    }
                    Content::Text(text) => Input::text(f.name, text),
                    Content::Bytes(bytes) => Input::bytes(f.name, bytes, &options.limits),
                })
                .collect();
            render::json(&crate::check(inputs, &policy, &options))
        }
        Err(e) => {
            let value = json!({
                "version": 1,
                "error": {"file": e.file, "line": e.line, "column": e.column, "pointer": e.pointer, "message": e.message},
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
    }
}

/// A policy error as the request API shows it (`source: "policy"`).
fn policy_error(e: &crate::reader::ReadError) -> serde_json::Value {
    json!({"source": "policy", "line": e.line, "column": e.column, "pointer": e.pointer, "message": e.message})
}

/// The last policy text read and what it read to: a form sends the same policy with every
/// keystroke, so it is read once, not on every call (the cache holds one entry, per thread;
/// the WASM module has one).
type CachedPolicy = (Option<String>, Result<Rc<Policy>, crate::reader::ReadError>);

thread_local! {
    static LAST_POLICY: RefCell<Option<CachedPolicy>> = const { RefCell::new(None) };
}

/// `policy` (a policy file's text; `None` = the default policy) read, or why it cannot be used.
fn parsed_policy(policy: Option<&str>) -> Result<Rc<Policy>, crate::reader::ReadError> {
    LAST_POLICY.with(|cell| {
        let mut last = cell.borrow_mut();
        if let Some((text, read)) = last.as_ref()
            && text.as_deref() == policy
        {
            return read.clone();
        }
        let read = match policy {
            Some(p) => Policy::from_source(&SourceFile::new(POLICY_NAME, p)),
            None => Policy::default_policy(),
        }
        .map(Rc::new);
        *last = Some((policy.map(str::to_string), read.clone()));
        read
    })
}

/// The policy for a request call, pinned so that the check of the set a request renders is
/// done once for `validate_request` and `render_request` of the same text
/// ([`crate::generate::pin_policy`]).
fn read_policy(policy: Option<&str>) -> Result<Rc<Policy>, serde_json::Value> {
    let policy = parsed_policy(policy).map_err(|e| policy_error(&e))?;
    crate::generate::pin_policy(&policy);
    Ok(policy)
}

/// The findings of a report on the request, keyed by JSON pointer (sorted by position).
fn request_findings(report: &crate::Report) -> Vec<serde_json::Value> {
    let Some(file) = report.files.first() else {
        return Vec::new();
    };
    report
        .diagnostics
        .iter()
        .map(|d| {
            let (line, column) = file.line_col(d.span.start);
            let mut v = json!({
                "pointer": d.pointer,
                "rule": d.rule,
                "severity": d.severity.as_str(),
                "message": d.message,
                "line": line,
                "column": column,
            });
            if let (Some(help), Some(o)) = (&d.help, v.as_object_mut()) {
                o.insert("help".to_string(), json!(help));
            }
            v
        })
        .collect()
}

fn to_text(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// The request is not a `ClusterRequest` document at all.
fn not_a_request(source: &SourceFile) -> Option<serde_json::Value> {
    let loaded = crate::source::load(0, source, &crate::Limits::default());
    not_one_request(&loaded)
}

fn not_one_request(loaded: &crate::source::Loaded) -> Option<serde_json::Value> {
    let count = loaded
        .documents
        .iter()
        .filter(|d| d.kind() == Some("ClusterRequest"))
        .count();
    let has_syntax_error = loaded
        .notes
        .iter()
        .any(|n| n.kind == crate::source::ParseNoteKind::Syntax);
    (count != 1 && !has_syntax_error).then(|| {
        json!({"source": "request", "line": 0, "column": 0, "pointer": "", "message": if count == 0 {
            "no `kind: ClusterRequest` document in the request".to_string()
        } else {
            format!("{count} `kind: ClusterRequest` documents; give one")
        }})
    })
}

/// Checks a `ClusterRequest` (the form's text) with `policy`:
/// `{"findings": [{pointer, rule, severity, message, line, column, help?}], "errors": [...]}`
/// (see `crates/wasm/README.md`).
#[must_use]
pub fn validate_request(text: &str, policy: Option<&str>) -> String {
    let policy = match read_policy(policy) {
        Ok(p) => p,
        Err(e) => return to_text(&json!({"findings": [], "errors": [e]})),
    };
    let source = SourceFile::new(INPUT_NAME, text);
    let errors: Vec<serde_json::Value> = not_a_request(&source).into_iter().collect();
    let report = crate::check(
        vec![Input::text(INPUT_NAME, text)],
        &policy,
        &CheckOptions::default(),
    );
    to_text(&json!({"findings": request_findings(&report), "errors": errors}))
}

/// The form's quick check of a `ClusterRequest`, as the user types: the same JSON as
/// [`validate_request`], with the findings of the request's reader only (REQ001: the
/// request's schema, names that must be DNS labels, ARNs, limits) and YAML syntax errors, not
/// the policy's rules on the rendered set, which need a render ([`render_request`] gives
/// them). The policy's overrides of REQ001 apply; suppression comments are not read.
#[must_use]
pub fn validate_fields(text: &str, policy: Option<&str>) -> String {
    let policy = match read_policy(policy) {
        Ok(p) => p,
        Err(e) => return to_text(&json!({"findings": [], "errors": [e]})),
    };
    let source = SourceFile::new(INPUT_NAME, text);
    let loaded = crate::source::load(0, &source, &crate::Limits::default());
    let errors: Vec<serde_json::Value> = not_one_request(&loaded).into_iter().collect();
    let syntax = crate::rules::Describe::meta(&crate::rules::parse::SourceUnparsable);
    let syntax_errors = loaded
        .notes
        .iter()
        .filter(|n| n.kind == crate::source::ParseNoteKind::Syntax)
        .map(|n| crate::diagnostic::Diagnostic {
            rule: syntax.id.into(),
            rule_name: syntax.name.into(),
            severity: syntax.severity,
            message: n.message.clone(),
            help: n.help.clone(),
            file: 0,
            span: n.span,
            pointer: String::new(),
            document: n.document,
            kind: None,
            name: None,
            fix: None,
        });
    let mut findings: Vec<crate::diagnostic::Diagnostic> = loaded
        .documents
        .iter()
        .filter(|d| {
            d.api_version() == Some(crate::reader::API_VERSION)
                && d.kind() == Some("ClusterRequest")
        })
        .flat_map(|d| crate::generate::request_field_findings(d, &source))
        .chain(syntax_errors)
        .filter(|d| {
            policy
                .overrides
                .get(d.rule.as_ref())
                .and_then(|o| o.enabled)
                .unwrap_or(true)
        })
        .collect();
    for d in &mut findings {
        if let Some(severity) = policy
            .overrides
            .get(d.rule.as_ref())
            .and_then(|o| o.severity)
        {
            d.severity = severity;
        }
    }
    findings.sort_by_key(|d| d.span.start);
    let report = crate::Report {
        files: vec![source],
        diagnostics: findings,
        ..crate::Report::default()
    };
    to_text(&json!({"findings": request_findings(&report), "errors": errors}))
}

/// Renders a `ClusterRequest` with `policy`: `{"files": [{name, content}], "report": <the
/// JSON report of checking the rendered files>, "spend": {...}, "findings": [...],
/// "errors": [...]}`; `files` empty and `report`/`spend` null when it cannot be rendered.
#[must_use]
pub fn render_request(text: &str, policy: Option<&str>) -> String {
    let empty = |findings: Vec<serde_json::Value>, errors: Vec<serde_json::Value>| {
        to_text(
            &json!({"files": [], "report": null, "spend": null, "findings": findings, "errors": errors}),
        )
    };
    let policy = match read_policy(policy) {
        Ok(p) => p,
        Err(e) => return empty(Vec::new(), vec![e]),
    };
    let source = SourceFile::new(INPUT_NAME, text);
    if let Some(e) = not_a_request(&source) {
        return empty(Vec::new(), vec![e]);
    }
    match crate::generate::render_source(&source, &policy) {
        Err(crate::generate::RenderError::Findings(report)) => {
            empty(request_findings(&report), Vec::new())
        }
        Err(crate::generate::RenderError::NotARequest(e)) => empty(
            Vec::new(),
            vec![
                json!({"source": "request", "line": e.line, "column": e.column, "pointer": e.pointer, "message": e.message}),
            ],
        ),
        Ok(outcome) => {
            let report: serde_json::Value =
                serde_json::from_str(&render::json(&outcome.report)).unwrap_or_default();
            let files: Vec<serde_json::Value> = outcome
                .rendered
                .files
                .iter()
                .map(|f| json!({"name": f.name, "content": f.content}))
                .collect();
            to_text(&json!({
                "files": files,
                "report": report,
                "spend": outcome.rendered.spend,
                "findings": request_findings(&outcome.request_report),
                "errors": [],
            }))
        }
    }
}

/// Every built-in rule with its documentation.
#[must_use]
pub fn rules() -> String {
    let list: Vec<serde_json::Value> = registry::RULES
        .iter()
        .map(|rule| {
            let m = rule.meta();
            json!({
                "id": m.id,
                "name": m.name,
                "severity": m.severity.as_str(),
                "summary": m.summary(),
                "docs": m.docs(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    const POOL: &str = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements:\n        - {key: karpenter.sh/capacity-types, operator: Exists}\n";

    #[test]
    fn check_gives_the_json_contract() {
        let out: serde_json::Value = serde_json::from_str(&check(POOL, None)).unwrap();
        assert_eq!(out["version"], 1);
        let cel: Vec<&serde_json::Value> = out["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["rule"] == "CEL001")
            .collect();
        assert_eq!(cel.len(), 1);
        assert_eq!(cel[0]["line"], 9);
        assert_eq!(cel[0]["file"], INPUT_NAME);
    }

    #[test]
    fn custom_rules_and_policy_errors() {
        let policy = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n    - id: ACME001\n      expression: object.metadata.name != 'x'\n      message: do not call it x\n";
        let out: serde_json::Value = serde_json::from_str(&check(POOL, Some(policy))).unwrap();
        assert!(
            out["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["rule"] == "ACME001")
        );
        let bad = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n    - id: ACME001\n      expression: object.(\n      message: m\n";
        let out: serde_json::Value = serde_json::from_str(&check(POOL, Some(bad))).unwrap();
        assert_eq!(out["error"]["line"], 6);
        assert_eq!(out["error"]["file"], POLICY_NAME);
        assert_eq!(out["error"]["pointer"], "/spec/rules/0/expression");
    }

    #[test]
    fn check_files_sees_the_whole_set_and_decodes_bytes_like_the_cli() {
        let class =
            "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec: {}\n";
        let both: serde_json::Value = serde_json::from_str(&check_files(
            vec![
                File::text("pool.yaml", POOL),
                File::bytes("class.yaml", class.as_bytes().to_vec()),
            ],
            None,
        ))
        .unwrap();
        // Both files are read, under their own names, in one report.
        let files: std::collections::BTreeSet<&str> = both["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["file"].as_str())
            .collect();
        assert_eq!(files, ["class.yaml", "pool.yaml"].into_iter().collect());
        assert_eq!(both["summary"]["documents"], 2);
        assert_eq!(both["summary"]["files"], 2);
        let bad: serde_json::Value = serde_json::from_str(&check_files(
            vec![File::bytes("bad.yaml", b"a: \xff\n".to_vec())],
            None,
        ))
        .unwrap();
        assert_eq!(bad["diagnostics"][0]["rule"], "YAML001");
        assert_eq!(bad["diagnostics"][0]["file"], "bad.yaml");
    }

    #[test]
    fn requests_validate_and_render_through_json() {
        let good = crate::model::request::tests::GOOD;
        let out: serde_json::Value = serde_json::from_str(&validate_request(good, None)).unwrap();
        assert_eq!(out["findings"].as_array().unwrap().len(), 0, "{out}");
        let bad = good.replace("- name: web", "- name: Web");
        let out: serde_json::Value = serde_json::from_str(&validate_request(&bad, None)).unwrap();
        assert_eq!(out["findings"][0]["pointer"], "/spec/clientPools/0/name");
        assert_eq!(out["findings"][0]["rule"], "REQ001");
        assert_eq!(out["findings"][0]["line"], 12);
        let out: serde_json::Value = serde_json::from_str(&render_request(good, None)).unwrap();
        assert!(out["files"].as_array().unwrap().len() > 5);
        assert_eq!(out["report"]["summary"]["errors"], 0);
        assert!(out["spend"]["totalMonthlyCeilingUsd"].as_f64().unwrap() > 0.0);
        let out: serde_json::Value = serde_json::from_str(&render_request(&bad, None)).unwrap();
        assert!(out["files"].as_array().unwrap().is_empty());
        assert!(out["spend"].is_null());
        let out: serde_json::Value =
            serde_json::from_str(&render_request("kind: Other\n", None)).unwrap();
        assert_eq!(out["errors"][0]["source"], "request");
        let out: serde_json::Value =
            serde_json::from_str(&validate_request(good, Some("kind: Policy\n"))).unwrap();
        assert_eq!(out["errors"][0]["source"], "policy");
    }

    #[test]
    fn validate_fields_gives_the_readers_findings_without_a_render() {
        let good = crate::model::request::tests::GOOD;
        let out: serde_json::Value = serde_json::from_str(&validate_fields(good, None)).unwrap();
        assert_eq!(out["findings"].as_array().unwrap().len(), 0, "{out}");
        // A field the reader refuses: the same finding as validate_request's.
        let bad = good.replace("- name: web", "- name: Web");
        let quick: serde_json::Value = serde_json::from_str(&validate_fields(&bad, None)).unwrap();
        let full: serde_json::Value = serde_json::from_str(&validate_request(&bad, None)).unwrap();
        assert_eq!(quick["findings"][0], full["findings"][0]);
        assert_eq!(quick["findings"][0]["rule"], "REQ001");
        // What only the rendered set shows (a Spot-only infrastructure pool, SEP003) is the
        // verdict's, not the quick check's.
        let spot = good.replacen(
            "  infraPool:\n",
            "  infraPool:\n    capacityTypes: [spot]\n",
            1,
        );
        assert_ne!(spot, good);
        let full: serde_json::Value = serde_json::from_str(&validate_request(&spot, None)).unwrap();
        assert!(
            full["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "SEP003"),
            "{full}"
        );
        let quick: serde_json::Value = serde_json::from_str(&validate_fields(&spot, None)).unwrap();
        assert_eq!(quick["findings"].as_array().unwrap().len(), 0, "{quick}");
        // A policy's override of REQ001 applies, as in the verdict.
        let policy = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  overrides:\n    REQ001: {severity: warning}\n";
        let quick: serde_json::Value =
            serde_json::from_str(&validate_fields(&bad, Some(policy))).unwrap();
        assert_eq!(quick["findings"][0]["severity"], "warning", "{quick}");
        // Syntax errors and texts that are no request.
        let out: serde_json::Value =
            serde_json::from_str(&validate_fields("a: [\n", None)).unwrap();
        assert_eq!(out["findings"][0]["rule"], "YAML001", "{out}");
        let out: serde_json::Value =
            serde_json::from_str(&validate_fields("kind: Other\n", None)).unwrap();
        assert_eq!(out["errors"][0]["source"], "request");
        let out: serde_json::Value =
            serde_json::from_str(&validate_fields(good, Some("kind: Policy\n"))).unwrap();
        assert_eq!(out["errors"][0]["source"], "policy");
    }

    #[test]
    fn a_rendered_set_is_checked_once_per_pinned_policy_and_files() {
        let good = crate::model::request::tests::GOOD;
        let first = render_request(good, None);
        // The same request again (the check of its set remembered), and after another one.
        assert_eq!(render_request(good, None), first);
        let other = good.replacen("cpu: ", "cpu: 1", 1);
        assert_ne!(render_request(&other, None), first);
        assert_eq!(render_request(good, None), first);
        // Another policy is not answered from the default one's entry.
        let strict = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n    - id: ACME001\n      match: {kinds: [NodePool]}\n      expression: 'false'\n      message: no pools\n";
        let out: serde_json::Value =
            serde_json::from_str(&validate_request(good, Some(strict))).unwrap();
        let default: serde_json::Value =
            serde_json::from_str(&validate_request(good, None)).unwrap();
        assert!(
            out["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "ACME001"),
            "{out}"
        );
        assert!(
            !default["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "ACME001")
        );
    }

    #[test]
    fn the_cached_policy_follows_the_text_given() {
        let policy = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  rules:\n    - id: ACME001\n      expression: object.metadata.name != 'x'\n      message: do not call it x\n";
        let has = |out: String| out.contains("\"ACME001\"");
        assert!(has(check(POOL, Some(policy))));
        assert!(has(check(POOL, Some(policy))), "the same text, read once");
        assert!(!has(check(POOL, None)), "the default policy again");
        assert!(check(POOL, Some("kind: Policy\n")).contains("\"error\""));
        assert!(has(check(POOL, Some(policy))));
    }

    #[test]
    fn rules_lists_the_registry() {
        let out: serde_json::Value = serde_json::from_str(&rules()).unwrap();
        assert!(out.as_array().unwrap().iter().any(|r| r["id"] == "CEL001"));
    }
}
