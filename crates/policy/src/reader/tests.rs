#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;

/// A small document type to drive the reader with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Thing {
    pub size: Spanned<u32>,
    #[serde(default)]
    pub parts: Vec<Part>,
    #[serde(default)]
    pub labels: OrderedMap<String, String>,
    #[serde(default)]
    pub mode: Option<Mode>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Part {
    #[serde(deserialize_with = "non_empty")]
    pub name: String,
    #[serde(default)]
    pub enabled: bool,
}

#[derive(Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    OnDemand,
    Spot,
}

impl OwnDocument for Thing {
    const KIND: &'static str = "Thing";
    const SCHEMA_FILE: &'static str = "thing.schema.json";
    const FILE: &'static str = "thing file";

    fn check(&mut self, checker: &mut Checker<'_>) {
        if *self.size > 10 {
            checker.at(&self.size, format!("size `{}` is above 10", *self.size));
        }
    }
}

const HEAD: &str =
    "apiVersion: eksgate.dev/v1alpha1\nkind: Thing\nmetadata: {name: t, labels: {a: b}}\nspec:\n";

fn read(spec: &str) -> Result<Envelope<Thing>, ReadError> {
    read_document::<Thing>(&SourceFile::new("t.yaml", format!("{HEAD}{spec}")))
}

#[test]
fn reads_values_with_their_spans() {
    let text = format!(
        "{HEAD}  size: 3\n  parts:\n    - name: a\n      enabled: true\n  labels: {{z: '1', a: '2'}}\n  mode: spot\n"
    );
    let source = SourceFile::new("t.yaml", text.as_str());
    let doc = read_document::<Thing>(&source).unwrap();
    assert_eq!(doc.metadata.name.as_deref(), Some("t"));
    assert_eq!(*doc.spec.size, 3);
    assert_eq!(source.slice(doc.spec.size.span), "3");
    assert_eq!(doc.spec.size.line_col(&source), (5, 9));
    let part = doc.spec.parts.first().unwrap();
    assert!(part.enabled);
    assert_eq!(part.name, "a");
    let keys: Vec<&str> = doc.spec.labels.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["z", "a"], "written order");
    assert_eq!(doc.spec.mode, Some(Mode::Spot));
}

#[test]
fn unknown_fields_name_the_nearest_known_one() {
    let err = read("  size: 3\n  parts:\n    - name: a\n      enabeld: true\n").unwrap_err();
    assert_eq!((err.line, err.column), (8, 7), "{err}");
    assert_eq!(err.pointer, "/spec/parts/0/enabeld");
    assert_eq!(
        err.message,
        "unknown field `enabeld` in `spec.parts[0]`; did you mean `enabled`? (expected one of: `name`, `enabled`)"
    );
    let err = read("  size: 3\n  colour: red\n").unwrap_err();
    assert!(!err.message.contains("did you mean"), "{err}");
    assert!(
        err.message.contains("`size`, `parts`, `labels`, `mode`"),
        "{err}"
    );
    let err = read_document::<Thing>(&SourceFile::new(
        "t.yaml",
        "apiVersion: eksgate.dev/v1alpha1\nkind: Thing\nspce: {}\n",
    ))
    .unwrap_err();
    assert!(err.message.contains("did you mean `spec`?"), "{err}");
    assert!(err.message.contains("in the document"), "{err}");
}

#[test]
fn type_errors_keep_the_innermost_position() {
    let err = read("  size: 3\n  parts:\n    - name: a\n      enabled: yes please\n").unwrap_err();
    assert_eq!((err.line, err.column), (8, 16), "{err}");
    assert_eq!(err.pointer, "/spec/parts/0/enabled");
    assert_eq!(
        err.message,
        "`spec.parts[0].enabled` must be a boolean, found the string `yes please`"
    );
    let err = read("  size: -1\n").unwrap_err();
    assert_eq!(err.pointer, "/spec/size");
    assert!(err.message.contains("non-negative integer"), "{err}");
    let err = read("  size: 3\n  parts: {name: a}\n").unwrap_err();
    assert_eq!(err.message, "`spec.parts` must be a list, found a mapping");
    // serde reads structs from lists too; a document does not.
    let err = read("  size: 3\n  parts: [[a, true]]\n").unwrap_err();
    assert_eq!(
        err.message,
        "`spec.parts[0]` must be a mapping, found a list"
    );
}

