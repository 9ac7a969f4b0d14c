//! YAML (and JSON) streams to [`Node`] trees, on `saphyr-parser` events.
//!
//! The tree is built here, not by a loader, for three reasons: an explicit stack bounds nesting
//! (saphyr's own loader recurses and overflows on `- - - …` 100k deep); alias expansion is
//! counted against a budget (billion laughs); and scalars are resolved as Kubernetes' YAML 1.1
//! decoder resolves them, with a note wherever YAML 1.2 would read them differently.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as EventSpan};

use crate::node::{Entry, Node, Span, Value};
use crate::source::Limits;

/// A finding made while parsing, before any rule runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseNote {
    pub kind: ParseNoteKind,
    pub span: Span,
    /// 0-based index of the document the note belongs to.
    pub document: usize,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseNoteKind {
    /// The source cannot be read as YAML (`YAML001`); what follows the fault is not checked.
    Syntax,
    /// A plain scalar that Kubernetes' YAML 1.1 decoder reads differently from YAML 1.2 (`YAML002`).
    Yaml11Scalar,
}

pub(crate) struct Parsed {
    /// One entry per document of the stream; `None` for an empty one.
    pub documents: Vec<Option<Node>>,
    pub notes: Vec<ParseNote>,
}

enum Frame {
    Seq {
        start: u32,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: u32,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
        /// Index of each key already seen (duplicate detection), by its text.
        seen: HashMap<String, usize>,
        /// Entries written as `<<: *anchor` (YAML 1.1 merge keys, which Kubernetes honours).
        merges: Vec<Node>,
        merge_key_pending: bool,
    },
}

/// Converts saphyr's character indices to byte offsets. Events arrive almost in order, so a
/// cursor that walks from the last position costs linear time overall, even on one-line JSON.
struct Offsets<'a> {
    text: &'a str,
    base: u32,
    chars: usize,
    bytes: usize,
}

impl Offsets<'_> {
    fn byte(&mut self, char_index: usize) -> u32 {
        while self.chars < char_index {
            let Some(c) = self.text.get(self.bytes..).and_then(|s| s.chars().next()) else {
                break;
            };
            self.bytes += c.len_utf8();
            self.chars += 1;
        }
        while self.chars > char_index {
            let Some(c) = self
                .text
                .get(..self.bytes)
                .and_then(|s| s.chars().next_back())
            else {
                break;
            };
            self.bytes -= c.len_utf8();
            self.chars -= 1;
        }
        self.base + self.bytes as u32
    }

    fn span(&mut self, span: &EventSpan) -> Span {
        let start = self.byte(span.start.index());
        let end = self.byte(span.end.index());
        Span::new(start, end.max(start))
    }
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    document: usize,
    root: Option<Node>,
    notes: Vec<ParseNote>,
}

pub(crate) fn parse_stream(text: &str, limits: &Limits) -> Parsed {
    let (body, base) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    };
    let mut offsets = Offsets {
        text: body,
        base,
        chars: 0,
        bytes: 0,
    };
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        document: 0,
        root: None,
        notes: Vec::new(),
    };
    let mut documents = Vec::new();
    let mut in_document = false;

    for event in Parser::new_from_str(body) {
        let (event, span) = match event {
            Ok(pair) => pair,
            Err(err) => {
                let at = offsets.byte(err.marker().index());
                // The scanner's own flow-depth guard says "recursion limit exceeded".
                let message = if err.info().contains("recursion limit") {
                    format!(
                        "nesting is deeper than {} levels; no Kubernetes object needs that",
                        limits.max_depth
                    )
                } else {
                    err.info().to_string()
                };
                builder.syntax(Span::empty(at), message, None);
                break;
            }
        };
        let span = offsets.span(&span);
        let result = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => {
                in_document = true;
                builder.root = None;
                builder.anchors.clear();
                Ok(())
            }
            Event::DocumentEnd => {
                if in_document {
                    let root = builder.root.take().filter(|n| !n.is_null());
                    documents.push(root);
                    builder.document += 1;
                    in_document = false;
                }
                if documents.len() > limits.max_documents {
                    Err((
                        span,
                        format!("more than {} documents in one file", limits.max_documents),
                    ))
                } else {
                    Ok(())
                }
            }
            Event::Alias(id) => builder.alias(id, span),
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag
                    .as_deref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let node = builder.scalar(&text, style, is_str_tag, span);
                let merge_key = style == ScalarStyle::Plain && text == "<<";
                builder.finish(node, anchor, merge_key)
            }
            Event::SequenceStart(anchor, _) => builder.open(
                Frame::Seq {
                    start: span.start,
                    anchor,
                    items: Vec::new(),
                },
                span,
            ),
            Event::MappingStart(anchor, _) => builder.open(
                Frame::Map {
                    start: span.start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                    merges: Vec::new(),
                    merge_key_pending: false,
                },
                span,
            ),
            Event::SequenceEnd | Event::MappingEnd => builder.close(span),
        };
        if let Err((span, message)) = result {
            builder.syntax(span, message, None);
            break;
        }
    }
    Parsed {
        documents,
        notes: builder.notes,
    }
}

