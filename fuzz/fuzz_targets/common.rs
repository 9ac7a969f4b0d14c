//! What every target does with a report: render it in every format, and check the invariants
//! that hold whatever the input (the property test in crates/policy/tests/escaping.rs checks the
//! escaping in depth; here any panic, hang or invariant break is a crash).

use eksgate_policy::Report;
use eksgate_policy::render::{Format, RenderOptions, render};

pub fn render_all(report: &Report) {
    let options = RenderOptions {
        color: false,
        version: "fuzz",
    };
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Markdown,
        Format::Junit,
    ] {
        let text = render(report, format, options);
        match format {
            Format::Json | Format::Sarif => {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                    "{format:?} output is not JSON"
                );
            }
            Format::Human => {
                for line in text.lines() {
                    assert!(
                        !line.trim_start().starts_with("::"),
                        "a human line could be read as a workflow command: {line:?}"
                    );
                }
            }
            Format::Github => {
                for line in text.lines() {
                    assert!(
                        line.starts_with("::error ")
                            || line.starts_with("::warning ")
                            || line.starts_with("::notice"),
                        "a github line that eksgate did not write: {line:?}"
                    );
                }
            }
            Format::Markdown | Format::Junit => {}
        }
    }
}
