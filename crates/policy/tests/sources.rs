//! Sources: every shape of input keeps exact positions and JSON pointers.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use eksgate_policy::{CheckOptions, Diagnostic, Input, Policy, Report, check};

fn run(name: &str, text: &str) -> Report {
    check(
        vec![Input::text(name, text)],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    )
}

fn only<'a>(report: &'a Report, rule: &str) -> &'a Diagnostic {
    let hits: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == rule)
        .collect();
    assert_eq!(hits.len(), 1, "{:#?}", report.diagnostics);
    hits[0]
}

/// The text a finding underlines.
fn underlined<'a>(report: &'a Report, d: &Diagnostic) -> &'a str {
    report.files[d.file].slice(d.span)
}

const NODE_CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: infra\nspec:\n  metadataOptions:\n    httpTokens: optional\n  tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}\n  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n";

#[test]
fn yaml_positions_and_pointer() {
    let report = run("a.yaml", NODE_CLASS);
    let d = only(&report, "IMDS001");
    let p = report.position(d);
    assert_eq!((p.line, p.column, p.end_line, p.end_column), (7, 17, 7, 25));
    assert_eq!(d.pointer, "/spec/metadataOptions/httpTokens");
    assert_eq!(underlined(&report, d), "optional");
    assert_eq!(d.kind.as_deref(), Some("EC2NodeClass"));
    assert_eq!(d.name.as_deref(), Some("infra"));
}

#[test]
fn crlf_and_bom_keep_positions() {
    let lf = run("a.yaml", NODE_CLASS);
    let crlf_text = format!("\u{feff}{}", NODE_CLASS.replace('\n', "\r\n"));
    let crlf = run("a.yaml", &crlf_text);
    let (a, b) = (only(&lf, "IMDS001"), only(&crlf, "IMDS001"));
    assert_eq!(lf.position(a), crlf.position(b));
    assert_eq!(underlined(&crlf, b), "optional");
}

#[test]
fn multibyte_text_before_a_finding_counts_characters() {
    let text = NODE_CLASS.replace("name: infra", "name: infra # ünïcödé π");
    let text = text.replace(
        "    httpTokens: optional",
        "    # “smart quotes” ☃\n    httpTokens: optional",
    );
    let report = run("a.yaml", &text);
    let d = only(&report, "IMDS001");
    assert_eq!(underlined(&report, d), "optional");
    assert_eq!(report.position(d).column, 17);
}

#[test]
fn later_documents_and_list_items_have_their_index_and_pointer() {
    let list = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\n---\napiVersion: v1\nkind: List\nitems:\n- {}",
        NODE_CLASS.replace('\n', "\n  ")
    );
    let report = run("list.yaml", &list);
    let d = only(&report, "IMDS001");
    assert_eq!(d.document, 1);
    assert_eq!(d.pointer, "/items/0/spec/metadataOptions/httpTokens");
    assert_eq!(underlined(&report, d), "optional");
    assert_eq!(report.summary.documents, 2);
    assert_eq!(report.summary.skipped_documents, 1);
}

#[test]
fn json_manifest() {
    let json = r#"{"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
 "metadata": {"name": "infra"},
 "spec": {"metadataOptions": {"httpTokens": "optional"},
          "tags": {"cost-center": "shared-services", "billing-team": "platform", "workload-type": "infrastructure"}}}"#;
    let report = run("a.json", json);
    let d = only(&report, "IMDS001");
    assert_eq!(underlined(&report, d), "\"optional\"");
    assert_eq!(report.position(d).line, 3);
}