type Step = Result<(), (Span, String)>;

impl Builder<'_> {
    fn syntax(&mut self, span: Span, message: String, help: Option<String>) {
        self.notes.push(ParseNote {
            kind: ParseNoteKind::Syntax,
            span,
            document: self.document,
            message,
            help,
        });
    }

    fn open(&mut self, frame: Frame, span: Span) -> Step {
        if self.stack.len() >= self.limits.max_depth {
            return Err((
                span,
                format!(
                    "nesting is deeper than {} levels; no Kubernetes object needs that",
                    self.limits.max_depth
                ),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: Span) -> Step {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        match frame {
            Frame::Seq {
                start,
                anchor,
                items,
            } => {
                let end = container_end(end, items.last());
                self.finish(
                    Node::new(Value::Seq(items), Span::new(start, end)),
                    anchor,
                    false,
                )
            }
            Frame::Map {
                start,
                anchor,
                mut entries,
                merges,
                mut seen,
                ..
            } => {
                let end = container_end(end, entries.last().map(|e| &e.value));
                // Explicit keys win over merged ones; earlier merge sources win over later ones.
                for source in merges {
                    let maps: Vec<Node> = match source.value {
                        Value::Map(_) => vec![source],
                        Value::Seq(items) => items,
                        _ => Vec::new(),
                    };
                    for map in maps {
                        if let Value::Map(merged) = map.value {
                            for entry in merged {
                                let Some(key) = entry.key.scalar_text() else {
                                    continue;
                                };
                                if let std::collections::hash_map::Entry::Vacant(e) =
                                    seen.entry(key)
                                {
                                    e.insert(entries.len());
                                    entries.push(entry);
                                }
                            }
                        }
                    }
                }
                self.finish(
                    Node::new(Value::Map(entries), Span::new(start, end)),
                    anchor,
                    false,
                )
            }
        }
    }

    fn alias(&mut self, id: usize, span: Span) -> Step {
        let Some((node, count)) = self.anchors.get(&id) else {
            return Err((span, "alias refers to an unknown anchor".to_string()));
        };
        self.alias_nodes += count;
        if self.alias_nodes > self.limits.max_alias_nodes {
            return Err((
                span,
                format!(
                    "aliases expand to more than {} nodes (a \"billion laughs\" document?)",
                    self.limits.max_alias_nodes
                ),
            ));
        }
        let node = node.clone();
        self.finish(node, 0, false)
    }

    /// Places a finished node into its parent (or makes it the document root).
    fn finish(&mut self, node: Node, anchor: usize, merge_key: bool) -> Step {
        if anchor != 0 {
            let count = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        let document = self.document;
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                key,
                seen,
                merges,
                merge_key_pending,
                ..
            }) => {
                let Some(k) = key.take() else {
                    *merge_key_pending = merge_key;
                    *key = Some(node);
                    return Ok(());
                };
                if std::mem::take(merge_key_pending) {
                    merges.push(node);
                    return Ok(());
                }
                let text = k.scalar_text().unwrap_or_default();
                if let Some(&first) = seen.get(&text) {
                    let first_span = entries.get(first).map(|e| e.key.span);
                    let note = ParseNote {
                        kind: ParseNoteKind::Syntax,
                        span: k.span,
                        document,
                        message: format!("duplicate key `{text}`"),
                        help: Some(
                            "Kubernetes rejects a mapping that repeats a key; keep one".to_string(),
                        ),
                    };
                    self.notes.push(note);
                    if let (Some(_), Some(slot)) = (first_span, entries.get_mut(first)) {
                        *slot = Entry {
                            key: k,
                            value: node,
                        };
                    }
                    return Ok(());
                }
                seen.insert(text, entries.len());
                entries.push(Entry {
                    key: k,
                    value: node,
                });
                Ok(())
            }
        }
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, is_str_tag: bool, span: Span) -> Node {
        if style != ScalarStyle::Plain || is_str_tag {
            return Node::new(Value::Str(text.to_string()), span);
        }
        let (value, yaml11) = resolve_plain(text);
        if let Some(reading) = yaml11 {
            self.notes.push(ParseNote {
                kind: ParseNoteKind::Yaml11Scalar,
                span,
                document: self.document,
                message: format!("`{text}` is {reading} to Kubernetes, not the string `{text}`"),
                help: Some(format!(
                    "Kubernetes reads YAML 1.1, where `{text}` is not a string; write `\"{text}\"` if you mean the text"
                )),
            });
        }
        Node::new(value, span)
    }
}

