//! Validates a document against a compiled structural schema the way the Kubernetes API server
//! treats a custom resource: unknown fields are pruned (reported as [`IssueKind::Pruned`]),
//! `null` in a field that is not `nullable` is dropped, defaults fill missing fields, and then
//! the value validations run (types, enums, patterns, bounds, lengths, sizes, required fields,
//! list sets and maps). Each issue points at a node of the document.

use std::fmt::Write as _;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;

use crate::node::{Node, Value};
use crate::schema::KindSchema;
use crate::schema::compile::{Additional, Format, ListType, Shape, Types, compiled};
use crate::schema::hints;

/// Which rule an issue belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// The API server would reject the object (SCH001).
    Violation,
    /// The API server would drop this field without a word (SCH002).
    Pruned,
}

/// One thing the API server would do to a document: where, and why.
#[derive(Clone, Debug)]
pub struct Issue<'n> {
    pub kind: IssueKind,
    /// The offending value; the unknown key; or, for a missing required field, the key of the
    /// object that lacks it (for a list item its first key, for the document root `kind`).
    pub at: &'n Node,
    /// The field's path from the object root, dotted (`spec.template.spec.requirements[0].key`).
    pub path: String,
    pub message: String,
    pub help: Option<String>,
}

/// Validates the object `root` against `schema`.
#[must_use]
pub fn validate<'n>(schema: &KindSchema, root: &'n Node) -> Vec<Issue<'n>> {
    let compiled = compiled(schema);
    let mut walker = Walker {
        root: &compiled.root,
        group: &schema.group,
        kind: &schema.kind,
        path: Vec::new(),
        issues: Vec::new(),
        branch: false,
    };
    let anchor = root.entry("kind").map_or(root, |e| &e.key);
    walker.value(root, &compiled.root, anchor, true);
    walker.issues
}

/// The fields of `metadata` (ObjectMeta) the API server keeps; it prunes any other.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

struct Walker<'s, 'n> {
    /// The kind's root schema, to find where a misplaced field belongs.
    root: &'s Shape,
    group: &'s str,
    kind: &'s str,
    path: Vec<Seg>,
    issues: Vec<Issue<'n>>,
    /// Inside an `allOf`/`anyOf`/`oneOf`/`not` branch: value validations only (the branch's
    /// `required` sees every field; pruning is the structural schema's business).
    branch: bool,
}

