use serde::Serialize;

use crate::diagnostic::{Report, Severity, Summary};

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    diagnostics: Vec<Item<'a>>,
    summary: &'a Summary,
}

#[derive(Serialize)]
struct Item<'a> {
    rule: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    path: &'a str,
    document: usize,
    kind: Option<&'a str>,
    name: Option<&'a str>,
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixItem<'a>>,
}

/// A finding's fix: what it does, whether `--fix` applies it alone (`safe`) or needs
/// `--unsafe-fixes`, and its edits on the file's text.
#[derive(Serialize)]
struct FixItem<'a> {
    message: &'a str,
    applicability: &'static str,
    edits: Vec<EditItem<'a>>,
}

/// Replace the text from `start` to `end` with `replacement` (empty range: insert).
#[derive(Serialize)]
struct EditItem<'a> {
    start: Point,
    end: Point,
    replacement: &'a str,
}

/// A place in the file: 1-based line and column (characters), 0-based byte offset.
#[derive(Serialize)]
struct Point {
    line: usize,
    column: usize,
    offset: usize,
}

fn point(report: &Report, file: usize, offset: usize) -> Point {
    let (line, column) = report.line_col(file, u32::try_from(offset).unwrap_or(u32::MAX));
    Point {
        line,
        column,
        offset,
    }
}

/// The JSON contract of DESIGN.md: `{"version": 1, "diagnostics": [...], "summary": {...}}`.
#[must_use]
pub fn json(report: &Report) -> String {
    let diagnostics = report
        .diagnostics
        .iter()
        .map(|d| {
            let p = report.position(d);
            Item {
                rule: &d.rule,
                severity: d.severity,
                message: &d.message,
                file: report.file_name(d),
                line: p.line,
                column: p.column,
                end_line: p.end_line,
                end_column: p.end_column,
                path: &d.pointer,
                document: d.document,
                kind: d.kind.as_deref(),
                name: d.name.as_deref(),
                help: d.help.as_deref(),
                fix: d.fix.as_ref().map(|fix| FixItem {
                    message: &fix.title,
                    applicability: fix.applicability.as_str(),
                    edits: fix
                        .edits
                        .iter()
                        .map(|e| EditItem {
                            start: point(report, d.file, e.span.start),
                            end: point(report, d.file, e.span.end),
                            replacement: &e.replacement,
                        })
                        .collect(),
                }),
            }
        })
        .collect();
    let output = Output {
        version: 1,
        diagnostics,
        summary: &report.summary,
    };
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_string_pretty(&output).unwrap_or_default() + "\n"
}
