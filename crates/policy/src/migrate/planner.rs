//! The planner: what a conversion asks for (replace a scalar, add or remove a mapping entry,
//! and what each change means for the object), gathered over all documents, then rendered into
//! text edits ([`super::layout`]) and applied all or nothing ([`super::edit`]). A document whose
//! plan must be undone (it is to be converted by hand) is rolled back to a checkpoint.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::edit::{self, Edit};
use super::kubelet::PoolKubelet;
use super::verify::Semantics;
use super::{Level, RawNote};
use crate::node::{Entry, Node};
use crate::source::Document;

/// A new mapping entry.
#[derive(Clone, Debug)]
pub(super) enum NewEntry {
    /// `key: value` with a plain scalar value.
    Scalar { key: String, value: String },
    /// An entry taken from elsewhere in the text (a move).
    Captured(Captured),
}

/// The text of an entry, to be written into another mapping.
#[derive(Clone, Debug)]
pub(super) struct Captured {
    /// Block layout: comment lines above the key, the key line (from the key on, with its
    /// trailing comment) and the value's lines, indented relative to the key's column.
    pub(super) block: Vec<String>,
    /// Flow layout: `key: value` as written, lines after the first relative to the key's
    /// column; `None` when the value is in block style.
    pub(super) inline: Option<Vec<String>>,
}

/// Where a new entry goes in its mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Anchor {
    /// After the entry with this index.
    After(usize),
    /// After the last entry.
    End,
}

/// The structural changes to one mapping.
pub(super) struct MapPlan<'a> {
    pub(super) map: &'a Node,
    pub(super) removes: BTreeSet<usize>,
    pub(super) inserts: Vec<(Anchor, NewEntry, u32)>,
}

pub(super) struct Planned {
    /// `None`: the edits collided; nothing was converted.
    pub(super) text: Option<String>,
    pub(super) notes: Vec<RawNote>,
    pub(super) semantics: Semantics,
}

pub(super) struct Planner<'a> {
    pub(super) text: &'a str,
    pub(super) docs: &'a [Document],
    /// Documents that are not edited, and why.
    pub(super) manual: &'a BTreeMap<usize, String>,
    pub(super) eol: &'static str,
    pub(super) edits: Vec<Edit>,
    pub(super) maps: BTreeMap<u32, MapPlan<'a>>,
    pub(super) notes: Vec<RawNote>,
    pub(super) semantics: Semantics,
    pub(super) kubelets: Vec<PoolKubelet<'a>>,
}

/// What [`Planner::document`] planned for one document, to roll it back.
pub(super) struct Checkpoint {
    pub(super) edits: usize,
    pub(super) maps: BTreeSet<u32>,
    pub(super) inserts: BTreeMap<u32, usize>,
    pub(super) notes: usize,
    pub(super) kubelets: usize,
}

impl<'a> Planner<'a> {
    pub(super) fn new(
        text: &'a str,
        docs: &'a [Document],
        manual: &'a BTreeMap<usize, String>,
    ) -> Self {
        Self {
            text,
            docs,
            manual,
            eol: if text.contains("\r\n") { "\r\n" } else { "\n" },
            edits: Vec::new(),
            maps: BTreeMap::new(),
            notes: Vec::new(),
            semantics: BTreeMap::new(),
            kubelets: Vec::new(),
        }
    }

    pub(super) fn note(&mut self, at: &Node, level: Level, message: impl Into<String>) {
        self.notes.push((at.span.start, level, message.into()));
    }

    pub(super) fn set(&mut self, di: usize, path: &[&str], value: Json) {
        let path = path.iter().map(|s| (*s).to_string()).collect();
        self.semantics
            .entry(di)
            .or_default()
            .push((path, Some(value)));
    }

    pub(super) fn unset(&mut self, di: usize, path: &[&str]) {
        let path = path.iter().map(|s| (*s).to_string()).collect();
        self.semantics.entry(di).or_default().push((path, None));
    }

    /// Replaces a one-line scalar (a value or a key), keeping its quotes.
    pub(super) fn replace_scalar(&mut self, node: &Node, new: &str) -> bool {
        let old = self.slice(node);
        if old.contains('\n') || old.starts_with(['*', '&', '!', '|', '>']) {
            return false;
        }
        let text = match old.chars().next() {
            Some(q @ ('"' | '\'')) => format!("{q}{new}{q}"),
            _ => new.to_string(),
        };
        let start = node.span.start as usize;
        let end = super::text::quoted_len(old).map_or(node.span.end as usize, |n| start + n);
        self.edits.push(Edit::replace(start..end, text));
        true
    }

