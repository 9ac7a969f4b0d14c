//! `eksgate check --fix` and `--diff`: the core fixes the texts ([`check_and_fix`]); this
//! adapter writes them back (atomically, and only over a file that still has the bytes that
//! were checked) or prints them as a unified diff.

use std::io::Write as _;
use std::path::PathBuf;

use eksgate_policy::autofix::{FixRun, check_and_fix};
use eksgate_policy::fix::Applicability;
use eksgate_policy::render::escape;
use eksgate_policy::{CheckOptions, Input, Policy};

/// What happened to the files, for the summary and the exit code.
pub struct Outcome {
    pub run: FixRun,
    /// Files written (`--fix`) or that would change (`--diff`).
    pub changed_files: usize,
    /// Files that could not be written, with why (exit 2).
    pub failures: Vec<String>,
}

/// Fixes `inputs` (read from `paths`); writes them unless `diff`, in which case the unified
/// diff is printed on standard output.
pub fn run(
    inputs: Vec<Input>,
    paths: &[Option<PathBuf>],
    policy: &Policy,
    options: &CheckOptions,
    unsafe_fixes: bool,
    diff: bool,
) -> Outcome {
    let originals: Vec<(String, std::sync::Arc<str>)> = inputs
        .iter()
        .map(|i| (i.source.name.clone(), i.source.text.clone()))
        .collect();
    let run = check_and_fix(inputs, policy, options, unsafe_fixes);
    let mut failures = Vec::new();
    for (index, why) in &run.rejected {
        if let Some((name, _)) = originals.get(*index) {
            failures.push(format!("`{}`: {why}", escape::visible(name)));
        }
    }
    let mut changed_files = 0;
    let mut out = std::io::stdout().lock();
    for (index, text) in run.texts.iter().enumerate() {
        let (Some(text), Some((name, before))) = (text, originals.get(index)) else {
            continue;
        };
        changed_files += 1;
        if diff {
            let shown = escape::visible(name);
            let patch = similar::TextDiff::from_lines(&**before, text.as_str())
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{shown}"), &format!("b/{shown}"))
                .to_string();
            let _ = out.write_all(patch.as_bytes());
            continue;
        }
        let Some(Some(path)) = paths.get(index) else {
            failures.push(format!(
                "`{}`: standard input cannot be fixed in place; use `--diff`",
                escape::visible(name)
            ));
            continue;
        };
        // Never over a file that changed since it was checked.
        match std::fs::read(path) {
            Ok(now) if now == before.as_bytes() => {}
            _ => {
                failures.push(format!(
                    "{}: the file changed while it was checked; it was not fixed",
                    crate::inputs::shown(path)
                ));
                continue;
            }
        }
        if let Err(e) = eksgate_io::write_atomic(path, text.as_bytes()) {
            failures.push(format!("{e}; it was not fixed"));
        }
    }
    Outcome {
        run,
        changed_files,
        failures,
    }
}

/// `N fixed, M remaining (K more with --unsafe-fixes)`, as ruff says it.
pub fn summary(outcome: &Outcome, unsafe_fixes: bool, diff: bool) -> String {
    let fixed = outcome.run.fixed_count();
    let remaining = outcome.run.report.diagnostics.len();
    let hidden = if unsafe_fixes {
        0
    } else {
        outcome.run.fixable(Applicability::Unsafe)
    };
    let files = match outcome.changed_files {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    let mut line = if diff {
        format!("{fixed} would be fixed in {files}, {remaining} would remain")
    } else {
        format!("{fixed} fixed in {files}, {remaining} remaining")
    };
    if hidden > 0 {
        line.push_str(&format!(" ({hidden} more with --unsafe-fixes)"));
    }
    line
}

/// After a check without `--fix`: how many findings `--fix` (and `--unsafe-fixes`) would fix.
pub fn hint(report: &eksgate_policy::Report) -> Option<String> {
    let count = |a: Applicability| {
        report
            .diagnostics
            .iter()
            .filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability == a))
            .count()
    };
    match (count(Applicability::Safe), count(Applicability::Unsafe)) {
        (0, 0) => None,
        (0, u) => Some(format!("{u} fixable with `--fix --unsafe-fixes`")),
        (s, 0) => Some(format!("{s} fixable with `--fix`")),
        (s, u) => Some(format!(
            "{s} fixable with `--fix` ({u} more with `--unsafe-fixes`)"
        )),
    }
}
