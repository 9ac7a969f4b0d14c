//! JSON streams to [`Node`] trees, read the way Kubernetes reads them.
//!
//! apimachinery's `YAMLOrJSONDecoder` decodes a stream whose first non-space character is `{`
//! as JSON, with Go's `encoding/json`: a stream of values (each one document), strict grammar,
//! escapes and surrogate pairs as in RFC 8259 (a lone surrogate becomes U+FFFD), the last of
//! repeated keys wins, and numbers become 64-bit integers when they are integers, floats
//! otherwise (out of range is an error). The tree is built by the same [`TreeBuilder`] as YAML,
//! with its depth and size limits; the scanner is a loop, not a recursion.

use crate::node::{CompactString, Node, Span, Value};
use crate::source::Limits;
use crate::source::scalar::json_number;
use crate::source::tree::{Budget, Step, TreeBuilder};
use crate::source::yaml::{ParseNoteKind, Parsed};

/// Whether Kubernetes would read `text` as JSON: its first non-space character is `{`
/// (apimachinery `hasJSONPrefix`, which trims Unicode spaces; a byte-order mark is not one).
pub(crate) fn is_json_stream(text: &str) -> bool {
    text.trim_start_matches(char::is_whitespace)
        .starts_with('{')
}

pub(crate) fn parse_stream(text: &str, limits: &Limits, budget: &mut Budget) -> Parsed {
    let mut builder = TreeBuilder::new(limits, budget);
    let mut scanner = Scanner { text, pos: 0 };
    let mut documents = Vec::new();
    loop {
        scanner.skip_space();
        if scanner.pos >= text.len() {
            break;
        }
        if documents.len() >= limits.max_documents {
            builder.note(
                ParseNoteKind::Syntax,
                Span::empty(scanner.pos as u32),
                format!("more than {} documents in one file", limits.max_documents),
                None,
            );
            break;
        }
        builder.start_document(documents.len());
        let result = value(&mut scanner, &mut builder);
        documents.push(builder.end_document());
        if let Err((span, message)) = result {
            builder.note(
                ParseNoteKind::Syntax,
                span,
                message,
                Some("Kubernetes reads a file whose first character is `{` as JSON; if this is YAML in flow style, start the file with a `---` line or a comment".to_string()),
            );
            break;
        }
    }
    Parsed {
        documents,
        notes: builder.notes,
    }
}

struct Scanner<'t> {
    text: &'t str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn here(&self) -> Span {
        Span::empty(self.pos as u32)
    }

    /// Go's wording: "invalid character 'x' looking for beginning of value".
    fn unexpected(&self, context: &str) -> (Span, String) {
        match self.text.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => (
                Span::new(self.pos as u32, (self.pos + c.len_utf8()) as u32),
                format!("invalid character {} {context}", quote_char(c)),
            ),
            None => (self.here(), "unexpected end of JSON input".to_string()),
        }
    }
}

fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        c if c.is_control() => format!("'\\u{:04x}'", u32::from(c)),
        c => format!("'{c}'"),
    }
}

/// What the scanner expects next inside the open containers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (document root, array item, object value).
    Value,
    /// After an array item: `,` or `]`.
    ArrayNext,
    /// After `[`: a value or `]`.
    ArrayFirst,
    /// After `{`: a key or `}`.
    ObjectFirst,
    /// After `,` in an object: a key.
    ObjectKey,
    /// After an object value: `,` or `}`.
    ObjectNext,
}

