//! YAML streams to [`Node`] trees, read the way Kubernetes reads them.
//!
//! kubectl and the controllers decode YAML with `sigs.k8s.io/yaml` over go-yaml v2, which is a
//! port of libyaml. So this module parses with `libyaml-safer` (a safe Rust port of the same
//! libyaml): the same language is accepted and the same errors are raised (a tab after a block
//! sequence's `-`: "found character that cannot start any token"; a flow sequence closed at its
//! key's indentation: fine). Around the parser it does what kubectl does around go-yaml:
//! - documents are split at lines that start with `---` (apimachinery `util/yaml.YAMLReader`),
//!   and text after the separator on its line must be a comment;
//! - each piece is decoded on its own, and only its first document counts (`yaml.Unmarshal`);
//! - scalars resolve as go-yaml v2 resolves them, then go through the JSON round trip
//!   ([`super::scalar`]);
//! - a repeated key keeps the last value, `<<` merges apply in document order, and keys or
//!   values JSON cannot hold make Kubernetes reject the file ([`super::tree`]).

use libyaml_safer::{EventData, MappingStyle, Mark, Parser, ScalarStyle, SequenceStyle};

use crate::node::{Node, Span, Value};
use crate::source::Limits;
use crate::source::scalar::{resolve_plain, resolve_tagged};
use crate::source::tree::{Budget, Step, TreeBuilder};

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
    /// Kubernetes cannot convert the document to JSON (a `.nan`, a mapping as a key): kubectl
    /// rejects the file (`YAML001`, reported for Kubernetes objects only).
    NotJson,
    /// A plain scalar that Kubernetes' YAML 1.1 decoder reads differently from YAML 1.2 (`YAML002`).
    Yaml11Scalar,
    /// A key given twice, or overridden by a merge: Kubernetes keeps one value (`YAML003`).
    DuplicateKey,
    /// A document that Kubernetes never reads (`YAML004`).
    DocumentIgnored,
}

pub(crate) struct Parsed {
    /// One entry per document of the stream; `None` for an empty one.
    pub documents: Vec<Option<Node>>,
    pub notes: Vec<ParseNote>,
}

/// Parses a YAML stream into documents, drawing on the file's `budget`.
pub(crate) fn parse_stream(text: &str, limits: &Limits, budget: &mut Budget) -> Parsed {
    let (body, base) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    };
    // libyaml-safer 0.3 panics on a block scalar that ends the input without a line break
    // (`a: |\n  x`, as in Karpenter's own `examples/v1`); go-yaml reads it as if the line
    // ended (kubectl decodes `a: |\n  x` as `"x\n"`, tests/yaml_differential.py). So the
    // parser gets a copy with a final `\n`; spans stay inside the text as written.
    let padded;
    let (body, padding) = if body.is_empty() || body.ends_with('\n') {
        (body, None)
    } else {
        padded = format!("{body}\n");
        (padded.as_str(), Some(base + (body.len() as u32)))
    };
    let mut builder = TreeBuilder::new(limits, budget);
    let mut documents = Vec::new();
    let mut parser = Parser::new();
    for chunk in split_documents(body) {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err((at, message)) => {
                builder.document = documents.len();
                builder.note(
                    ParseNoteKind::Syntax,
                    Span::empty(base + at),
                    message,
                    Some("kubectl splits documents at lines that start with `---`; put the document on the next line".to_string()),
                );
                break;
            }
        };
        if documents.len() >= limits.max_documents {
            builder.note(
                ParseNoteKind::Syntax,
                Span::empty(base + chunk.start),
                format!("more than {} documents in one file", limits.max_documents),
                None,
            );
            break;
        }
        builder.start_document(documents.len());
        let ok = parse_document(&mut parser, body, chunk, base, padding, &mut builder);
        documents.push(builder.end_document());
        if !ok {
            break;
        }
    }
    Parsed {
        documents,
        notes: builder.notes,
    }
}

/// One piece of the stream between `---` separator lines (byte range of `body`).
#[derive(Clone, Copy, Debug)]
struct Chunk {
    start: u32,
    end: u32,
}

