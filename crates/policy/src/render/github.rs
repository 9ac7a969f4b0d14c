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
    github_limited(report, usize::MAX)
}

/// [`github`] within GitHub's annotation limits: at most `max` error and `max` warning
/// annotations (GitHub keeps 10 of each per step, 50 per job), and `max - 2` notices (the
/// summary and the overflow note are notices too). The findings past the limit are printed as
/// plain log lines (`eksgate: file:line:col: severity RULE message`) after one `::notice` that
/// says how many there are and that the job summary lists them all.
#[must_use]
pub fn github_limited(report: &Report, max: usize) -> String {
    let max_notices = max.saturating_sub(2);
    let (mut errors, mut warnings, mut notices) = (0usize, 0usize, 0usize);
    let mut out = String::new();
    let mut rest = Vec::new();
    for d in &report.diagnostics {
        let (command, count, cap) = match d.severity {
            Severity::Error => ("error", &mut errors, max),
            Severity::Warning => ("warning", &mut warnings, max),
            Severity::Info => ("notice", &mut notices, max_notices),
        };
        if *count >= cap {
            rest.push(d);
            continue;
        }
        *count += 1;
        out.push_str(&annotation(report, d, command));
    }
    if !rest.is_empty() {
        let count = |s: Severity| rest.iter().filter(|d| d.severity == s).count();
        out.push_str(&format!(
            "::notice title=eksgate::{} more finding{} not annotated ({} errors, {} warnings, {} notes): GitHub shows at most {max} error and {max} warning annotations per step. They follow in this log, and the job summary lists every finding.\n",
            rest.len(),
            if rest.len() == 1 { " is" } else { "s are" },
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info),
        ));
        for d in rest {
            let p = report.position(d);
            out.push_str(&format!(
                "eksgate: {}:{}:{}: {} {}: {}\n",
                crate::render::escape::visible(report.file_name(d)),
                p.line,
                p.column,
                d.severity.as_str(),
                crate::render::escape::visible(&d.rule),
                crate::render::escape::visible(&d.message)
            ));
        }
    }
    out.push_str(&format!(
        "::notice title=eksgate::{}\n",
        escape_data(&crate::render::summary_line(report))
    ));
    out
}

fn annotation(report: &Report, d: &crate::diagnostic::Diagnostic, command: &str) -> String {
    let p = report.position(d);
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
    format!(
        "::{command} {}::{}\n",
        props.join(","),
        escape_data(&message)
    )
}