/// End of a container: flow collections end just after their closing bracket (the parser's
/// end span runs on over trailing spaces and comments); block collections at their last child
/// (the parser's end marker sits on the next token).
fn container_end(end: Span, last: Option<&Node>) -> u32 {
    if end.end > end.start {
        // `]` and `}` are one byte.
        end.start + 1
    } else {
        last.map_or(end.start, |n| n.span.end)
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|e| count_nodes(&e.key) + count_nodes(&e.value))
            .sum(),
        _ => 0,
    }
}

/// Resolves a plain scalar as Kubernetes (go-yaml v2, YAML 1.1) does. The second value says
/// how, when YAML 1.2 would read the same text differently.
fn resolve_plain(text: &str) -> (Value, Option<String>) {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return (Value::Null, None),
        "true" | "True" | "TRUE" => return (Value::Bool(true), None),
        "false" | "False" | "FALSE" => return (Value::Bool(false), None),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return (Value::Bool(true), Some("the boolean `true`".to_string()));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return (Value::Bool(false), Some("the boolean `false`".to_string()));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return (Value::Float(f64::INFINITY), None);
        }
        "-.inf" | "-.Inf" | "-.INF" => return (Value::Float(f64::NEG_INFINITY), None),
        ".nan" | ".NaN" | ".NAN" => return (Value::Float(f64::NAN), None),
        _ => {}
    }
    let first = text.as_bytes().first().copied().unwrap_or(b'a');
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return (Value::Str(text.to_string()), None);
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let plain: String = digits.chars().filter(|&c| c != '_').collect();
    let underscores = plain.len() != digits.len();
    if let Some(hex) = plain.strip_prefix("0x") {
        if let Ok(v) = i64::from_str_radix(hex, 16) {
            return (Value::Int(sign * v), None);
        }
    } else if let Some(bin) = plain.strip_prefix("0b") {
        if let Ok(v) = i64::from_str_radix(bin, 2) {
            return (
                Value::Int(sign * v),
                Some(format!("the integer `{}`", sign * v)),
            );
        }
    } else if !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_digit()) {
        if plain.len() > 1 && plain.starts_with('0') {
            if let Ok(v) = i64::from_str_radix(&plain, 8) {
                return (
                    Value::Int(sign * v),
                    Some(format!("the octal integer `{}`", sign * v)),
                );
            }
            // `089`: not octal, so YAML 1.1 reads a string; YAML 1.2 an integer.
            return (Value::Str(text.to_string()), None);
        }
        return match plain.parse::<i64>() {
            Ok(v) => (
                Value::Int(sign * v),
                underscores.then(|| format!("the integer `{}`", sign * v)),
            ),
            Err(_) => (Value::Float(plain.parse::<f64>().unwrap_or(0.0)), None),
        };
    }
    if is_float(&plain)
        && let Ok(v) = plain.parse::<f64>()
    {
        return (Value::Float(if sign < 0 { -v } else { v }), None);
    }
    (Value::Str(text.to_string()), None)
}

