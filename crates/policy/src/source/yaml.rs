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
use crate::source::scalar::{map_key, resolve_plain, resolve_tagged};
use crate::source::tree::{Budget, NOT_FINITE_HELP, Step, TreeBuilder};

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
        let ok = parse_document(body, chunk, base, padding, &mut builder);
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
fn parse_document(
    body: &str,
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
            "eksgate cannot read a tag that contains `,` inside a flow collection (`[!x, y]`), though Kubernetes can".to_string(),
            Some("go-yaml v2 reads the `,` as part of the tag (a custom one, so `[!x, y]` is `[\"y\"]`); libyaml-safer, which eksgate parses with, cannot: write the tag without `,`, or put a space before the `,`".to_string()),
        );
        return false;
    }
    // Text go-yaml v2 reads and libyaml-safer refuses is given to it rewritten ([`Rewrites`]).
    let rewrites = Rewrites::find(text);
    let input = rewrites.text.as_deref().unwrap_or(text);
    let mut parser = Parser::new();
    parser.set_input(Chunks::new(input));
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
                mut value,
                style,
                plain_implicit,
                ..
            } => {
                let local = event.start_mark.index as usize..event.end_mark.index as usize;
                let raw = input.get(local.clone()).unwrap_or("");
                if style == ScalarStyle::Plain {
                    value = restore_colons(raw, local.start, &rewrites.colons, value);
                    if let Some(step) = question_mark_in_flow(builder, raw, &value) {
                        let (at, message) = step;
                        builder.note(
                            ParseNoteKind::Syntax,
                            Span::new(offset + (local.start + at) as u32, offset + (local.start + at + 1) as u32),
                            message,
                            Some("Kubernetes' YAML decoder (go-yaml v2) ends a plain scalar at `?` inside `[...]` or `{...}`; quote the value".to_string()),
                        );
                        return false;
                    }
                }
                if style == ScalarStyle::DoubleQuoted {
                    match double_quoted(raw, local.start, &rewrites.apostrophes, value) {
                        Ok(fixed) => value = fixed,
                        Err((at, message, help)) => {
                            let at = offset + at as u32;
                            builder.note(
                                ParseNoteKind::Syntax,
                                Span::new(at, at + 2),
                                message,
                                Some(help),
                            );
                            return false;
                        }
                    }
                }
                scalar(builder, here, anchor, tag, value, style, plain_implicit)
            }
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
    let resolved = match tag.as_deref() {
        Some(tag) => resolve_tagged(tag, &text).map_err(|message| (span, message))?,
        // Quoted and block scalars without a tag are strings (go-yaml: `!n.implicit`).
        // A string key is its own text (`tree::json_key`): no copy of it is needed.
        None if !plain || !plain_implicit => {
            return builder.scalar(
                Node::new(Value::Str(text.into()), span),
                anchor,
                merge_key,
                None,
            );
        }
        None => {
            let resolved = resolve_plain(&text);
            if let Some(reading) = &resolved.differs_from_yaml12 {
                builder.note(
                    ParseNoteKind::Yaml11Scalar,
                    span,
                    format!("`{text}` is {reading} to Kubernetes, not the string `{text}`"),
                    Some(format!(
                        "Kubernetes reads YAML 1.1, where `{text}` is not a string; write `\"{text}\"` if you mean the text"
                    )),
                );
            }
            resolved
        }
    };
    let at_key = builder.expects_key();
    // A `.nan` or `.inf` value cannot be marshalled to JSON; as a key it is the string `.nan`
    // (sigs.k8s.io/yaml `convertToJSONableObject`), which kubectl accepts.
    if let Value::Float(f) = resolved.value
        && !f.is_finite()
        && !at_key
    {
        builder.note(
            ParseNoteKind::NotJson,
            span,
            format!("`{text}` cannot be written as JSON, so Kubernetes rejects the file"),
            Some(NOT_FINITE_HELP.to_string()),
        );
    }
    // A string key is its own text (`tree::json_key`): only other keys need Go's spelling.
    let key = (at_key || anchor.is_some())
        .then(|| match &resolved.value {
            Value::Str(_) => None,
            value => Some(map_key(resolved.go, value)),
        })
        .flatten();
    builder.scalar(Node::new(resolved.value, span), anchor, merge_key, key)
}