/// Reads one complete value (with everything inside it).
fn value(s: &mut Scanner<'_>, b: &mut TreeBuilder<'_>) -> Step {
    // One entry per open container: true for arrays.
    let mut open: Vec<bool> = Vec::new();
    let mut expect = Expect::Value;
    loop {
        s.skip_space();
        match expect {
            Expect::Value | Expect::ArrayFirst => {
                if expect == Expect::ArrayFirst && s.peek() == Some(b']') {
                    close(s, b, &mut open)?;
                } else {
                    match s.peek() {
                        Some(b'{') => {
                            b.open_map(Span::new(s.pos as u32, s.pos as u32 + 1), None, true)?;
                            s.pos += 1;
                            open.push(false);
                            expect = Expect::ObjectFirst;
                            continue;
                        }
                        Some(b'[') => {
                            b.open_seq(Span::new(s.pos as u32, s.pos as u32 + 1), None, true)?;
                            s.pos += 1;
                            open.push(true);
                            expect = Expect::ArrayFirst;
                            continue;
                        }
                        _ => {
                            let node = scalar(s)?;
                            b.scalar(node, None, false, None)?;
                        }
                    }
                }
            }
            Expect::ObjectFirst | Expect::ObjectKey => {
                if expect == Expect::ObjectFirst && s.peek() == Some(b'}') {
                    close(s, b, &mut open)?;
                } else {
                    if s.peek() != Some(b'"') {
                        return Err(s.unexpected("looking for beginning of object key string"));
                    }
                    let key = string(s)?;
                    b.scalar(key, None, false, None)?;
                    s.skip_space();
                    if s.peek() != Some(b':') {
                        return Err(s.unexpected("after object key"));
                    }
                    s.pos += 1;
                    expect = Expect::Value;
                    continue;
                }
            }
            Expect::ArrayNext | Expect::ObjectNext => {
                let (sep, end, context) = if expect == Expect::ArrayNext {
                    (b',', b']', "after array element")
                } else {
                    (b',', b'}', "after object key:value pair")
                };
                match s.peek() {
                    Some(c) if c == sep => {
                        s.pos += 1;
                        expect = if expect == Expect::ArrayNext {
                            Expect::Value
                        } else {
                            Expect::ObjectKey
                        };
                        continue;
                    }
                    Some(c) if c == end => close(s, b, &mut open)?,
                    _ => return Err(s.unexpected(context)),
                }
            }
        }
        // A value (or a container) just finished: what comes next depends on its parent.
        expect = match open.last() {
            None => return Ok(()),
            Some(true) => Expect::ArrayNext,
            Some(false) => Expect::ObjectNext,
        };
    }
}

fn close(s: &mut Scanner<'_>, b: &mut TreeBuilder<'_>, open: &mut Vec<bool>) -> Step {
    let span = Span::new(s.pos as u32, s.pos as u32 + 1);
    s.pos += 1;
    open.pop();
    b.close(span)
}

fn scalar(s: &mut Scanner<'_>) -> Result<Node, (Span, String)> {
    let start = s.pos;
    match s.peek() {
        Some(b'"') => string(s),
        Some(b't' | b'f' | b'n') => {
            for (word, value) in [
                ("true", Value::Bool(true)),
                ("false", Value::Bool(false)),
                ("null", Value::Null),
            ] {
                if s.text.get(start..).is_some_and(|t| t.starts_with(word)) {
                    s.pos += word.len();
                    return Ok(Node::new(value, Span::new(start as u32, s.pos as u32)));
                }
            }
            // Point at the first character that breaks the literal, as Go does.
            let word = ["true", "false", "null"]
                .into_iter()
                .find(|w| w.as_bytes().first() == s.peek().as_ref())
                .unwrap_or("null");
            let matched = s
                .text
                .get(start..)
                .unwrap_or("")
                .bytes()
                .zip(word.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            s.pos = start + matched;
            Err(s.unexpected(&format!(
                "in literal {word} (expecting '{}')",
                word.get(matched..=matched).unwrap_or("")
            )))
        }
        Some(b'-' | b'0'..=b'9') => number(s),
        _ => Err(s.unexpected("looking for beginning of value")),
    }
}

fn number(s: &mut Scanner<'_>) -> Result<Node, (Span, String)> {
    let start = s.pos;
    let bytes = s.text.as_bytes();
    let digits = |s: &mut Scanner<'_>| {
        let from = s.pos;
        while bytes.get(s.pos).is_some_and(u8::is_ascii_digit) {
            s.pos += 1;
        }
        s.pos - from
    };
    if s.peek() == Some(b'-') {
        s.pos += 1;
    }
    match s.peek() {
        Some(b'0') => s.pos += 1,
        Some(b'1'..=b'9') => {
            digits(s);
        }
        _ => return Err(s.unexpected("in numeric literal")),
    }
    let mut integral = true;
    if s.peek() == Some(b'.') {
        s.pos += 1;
        integral = false;
        if digits(s) == 0 {
            return Err(s.unexpected("after decimal point in numeric literal"));
        }
    }
    if matches!(s.peek(), Some(b'e' | b'E')) {
        s.pos += 1;
        integral = false;
        if matches!(s.peek(), Some(b'+' | b'-')) {
            s.pos += 1;
        }
        if digits(s) == 0 {
            return Err(s.unexpected("in exponent of numeric literal"));
        }
    }
    let text = s.text.get(start..s.pos).unwrap_or("0");
    let span = Span::new(start as u32, s.pos as u32);
    // apimachinery's JSON: Int64 when it parses as one, else Float64 (range errors refuse).
    if integral && let Ok(i) = text.parse::<i64>() {
        return Ok(Node::new(Value::Int(i), span));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Node::new(json_number(f), span)),
        _ => Err((span, format!("number `{text}` is out of range"))),
    }
}