impl<'n> Walker<'_, 'n> {
    /// The path as `spec.template.spec.requirements[0].key`.
    fn dotted(&self) -> String {
        dotted(&self.path)
    }

    /// The field's name in a message: its key with any list indexes after it (`values[2]`);
    /// the kind for the root.
    fn label(&self) -> String {
        label_of(&self.path, self.kind)
    }

    fn push(&mut self, kind: IssueKind, at: &'n Node, message: String, help: Option<String>) {
        self.issues.push(Issue {
            kind,
            at,
            path: self.dotted(),
            message,
            help,
        });
    }

    fn violation(&mut self, at: &'n Node, message: String, help: Option<String>) {
        self.push(IssueKind::Violation, at, message, help);
    }

    /// Validates `node` against `shape`. `anchor` is where a missing field of this object is
    /// reported (its key, or the node itself); `root` is true for the document root.
    fn value(&mut self, node: &'n Node, shape: &Shape, anchor: &'n Node, root: bool) {
        if node.is_null() {
            if !shape.nullable {
                self.violation(
                    node,
                    format!("`{}` must be {}, not null", self.label(), expected(shape)),
                    None,
                );
            }
            return;
        }
        if !self.type_matches(node, shape) {
            return;
        }
        self.format(node, shape);
        self.enumeration(node, shape);
        match &node.value {
            Value::Str(s) => self.string(node, s, shape),
            Value::Int(_) | Value::Float(_) => self.number(node, shape),
            Value::Seq(items) => self.array(node, items, shape),
            Value::Map(_) => self.object(node, shape, anchor, root),
            Value::Null | Value::Bool(_) => {}
        }
        self.combinators(node, shape);
    }

    fn type_matches(&mut self, node: &'n Node, shape: &Shape) -> bool {
        if let Value::Float(f) = node.value
            && !f.is_finite()
        {
            let shown = node.scalar_text().unwrap_or_default();
            self.violation(
                node,
                format!(
                    "`{}` is `{shown}`, which JSON cannot carry, so the API server never sees it",
                    self.label()
                ),
                Some("write a finite number".to_string()),
            );
            return false;
        }
        let ok = if shape.int_or_string {
            matches!(node.value, Value::Str(_)) || is_integer(node)
        } else if shape.types.any() {
            true
        } else {
            match &node.value {
                Value::Str(_) => shape.types.has(Types::STRING),
                Value::Bool(_) => shape.types.has(Types::BOOLEAN),
                Value::Int(_) => shape.types.has(Types::INTEGER) || shape.types.has(Types::NUMBER),
                Value::Float(_) => {
                    shape.types.has(Types::NUMBER)
                        || (shape.types.has(Types::INTEGER) && is_integer(node))
                }
                Value::Seq(_) => shape.types.has(Types::ARRAY),
                Value::Map(_) => shape.types.has(Types::OBJECT),
                Value::Null => shape.nullable,
            }
        };
        if !ok {
            let message = format!(
                "`{}` must be {}, not {}",
                self.label(),
                expected(shape),
                describe(node)
            );
            let help = type_help(node, shape);
            self.violation(node, message, help);
        }
        ok
    }

    fn format(&mut self, node: &'n Node, shape: &Shape) {
        let Some(format) = shape.format else {
            return;
        };
        match (&node.value, format) {
            (Value::Int(i), Format::Int32) if i32::try_from(*i).is_err() => {
                self.violation(
                    node,
                    format!(
                        "`{}` is `{i}`, outside the 32-bit integer range the field holds",
                        self.label()
                    ),
                    Some("use a value from -2147483648 to 2147483647".to_string()),
                );
            }
            (Value::Str(s), Format::DateTime) if date_time().is_some_and(|re| !re.is_match(s)) => {
                self.violation(
                    node,
                    format!("`{s}` is not a date-time for `{}`", self.label()),
                    Some("write an RFC 3339 time such as `2025-01-31T12:00:00Z`".to_string()),
                );
            }
            (Value::Str(s), Format::Date) if date().is_some_and(|re| !re.is_match(s)) => {
                self.violation(
                    node,
                    format!("`{s}` is not a date for `{}`", self.label()),
                    Some("write a date such as `2025-01-31`".to_string()),
                );
            }
            _ => {}
        }
    }

    fn enumeration(&mut self, node: &'n Node, shape: &Shape) {
        if shape.enumeration.is_empty() {
            return;
        }
        let json = node.to_json();
        if shape.enumeration.iter().any(|allowed| same(allowed, &json)) {
            return;
        }
        let names: Vec<String> = shape.enumeration.iter().map(enum_text).collect();
        let mut listed = names
            .iter()
            .take(12)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > 12 {
            listed.push_str(", ...");
        }
        let shown = node
            .scalar_text()
            .unwrap_or_else(|| describe(node).to_string());
        let mut message = format!(
            "`{shown}` is not a valid `{}`: expected one of {listed}",
            self.label()
        );
        let old = node
            .as_str()
            .and_then(|s| hints::old_enum_value(self.group, self.kind, &self.dotted(), s));
        let help = if let Some((why, what)) = old {
            let _ = write!(message, "; {why}");
            Some(what.to_string())
        } else {
            node.as_str()
                .and_then(|s| crate::text::closest_field(s, names.iter().map(String::as_str)))
                .map(|s| format!("did you mean `{s}`?"))
        };
        self.violation(node, message, help);
    }

    fn string(&mut self, node: &'n Node, s: &str, shape: &Shape) {
        let chars = s.chars().count() as u64;
        if let Some(min) = shape.min_length
            && chars < min
        {
            let message = if chars == 0 {
                format!(
                    "`{}` is empty; it needs at least {min} characters",
                    self.label()
                )
            } else {
                format!(
                    "`{}` is {chars} characters long, fewer than the minimum of {min}",
                    self.label()
                )
            };
            self.violation(node, message, None);
        }
        if let Some(max) = shape.max_length
            && chars > max
        {
            self.violation(
                node,
                format!(
                    "`{}` is {chars} characters long, more than the maximum of {max}",
                    self.label()
                ),
                Some(format!("shorten it to at most {max} characters")),
            );
        }
        if let Some(pattern) = &shape.pattern
            && let Some(regex) = &pattern.regex
            && !regex.is_match(s)
        {
            let message = match hints::pattern_hint(&pattern.source) {
                Some(hint) => format!("`{s}` is not a valid `{}`: expected {hint}", self.label()),
                None => format!(
                    "`{s}` is not a valid `{}`: it does not match the pattern `{}`",
                    self.label(),
                    pattern.source
                ),
            };
            self.violation(node, message, None);
        }
    }

    fn number(&mut self, node: &'n Node, shape: &Shape) {
        let value = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => return,
        };
        let shown = node.scalar_text().unwrap_or_default();
        if let Some(min) = shape.minimum {
            let below = if min.exclusive {
                value <= min.value
            } else {
                value < min.value
            };
            if below {
                let relation = if min.exclusive {
                    "must be greater than"
                } else {
                    "is below the minimum of"
                };
                self.violation(
                    node,
                    format!(
                        "`{}` is `{shown}`, which {relation} `{}`",
                        self.label(),
                        number_text(min.value)
                    ),
                    None,
                );
            }
        }
        if let Some(max) = shape.maximum {
            let above = if max.exclusive {
                value >= max.value
            } else {
                value > max.value
            };
            if above {
                let relation = if max.exclusive {
                    "must be less than"
                } else {
                    "is above the maximum of"
                };
                self.violation(
                    node,
                    format!(
                        "`{}` is `{shown}`, which {relation} `{}`",
                        self.label(),
                        number_text(max.value)
                    ),
                    None,
                );
            }
        }
        if let Some(step) = shape.multiple_of {
            let ratio = value / step;
            if (ratio - ratio.round()).abs() > 1e-9 {
                self.violation(
                    node,
                    format!(
                        "`{}` is `{shown}`, not a multiple of `{}`",
                        self.label(),
                        number_text(step)
                    ),
                    None,
                );
            }
        }
    }

    fn array(&mut self, node: &'n Node, items: &'n [Node], shape: &Shape) {
        let count = items.len() as u64;
        if let Some(min) = shape.min_items
            && count < min
        {
            let message = if count == 0 {
                format!("`{}` is empty; it needs at least {min}", self.label())
            } else {
                format!(
                    "`{}` has {count} items, fewer than the minimum of {min}",
                    self.label()
                )
            };
            self.violation(node, message, None);
        }
        if let Some(max) = shape.max_items
            && count > max
        {
            self.violation(
                node,
                format!(
                    "`{}` has {count} items, more than the maximum of {max}",
                    self.label()
                ),
                None,
            );
        }
        match &shape.list_type {
            ListType::Atomic => {}
            ListType::Set => self.duplicates(items, |item| Some(item.to_json())),
            ListType::Map(keys) => self.duplicates(items, |item| {
                let values: Vec<Json> = keys
                    .iter()
                    .map(|k| item.get(k).map_or(Json::Null, Node::to_json))
                    .collect();
                Some(Json::Array(values))
            }),
        }
        let Some(item_shape) = &shape.items else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            // A field missing from an item is reported at the item's first key (the item itself
            // spans lines).
            let anchor = item.entries().first().map_or(item, |e| &e.key);
            self.path.push(Seg::Index(i));
            self.value(item, item_shape, anchor, false);
            self.path.pop();
        }
    }

    /// Reports the second and later items whose `identity` repeats an earlier one's.
    fn duplicates(&mut self, items: &'n [Node], identity: impl Fn(&Node) -> Option<Json>) {
        let mut seen: Vec<Json> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(id) = identity(item) else {
                continue;
            };
            if seen.iter().any(|s| same(s, &id)) {
                self.path.push(Seg::Index(i));
                let shown = match &id {
                    Json::String(s) => format!("`{s}`"),
                    Json::Array(keys) => format!(
                        "the key {}",
                        keys.iter().map(enum_text).collect::<Vec<_>>().join("/")
                    ),
                    other => format!("`{other}`"),
                };
                let message = format!(
                    "{shown} appears more than once in `{}`, whose items must be unique",
                    label_of(
                        self.path
                            .get(..self.path.len().saturating_sub(1))
                            .unwrap_or_default(),
                        self.kind
                    )
                );
                self.violation(item, message, Some("remove the repeated item".to_string()));
                self.path.pop();
            } else {
                seen.push(id);
            }
        }
    }

    fn object(&mut self, node: &'n Node, shape: &Shape, anchor: &'n Node, root: bool) {
        let mut kept = 0u64;
        let mut present: Vec<&str> = Vec::new();
        for entry in node.entries() {
            let key = entry.key.scalar_text().unwrap_or_default();
            let value = &entry.value;
            if (root || shape.embedded_resource) && matches!(key.as_str(), "apiVersion" | "kind") {
                present.push(key_str(entry));
                kept += 1;
                continue;
            }
            if root && key == "status" {
                // Written by controllers, not users; the status subresource ignores it here.
                present.push(key_str(entry));
                continue;
            }
            if (root || shape.embedded_resource) && key == "metadata" {
                present.push(key_str(entry));
                kept += 1;
                self.path.push(Seg::Key(key));
                self.object_meta(value);
                self.path.pop();
                continue;
            }
            let known = shape.property(&key);
            let field_shape = match (known, &shape.additional) {
                (Some(s), _) => Some(s),
                (None, Additional::Schema(s)) => Some(&**s),
                (None, Additional::Any) => None,
                (None, Additional::Prune) => {
                    if self.branch {
                        if !value.is_null() {
                            present.push(key_str(entry));
                        }
                    } else if !shape.preserve_unknown {
                        self.unknown(entry, &key, shape);
                    }
                    None
                }
            };
            let Some(field_shape) = field_shape else {
                if shape.keeps_unknown() && !value.is_null() {
                    kept += 1;
                    present.push(key_str(entry));
                }
                continue;
            };
            if value.is_null() && !field_shape.nullable {
                // The API server drops a null in a field that is not nullable (and then
                // applies the field's default, if it has one): the same as leaving it out.
                continue;
            }
            present.push(key_str(entry));
            kept += 1;
            self.path.push(Seg::Key(key));
            self.value(value, field_shape, &entry.key, false);
            self.path.pop();
        }
        for name in &shape.required {
            if present.contains(&name.as_str()) {
                continue;
            }
            if shape.property(name).is_some_and(|p| p.has_default) {
                // Defaulting fills it in before validation.
                continue;
            }
            let null_entry = node.entry(name);
            let owner = if self.path.is_empty() {
                self.kind.to_string()
            } else {
                self.label()
            };
            match null_entry {
                Some(entry) => {
                    let message = format!(
                        "`{name}` is null, which the API server drops, but `{owner}` requires it"
                    );
                    self.violation(&entry.key, message, Some(format!("give `{name}` a value")));
                }
                None => {
                    let message = format!("`{owner}` is missing the required field `{name}`");
                    self.violation(anchor, message, Some(format!("add `{name}`")));
                }
            }
        }
        if let Some(min) = shape.min_properties
            && kept < min
        {
            self.violation(
                node,
                format!(
                    "`{}` has {kept} entries, fewer than the minimum of {min}",
                    self.label()
                ),
                None,
            );
        }
        if let Some(max) = shape.max_properties
            && kept > max
        {
            self.violation(
                node,
                format!(
                    "`{}` has {kept} entries, more than the maximum of {max}",
                    self.label()
                ),
                Some(format!("keep at most {max} entries")),
            );
        }
    }

    /// `metadata` of an object: the standard ObjectMeta. Only the types of `name`,
    /// `generateName`, `namespace`, `labels` and `annotations` are checked; fields ObjectMeta
    /// does not have are pruned.
    fn object_meta(&mut self, meta: &'n Node) {
        let (string, map, object) = meta_shapes();
        match &meta.value {
            Value::Null => return,
            Value::Map(_) => {}
            _ => {
                self.type_matches(meta, object);
                return;
            }
        }
        for entry in meta.entries() {
            let key = entry.key.scalar_text().unwrap_or_default();
            let shape = match key.as_str() {
                "name" | "generateName" | "namespace" => string,
                "labels" | "annotations" => map,
                k if OBJECT_META_FIELDS.contains(&k) => continue,
                _ => {
                    let suggestion =
                        crate::text::closest_field(&key, OBJECT_META_FIELDS.iter().copied());
                    let mut message = format!(
                        "unknown field `{key}` in `metadata` would be dropped by the API server"
                    );
                    let help = match suggestion {
                        Some(s) => {
                            let _ = write!(message, "; did you mean `{s}`?");
                            format!("rename `{key}` to `{s}`")
                        }
                        None => format!(
                            "remove `{key}`: `metadata` holds the standard object metadata only"
                        ),
                    };
                    self.path.push(Seg::Key(key));
                    self.push(IssueKind::Pruned, &entry.key, message, Some(help));
                    self.path.pop();
                    continue;
                }
            };
            if entry.value.is_null() {
                continue;
            }
            self.path.push(Seg::Key(key));
            self.value(&entry.value, shape, &entry.key, false);
            self.path.pop();
        }
    }

    /// Reports a field the schema does not know, with what it probably meant.
    fn unknown(&mut self, entry: &'n crate::node::Entry, key: &str, shape: &Shape) {
        let parent = self.dotted();
        let place = if parent.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{parent}`")
        };
        let mut message =
            format!("unknown field `{key}` {place} would be dropped by the API server");
        let help;
        if let Some((why, what)) = hints::moved_field(self.group, self.kind, &parent, key) {
            let _ = write!(message, ": {why}");
            help = what.to_string();
        } else if let Some(name) =
            crate::text::closest_field(key, shape.properties.iter().map(|(n, _)| n.as_str()))
        {
            let _ = write!(message, "; did you mean `{name}`?");
            help = format!("rename `{key}` to `{name}`");
        } else if let Some(home) = belongs_in(self.root, &parent, key) {
            let _ = write!(message, "; `{key}` belongs in `{home}`");
            help = format!("move it under `{home}`");
        } else {
            let explain = if parent.is_empty() {
                self.kind.to_lowercase()
            } else {
                format!("{}.{parent}", self.kind.to_lowercase())
            };
            help = format!("remove it, or check the field names with `kubectl explain {explain}`");
        }
        self.path.push(Seg::Key(key.to_string()));
        self.push(IssueKind::Pruned, &entry.key, message, Some(help));
        self.path.pop();
    }

    fn combinators(&mut self, node: &'n Node, shape: &Shape) {
        for part in &shape.all_of {
            let found = self.branch(node, part);
            self.issues.extend(found);
        }
        if !shape.any_of.is_empty() {
            let mut first = None;
            let mut matched = false;
            for part in &shape.any_of {
                let found = self.branch(node, part);
                if found.is_empty() {
                    matched = true;
                    break;
                }
                if first.is_none() {
                    first = found.into_iter().next();
                }
            }
            if !matched {
                let detail = first.map(|i| format!(" (the first: {})", i.message));
                self.violation(
                    node,
                    format!(
                        "`{}` matches none of the forms the schema allows{}",
                        self.label(),
                        detail.unwrap_or_default()
                    ),
                    None,
                );
            }
        }
        if !shape.one_of.is_empty() {
            let matches = shape
                .one_of
                .iter()
                .filter(|part| self.branch(node, part).is_empty())
                .count();
            if matches != 1 {
                let how = if matches == 0 {
                    "none"
                } else {
                    "more than one"
                };
                self.violation(
                    node,
                    format!(
                        "`{}` matches {how} of the forms the schema allows (exactly one must match)",
                        self.label()
                    ),
                    None,
                );
            }
        }
        if let Some(not) = &shape.not
            && self.branch(node, not).is_empty()
        {
            self.violation(
                node,
                format!("`{}` has a form the schema forbids", self.label()),
                None,
            );
        }
    }

    /// The violations `node` has against one branch of a combinator (pruning is decided by the
    /// structural schema, not its branches).
    fn branch(&self, node: &'n Node, shape: &Shape) -> Vec<Issue<'n>> {
        let mut sub = Walker {
            root: self.root,
            group: self.group,
            kind: self.kind,
            path: self.path.clone(),
            issues: Vec::new(),
            branch: true,
        };
        sub.value(node, shape, node, false);
        sub.issues.retain(|i| i.kind == IssueKind::Violation);
        sub.issues
    }
}

/// The one place (or the nearest of two) where the kind's schema has a field named `key`, for
/// a field written at the wrong level (`spec.requirements` of a NodePool belongs in
/// `spec.template.spec`).
fn belongs_in(root: &Shape, parent: &str, key: &str) -> Option<String> {
    fn search(shape: &Shape, path: &str, key: &str, depth: usize, out: &mut Vec<String>) {
        if depth > 12 || out.len() > 2 {
            return;
        }
        if shape.property(key).is_some() {
            out.push(path.to_string());
        }
        for (name, sub) in &shape.properties {
            let sub_path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            search(sub, &sub_path, key, depth + 1, out);
        }
        if let Some(items) = &shape.items {
            search(items, &format!("{path}[]"), key, depth + 1, out);
        }
    }
    let mut found = Vec::new();
    search(root, "", key, 0, &mut found);
    if found.len() > 2 {
        return None;
    }
    let shared = |candidate: &String| {
        candidate
            .chars()
            .zip(parent.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    found
        .into_iter()
        .filter(|c| !c.is_empty() && c != parent)
        .max_by_key(shared)
}

fn key_str(entry: &crate::node::Entry) -> &str {
    entry.key.as_str().unwrap_or_default()
}

fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

fn label_of(path: &[Seg], kind: &str) -> String {
    let start = path
        .iter()
        .rposition(|s| matches!(s, Seg::Key(_)))
        .unwrap_or(0);
    let tail = dotted(path.get(start..).unwrap_or_default());
    if tail.is_empty() {
        kind.to_string()
    } else {
        tail
    }
}

/// An integer, or a float with no fractional part (YAML `1.0` reaches the API server as JSON
/// `1`).
fn is_integer(node: &Node) -> bool {
    match node.value {
        Value::Int(_) => true,
        Value::Float(f) => f.is_finite() && f.fract() == 0.0,
        _ => false,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

fn enum_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// What a schema node accepts, for messages: `a string`, `an integer or a string`.
fn expected(shape: &Shape) -> String {
    if shape.int_or_string {
        return "an integer or a string".to_string();
    }
    let mut names = Vec::new();
    for (t, name) in [
        (Types::STRING, "a string"),
        (Types::INTEGER, "an integer"),
        (Types::NUMBER, "a number"),
        (Types::BOOLEAN, "a boolean"),
        (Types::ARRAY, "a list"),
        (Types::OBJECT, "a mapping"),
    ] {
        if shape.types.has(t) {
            names.push(name);
        }
    }
    if shape.nullable {
        names.push("null");
    }
    match names.as_slice() {
        [] => "a value".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The value and its type, for messages: ``the integer `1` ``, `a list`.
fn describe(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Int(i) => format!("the integer `{i}`"),
        Value::Float(_) => format!("the number `{}`", node.scalar_text().unwrap_or_default()),
        Value::Str(s) => format!("the string `\"{s}\"`"),
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "a mapping".to_string(),
    }
}

