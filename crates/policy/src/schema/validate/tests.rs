#![expect(clippy::indexing_slicing, reason = "tests")]
use std::sync::Arc;

use super::*;
use crate::schema::SchemaOrigin;
use crate::source::{Limits, SourceFile, load};

fn kind_schema(openapi: Json) -> KindSchema {
    KindSchema {
        group: "example.com".to_string(),
        version: "v1".to_string(),
        kind: "Widget".to_string(),
        openapi: Arc::new(openapi),
        origin: SchemaOrigin::Crd {
            file: "crd.yaml".to_string(),
        },
    }
}

/// `(kind, path, message)` of every issue of `yaml` against `spec`'s schema (the root
/// gets apiVersion/kind/metadata/spec).
fn issues(spec: Json, yaml: &str) -> Vec<(IssueKind, String, String)> {
    let schema = kind_schema(serde_json::json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
        }
    }));
    let text = format!("apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\n{yaml}");
    let loaded = load(0, &SourceFile::new("t.yaml", text), &Limits::default());
    validate(&schema, &loaded.documents[0].root)
        .into_iter()
        .map(|i| (i.kind, i.path, i.message))
        .collect()
}

fn paths(found: &[(IssueKind, String, String)]) -> Vec<&str> {
    found.iter().map(|(_, p, _)| p.as_str()).collect()
}

#[test]
fn types_follow_yaml_1_1_and_json() {
    let spec = serde_json::json!({"type": "object", "properties": {
        "s": {"type": "string"}, "i": {"type": "integer"}, "num": {"type": "number"},
        "b": {"type": "boolean"}, "l": {"type": "array", "items": {"type": "string"}},
        "m": {"type": "object", "additionalProperties": {"type": "string"}}
    }});
    // `1.0` reaches the API server as JSON `1`: an integer.
    let ok = "spec: {s: \"1\", i: 1.0, num: 1, b: yes, l: [a], m: {k: v}}\n";
    assert!(
        issues(spec.clone(), ok).is_empty(),
        "{:?}",
        issues(spec.clone(), ok)
    );
    let bad = "spec: {s: 1, i: \"1\", num: x, b: \"true\", l: a, m: [a]}\n";
    assert_eq!(
        paths(&issues(spec.clone(), bad)),
        ["spec.s", "spec.i", "spec.num", "spec.b", "spec.l", "spec.m"]
    );
    let found = issues(spec, "spec: {i: 1.5}\n");
    assert_eq!(found[0].2, "`i` must be an integer, not the number `1.5`");
}

#[test]
fn int_or_string_takes_both_and_checks_the_string_form() {
    let spec = serde_json::json!({"type": "object", "properties": {"q": {
        "x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "pattern": "^[0-9]+(Mi|Gi)?$"
    }}});
    assert!(issues(spec.clone(), "spec: {q: 10}\n").is_empty());
    assert!(issues(spec.clone(), "spec: {q: 10Gi}\n").is_empty());
    assert_eq!(
        paths(&issues(spec.clone(), "spec: {q: 10GB}\n")),
        ["spec.q"]
    );
    assert_eq!(
        issues(spec, "spec: {q: 0.5}\n")[0].2,
        "`q` must be an integer or a string, not the number `0.5`"
    );
}

#[test]
fn nulls_are_dropped_unless_nullable() {
    let spec = serde_json::json!({"type": "object", "required": ["r", "d"], "properties": {
        "r": {"type": "string"},
        "d": {"type": "string", "default": "x"},
        "o": {"type": "string"},
        "nul": {"type": "string", "nullable": true},
        "l": {"type": "array", "items": {"type": "string"}}
    }});
    // `o: null` is dropped like an absent field; `d` is defaulted; `r` is missing.
    let found = issues(
        spec.clone(),
        "spec:\n  r:\n  d: null\n  o: null\n  nul: null\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].2,
        "`r` is null, which the API server drops, but `spec` requires it"
    );
    // A null list item is not dropped.
    assert_eq!(
        paths(&issues(spec, "spec: {r: a, l: [a, null]}\n")),
        ["spec.l[1]"]
    );
}

#[test]
fn unknown_fields_are_pruned_unless_preserved() {
    let spec = serde_json::json!({"type": "object", "properties": {
        "closed": {"type": "object", "properties": {"a": {"type": "string"}}},
        "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                 "properties": {"a": {"type": "string"}}},
        "any": {"type": "object", "additionalProperties": true},
        "free": {"x-kubernetes-preserve-unknown-fields": true}
    }});
    let yaml = "spec:\n  closed: {a: x, b: y}\n  open: {a: 1, b: y}\n  any: {z: [1]}\n  free: [1, {x: 2}]\n  extra: 1\n";
    let found = issues(spec, yaml);
    let got: Vec<(IssueKind, &str)> = found.iter().map(|(k, p, _)| (*k, p.as_str())).collect();
    assert_eq!(
        got,
        [
            (IssueKind::Pruned, "spec.closed.b"),
            (IssueKind::Violation, "spec.open.a"),
            (IssueKind::Pruned, "spec.extra"),
        ]
    );
}

#[test]
fn embedded_resources_get_object_metadata() {
    let spec = serde_json::json!({"type": "object", "properties": {
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "x-kubernetes-preserve-unknown-fields": true}
    }});
    let yaml = "spec:\n  template:\n    apiVersion: v1\n    kind: Pod\n    metadata: {name: p, labels: {a: 1}, bogus: x}\n    spec: {containers: []}\n";
    let found = issues(spec, yaml);
    let got: Vec<(IssueKind, &str)> = found.iter().map(|(k, p, _)| (*k, p.as_str())).collect();
    assert_eq!(
        got,
        [
            (IssueKind::Violation, "spec.template.metadata.labels.a"),
            (IssueKind::Pruned, "spec.template.metadata.bogus"),
        ]
    );
}

