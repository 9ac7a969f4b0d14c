//! The manifests of a run: read once, from the files and directories the plan names (through
//! `eksgate_io`'s bounded reader: regular files only, at most the policy core's size limit), so
//! the policy gate checks exactly the bytes that are applied; then parsed into objects.

use std::path::{Path, PathBuf};

use eksgate_policy::{Limits, SourceFile};
use serde_json::Value;

/// One manifest file as read, for the stage at index `stage` of the selected stages.
#[derive(Clone, Debug)]
pub struct ManifestFile {
    pub stage: usize,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One object to apply.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub file: String,
    pub document: usize,
    pub object: Value,
}

/// The most a manifest file may hold: what the policy core reads.
fn limit() -> u64 {
    Limits::default().max_source_bytes as u64
}

/// Files of a manifests entry: the file itself, or every `*.yaml`, `*.yml`, `*.json` below a
/// directory (sorted; hidden entries, and entries that are not regular files or directories,
/// skipped).
///
/// # Errors
/// A path that cannot be read, is not a regular file or directory (a FIFO, `/dev/zero`), or
/// is larger than the limit.
pub fn collect(path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read manifests `{}`: {e}", eksgate_io::shown(path)))?;
    if !meta.is_dir() {
        let bytes = eksgate_io::read_user_file(path, limit())
            .map_err(|e| format!("cannot read manifests {e}"))?;
        return Ok(vec![(path.display().to_string(), bytes)]);
    }
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot list `{}`: {e}", eksgate_io::shown(path)))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for entry in entries {
        // A pipe or device in a directory is not a manifest (and must not be waited on).
        if entry.is_dir()
            || entry.is_file()
                && matches!(
                    entry.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        {
            out.extend(collect(&entry)?);
        }
    }
    Ok(out)
}

/// The objects of one file, in order.
///
/// # Errors
/// `FILE:LINE:COLUMN: message` when the file is not UTF-8 or does not parse.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Vec<Manifest>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("`{name}` is not UTF-8"))?;
    let source = SourceFile::new(name.to_string(), text);
    let loaded = eksgate_policy::source::load(0, &source, &Limits::default());
    if let Some(note) = loaded
        .notes
        .iter()
        .find(|n| n.kind == eksgate_policy::source::ParseNoteKind::Syntax)
    {
        let (line, column) = source.line_col(note.span.start);
        return Err(format!("{name}:{line}:{column}: {}", note.message));
    }
    Ok(loaded
        .documents
        .iter()
        .map(|d| Manifest {
            file: name.to_string(),
            document: d.index,
            object: d.root.to_json(),
        })
        .collect())
}

/// `Kind/name` of an object, for the log.
#[must_use]
pub fn object_label(obj: &Value) -> String {
    format!(
        "{}/{}",
        obj.get("kind").and_then(Value::as_str).unwrap_or("?"),
        obj.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
    )
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn directories_are_walked_in_order_and_skip_what_is_not_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("b.yaml", "kind: B\n");
        write("a/z.yml", "kind: A\n");
        write(".hidden.yaml", "kind: H\n");
        write("notes.txt", "not a manifest\n");
        let found = collect(dir.path()).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|(n, _)| n.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["z.yml", "b.yaml"]);
    }

    #[test]
    fn a_device_is_refused() {
        let err = collect(Path::new("/dev/zero")).unwrap_err();
        assert!(
            err.contains("`/dev/zero`: is a character device, not a regular file"),
            "{err}"
        );
    }

    #[test]
    fn parse_errors_point_at_the_fault() {
        let err = parse("bad.yaml", b"kind: [unclosed\n").unwrap_err();
        assert!(err.starts_with("bad.yaml:"), "{err}");
        let objects = parse("ok.yaml", b"kind: A\nmetadata: {name: a}\n---\nkind: B\n").unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(object_label(&objects[0].object), "A/a");
        assert_eq!(object_label(&objects[1].object), "B/?");
    }
}