/// Splits like apimachinery's `YAMLReader`: lines end at `\n`; a line starting with `---` ends
/// the piece before it (when that piece is not empty) and may only carry a comment after the
/// separator. `Err` gives the offset of text after a separator.
fn split_documents(body: &str) -> impl Iterator<Item = Result<Chunk, (u32, String)>> + '_ {
    let mut offset = 0usize;
    let mut start = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            if offset >= body.len() {
                done = true;
                return (offset > start).then_some(Ok(Chunk {
                    start: start as u32,
                    end: offset as u32,
                }));
            }
            let rest = body.get(offset..).unwrap_or("");
            let line_len = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = rest.get(..line_len).unwrap_or("");
            let line_start = offset;
            offset += line_len;
            if let Some(after) = line.strip_prefix("---") {
                let trimmed = after.trim_start_matches([' ', '\t', '\r', '\n']);
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    done = true;
                    let at = line_start + 3 + (after.len() - trimmed.len());
                    return Some(Err((
                        at as u32,
                        format!(
                            "invalid document separator: `--- {}`",
                            trimmed.trim_end().chars().take(40).collect::<String>()
                        ),
                    )));
                }
                if line_start > start {
                    let chunk = Chunk {
                        start: start as u32,
                        end: line_start as u32,
                    };
                    start = offset;
                    return Some(Ok(chunk));
                }
                start = offset;
            }
        }
        None
    })
}

/// Reads the first document of a chunk into the builder. Returns false when the stream must
/// stop (a syntax error).
fn parse_document<'t>(
    parser: &mut Parser<Chunks<'t>>,
    body: &'t str,
    chunk: Chunk,
    base: u32,
    padding: Option<u32>,
    builder: &mut TreeBuilder<'_>,
) -> bool {
    let text = body
        .get(chunk.start as usize..chunk.end as usize)
        .unwrap_or("");
    let offset = base + chunk.start;
    if let Some((at, c)) = forbidden_character(text) {
        builder.note(
            ParseNoteKind::Syntax,
            Span::new(offset + at, offset + at + c.len_utf8() as u32),
            format!("control characters are not allowed (found U+{:04X})", u32::from(c)),
            Some("YAML text may not contain control characters; write them as escapes inside double quotes (`\"\\t\"`)".to_string()),
        );
        return false;
    }
    if let Some(at) = tag_with_comma_in_flow(text) {
        builder.note(
            ParseNoteKind::Syntax,
            Span::empty(offset + at),
            "a tag that contains `,` inside a flow collection (`[!x, y]`) cannot be read".to_string(),
            Some("go-yaml reads the `,` as part of the tag; write the tag without `,`, or put a space before the `,`".to_string()),
        );
        return false;
    }
    parser.reset();
    parser.set_input(Chunks::new(text));
    // Nothing points past the text as written (the `\n` added for the parser).
    let limit = padding.unwrap_or(u32::MAX);
    let span = |start: Mark, end: Mark| {
        Span::new(
            (offset + start.index as u32).min(limit),
            (offset + (end.index.max(start.index)) as u32).min(limit),
        )
    };
    loop {
        let event = match parser.parse() {
            Ok(event) => event,
            Err(err) => {
                let at = err.problem_mark().map_or(text.len() as u64, |m| m.index);
                let mut message = err.problem().to_string();
                if let (Some(context), Some(mark)) = (err.context(), err.context_mark()) {
                    let same_line = err.problem_mark().is_some_and(|p| p.line == mark.line);
                    if same_line {
                        message.push_str(&format!(" ({context})"));
                    } else {
                        let line = mark.line + 1 + text_line_base(body, offset, base);
                        message.push_str(&format!(" ({context} that starts on line {line})"));
                    }
                }
                builder.note(
                    ParseNoteKind::Syntax,
                    Span::empty(offset + at as u32),
                    message,
                    None,
                );
                return false;
            }
        };
        let mut here = span(event.start_mark, event.end_mark);
        if let EventData::Scalar {
            style: ScalarStyle::Literal | ScalarStyle::Folded,
            ..
        } = &event.data
        {
            here.start = block_content_start(text, offset, here);
        }
        let step: Step = match event.data {
            EventData::StreamStart { .. } => Ok(()),
            EventData::StreamEnd => return true,
            EventData::DocumentStart { .. } => Ok(()),
            EventData::DocumentEnd { .. } => {
                // kubectl decodes one document per piece (`yaml.Unmarshal` reads the first and
                // never looks further, so even an error after it goes unseen).
                let rest_at = event.end_mark.index as usize;
                if let Some(at) = first_content(text.get(rest_at..).unwrap_or("")) {
                    let at = offset + (rest_at + at) as u32;
                    builder.note(
                        ParseNoteKind::DocumentIgnored,
                        Span::empty(at),
                        "Kubernetes never reads this document: it follows `...` without a `---` line".to_string(),
                        Some("start each document with a `---` line of its own".to_string()),
                    );
                }
                return true;
            }
            EventData::Alias { anchor } => builder.alias(&anchor, here),
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
                plain_implicit,
                ..
            } => scalar(builder, here, anchor, tag, value, style, plain_implicit),
            EventData::SequenceStart { anchor, style, .. } => {
                builder.open_seq(here, anchor, style == SequenceStyle::Flow)
            }
            EventData::MappingStart { anchor, style, .. } => {
                builder.open_map(here, anchor, style == MappingStyle::Flow)
            }
            EventData::SequenceEnd | EventData::MappingEnd => builder.close(here),
        };
        if let Err((at, message)) = step {
            builder.note(ParseNoteKind::Syntax, at, message, None);
            return false;
        }
    }
}