/// Where go-yaml v2's scanner (`scannerc.go`) reads text that libyaml-safer (a port of the later
/// libyaml 0.2.5) refuses, the text libyaml-safer is given instead, with the same length so every
/// offset holds, and what to turn back in the values:
/// - `\'` in double quotes is an apostrophe to go-yaml v2 (`yaml_parser_scan_flow_scalar`) and
///   an unknown escape to libyaml 0.2.5, which has `\/` instead: such escapes are given as `\"`.
/// - Inside a flow collection, a plain scalar's `:` followed by `,?[]{}` ends the scalar in
///   go-yaml v2, which keeps the `:` (`yaml_parser_scan_plain_scalar` ends a plain scalar at `:`
///   only before a blank: `{omitted value:,}` has the key `omitted value:`), while libyaml 0.2.5
///   refuses it ("found unexpected ':'"): such a `:` is given as [`COLON_STANDIN`].
/// - A tag's `,`, `[` and `]` are URI characters to go-yaml v2 (`yaml_parser_scan_tag_uri`), so
///   `- !!str, xxx` is the custom tag `!!str,` on `xxx`; libyaml 0.2.5 ends a shorthand tag there
///   and refuses the text ("did not find expected whitespace or line break"). Such a character
///   is given as `;`, another URI character: the tag stays a custom one, read as the string it
///   tags, as go-yaml reads it. (Only a `%TAG` prefix made to end where the `,` starts, as in
///   `%TAG !e! tag:yaml.org` with `!e!,2002:int`, could spell a known tag that way; the
///   rewritten one is custom.) Inside a flow collection libyaml-safer panics on a tag's `,`
///   instead, which [`tag_with_comma_in_flow`] keeps from it.
///
/// A chunk that may hold either is first parsed without the builder; each such error names the
/// place, which is rewritten in a copy, and the parse runs again until it passes or fails for
/// another reason.
struct Rewrites {
    /// The rewritten chunk, when anything was rewritten.
    text: Option<String>,
    /// Chunk offsets of the rewritten `\'` escapes' backslashes, ascending.
    apostrophes: Vec<usize>,
    /// Chunk offsets of the rewritten `:`, ascending.
    colons: Vec<usize>,
}

/// What a plain scalar's `:` is given as: a character that continues a plain scalar everywhere.
const COLON_STANDIN: &str = "x";

/// Places one chunk may have rewritten: each costs a parse of the chunk, so hostile input cannot
/// make this quadratic. At most [`MAX_REWRITES`], and at most [`REWRITE_PARSE_BYTES`] parsed
/// again in all (a 32 MiB document gets 2); past that, the next one is reported as
/// libyaml-safer reports it (`YAML001`).
const MAX_REWRITES: usize = 64;
const REWRITE_PARSE_BYTES: usize = 64 << 20;

enum Rewrite {
    /// The double-quoted scalar whose opening quote is at this offset holds `\'`.
    Apostrophes(usize),
    /// A plain scalar's `:` before a flow indicator, at this offset.
    Colon(usize),
    /// A tag's `,`, `[` or `]`, at this offset.
    TagCharacter(usize),
}

impl Rewrites {
    fn find(text: &str) -> Self {
        let mut found = Self {
            text: None,
            apostrophes: Vec::new(),
            colons: Vec::new(),
        };
        let colon_before_flow = text
            .as_bytes()
            .windows(2)
            .any(|w| w.first() == Some(&b':') && w.get(1).is_some_and(|b| b",?[]{}".contains(b)));
        if !text.contains("\\'") && !colon_before_flow && !may_hold_tag_character(text) {
            return found;
        }
        let rewrites = (REWRITE_PARSE_BYTES / text.len().max(1)).clamp(1, MAX_REWRITES);
        for _ in 0..rewrites {
            let input = found.text.as_deref().unwrap_or(text);
            match go_yaml_reads(input) {
                None => break,
                Some(Rewrite::Colon(at)) => {
                    let copy = found.text.get_or_insert_with(|| text.to_string());
                    copy.replace_range(at..at + 1, COLON_STANDIN);
                    found.colons.push(at);
                }
                Some(Rewrite::TagCharacter(at)) => {
                    let copy = found.text.get_or_insert_with(|| text.to_string());
                    copy.replace_range(at..at + 1, ";");
                }
                Some(Rewrite::Apostrophes(start)) => {
                    let new: Vec<usize> = input
                        .get(start..)
                        .map(|raw| {
                            double_quoted_escapes(raw)
                                .into_iter()
                                .filter(|&(_, c)| c == '\'')
                                .map(|(i, _)| start + i)
                                .collect()
                        })
                        .unwrap_or_default();
                    if new.is_empty() {
                        break;
                    }
                    let copy = found.text.get_or_insert_with(|| text.to_string());
                    for &at in &new {
                        // Both ASCII: the byte length stays.
                        copy.replace_range(at + 1..at + 2, "\"");
                    }
                    found.apostrophes.extend(new);
                }
            }
        }
        found.apostrophes.sort_unstable();
        found.colons.sort_unstable();
        found
    }
}