#[test]
fn terraform_plan_manifests_point_into_the_plan() {
    let body = NODE_CLASS.replace('\n', "\\n");
    let plan = format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.0","planned_values":{{"root_module":{{"child_modules":[{{"resources":[
{{"address":"module.k.kubectl_manifest.nc","type":"kubectl_manifest","values":{{"yaml_body":"{body}"}}}},
{{"address":"module.k.kubernetes_manifest.np","type":"kubernetes_manifest","values":{{"manifest":{{"apiVersion":"karpenter.sh/v1","kind":"NodePool","metadata":{{"name":"infra"}},"spec":{{"template":{{"metadata":{{"labels":{{"node-type":"infrastructure"}}}},"spec":{{"nodeClassRef":{{"group":"karpenter.k8s.aws","kind":"EC2NodeClass","name":"infra"}},"requirements":[]}}}}}}}}}}}}
]}}]}}}}}}"#
    );
    let report = run("plan.json", &plan);
    let imds = only(&report, "IMDS001");
    assert_eq!(underlined(&report, imds), "optional");
    assert_eq!(report.position(imds).line, 2);
    assert_eq!(
        imds.pointer,
        "/planned_values/root_module/child_modules/0/resources/0/values/yaml_body/spec/metadataOptions/httpTokens"
    );
    let sep = only(&report, "SEP001");
    assert_eq!(report.position(sep).line, 3);
    assert!(sep.pointer.starts_with(
        "/planned_values/root_module/child_modules/0/resources/1/values/manifest/spec"
    ));
}

#[test]
fn merge_keys_and_anchors_are_resolved_like_kubernetes() {
    let text = "x-tags: &tags {cost-center: shared-services, billing-team: platform}\n---\napiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: infra}\nspec:\n  tags:\n    <<: {cost-center: shared-services, billing-team: platform}\n    workload-type: infrastructure\n";
    let report = run("a.yaml", text);
    assert!(
        report.diagnostics.iter().all(|d| d.rule != "TAG001"),
        "{:#?}",
        report.diagnostics
    );
}

#[test]
fn suppressed_findings_are_counted() {
    let text = NODE_CLASS.replace(
        "httpTokens: optional",
        "httpTokens: optional # eksgate:ignore IMDS001 legacy agent",
    );
    let report = run("a.yaml", &text);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    assert_eq!(report.summary.suppressed, 1);
}

#[test]
fn crd_sources_give_one_schema_per_served_version() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object, properties: {spec: {type: object}}}\n    - name: v0\n      served: false\n      storage: false\n      schema:\n        openAPIV3Schema: {type: object}\n";
    let set =
        eksgate_policy::schema::SchemaSet::from_crd_sources(&[eksgate_policy::SourceFile::new(
            "crd.yaml", crd,
        )])
        .unwrap();
    assert_eq!(set.kinds.len(), 1);
    let schema = set.find("example.com/v1", "Widget").unwrap();
    assert_eq!(schema.openapi["properties"]["spec"]["type"], "object");
    assert!(set.find("example.com/v0", "Widget").is_none());
    let broken = crd.replace("  group: example.com\n", "");
    let err =
        eksgate_policy::schema::SchemaSet::from_crd_sources(&[eksgate_policy::SourceFile::new(
            "crd.yaml", broken,
        )])
        .unwrap_err();
    assert!(err.message.contains("spec.group"), "{err}");
}

/// Issue 8: one numeric model, as Kubernetes decodes it (the JSON round trip makes `2.0` the
/// integer 2), for every rule.
#[test]
fn integers_written_as_floats_are_integers() {
    for hop in ["2.0", "2e0", "20e-1"] {
        let text = NODE_CLASS.replace(
            "    httpTokens: optional\n",
            &format!("    httpTokens: required\n    httpPutResponseHopLimit: {hop}\n"),
        );
        let report = run("hop.yaml", &text);
        let d = only(&report, "IMDS002");
        assert_eq!(underlined(&report, d), hop);
    }
}

/// Issue 8: a plan converted to YAML is read (not skipped), its findings inside `yaml_body`.
#[test]
fn a_terraform_plan_in_yaml_form_is_read() {
    let body = NODE_CLASS.replace('\n', "\n        ");
    let text = format!(
        "format_version: \"1.2\"\nplanned_values:\n  root_module:\n    resources:\n      - address: kubectl_manifest.infra\n        type: kubectl_manifest\n        values:\n          yaml_body: |\n            {}\n",
        NODE_CLASS.replace('\n', "\n            ")
    );
    let _ = body;
    let report = run("plan.yaml", &text);
    let d = only(&report, "IMDS001");
    assert_eq!(underlined(&report, d), "optional");
}

