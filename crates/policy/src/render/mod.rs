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