    pub(super) fn plan(&mut self, map: &'a Node) -> &mut MapPlan<'a> {
        self.maps.entry(map.span.start).or_insert_with(|| MapPlan {
            map,
            removes: BTreeSet::new(),
            inserts: Vec::new(),
        })
    }

    /// Plans a new entry; `false` (with an error note) when the mapping cannot take one.
    #[must_use]
    pub(super) fn insert(
        &mut self,
        map: &'a Node,
        anchor: Anchor,
        entry: NewEntry,
        note_at: u32,
    ) -> bool {
        let ok = self.all_local(map);
        if ok {
            self.plan(map).inserts.push((anchor, entry, note_at));
        }
        ok
    }

    /// Plans removing an entry; `false` (with an error note) when the mapping cannot lose one.
    #[must_use]
    pub(super) fn remove(&mut self, map: &'a Node, index: usize) -> bool {
        let ok = self.all_local(map);
        if ok {
            self.plan(map).removes.insert(index);
        }
        ok
    }

    /// Whether every entry of a mapping is written in it; a mapping with merged entries
    /// (`<<: *anchor`) gets an error note instead of new or removed entries.
    pub(super) fn all_local(&mut self, map: &Node) -> bool {
        if map.entries().iter().all(|e| self.local(map, e)) {
            return true;
        }
        self.note(
            map,
            Level::Error,
            "this mapping takes entries from a YAML alias or merge key (`<<: *anchor`); eksgate \
             does not add or remove entries there: convert it by hand",
        );
        false
    }

    /// The entry of `key` in `map`, if it is written there (an entry that comes from a YAML
    /// alias or merge key gets an error note and `None`).
    pub(super) fn field(&mut self, map: &'a Node, key: &str) -> Option<(usize, &'a Entry)> {
        let (index, entry) = map
            .entries()
            .iter()
            .enumerate()
            .find(|(_, e)| e.key_str() == Some(key))?;
        if self.local(map, entry) {
            Some((index, entry))
        } else {
            self.note(
                map,
                Level::Error,
                format!(
                    "`{key}` comes from a YAML alias or merge key; eksgate does not edit those: \
                     convert it by hand"
                ),
            );
            None
        }
    }

    /// Follows `keys` from `node` through entries written in place; an entry that comes from a
    /// YAML alias or merge key gets an error note (nothing under it is converted).
    pub(super) fn reach(&mut self, node: &'a Node, keys: &[&str]) -> Option<&'a Node> {
        let mut node = node;
        for key in keys {
            let entry = node.entry(key)?;
            if !self.local(node, entry) {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!(
                        "`{key}` comes from a YAML alias or merge key; eksgate does not edit \
                         those: convert what is under it by hand"
                    ),
                );
                return None;
            }
            node = &entry.value;
        }
        Some(node)
    }

    pub(super) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            edits: self.edits.len(),
            maps: self.maps.keys().copied().collect(),
            inserts: self
                .maps
                .iter()
                .map(|(k, p)| (*k, p.inserts.len()))
                .collect(),
            notes: self.notes.len(),
            kubelets: self.kubelets.len(),
        }
    }

    /// Undoes what was planned since `cp` for a document that must not be edited.
    pub(super) fn rollback(&mut self, cp: &Checkpoint, di: usize) -> bool {
        let planned = self.edits.len() > cp.edits
            || self.kubelets.len() > cp.kubelets
            || self.semantics.contains_key(&di)
            || self.maps.len() > cp.maps.len();
        self.edits.truncate(cp.edits);
        self.maps.retain(|k, _| cp.maps.contains(k));
        for (k, plan) in &mut self.maps {
            if let Some(inserts) = cp.inserts.get(k) {
                plan.inserts.truncate(*inserts);
            }
        }
        self.notes.truncate(cp.notes);
        self.kubelets.truncate(cp.kubelets);
        self.semantics.remove(&di);
        planned
    }

    pub(super) fn editable(&self, di: usize) -> bool {
        !self.manual.contains_key(&di)
    }

    /// Renders the mapping plans into edits and applies every edit, all or nothing.
    pub(super) fn finish(mut self) -> Planned {
        let maps = std::mem::take(&mut self.maps);
        for plan in maps.values() {
            if self.is_flow(plan.map) {
                self.render_flow(plan);
            } else {
                self.render_block(plan);
            }
        }
        let edits = std::mem::take(&mut self.edits);
        let out = match edit::apply(self.text, &edits) {
            Ok(out) => out,
            Err(e) => {
                return Planned {
                    text: None,
                    notes: vec![(
                        u32::try_from(e.at()).unwrap_or(u32::MAX),
                        Level::Error,
                        "eksgate planned overlapping edits here: nothing was converted; convert \
                         the file by hand (and please report it)"
                            .to_string(),
                    )],
                    semantics: BTreeMap::new(),
                };
            }
        };
        Planned {
            text: Some(out),
            notes: self.notes,
            semantics: self.semantics,
        }
    }
}

/// A new `key: value` entry with a plain scalar value.
pub(super) fn scalar(key: &str, value: &str) -> NewEntry {
    NewEntry::Scalar {
        key: key.to_string(),
        value: value.to_string(),
    }
}
