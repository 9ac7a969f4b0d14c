//! Reads Go regular expressions the way eksgate does ([`eksgate_policy::re2`]) and prints what
//! they match: the eksgate side of the Go differential test (`tests/re2_differential.py`).
//!
//! Input, one JSON object a line on stdin: `{"pattern": "...", "texts": ["...", ...]}`.
//! Output, one a line: `{"ok": true, "found": [[start, end] or null, ...]}` (the leftmost-first
//! match of each text, in bytes) or `{"ok": false, "error": "..."}`.
#![expect(
    clippy::print_stdout,
    reason = "a command-line tool outside the library: its answers go to stdout"
)]

use std::io::BufRead;

fn main() -> std::process::ExitCode {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else {
            return std::process::ExitCode::FAILURE;
        };
        let Ok(case) = serde_json::from_str::<serde_json::Value>(&line) else {
            return std::process::ExitCode::FAILURE;
        };
        let pattern = case
            .get("pattern")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let answer = match eksgate_policy::re2::compile(pattern) {
            Err(err) => serde_json::json!({"ok": false, "error": err.to_string()}),
            Ok(re) => {
                let found: Vec<serde_json::Value> = case
                    .get("texts")
                    .and_then(serde_json::Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|t| {
                        re.find(t.as_str().unwrap_or_default())
                            .map_or(serde_json::Value::Null, |m| {
                                serde_json::json!([m.start(), m.end()])
                            })
                    })
                    .collect();
                serde_json::json!({"ok": true, "found": found})
            }
        };
        println!("{answer}");
    }
    std::process::ExitCode::SUCCESS
}