/// How to fix a type error, when the fix is mechanical.
fn type_help(node: &Node, shape: &Shape) -> Option<String> {
    let wants_string = shape.types.has(Types::STRING) || shape.int_or_string;
    match &node.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) if wants_string => {
            // Not the value as Kubernetes reads it: `0042` is `34` and `on` is `true`.
            Some("quote the value as written, so that Kubernetes reads a string".to_string())
        }
        Value::Str(s)
            if (shape.types.has(Types::INTEGER) && s.trim().parse::<i64>().is_ok())
                || (shape.types.has(Types::NUMBER) && s.trim().parse::<f64>().is_ok()) =>
        {
            Some(format!("remove the quotes: `{}`", s.trim()))
        }
        Value::Str(s)
            if shape.types.has(Types::BOOLEAN)
                && matches!(s.to_lowercase().as_str(), "true" | "false") =>
        {
            Some(format!("remove the quotes: `{}`", s.to_lowercase()))
        }
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
            if shape.types.has(Types::ARRAY) =>
        {
            let text = node.scalar_text().unwrap_or_default();
            Some(format!("write a list, such as `[{text}]`"))
        }
        Value::Map(_) if shape.types.has(Types::ARRAY) => {
            Some("write a list: start the item with `- `, or wrap it in `[...]`".to_string())
        }
        Value::Seq(_) if shape.types.has(Types::OBJECT) => {
            Some("write a mapping of keys to values, not a list".to_string())
        }
        _ => None,
    }
}

fn date_time() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?$",
        )
        .ok()
    })
    .as_ref()
}

fn date() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").ok())
        .as_ref()
}

/// The shapes of the ObjectMeta fields eksgate checks: a string, and a map of strings.
fn meta_shapes() -> &'static (Shape, Shape, Shape) {
    static SHAPES: OnceLock<(Shape, Shape, Shape)> = OnceLock::new();
    SHAPES.get_or_init(|| {
        (
            Shape::compile(&serde_json::json!({"type": "string"})),
            Shape::compile(&serde_json::json!({
                "type": "object", "additionalProperties": {"type": "string"}
            })),
            Shape::compile(&serde_json::json!({"type": "object"})),
        )
    })
}

#[cfg(test)]
mod tests {
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
        let text =
            format!("apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\n{yaml}");
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
        let ok =
            "spec: {a: 9, b: 7, c: 1.5, d: éé, e: [1], f: {x: v}, g: \"2025-01-31T12:00:00Z\"}\n";
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
}