/// Issue 8: a `yaml_body` whose escapes are not the plain JSON set still maps into the file.
#[test]
fn a_yaml_body_with_a_surrogate_pair_maps_positions() {
    let body = NODE_CLASS.replace("name: infra", "name: infra # \\ud83d\\ude00");
    let literal = serde_json::to_string(&body)
        .unwrap()
        .replace("\\\\ud83d\\\\ude00", "\\ud83d\\ude00");
    let plan = format!(
        "{{\"format_version\":\"1.2\",\"planned_values\":{{\"root_module\":{{\"resources\":[{{\"address\":\"kubectl_manifest.x\",\"type\":\"kubectl_manifest\",\"values\":{{\"yaml_body\":{literal}}}}}]}}}}}}"
    );
    let report = run("plan.json", &plan);
    let d = only(&report, "IMDS001");
    assert_eq!(underlined(&report, d), "optional");
}

/// Issue 8: positions of invalid UTF-8 count CR-only line breaks like every other position.
#[test]
fn invalid_utf8_in_a_cr_only_file_is_located() {
    let mut bytes = b"apiVersion: v1\rkind: ConfigMap\rdata:\r  a: x".to_vec();
    bytes.push(0xff);
    let report = check(
        vec![Input::bytes(
            "cr.yaml",
            bytes,
            &eksgate_policy::Limits::default(),
        )],
        &Policy::default_policy().unwrap(),
        &CheckOptions::default(),
    );
    let d = only(&report, "YAML001");
    let p = report.position(d);
    assert_eq!((p.line, p.column), (4, 7), "{}", d.message);
    assert!(d.message.contains("line 4, column 7"), "{}", d.message);
}

/// Issue 8: a key repeated through an alias is reported at the alias.
#[test]
fn a_duplicate_key_through_an_alias_points_at_the_alias() {
    let text =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: &n name}\ndata:\n  name: a\n  *n : b\n";
    let report = run("alias.yaml", text);
    let d = only(&report, "YAML003");
    assert_eq!(underlined(&report, d), "*n");
}

/// Issue 8: a complex key is named for what it is, not as "duplicate key ``".
#[test]
fn complex_keys_are_explained() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  ? [a, b]\n  : c\n  ? [d]\n  : e\n";
    let report = run("complex.yaml", text);
    let hits: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "YAML001")
        .collect();
    assert_eq!(hits.len(), 2, "{:#?}", report.diagnostics);
    assert!(
        hits[0].message.contains("a list cannot be a mapping key"),
        "{}",
        hits[0].message
    );
    assert_eq!(underlined(&report, hits[0]), "[a, b]");
}

/// Issue 8: the depth limit message names the level where the parser stopped.
#[test]
fn the_depth_limit_is_reported_at_the_level_it_names() {
    // The root mapping is level 1, so 99 brackets make 100 levels: allowed.
    let text = "a: ".to_string() + &"[".repeat(99) + &"]".repeat(99);
    let report = run("deep.yaml", &text);
    assert!(
        report.diagnostics.iter().all(|d| d.rule != "YAML001"),
        "100 levels are allowed: {:#?}",
        report.diagnostics
    );
    let text = "a: ".to_string() + &"[".repeat(100) + &"]".repeat(100);
    let report = run("deep.yaml", &text);
    let d = only(&report, "YAML001");
    assert!(
        d.message.contains("deeper than 100 levels"),
        "{}",
        d.message
    );
    // Level 101 is the 100th bracket, at column 3 + 100.
    assert_eq!(report.position(d).column, 3 + 100);
}

/// Issue 8: one mistake repeated in one document gives 100 findings and a summary line, in
/// time linear in the number of mistakes.
#[test]
fn repeated_findings_are_capped_per_document() {
    let values = "on, ".repeat(5_000);
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  x: [{values}on]\n"
    );
    let report = run("many.yaml", &text);
    let hits: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "YAML002")
        .collect();
    assert_eq!(hits.len(), 101);
    assert!(
        hits.iter().any(|d| d.message.contains("4901 more")),
        "{:#?}",
        hits.last()
    );
}
