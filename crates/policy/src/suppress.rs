//! Suppressions: `eksgate.dev/ignore` annotations and `# eksgate:ignore` comments.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::node::{Node, Span};
use crate::rules::{self, Describe, Subject, Violation};
use crate::source::{Document, SourceFile};

pub(crate) const ANNOTATION: &str = crate::diagnostic::IGNORE_ANNOTATION;
const COMMENT_MARK: &str = "eksgate:ignore";

/// Rule IDs and a reason, as written by the user.
struct Parsed {
    rules: Vec<String>,
    reason: String,
}

fn looks_like_rule_id(token: &str) -> bool {
    let letters = token.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = token.len() - letters.len();
    !letters.is_empty() && letters.bytes().all(|b| b.is_ascii_uppercase()) && digits == 3
}

/// `RULE[,RULE][:] reason` (annotation and comment forms alike).
fn parse(text: &str) -> Parsed {
    let mut rules = Vec::new();
    let mut rest = text.trim();
    loop {
        let token_end = rest.find([',', ':', ' ', '\t']).unwrap_or(rest.len());
        let token = rest.get(..token_end).unwrap_or("");
        if !looks_like_rule_id(token) {
            break;
        }
        rules.push(token.to_string());
        rest = rest.get(token_end..).unwrap_or("");
        rest = rest.trim_start_matches([',', ' ', '\t']);
    }
    let reason = rest
        .trim_start_matches([':', '-', ' ', '\t'])
        .trim()
        .to_string();
    Parsed { rules, reason }
}

/// One file's suppressions: what its comments silence, and the problems with them. Kept
/// for the whole run (the cross-document rules report late), so it holds no text.
#[derive(Debug, Default)]
pub(crate) struct Suppressions {
    /// 1-based line -> rule IDs silenced on that line.
    comments: HashMap<usize, Vec<String>>,
    /// Where the checked text's lines start; kept only when a comment silences something,
    /// since a finding's line is all a lookup needs.
    line_starts: Vec<u32>,
    text_len: u32,
    problems: Vec<Diagnostic>,
}

impl Suppressions {
    /// Reads the suppression comments of `file` (the run's file `file_index`) and the
    /// annotations of its `documents`; `custom_ids` are the policy's own rule IDs, which
    /// suppressions may name too.
    pub(crate) fn new(
        file_index: usize,
        file: &SourceFile,
        documents: &[Document],
        custom_ids: &[String],
    ) -> Self {
        let mut s = Self::default();
        s.comments = s.scan_comments(file_index, file, custom_ids);
        if !s.comments.is_empty() {
            s.line_starts = (1..=file.line_count())
                .filter_map(|line| file.line_start(line))
                .collect();
            s.text_len = file.text.len() as u32;
        }
        for doc in documents {
            if let Some(node) = annotation(doc) {
                let text = node.scalar_text().unwrap_or_default();
                s.check_parsed(
                    doc.file,
                    doc.index,
                    node.span,
                    &parse(&text),
                    Some(doc),
                    custom_ids,
                );
            }
        }
        s
    }

    fn scan_comments(
        &mut self,
        file_index: usize,
        file: &SourceFile,
        custom_ids: &[String],
    ) -> HashMap<usize, Vec<String>> {
        let mut lines: HashMap<usize, Vec<String>> = HashMap::new();
        if !file.text.contains(COMMENT_MARK) {
            return lines;
        }
        for line in 1..=file.line_count() {
            let text = file.line_text(line);
            let Some(at) = text.find(COMMENT_MARK) else {
                continue;
            };
            // The mark must open a YAML comment: `#`, spaces, mark; `#` at line start or after space.
            let before = text.get(..at).unwrap_or("");
            let Some(hash) = before.trim_end().strip_suffix('#').map(str::len) else {
                continue;
            };
            let prefix = text.get(..hash).unwrap_or("");
            if !(prefix.is_empty() || prefix.ends_with([' ', '\t'])) {
                continue;
            }
            let parsed = parse(text.get(at + COMMENT_MARK.len()..).unwrap_or(""));
            let start = file.line_start(line).unwrap_or(0) + hash as u32;
            let span = Span::new(start, start + (text.len() - hash) as u32);
            self.check_parsed(file_index, 0, span, &parsed, None, custom_ids);
            lines
                .entry(line)
                .or_default()
                .extend(parsed.rules.iter().cloned());
            // A comment alone on its line covers the next line too.
            if prefix.trim().is_empty() {
                lines
                    .entry(line + 1)
                    .or_default()
                    .extend(parsed.rules.iter().cloned());
            }
        }
        lines
    }