/// `[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    let digits_ok = int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(int.is_empty() && frac.is_empty());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    digits_ok && exp_ok && mantissa.contains('.') | exponent.is_some()
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_stream(text, &Limits::default())
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "a: 1\nb:\n  c: \"x\"\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        let entry = root.get("b").unwrap().entry("c").unwrap();
        assert_eq!(
            &text[entry.key.span.start as usize..entry.key.span.end as usize],
            "c"
        );
        assert_eq!(
            &text[entry.value.span.start as usize..entry.value.span.end as usize],
            "\"x\""
        );
    }

    #[test]
    fn multibyte_characters_do_not_shift_spans() {
        let text = "name: π-ünïcode\nkey: value\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        let entry = root.entry("key").unwrap();
        assert_eq!(
            &text[entry.key.span.start as usize..entry.key.span.end as usize],
            "key"
        );
    }

    #[test]
    fn bom_is_skipped() {
        let text = "\u{feff}a: b\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        let entry = root.entry("a").unwrap();
        assert_eq!(
            &text[entry.key.span.start as usize..entry.key.span.end as usize],
            "a"
        );
    }

    #[test]
    fn yaml11_booleans_are_noted() {
        let parsed = parse("enabled: on\nname: 'on'\n");
        assert_eq!(parsed.notes.len(), 1);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("enabled").unwrap().as_bool(), Some(true));
        assert_eq!(root.get("name").unwrap().as_str(), Some("on"));
    }

    #[test]
    fn octal_and_plain_numbers() {
        assert_eq!(resolve_plain("0755").0, Value::Int(493));
        assert_eq!(resolve_plain("20").0, Value::Int(20));
        assert_eq!(resolve_plain("1.5").0, Value::Float(1.5));
        assert_eq!(resolve_plain("20Gi").0, Value::Str("20Gi".into()));
        assert_eq!(resolve_plain("1.2.3").0, Value::Str("1.2.3".into()));
        assert_eq!(resolve_plain("-").0, Value::Str("-".into()));
        assert_eq!(resolve_plain("089").0, Value::Str("089".into()));
    }

    #[test]
    fn merge_keys_are_applied() {
        let parsed = parse("base: &b {p: 1, q: 2}\nchild:\n  <<: *b\n  q: 3\n");
        let root = parsed.documents[0].as_ref().unwrap();
        let child = root.get("child").unwrap();
        assert_eq!(child.get("p").unwrap().as_i64(), Some(1));
        assert_eq!(child.get("q").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn duplicate_keys_are_syntax_notes() {
        let parsed = parse("a: 1\na: 2\n");
        assert_eq!(parsed.notes.len(), 1);
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::Syntax);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let (prev, next) = (w[0], w[1]);
            text.push_str(&format!(
                "{next}: &{next} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let parsed = parse(&text);
        assert!(parsed.notes.iter().any(|n| n.message.contains("billion")));
    }

    #[test]
    fn deep_block_nesting_is_refused_without_recursion() {
        let text = "- ".repeat(100_000) + "x\n";
        let parsed = parse(&text);
        assert!(parsed.notes.iter().any(|n| n.message.contains("deeper")));
    }

    #[test]
    fn flow_collections_end_at_their_bracket() {
        let text = "a: [x, y] # comment\nb: {c: d}   # more\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        for key in ["a", "b"] {
            let span = root.get(key).unwrap().span;
            let covered = &text[span.start as usize..span.end as usize];
            assert!(covered == "[x, y]" || covered == "{c: d}", "{covered:?}");
        }
    }

    #[test]
    fn empty_documents_are_none() {
        let parsed = parse("---\n---\na: 1\n");
        assert_eq!(parsed.documents.len(), 2);
        assert!(parsed.documents[0].is_none());
    }
}
