//! `eksgate check` on every core: phase 1 of the engine (`eksgate_policy::engine`) per file
//! on a thread pool, each file read by the thread that checks it and its text dropped when it
//! is done; phase 2 once; then the files with findings are read again, one at a time per
//! thread, to locate the findings for the report. The report does not depend on the number
//! of threads: files keep the order they were found in.

use std::hash::BuildHasher;
use std::path::PathBuf;

use eksgate_policy::{CheckOptions, Checker, Limits, Policy, Report};
use rayon::prelude::*;

use crate::inputs::{self, Source};

/// A pool of `jobs` threads (default: the available cores), never more than there are
/// `sources`; `None` when one thread does: the pre-commit case (a file or two) then starts no
/// thread at all.
pub fn pool(jobs: Option<u16>, sources: usize) -> Result<Option<rayon::ThreadPool>, String> {
    let threads = match jobs {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    }
    .min(sources);
    if threads <= 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        // The main thread's 8 MiB rather than rayon's 2: CEL evaluation recurses once per level
        // of an expression (up to 128, `eksgate_policy::cel::program::MAX_DEPTH`), which a debug
        // build's frames took past 2 MiB. Only the pages a thread touches are committed.
        .stack_size(8 << 20)
        .build()
        .map(Some)
        .map_err(|e| format!("cannot start {threads} threads: {e}"))
}

/// `work` on every item with its index, on the pool's threads or, without a pool, on this
/// one; the results in the items' order either way.
fn map<T: Send, R: Send>(
    pool: Option<&rayon::ThreadPool>,
    items: Vec<T>,
    work: impl Fn(usize, T) -> R + Sync + Send,
) -> Vec<R> {
    match pool {
        Some(pool) => pool.install(|| {
            items
                .into_par_iter()
                .enumerate()
                .map(|(i, item)| work(i, item))
                .collect()
        }),
        None => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| work(i, item))
            .collect(),
    }
}

/// A file's text, as phase 1 saw it, to tell whether the file changed before it is read again.
fn digest(text: &str) -> u64 {
    foldhash::quality::FixedState::with_seed(0).hash_one(text.as_bytes())
}

/// What a check of found sources gives: the report, and the files that could not be read
/// (in the order they were found; each makes the exit code 2).
pub struct Checked {
    pub report: Report,
    pub problems: Vec<String>,
    /// Whether any source could be read at all.
    pub read_any: bool,
}

/// Checks `sources` on `pool`.
pub fn check(
    pool: Option<&rayon::ThreadPool>,
    sources: Vec<Source>,
    policy: &Policy,
    options: &CheckOptions,
) -> Checked {
    let checker = Checker::new(policy, options);
    let limits = &options.limits;
    // One file is its own bound on memory: its text stays, and nothing is read twice.
    let drop_texts = sources.len() > 1;
    let outcomes: Vec<_> = map(pool, sources, |index, source| {
        let path = match &source {
            Source::File(path) => Some(path.clone()),
            Source::Stdin(_) => None,
        };
        let input = inputs::read(source, limits)?;
        let reread = path
            .filter(|_| drop_texts)
            .map(|p| (p, digest(&input.source.text)));
        let mut file = checker.file(index, input);
        // Standard input cannot be read again: its text stays.
        if reread.is_some() {
            file.drop_text();
        }
        Ok::<_, String>((file, reread))
    });
    let mut problems = Vec::new();
    let mut files = Vec::with_capacity(outcomes.len());
    let mut rereads: Vec<Option<(PathBuf, u64)>> = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            Ok((file, reread)) => {
                files.push(file);
                rereads.push(reread);
            }
            Err(problem) => problems.push(problem),
        }
    }
    let read_any = !files.is_empty();
    if let Some(pool) = pool {
        pool.install(|| {
            files
                .par_iter_mut()
                .for_each(eksgate_policy::CheckedFile::unpack)
        });
    }
    let (mut report, _) = checker.finish(files);

    // Findings are sorted by file: each file's are one run of the list.
    let mut runs: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut start = 0;
    for (i, d) in report.diagnostics.iter().enumerate() {
        let next = report.diagnostics.get(i + 1).map(|n| n.file);
        if next != Some(d.file) {
            runs.push((d.file, start..i + 1));
            start = i + 1;
        }
    }
    let diagnostics = &report.diagnostics;
    let located: Vec<Option<Result<eksgate_policy::diagnostic::Located, String>>> = map(
        pool,
        runs,
        |_, (file, range)| {
            let (path, expected) = rereads.get(file)?.as_ref()?;
            let findings = diagnostics.get(range)?;
            Some(
                    inputs::read(Source::File(path.clone()), limits).and_then(|input| {
                        if digest(&input.source.text) != *expected {
                            return Err(format!(
                                "{}: changed while eksgate checked it; its findings' positions are unknown, check again",
                                inputs::shown(path)
                            ));
                        }
                        Ok(eksgate_policy::render::locate(findings, file, &input.source))
                    }),
                )
        },
    );
    for l in located.into_iter().flatten() {
        match l {
            Ok(l) => report.located.extend(l),
            Err(problem) => problems.push(problem),
        }
    }
    Checked {
        report,
        problems,
        read_any,
    }
}

/// `--parse-only`: reads and parses every source on `pool`, runs no rule. Returns the
/// documents read, the files read, and the files that could not be read.
pub fn parse_only(
    pool: Option<&rayon::ThreadPool>,
    sources: Vec<Source>,
    limits: &Limits,
) -> (usize, usize, Vec<String>) {
    let options = CheckOptions {
        limits: *limits,
        ..CheckOptions::default()
    };
    let outcomes: Vec<Result<usize, String>> = map(pool, sources, |_, source| {
        let input = inputs::read(source, limits)?;
        Ok(eksgate_policy::parse_only(&[input], &options))
    });
    let mut documents = 0;
    let mut files = 0;
    let mut problems = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(n) => {
                documents += n;
                files += 1;
            }
            Err(problem) => problems.push(problem),
        }
    }
    (documents, files, problems)
}
