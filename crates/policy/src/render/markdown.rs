//! Markdown for job summaries and pull request comments: a summary table, then the findings
//! grouped by file.

use std::collections::BTreeMap;

use crate::diagnostic::Report;
use crate::render::human::summary_line;
use crate::rules;

/// Makes text safe inside a table cell: pipes escaped, line breaks as `<br>`.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

#[must_use]
pub fn markdown(report: &Report) -> String {
    let mut out = String::from("### eksgate\n\n");
    out.push_str(&summary_line(report));
    out.push_str("\n\n");
    if report.diagnostics.is_empty() {
        return out;
    }
    let mut by_rule: BTreeMap<&str, (usize, &str, &str)> = BTreeMap::new();
    for d in &report.diagnostics {
        let summary = rules::find(&d.rule).map_or("", |r| r.meta().summary());
        let entry = by_rule
            .entry(d.rule.as_ref())
            .or_insert((0, d.severity.as_str(), summary));
        entry.0 += 1;
    }
    out.push_str("| Rule | Severity | Findings | What it finds |\n|---|---|---:|---|\n");
    for (rule, (count, severity, summary)) in &by_rule {
        out.push_str(&format!(
            "| `{rule}` | {severity} | {count} | {} |\n",
            cell(summary)
        ));
    }
    let mut by_file: BTreeMap<&str, Vec<&crate::diagnostic::Diagnostic>> = BTreeMap::new();
    for d in &report.diagnostics {
        by_file.entry(report.file_name(d)).or_default().push(d);
    }
    for (file, diagnostics) in by_file {
        out.push_str(&format!(
            "\n<details open>\n<summary><code>{}</code>: {} finding{}</summary>\n\n",
            html_escape(file),
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" }
        ));
        out.push_str("| Line | Rule | Severity | Message | Help |\n|---:|---|---|---|---|\n");
        for d in diagnostics {
            let p = report.position(d);
            out.push_str(&format!(
                "| {}:{} | `{}` | {} | {} | {} |\n",
                p.line,
                p.column,
                d.rule,
                d.severity,
                cell(&d.message),
                cell(d.help.as_deref().unwrap_or(""))
            ));
        }
        out.push_str("\n</details>\n");
    }
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
