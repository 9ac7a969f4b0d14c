//! Fixes: what a rule proposes to change for one finding, as text edits on the source
//! (`eksgate check --fix`).
//!
//! A rule states a fix as a [`Change`] on the nodes it holds (replace a scalar, rename a key,
//! add an entry to a mapping, append an item to a list) with a title and an
//! [`Applicability`]. The engine, which has the source text, renders the change into
//! [`Edit`]s in the layout of the text around it (`layout.rs`): a block mapping gains a line at
//! its indentation, a flow mapping or JSON object an entry with its separator, quotes are kept
//! or dropped as asked, line breaks follow the file's (CRLF stays CRLF). Bytes outside the
//! edits never change, so comments and layout are kept. A change that cannot be written
//! exactly (the node comes from a YAML alias or merge key, a multi-line scalar, a value that is
//! not a mapping where one is needed) gives no fix: the finding is still reported, and fixed by
//! hand.
//!
//! [`apply_fixes`] applies the fixes of one file's findings, skipping fixes that collide with
//! one already taken (the next round of `--fix` gets them, as ruff does).

pub mod edit;
pub(crate) mod layout;

use std::collections::{BTreeMap, HashSet};

use crate::node::Node;
pub use edit::{Edit, EditError, apply};

/// Whether a fix may be applied without asking (`--fix`) or only with `--unsafe-fixes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Applicability {
    /// Changes what the cluster does in ways the user should review: scheduling, a value a
    /// typo kept from taking effect.
    Unsafe,
    /// Makes the object say what the rule requires and nothing else.
    Safe,
}

impl Applicability {
    /// `safe` or `unsafe`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// A fix for one finding: text edits on the finding's file (byte offsets into its text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What it does, in the words of the rules' help: ``set `httpTokens: required` ``.
    pub title: String,
    pub applicability: Applicability,
    /// Sorted by offset, none overlapping.
    pub edits: Vec<Edit>,
}

/// How a replaced scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quotes {
    /// Keep the quotes the old value had (a string stays a string).
    Keep,
    /// Write the new text plain, without quotes (`"true"` becomes the boolean `true`).
    Drop,
}

/// A change a rule asks for, on nodes of the finding's document.
#[derive(Clone, Debug)]
pub enum Change<'a> {
    /// Replace a one-line scalar with `text` (YAML plain-scalar text such as `required` or
    /// `1`).
    Replace {
        node: &'a Node,
        text: String,
        quotes: Quotes,
    },
    /// Rename a mapping key, keeping its quotes.
    RenameKey { key: &'a Node, to: String },
    /// Set `path` (mapping keys) under the mapping `map` to `value`: the keys that exist are
    /// followed (they must hold mappings), the first missing one is added with the rest nested
    /// under it. Nothing is offered when the whole path exists.
    Insert {
        map: &'a Node,
        path: Vec<String>,
        value: NewValue,
    },
    /// Append `item` to the list `seq`.
    Append { seq: &'a Node, item: NewValue },
}

/// A value a fix writes: written as YAML flow (plain scalars where they read back the same)
/// or JSON, as the text around it is. Mappings keep their order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewValue {
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<NewValue>),
    Map(Vec<(String, NewValue)>),
}

impl NewValue {
    #[must_use]
    pub fn str(text: impl Into<String>) -> Self {
        NewValue::Str(text.into())
    }

    /// A mapping of string values, in order.
    #[must_use]
    pub fn strings<'s>(pairs: impl IntoIterator<Item = (&'s str, &'s str)>) -> Self {
        NewValue::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), NewValue::str(v)))
                .collect(),
        )
    }
}

/// A fix as a rule proposes it, before it is rendered against the text.
#[derive(Clone, Debug)]
pub struct Proposal<'a> {
    pub title: String,
    pub applicability: Applicability,
    pub change: Change<'a>,
}

impl Proposal<'_> {
    /// The edits on `text` (the source `root` was read from), or `None` when the change cannot
    /// be written exactly there.
    #[must_use]
    pub fn render(&self, text: &str, root: &Node) -> Option<Fix> {
        self.render_in(&layout::Layout::new(text), root)
    }

    /// [`Proposal::render`] with the text's layout read once for all its fixes.
    pub(crate) fn render_in(&self, layout: &layout::Layout<'_>, root: &Node) -> Option<Fix> {
        let edits = layout.render(root, &self.change)?;
        // The edits must apply: a fix that cannot is not offered.
        edit::check(layout.text(), &edits).ok()?;
        Some(Fix {
            title: self.title.clone(),
            applicability: self.applicability,
            edits,
        })
    }
}

