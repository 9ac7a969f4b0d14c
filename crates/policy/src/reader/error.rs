//! What goes wrong while reading a document: [`ReadError`] for users, [`DeError`] inside the
//! deserializer (a problem, then where it is once the node that failed is known).

use std::fmt;

use serde::de::{self, Expected, Unexpected};

use crate::node::{Node, Span, escape_pointer};
use crate::source::SourceFile;
use crate::text::{backticked, closest_field};

/// A document of eksgate's own (a policy, a deploy plan) that cannot be used: where and why.
///
/// `pointer` is the JSON pointer of the offending node (`/spec/imds/requireV3`; empty for the
/// whole document), for tools that show errors beside a form field rather than a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ReadError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub pointer: String,
    pub span: Span,
    pub message: String,
}

impl ReadError {
    /// An error at `span` of `source`.
    #[must_use]
    pub fn at(source: &SourceFile, span: Span, pointer: String, message: String) -> Self {
        let (line, column) = source.line_col(span.start);
        Self {
            file: source.name.clone(),
            line,
            column,
            pointer,
            span,
            message,
        }
    }
}

/// Marks a message that starts with the field it is about: the deserializer puts the field's
/// path in its place (`` `spec.timeout` `10` has no unit``), as it knows where it is and the
/// value's own `Deserialize` does not.
const FIELD: &str = "\u{1}field\u{1}";

/// An error about the value being read, worded after its field: `message` follows the
/// field's path (`` field_error("must not be empty") `` reads ``` `metadata.name` must not be
/// empty ```). For `deserialize_with` functions and `Deserialize` impls of eksgate's types.
pub fn field_error<E: de::Error>(message: impl fmt::Display) -> E {
    let message = message.to_string();
    let gap = if message.starts_with([':', ',', ';']) {
        ""
    } else {
        " "
    };
    E::custom(format!("{FIELD}{gap}{message}"))
}