/// Whether some `!` at the start of a token (`!x,y`, not `#!/bin/sh,`) runs into `,`, `[` or `]`
/// before a blank: a cheap test that spares most texts the parse [`Rewrites::find`] makes.
fn may_hold_tag_character(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        let boundary = i == 0
            || bytes.get(i - 1).is_some_and(|p| {
                matches!(
                    p,
                    b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b'-' | b'?' | b':'
                )
            });
        b == b'!'
            && boundary
            && bytes
                .get(i + 1..)
                .unwrap_or(&[])
                .iter()
                .take_while(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
                .any(|c| matches!(c, b',' | b'[' | b']'))
    })
}

/// Parses the first document of `input` without building anything; `Some` when it fails where
/// go-yaml v2 reads on ([`Rewrites`]).
fn go_yaml_reads(input: &str) -> Option<Rewrite> {
    let mut parser = Parser::new();
    // In pieces, as `parse_document` reads: the parser holds four bytes a character of what it is given.
    parser.set_input(Chunks::new(input));
    loop {
        match parser.parse() {
            Ok(event) => {
                if matches!(
                    event.data,
                    EventData::DocumentEnd { .. } | EventData::StreamEnd
                ) {
                    return None;
                }
            }
            Err(err) => {
                let at = err.problem_mark()?.index as usize;
                match err.problem() {
                    "found unknown escape character" if input.get(at..at + 2) == Some("\\'") => {
                        let start = err.context_mark()?.index as usize;
                        return (input.get(start..start + 1) == Some("\""))
                            .then_some(Rewrite::Apostrophes(start));
                    }
                    "found unexpected ':'" if input.get(at..at + 1) == Some(":") => {
                        return Some(Rewrite::Colon(at));
                    }
                    "did not find expected whitespace or line break"
                        if err.context() == Some("while scanning a tag")
                            && matches!(input.get(at..at + 1), Some("," | "[" | "]")) =>
                    {
                        return Some(Rewrite::TagCharacter(at));
                    }
                    _ => return None,
                }
            }
        }
    }
}

/// Puts back the `:` given to libyaml-safer as [`COLON_STANDIN`] in a plain scalar's value.
/// `raw` is the scalar's text in the parser's input (its tag or anchor first, if any), starting
/// at chunk offset `start`. A plain scalar's value holds its text's characters in order, with
/// only the white space between them folded, so counting the others from the end finds them.
fn restore_colons(raw: &str, start: usize, colons: &[usize], value: String) -> String {
    let first = colons.partition_point(|&c| c < start);
    let mine = colons.get(first..).unwrap_or(&[]);
    if mine.first().is_none_or(|&c| c >= start + raw.len()) {
        return value;
    }
    let blank = |c: char| c.is_whitespace();
    let ranks: Vec<usize> = raw
        .char_indices()
        .rev()
        .filter(|&(_, c)| !blank(c))
        .enumerate()
        .filter(|&(_, (i, _))| mine.binary_search(&(start + i)).is_ok())
        .map(|(rank, _)| rank)
        .collect();
    let mut chars: Vec<char> = value.chars().collect();
    let mut rank = 0;
    for c in chars.iter_mut().rev() {
        if blank(*c) {
            continue;
        }
        if ranks.contains(&rank) {
            *c = ':';
        }
        rank += 1;
    }
    chars.into_iter().collect()
}

