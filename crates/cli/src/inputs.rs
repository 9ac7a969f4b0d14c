//! Turning paths into inputs: directory walking, excludes, stdin, size limits. Every file is
//! read through `eksgate_io::read_user_file` (regular files only, bounded).

use std::path::{Path, PathBuf};

use eksgate_policy::{Input, Limits};
use globset::{Glob, GlobSet, GlobSetBuilder};

const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];
/// Manifests, and Terraform source for the manifests and providers in it.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json", "tf"];

/// What the paths named: the inputs read, the paths that could not be read (reported, and
/// exit code 2 at the end, while the rest is checked).
#[derive(Debug, Default)]
pub struct Collected {
    pub inputs: Vec<Input>,
    /// The file each input was read from (`None` for standard input), by input index.
    pub paths: Vec<Option<PathBuf>>,
    /// `path: reason` for each path that is missing or unreadable, as shown to the user.
    pub problems: Vec<String>,
}

/// Where one input comes from: standard input (read at once: it cannot be read twice) or a
/// file, read when it is checked.
#[derive(Debug)]
pub enum Source {
    Stdin(Input),
    File(PathBuf),
}

/// What the paths named, before any file is read: a check reads each file when it gets to
/// it (on a thread of the pool), so the run never holds the repository's text at once.
#[derive(Debug, Default)]
pub struct Found {
    pub sources: Vec<Source>,
    /// `path: reason` for each path that is missing or unreadable, as shown to the user.
    pub problems: Vec<String>,
    /// Directories walked.
    pub searched: Vec<String>,
    /// Files and directories left out by `--exclude`.
    pub excluded: usize,
}

/// Finds every file the paths name, in a stable order (standard input is read now). A path
/// that cannot be searched is a [`Found::problems`] entry, not the end of the run; only usage
/// errors (an invalid `--exclude`, `-` twice) are `Err`.
pub fn find(paths: &[PathBuf], exclude: &[String], limits: &Limits) -> Result<Found, String> {
    let excludes = excludes(exclude)?;
    let mut found = Found::default();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                return Err("`-` (standard input) is given more than once".to_string());
            }
            stdin_read = true;
            match read_stdin(limits) {
                // Standard input comes first, wherever `-` is among the paths.
                Ok(input) => found.sources.insert(0, Source::Stdin(input)),
                Err(e) => found.problems.push(e),
            }
            continue;
        }
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                found.problems.push(format!("{}: {e}", shown(path)));
                continue;
            }
        };
        if meta.is_dir() {
            found.searched.push(shown(path));
            walk(path, &excludes, &mut found)?;
        } else if is_excluded(path, &excludes) {
            found.excluded += 1;
        } else {
            found.sources.push(Source::File(path.clone()));
        }
    }
    Ok(found)
}

/// Reads one source: the file's bytes now, or standard input as it was read.
pub fn read(source: Source, limits: &Limits) -> Result<Input, String> {
    match source {
        Source::Stdin(input) => Ok(input),
        Source::File(path) => read_file(&path, limits),
    }
}

/// Reads every input the paths name, in a stable order, for commands that need every text
/// at once (`--fix`, `graph`, `--crd`). A path that cannot be read is a
/// [`Collected::problems`] entry, not the end of the run.
pub fn collect(
    paths: &[PathBuf],
    exclude: &[String],
    limits: &Limits,
) -> Result<Collected, String> {
    let found = find(paths, exclude, limits)?;
    let mut collected = read_all(found.sources, limits);
    collected.problems.splice(0..0, found.problems);
    Ok(collected)
}

/// Reads every source now, in order; a source that cannot be read is a problem.
pub fn read_all(sources: Vec<Source>, limits: &Limits) -> Collected {
    let mut collected = Collected::default();
    for source in sources {
        let path = match &source {
            Source::Stdin(_) => None,
            Source::File(path) => Some(path.clone()),
        };
        match read(source, limits) {
            Ok(input) => {
                collected.inputs.push(input);
                collected.paths.push(path);
            }
            Err(e) => collected.problems.push(e),
        }
    }
    collected
}

/// A path for a message: in backticks, with control characters escaped (a file name with a
/// line break must not start a new line of output).
pub fn shown(path: &Path) -> String {
    format!("`{}`", eksgate_io::shown(path))
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

fn walk(dir: &Path, excludes: &GlobSet, found: &mut Found) -> Result<(), String> {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).collect(),
        Err(e) => {
            found.problems.push(format!("{}: {e}", shown(dir)));
            return Ok(());
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_excluded(&path, excludes) {
            found.excluded += 1;
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
            walk(&path, excludes, found)?;
        } else if kind.is_file() || kind.is_symlink() && path.is_file() {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
                found.sources.push(Source::File(path));
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
