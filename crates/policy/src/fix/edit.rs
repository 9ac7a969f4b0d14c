//! Text edits: a replacement for a byte range of a source text, applied all together or not
//! at all. This is what every conversion (`eksgate migrate`) comes down to, and what
//! `eksgate check --fix` applies from the rules' fixes: a list of `{span, replacement}` against the text the spans
//! were taken from.
//!
//! Edits may touch (one ends where the next starts) and several may insert at one offset (they
//! go in in the order given), but none may overlap another or reach outside the text: then
//! nothing is applied, and the error names the first offending edit.

use std::ops::Range;

/// Replace `span` (byte offsets into the original text) with `replacement`. An empty span
/// inserts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Edit {
    pub span: Range<usize>,
    pub replacement: String,
}

impl Edit {
    /// Replaces `span` with `replacement`.
    #[must_use]
    pub fn replace(span: Range<usize>, replacement: impl Into<String>) -> Self {
        Self {
            span,
            replacement: replacement.into(),
        }
    }

    /// Inserts `text` at `at`.
    #[must_use]
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Self::replace(at..at, text)
    }

    /// Deletes `span`.
    #[must_use]
    pub fn delete(span: Range<usize>) -> Self {
        Self::replace(span, "")
    }
}

/// Why a set of edits was not applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// Two edits claim the same bytes.
    #[error("edits overlap at byte {at}")]
    Overlap { at: usize },
    /// A span that ends before it starts, runs past the text, or splits a character.
    #[error("an edit's span {start}..{end} is not a range of the text")]
    OutOfRange { start: usize, end: usize },
}

impl EditError {
    /// The byte offset of the offending edit.
    #[must_use]
    pub fn at(&self) -> usize {
        match self {
            EditError::Overlap { at } => *at,
            EditError::OutOfRange { start, .. } => *start,
        }
    }
}

/// `text` with every edit applied, or an error and nothing applied.
///
/// # Errors
/// [`EditError`] for overlapping edits or a span outside the text.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let order = in_order(text, edits)?;
    let extra: usize = edits.iter().map(|e| e.replacement.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut pos = 0;
    for edit in order {
        let Range { start, end } = edit.span;
        out.push_str(text.get(pos..start).unwrap_or_default());
        out.push_str(&edit.replacement);
        pos = end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    Ok(out)
}

/// Whether [`apply`] would apply `edits` to `text`, without writing the result (a rendered
/// fix is checked this way once per finding: a copy of the file each would cost its size).
///
/// # Errors
/// The [`EditError`] that [`apply`] would return.
pub fn check(text: &str, edits: &[Edit]) -> Result<(), EditError> {
    in_order(text, edits).map(|_| ())
}

/// The edits in offset order, after checking that each is inside `text` and none overlaps
/// the one before it.
fn in_order<'e>(text: &str, edits: &'e [Edit]) -> Result<Vec<&'e Edit>, EditError> {
    let mut order: Vec<&Edit> = edits.iter().collect();
    // Stable: inserts at one offset keep the order they were given in.
    order.sort_by_key(|e| (e.span.start, e.span.end));
    let mut pos = 0;
    for edit in &order {
        let Range { start, end } = edit.span;
        if end < start || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Err(EditError::OutOfRange { start, end });
        }
        if start < pos {
            return Err(EditError::Overlap { at: start });
        }
        pos = end;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_offset_order_and_keeps_the_order_of_inserts_at_one_place() {
        let text = "kind: NodePool\nspec: {}\n";
        let edits = [
            Edit::replace(6..14, "EC2NodeClass"),
            Edit::insert(15, "# first\n"),
            Edit::insert(15, "# second\n"),
            Edit::delete(0..0),
        ];
        assert_eq!(
            apply(text, &edits),
            Ok("kind: EC2NodeClass\n# first\n# second\nspec: {}\n".to_string())
        );
        // Touching edits are fine; an insert right where a replacement starts goes first.
        assert_eq!(
            apply(
                "abc",
                &[
                    Edit::replace(1..2, "B"),
                    Edit::insert(1, "+"),
                    Edit::replace(2..3, "C")
                ]
            ),
            Ok("a+BC".to_string())
        );
        assert_eq!(apply("abc", &[]), Ok("abc".to_string()));
    }

    #[test]
    fn overlapping_or_outside_edits_apply_nothing() {
        let text = "httpTokens: optional\n";
        assert_eq!(
            apply(
                text,
                &[
                    Edit::replace(12..20, "required"),
                    Edit::replace(15..16, "x")
                ]
            ),
            Err(EditError::Overlap { at: 15 })
        );
        assert_eq!(
            apply(
                text,
                &[Edit::insert(14, "x"), Edit::replace(12..20, "required")]
            ),
            Err(EditError::Overlap { at: 14 })
        );
        assert_eq!(
            apply(text, &[Edit::replace(12..99, "x")]),
            Err(EditError::OutOfRange { start: 12, end: 99 })
        );
        assert_eq!(
            apply("é", &[Edit::insert(1, "x")]),
            Err(EditError::OutOfRange { start: 1, end: 1 })
        );
        let backwards = Edit {
            span: std::ops::Range { start: 5, end: 4 },
            replacement: "x".to_string(),
        };
        assert_eq!(apply(text, &[backwards]).map_err(|e| e.at()), Err(5));
    }
}
