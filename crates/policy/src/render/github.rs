//! GitHub Actions workflow commands: one annotation per finding on the PR diff.

use crate::diagnostic::{Report, Severity};

/// Escapes a workflow command's message (`%`, CR, LF).
#[must_use]
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value (also `:` and `,`, which delimit properties).
#[must_use]
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`, one line per finding,
/// then a `::notice title=eksgate::` line with the summary (on a clean run too, so the log always
/// says what was checked). Columns are left out when the range spans lines: GitHub then
/// highlights whole lines.
#[must_use]
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let p = report.position(d);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = vec![
            format!("file={}", escape_property(report.file_name(d))),
            format!("line={}", p.line),
        ];
        if p.end_line == p.line {
            props.push(format!("col={}", p.column));
            props.push(format!("endLine={}", p.end_line));
            props.push(format!("endColumn={}", p.end_column));
        } else {
            props.push(format!("endLine={}", p.end_line));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("eksgate {} ({})", d.rule, d.rule_name))
        ));
        let message = match &d.help {
            Some(help) => format!("{}\nhelp: {help}", d.message),
            None => d.message.clone(),
        };
        out.push_str(&format!(
            "::{command} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    out.push_str(&format!(
        "::notice title=eksgate::{}\n",
        escape_data(&crate::render::summary_line(report))
    ));
    out
}