fn scalar(
    builder: &mut TreeBuilder<'_>,
    span: Span,
    anchor: Option<String>,
    tag: Option<String>,
    text: String,
    style: ScalarStyle,
    plain_implicit: bool,
) -> Step {
    let plain = style == ScalarStyle::Plain;
    // `<<` and `!!merge <<` both merge (go-yaml v2 resolves the plain `<<` to `!!merge`).
    let merge_key = plain
        && text == "<<"
        && tag
            .as_deref()
            .is_none_or(|t| t == "tag:yaml.org,2002:merge");
    let value = match tag.as_deref() {
        Some(tag) => resolve_tagged(tag, &text).map_err(|message| (span, message))?,
        // Quoted and block scalars without a tag are strings (go-yaml: `!n.implicit`).
        None if !plain || !plain_implicit => Value::Str(text.into()),
        None => {
            let resolved = resolve_plain(&text);
            if let Some(reading) = resolved.differs_from_yaml12 {
                builder.note(
                    ParseNoteKind::Yaml11Scalar,
                    span,
                    format!("`{text}` is {reading} to Kubernetes, not the string `{text}`"),
                    Some(format!(
                        "Kubernetes reads YAML 1.1, where `{text}` is not a string; write `\"{text}\"` if you mean the text"
                    )),
                );
            }
            if let Value::Float(f) = resolved.value
                && !f.is_finite()
            {
                builder.note(
                    ParseNoteKind::NotJson,
                    span,
                    format!("`{text}` cannot be written as JSON, so Kubernetes rejects the file"),
                    Some("Kubernetes converts YAML to JSON, which has no infinity or NaN; quote the value if it is text".to_string()),
                );
            }
            resolved.value
        }
    };
    builder.scalar(Node::new(value, span), anchor, merge_key)
}

/// Lines of the file before the chunk that starts at byte `offset` (libyaml counts lines from
/// the start of the chunk it was given).
fn text_line_base(body: &str, offset: u32, base: u32) -> u64 {
    let before = body.get(..(offset - base) as usize).unwrap_or("");
    before.bytes().filter(|&b| b == b'\n').count() as u64
}

/// The offset of the first line of `rest` that holds more than space, a comment or `...`.
fn first_content(rest: &str) -> Option<usize> {
    let mut at = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let body = trimmed.trim_end_matches(['\n', '\r', ' ', '\t']);
        if !(body.is_empty() || body.starts_with('#') || body == "...") {
            return Some(at + (line.len() - trimmed.len()));
        }
        at += line.len();
    }
    None
}

/// Where a block scalar's content starts: the first non-space character after the line of its
/// indicator (`|`, `>`), so positions inside the text count from the text, not the indicator.
fn block_content_start(chunk: &str, offset: u32, span: Span) -> u32 {
    let local = (span.start - offset) as usize..(span.end - offset) as usize;
    let text = chunk.get(local).unwrap_or("");
    let Some(newline) = text.find('\n') else {
        return span.start;
    };
    let after = text.get(newline + 1..).unwrap_or("");
    let indent = after.len() - after.trim_start_matches([' ', '\n', '\r']).len();
    if newline + 1 + indent >= text.len() {
        return span.start;
    }
    span.start + (newline + 1 + indent) as u32
}