/// go-yaml v2 ends a plain scalar at `?` inside a flow collection (`yaml_parser_scan_plain_scalar`),
/// and a `?` right after a scalar is a key indicator where `,` or the closing bracket must
/// come: "did not find expected ',' or ']'". libyaml 0.2.5 reads `[a?b]` as the string `a?b`.
/// A plain scalar's `?` is never its first character (that one is an indicator), so any `?` in
/// the value of a plain scalar in flow context is that error. `Some` gives the offset in `raw` of
/// the first one (the scalar's own text ends `raw`; a tag before it may hold `?` too).
fn question_mark_in_flow(
    builder: &TreeBuilder<'_>,
    raw: &str,
    value: &str,
) -> Option<(usize, String)> {
    let closing = builder.flow_closing()?;
    let count = value.matches('?').count();
    if count == 0 {
        return None;
    }
    let (at, _) = raw.match_indices('?').rev().nth(count - 1)?;
    Some((
        at,
        format!(
            "did not find expected ',' or '{closing}' (go-yaml v2 ends the plain scalar at this `?`)"
        ),
    ))
}

/// The escapes of a double-quoted scalar that starts at `raw`'s first `"` (after any tag,
/// anchor or comment before it): (offset in `raw` of the backslash, the character after it), up
/// to the closing quote. As the scanner reads it: a backslash always takes the next character.
fn double_quoted_escapes(raw: &str) -> Vec<(usize, char)> {
    let mut escapes = Vec::new();
    let Some(open) = opening_quote(raw) else {
        return escapes;
    };
    let mut chars = raw.char_indices().skip_while(|&(i, _)| i <= open);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                if let Some((_, e)) = chars.next() {
                    escapes.push((i, e));
                }
            }
            _ => {}
        }
    }
    escapes
}

/// The offset of a double-quoted scalar event's opening quote: its span starts at its tag or
/// anchor, if any (`!!str "x"`, `&a "x"`), which hold no `"`; comments between are skipped.
fn opening_quote(raw: &str) -> Option<usize> {
    let mut in_comment = false;
    for (i, c) in raw.char_indices() {
        match c {
            '\n' | '\r' => in_comment = false,
            '#' if !in_comment
                && raw
                    .get(..i)
                    .is_none_or(|b| b.is_empty() || b.ends_with([' ', '\t', '\n', '\r'])) =>
            {
                in_comment = true;
            }
            '"' if !in_comment => return Some(i),
            _ => {}
        }
    }
    None
}

type EscapeError = (usize, String, String);

