//! The DeployPlan JSON Schema accepts what the parser accepts (the example plan) and refuses
//! what it refuses.

use std::path::Path;

use eksgate_policy::source::{Limits, SourceFile, load};

fn yaml_to_json(name: &str, text: &str) -> serde_json::Value {
    let loaded = load(0, &SourceFile::new(name, text), &Limits::default());
    loaded
        .documents
        .first()
        .map(|d| d.root.to_json())
        .expect("one document")
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_example_plan_is_valid_against_the_schema_and_the_parser() {
    let schema_text = include_str!("../../../policies/schemas/deploy-plan.schema.json");
    let schema: serde_json::Value = serde_json::from_str(schema_text).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let plan_text = include_str!("../../../examples/deploy/deploy.yaml");
    let plan = yaml_to_json("deploy.yaml", plan_text);
    let errors: Vec<String> = validator
        .iter_errors(&plan)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let parsed = eksgate_deploy::plan::DeployPlan::from_source(
        &SourceFile::new("deploy.yaml", plan_text),
        &root().join("examples/deploy"),
    );
    assert!(parsed.is_ok_and(|p| p.stages.len() == 5));

    for (bad, why) in [
        (
            plan_text.replace("eks-cluster-active", "eks-cluster-up"),
            "unknown gate",
        ),
        (plan_text.replace("varFiles", "varfiles"), "unknown field"),
        (
            plan_text.replace("timeout: 5m", "timeout: 5"),
            "duration without unit",
        ),
    ] {
        let value = yaml_to_json("deploy.yaml", &bad);
        assert!(
            !validator.is_valid(&value),
            "schema accepts a plan with an {why}"
        );
        let parsed = eksgate_deploy::plan::DeployPlan::from_source(
            &SourceFile::new("deploy.yaml", bad.as_str()),
            Path::new("."),
        );
        assert!(parsed.is_err(), "parser accepts a plan with an {why}");
    }
}
