//! The built-in schemas (`crates/policy/schemas/*.json`) against the upstream CRDs they were
//! generated from (`../shared/crds`, beside the project): every field path, type, enum,
//! pattern, bound, default and required list must agree. The EKS Auto Mode NodeClass may differ
//! from its stale upstream schema by exactly the fields its `.additions.json` documents.
//!
//! When this fails after a Karpenter release, point `UPSTREAM` in `schemas/generate.py` at the
//! new CRDs and run `python3 crates/policy/schemas/generate.py`.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use eksgate_policy::SourceFile;
use eksgate_policy::source::{Limits, load};
use serde_json::{Map, Value};

/// Keywords that matter to validation: keep equal to KEPT in `schemas/generate.py`.
const KEPT: &[&str] = &[
    "type",
    "format",
    "enum",
    "pattern",
    "default",
    "nullable",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
];

/// Keywords that hold sub-schemas: not attributes of a path.
const CHILDREN: &[&str] = &[
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
];

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/crds")
}

fn builtin_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(schemas_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.ends_with(".json") && !name.ends_with(".additions.json")
        })
        .collect();
    files.sort();
    files
}

/// The upstream `openAPIV3Schema` of `version`, and whether it is a kubeconform-style JSON
/// Schema conversion (whose `additionalProperties: false` a CRD does not have).
fn upstream_schema(path: &Path, version: &str) -> (Value, bool) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the project?)", path.display()));
    if path.extension().is_some_and(|e| e == "json") {
        return (serde_json::from_str(&text).unwrap(), true);
    }
    let loaded = load(
        0,
        &SourceFile::new(path.display().to_string(), text),
        &Limits::default(),
    );
    for doc in &loaded.documents {
        let crd = doc.root.to_json();
        for v in crd["spec"]["versions"].as_array().unwrap() {
            if v["name"] == version {
                return (v["schema"]["openAPIV3Schema"].clone(), false);
            }
        }
    }
    panic!("{}: no version {version}", path.display());
}

/// The validation-relevant part of a schema (what `generate.py` keeps).
fn trim(schema: &Value, converted: bool) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if !KEPT.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), trim(v, converted)))
                    .collect(),
            ),
            "items" | "not" => trim(value, converted),
            "additionalProperties" => {
                if converted && *value == Value::Bool(false) {
                    continue;
                }
                trim(value, converted)
            }
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| trim(v, converted))
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// Every schema node by path (`spec.tags{}`, `spec.terms[]`, `spec.x.anyOf[0]`), with its
/// attributes (the keywords that are not sub-schemas).
fn flatten(schema: &Value, path: &str, out: &mut BTreeMap<String, Map<String, Value>>) {
    let Value::Object(map) = schema else {
        return;
    };
    let attributes: Map<String, Value> = map
        .iter()
        .filter(|(k, v)| {
            !CHILDREN.contains(&k.as_str())
                || (k.as_str() == "additionalProperties" && v.is_boolean())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.insert(path.to_string(), attributes);
    let join = |segment: &str| {
        if path.is_empty() {
            segment.to_string()
        } else {
            format!("{path}.{segment}")
        }
    };
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, sub) in props {
            flatten(sub, &join(name), out);
        }
    }
    if let Some(items) = map.get("items") {
        flatten(items, &format!("{path}[]"), out);
    }
    if let Some(additional @ Value::Object(_)) = map.get("additionalProperties") {
        flatten(additional, &format!("{path}{{}}"), out);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(parts)) = map.get(key) {
            for (i, part) in parts.iter().enumerate() {
                flatten(part, &join(&format!("{key}[{i}]")), out);
            }
        }
    }
    if let Some(not) = map.get("not") {
        flatten(not, &join("not"), out);
    }
}

/// Documented differences from upstream: added fields (path -> schema) and fields no longer
/// required (path -> names).
#[derive(Default)]
struct Additions {
    properties: BTreeMap<String, Value>,
    not_required: BTreeMap<String, BTreeSet<String>>,
}

