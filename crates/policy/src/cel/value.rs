//! Documents as CEL values, the way the API server hands them to a CRD's rules.
//!
//! Before it evaluates `x-kubernetes-validations`, the API server prunes fields the schema does
//! not know (unless `x-kubernetes-preserve-unknown-fields`), drops `null`s of fields that are not
//! `nullable`, fills in `default`s, and types every value by its schema (`number` is a double
//! even when written `3`; `x-kubernetes-int-or-string` keeps either). [`from_json`] does the
//! same, so `has(self.field)` and arithmetic see what the cluster would see.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value;
use cel::objects::{Key, Map};
use serde_json::Value as J;

/// Converts `json` typed by `schema` (a structural schema node, or `None` for schemaless
/// data). Sets `mismatch` when a value does not have its schema's type: the API server rejects
/// such an object on the schema alone (SCH001), and a rule that stumbles on it says nothing
/// more.
#[must_use]
pub fn from_json(json: &J, schema: Option<&J>, mismatch: &mut bool) -> Value {
    let Some(schema) = schema else {
        return schemaless(json);
    };
    if json.is_null() {
        return Value::Null;
    }
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(J::as_bool)
        == Some(true)
    {
        return match json {
            J::String(_) | J::Number(_) => schemaless(json),
            _ => {
                *mismatch = true;
                schemaless(json)
            }
        };
    }
    match (schema.get("type").and_then(J::as_str), json) {
        (Some("object"), J::Object(entries)) => object(entries, schema, mismatch),
        (Some("array"), J::Array(items)) => Value::List(Arc::new(
            items
                .iter()
                .map(|item| from_json(item, schema.get("items"), mismatch))
                .collect(),
        )),
        (Some("string"), J::String(s)) => Value::String(Arc::new(s.clone())),
        (Some("boolean"), J::Bool(b)) => Value::Bool(*b),
        (Some("integer"), J::Number(n)) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => match n.as_f64() {
                // `3.0` is an integer to the API server's JSON decoder.
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "only integral values inside the i64 range get here"
                )]
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Value::Int(f as i64),
                _ => {
                    *mismatch = true;
                    schemaless(json)
                }
            },
        },
        (Some("number"), J::Number(n)) => Value::Float(n.as_f64().unwrap_or(0.0)),
        (None, _) => schemaless(json),
        (Some(_), _) => {
            *mismatch = true;
            schemaless(json)
        }
    }
}

fn nullable(schema: Option<&J>) -> bool {
    schema
        .and_then(|s| s.get("nullable"))
        .and_then(J::as_bool)
        .unwrap_or(false)
}

fn key(k: &str) -> Key {
    Key::String(Arc::new(k.to_string()))
}

fn object(entries: &serde_json::Map<String, J>, schema: &J, mismatch: &mut bool) -> Value {
    let properties = schema.get("properties").and_then(J::as_object);
    let additional = schema.get("additionalProperties");
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(J::as_bool)
        == Some(true);
    let mut map = HashMap::new();
    for (k, v) in entries {
        let field_schema = properties
            .and_then(|p| p.get(k))
            .or_else(|| additional.filter(|a| a.is_object()));
        let known = field_schema.is_some()
            || additional.and_then(J::as_bool) == Some(true)
            || preserve
            || (properties.is_none() && additional.is_none());
        if !known {
            continue; // pruned
        }
        if v.is_null() && field_schema.is_some() && !nullable(field_schema) {
            continue; // a null of a non-nullable field is dropped, then defaulted
        }
        map.insert(key(k), from_json(v, field_schema, mismatch));
    }
    if let Some(properties) = properties {
        for (k, field_schema) in properties {
            if let Some(default) = field_schema.get("default")
                && !map.contains_key(&key(k))
            {
                map.insert(key(k), from_json(default, Some(field_schema), mismatch));
            }
        }
    }
    // A required field that is missing breaks the schema (SCH001), like a wrong type.
    if let Some(required) = schema.get("required").and_then(J::as_array)
        && required
            .iter()
            .filter_map(J::as_str)
            .any(|r| !map.contains_key(&key(r)))
    {
        *mismatch = true;
    }
    Value::Map(Map { map: Arc::new(map) })
}

/// Plain JSON to CEL: integers stay `int`, other numbers are `double`.
#[must_use]
pub fn schemaless(json: &J) -> Value {
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n
                .as_u64()
                .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::UInt),
        },
        J::String(s) => Value::String(Arc::new(s.clone())),
        J::Array(items) => Value::List(Arc::new(items.iter().map(schemaless).collect())),
        J::Object(entries) => Value::Map(Map {
            map: Arc::new(
                entries
                    .iter()
                    .map(|(k, v)| (key(k), schemaless(v)))
                    .collect(),
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    fn eval(source: &str, value: Value) -> Value {
        let program = crate::cel::compile(source).unwrap();
        let mut context = cel::Context::with_env(crate::cel::env());
        context.add_variable_from_value("self", value);
        program.execute(&context).unwrap()
    }

    #[test]
    fn prunes_defaults_and_types_like_the_api_server() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "number"},
                "b": {"type": "string", "default": "x"},
                "c": {"type": "object", "properties": {"d": {"type": "integer", "default": 1}}},
                "n": {"type": "string"},
                "m": {"type": "object", "additionalProperties": {"type": "string"}},
                "p": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "ios": {"x-kubernetes-int-or-string": true}
            }
        });
        let doc = json!({"a": 3, "c": {}, "n": null, "unknown": 1, "m": {"k": "v"},
                         "p": {"any": [1]}, "ios": "10%"});
        let mut mismatch = false;
        let v = from_json(&doc, Some(&schema), &mut mismatch);
        assert!(!mismatch);
        for rule in [
            "type(self.a) == double",
            "self.b == 'x'",
            "self.c.d == 1",
            "!has(self.n)",
            "!has(self.unknown)",
            "self.m.k == 'v'",
            "self.p.any[0] == 1",
            "self.ios == '10%'",
        ] {
            assert_eq!(eval(rule, v.clone()), Value::Bool(true), "{rule}");
        }
    }

    #[test]
    fn type_mismatches_are_flagged() {
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
        let mut mismatch = false;
        let _ = from_json(&json!({"n": "2"}), Some(&schema), &mut mismatch);
        assert!(mismatch);
    }
}
