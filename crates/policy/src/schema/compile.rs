//! A structural schema (`openAPIV3Schema`) turned into a tree the validator walks quickly:
//! keywords parsed once, patterns compiled once, Kubernetes extensions read into flags.
//!
//! Compiled schemas are cached by the identity of their [`KindSchema::openapi`] value, so a run
//! compiles each schema once however many documents use it (and a built-in schema once per
//! process).

use std::sync::{Arc, Mutex, PoisonError};

use regex::Regex;
use serde_json::Value as Json;

use crate::schema::KindSchema;

/// JSON types a schema allows (`type`), as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Types(u8);

impl Types {
    pub(crate) const STRING: Types = Types(1);
    pub(crate) const INTEGER: Types = Types(2);
    pub(crate) const NUMBER: Types = Types(4);
    pub(crate) const BOOLEAN: Types = Types(8);
    pub(crate) const ARRAY: Types = Types(16);
    pub(crate) const OBJECT: Types = Types(32);

    pub(crate) fn any(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn has(self, other: Types) -> bool {
        self.0 & other.0 != 0
    }

    fn with(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    fn parse(name: &str) -> Types {
        match name {
            "string" => Types::STRING,
            "integer" => Types::INTEGER,
            "number" => Types::NUMBER,
            "boolean" => Types::BOOLEAN,
            "array" => Types::ARRAY,
            "object" => Types::OBJECT,
            _ => Types(0),
        }
    }
}

/// `format` values eksgate checks; the others are accepted as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Int32,
    Int64,
    Float,
    DateTime,
    Date,
}

/// What happens to fields a schema does not name.
#[derive(Debug, Default)]
pub(crate) enum Additional {
    /// The API server drops them (a structural schema's default).
    #[default]
    Prune,
    /// `additionalProperties: true`: kept, not validated.
    Any,
    /// `additionalProperties: {schema}`: a map whose values follow the schema.
    Schema(Box<Shape>),
}

/// `x-kubernetes-list-type`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) enum ListType {
    #[default]
    Atomic,
    Set,
    Map(Vec<String>),
}

/// A `pattern`: its text (for messages and hints) and the compiled regex, when the regex crate
/// accepts it (Go's RE2 syntax is nearly the same).
#[derive(Debug)]
pub(crate) struct Pattern {
    pub(crate) source: String,
    pub(crate) regex: Option<Regex>,
}

/// A numeric bound and whether it is exclusive.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bound {
    pub(crate) value: f64,
    pub(crate) exclusive: bool,
}

/// One compiled schema node.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    pub(crate) types: Types,
    pub(crate) int_or_string: bool,
    pub(crate) nullable: bool,
    pub(crate) preserve_unknown: bool,
    pub(crate) embedded_resource: bool,
    pub(crate) has_default: bool,
    pub(crate) format: Option<Format>,
    pub(crate) enumeration: Vec<Json>,
    pub(crate) pattern: Option<Pattern>,
    pub(crate) minimum: Option<Bound>,
    pub(crate) maximum: Option<Bound>,
    pub(crate) multiple_of: Option<f64>,
    pub(crate) min_length: Option<u64>,
    pub(crate) max_length: Option<u64>,
    pub(crate) min_items: Option<u64>,
    pub(crate) max_items: Option<u64>,
    pub(crate) min_properties: Option<u64>,
    pub(crate) max_properties: Option<u64>,
    pub(crate) required: Vec<String>,
    pub(crate) properties: Vec<(String, Shape)>,
    pub(crate) additional: Additional,
    pub(crate) items: Option<Box<Shape>>,
    pub(crate) list_type: ListType,
    pub(crate) all_of: Vec<Shape>,
    pub(crate) any_of: Vec<Shape>,
    pub(crate) one_of: Vec<Shape>,
    pub(crate) not: Option<Box<Shape>>,
}

impl Shape {
    /// The schema of property `name`.
    pub(crate) fn property(&self, name: &str) -> Option<&Shape> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// Whether this node keeps fields it does not name.
    pub(crate) fn keeps_unknown(&self) -> bool {
        self.preserve_unknown || matches!(self.additional, Additional::Any)
    }

