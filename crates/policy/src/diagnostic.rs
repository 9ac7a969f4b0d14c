//! Findings and the report that carries them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::fix::Fix;
use crate::node::{Node, Span};
use crate::source::{Document, SourceFile};

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning` or `info`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, located in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Stable rule ID (`IMDS001`), or a custom rule's ID from the policy.
    pub rule: Cow<'static, str>,
    /// Kebab-case rule name (`imdsv1-allowed`); a custom rule's ID in lower case.
    pub rule_name: Cow<'static, str>,
    pub severity: Severity,
    /// Lower-case, no final period, user values in backticks.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Index of the file in [`Report::files`].
    pub file: usize,
    pub span: Span,
    /// JSON pointer of the offending node in the document as written.
    pub pointer: String,
    /// 0-based index of the document in its file.
    pub document: usize,
    pub kind: Option<String>,
    pub name: Option<String>,
    /// The rule's fix for this finding, rendered against the file's text.
    pub fix: Option<Fix>,
}

/// Counts over a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    /// Documents of kinds no rule looks at.
    pub skipped_documents: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
}

/// The result of a run: the sources (renderers need their text), the findings, the counts.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub files: Vec<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// The policy's custom rules, for renderers that list rules (SARIF).
    pub custom_rules: Vec<CustomRuleInfo>,
    /// Every object some rule or schema read, in input order: what JUnit reports as test cases.
    pub objects: Vec<CheckedObject>,
    /// Positions and code frames of findings in files whose text is no longer kept
    /// (`render::locate`).
    pub located: Located,
}

/// What renderers need of a file's text, worked out while it was at hand: line and column
/// of every offset a finding or its fix names, and each finding's code frame.
#[derive(Clone, Debug, Default)]
pub struct Located {
    pub points: std::collections::HashMap<(usize, u32), (usize, usize)>,
    pub frames: std::collections::HashMap<(usize, Span), Frame>,
}

impl Located {
    /// Adds what was located in another file.
    pub fn extend(&mut self, other: Located) {
        self.points.extend(other.points);
        self.frames.extend(other.frames);
    }
}

/// The source lines of a finding, made safe for a terminal, with the finding's place in them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub text: String,
    /// The underlined byte range in `text`.
    pub start: usize,
    pub end: usize,
    /// 1-based line number of the first line of `text`.
    pub first_line: usize,
    /// For a window cut out of a long line: the column of the finding in the window (the
    /// header shows the real one).
    pub window_column: Option<usize>,
}

/// A document that was checked (of a kind a rule reads or a schema covers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedObject {
    /// Index of the file in [`Report::files`].
    pub file: usize,
    /// 0-based index of the document in its file (items of a `List` share it).
    pub document: usize,
    pub kind: Option<String>,
    pub name: Option<String>,
}

/// What a renderer needs to know about a custom rule of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomRuleInfo {
    pub id: String,
    pub severity: Severity,
    /// Its message (or expression, when the message is computed).
    pub summary: String,
    pub expression: String,
}

impl Report {
    /// The highest severity found, if any.
    #[must_use]
    pub fn max_severity(&self) -> Option<Severity> {
        self.diagnostics.iter().map(|d| d.severity).max()
    }

    /// Whether any finding is at or above `threshold` (`None` = never fail).
    #[must_use]
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        match threshold {
            Some(t) => self.diagnostics.iter().any(|d| d.severity >= t),
            None => false,
        }
    }

    /// 1-based start and end line/column of a finding.
    #[must_use]
    pub fn position(&self, diagnostic: &Diagnostic) -> Position {
        if self.files.get(diagnostic.file).is_none() {
            return Position::default();
        }
        let (line, column) = self.line_col(diagnostic.file, diagnostic.span.start);
        let (end_line, end_column) = self.line_col(diagnostic.file, diagnostic.span.end);
        Position {
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// 1-based line and column of byte `offset` of file `file`: from its text, or from what
    /// was located before the text was dropped.
    #[must_use]
    pub fn line_col(&self, file: usize, offset: u32) -> (usize, usize) {
        if let Some(&at) = self.located.points.get(&(file, offset)) {
            return at;
        }
        self.files.get(file).map_or((0, 0), |f| f.line_col(offset))
    }

    /// The display name of a finding's file.
    #[must_use]
    pub fn file_name(&self, diagnostic: &Diagnostic) -> &str {
        self.files
            .get(diagnostic.file)
            .map_or("", |f| f.name.as_str())
    }
}

/// 1-based positions (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// The annotation that silences findings on an object: `eksgate.dev/ignore: "RULE: reason"`.
pub const IGNORE_ANNOTATION: &str = "eksgate.dev/ignore";

/// What a finding is about: the object it names, found by file and document index, with what
/// suppression needs. Cross-document rules report from summaries, so this borrows no tree.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Index of the file in the run.
    pub file: usize,
    /// 0-based index of the document in its file.
    pub document: usize,
    pub kind: Option<&'a str>,
    pub name: Option<&'a str>,
    /// The object's `eksgate.dev/ignore` annotation, if it has one.
    pub ignore: Option<&'a str>,
}

impl<'a> Subject<'a> {
    /// The subject of a finding in `doc`.
    #[must_use]
    pub fn of(doc: &'a Document) -> Self {
        Self {
            file: doc.file,
            document: doc.index,
            kind: doc.kind(),
            name: doc.name(),
            ignore: doc
                .root
                .path(&["metadata", "annotations", IGNORE_ANNOTATION])
                .and_then(Node::as_str),
        }
    }
}
