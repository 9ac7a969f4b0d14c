#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use super::*;
use crate::model::request::tests::GOOD;

fn outcome(text: &str) -> Result<RenderOutcome, RenderError> {
    render_source(
        &SourceFile::new("r.yaml", text),
        &Policy::default_policy().unwrap(),
    )
}

fn request_rules(text: &str) -> Vec<(String, usize, String)> {
    let policy = Policy::default_policy().unwrap();
    let report = crate::check(
        vec![Input::text("r.yaml", text)],
        &policy,
        &CheckOptions::default(),
    );
    report
        .diagnostics
        .iter()
        .map(|d| {
            let (line, _) = report.files[0].line_col(d.span.start);
            (d.rule.to_string(), line, d.pointer.clone())
        })
        .collect()
}

#[test]
fn a_good_request_renders_a_clean_set() {
    let out = outcome(GOOD).unwrap();
    let names: Vec<&str> = out.rendered.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "deploy.yaml",
            "examples/acme-web-workload.yaml",
            "examples/infra-workload.yaml",
            "nodeclasses/acme-web.yaml",
            "nodeclasses/infra.yaml",
            "nodepools/acme-web.yaml",
            "nodepools/infra.yaml",
            "terraform.tfvars.json"
        ]
    );
    let shown: Vec<String> = out
        .report
        .diagnostics
        .iter()
        .map(|d| format!("{} {} {}", d.rule, out.report.files[d.file].name, d.message))
        .collect();
    assert!(out.report.diagnostics.is_empty(), "{shown:#?}");
    assert!(out.request_report.diagnostics.is_empty());
    // Deterministic.
    let again = outcome(GOOD).unwrap();
    assert_eq!(out.rendered.files, again.rendered.files);
}

#[test]
fn policy_findings_land_on_the_request_fields() {
    let spot = GOOD.replace(
        "    limits: {cpu: 32, memory: 128Gi}\n",
        "    capacityTypes: [spot]\n    limits: {cpu: 32, memory: 128Gi}\n",
    );
    let found = request_rules(&spot);
    assert!(
        found.contains(&(
            "SEP003".to_string(),
            10,
            "/spec/infraPool/capacityTypes/0".to_string()
        )),
        "{found:?}"
    );
    // A Spot-only infrastructure pool is refused (SEP003 at error on the request), with the
    // policy's message; the same rule only warns on a hand-written pool.
    let policy = Policy::default_policy().unwrap();
    let report = crate::check(
        vec![Input::text("r.yaml", spot.as_str())],
        &policy,
        &CheckOptions::default(),
    );
    let sep = report
        .diagnostics
        .iter()
        .find(|d| d.rule == "SEP003")
        .unwrap();
    assert_eq!(sep.severity, Severity::Error);
    assert!(
        sep.message.contains("the policy allows only `on-demand`"),
        "{}",
        sep.message
    );
    assert!(matches!(outcome(&spot), Err(RenderError::Findings(_))));
    // A policy that sets SEP003's severity is followed.
    let lenient = Policy::from_source(&SourceFile::new(
        "p.yaml",
        format!(
            "{}  overrides:\n    SEP003: {{severity: warning}}\n",
            crate::model::policy::DEFAULT_POLICY_YAML
        ),
    ))
    .unwrap();
    let out = render_source(&SourceFile::new("r.yaml", spot.as_str()), &lenient);
    assert!(out.is_ok(), "a policy that keeps SEP003 a warning renders");
    let id = GOOD.replace("clientId: acme", "clientId: Acme Corp");
    let found = request_rules(&id);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "TAG002" && f.2 == "/spec/billing/clientId"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .all(|f| f.2.starts_with("/spec/billing/clientId")),
        "{found:?}"
    );
    let hop = GOOD.replace("  billing:", "  compliance: {imdsHopLimit: 2}\n  billing:");
    let found = request_rules(&hop);
    assert_eq!(
        found,
        [(
            "IMDS002".to_string(),
            16,
            "/spec/compliance/imdsHopLimit".to_string()
        )]
    );
    assert!(outcome(&hop).is_ok(), "a warning does not stop a render");
    assert!(matches!(outcome(&id), Err(RenderError::Findings(_))));
}
