//! Markdown for job summaries and pull request comments: a summary table, then the findings
//! grouped by file.
//!
//! Every interpolated string is escaped for where it lands: table cells and text through
//! [`markdown_inline`] (text and code spans only), the file name inside the `<summary>` HTML
//! block through [`html`]. So the only HTML elements, links and emphasis in the rendered page are
//! the template's; a value such as `</details>`, `<!--`, `<img src=x>` or `[x](javascript:…)`
//! shows as the text it is.

use std::collections::BTreeMap;

use crate::diagnostic::Report;
use crate::render::escape::{MarkdownContext, html, markdown_code, markdown_inline};
use crate::render::human::summary_line;
use crate::rules;

fn cell(text: &str) -> String {
    markdown_inline(text, MarkdownContext::TableCell)
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
        let summary = rules::find(&d.rule).map_or_else(
            || {
                report
                    .custom_rules
                    .iter()
                    .find(|c| c.id == d.rule)
                    .map_or("", |c| c.summary.as_str())
            },
            |r| r.meta().summary(),
        );
        let entry = by_rule
            .entry(d.rule.as_ref())
            .or_insert((0, d.severity.as_str(), summary));
        entry.0 += 1;
    }
    out.push_str("| Rule | Severity | Findings | What it finds |\n|---|---|---:|---|\n");
    for (rule, (count, severity, summary)) in &by_rule {
        out.push_str(&format!(
            "| {} | {severity} | {count} | {} |\n",
            code(rule),
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
            html(file),
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" }
        ));
        out.push_str("| Line | Rule | Severity | Message | Help |\n|---:|---|---|---|---|\n");
        for d in diagnostics {
            let p = report.position(d);
            out.push_str(&format!(
                "| {}:{} | {} | {} | {} | {} |\n",
                p.line,
                p.column,
                code(&d.rule),
                d.severity,
                cell(&d.message),
                cell(d.help.as_deref().unwrap_or(""))
            ));
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// A rule ID as a code span (custom rule IDs come from the policy file).
fn code(id: &str) -> String {
    markdown_code(id, MarkdownContext::TableCell)
}
