//! JSON Schemas of eksgate's own documents, generated from the types the reader reads them
//! into, so the schema an editor checks against and the reader cannot drift apart.
//!
//! JSON Schema draft-07 (what editors' YAML language servers support best), every subschema
//! inline (the files are read by people too), descriptions from the types' doc comments.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::{API_VERSION, Metadata, OwnDocument};

/// Where the schemas are published (`$id`).
pub const SCHEMA_BASE: &str = "https://eksgate.dev/schemas/";

/// The JSON Schema of a `kind: T::KIND` document: the envelope (`apiVersion`, `kind`,
/// `metadata`) around the schema of `T`, the document's `spec`. The description of `T`
/// (its doc comment) describes the whole document.
#[must_use]
pub fn document_schema<T: OwnDocument>() -> Value {
    let settings = SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
    });
    let mut generator = settings.into_generator();
    let mut spec = generator.subschema_for::<T>().to_value();
    let metadata = generator.subschema_for::<Metadata>().to_value();
    let description = spec
        .as_object_mut()
        .and_then(|o| o.remove("description"))
        .unwrap_or(Value::Null);
    if let Some(o) = spec.as_object_mut() {
        // The title schemars gives is the Rust type's name, which says nothing to a user.
        o.remove("title");
    }
    let mut required = vec!["apiVersion", "kind"];
    if T::without_spec().is_none() {
        required.push("spec");
    }
    let mut root = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": format!("{SCHEMA_BASE}{}", T::SCHEMA_FILE),
        "title": format!("eksgate {}", T::KIND),
        "description": description,
        "type": "object",
        "required": required,
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": T::KIND},
            "metadata": metadata,
            "spec": spec,
        },
    });
    if root.get("description").is_some_and(Value::is_null)
        && let Some(o) = root.as_object_mut()
    {
        o.remove("description");
    }
    tidy(&mut root);
    root
}

/// Integer formats schemars adds from Rust types (`int64`): true of the code, noise to a user.
const RUST_FORMATS: &[&str] = &[
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "uint", "int",
    "float", "double",
];

/// Shapes the generated schema the way a person writes one: an optional field is left out
/// rather than set to null (the reader reads both the same), so no `null` in types or enums,
/// no empty defaults; no Rust integer formats; doc comments' line breaks are spaces.
fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // An empty default (`null`, `[]`, `{}`) says nothing an absent field does not.
            if map.get("default").is_some_and(|d| {
                d.is_null()
                    || d.as_array().is_some_and(Vec::is_empty)
                    || d.as_object().is_some_and(serde_json::Map::is_empty)
            }) {
                map.remove("default");
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    map.insert("type".to_string(), only);
                }
            }
            if let Some(Value::Array(options)) = map.get_mut("enum") {
                options.retain(|o| !o.is_null());
            }
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| RUST_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            if let Some(Value::String(text)) = map.get_mut("description") {
                *text = unwrap_lines(text);
            }
            for (key, child) in map.iter_mut() {
                // `properties` holds field names, `enum` and `const` user values: recurse into
                // schemas only.
                if key != "enum" && key != "const" {
                    tidy(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// Joins the lines of a paragraph (a doc comment wraps at 100 columns); keeps blank lines.
fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The schema as the file holds it: pretty JSON with a final newline.
#[must_use]
pub fn document_schema_text<T: OwnDocument>() -> String {
    serde_json::to_string_pretty(&document_schema::<T>()).unwrap_or_default() + "\n"
}