#[test]
fn missing_fields_point_at_their_mapping() {
    let err = read("  size: 3\n  parts:\n    - enabled: true\n").unwrap_err();
    assert_eq!((err.line, err.column), (7, 7), "{err}");
    assert_eq!(err.pointer, "/spec/parts/0");
    assert_eq!(
        err.message,
        "`spec.parts[0]` is missing the required field `name`"
    );
}

#[test]
fn field_errors_name_their_field() {
    let err = read("  size: 3\n  parts: [{name: ''}]\n").unwrap_err();
    assert_eq!(err.message, "`spec.parts[0].name` must not be empty");
    assert_eq!(err.pointer, "/spec/parts/0/name");
}

#[test]
fn unknown_values_of_an_enum_suggest_one() {
    let err = read("  size: 3\n  mode: Spot\n").unwrap_err();
    assert_eq!(err.pointer, "/spec/mode");
    assert_eq!(
        err.message,
        "`spec.mode` is `Spot`, which is not one of: `on-demand`, `spot`; did you mean `spot`?"
    );
}

#[test]
fn checks_point_at_spanned_fields() {
    let err = read("  size: 30\n").unwrap_err();
    assert_eq!((err.line, err.column), (5, 9));
    assert_eq!(err.pointer, "/spec/size");
    assert_eq!(err.message, "size `30` is above 10");
    assert_eq!(err.to_string(), "t.yaml:5:9: size `30` is above 10");
}

#[test]
fn the_envelope_is_checked_first() {
    let text = "apiVersion: eksgate.dev/v2\nkind: Thing\nspec: {size: nope}\n";
    let err = read_document::<Thing>(&SourceFile::new("t.yaml", text)).unwrap_err();
    assert_eq!((err.line, err.column), (1, 13));
    assert!(
        err.message
            .contains("unsupported apiVersion `eksgate.dev/v2`"),
        "{err}"
    );
    let err =
        read_document::<Thing>(&SourceFile::new("t.yaml", "kind: Thing\nspec: {}\n")).unwrap_err();
    assert!(err.message.contains("missing `apiVersion"), "{err}");
    let err = read_document::<Thing>(&SourceFile::new("t.yaml", "kind: Other\n")).unwrap_err();
    assert_eq!(err.message, "no `kind: Thing` document in the thing file");
    let two = format!("{HEAD}  size: 1\n---\n{HEAD}  size: 2\n");
    let err = read_document::<Thing>(&SourceFile::new("t.yaml", two)).unwrap_err();
    assert_eq!(err.line, 7);
    assert!(err.message.contains("more than one"), "{err}");
    let err = read_document::<Thing>(&SourceFile::new(
        "t.yaml",
        "apiVersion: eksgate.dev/v1alpha1\nkind: Thing\n",
    ))
    .unwrap_err();
    assert!(err.message.contains("required field `spec`"), "{err}");
    let err = read_document::<Thing>(&SourceFile::new("t.yaml", "a: [\n")).unwrap_err();
    assert_eq!(err.file, "t.yaml");
}

#[test]
fn non_string_keys_are_read_as_text() {
    let doc = read("  size: 1\n  labels: {1: one, true: two}\n").unwrap();
    let keys: Vec<&str> = doc.spec.labels.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["1", "true"]);
}

#[test]
fn the_schema_is_the_types() {
    let schema = schema::document_schema::<Thing>();
    assert_eq!(schema["properties"]["kind"]["const"], "Thing");
    assert_eq!(
        schema["required"],
        serde_json::json!(["apiVersion", "kind", "spec"])
    );
    let spec = &schema["properties"]["spec"];
    assert_eq!(spec["additionalProperties"], false);
    assert_eq!(spec["properties"]["size"]["type"], "integer");
    assert_eq!(
        spec["properties"]["labels"]["additionalProperties"]["type"],
        "string"
    );
    assert_eq!(
        spec["properties"]["parts"]["items"]["required"],
        serde_json::json!(["name"])
    );
}