#[test]
fn bounds_lengths_sizes_and_formats() {
    let spec = serde_json::json!({"type": "object", "properties": {
        "a": {"type": "integer", "minimum": 1, "maximum": 10, "exclusiveMaximum": true},
        "b": {"type": "integer", "format": "int32"},
        "c": {"type": "number", "multipleOf": 0.5},
        "d": {"type": "string", "minLength": 2, "maxLength": 3},
        "e": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "integer"}},
        "f": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
        "g": {"type": "string", "format": "date-time"}
    }});
    let ok = "spec: {a: 9, b: 7, c: 1.5, d: éé, e: [1], f: {x: v}, g: \"2025-01-31T12:00:00Z\"}\n";
    assert!(
        issues(spec.clone(), ok).is_empty(),
        "{:?}",
        issues(spec.clone(), ok)
    );
    let found = issues(
        spec,
        "spec: {a: 10, b: 3000000000, c: 0.7, d: ééé€, e: [], f: {x: v, z: w}, g: yesterday}\n",
    );
    assert_eq!(
        paths(&found),
        [
            "spec.a", "spec.b", "spec.c", "spec.d", "spec.e", "spec.f", "spec.g"
        ]
    );
    assert_eq!(found[0].2, "`a` is `10`, which must be less than `10`");
    assert_eq!(
        found[3].2,
        "`d` is 4 characters long, more than the maximum of 3"
    );
}

#[test]
fn list_sets_and_maps_need_unique_items() {
    let spec = serde_json::json!({"type": "object", "properties": {
        "s": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "m": {"type": "array", "x-kubernetes-list-type": "map",
              "x-kubernetes-list-map-keys": ["name"],
              "items": {"type": "object", "properties": {"name": {"type": "string"}, "v": {"type": "integer"}}}}
    }});
    let found = issues(
        spec,
        "spec:\n  s: [a, b, a]\n  m: [{name: x, v: 1}, {name: z}, {name: x, v: 2}]\n",
    );
    assert_eq!(paths(&found), ["spec.s[2]", "spec.m[2]"]);
}

#[test]
fn combinators() {
    let spec = serde_json::json!({"type": "object", "properties": {
        "any": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "anyOf": [{"required": ["a"]}, {"required": ["b"]}]},
        "one": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
        "not": {"type": "string", "not": {"enum": ["forbidden"]}},
        "all": {"type": "integer", "allOf": [{"minimum": 2}, {"maximum": 4}]}
    }});
    let ok = "spec: {any: {a: x}, one: {b: v}, not: ok, all: 3}\n";
    assert!(
        issues(spec.clone(), ok).is_empty(),
        "{:?}",
        issues(spec.clone(), ok)
    );
    let found = issues(
        spec,
        "spec: {any: {}, one: {a: x, b: v}, not: forbidden, all: 5}\n",
    );
    assert_eq!(
        paths(&found),
        ["spec.any", "spec.one", "spec.not", "spec.all"]
    );
}

#[test]
fn missing_required_fields_point_at_the_parent_key() {
    let schema = kind_schema(serde_json::json!({
        "type": "object", "required": ["spec"],
        "properties": {"spec": {"type": "object", "required": ["a"],
            "properties": {"a": {"type": "string"},
                           "items": {"type": "array", "items": {"type": "object", "required": ["k"],
                                     "properties": {"k": {"type": "string"}}}}}}}
    }));
    let text = "apiVersion: example.com/v1\nkind: Widget\nspec:\n  items:\n    - {j: 1}\n";
    let loaded = load(0, &SourceFile::new("t.yaml", text), &Limits::default());
    let root = &loaded.documents[0].root;
    let found = validate(&schema, root);
    let at: Vec<&str> = found
        .iter()
        .map(|i| &text[i.at.span.start as usize..i.at.span.end as usize])
        .collect();
    // The unknown `j`; `k` missing from the item (at its first key); `a` missing from `spec`.
    assert_eq!(at, ["j", "j", "spec"]);
    let text = "apiVersion: example.com/v1\nkind: Widget\n";
    let loaded = load(0, &SourceFile::new("t.yaml", text), &Limits::default());
    let found = validate(&schema, &loaded.documents[0].root);
    assert_eq!(
        found[0].message,
        "`Widget` is missing the required field `spec`"
    );
    assert_eq!(
        &text[found[0].at.span.start as usize..found[0].at.span.end as usize],
        "kind"
    );
}

#[test]
fn metadata_is_object_meta_and_status_is_skipped() {
    let schema = kind_schema(serde_json::json!({
        "type": "object",
        "properties": {"metadata": {"type": "object"},
                       "status": {"type": "object", "properties": {"x": {"type": "string"}}}}
    }));
    let text = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  generateName: w-\n  ownerReferences: [{kind: X}]\n  finalizers: [a]\n  labels: {team: 1}\n  annotation: {a: b}\nstatus: {x: 1, y: 2}\n";
    let loaded = load(0, &SourceFile::new("t.yaml", text), &Limits::default());
    let found = validate(&schema, &loaded.documents[0].root);
    let got: Vec<(IssueKind, &str)> = found.iter().map(|i| (i.kind, i.path.as_str())).collect();
    assert_eq!(
        got,
        [
            (IssueKind::Violation, "metadata.labels.team"),
            (IssueKind::Pruned, "metadata.annotation"),
        ]
    );
    assert!(found[1].message.ends_with("did you mean `annotations`?"));
}
