//! The ClusterRequest's JSON Schema (for editors and the form) and the request reader agree:
//! the example requests are valid for both, and what the reader's checks refuse (names that are
//! not DNS labels, malformed quantities, unknown fields) the schema refuses too.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    reason = "tests read repository files and fail loudly"
)]

use std::path::Path;

use eksgate_policy::SourceFile;
use eksgate_policy::model::request::ClusterRequest;
use eksgate_policy::reader::read_document;
use eksgate_policy::source::{Limits, load};

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("policies/schemas/cluster-request.schema.json"))
        .unwrap();
    jsonschema::draft7::new(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap()
}

fn as_json(text: &str) -> serde_json::Value {
    let source = SourceFile::new("r.yaml", text);
    load(0, &source, &Limits::default())
        .documents
        .first()
        .unwrap()
        .root
        .to_json()
}

#[test]
fn example_requests_match_the_schema_and_the_reader() {
    let validator = validator();
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("examples/requests")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&as_json(&text))
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        read_document::<ClusterRequest>(&SourceFile::new("r.yaml", text)).unwrap();
        seen += 1;
    }
    assert!(seen >= 2);
}

#[test]
fn schema_and_reader_refuse_the_same_mistakes() {
    let good = std::fs::read_to_string(root().join("examples/requests/globex-dev.yaml")).unwrap();
    let validator = validator();
    for (from, to) in [
        ("clientName: globex", "clientName: Globex_Inc"),
        ("memory: 64Gi", "memory: 64GB"),
        ("kubernetesVersion: \"1.32\"", "kubernetesVersion: 1.32"),
        ("environment: dev", "environment: development"),
        ("mode: auto-mode", "mode: fargate"),
        ("    - name: apps", "    - name: Apps"),
        ("team: development", "teem: development"),
        ("capacityTypes: [spot]", "capacityTypes: []"),
    ] {
        assert!(good.contains(from), "{from}");
        let text = good.replace(from, to);
        assert!(
            !validator.is_valid(&as_json(&text)),
            "schema accepts `{to}`"
        );
        assert!(
            read_document::<ClusterRequest>(&SourceFile::new("r.yaml", text)).is_err(),
            "reader accepts `{to}`"
        );
    }
}
