//! The typed, spanned reader of eksgate's own documents (`Policy`, `DeployPlan`, and any
//! `eksgate.dev/v1alpha1` kind to come).
//!
//! A document type is a plain `#[derive(Deserialize, JsonSchema)]` struct (its `spec`) with
//! `#[serde(deny_unknown_fields, rename_all = "camelCase")]`, plus an [`OwnDocument`] impl
//! that names its kind and checks what the types cannot say. [`read_document`] finds the one
//! document of that kind in a file, checks the envelope (`apiVersion`, `kind`, `metadata`),
//! deserializes `spec` through a `serde::Deserializer` over the spanned node tree, and runs
//! the checks. Every error is a [`ReadError`] with file, line, column and the JSON pointer of
//! the innermost node at fault; an unknown key names the nearest known one. [`Spanned`]
//! fields keep positions for the checks and for whoever reads the value later, and
//! [`schema::document_schema`] turns the same types into the JSON Schema editors use.
//!
//! Adding a document type: write its spec struct (doc comments become the schema's
//! descriptions), implement [`OwnDocument`], and add one line to the generator's list
//! (`crates/xtask/src/lib.rs`).

mod check;
mod de;
mod error;
pub mod schema;
mod spanned;

use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

pub use check::Checker;
pub use error::{DeError, ReadError, field_error};
pub use spanned::Spanned;

use crate::node::{Node, Span};
use crate::source::{self, Limits, ParseNoteKind, SourceFile};

/// The API version of every eksgate document.
pub const API_VERSION: &str = "eksgate.dev/v1alpha1";

/// A kind of eksgate's own: its `spec` type and what is checked beyond the types.
pub trait OwnDocument: DeserializeOwned + JsonSchema {
    /// The `kind:` of the document (`Policy`).
    const KIND: &'static str;
    /// The file the JSON Schema is written to, in `policies/schemas/` (`policy.schema.json`).
    const SCHEMA_FILE: &'static str;
    /// How messages name the file (`policy file`).
    const FILE: &'static str;

    /// The value of a document without `spec`; `None` (the default) makes `spec` required.
    #[must_use]
    fn without_spec() -> Option<Self> {
        None
    }

    /// The semantic checks: report what is wrong through `checker`, and complete what the
    /// checks produce (compiled expressions, defaults that depend on other fields).
    fn check(&mut self, checker: &mut Checker<'_>) {
        let _ = checker;
    }
}

/// `metadata` of an eksgate document: its name; other fields (labels, annotations) are
/// allowed and ignored.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
pub struct Metadata {
    /// The document's name, used in messages and summaries.
    #[serde(default, deserialize_with = "non_empty_opt")]
    #[schemars(length(min = 1))]
    pub name: Option<String>,
}

/// A document read and checked: its metadata and its typed spec.
#[derive(Clone, Debug)]
pub struct Envelope<S> {
    pub metadata: Metadata,
    pub spec: S,
    /// The span of the whole document.
    pub span: Span,
}

/// The envelope as written; `apiVersion` and `kind` are checked before it is read, so their
/// errors come first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Written<S> {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    #[serde(default)]
    metadata: Metadata,
    spec: Option<S>,
}

/// Reads the one `kind: T::KIND` document of `source`.
///
/// # Errors
/// A [`ReadError`] at the first problem: the text is not YAML or JSON, there is no such
/// document or more than one, the envelope or the spec is wrong, or a check fails.
pub fn read_document<T: OwnDocument>(source: &SourceFile) -> Result<Envelope<T>, ReadError> {
    let loaded = source::load(0, source, &Limits::default());
    if let Some(note) = loaded
        .notes
        .iter()
        .find(|n| n.kind == ParseNoteKind::Syntax)
    {
        return Err(ReadError::at(
            source,
            note.span,
            String::new(),
            note.message.clone(),
        ));
    }
    let mut found = loaded
        .documents
        .iter()
        .filter(|d| d.kind() == Some(T::KIND));
    let Some(doc) = found.next() else {
        return Err(ReadError::at(
            source,
            Span::empty(0),
            String::new(),
            format!("no `kind: {}` document in the {}", T::KIND, T::FILE),
        ));
    };
    if let Some(extra) = found.next() {
        return Err(ReadError::at(
            source,
            extra.root.span,
            String::new(),
            format!(
                "more than one `kind: {}` document; keep one per file",
                T::KIND
            ),
        ));
    }
    read_node(&doc.root, source)
}

/// Reads an eksgate document from its root node (one document of a file `source::load` read).
///
/// # Errors
/// A [`ReadError`] at the first problem of the envelope, the spec or the checks.
pub fn read_node<T: OwnDocument>(
    root: &Node,
    source: &SourceFile,
) -> Result<Envelope<T>, ReadError> {
    read_node_all(root, source).map_err(|errors| {
        errors.into_iter().next().unwrap_or_else(|| {
            ReadError::at(source, root.span, String::new(), "cannot be read".into())
        })
    })
}