/// Checks a double-quoted scalar's escapes against go-yaml v2's and returns its value as go-yaml
/// reads it. `raw` is its text in the parser's input, starting at chunk offset `start`;
/// `rewritten` holds the chunk offsets of `\'` escapes given to libyaml-safer as `\"`.
/// `Err` is a `\/` escape, which go-yaml v2 refuses ("found unknown escape character").
fn double_quoted(
    raw: &str,
    start: usize,
    rewritten: &[usize],
    value: String,
) -> Result<String, EscapeError> {
    if !raw.contains('\\') {
        return Ok(value);
    }
    let escapes = double_quoted_escapes(raw);
    if let Some(&(at, _)) = escapes.iter().find(|&&(_, c)| c == '/') {
        return Err((
            start + at,
            "found unknown escape character `\\/` (while parsing a quoted scalar)".to_string(),
            "Kubernetes' YAML decoder (go-yaml v2) has no `\\/` escape, a YAML 1.2 and JSON one; write `/`".to_string(),
        ));
    }
    let mine = |i: usize| rewritten.binary_search(&(start + i)).is_ok();
    if !escapes.iter().any(|&(i, c)| c == '"' && mine(i)) {
        return Ok(value);
    }
    // A `"` in the value can only come from an escape (`\"`, `\x22`, `\u0022`, `\U00000022`),
    // so the k-th `"` of the value is the k-th of those escapes.
    let mut sources = Vec::new();
    for &(i, c) in &escapes {
        let digits = match c {
            '"' => {
                sources.push(mine(i));
                continue;
            }
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => continue,
        };
        let hex = raw.get(i + 2..i + 2 + digits).unwrap_or("");
        if u32::from_str_radix(hex, 16) == Ok(0x22) {
            sources.push(false);
        }
    }
    let mut quotes = sources.into_iter();
    Ok(value
        .chars()
        .map(|c| match c {
            '"' if quotes.next() == Some(true) => '\'',
            c => c,
        })
        .collect())
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

    /// Small mappings are searched key by key, larger ones through a table built when they
    /// outgrow scanning: duplicates are found on both sides of that point and across it.
    #[test]
    fn duplicate_keys_are_found_in_mappings_of_every_size() {
        for size in [1usize, 2, 7, 8, 9, 10, 30] {
            for first in 0..size {
                let mut text: String = (0..size).map(|i| format!("k{i}: {i}\n")).collect();
                text.push_str(&format!("k{first}: again\n1: int\n\"1\": str\n"));
                let parsed = parse(&text);
                let dupes = parsed
                    .notes
                    .iter()
                    .filter(|n| n.kind == ParseNoteKind::DuplicateKey)
                    .count();
                assert_eq!(dupes, 2, "{size} keys, k{first} again, `1` twice: {text}");
                let root = parsed.documents[0].as_ref().unwrap();
                assert_eq!(root.entries().len(), size + 1);
                assert_eq!(
                    root.get(&format!("k{first}")).unwrap().as_str(),
                    Some("again")
                );
            }
        }
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
    fn long_text_aliased_over_and_over_is_refused() {
        // Few aliases, few nodes, but each copies 64 KiB of text: 100 of them are 6.4 MiB,
        // over the budget's 3.2 MB of text; 40 of them (2.6 MB) are not.
        let long = "x".repeat(64 * 1024);
        for (aliases, refused) in [(100, true), (40, false)] {
            let text = format!(
                "a: &s \"{long}\"\nb: [{}]\n",
                vec!["*s"; aliases].join(", ")
            );
            let parsed = parse(&text);
            let said = parsed.notes.iter().any(|n| n.message.contains("billion"));
            assert_eq!(said, refused, "{aliases} aliases: {:?}", parsed.notes);
        }
        // Inside an aliased container the text counts as well.
        let text = format!(
            "a: &m {{k: \"{long}\"}}\nb: [{}]\n",
            vec!["*m"; 100].join(", ")
        );
        assert!(
            parse(&text)
                .notes
                .iter()
                .any(|n| n.message.contains("billion"))
        );
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
    fn an_escaped_slash_is_refused_where_it_is_written() {
        // go-yaml v2 has no `\/` (scannerc.go): kubectl says "found unknown escape character".
        for (text, at) in [
            ("a: \"x\\/y\"\n", 5),
            ("a: 1\nb: [\"ok\", \"\\\\\", \"p\\/q\"]\n", 23),
            ("a: !!str \"\\/\"\n", 10),
            ("a: &x \"m\n  \\/\"\n", 11),
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.notes.len(), 1, "{text:?}: {:?}", parsed.notes);
            let note = &parsed.notes[0];
            assert_eq!(note.kind, ParseNoteKind::Syntax, "{text:?}");
            assert!(note.message.contains("unknown escape"), "{text:?}");
            assert_eq!(slice(text, note.span), "\\/", "{text:?}");
            assert_eq!(note.span.start, at, "{text:?}");
        }
        // Not an escape: an escaped backslash before `/`, single quotes, plain and block text.
        for text in [
            "a: \"x\\\\/y\"\n",
            "a: 'x\\/y'\n",
            "a: x\\/y\n",
            "a: |\n  \"x\\/y\"\n",
            "a: \"x\" # \"\\/\"\n",
        ] {
            let parsed = parse(text);
            assert!(parsed.notes.is_empty(), "{text:?}: {:?}", parsed.notes);
        }
    }

    #[test]
    fn an_escaped_apostrophe_reads_as_go_yaml_reads_it() {
        // go-yaml v2 reads `\'` in double quotes as `'`; libyaml-safer alone refuses it.
        for (text, want) in [
            ("a: \"it\\'s\"\n", "it's"),
            ("a: \"\\'\\\"\\'\"\n", "'\"'"),
            ("a: \"x\\x22\\'\\u0022\\'\"\n", "x\"'\"'"),
            ("a: \"\\\\'\"\n", "\\'"),
            ("a: \"a\n  \\'b\"\n", "a 'b"),
            ("a: !!str \"\\'\"\n", "'"),
        ] {
            let parsed = parse(text);
            assert!(parsed.notes.is_empty(), "{text:?}: {:?}", parsed.notes);
            let root = parsed.documents[0].as_ref().unwrap();
            assert_eq!(root.get("a").unwrap().as_str(), Some(want), "{text:?}");
        }
        // Several scalars, a key, and `\'` outside double quotes left as written.
        let text = "\"k\\'\": \"v\\'\"\nb: ['x\\', \"y\\'\"]\nc: p\\'q\nd: |\n  don\\'t\n";
        let parsed = parse(text);
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("k'").unwrap().as_str(), Some("v'"));
        let b = root.get("b").unwrap();
        assert_eq!(b.items()[0].as_str(), Some("x\\"));
        assert_eq!(b.items()[1].as_str(), Some("y'"));
        assert_eq!(root.get("c").unwrap().as_str(), Some("p\\'q"));
        assert_eq!(root.get("d").unwrap().as_str(), Some("don\\'t\n"));
        // Other unknown escapes are still refused, at the scalar.
        let parsed = parse("a: \"\\'\"\nb: \"\\q\"\n");
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::Syntax);
        assert!(parsed.notes[0].message.contains("unknown escape"));
    }

    #[test]
    fn a_question_mark_in_a_flow_plain_scalar_is_refused_at_it() {
        // go-yaml v2 ends the plain scalar at `?` in `[...]`/`{...}`; kubectl: "did not find
        // expected ',' or ']'".
        for (text, at, closing) in [
            ("a: [a?b]\n", 5, ']'),
            ("a: [http://x?y=1]\n", 12, ']'),
            ("a: {k: v?}\n", 8, '}'),
            ("a: {k?: v}\n", 5, '}'),
            ("a: [!t?u x?y]\n", 10, ']'),
            ("a: [another ? string]\n", 12, ']'),
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.notes.len(), 1, "{text:?}: {:?}", parsed.notes);
            let note = &parsed.notes[0];
            assert_eq!(note.kind, ParseNoteKind::Syntax, "{text:?}");
            assert_eq!(note.span.start, at, "{text:?}");
            assert_eq!(slice(text, note.span), "?", "{text:?}");
            assert!(
                note.message.contains(&format!("',' or '{closing}'")),
                "{text:?}"
            );
        }
        // Outside flow collections, quoted, or an indicator of its own: fine.
        for text in [
            "a: a?b\n",
            "- key: value?\n",
            "a: ['a?b', \"c?\"]\n",
            "a: {? x, z: 1}\n",
        ] {
            let parsed = parse(text);
            assert!(parsed.notes.is_empty(), "{text:?}: {:?}", parsed.notes);
        }
    }

    #[test]
    fn a_colon_before_a_flow_indicator_stays_in_the_plain_scalar() {
        // go-yaml v2 ends a plain scalar at `:` only before a blank (kubectl's values).
        let parsed =
            parse("a: {omitted value:, b: 1}\nc: [x:, y:]\nd: [ab\n  cd:]\ne: [&k x:, *k]\n");
        assert!(
            parsed.notes.iter().all(|n| n.kind != ParseNoteKind::Syntax),
            "{:?}",
            parsed.notes
        );
        let root = parsed.documents[0].as_ref().unwrap();
        let a = root.get("a").unwrap();
        assert!(a.get("omitted value:").unwrap().is_null());
        assert_eq!(a.get("b").unwrap().as_i64(), Some(1));
        let strings = |key: &str| -> Vec<String> {
            root.get(key)
                .unwrap()
                .items()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(strings("c"), ["x:", "y:"]);
        assert_eq!(strings("d"), ["ab cd:"]);
        assert_eq!(strings("e"), ["x:", "x:"]);
        // Then a `[` or `{` right after the scalar is go-yaml's error, at the bracket.
        let text = "a: [x:{}]\n";
        let parsed = parse(text);
        assert_eq!(parsed.notes[0].kind, ParseNoteKind::Syntax);
        assert_eq!(parsed.notes[0].span.start, 6);
        // And `x:?` is the `?` error.
        let parsed = parse("a: [x:?]\n");
        assert_eq!(parsed.notes[0].span.start, 6);
    }

    #[test]
    fn a_comma_or_bracket_in_a_block_tag_belongs_to_the_tag() {
        // go-yaml v2: `,`, `[` and `]` are URI characters; the tag is a custom one.
        for (text, want) in [
            ("- !!str, xxx\n", "xxx"),
            ("- !x,y z\n", "z"),
            ("- !a[b] 3\n", "3"),
            ("- !!int, 3\n", "3"),
        ] {
            let parsed = parse(text);
            assert!(parsed.notes.is_empty(), "{text:?}: {:?}", parsed.notes);
            let root = parsed.documents[0].as_ref().unwrap();
            assert_eq!(root.items()[0].as_str(), Some(want), "{text:?}");
        }
        let parsed = parse("a: !x] [1]\n");
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("a").unwrap().items()[0].as_i64(), Some(1));
    }

    #[test]
    fn rewrites_are_bounded_per_document() {
        // Each double-quoted scalar with `\'` costs a parse of the document: MAX_REWRITES pass,
        // the next is libyaml-safer's error, at its scalar.
        let line = |i: usize| format!("k{i}: \"\\'\"\n");
        let ok: String = (0..MAX_REWRITES).map(line).collect();
        let parsed = parse(&ok);
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        let over: String = (0..=MAX_REWRITES).map(line).collect();
        let parsed = parse(&over);
        assert_eq!(parsed.notes.len(), 1, "{:?}", parsed.notes);
        assert!(parsed.notes[0].message.contains("unknown escape"));
        let last = over.rfind('k').unwrap();
        let span = parsed.notes[0].span.start as usize;
        assert!(
            (last..over.len()).contains(&span),
            "{span} not in the last line"
        );
    }

    #[test]
    fn keys_are_the_strings_kubernetes_writes() {
        let text = "m:\n  1e21: a\n  .inf: b\n  -.Inf: c\n  .NaN: d\n  10: e\n  on: f\n  1e10: g\n";
        let parsed = parse(text);
        assert!(
            parsed
                .notes
                .iter()
                .all(|n| n.kind == ParseNoteKind::Yaml11Scalar),
            "{:?}",
            parsed.notes
        );
        let m = parsed.documents[0].as_ref().unwrap().get("m").unwrap();
        let keys: Vec<_> = m
            .entries()
            .iter()
            .map(|e| e.key.as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["1e+21", ".inf", "-.inf", ".nan", "10", "true", "1e+10"]
        );
        // The JSON view writes the same keys.
        let json = parsed.documents[0].as_ref().unwrap().to_json();
        assert_eq!(json["m"]["1e+21"], "a");
        // An anchored key keeps its own type as a value, and its key text as a key.
        let parsed = parse("a: &x 1e10\n*x : b\n");
        let root = parsed.documents[0].as_ref().unwrap();
        assert_eq!(root.get("a").unwrap().as_i64(), Some(10_000_000_000));
        assert_eq!(root.get("1e+10").unwrap().as_str(), Some("b"));
    }

    #[test]
    fn not_finite_values_are_refused_but_not_keys() {
        // The span of a tagged scalar starts at its tag.
        for (text, at) in [
            ("a: .inf\n", 3),
            ("a: !!float .nan\n", 3),
            ("a: [-.Inf]\n", 4),
            ("&x .nan : 1\nb: *x\n", 15),
        ] {
            let parsed = parse(text);
            let note = parsed
                .notes
                .iter()
                .find(|n| n.kind == ParseNoteKind::NotJson);
            assert!(note.is_some(), "{text:?}: {:?}", parsed.notes);
            let note = note.unwrap();
            assert_eq!(note.span.start as usize, at, "{text:?}");
        }
        let parsed = parse("&x .nan : 1\nb: *x\n");
        assert_eq!(parsed.notes.len(), 1, "{:?}", parsed.notes);
    }

    #[test]
    fn integer_keys_above_int64_are_refused_at_the_key() {
        for text in [
            "m:\n  18446744073709551615: a\n",
            "m:\n  0x8000000000000000: a\n",
            "m: {9223372036854775808: a}\n",
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.notes.len(), 1, "{text:?}: {:?}", parsed.notes);
            let note = &parsed.notes[0];
            assert_eq!(note.kind, ParseNoteKind::NotJson);
            assert!(note.message.contains("uint64"), "{}", note.message);
            let key = slice(text, note.span);
            assert!(
                key.ends_with(['0', '5', '8']) && key.len() >= 18,
                "{text:?}: {key}"
            );
        }
        // int64 limits and beyond-uint64 (a float) are fine as keys.
        let parsed = parse(
            "m:\n  9223372036854775807: a\n  -9223372036854775809: b\n  18446744073709551616: c\n",
        );
        assert!(parsed.notes.is_empty(), "{:?}", parsed.notes);
        let m = parsed.documents[0].as_ref().unwrap().get("m").unwrap();
        assert_eq!(m.get("-9.223372e+18").unwrap().as_str(), Some("b"));
        assert_eq!(m.get("1.8446744e+19").unwrap().as_str(), Some("c"));
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
