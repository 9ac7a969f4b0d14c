//! The files eksgate generates from its code, and the check that they are up to date.
//!
//! `cargo run -p xtask -- generate` writes them; the test `tests/generated.rs` fails when one
//! differs from what the code generates (and writes them when `EKSGATE_UPDATE=1`), as ruff
//! keeps its generated files.
//!
//! A new document type of eksgate's own is one line in [`generated`].

use std::path::{Path, PathBuf};

use eksgate_policy::reader::OwnDocument;
use eksgate_policy::reader::schema::document_schema_text;

/// One generated file: where it goes (relative to the repository root) and its text.
#[derive(Debug)]
pub struct Generated {
    pub path: PathBuf,
    pub text: String,
}

/// Every generated file.
#[must_use]
pub fn generated() -> Vec<Generated> {
    vec![
        schema::<eksgate_policy::Policy>(),
        schema::<eksgate_deploy::plan::DeployPlan>(),
        schema::<eksgate_policy::model::request::ClusterRequest>(),
    ]
}

/// The JSON Schema of an eksgate document, in `policies/schemas/`.
fn schema<T: OwnDocument>() -> Generated {
    Generated {
        path: Path::new("policies/schemas").join(T::SCHEMA_FILE),
        text: document_schema_text::<T>(),
    }
}

/// The repository root (this crate is `crates/xtask`).
#[must_use]
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares every generated file with the one under `root`; with `update`, writes those that
/// differ instead. Returns the files that differ (all written, with `update`).
///
/// # Errors
/// A message when a file cannot be written.
pub fn sync(root: &Path, update: bool) -> Result<Vec<PathBuf>, String> {
    let mut stale = Vec::new();
    for file in generated() {
        let path = root.join(&file.path);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == file.text {
            continue;
        }
        if update {
            write_atomically(&path, &file.text)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        }
        stale.push(file.path);
    }
    Ok(stale)
}

/// Writes through a temporary file in the same directory, then renames: a reader never sees
/// half a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temp, text)?;
    std::fs::rename(&temp, path)
}