    fn check_parsed(
        &mut self,
        file: usize,
        document: usize,
        span: Span,
        parsed: &Parsed,
        doc: Option<&Document>,
        custom_ids: &[String],
    ) {
        let meta = rules::parse::SuppressionWithoutReason.meta();
        let mut problem = |message: String, help: &str| {
            self.problems.push(Diagnostic {
                rule: meta.id.into(),
                rule_name: meta.name.into(),
                severity: meta.severity,
                message,
                help: Some(help.to_string()),
                file,
                span,
                pointer: doc
                    .map(|d| {
                        format!(
                            "{}/metadata/annotations/{}",
                            d.pointer_prefix,
                            crate::node::escape_pointer(ANNOTATION)
                        )
                    })
                    .unwrap_or_default(),
                document,
                kind: doc.and_then(|d| d.kind().map(str::to_string)),
                fix: None,
                name: doc.and_then(|d| d.name().map(str::to_string)),
            });
        };
        if parsed.rules.is_empty() {
            problem(
                "suppression names no rule".to_string(),
                "write `RULE[,RULE]: reason`, for example `IMDS002: the ALB controller needs hop limit 2`",
            );
            return;
        }
        for id in &parsed.rules {
            if !crate::catalogue::is_builtin(id) && !custom_ids.contains(id) {
                problem(
                    format!("suppression names unknown rule `{id}`"),
                    "`eksgate rules` lists the rule IDs",
                );
            }
        }
        if parsed.reason.is_empty() {
            problem(
                format!(
                    "suppression of `{}` gives no reason",
                    parsed.rules.join(", ")
                ),
                "say why the finding does not apply, after the rule IDs",
            );
        }
    }

    pub(crate) fn problems(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.problems)
    }

    pub(crate) fn suppresses(&self, v: &Violation<'_>) -> bool {
        self.suppresses_at(&v.subject, v.span, v.rule.id)
    }

    /// Whether rule `id` is silenced for a finding at `span` about `subject` (by the object's
    /// annotation or a comment on that line or the line above).
    pub(crate) fn suppresses_at(&self, subject: &Subject<'_>, span: Span, id: &str) -> bool {
        if let Some(text) = subject.ignore
            && parse(text).rules.iter().any(|r| r == id)
        {
            return true;
        }
        if self.comments.is_empty() {
            return false;
        }
        let offset = span.start.min(self.text_len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i.max(1),
        };
        self.comments
            .get(&line)
            .is_some_and(|ids| ids.iter().any(|r| r == id))
    }
}

fn annotation(doc: &Document) -> Option<&Node> {
    doc.root.path(&["metadata", "annotations", ANNOTATION])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_lists_and_reasons() {
        let p = parse("IMDS002,ENC001: legacy nodes");
        assert_eq!(p.rules, vec!["IMDS002", "ENC001"]);
        assert_eq!(p.reason, "legacy nodes");
        let p = parse(" SEP005 istio sidecar injector");
        assert_eq!(p.rules, vec!["SEP005"]);
        assert_eq!(p.reason, "istio sidecar injector");
        let p = parse("IMDS002");
        assert!(p.reason.is_empty());
        let p = parse("because");
        assert!(p.rules.is_empty());
    }
}