    /// Compiles a schema node. Keywords the validator does not know are ignored, and so are
    /// malformed ones (the API server would have refused such a CRD).
    pub(crate) fn compile(schema: &Json) -> Shape {
        let mut shape = Shape::default();
        let Json::Object(map) = schema else {
            return shape;
        };
        let uint = |key: &str| map.get(key).and_then(Json::as_u64);
        let flag = |key: &str| map.get(key).and_then(Json::as_bool) == Some(true);
        match map.get("type") {
            Some(Json::String(t)) => shape.types = Types::parse(t),
            Some(Json::Array(ts)) => {
                for t in ts.iter().filter_map(Json::as_str) {
                    if t == "null" {
                        shape.nullable = true;
                    } else {
                        shape.types = shape.types.with(Types::parse(t));
                    }
                }
            }
            _ => {}
        }
        shape.int_or_string = flag("x-kubernetes-int-or-string");
        shape.nullable |= flag("nullable");
        shape.preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");
        shape.embedded_resource = flag("x-kubernetes-embedded-resource");
        shape.has_default = map.get("default").is_some_and(|d| !d.is_null());
        shape.format = match map.get("format").and_then(Json::as_str) {
            Some("int32") => Some(Format::Int32),
            Some("int64") => Some(Format::Int64),
            Some("float") => Some(Format::Float),
            Some("date-time") => Some(Format::DateTime),
            Some("date") => Some(Format::Date),
            _ => None,
        };
        if let Some(Json::Array(values)) = map.get("enum") {
            shape.enumeration.clone_from(values);
        }
        if let Some(source) = map.get("pattern").and_then(Json::as_str) {
            shape.pattern = Some(Pattern {
                source: source.to_string(),
                regex: compile_go_regex(source),
            });
        }
        shape.minimum = bound(map, "minimum", "exclusiveMinimum");
        shape.maximum = bound(map, "maximum", "exclusiveMaximum");
        shape.multiple_of = map
            .get("multipleOf")
            .and_then(Json::as_f64)
            .filter(|m| *m > 0.0);
        shape.min_length = uint("minLength");
        shape.max_length = uint("maxLength");
        shape.min_items = uint("minItems");
        shape.max_items = uint("maxItems");
        shape.min_properties = uint("minProperties");
        shape.max_properties = uint("maxProperties");
        if let Some(Json::Array(names)) = map.get("required") {
            shape.required = names
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect();
        }
        if let Some(Json::Object(props)) = map.get("properties") {
            shape.properties = props
                .iter()
                .map(|(name, s)| (name.clone(), Shape::compile(s)))
                .collect();
        }
        shape.additional = match map.get("additionalProperties") {
            Some(Json::Bool(true)) => Additional::Any,
            Some(s @ Json::Object(_)) => Additional::Schema(Box::new(Shape::compile(s))),
            _ => Additional::Prune,
        };
        shape.items = match map.get("items") {
            Some(s @ Json::Object(_)) => Some(Box::new(Shape::compile(s))),
            _ => None,
        };
        shape.list_type = match map.get("x-kubernetes-list-type").and_then(Json::as_str) {
            Some("set") => ListType::Set,
            Some("map") => ListType::Map(
                map.get("x-kubernetes-list-map-keys")
                    .and_then(Json::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ListType::Atomic,
        };
        let many = |key: &str| -> Vec<Shape> {
            map.get(key)
                .and_then(Json::as_array)
                .map(|all| all.iter().map(Shape::compile).collect())
                .unwrap_or_default()
        };
        shape.all_of = many("allOf");
        shape.one_of = many("oneOf");
        // `x-kubernetes-int-or-string` comes with `anyOf: [{type: integer}, {type: string}]`;
        // the flag says it all.
        if !shape.int_or_string {
            shape.any_of = many("anyOf");
        }
        shape.not = map
            .get("not")
            .filter(|n| n.is_object())
            .map(|n| Box::new(Shape::compile(n)));
        shape
    }
}

fn bound(map: &serde_json::Map<String, Json>, key: &str, exclusive_key: &str) -> Option<Bound> {
    let value = map.get(key).and_then(Json::as_f64)?;
    Some(Bound {
        value,
        exclusive: map.get(exclusive_key).and_then(Json::as_bool) == Some(true),
    })
}

/// Compiles a Go (RE2) pattern with Go's meaning (see [`crate::re2`]). `None` when Go would
/// reject it (the API server does not accept such a CRD) or the crate cannot run it.
pub(crate) fn compile_go_regex(pattern: &str) -> Option<Regex> {
    crate::re2::compile(pattern).ok()
}

/// A compiled kind: the root shape.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) root: Shape,
}

/// Schemas compiled so far, keyed by the identity of their JSON (held, so the address stays
/// theirs). Bounded: a long-lived host (the browser) that loads new CRDs on every run only
/// keeps the latest ones.
static CACHE: Mutex<Vec<(Arc<Json>, Arc<Compiled>)>> = Mutex::new(Vec::new());
const CACHE_SIZE: usize = 64;

/// The compiled form of `schema`, compiled on first use.
pub(crate) fn compiled(schema: &KindSchema) -> Arc<Compiled> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, hit)) = cache
        .iter()
        .find(|(json, _)| Arc::ptr_eq(json, &schema.openapi))
    {
        return Arc::clone(hit);
    }
    let fresh = Arc::new(Compiled {
        root: Shape::compile(&schema.openapi),
    });
    if cache.len() >= CACHE_SIZE {
        cache.remove(0);
    }
    cache.push((Arc::clone(&schema.openapi), Arc::clone(&fresh)));
    fresh
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn go_perl_classes_are_ascii() {
        let re = compile_go_regex(r"^\d+$").unwrap();
        assert!(re.is_match("42"));
        assert!(!re.is_match("٤٢"), "Arabic-Indic digits are not \\d in Go");
        let re = compile_go_regex(r"^[\d.]+%$").unwrap();
        assert!(re.is_match("1.5%"));
        let re = compile_go_regex(r"^[]\d]$").unwrap();
        assert!(re.is_match("]"));
        assert!(re.is_match("3"));
    }

    #[test]
    fn empty_alternatives_compile() {
        // Karpenter's volumeSize pattern has `([1-9]||[1-5][0-7]|58)Ti`.
        let re = compile_go_regex(r"^([1-9]||[1-5][0-7]|58)Ti$").unwrap();
        assert!(re.is_match("Ti"));
        assert!(re.is_match("58Ti"));
    }

    #[test]
    fn openapi_extensions_become_flags() {
        let shape = Shape::compile(&serde_json::json!({
            "type": "object",
            "properties": {
                "a": {"x-kubernetes-int-or-string": true,
                      "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "b": {"type": "string", "nullable": true},
                "c": {"type": ["string", "null"]},
                "d": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        }));
        let a = shape.property("a").unwrap();
        assert!(a.int_or_string && a.any_of.is_empty());
        assert!(shape.property("b").unwrap().nullable);
        let c = shape.property("c").unwrap();
        assert!(c.nullable && c.types == Types::STRING);
        assert!(shape.property("d").unwrap().keeps_unknown());
    }
}