/// Whether `text` can be written as a plain YAML scalar and read back as the same string.
#[must_use]
pub fn is_plain(text: &str) -> bool {
    layout::plain_ok(text)
}

/// What [`apply_fixes`] did to one text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    /// Indexes (into the fixes given) of the fixes applied.
    pub applied: Vec<usize>,
}

/// Applies `fixes` (of findings in one text) in the order given, skipping each fix whose edits
/// overlap, or insert where, an edit already taken starts: the file is then re-checked and a
/// later round fixes what is left. Fixes with identical edits (two findings, one repair) are
/// applied once and both count.
#[must_use]
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> Applied {
    // Taken edits never overlap, so by start offset their ends rise too: an edit collides
    // with one that starts inside it (or where it starts), or with the last one before it.
    // Both are found in the ordered map, so applying n fixes costs n log n, not n squared.
    let mut taken: Vec<&Edit> = Vec::new();
    let mut ends: BTreeMap<usize, usize> = BTreeMap::new();
    let mut applied = Vec::new();
    let mut seen: HashSet<&[Edit]> = HashSet::new();
    for (i, fix) in fixes.iter().enumerate() {
        if seen.contains(fix.edits.as_slice()) {
            applied.push(i);
            continue;
        }
        let collides = fix.edits.iter().any(|e| {
            let (start, end) = (e.span.start, e.span.end);
            ends.contains_key(&start)
                || ends.range(start..end.max(start)).next().is_some()
                || ends
                    .range(..start)
                    .next_back()
                    .is_some_and(|(_, before_end)| *before_end > start)
        });
        if collides {
            continue;
        }
        for e in &fix.edits {
            let end = ends.entry(e.span.start).or_insert(e.span.end);
            *end = (*end).max(e.span.end);
        }
        taken.extend(fix.edits.iter());
        seen.insert(&fix.edits);
        applied.push(i);
    }
    let edits: Vec<Edit> = taken.into_iter().cloned().collect();
    match apply(text, &edits) {
        Ok(out) => Applied { text: out, applied },
        // Not reachable: collisions were skipped and each fix applied alone when rendered.
        Err(_) => Applied {
            text: text.to_string(),
            applied: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The collision test as first written, one comparison per taken edit: the oracle for the
    /// ordered-map version.
    fn applied_by_pairs(fixes: &[&Fix]) -> Vec<usize> {
        let mut taken: Vec<&Edit> = Vec::new();
        let mut seen: Vec<&[Edit]> = Vec::new();
        let mut applied = Vec::new();
        for (i, fix) in fixes.iter().enumerate() {
            if seen.contains(&fix.edits.as_slice()) {
                applied.push(i);
                continue;
            }
            let collides = fix.edits.iter().any(|e| {
                taken.iter().any(|t| {
                    e.span.start == t.span.start
                        || (e.span.start < t.span.end && t.span.start < e.span.end)
                })
            });
            if !collides {
                taken.extend(fix.edits.iter());
                seen.push(&fix.edits);
                applied.push(i);
            }
        }
        applied
    }

    /// A fix of up to three edits in `0..40`, sorted and none overlapping (as rendered fixes are).
    fn fix() -> impl Strategy<Value = Fix> {
        proptest::collection::vec((0usize..40, 0usize..4), 1..4).prop_map(|mut spans| {
            spans.sort_unstable();
            let mut edits: Vec<Edit> = Vec::new();
            let mut pos = 0;
            for (start, len) in spans {
                let start = start.max(pos);
                let end = (start + len).min(40);
                edits.push(Edit {
                    span: start..end,
                    replacement: "x".to_string(),
                });
                pos = end;
            }
            Fix {
                title: String::new(),
                applicability: Applicability::Safe,
                edits,
            }
        })
    }

    proptest! {
        #[test]
        fn takes_the_fixes_pairwise_comparison_takes(fixes in proptest::collection::vec(fix(), 0..24)) {
            let text = "a".repeat(40);
            let refs: Vec<&Fix> = fixes.iter().collect();
            prop_assert_eq!(apply_fixes(&text, &refs).applied, applied_by_pairs(&refs));
        }
    }
}
