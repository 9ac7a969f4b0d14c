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

const NODE_CLASS: &str = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: infra\nspec:\n  metadataOptions:\n    httpTokens: optional\n  tags: {cost-center: shared-services, billing-team: platform, workload-type: infrastructure}\n  role: KarpenterNodeRole-demo\n";

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
