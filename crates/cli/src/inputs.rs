//! Turning paths into inputs: directory walking, excludes, stdin, size limits. Every file is
//! read through `eksgate_io::read_user_file` (regular files only, bounded).

use std::path::{Path, PathBuf};

use eksgate_policy::{Input, Limits};
use globset::{Glob, GlobSet, GlobSetBuilder};

const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads every input the paths name, in a stable order.
pub fn collect(
    paths: &[PathBuf],
    exclude: &[String],
    limits: &Limits,
) -> Result<Vec<Input>, String> {
    let excludes = excludes(exclude)?;
    let mut files = Vec::new();
    let mut inputs = Vec::new();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                return Err("`-` (standard input) is given more than once".to_string());
            }
            stdin_read = true;
            inputs.push(read_stdin(limits)?);
            continue;
        }
        let meta =
            std::fs::metadata(path).map_err(|e| format!("`{}`: {e}", eksgate_io::shown(path)))?;
        if meta.is_dir() {
            walk(path, &excludes, &mut files)?;
        } else if !is_excluded(path, &excludes) {
            files.push(path.clone());
        }
    }
    for file in files {
        inputs.push(read_file(&file, limits)?);
    }
    Ok(inputs)
}

fn excludes(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| format!("invalid --exclude `{p}`: {e}"))?;
        builder.add(glob);
        let trimmed = p.trim_end_matches('/');
        // Patterns are unanchored, like .gitignore names: `charts/**` also skips
        // `k8s/charts/...`, and `--exclude charts` what is inside `charts`.
        let mut variants = vec![format!("{trimmed}/**")];
        if !p.starts_with('/') && !p.starts_with("**") {
            variants.push(format!("**/{trimmed}"));
            variants.push(format!("**/{trimmed}/**"));
        }
        for variant in variants {
            if let Ok(glob) = Glob::new(&variant) {
                builder.add(glob);
            }
        }
    }
    builder
        .build()
        .map_err(|e| format!("invalid --exclude: {e}"))
}

fn is_excluded(path: &Path, excludes: &GlobSet) -> bool {
    let trimmed = path.strip_prefix("./").unwrap_or(path);
    excludes.is_match(trimmed) || path.file_name().is_some_and(|name| excludes.is_match(name))
}

fn walk(dir: &Path, excludes: &GlobSet, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("`{}`: {e}", eksgate_io::shown(dir)))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_excluded(&path, excludes) {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        // Hidden files and directories (.git, .github, .pre-commit-config.yaml) are tooling,
        // not manifests; name them explicitly to check them.
        if name.starts_with('.') {
            continue;
        }
        if kind.is_dir() {
            if SKIPPED_DIRS.contains(&name.as_ref()) {
                continue;
            }
            walk(&path, excludes, files)?;
        } else if kind.is_file() || kind.is_symlink() && path.is_file() {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
                files.push(path);
            }
        }
    }
    Ok(())
}

fn display(path: &Path) -> String {
    let shown = path.strip_prefix("./").unwrap_or(path);
    shown.display().to_string()
}

fn read_file(path: &Path, limits: &Limits) -> Result<Input, String> {
    match eksgate_io::read_user_file(path, limits.max_source_bytes as u64) {
        Ok(bytes) => Ok(Input::bytes(display(path), bytes, limits)),
        // Too large is a finding on the file (YAML001), not an error of the run.
        Err(eksgate_io::ReadError {
            kind: eksgate_io::ReadErrorKind::TooLarge { size, .. },
            ..
        }) => Ok(Input::too_large(
            display(path),
            usize::try_from(size).unwrap_or(usize::MAX),
            limits,
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn read_stdin(limits: &Limits) -> Result<Input, String> {
    let bytes = eksgate_io::read_bounded(std::io::stdin().lock(), limits.max_source_bytes as u64)
        .map_err(|e| format!("standard input: {e}"))?;
    Ok(Input::bytes("<stdin>", bytes, limits))
}
