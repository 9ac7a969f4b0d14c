//! Prints what eksgate's decoder reads from each file, as one JSON line per file: the
//! documents (as the rules see them, in JSON) and the parse notes (`YAML001`-`YAML004`).
//!
//! A debugging aid and the eksgate side of the kubectl differential test
//! (`tests/yaml_differential.py`): `cargo run -p eksgate-policy --example decode -- FILE...`.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    reason = "a command-line tool outside the library: it reads the files the pure core is given"
)]

use eksgate_policy::source::{self, Limits, ParseNoteKind, SourceFile};

fn main() -> std::process::ExitCode {
    let limits = Limits::default();
    let mut failed = false;
    for (index, path) in std::env::args().skip(1).enumerate() {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("{path}: {err}");
                failed = true;
                continue;
            }
        };
        let line = match SourceFile::from_bytes(path.clone(), bytes, &limits) {
            Err((fault, _)) => serde_json::json!({"file": path, "fault": fault.to_string()}),
            Ok(file) => {
                let loaded = source::load(index, &file, &limits);
                let documents: Vec<_> = loaded
                    .documents
                    .iter()
                    .map(|d| serde_json::json!({"index": d.index, "value": d.root.to_json()}))
                    .collect();
                let notes: Vec<_> = loaded
                    .notes
                    .iter()
                    .map(|n| {
                        let (line, column) = file.line_col(n.span.start);
                        let kind = match n.kind {
                            ParseNoteKind::Syntax => "syntax",
                            ParseNoteKind::NotJson => "not-json",
                            ParseNoteKind::Yaml11Scalar => "yaml11-scalar",
                            ParseNoteKind::DuplicateKey => "duplicate-key",
                            ParseNoteKind::DocumentIgnored => "document-ignored",
                        };
                        serde_json::json!({
                            "kind": kind, "document": n.document, "line": line,
                            "column": column, "message": n.message,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "file": path, "documents": documents,
                    "empty_documents": loaded.empty_documents, "notes": notes,
                })
            }
        };
        println!("{line}");
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