/// Reads an eksgate document from its root node as [`read_node`] does, but keeps every error
/// the semantic checks find (a form shows them all at once); an envelope or type error stops
/// the reading, so it comes alone.
///
/// # Errors
/// At least one [`ReadError`].
pub fn read_node_all<T: OwnDocument>(
    root: &Node,
    source: &SourceFile,
) -> Result<Envelope<T>, Vec<ReadError>> {
    match read_node_checked(root, source) {
        Ok((envelope, errors)) if errors.is_empty() => Ok(envelope),
        Ok((_, errors)) => Err(errors),
        Err(e) => Err(vec![e]),
    }
}

/// Reads an eksgate document from its root node, and runs its checks: the value (which may
/// fail its checks) with every error they found. For callers that still look at a value with
/// problems (a form that judges the rest of the request).
///
/// # Errors
/// A [`ReadError`] when the document cannot be read into its type at all.
pub fn read_node_checked<T: OwnDocument>(
    root: &Node,
    source: &SourceFile,
) -> Result<(Envelope<T>, Vec<ReadError>), ReadError> {
    let mut envelope: Envelope<T> = read_envelope(root, source)?;
    let mut checker = Checker::new(source, root);
    envelope.spec.check(&mut checker);
    Ok((envelope, checker.into_errors()))
}

fn read_envelope<T: OwnDocument>(
    root: &Node,
    source: &SourceFile,
) -> Result<Envelope<T>, ReadError> {
    match root.get("apiVersion") {
        Some(node) if node.as_str() == Some(API_VERSION) => {}
        Some(node) => {
            let shown = node
                .scalar_text()
                .unwrap_or_else(|| node.type_name().into());
            return Err(ReadError::at(
                source,
                node.span,
                "/apiVersion".to_string(),
                format!("unsupported apiVersion `{shown}`; use `{API_VERSION}`"),
            ));
        }
        None => {
            return Err(ReadError::at(
                source,
                root.span,
                String::new(),
                format!("missing `apiVersion: {API_VERSION}`"),
            ));
        }
    }
    let written: Written<T> = from_node(root, source)?;
    let spec = match written.spec.or_else(T::without_spec) {
        Some(spec) => spec,
        None => {
            return Err(ReadError::at(
                source,
                root.span,
                String::new(),
                "the document is missing the required field `spec`".to_string(),
            ));
        }
    };
    Ok(Envelope {
        metadata: written.metadata,
        spec,
        span: root.span,
    })
}

/// Deserializes any type from a node of `source`, with positions in its errors.
///
/// # Errors
/// A [`ReadError`] at the innermost node that does not fit the type.
pub fn from_node<T: DeserializeOwned>(node: &Node, source: &SourceFile) -> Result<T, ReadError> {
    T::deserialize(de::NodeDeserializer::root(node)).map_err(|e| e.into_read_error(source, node))
}

/// `deserialize_with` for a string that must not be empty.
///
/// # Errors
/// When the value is not a string, or is empty.
pub fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() {
        return Err(field_error("must not be empty"));
    }
    Ok(text)
}

/// `deserialize_with` for an optional string that must not be empty when given.
///
/// # Errors
/// When the value is not a string or null, or is empty.
pub fn non_empty_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) if text.is_empty() => Err(field_error("must not be empty")),
        other => Ok(other),
    }
}

/// A string that must not be empty; its schema says `minLength: 1`. For lists of names and
/// paths, whose items `deserialize_with` cannot reach.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NonEmptyString(pub String);

impl NonEmptyString {
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for NonEmptyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        non_empty(deserializer).map(NonEmptyString)
    }
}

impl JsonSchema for NonEmptyString {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NonEmptyString".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "minLength": 1})
    }
}

/// A mapping read in the order it was written, as `(key, value)` pairs: labels, tags, and
/// other maps whose order shows in messages. Its schema is an object of `V`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderedMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for OrderedMap<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K, V> std::ops::Deref for OrderedMap<K, V> {
    type Target = [(K, V)];
    fn deref(&self) -> &[(K, V)] {
        &self.0
    }
}

impl<'m, K, V> IntoIterator for &'m OrderedMap<K, V> {
    type Item = &'m (K, V);
    type IntoIter = std::slice::Iter<'m, (K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq<Vec<(K, V)>> for OrderedMap<K, V> {
    fn eq(&self, other: &Vec<(K, V)>) -> bool {
        &self.0 == other
    }
}

impl<K: std::borrow::Borrow<str>, V> OrderedMap<K, V> {
    /// The value of the first entry with this key, added (with `make_key` and `V::default()`)
    /// when there is none.
    pub fn get_or_insert_with(&mut self, key: &str, make_key: impl FnOnce() -> K) -> &mut V
    where
        V: Default,
    {
        let at = match self.0.iter().position(|(k, _)| k.borrow() == key) {
            Some(at) => at,
            None => {
                self.0.push((make_key(), V::default()));
                self.0.len() - 1
            }
        };
        #[expect(clippy::indexing_slicing, reason = "found or pushed just above")]
        &mut self.0[at].1
    }

    /// The value of the first entry with this key.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(std::marker::PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> serde::de::Visitor<'de> for MapVisitor<K, V> {
            type Value = OrderedMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
                while let Some((k, v)) = map.next_entry()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }

        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

impl<K, V: JsonSchema> JsonSchema for OrderedMap<K, V> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>(),
        })
    }
}

#[cfg(test)]
mod tests;
