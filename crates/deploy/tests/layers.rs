//! The deploy crate's modules import one way: each module may use only modules of a lower layer,
//! so there is no cycle (the plan reader and the credentials code once imported each other).
//! A module added to `src/` must be given a layer here.

use std::collections::BTreeMap;
use std::path::Path;

/// Module -> layer. Leaves first; the runner, which drives everything, last.
const LAYERS: &[(&str, u8)] = &[
    ("cancel", 0),
    ("conditions", 0),
    ("duration", 0),
    ("iam", 0),
    ("log", 0),
    ("token", 0),
    ("manifests", 1),
    ("plan", 1),
    ("process", 1),
    ("wait", 1),
    ("aws", 2),
    ("terraform", 2),
    ("credentials", 3),
    ("kube", 3),
    ("runner", 4),
];

/// The `crate::MODULE` names a source text uses (doc comments aside: a link is not an import).
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn modules_import_only_lower_layers() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).expect("dir") {
                files.push(inner.expect("entry").path());
            }
        } else {
            files.push(path);
        }
    }
    for path in files {
        let rel = path.strip_prefix(&src).expect("under src");
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" {
            continue;
        }
        let Some(&own) = layers.get(module.as_str()) else {
            problems.push(format!("`{module}` has no layer in tests/layers.rs"));
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("read source");
        for used in imports(&text) {
            match layers.get(used.as_str()) {
                Some(&layer) if layer < own => {}
                Some(&layer) => problems.push(format!(
                    "{}: `{module}` (layer {own}) imports `{used}` (layer {layer})",
                    rel.display()
                )),
                None => problems.push(format!(
                    "{}: `crate::{used}` is not a known module",
                    rel.display()
                )),
            }
        }
        checked += 1;
    }
    assert!(checked >= LAYERS.len(), "only {checked} files checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
