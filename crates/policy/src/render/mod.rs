//! Renderers: a [`Report`] to text. Pure functions, so the CLI, the action and the web page show
//! the same thing.

mod human;
mod json;

use crate::diagnostic::Report;

pub use human::human;
pub use json::json;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Code frames for people.
    Human,
    /// The stable JSON contract (`version: 1`).
    Json,
}

/// Options that change how a report looks, not what it says.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// ANSI colours (the CLI decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
}

/// Renders `report` in `format`.
#[must_use]
pub fn render(report: &Report, format: Format, options: RenderOptions) -> String {
    match format {
        Format::Human => human(report, options),
        Format::Json => json(report),
    }
}