/// The offset of a tag inside a flow collection that a `,` ends or continues (`[!x, y]`,
/// `{a: !!str,}`): libyaml-safer 0.3 panics there ("TODO: What is expected here?"), so such
/// text never reaches it. go-yaml v2 reads the `,` as part of the tag. Quotes and comments are
/// skipped; the flow depth is counted from brackets outside them, so the check errs only
/// towards text that is already malformed.
fn tag_with_comma_in_flow(text: &str) -> Option<u32> {
    if !text.contains('!') || !text.contains(',') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let boundary = |i: usize| {
        i == 0
            || bytes
                .get(i - 1)
                .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b','))
    };
    while let Some(&b) = bytes.get(i) {
        match b {
            b'#' if boundary(i) => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'\'' | b'"' if boundary(i) || bytes.get(i - 1) == Some(&b':') => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    if c == b'\\' && b == b'"' {
                        i += 1;
                    } else if c == b {
                        if b == b'\'' && bytes.get(i) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'!' if depth > 0 && boundary(i) => {
                let start = i;
                while let Some(&c) = bytes.get(i) {
                    if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'[' | b']' | b'{' | b'}') {
                        break;
                    }
                    if c == b',' {
                        return Some(start as u32);
                    }
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The first character libyaml's reader refuses ("control characters are not allowed"), with
/// its byte offset. Tabs, line breaks, NEL and the BOM are allowed.
/// The parser's input, handed over a piece at a time. libyaml-safer decodes everything its
/// reader's `fill_buf` returns into a queue of `char`s (4 bytes each); given the whole text as
/// one slice it would hold four times the text at once. In pieces of [`Chunks::SIZE`] bytes
/// (cut at character boundaries, so each piece is valid UTF-8 on its own) it holds one piece.
struct Chunks<'t> {
    rest: &'t [u8],
}

impl<'t> Chunks<'t> {
    const SIZE: usize = 16 * 1024;

    fn new(text: &'t str) -> Self {
        Self {
            rest: text.as_bytes(),
        }
    }

    /// The length of the next piece: at most `SIZE` bytes, ending on a character boundary.
    fn piece(&self) -> usize {
        if self.rest.len() <= Self::SIZE {
            return self.rest.len();
        }
        // A UTF-8 continuation byte is `10xxxxxx`; a boundary is before any other byte, and
        // one is found within 4 bytes (the text is valid UTF-8).
        (Self::SIZE - 3..=Self::SIZE)
            .rev()
            .find(|&at| self.rest.get(at).is_some_and(|b| b & 0xC0 != 0x80))
            .unwrap_or(Self::SIZE)
    }
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(head);
        self.rest = tail;
        Ok(n)
    }
}

impl std::io::BufRead for Chunks<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(self.rest.get(..self.piece()).unwrap_or(self.rest))
    }

    fn consume(&mut self, amount: usize) {
        self.rest = self.rest.get(amount..).unwrap_or_default();
    }
}