/// A path from the document root, as the deserializer walks it (kept on the stack: built only
/// into text when something fails).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p Node),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn segments(&self, out: &mut Vec<Segment>) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.segments(out);
                out.push(Segment::Key(key.scalar_text().unwrap_or_default()));
            }
            Path::Index(parent, i) => {
                parent.segments(out);
                out.push(Segment::Index(*i));
            }
        }
    }

    /// The RFC 6901 JSON pointer (`/spec/stages/0/name`; empty for the root).
    pub(crate) fn pointer(&self) -> String {
        pointer_of(&self.collect())
    }

    /// The path for a message: `spec.stages[0].name`.
    pub(crate) fn dotted(&self) -> String {
        dotted_of(&self.collect())
    }

    fn collect(&self) -> Vec<Segment> {
        let mut out = Vec::new();
        self.segments(&mut out);
        out
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

pub(crate) fn pointer_of(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        match s {
            Segment::Key(k) => out.push_str(&escape_pointer(k)),
            Segment::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

pub(crate) fn dotted_of(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// What went wrong, before the deserializer knows where.
#[derive(Clone, Debug)]
pub(crate) enum Problem {
    Custom(String),
    Type {
        found: String,
        expected: String,
    },
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    MissingField(&'static str),
    DuplicateField(&'static str),
}

/// The deserializer's error: a problem, and once located, its place and final message.
#[derive(Clone, Debug)]
pub struct DeError {
    problem: Problem,
    pub(crate) located: Option<Located>,
}

#[derive(Clone, Debug)]
pub(crate) struct Located {
    pub span: Span,
    pub pointer: String,
    pub message: String,
}

/// Whether the node that failed is a mapping key or a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Key,
    Value,
}

impl DeError {
    fn new(problem: Problem) -> Self {
        Self {
            problem,
            located: None,
        }
    }

    /// Places the error at `node` (reached by `path`) unless a node inside it already failed:
    /// the innermost position wins.
    pub(crate) fn locate(mut self, node: &Node, path: &Path<'_>, role: Role) -> Self {
        if self.located.is_none() {
            self.located = Some(Located {
                span: node.span,
                pointer: path.pointer(),
                message: self.message(node, path, role),
            });
        }
        self
    }

    fn message(&self, node: &Node, path: &Path<'_>, role: Role) -> String {
        let field = match path.dotted() {
            d if d.is_empty() => "the document".to_string(),
            d => format!("`{d}`"),
        };
        // The mapping a key belongs to.
        let container = match path {
            Path::Key(parent, _) if role == Role::Key => match parent.dotted() {
                d if d.is_empty() => "the document".to_string(),
                d => format!("`{d}`"),
            },
            _ => field.clone(),
        };
        match &self.problem {
            Problem::Custom(text) => match text.strip_prefix(FIELD) {
                Some(rest) => format!("{field}{rest}"),
                None => text.clone(),
            },
            Problem::Type { found, expected } => {
                format!("{field} must be {expected}, found {found}")
            }
            Problem::UnknownField {
                field: name,
                expected,
            } => {
                let near = closest_field(name, expected.iter().copied())
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                if expected.is_empty() {
                    format!("unknown field `{name}` in {container}: it takes no fields")
                } else {
                    format!(
                        "unknown field `{name}` in {container}{near} (expected one of: {})",
                        backticked(expected)
                    )
                }
            }
            Problem::UnknownVariant { variant, expected } => {
                let near = closest_field(variant, expected.iter().copied())
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                format!(
                    "{field} is `{variant}`, which is not one of: {}{near}",
                    backticked(expected)
                )
            }
            Problem::MissingField(name) => match node.value {
                crate::node::Value::Map(_) => {
                    format!("{field} is missing the required field `{name}`")
                }
                _ => format!("{field} needs the field `{name}`"),
            },
            Problem::DuplicateField(name) => {
                format!("field `{name}` is given twice in {container}")
            }
        }
    }

    /// The user-facing error, for `source`; `fallback` is where to point if nothing located it.
    pub(crate) fn into_read_error(self, source: &SourceFile, fallback: &Node) -> ReadError {
        let located = match self.located {
            Some(l) => l,
            None => {
                let message = self.message(fallback, &Path::Root, Role::Value);
                Located {
                    span: fallback.span,
                    pointer: String::new(),
                    message,
                }
            }
        };
        ReadError::at(source, located.span, located.pointer, located.message)
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.located {
            Some(l) => f.write_str(&l.message),
            None => write!(f, "{:?}", self.problem),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(Problem::Custom(msg.to_string()))
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::new(Problem::Type {
            found: found(&unexp),
            expected: expected(exp),
        })
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Self {
        Self::new(Problem::Type {
            found: format!("{len} items"),
            expected: expected(exp),
        })
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(Problem::UnknownVariant {
            variant: variant.to_string(),
            expected,
        })
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::new(Problem::UnknownField {
            field: field.to_string(),
            expected,
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(Problem::MissingField(field))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::new(Problem::DuplicateField(field))
    }
}

/// A value as a message names it: `` the string `yes` ``, `a list`.
fn found(unexp: &Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Bool(b) => format!("the boolean `{b}`"),
        Unexpected::Unsigned(n) => format!("the integer `{n}`"),
        Unexpected::Signed(n) => format!("the integer `{n}`"),
        Unexpected::Float(n) => format!("the number `{n}`"),
        Unexpected::Char(c) => format!("the string `{c}`"),
        Unexpected::Str(s) => format!("the string `{}`", crate::text::shorten(s)),
        Unexpected::Unit | Unexpected::Option => "null".to_string(),
        Unexpected::Seq => "a list".to_string(),
        Unexpected::Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}

/// What serde expected, in YAML's words rather than Rust's (`a mapping`, not `struct Stage`).
fn expected(exp: &dyn Expected) -> String {
    let text = exp.to_string();
    match text.as_str() {
        "a boolean" => text,
        "a string" | "a borrowed string" | "a character" => "a string".to_string(),
        "a sequence" => "a list".to_string(),
        "a map" => "a mapping".to_string(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".to_string(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".to_string(),
        "f32" | "f64" => "a number".to_string(),
        t if t.starts_with("struct ") || t.starts_with("a map") => "a mapping".to_string(),
        t if t.starts_with("enum ") || t.starts_with("variant identifier") => {
            "a string".to_string()
        }
        t if t.starts_with("tuple") || t.starts_with("a sequence") => "a list".to_string(),
        _ => text,
    }
}
