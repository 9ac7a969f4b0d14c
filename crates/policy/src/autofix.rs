//! `eksgate check --fix`: check, apply the findings' fixes, check again, until nothing more can
//! be fixed (at most [`MAX_ROUNDS`] rounds). Pure: texts in, fixed texts and the final report
//! out; the CLI reads and writes the files.
//!
//! A round applies, per file, the fixes that do not collide with one taken before them
//! ([`crate::fix::apply_fixes`]); the next round's check sees the result, so a second label
//! goes into the `labels` mapping the first one created. A file whose fixed text no longer
//! parses, or has another number of documents, keeps its last good text (that would be a bug
//! of a fix: it is reported, never written).

use std::collections::BTreeMap;

use crate::fix::{Applicability, Fix, apply_fixes};
use crate::source::{self, ParseNoteKind};
use crate::{CheckOptions, Input, Policy, Report, SourceFile, check};

/// Rounds of check and fix before giving up on fixes that keep proposing more.
pub const MAX_ROUNDS: usize = 10;

/// What [`check_and_fix`] did.
#[derive(Debug)]
pub struct FixRun {
    /// The check of the fixed texts: what remains.
    pub report: Report,
    /// The new text of each input that changed (by input index); `None` for the others.
    pub texts: Vec<Option<String>>,
    /// Fixes applied, per rule ID.
    pub fixed: BTreeMap<String, usize>,
    /// Inputs whose fixes were undone because the result did not read back: (input index,
    /// why).
    pub rejected: Vec<(usize, String)>,
}

impl FixRun {
    /// How many fixes were applied.
    #[must_use]
    pub fn fixed_count(&self) -> usize {
        self.fixed.values().sum()
    }

    /// Remaining findings that have a fix of `applicability` (those `--unsafe-fixes` would
    /// apply, say).
    #[must_use]
    pub fn fixable(&self, applicability: Applicability) -> usize {
        self.report
            .diagnostics
            .iter()
            .filter(|d| {
                d.fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == applicability)
            })
            .count()
    }
}

/// Whether `fix` is applied: safe fixes always, unsafe ones with `unsafe_fixes`.
#[must_use]
pub fn applies(fix: &Fix, unsafe_fixes: bool) -> bool {
    fix.applicability == Applicability::Safe || unsafe_fixes
}

/// Checks `inputs`, applies the fixes (unsafe ones too with `unsafe_fixes`) and checks again,
/// until no fix applies. Inputs that could not be read as text are never changed.
#[must_use]
pub fn check_and_fix(
    inputs: Vec<Input>,
    policy: &Policy,
    options: &CheckOptions,
    unsafe_fixes: bool,
) -> FixRun {
    let originals: Vec<Input> = inputs;
    let mut texts: Vec<Option<String>> = vec![None; originals.len()];
    let mut fixed: BTreeMap<String, usize> = BTreeMap::new();
    let mut rejected: Vec<(usize, String)> = Vec::new();
    let current = |texts: &[Option<String>]| -> Vec<Input> {
        originals
            .iter()
            .zip(texts)
            .map(|(input, text)| match text {
                Some(text) => Input {
                    source: SourceFile::new(input.source.name.clone(), text.as_str()),
                    fault: None,
                },
                None => input.clone(),
            })
            .collect()
    };
    let mut report = check(current(&texts), policy, options);
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        // The fixes of each file, gathered in one pass over the findings (not one per file).
        let mut by_file: Vec<Vec<(&str, &Fix)>> = vec![Vec::new(); originals.len()];
        for d in &report.diagnostics {
            if let (Some(fix), Some(slot)) = (d.fix.as_ref(), by_file.get_mut(d.file))
                && applies(fix, unsafe_fixes)
            {
                slot.push((d.rule.as_ref(), fix));
            }
        }
        for ((index, input), found) in originals.iter().enumerate().zip(by_file) {
            if input.fault.is_some() || rejected.iter().any(|(i, _)| *i == index) {
                continue;
            }
            if found.is_empty() {
                continue;
            }
            let Some(file) = report.files.get(index) else {
                continue;
            };
            let before: &str = &file.text;
            let fixes: Vec<&Fix> = found.iter().map(|(_, f)| *f).collect();
            let applied = apply_fixes(before, &fixes);
            if applied.applied.is_empty() || applied.text == before {
                continue;
            }
            if let Err(why) = reads_back(&file.name, before, &applied.text, options) {
                rejected.push((index, why));
                continue;
            }
            for i in &applied.applied {
                if let Some((rule, _)) = found.get(*i) {
                    *fixed.entry((*rule).to_string()).or_default() += 1;
                }
            }
            if let Some(slot) = texts.get_mut(index) {
                *slot = Some(applied.text);
                changed = true;
            }
        }
        if !changed {
            break;
        }
        report = check(current(&texts), policy, options);
    }
    // Texts that ended where they started are not changes.
    for (slot, input) in texts.iter_mut().zip(&originals) {
        if slot.as_deref() == Some(&*input.source.text) {
            *slot = None;
        }
    }
    FixRun {
        report,
        texts,
        fixed,
        rejected,
    }
}

/// Whether the fixed text reads as cleanly as the text before it, with as many documents.
fn reads_back(name: &str, before: &str, after: &str, options: &CheckOptions) -> Result<(), String> {
    let load = |text: &str| {
        let loaded = source::load(0, &SourceFile::new(name, text), &options.limits);
        let syntax = loaded
            .notes
            .iter()
            .filter(|n| n.kind == ParseNoteKind::Syntax)
            .count();
        (loaded.documents.len(), syntax)
    };
    let (docs_before, faults_before) = load(before);
    let (docs_after, faults_after) = load(after);
    if faults_after > faults_before {
        return Err("the fixed text does not parse; nothing was changed".to_string());
    }
    if docs_after != docs_before {
        return Err(format!(
            "the fixed text has {docs_after} documents instead of {docs_before}; nothing was changed"
        ));
    }
    Ok(())
}
