//! Renderers: a [`Report`] to text. Pure functions, so the CLI, the action and the web page show
//! the same thing.

mod docs;
pub mod escape;
mod github;
mod graph;
mod human;
mod json;
mod junit;
mod markdown;
mod sarif;

use crate::diagnostic::Report;

pub use docs::{rule_page, rule_terminal};
pub use github::{escape_data, escape_property, github, github_limited};
pub use graph::{GraphFormat, graph};
pub use human::{human, summary_line};
pub use json::json;
pub use junit::junit;
pub use markdown::markdown;
pub use sarif::{path_to_uri, sarif};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Code frames for people.
    Human,
    /// The stable JSON contract (`version: 1`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// Markdown, for job summaries and pull request comments.
    Markdown,
    /// JUnit XML, one test case per rule and file.
    Junit,
}

/// Options that change how a report looks, not what it says.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// ANSI colours (the CLI decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// The tool version written into SARIF logs.
    pub version: &'static str,
}

/// Every rule as a Markdown table (ID, name, default severity, summary): `eksgate rules
/// --format markdown` and the README's rule table.
#[must_use]
pub fn rules_markdown() -> String {
    let mut out = String::from("| ID | name | default | what it finds |\n|---|---|---|---|\n");
    for rule in crate::rules::RULES {
        let m = rule.meta();
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            m.id,
            m.name,
            m.severity,
            m.summary().replace('|', "\\|")
        ));
    }
    out
}

/// Renders `report` in `format`.
#[must_use]
pub fn render(report: &Report, format: Format, options: RenderOptions) -> String {
    match format {
        Format::Human => human(report, options),
        Format::Json => json(report),
        Format::Sarif => sarif(report, options.version),
        Format::Github => github(report),
        Format::Markdown => markdown(report),
        Format::Junit => junit(report),
    }
}

/// Works out from `source`, the text of file `file`, every position and code frame its
/// `findings` need, so that a report renders the same after the text is dropped
/// ([`crate::diagnostic::Located`]). The CLI calls it for each file with findings, one text
/// at a time: memory is bounded by the largest file, not the repository.
#[must_use]
pub fn locate(
    findings: &[crate::Diagnostic],
    file: usize,
    source: &crate::SourceFile,
) -> crate::diagnostic::Located {
    let mut located = crate::diagnostic::Located::default();
    for d in findings.iter().filter(|d| d.file == file) {
        let mut offsets = vec![d.span.start, d.span.end];
        if let Some(fix) = &d.fix {
            for edit in &fix.edits {
                offsets.push(u32::try_from(edit.span.start).unwrap_or(u32::MAX));
                offsets.push(u32::try_from(edit.span.end).unwrap_or(u32::MAX));
            }
        }
        for &offset in &offsets {
            located
                .points
                .insert((file, offset), source.line_col(offset));
        }
        // An empty text (a file too large to read) has no frame, as when it is kept.
        if source.text.is_empty() {
            continue;
        }
        let at = |offset| {
            located
                .points
                .get(&(file, offset))
                .copied()
                .unwrap_or((0, 0))
        };
        let ((line, column), (end_line, end_column)) = (at(d.span.start), at(d.span.end));
        let position = crate::Position {
            line,
            column,
            end_line,
            end_column,
        };
        located
            .frames
            .insert((file, d.span), human::frame_text(source, d, position));
    }
    located
}
