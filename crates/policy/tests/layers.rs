//! The core's layers import downwards only (docs/architecture.md), and no rule borrows from
//! another rule. Read from the source files: every `crate::<module>` path outside comments.
#![expect(
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::indexing_slicing,
    reason = "tests read repository files, slice them at offsets `find` gave, and fail loudly"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each layer (a top-level module of `crates/policy/src`) and the modules it may import,
/// lowest first. Modules not named here (`rules`, `suppress`, `render`, `ffi`, `migrate`, the
/// crate root) sit above all of these.
const LAYERS: &[(&str, &[&str])] = &[
    ("node", &[]),
    ("text", &[]),
    ("re2", &["text"]),
    ("catalogue", &[]),
    ("source", &["node"]),
    ("fix", &["node", "source"]),
    ("diagnostic", &["node", "source", "fix"]),
    ("reader", &["node", "source", "text"]),
    ("schema", &["node", "source", "text", "re2"]),
    ("cel", &["node", "source", "text", "re2"]),
    ("placeholder", &["node", "source", "text"]),
    (
        "model",
        &[
            "node",
            "source",
            "text",
            "re2",
            "catalogue",
            "diagnostic",
            "reader",
            "cel",
            "placeholder",
        ],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without comments (line comments, doc comments and block comments), so a
/// comment that names a module is not an import. String literals are kept: they hold no paths.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block > 0 {
                match rest.find("*/") {
                    Some(i) => {
                        in_block -= 1;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else if let Some(i) = rest.find("/*") {
                let before = &rest[..i];
                if let Some(j) = before.find("//") {
                    kept.push_str(&before[..j]);
                    break;
                }
                kept.push_str(before);
                in_block += 1;
                rest = &rest[i + 2..];
            } else {
                match rest.find("//") {
                    Some(j) => kept.push_str(&rest[..j]),
                    None => kept.push_str(rest),
                }
                break;
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The module path of a file under `src/` (`model/policy/mod.rs` -> `["model", "policy"]`).
fn module_of(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every module path the code names, resolved to absolute paths (`crate::a::b`, and
/// `super::x` relative to the file's module), each as its list of segments.
fn paths_named(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    // An inline module (`mod tests {`) runs to the end of the file in this codebase: `super`
    // inside it is the file's own module.
    let inline = code
        .lines()
        .scan(0usize, |offset, line| {
            let at = *offset;
            *offset += line.len() + 1;
            Some((at, line))
        })
        .find_map(|(at, line)| {
            let t = line.trim_start();
            let t = t
                .strip_prefix("pub(crate) ")
                .or_else(|| t.strip_prefix("pub "))
                .unwrap_or(t);
            let name = t.strip_prefix("mod ")?.strip_suffix(" {")?;
            Some((at, name.to_string()))
        });
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            // Only whole words: `supercrate::` or `my_crate::` are something else.
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let mut segments: Vec<String> = Vec::new();
            let mut rest = &code[at..];
            if start == "super::" {
                // `super` of a `mod.rs` module is its parent; of a file module, the directory's.
                let mut base: Vec<String> = module.to_vec();
                if let Some((_, name)) = inline.as_ref().filter(|(start, _)| *start < at) {
                    base.push(name.clone());
                }
                while let Some(tail) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = tail;
                }
                segments.extend(base);
            } else {
                rest = &rest["crate::".len()..];
            }
            for part in rest.split("::") {
                let word: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if word.is_empty() {
                    break;
                }
                let whole = word.len() == part.len();
                segments.push(word);
                if !whole {
                    break;
                }
            }
            out.push(segments);
        }
    }
    out
}

#[test]
fn lower_layers_import_only_layers_below_them() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut problems = BTreeSet::new();
    for path in &files {
        let module = module_of(path);
        let Some(top) = module.first() else {
            continue;
        };
        let Some((_, allowed)) = LAYERS.iter().find(|(layer, _)| layer == top) else {
            continue;
        };
        for named in paths_named(&code(path), &module) {
            let Some(first) = named.first() else {
                continue;
            };
            if first == top || allowed.contains(&first.as_str()) {
                continue;
            }
            // `crate::Severity` and other re-exports at the root are the root's items.
            if first.starts_with(|c: char| c.is_ascii_uppercase()) {
                problems.insert(format!(
                    "{}: names `crate::{first}` (a root re-export); import it from its module",
                    path.display()
                ));
                continue;
            }
            problems.insert(format!(
                "{}: layer `{top}` imports `{}`, which is not below it (allowed: {allowed:?})",
                path.display(),
                named.join("::")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "imports against the layering (docs/architecture.md):\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The file of the longest module prefix of `named` (`src/a/b.rs` or `src/a/b/mod.rs`).
fn file_module(named: &[String]) -> Option<PathBuf> {
    let mut found = None;
    let mut dir = src();
    for segment in named {
        let file = dir.join(format!("{segment}.rs"));
        let sub = dir.join(segment);
        if file.is_file() {
            found = Some(file);
            break;
        } else if sub.join("mod.rs").is_file() {
            found = Some(sub.join("mod.rs"));
            dir = sub;
        } else {
            break;
        }
    }
    found
}

#[test]
fn rules_do_not_import_other_rules() {
    let mut files = Vec::new();
    rust_files(&src().join("rules"), &mut files);
    let mut problems = BTreeSet::new();
    let mut rule_files = 0;
    for path in &files {
        if path.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        rule_files += 1;
        let module = module_of(path);
        for named in paths_named(&code(path), &module) {
            // A path into another rule's file: the longest prefix that is a file of `rules/`
            // other than a `mod.rs` (`crate::rules::Context`, a group's `mod.rs` helpers and
            // the test helpers in `rules/mod.rs` are the registry's, not another rule's).
            let Some(target) = file_module(&named) else {
                continue;
            };
            if target == *path || target.file_name().is_some_and(|n| n == "mod.rs") {
                continue;
            }
            if !target.starts_with(src().join("rules")) {
                continue;
            }
            problems.insert(format!(
                "{}: imports `{}` from another rule; move what they share into `model/`",
                path.display(),
                named.join("::")
            ));
        }
    }
    assert!(rule_files > 20, "found only {rule_files} rule files");
    assert!(
        problems.is_empty(),
        "rules that borrow from other rules:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Files stay small enough to read at once: one concept per file. A file that must be longer
/// says why in its first lines (`Long on purpose:`).
#[test]
fn files_in_the_core_layers_stay_under_800_lines() {
    const LIMIT: usize = 800;
    let mut too_long = Vec::new();
    for dir in ["model", "schema", "cel", "rules", "reader"] {
        let mut files = Vec::new();
        rust_files(&src().join(dir), &mut files);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let lines = text.lines().count();
            let excused = text
                .lines()
                .take(10)
                .any(|l| l.contains("Long on purpose:"));
            if lines > LIMIT && !excused {
                too_long.push(format!("{}: {lines} lines", path.display()));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "split these by concept (or say at the top why one concept needs the length):\n{}",
        too_long.join("\n")
    );
}

/// The checks above must see an import when there is one.
#[test]
fn the_scanner_sees_imports_and_skips_comments() {
    let module = vec!["rules".to_string(), "sep".to_string(), "x".to_string()];
    let named = paths_named(
        "use crate::rules::sep::y::helper;\nfn f() { super::z::g(); crate::model::policy::Policy::x(); }\n",
        &module,
    );
    assert!(named.contains(&vec![
        "rules".into(),
        "sep".into(),
        "y".into(),
        "helper".into()
    ]));
    assert!(named.contains(&vec!["rules".into(), "sep".into(), "z".into(), "g".into()]));
    assert!(named.iter().any(|n| n.starts_with(&[
        "model".to_string(),
        "policy".to_string(),
        "Policy".to_string()
    ])));
    let words = |p: &str| p.split("::").map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        file_module(&words("rules::refs::node_class_not_found::closest")),
        Some(src().join("rules/refs/node_class_not_found.rs"))
    );
    assert_eq!(
        file_module(&words("rules::sch::report")),
        Some(src().join("rules/sch/mod.rs"))
    );
    let dir = std::env::temp_dir().join(format!("eksgate-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.rs");
    std::fs::write(
        &file,
        "/// see crate::rules::find\n// crate::rules::x\n/* crate::rules::y */ fn a() {}\n",
    )
    .unwrap();
    let stripped = code(&file);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!stripped.contains("crate::rules"), "{stripped}");
}
