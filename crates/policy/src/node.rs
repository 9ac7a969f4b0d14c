//! The document tree: YAML/JSON values that remember where they came from.
//!
//! Scalars are resolved the way the Kubernetes API server's decoder (`sigs.k8s.io/yaml`, a YAML 1.1
//! reader) resolves them, because that is what the cluster will see. The parser warns where that
//! differs from YAML 1.2 (`on`, `yes`, `0755`), see `YAML002`.

use std::sync::Arc;

pub use compact_str::CompactString;

/// A byte range in a source text (`start..end`), 0-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    #[must_use]
    pub const fn new(start: u32, end: u32) -> Self {
        Self { start, end }
    }

    #[must_use]
    pub const fn empty(at: u32) -> Self {
        Self { start: at, end: at }
    }

    /// The smallest span that covers both.
    #[must_use]
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A value in a document, with the span of its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A decoded value. Containers are shared (`Arc`): an alias of an anchored node costs a pointer,
/// not a copy, so neither anchors nor aliases make memory grow with what they expand to (the
/// alias budget in `source::Limits` bounds the expanded size that rules walk).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Text up to 24 bytes is held inline (most keys and values), longer text on the heap.
    Str(CompactString),
    /// Shared slices: one allocation each, of exactly the items (no vector header or spare
    /// capacity kept for the run).
    Seq(Arc<[Node]>),
    Map(Arc<[Entry]>),
}

/// One `key: value` pair of a mapping. Keys keep their own span so a diagnostic can point at them.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Entry {
    /// The key as text (`null` keys and other non-string keys give `None`).
    #[must_use]
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_str()
    }
}

impl Node {
    #[must_use]
    pub fn new(value: Value, span: Span) -> Self {
        Self { value, span }
    }

    /// The value of `key` in a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The `key: value` entry of a mapping (to point at the key).
    #[must_use]
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key_str() == Some(key)),
            _ => None,
        }
    }

    /// Follows a path of mapping keys: `node.path(&["spec", "template", "spec"])`.
    #[must_use]
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Items of a sequence; empty for anything else (absent lists and wrong types read as empty).
    #[must_use]
    pub fn items(&self) -> &[Node] {
        self.as_seq().unwrap_or(&[])
    }

    /// Entries of a mapping; empty for anything else.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        self.as_map().unwrap_or(&[])
    }

    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The scalar as Kubernetes would print it in a label or tag (`true`, `3`, `text`).
    #[must_use]
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Null => Some(String::new()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// A short name of the value's type, for messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// The JSON pointer of `target` (a node or a key inside this tree), if it is in it.
    /// Found by identity, so rules can point at any node they hold without tracking paths.
    #[must_use]
    pub fn pointer_to(&self, target: &Node) -> Option<String> {
        let mut path = Vec::new();
        if find_path(self, target, &mut path) {
            let mut out = String::new();
            for segment in path {
                out.push('/');
                out.push_str(&escape_pointer(&segment));
            }
            Some(out)
        } else {
            None
        }
    }

    /// The JSON pointer of the node (or key) whose span is `span`, if one is in this tree.
    #[must_use]
    pub fn pointer_to_span(&self, span: Span) -> Option<String> {
        let target = self.find_span(span)?;
        self.pointer_to(target)
    }

    fn find_span(&self, span: Span) -> Option<&Node> {
        if self.span == span && !matches!(self.value, Value::Seq(_) | Value::Map(_)) {
            return Some(self);
        }
        if span.start < self.span.start || span.end > self.span.end {
            return None;
        }
        match &self.value {
            Value::Seq(items) => items.iter().find_map(|n| n.find_span(span)),
            Value::Map(entries) => entries.iter().find_map(|e| {
                if e.key.span == span {
                    Some(&e.key)
                } else {
                    e.value.find_span(span)
                }
            }),
            _ => None,
        }
    }

    /// Converts to a `serde_json::Value` (for custom checks and the JSON renderer).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.scalar_text().unwrap_or_default(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

fn find_path(node: &Node, target: &Node, path: &mut Vec<String>) -> bool {
    if std::ptr::eq(node, target) {
        return true;
    }
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                if find_path(item, target, path) {
                    return true;
                }
                path.pop();
            }
        }
        Value::Map(entries) => {
            for entry in entries.iter() {
                path.push(entry.key.scalar_text().unwrap_or_default());
                if std::ptr::eq(&entry.key, target) || find_path(&entry.value, target, path) {
                    return true;
                }
                path.pop();
            }
        }
        _ => {}
    }
    false
}

/// RFC 6901 escaping of one pointer segment.
#[must_use]
pub fn escape_pointer(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree is most of what a large file costs: a value a few bytes long takes one `Node`
    /// (bench/hostile measures peak RSS per input byte on the densest shapes).
    #[test]
    fn tree_nodes_stay_small() {
        assert_eq!(size_of::<Value>(), 24);
        assert_eq!(size_of::<Node>(), 32);
        assert_eq!(size_of::<Entry>(), 64);
    }
}