fn string(s: &mut Scanner<'_>) -> Result<Node, (Span, String)> {
    let start = s.pos;
    s.pos += 1; // the opening quote
    // Inline up to 24 bytes: most keys and values never allocate.
    let mut out = CompactString::default();
    loop {
        let rest = s.text.get(s.pos..).unwrap_or("");
        // Copy the run up to the next quote, backslash or control character at once.
        let run = rest
            .bytes()
            .position(|c| c == b'"' || c == b'\\' || c < 0x20)
            .unwrap_or(rest.len());
        out.push_str(rest.get(..run).unwrap_or(""));
        s.pos += run;
        match s.peek() {
            None => return Err((s.here(), "unexpected end of JSON input".to_string())),
            Some(b'"') => {
                s.pos += 1;
                return Ok(Node::new(
                    Value::Str(out),
                    Span::new(start as u32, s.pos as u32),
                ));
            }
            Some(b'\\') => {
                s.pos += 1;
                let c = match s.peek() {
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    Some(b'/') => '/',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{c}',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'u') => {
                        s.pos += 1;
                        let first = hex4(s)?;
                        let c = if (0xD800..0xDC00).contains(&first)
                            && s.text.get(s.pos..).is_some_and(|t| t.starts_with("\\u"))
                        {
                            let save = s.pos;
                            s.pos += 2;
                            let second = hex4(s)?;
                            if (0xDC00..0xE000).contains(&second) {
                                char::from_u32(
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                                )
                            } else {
                                // Not a pair: the first is a lone surrogate; read the second again.
                                s.pos = save;
                                None
                            }
                        } else {
                            char::from_u32(first)
                        };
                        out.push(c.unwrap_or('\u{FFFD}'));
                        continue;
                    }
                    _ => return Err(s.unexpected("in string escape code")),
                };
                s.pos += 1;
                out.push(c);
            }
            Some(_) => return Err(s.unexpected("in string literal")),
        }
    }
}

fn hex4(s: &mut Scanner<'_>) -> Result<u32, (Span, String)> {
    let mut v = 0;
    for _ in 0..4 {
        let Some(d) = s.peek().and_then(|c| (c as char).to_digit(16)) else {
            return Err(s.unexpected("in \\u hexadecimal character escape"));
        };
        v = v * 16 + d;
        s.pos += 1;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_stream(text, &Limits::default(), &mut Budget::default())
    }

    #[test]
    fn objects_arrays_and_spans() {
        let text = r#"{"a": [1, 2.5, true, null], "b": {"c": "x"}}"#;
        let parsed = parse(text);
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        let root = parsed.documents[0].as_ref().unwrap();
        let b = root.get("b").unwrap();
        assert_eq!(
            &text[b.span.start as usize..b.span.end as usize],
            r#"{"c": "x"}"#
        );
        assert_eq!(root.get("a").unwrap().items()[1].value, Value::Float(2.5));
    }

    #[test]
    fn surrogate_pairs_and_escapes() {
        let parsed = parse(r#"{"e": "\ud83d\ude00 \u00e9 \/ \ud800x"}"#);
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("e").unwrap().as_str(), Some("😀 é / \u{FFFD}x"));
    }

    #[test]
    fn numbers_follow_kubernetes() {
        let parsed = parse(r#"{"a": 2.0, "b": -9223372036854775808, "c": 1e2, "d": 1.5}"#);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("a").unwrap().as_i64(), Some(2));
        assert_eq!(root.get("b").unwrap().as_i64(), Some(i64::MIN));
        assert_eq!(root.get("c").unwrap().as_i64(), Some(100));
        assert_eq!(root.get("d").unwrap().value, Value::Float(1.5));
        let parsed = parse(r#"{"a": 1e400}"#);
        assert!(parsed.notes[0].message.contains("out of range"));
    }

    #[test]
    fn streams_are_documents() {
        let parsed = parse("{\"a\": 1}\n{\"a\": 2}\n");
        assert_eq!(parsed.documents.len(), 2);
    }

    #[test]
    fn errors_point_at_the_fault() {
        let text = "{\"a\": 1,\n \"b\" 2}";
        let parsed = parse(text);
        assert_eq!(parsed.notes[0].span.start as usize, text.find('2').unwrap());
        assert!(parsed.notes[0].message.contains("after object key"));
        let parsed = parse("{\"a\": tru}");
        assert!(parsed.notes[0].message.contains("literal true"));
        let parsed = parse("{\"a\": \"x\ny\"}");
        assert!(parsed.notes[0].message.contains("in string literal"));
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        let parsed = parse(r#"{"a": 1, "a": 2}"#);
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::DuplicateKey);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("a").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "{\"a\":".repeat(1000) + "1" + &"}".repeat(1000);
        let parsed = parse(&text);
        assert!(parsed.notes[0].message.contains("deeper than 100"));
    }
}