fn additions_for(builtin: &Path) -> Additions {
    let file = builtin.with_extension("additions.json");
    let mut additions = Additions::default();
    let Ok(text) = std::fs::read_to_string(&file) else {
        return additions;
    };
    let doc: Value = serde_json::from_str(&text).unwrap();
    for field in doc["properties"].as_array().unwrap() {
        let path = format!(
            "{}.{}",
            field["path"].as_str().unwrap(),
            field["name"].as_str().unwrap()
        );
        assert!(
            field["added"].is_string(),
            "{path}: say when AWS added it (`added`)"
        );
        additions.properties.insert(path, field["schema"].clone());
    }
    for field in doc["notRequired"].as_array().unwrap() {
        assert!(field["why"].is_string(), "{field}: say why (`why`)");
        additions
            .not_required
            .entry(field["path"].as_str().unwrap().to_string())
            .or_default()
            .insert(field["name"].as_str().unwrap().to_string());
    }
    additions
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['.', '[', '{']))
}

#[test]
fn builtin_schemas_match_the_upstream_crds() {
    let mut problems = Vec::new();
    let files = builtin_files();
    assert_eq!(
        files.len(),
        3,
        "NodePool, EC2NodeClass, Auto Mode NodeClass"
    );
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let upstream_rel = doc["upstream"].as_str().unwrap();
        let version = doc["version"].as_str().unwrap();
        let (raw, converted) = upstream_schema(&crds_dir().join(upstream_rel), version);
        let mut upstream_schema = trim(&raw, converted);
        upstream_schema["properties"]
            .as_object_mut()
            .unwrap()
            .remove("status");

        let mut builtin = BTreeMap::new();
        flatten(&doc["openAPIV3Schema"], "", &mut builtin);
        let mut upstream = BTreeMap::new();
        flatten(&upstream_schema, "", &mut upstream);
        let additions = additions_for(&file);

        for (path, schema) in &additions.properties {
            if upstream.contains_key(path) {
                problems.push(format!(
                    "{name}: `{path}` is upstream now: remove it from the additions"
                ));
            }
            let mut documented = BTreeMap::new();
            flatten(schema, path, &mut documented);
            for (sub, attributes) in documented {
                if builtin.get(&sub) != Some(&attributes) {
                    problems.push(format!(
                        "{name}: `{sub}` differs from its documented addition"
                    ));
                }
            }
        }
        for (path, attributes) in &upstream {
            let Some(ours) = builtin.get(path) else {
                problems.push(format!(
                    "{name}: upstream has `{path}` ({}), the built-in schema does not",
                    Value::Object(attributes.clone())
                ));
                continue;
            };
            let mut expected = attributes.clone();
            if let Some(dropped) = additions.not_required.get(path)
                && let Some(Value::Array(required)) = expected.get_mut("required")
            {
                required.retain(|r| !dropped.contains(r.as_str().unwrap_or_default()));
                if required.is_empty() {
                    expected.remove("required");
                }
            }
            for key in expected.keys().chain(ours.keys()).collect::<BTreeSet<_>>() {
                if expected.get(key) != ours.get(key) {
                    problems.push(format!(
                        "{name}: `{path}` {key}: upstream {}, built-in {}",
                        expected
                            .get(key)
                            .map_or("absent".to_string(), Value::to_string),
                        ours.get(key).map_or("absent".to_string(), Value::to_string),
                    ));
                }
            }
        }
        for path in builtin.keys() {
            if !upstream.contains_key(path) && !additions.properties.keys().any(|a| under(path, a))
            {
                problems.push(format!(
                    "{name}: the built-in schema has `{path}`, upstream does not and no addition documents it"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "built-in schemas drifted from ../shared/crds; regenerate with \
         `python3 crates/policy/schemas/generate.py`:\n{}",
        problems.join("\n")
    );
}

#[test]
fn built_in_data_has_no_cel_rules_or_descriptions() {
    for file in builtin_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in ["x-kubernetes-validations", "\"description\""] {
            assert!(
                !text.contains(word),
                "{}: {word} belongs upstream only",
                file.display()
            );
        }
    }
}