fn forbidden_character(text: &str) -> Option<(u32, char)> {
    text.char_indices()
        .find(|&(_, c)| {
            let v = u32::from(c);
            !(v == 0x09
                || v == 0x0A
                || v == 0x0D
                || (0x20..=0x7E).contains(&v)
                || v == 0x85
                || (0xA0..=0xD7FF).contains(&v)
                || (0xE000..=0xFFFD).contains(&v)
                || (0x10000..=0x10_FFFF).contains(&v))
        })
        .map(|(i, c)| (i as u32, c))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    fn parse(text: &str) -> Parsed {
        parse_stream(text, &Limits::default(), &mut Budget::default())
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.start as usize..span.end as usize]
    }

    #[test]
    fn text_read_in_pieces_keeps_characters_and_positions_across_the_cuts() {
        // Multi-byte characters (2, 3 and 4 bytes) around every piece boundary, in a plain
        // scalar, a quoted one and a key, each at a different offset modulo the piece size.
        for (pad, c) in [(0, 'é'), (1, '€'), (2, '𝄞'), (3, 'é'), (5, '€')] {
            let long: String = std::iter::repeat_n(c, Chunks::SIZE).collect();
            // libyaml ends a simple key 1024 bytes after it starts, so the key is shorter.
            let key: String = std::iter::repeat_n(c, 200).collect();
            let text = format!(
                "{}a: {long}\nb: \"{long}\"\n{key}: c\nlast: here\n",
                "#".repeat(pad) + if pad > 0 { "\n" } else { "" },
            );
            let parsed = parse(&text);
            assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
            let root = parsed.documents[0].as_ref().unwrap();
            assert_eq!(root.get("a").unwrap().as_str(), Some(long.as_str()));
            assert_eq!(root.get("b").unwrap().as_str(), Some(long.as_str()));
            assert_eq!(root.get(&key).unwrap().as_str(), Some("c"));
            let last = root.get("last").unwrap();
            assert_eq!(slice(&text, last.span), "here");
        }
    }

    #[test]
    fn pieces_end_on_character_boundaries_and_cover_the_text() {
        let text: String = "ab€𝄞é".repeat(Chunks::SIZE / 3);
        let mut chunks = Chunks::new(&text);
        let mut seen = Vec::new();
        loop {
            let piece = std::io::BufRead::fill_buf(&mut chunks).unwrap().to_vec();
            if piece.is_empty() {
                break;
            }
            assert!(piece.len() <= Chunks::SIZE);
            assert!(std::str::from_utf8(&piece).is_ok());
            std::io::BufRead::consume(&mut chunks, piece.len());
            seen.extend(piece);
        }
        assert_eq!(seen, text.as_bytes());
    }

    #[test]
    fn a_block_scalar_may_end_the_text_without_a_line_break() {
        // Values as kubectl (go-yaml v2) reads them; libyaml-safer alone panics on these.
        for (text, want) in [
            ("a: |\n  x", "x\n"),
            (
                "a: |\n  #!/bin/bash\n  --BOUNDARY--",
                "#!/bin/bash\n--BOUNDARY--\n",
            ),
            ("a: |+\n  x\n\n  y", "x\n\ny\n"),
            ("a: >\n  x\n  y", "x y\n"),
            ("a: |-\n  x", "x"),
            ("a: |\n  x\n  ", "x\n"),
            ("a: |\n\n  x", "\nx\n"),
        ] {
            let parsed = parse(text);
            assert!(parsed.notes.is_empty(), "{text:?}: {:?}", parsed.notes);
            let root = parsed.documents[0].as_ref().unwrap();
            let value = root.get("a").unwrap();
            assert_eq!(value.as_str(), Some(want), "{text:?}");
            assert!(value.span.end as usize <= text.len(), "{text:?}");
        }
        // Other shapes at the end of an unterminated text keep their spans inside it.
        for text in ["a: b", "a: 'b'", "a: [b]", "- x", "a:"] {
            let parsed = parse(text);
            assert!(parsed.notes.is_empty(), "{text:?}");
            assert!(parsed.documents[0].as_ref().unwrap().span.end as usize <= text.len());
        }
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "a: 1\nb:\n  c: \"x\"\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        let entry = root.get("b").unwrap().entry("c").unwrap();
        assert_eq!(slice(text, entry.key.span), "c");
        assert_eq!(slice(text, entry.value.span), "\"x\"");
    }

    #[test]
    fn multibyte_characters_do_not_shift_spans() {
        let text = "name: π-ünïcode\nkey: value\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(slice(text, root.entry("key").unwrap().key.span), "key");
    }

    #[test]
    fn bom_is_skipped() {
        let text = "\u{feff}a: b\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(slice(text, root.entry("a").unwrap().key.span), "a");
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
    fn merge_keys_are_applied_in_order() {
        let parsed = parse("base: &b {p: 1, q: 2}\nchild:\n  <<: *b\n  q: 3\n");
        let root = parsed.documents[0].as_ref().unwrap();
        let child = root.get("child").unwrap();
        assert_eq!(child.get("p").unwrap().as_i64(), Some(1));
        assert_eq!(child.get("q").unwrap().as_i64(), Some(3));
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        // go-yaml v2: a key written before the merge is overridden, and eksgate says so.
        let parsed = parse("base: &b {q: 2}\nchild:\n  q: 3\n  <<: *b\n");
        let child = parsed.documents[0].as_ref().unwrap().get("child").unwrap();
        assert_eq!(child.get("q").unwrap().as_i64(), Some(2));
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::DuplicateKey);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_with_a_warning() {
        let parsed = parse("a: 1\na: 2\n");
        assert_eq!(parsed.notes.len(), 1);
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::DuplicateKey);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("a").unwrap().as_i64(), Some(2));
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
    fn anchors_without_aliases_cost_nothing() {
        // Every level anchored: with copies this was quadratic (26 s, 7 GB at 1M items).
        let depth = 90;
        let mut text = String::new();
        for i in 0..depth {
            text.push_str(&format!("&n{i} ["));
        }
        text.push_str(&"1,".repeat(200_000));
        text.push('1');
        text.push_str(&"]".repeat(depth));
        text.push('\n');
        let parsed = parse(&text);
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
    }

    #[test]
    fn deep_block_nesting_is_refused_without_recursion() {
        let text = "- ".repeat(100_000) + "x\n";
        let parsed = parse(&text);
        assert!(
            parsed
                .notes
                .iter()
                .any(|n| n.message.contains("deeper than 100"))
        );
    }

    #[test]
    fn flow_collections_end_at_their_bracket() {
        let text = "a: [x, y] # comment\nb: {c: d}   # more\n";
        let parsed = parse(text);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(slice(text, root.get("a").unwrap().span), "[x, y]");
        assert_eq!(slice(text, root.get("b").unwrap().span), "{c: d}");
    }

    #[test]
    fn empty_documents_are_none() {
        let parsed = parse("a: 1\n---\n---\nb: 1\n");
        assert_eq!(parsed.documents.len(), 2);
        let parsed = parse("# only a comment\n---\nb: 1\n");
        assert_eq!(parsed.documents.len(), 2);
        assert!(parsed.documents[0].is_none());
    }

    #[test]
    fn kubernetes_accepts_and_rejects_what_kubectl_does() {
        // A flow sequence closed at its key's indentation: kubectl, PyYAML and Terraform read it.
        let text = "spec:\n  requirements:\n    - key: x\n      values: [\n        \"c5d\", \"m5d\"\n      ]\n";
        let parsed = parse(text);
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        // A tab after a block sequence's dash: "found character that cannot start any token".
        let parsed = parse("a:\n  -\tDrifted\n");
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::Syntax);
        assert!(parsed.notes[0].message.contains("cannot start any token"));
        // Text after `---` on its line.
        let parsed = parse("a: 1\n--- {b: 2}\n");
        assert!(parsed.notes[0].message.contains("document separator"));
        // `.nan` cannot become JSON.
        let parsed = parse("a: .nan\n");
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::NotJson);
    }

    #[test]
    fn a_tag_ended_by_a_comma_in_flow_is_refused_not_a_panic() {
        for text in ["a: [!!str, b]\n", "a: {x: !t,}\n", "- !!str,\n- [!a,b]\n"] {
            let parsed = parse(text);
            assert_eq!(parsed.notes[0].kind, ParseNoteKind::Syntax, "{text:?}");
        }
        for text in ["a: '[!x, z]'\n", "a: [\"!x,\", z] # [!x,\n", "a: [!x ,z]\n"] {
            let notes = parse(text).notes;
            assert!(notes.is_empty(), "{text:?}: {notes:?}");
        }
    }

    #[test]
    fn control_characters_are_refused_at_their_position() {
        let text = "a: 1\nb: x\u{1}y\n";
        let parsed = parse(text);
        assert_eq!(
            parsed.notes[0].span.start as usize,
            text.find('\u{1}').unwrap()
        );
    }

    #[test]
    fn repeated_notes_are_capped_per_document() {
        let text = "x: [".to_string() + &"on, ".repeat(500) + "on]\n";
        let parsed = parse(&text);
        assert_eq!(
            parsed.notes.len(),
            crate::source::tree::NOTES_PER_KIND_AND_DOCUMENT + 1
        );
        assert!(parsed.notes.last().unwrap().message.contains("401 more"));
    }
}
