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
