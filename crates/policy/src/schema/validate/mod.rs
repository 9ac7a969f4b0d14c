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

mod scalars;

use scalars::{enum_text, expected, same};

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
    /// The exact repair, when there is one.
    pub fix: Option<IssueFix>,
}

/// An exact repair of an issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueFix {
    /// A quoted boolean or number where the schema wants one: the value written plain.
    Unquote(String),
    /// A misspelt field: the known field it was meant to be (not present in the mapping).
    Rename(String),
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
            fix: None,
        });
    }

    /// Gives the issue just reported its repair.
    fn last_fix(&mut self, fix: IssueFix) {
        if let Some(issue) = self.issues.last_mut() {
            issue.fix = Some(fix);
        }
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
                        self.unknown(node, entry, &key, shape);
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
                    let rename = suggestion
                        .filter(|s| meta.entry(s).is_none())
                        .map(|s| IssueFix::Rename(s.to_string()));
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
                    if let Some(fix) = rename {
                        self.last_fix(fix);
                    }
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
    fn unknown(&mut self, map: &Node, entry: &'n crate::node::Entry, key: &str, shape: &Shape) {
        let parent = self.dotted();
        let place = if parent.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{parent}`")
        };
        let mut message =
            format!("unknown field `{key}` {place} would be dropped by the API server");
        let help;
        let mut rename = None;
        if let Some((why, what)) = hints::moved_field(self.group, self.kind, &parent, key) {
            let _ = write!(message, ": {why}");
            help = what.to_string();
        } else if let Some(name) =
            crate::text::closest_field(key, shape.properties.iter().map(|(n, _)| n.as_str()))
        {
            let _ = write!(message, "; did you mean `{name}`?");
            help = format!("rename `{key}` to `{name}`");
            if map.entry(name).is_none() {
                rename = Some(IssueFix::Rename(name.to_string()));
            }
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
        if let Some(fix) = rename {
            self.last_fix(fix);
        }
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
mod tests;
