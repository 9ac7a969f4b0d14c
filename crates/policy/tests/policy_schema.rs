//! The policy's JSON Schema (for editors) and the policy reader agree.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    reason = "tests read repository files and fail loudly"
)]

use std::path::Path;

use eksgate_policy::rules::RULES;
use eksgate_policy::source::{Limits, load};
use eksgate_policy::{Policy, SourceFile};

fn repo(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&repo("policies/schemas/policy.schema.json")).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn as_json(name: &str, text: &str) -> serde_json::Value {
    let source = SourceFile::new(name, text);
    let loaded = load(0, &source, &Limits::default());
    loaded.documents.first().unwrap().root.to_json()
}

#[test]
fn default_policy_matches_its_schema() {
    let text = repo("policies/default.yaml");
    let instance = as_json("default.yaml", &text);
    let errors: Vec<String> = validator()
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    Policy::from_source(&SourceFile::new("default.yaml", text)).unwrap();
}

#[test]
fn schema_and_reader_reject_the_same_typos() {
    let text = "apiVersion: eksgate.dev/v1alpha1\nkind: Policy\nspec:\n  imds: {requireV3: true}\n";
    assert!(!validator().is_valid(&as_json("p.yaml", text)));
    assert!(Policy::from_source(&SourceFile::new("p.yaml", text)).is_err());
}

#[test]
fn schema_lists_every_rule_id() {
    let schema: serde_json::Value =
        serde_json::from_str(&repo("policies/schemas/policy.schema.json")).unwrap();
    let ids = schema
        .pointer("/properties/spec/properties/overrides/propertyNames/enum")
        .unwrap();
    let ids: Vec<&str> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let registry: Vec<&str> = RULES.iter().map(|r| r.meta().id).collect();
    assert_eq!(
        ids, registry,
        "policies/schemas/policy.schema.json rule IDs drifted from the registry"
    );
}

#[test]
fn overrides_regrade_and_disable_rules() {
    let mut text = repo("policies/default.yaml");
    text.push_str("  overrides:\n    IMDS001: {severity: warning}\n    TAG001: {enabled: false}\n");
    let policy = Policy::from_source(&SourceFile::new("p.yaml", text)).unwrap();
    let manifest = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: x}\nspec:\n  role: r\n  amiSelectorTerms: [{alias: al2023@latest}]\n  subnetSelectorTerms: [{id: subnet-1}]\n  securityGroupSelectorTerms: [{id: sg-1}]\n  metadataOptions: {httpTokens: optional}\n";
    let report = eksgate_policy::check(
        vec![eksgate_policy::Input::text("x.yaml", manifest)],
        &policy,
        &eksgate_policy::CheckOptions::default(),
    );
    let rules: Vec<(&str, eksgate_policy::Severity)> = report
        .diagnostics
        .iter()
        .map(|d| (d.rule.as_ref(), d.severity))
        .collect();
    assert_eq!(rules, vec![("IMDS001", eksgate_policy::Severity::Warning)]);
}

#[test]
fn an_override_of_an_unknown_rule_is_an_error_with_its_position() {
    let mut text = repo("policies/default.yaml");
    text.push_str("  overrides:\n    IMDS009: {severity: warning}\n");
    let lines = text.lines().count();
    let err = Policy::from_source(&SourceFile::new("p.yaml", text)).unwrap_err();
    assert_eq!((err.line, err.column), (lines, 5));
    assert!(err.message.contains("IMDS009"), "{}", err.message);
}
