//! Verifying a conversion: the edited text is parsed again, and each document must equal the
//! original document with its planned changes applied (each change a path and a new value, or
//! a removal). Text edits that would mean anything else (YAML anchors, merge keys, layouts the
//! edits misjudged) are caught here instead of written.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::source::{self, Document, Limits, ParseNoteKind, SourceFile};

/// What an edit means for its document: a path from the document root and its new value
/// (`None`: removed).
pub(super) type Semantics = BTreeMap<usize, Vec<(Vec<String>, Option<Json>)>>;

pub(super) enum Mismatch {
    /// These documents did not come out as planned.
    Documents(Vec<usize>),
    /// The result does not parse, or its documents do not line up with the original's.
    Whole,
}

/// Parses the result and compares every document with the original plus its planned changes.
pub(super) fn verify(
    new_text: &str,
    docs: &[Document],
    semantics: &Semantics,
    limits: &Limits,
) -> Result<(), Mismatch> {
    let reloaded = source::load(0, &SourceFile::new("migrated", new_text), limits);
    if reloaded
        .notes
        .iter()
        .any(|n| n.kind == ParseNoteKind::Syntax)
        || reloaded.documents.len() != docs.len()
    {
        return Err(Mismatch::Whole);
    }
    let mut bad = Vec::new();
    for (di, (old, new)) in docs.iter().zip(&reloaded.documents).enumerate() {
        if old.index != new.index || old.pointer_prefix != new.pointer_prefix {
            return Err(Mismatch::Whole);
        }
        let mut expected = old.root.to_json();
        for (path, value) in semantics.get(&di).map(Vec::as_slice).unwrap_or_default() {
            apply(&mut expected, path, value.clone());
        }
        if expected != new.root.to_json() {
            bad.push(di);
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Mismatch::Documents(bad))
    }
}

/// Sets or removes the value at `path` (parents must exist).
pub(super) fn apply(root: &mut Json, path: &[String], value: Option<Json>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for key in parents {
        let next = match node {
            Json::Object(map) => map.get_mut(key),
            Json::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else {
            return;
        };
        node = next;
    }
    if let Json::Object(map) = node {
        match value {
            Some(v) => {
                map.insert(last.clone(), v);
            }
            None => {
                map.remove(last);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantics_are_applied_to_json() {
        let mut value = serde_json::json!({"a": {"b": 1, "c": [{"d": 2}]}});
        apply(&mut value, &["a".into(), "b".into()], None);
        apply(
            &mut value,
            &["a".into(), "c".into(), "0".into(), "e".into()],
            Some(Json::from(3)),
        );
        apply(
            &mut value,
            &["missing".into(), "x".into()],
            Some(Json::from(1)),
        );
        assert_eq!(value, serde_json::json!({"a": {"c": [{"d": 2, "e": 3}]}}));
    }
}
