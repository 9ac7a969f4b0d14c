//! [`Y`]: the value tree rendered files are built as, with the request field each part comes
//! from, and its writers (block YAML, JSON).
//!
//! Every string is written so that it reads back as the same string and nothing else: plain
//! only when it is a word no YAML 1.1 or 1.2 reader takes for a number, boolean or null, and
//! double-quoted otherwise with every control and non-ASCII character escaped. No byte of the
//! request becomes YAML structure.

use crate::node::Span;

/// A value of a rendered document.
#[derive(Clone, Debug, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
    /// A value that comes from the request field at this span (for findings on the rendered
    /// value to point back at it). Written as the value itself.
    From(Span, Box<Y>),
}

impl Y {
    pub fn str(text: impl Into<String>) -> Y {
        Y::Str(text.into())
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Y)>) -> Y {
        Y::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn seq(items: impl IntoIterator<Item = Y>) -> Y {
        Y::Seq(items.into_iter().collect())
    }

    /// This value, marked as coming from the field at `span` (a default value, span `0..0`,
    /// comes from nowhere and is left unmarked).
    #[must_use]
    pub fn from(self, span: Span) -> Y {
        if span == Span::default() {
            self
        } else {
            Y::From(span, Box::new(self))
        }
    }

    fn inner(&self) -> &Y {
        match self {
            Y::From(_, inner) => inner.inner(),
            other => other,
        }
    }
}

/// `(JSON pointer in the rendered document, span in the request)` of every marked value.
pub fn provenance(root: &Y) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    walk(root, &mut String::new(), &mut out);
    out
}

fn walk(value: &Y, pointer: &mut String, out: &mut Vec<(String, Span)>) {
    match value {
        Y::From(span, inner) => {
            out.push((pointer.clone(), *span));
            walk(inner, pointer, out);
        }
        Y::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                walk(item, pointer, out);
                pointer.truncate(len);
            }
        }
        Y::Map(entries) => {
            for (key, item) in entries {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&crate::node::escape_pointer(key));
                walk(item, pointer, out);
                pointer.truncate(len);
            }
        }
        Y::Str(_) | Y::Int(_) | Y::Bool(_) | Y::Null => {}
    }
}

/// Words YAML 1.1 (what Kubernetes reads) or 1.2 takes for a boolean or null.
const SPECIAL: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
];

/// Whether `text` can be written plain and read back as this string.
fn is_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@' | ':'))
        && !text.ends_with(':')
        && !text.contains("::")
        && !SPECIAL.contains(&text.to_ascii_lowercase().as_str())
}

/// A double-quoted scalar, valid in YAML and JSON, with everything but printable ASCII
/// escaped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

fn scalar(text: &str) -> String {
    if is_plain(text) {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// The value as one line, when it is a scalar or an empty collection.
fn inline(value: &Y) -> Option<String> {
    match value.inner() {
        Y::Str(s) => Some(scalar(s)),
        Y::Int(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        Y::Null => Some("null".to_string()),
        Y::Seq(items) if items.is_empty() => Some("[]".to_string()),
        Y::Map(entries) if entries.is_empty() => Some("{}".to_string()),
        Y::Seq(_) | Y::Map(_) | Y::From(..) => None,
    }
}

/// The document as block YAML (a mapping at the root), ending with a newline.
pub fn yaml(root: &Y) -> String {
    let mut out = String::new();
    match root.inner() {
        Y::Map(entries) => write_map(entries, 0, &mut out),
        other => {
            out.push_str(&inline(other).unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

fn write_map(entries: &[(String, Y)], indent: usize, out: &mut String) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar(key));
        out.push(':');
        write_value(value, indent, out);
    }
}

/// Writes what follows `key:` (or `- `).
fn write_value(value: &Y, indent: usize, out: &mut String) {
    if let Some(text) = inline(value) {
        out.push(' ');
        out.push_str(&text);
        out.push('\n');
        return;
    }
    out.push('\n');
    match value.inner() {
        Y::Map(entries) => write_map(entries, indent + 2, out),
        Y::Seq(items) => write_seq(items, indent + 2, out),
        _ => {}
    }
}

fn write_seq(items: &[Y], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item.inner() {
            Y::Map(entries) if !entries.is_empty() => {
                // The first entry on the dash's line, the others under it.
                let mut first = true;
                for (key, value) in entries {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&scalar(key));
                    out.push(':');
                    write_value(value, indent + 2, out);
                }
            }
            Y::Seq(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(inner, indent + 2, out);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other).unwrap_or_default());
                out.push('\n');
            }
        }
    }
}

/// The value as pretty JSON (two-space indent, keys in the tree's order), ending with a newline.
pub fn json(root: &Y) -> String {
    let mut out = String::new();
    write_json(root, 0, &mut out);
    out.push('\n');
    out
}

fn write_json(value: &Y, indent: usize, out: &mut String) {
    match value.inner() {
        Y::Str(s) => out.push_str(&quoted(s)),
        Y::Int(n) => out.push_str(&n.to_string()),
        Y::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Y::Null => out.push_str("null"),
        Y::Seq(items) if items.is_empty() => out.push_str("[]"),
        Y::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Y::Seq(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&" ".repeat(indent + 2));
                write_json(item, indent + 2, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Y::Map(entries) => {
            out.push_str("{\n");
            for (i, (key, item)) in entries.iter().enumerate() {
                out.push_str(&" ".repeat(indent + 2));
                out.push_str(&quoted(key));
                out.push_str(": ");
                write_json(item, indent + 2, out);
                out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        Y::From(..) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_look_like_something_else_are_quoted() {
        for (text, written) in [
            ("on-demand", "on-demand"),
            ("yes", "\"yes\""),
            ("Off", "\"Off\""),
            ("1.33", "\"1.33\""),
            ("0755", "\"0755\""),
            ("2xlarge", "\"2xlarge\""),
            ("", "\"\""),
            ("a: b", "\"a: b\""),
            ("x\n- y", "\"x\\n- y\""),
            ("\u{2028}", "\"\\u2028\""),
            (
                "arn:aws:kms:us-east-1:123456789012:key/x",
                "arn:aws:kms:us-east-1:123456789012:key/x",
            ),
            ("#c", "\"#c\""),
        ] {
            assert_eq!(scalar(text), written, "{text:?}");
        }
    }

    #[test]
    fn block_yaml_and_pointers() {
        let doc = Y::map([
            ("a", Y::str("x")),
            (
                "b",
                Y::seq([
                    Y::map([("k", Y::Int(1)), ("l", Y::seq([]))]),
                    Y::str("z").from(Span::new(5, 6)),
                ]),
            ),
            ("c", Y::map([("d/e", Y::Bool(true))]).from(Span::new(1, 2))),
        ]);
        assert_eq!(
            yaml(&doc),
            "a: x\nb:\n  - k: 1\n    l: []\n  - z\nc:\n  d/e: true\n"
        );
        assert_eq!(
            provenance(&doc),
            vec![
                ("/b/1".to_string(), Span::new(5, 6)),
                ("/c".to_string(), Span::new(1, 2))
            ]
        );
        assert_eq!(
            json(&doc),
            "{\n  \"a\": \"x\",\n  \"b\": [\n    {\n      \"k\": 1,\n      \"l\": []\n    },\n    \"z\"\n  ],\n  \"c\": {\n    \"d/e\": true\n  }\n}\n"
        );
    }
}
