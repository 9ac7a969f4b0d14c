//! `eksgate migrate`: Karpenter `v1beta1` NodePools and EC2NodeClasses to `v1`.
//!
//! The YAML reader keeps no comments, so the conversion is not a re-serialisation: it is a set
//! of targeted edits on the source text, placed by the spans of the parsed nodes (replace a
//! scalar, insert an entry at its mapping's indentation, remove an entry's lines, move an
//! entry's lines to another mapping). Lines no edit touches keep their bytes, comments and
//! layout; documents that need nothing stay byte-identical.
//!
//! Every edit also states what it means for the object (set or remove a field). The result is
//! parsed again and each document is compared with the original plus those changes; a document
//! whose text edits do not give exactly that (YAML anchors, merge keys, odd layouts) is left as
//! it was, with a note that says so. What cannot be converted automatically (Ubuntu AMIs,
//! kubelet settings whose EC2NodeClass is not in the input, ...) is explained in an error note.
//!
//! ```
//! use eksgate_policy::{SourceFile, migrate};
//!
//! let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata:\n  name: default\nspec:\n  template:\n    spec:\n      nodeClassRef:\n        name: default # the EC2NodeClass\n      requirements: []\n  disruption:\n    consolidationPolicy: WhenUnderutilized\n    expireAfter: 720h\n";
//! let migration = migrate::to_v1(&SourceFile::new("pool.yaml", text));
//! assert!(migration.is_complete());
//! assert!(migration.text.contains("apiVersion: karpenter.sh/v1\n"));
//! assert!(migration.text.contains("name: default # the EC2NodeClass\n"));
//! assert!(migration.text.contains("      expireAfter: 720h\n"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::model::Workload;
use crate::node::{Entry, Node, Value};
use crate::rules::api::{
    DISRUPTED_TAINT, DO_NOT_DISRUPT, OLD_ANNOTATIONS, OLD_DISRUPTION_TAINT, alias_family,
    pod_metadata_path, pod_spec_path,
};
use crate::source::{self, Document, Limits, Origin, ParseNoteKind, SourceFile};

/// How much a note asks of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// A change that was made.
    Info,
    /// A change that was made and deserves a look: a default that was filled in, a guess, a
    /// behaviour that changes.
    Warning,
    /// Something that was not converted: the user has to do it.
    Error,
}

impl Level {
    /// `note`, `warning` or `error`, as compilers print them.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One remark on the conversion, at a position of the original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// 1-based line of the original text.
    pub line: usize,
    /// 1-based column (in characters) of the original text.
    pub column: usize,
    pub level: Level,
    pub message: String,
}

/// The result of [`to_v1`].
#[derive(Clone, Debug)]
pub struct Migration {
    /// The converted text (the original text when nothing changed).
    pub text: String,
    /// What was changed and what was not, in the order of the original text.
    pub notes: Vec<Note>,
    /// Whether `text` differs from the original.
    pub changed: bool,
    /// How many objects (documents, or `List` items) were changed.
    pub objects: usize,
}

impl Migration {
    /// Whether everything that needed converting was converted (no [`Level::Error`] note).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        !self.notes.iter().any(|n| n.level == Level::Error)
    }
}

/// Converts the `v1beta1` Karpenter objects of a source to `v1`.
#[must_use]
pub fn to_v1(source: &SourceFile) -> Migration {
    to_v1_with(source, &Limits::default())
}

/// [`to_v1`] with explicit parsing limits.
#[must_use]
pub fn to_v1_with(source: &SourceFile, limits: &Limits) -> Migration {
    let text: &str = &source.text;
    let loaded = source::load(0, source, limits);
    if let Some(fault) = loaded
        .notes
        .iter()
        .find(|n| n.kind == ParseNoteKind::Syntax)
    {
        let note = (
            fault.span.start,
            Level::Error,
            format!(
                "cannot read the file ({}); nothing was converted",
                fault.message
            ),
        );
        return unchanged(source, vec![note]);
    }
    let docs = &loaded.documents;
    let mut manual: BTreeMap<usize, String> = BTreeMap::new();
    for (di, doc) in docs.iter().enumerate() {
        if let Origin::TerraformPlan { address } = &doc.origin {
            manual.insert(
                di,
                format!(
                    "manifests inside a Terraform plan are not converted: convert `{address}` in \
                     the Terraform source and plan again"
                ),
            );
        }
    }
    // Plan, apply, verify; a document whose edits do not verify is left alone and planned again.
    for _ in 0..=docs.len() {
        let (planned, verdict) = attempt(text, docs, &manual, limits);
        let notes = planned.notes;
        let Some(new_text) = planned.text else {
            return unchanged(source, notes);
        };
        let changed = planned
            .semantics
            .keys()
            .copied()
            .filter(|di| !manual.contains_key(di));
        let culprits: Vec<usize> = match verdict {
            Ok(()) => {
                return Migration {
                    changed: new_text != text,
                    objects: planned.semantics.len(),
                    text: new_text,
                    notes: positioned(source, notes),
                };
            }
            Err(Mismatch::Documents(bad)) => changed.filter(|di| bad.contains(di)).collect(),
            // Which document broke the file: try each one alone.
            Err(Mismatch::Whole) => {
                let changed: Vec<usize> = changed.collect();
                changed
                    .iter()
                    .copied()
                    .filter(|&di| {
                        let mut alone = manual.clone();
                        for &other in changed.iter().filter(|&&o| o != di) {
                            alone.insert(other, String::new());
                        }
                        attempt(text, docs, &alone, limits).1.is_err()
                    })
                    .collect()
            }
        };
        if culprits.is_empty() {
            break;
        }
        for di in culprits {
            manual.insert(
                di,
                "eksgate could not edit this object safely (YAML anchors, aliases or merge keys \
                 in the fields to convert?): it was left as it was; convert it by hand"
                    .to_string(),
            );
        }
    }
    let note = (
        0,
        Level::Error,
        "eksgate could not edit this file safely: nothing was converted; convert it by hand \
         (and please report the file)"
            .to_string(),
    );
    unchanged(source, vec![note])
}

/// Plans the conversion with the documents of `manual` left alone, and verifies the result.
fn attempt(
    text: &str,
    docs: &[Document],
    manual: &BTreeMap<usize, String>,
    limits: &Limits,
) -> (Planned, Result<(), Mismatch>) {
    let mut planner = Planner::new(text, docs, manual);
    for (di, doc) in docs.iter().enumerate() {
        planner.document(di, doc);
    }
    planner.kubelets();
    let planned = planner.finish();
    let verdict = match &planned.text {
        Some(new_text) if new_text != text => verify(new_text, docs, &planned.semantics, limits),
        _ => Ok(()),
    };
    (planned, verdict)
}

fn unchanged(source: &SourceFile, notes: Vec<RawNote>) -> Migration {
    Migration {
        text: source.text.to_string(),
        notes: positioned(source, notes),
        changed: false,
        objects: 0,
    }
}

/// `(offset, level, message)`.
type RawNote = (u32, Level, String);

fn positioned(source: &SourceFile, mut notes: Vec<RawNote>) -> Vec<Note> {
    notes.sort_by_key(|(at, _, _)| *at);
    notes.dedup();
    notes
        .into_iter()
        .map(|(at, level, message)| {
            let (line, column) = source.line_col(at);
            Note {
                line,
                column,
                level,
                message,
            }
        })
        .collect()
}

/// What an edit means for its document: a path from the document root and its new value
/// (`None`: removed).
type Semantics = BTreeMap<usize, Vec<(Vec<String>, Option<Json>)>>;

enum Mismatch {
    /// These documents did not come out as planned.
    Documents(Vec<usize>),
    /// The result does not parse, or its documents do not line up with the original's.
    Whole,
}

/// Parses the result and compares every document with the original plus its planned changes.
fn verify(
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
fn apply(root: &mut Json, path: &[String], value: Option<Json>) {
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

/// A new mapping entry.
#[derive(Clone, Debug)]
enum NewEntry {
    /// `key: value` with a plain scalar value.
    Scalar { key: String, value: String },
    /// An entry taken from elsewhere in the text (a move).
    Captured(Captured),
}

/// The text of an entry, to be written into another mapping.
#[derive(Clone, Debug)]
struct Captured {
    /// Block layout: comment lines above the key, the key line (from the key on, with its
    /// trailing comment) and the value's lines, indented relative to the key's column.
    block: Vec<String>,
    /// Flow layout: `key: value` as written, lines after the first relative to the key's
    /// column; `None` when the value is in block style.
    inline: Option<Vec<String>>,
}

/// Where a new entry goes in its mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    /// After the entry with this index.
    After(usize),
    /// After the last entry.
    End,
}

/// The structural changes to one mapping.
struct MapPlan<'a> {
    map: &'a Node,
    removes: BTreeSet<usize>,
    inserts: Vec<(Anchor, NewEntry, u32)>,
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

struct Planned {
    /// `None`: the edits collided; nothing was converted.
    text: Option<String>,
    notes: Vec<RawNote>,
    semantics: Semantics,
}

/// A NodePool's `kubelet`, waiting for its EC2NodeClass.
struct PoolKubelet<'a> {
    di: usize,
    doc: &'a Document,
    template_spec: &'a Node,
    index: usize,
    entry: &'a Entry,
}

struct Planner<'a> {
    text: &'a str,
    docs: &'a [Document],
    /// Documents that are not edited, and why.
    manual: &'a BTreeMap<usize, String>,
    eol: &'static str,
    edits: Vec<Edit>,
    maps: BTreeMap<u32, MapPlan<'a>>,
    notes: Vec<RawNote>,
    semantics: Semantics,
    kubelets: Vec<PoolKubelet<'a>>,
}

/// What [`Planner::document`] planned for one document, to roll it back.
struct Checkpoint {
    edits: usize,
    maps: BTreeSet<u32>,
    inserts: BTreeMap<u32, usize>,
    notes: usize,
    kubelets: usize,
}

impl<'a> Planner<'a> {
    fn new(text: &'a str, docs: &'a [Document], manual: &'a BTreeMap<usize, String>) -> Self {
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

    // ----- text helpers -------------------------------------------------------------------

    fn slice(&self, node: &Node) -> &'a str {
        self.text
            .get(node.span.start as usize..node.span.end as usize)
            .unwrap_or("")
    }

    fn line_start(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1)
    }

    fn next_line_start(&self, at: usize) -> usize {
        self.text
            .get(at..)
            .and_then(|s| s.find('\n'))
            .map_or(self.text.len(), |i| at + i + 1)
    }

    /// Whether only spaces precede `at` on its line.
    fn first_on_line(&self, at: usize) -> bool {
        let start = self.line_start(at);
        self.text
            .get(start..at)
            .is_some_and(|s| s.bytes().all(|b| b == b' '))
    }

    /// The column (0-based, in bytes: indentation is spaces) of `at`; a byte-order mark is not
    /// a column.
    fn column(&self, at: usize) -> usize {
        let start = match self.line_start(at) {
            0 if self.text.starts_with('\u{feff}') => 3,
            start => start,
        };
        at.saturating_sub(start)
    }

    /// The end of a node's text without trailing whitespace (block scalars run on to the next
    /// token).
    fn content_end(&self, node: &Node) -> usize {
        let start = node.span.start as usize;
        start + self.slice(node).trim_end().len()
    }

    /// The end of an entry's text.
    fn entry_end(&self, entry: &Entry) -> usize {
        (entry.key.span.end as usize).max(self.content_end(&entry.value))
    }

    /// Where the text after an entry of a block mapping starts: the line after its last line
    /// and after the comment lines indented under it (they belong to it).
    fn after_entry(&self, entry: &Entry) -> usize {
        let col = self.column(entry.key.span.start as usize);
        let mut at = self.next_line_start(self.entry_end(entry).saturating_sub(1));
        while at < self.text.len() {
            let next = self.next_line_start(at);
            let line = self.text.get(at..next).unwrap_or("");
            let spaces = line.bytes().take_while(|b| *b == b' ').count();
            if spaces <= col || !line.get(spaces..).unwrap_or("").starts_with('#') {
                break;
            }
            at = next;
        }
        at
    }

    /// A node's text without a leading anchor or tag.
    fn bare(&self, node: &Node) -> &'a str {
        let mut s = self.slice(node);
        while s.starts_with('&') || s.starts_with('!') {
            s = s
                .find(char::is_whitespace)
                .and_then(|i| s.get(i..))
                .unwrap_or("")
                .trim_start();
        }
        s
    }

    fn is_flow(&self, node: &Node) -> bool {
        let s = self.bare(node);
        s.starts_with('{') || s.starts_with('[')
    }

    /// Whether a mapping's keys are JSON-quoted (`"key": ...`), so new entries should be too.
    fn json_style(&self, map: &Node) -> bool {
        map.entries()
            .first()
            .is_some_and(|e| self.slice(&e.key).starts_with('"'))
    }

    /// Whether an entry is written where its mapping is (not merged in with `<<`, not an alias).
    fn local(&self, map: &Node, entry: &Entry) -> bool {
        map.span.start <= entry.key.span.start
            && entry.key.span.end <= entry.value.span.start
            && entry.value.span.end <= map.span.end
            && !self.slice(&entry.value).starts_with('*')
    }

    // ----- planning primitives -------------------------------------------------------------

    fn note(&mut self, at: &Node, level: Level, message: impl Into<String>) {
        self.notes.push((at.span.start, level, message.into()));
    }

    fn set(&mut self, di: usize, path: &[&str], value: Json) {
        let path = path.iter().map(|s| (*s).to_string()).collect();
        self.semantics
            .entry(di)
            .or_default()
            .push((path, Some(value)));
    }

    fn unset(&mut self, di: usize, path: &[&str]) {
        let path = path.iter().map(|s| (*s).to_string()).collect();
        self.semantics.entry(di).or_default().push((path, None));
    }

    /// Replaces a one-line scalar (a value or a key), keeping its quotes.
    fn replace_scalar(&mut self, node: &Node, new: &str) -> bool {
        let old = self.slice(node);
        if old.contains('\n') || old.starts_with(['*', '&', '!', '|', '>']) {
            return false;
        }
        let text = match old.chars().next() {
            Some(q @ ('"' | '\'')) => format!("{q}{new}{q}"),
            _ => new.to_string(),
        };
        self.edits.push(Edit {
            start: node.span.start as usize,
            end: node.span.end as usize,
            text,
        });
        true
    }

    fn plan(&mut self, map: &'a Node) -> &mut MapPlan<'a> {
        self.maps.entry(map.span.start).or_insert_with(|| MapPlan {
            map,
            removes: BTreeSet::new(),
            inserts: Vec::new(),
        })
    }

    /// Plans a new entry; `false` (with an error note) when the mapping cannot take one.
    #[must_use]
    fn insert(&mut self, map: &'a Node, anchor: Anchor, entry: NewEntry, note_at: u32) -> bool {
        let ok = self.all_local(map);
        if ok {
            self.plan(map).inserts.push((anchor, entry, note_at));
        }
        ok
    }

    /// Plans removing an entry; `false` (with an error note) when the mapping cannot lose one.
    #[must_use]
    fn remove(&mut self, map: &'a Node, index: usize) -> bool {
        let ok = self.all_local(map);
        if ok {
            self.plan(map).removes.insert(index);
        }
        ok
    }

    /// Whether every entry of a mapping is written in it; a mapping with merged entries
    /// (`<<: *anchor`) gets an error note instead of new or removed entries.
    fn all_local(&mut self, map: &Node) -> bool {
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
    fn field(&mut self, map: &'a Node, key: &str) -> Option<(usize, &'a Entry)> {
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
    fn reach(&mut self, node: &'a Node, keys: &[&str]) -> Option<&'a Node> {
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

    /// Captures an entry of `parent` for a move.
    fn capture(&self, parent: &Node, entry: &Entry) -> Captured {
        let key_at = entry.key.span.start as usize;
        let col = self.column(key_at);
        let end = self.entry_end(entry);
        let strip = |line: &str| -> String {
            let spaces = line.bytes().take_while(|b| *b == b' ').count();
            line.get(spaces.min(col)..).unwrap_or("").to_string()
        };
        let in_flow = self.is_flow(parent);
        let scalar = !matches!(entry.value.value, Value::Map(_) | Value::Seq(_));
        let inline = if in_flow
            || self.is_flow(&entry.value)
            || scalar && !self.slice(&entry.value).contains('\n')
        {
            let body = self.text.get(key_at..end).unwrap_or("");
            let mut lines = body.lines();
            let mut out: Vec<String> = lines.next().map(str::to_string).into_iter().collect();
            out.extend(lines.map(|l| strip(l.trim_end_matches('\r'))));
            Some(out)
        } else {
            None
        };
        if in_flow {
            return Captured {
                block: inline.clone().unwrap_or_default(),
                inline,
            };
        }
        let mut block = Vec::new();
        if self.first_on_line(key_at) {
            block = self.leading_comments(key_at, col);
        }
        let body = self.text.get(key_at..self.after_entry(entry)).unwrap_or("");
        let mut lines = body.lines();
        if let Some(first) = lines.next() {
            block.push(first.trim_end_matches('\r').to_string());
        }
        block.extend(lines.map(|l| strip(l.trim_end_matches('\r'))));
        Captured { block, inline }
    }

    /// Comment lines directly above `at` (a key first on its line), at its column.
    fn leading_comments(&self, at: usize, col: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut line = self.line_start(at);
        while line > 0 {
            let prev = self.line_start(line - 1);
            let text = self
                .text
                .get(prev..line)
                .unwrap_or("")
                .trim_end_matches(['\n', '\r']);
            let spaces = text.bytes().take_while(|b| *b == b' ').count();
            if spaces != col || !text.get(spaces..).unwrap_or("").starts_with('#') {
                break;
            }
            out.push(text.get(spaces..).unwrap_or("").to_string());
            line = prev;
        }
        out.reverse();
        out
    }

    // ----- documents ---------------------------------------------------------------------

    fn checkpoint(&self) -> Checkpoint {
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
    fn rollback(&mut self, cp: &Checkpoint, di: usize) -> bool {
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

    fn document(&mut self, di: usize, doc: &'a Document) {
        let (Some(api), Some(kind)) = (doc.api_version(), doc.kind()) else {
            return;
        };
        let cp = self.checkpoint();
        let name = doc.name().unwrap_or("");
        match (api, kind) {
            ("karpenter.sh/v1beta1" | "karpenter.sh/v1", "NodePool") => self.node_pool(di, doc),
            ("karpenter.k8s.aws/v1beta1" | "karpenter.k8s.aws/v1", "EC2NodeClass") => {
                self.node_class(di, doc);
            }
            ("karpenter.sh/v1beta1", "NodeClaim") => {
                self.note(
                    doc.root.get("apiVersion").unwrap_or(&doc.root),
                    Level::Error,
                    format!(
                        "NodeClaim `{name}` is not converted: Karpenter creates NodeClaims itself; \
                         remove it from your manifests"
                    ),
                );
            }
            ("karpenter.sh/v1alpha5", "Provisioner")
            | ("karpenter.k8s.aws/v1alpha1", "AWSNodeTemplate") => {
                self.note(
                    doc.root.get("apiVersion").unwrap_or(&doc.root),
                    Level::Error,
                    format!(
                        "`{api}` {kind} `{name}` is not converted: migrate it to v1beta1 first \
                         (Karpenter's `karpenter-convert`), then run `eksgate migrate` again"
                    ),
                );
            }
            _ => {}
        }
        if Workload::from_document(doc).is_some() {
            self.workload(di, doc, kind);
        }
        if let Some(reason) = self.manual.get(&di) {
            let reason = reason.clone();
            if self.rollback(&cp, di) {
                let what = match name {
                    "" => kind.to_string(),
                    name => format!("{kind} `{name}`"),
                };
                self.note(&doc.root, Level::Error, format!("{what}: {reason}"));
            }
        }
    }

    fn editable(&self, di: usize) -> bool {
        !self.manual.contains_key(&di)
    }

    fn node_pool(&mut self, di: usize, doc: &'a Document) {
        let root = &doc.root;
        let name = doc.name().unwrap_or("");
        let v1beta1 = doc.api_version() == Some("karpenter.sh/v1beta1");
        let spec = root.get("spec");
        let template_spec = spec.and_then(|s| s.path(&["template", "spec"]));
        let disruption = spec.and_then(|s| s.get("disruption"));
        let class_ref = template_spec.and_then(|s| s.get("nodeClassRef"));
        let policy = disruption
            .and_then(|d| d.get("consolidationPolicy"))
            .and_then(Node::as_str);
        let leftovers = disruption.is_some_and(|d| d.get("expireAfter").is_some())
            || template_spec
                .is_some_and(|s| s.get("kubelet").is_some() || s.get("resources").is_some())
            || class_ref.is_some_and(|r| r.get("apiVersion").is_some())
            || policy == Some("WhenUnderutilized");
        if !v1beta1 && !leftovers {
            self.annotations(
                di,
                doc,
                &["spec", "template", "metadata"],
                "NodePool template",
            );
            return;
        }

        if v1beta1 && let Some((_, entry)) = self.field(root, "apiVersion") {
            if self.replace_scalar(&entry.value, "karpenter.sh/v1") {
                self.set(di, &["apiVersion"], Json::from("karpenter.sh/v1"));
                self.note(
                    &entry.value,
                    Level::Info,
                    format!("NodePool `{name}`: `apiVersion` is now `karpenter.sh/v1`"),
                );
            } else {
                self.note(
                    &entry.value,
                    Level::Error,
                    "cannot rewrite `apiVersion`; write `karpenter.sh/v1`",
                );
            }
        }

        let Some(spec) = self.reach(root, &["spec"]).filter(|s| s.as_map().is_some()) else {
            return;
        };
        let tpath = ["spec", "template", "spec"];
        let tspec = self
            .reach(spec, &["template", "spec"])
            .filter(|s| s.as_map().is_some());
        let class_ref = match tspec {
            Some(ts) => self.reach(ts, &["nodeClassRef"]),
            None => None,
        };
        let disruption = self.reach(spec, &["disruption"]);

        // nodeClassRef: `apiVersion` -> `group`, and `kind` is required.
        if let Some(class_ref) = class_ref.filter(|r| r.as_map().is_some()) {
            let rpath = ["spec", "template", "spec", "nodeClassRef"];
            let has_group = class_ref.get("group").is_some();
            let mut group_at = class_ref
                .entries()
                .iter()
                .position(|e| e.key_str() == Some("group"));
            if let Some((index, entry)) = self.field(class_ref, "apiVersion") {
                let value = entry.value.as_str().unwrap_or_default();
                let group = value.split_once('/').map_or(value, |(g, _)| g).trim();
                let group = if group.is_empty() {
                    "karpenter.k8s.aws"
                } else {
                    group
                };
                if has_group {
                    if self.remove(class_ref, index) {
                        self.unset(di, &[&rpath[..], &["apiVersion"]].concat());
                        self.note(
                            &entry.key,
                            Level::Info,
                            "removed `nodeClassRef.apiVersion` (`group` is set)",
                        );
                    }
                } else if self.replace_scalar(&entry.key, "group")
                    && self.replace_scalar(&entry.value, group)
                {
                    group_at = Some(index);
                    self.unset(di, &[&rpath[..], &["apiVersion"]].concat());
                    self.set(di, &[&rpath[..], &["group"]].concat(), Json::from(group));
                    self.note(
                        &entry.key,
                        Level::Info,
                        format!("`nodeClassRef.apiVersion: {value}` is now `group: {group}`"),
                    );
                    if group != "karpenter.k8s.aws" {
                        self.note(
                            &entry.value,
                            Level::Warning,
                            format!(
                                "`nodeClassRef.group` is `{group}`, not Karpenter's AWS group \
                                 `karpenter.k8s.aws`"
                            ),
                        );
                    }
                } else {
                    self.edits
                        .retain(|e| e.start != entry.key.span.start as usize);
                    self.note(
                        &entry.key,
                        Level::Error,
                        "cannot rewrite `nodeClassRef.apiVersion`; write `group: karpenter.k8s.aws`",
                    );
                }
            } else if !has_group
                && self.insert(
                    class_ref,
                    Anchor::End,
                    scalar("group", "karpenter.k8s.aws"),
                    class_ref.span.start,
                )
            {
                self.set(
                    di,
                    &[&rpath[..], &["group"]].concat(),
                    Json::from("karpenter.k8s.aws"),
                );
                self.note(
                    class_ref,
                    Level::Info,
                    "added `nodeClassRef.group: karpenter.k8s.aws` (required in v1)",
                );
            }
            let kind_at = group_at.map_or(Anchor::End, Anchor::After);
            if class_ref.get("kind").is_none()
                && self.insert(
                    class_ref,
                    kind_at,
                    scalar("kind", "EC2NodeClass"),
                    class_ref.span.start,
                )
            {
                self.set(
                    di,
                    &[&rpath[..], &["kind"]].concat(),
                    Json::from("EC2NodeClass"),
                );
                self.note(
                    class_ref,
                    Level::Info,
                    "added `nodeClassRef.kind: EC2NodeClass` (required in v1)",
                );
            }
        } else if v1beta1 && template_spec.and_then(|s| s.get("nodeClassRef")).is_none() {
            let at = template_spec.unwrap_or(spec);
            self.note(
                at,
                Level::Error,
                format!(
                    "NodePool `{name}` has no `spec.template.spec.nodeClassRef` mapping to convert; \
                     v1 requires `group`, `kind` and `name`"
                ),
            );
        }

        // kubelet: moves to the EC2NodeClass (planned once every document is read).
        if let Some(ts) = tspec
            && let Some((index, entry)) = self.field(ts, "kubelet")
        {
            self.kubelets.push(PoolKubelet {
                di,
                doc,
                template_spec: ts,
                index,
                entry,
            });
        }

        // resources: gone.
        if let Some(ts) = tspec
            && let Some((index, entry)) = self.field(ts, "resources")
            && self.remove(ts, index)
        {
            self.unset(di, &[&tpath[..], &["resources"]].concat());
            self.note(
                &entry.key,
                Level::Info,
                "removed `spec.template.spec.resources` (gone in v1; v1beta1 accepted it only empty)",
            );
        }

        // disruption.
        let disruption_entry = spec.entry("disruption");
        if let Some(d) = disruption.filter(|d| d.as_map().is_some()) {
            let dpath = ["spec", "disruption"];
            let mut policy_at = None;
            if let Some((index, entry)) = self.field(d, "consolidationPolicy") {
                policy_at = Some(index);
                if entry.value.as_str() == Some("WhenUnderutilized") {
                    if self.replace_scalar(&entry.value, "WhenEmptyOrUnderutilized") {
                        self.set(
                            di,
                            &[&dpath[..], &["consolidationPolicy"]].concat(),
                            Json::from("WhenEmptyOrUnderutilized"),
                        );
                        self.note(
                            &entry.value,
                            Level::Info,
                            "`consolidationPolicy: WhenUnderutilized` is now `WhenEmptyOrUnderutilized`",
                        );
                    } else {
                        self.note(
                            &entry.value,
                            Level::Error,
                            "cannot rewrite `WhenUnderutilized`; write `WhenEmptyOrUnderutilized`",
                        );
                    }
                }
            }
            if let Some((index, entry)) = self.field(d, "expireAfter") {
                self.move_expire_after(di, tspec, d, index, entry);
            }
            let anchor = policy_at.map_or(Anchor::End, Anchor::After);
            let at = disruption_entry.map_or(d, |e| &e.key);
            if d.get("consolidateAfter").is_none()
                && self.insert(d, anchor, scalar("consolidateAfter", "0s"), at.span.start)
            {
                self.set(
                    di,
                    &[&dpath[..], &["consolidateAfter"]].concat(),
                    Json::from("0s"),
                );
                self.note(
                    at,
                    Level::Warning,
                    "added `consolidateAfter: 0s` (required in v1): `0s` keeps the v1beta1 \
                     behaviour of consolidating as soon as a node is empty or underused; raise it \
                     (say `5m`) to consolidate less eagerly",
                );
            }
        }

        self.annotations(
            di,
            doc,
            &["spec", "template", "metadata"],
            "NodePool template",
        );
    }

    fn move_expire_after(
        &mut self,
        di: usize,
        tspec: Option<&'a Node>,
        disruption: &'a Node,
        index: usize,
        entry: &'a Entry,
    ) {
        let value = entry.value.to_json();
        let shown = entry.value.scalar_text().unwrap_or_default();
        let Some(ts) = tspec else {
            self.note(
                &entry.key,
                Level::Error,
                format!(
                    "cannot move `spec.disruption.expireAfter`: there is no `spec.template.spec` \
                     mapping; add `expireAfter: {shown}` under `spec.template.spec` by hand"
                ),
            );
            return;
        };
        let src = ["spec", "disruption", "expireAfter"];
        let dst = ["spec", "template", "spec", "expireAfter"];
        match ts.get("expireAfter") {
            Some(existing) if existing.to_json() == value => {
                if !self.remove(disruption, index) {
                    return;
                }
                self.unset(di, &src);
                self.note(
                    &entry.key,
                    Level::Info,
                    "removed `spec.disruption.expireAfter` (`spec.template.spec.expireAfter` has the same value)",
                );
            }
            Some(_) => {
                self.note(
                    &entry.key,
                    Level::Error,
                    "`spec.disruption.expireAfter` and `spec.template.spec.expireAfter` differ; \
                     v1 reads only the second: keep the one you mean and delete the other",
                );
            }
            None => {
                // Both mappings must take the change, or neither does.
                if !(self.all_local(disruption) && self.all_local(ts)) {
                    return;
                }
                let captured = self.capture(disruption, entry);
                let removed = self.remove(disruption, index);
                let inserted = self.insert(
                    ts,
                    Anchor::End,
                    NewEntry::Captured(captured),
                    entry.key.span.start,
                );
                debug_assert!(removed && inserted, "both mappings were checked");
                self.unset(di, &src);
                self.set(di, &dst, value);
                self.note(
                    &entry.key,
                    Level::Info,
                    "moved `spec.disruption.expireAfter` to `spec.template.spec.expireAfter`",
                );
            }
        }
    }

    fn node_class(&mut self, di: usize, doc: &'a Document) {
        let root = &doc.root;
        let name = doc.name().unwrap_or("");
        let v1beta1 = doc.api_version() == Some("karpenter.k8s.aws/v1beta1");
        let spec = root.get("spec").filter(|s| s.as_map().is_some());
        let has_terms = spec
            .and_then(|s| s.get("amiSelectorTerms"))
            .is_some_and(|t| !t.items().is_empty());
        let family = spec.and_then(|s| s.get("amiFamily")).and_then(Node::as_str);
        let needs_alias = !has_terms && family.is_some();
        if !v1beta1 && !needs_alias {
            return;
        }
        if v1beta1 && let Some((_, entry)) = self.field(root, "apiVersion") {
            if self.replace_scalar(&entry.value, "karpenter.k8s.aws/v1") {
                self.set(di, &["apiVersion"], Json::from("karpenter.k8s.aws/v1"));
                self.note(
                    &entry.value,
                    Level::Info,
                    format!("EC2NodeClass `{name}`: `apiVersion` is now `karpenter.k8s.aws/v1`"),
                );
            } else {
                self.note(
                    &entry.value,
                    Level::Error,
                    "cannot rewrite `apiVersion`; write `karpenter.k8s.aws/v1`",
                );
            }
        }
        let Some(spec) = spec.and_then(|_| self.reach(root, &["spec"])) else {
            return;
        };

        if let Some((_, entry)) = self.field(spec, "amiFamily") {
            let family = entry.value.as_str().unwrap_or_default();
            if family == "Ubuntu" {
                self.note(
                    &entry.value,
                    Level::Error,
                    "`amiFamily: Ubuntu` was removed in v1 and cannot be converted automatically: \
                     select your Ubuntu AMIs with `amiSelectorTerms` and set `amiFamily: Custom` \
                     with your own bootstrap `userData`, or move to \
                     `amiSelectorTerms: [{alias: al2023@v20240625}]`",
                );
            } else if !has_terms {
                match alias_family(family) {
                    Some((alias, pinned)) => self.alias(di, spec, entry, family, alias, pinned),
                    None => self.note(
                        &entry.value,
                        Level::Error,
                        format!(
                            "`amiFamily: {family}` without `amiSelectorTerms` cannot be converted: \
                             v1 requires `amiSelectorTerms` that select your AMIs; add them by hand"
                        ),
                    ),
                }
            }
        } else if !has_terms {
            self.note(
                spec,
                Level::Error,
                "v1 requires `amiSelectorTerms` (and this EC2NodeClass has no `amiFamily` to \
                 derive an alias from); add them by hand",
            );
        }

        if v1beta1 {
            let options = spec.get("metadataOptions");
            if options
                .and_then(|o| o.get("httpPutResponseHopLimit"))
                .is_none()
            {
                let at = spec
                    .entry("metadataOptions")
                    .map_or_else(|| root.entry("spec").map_or(root, |e| &e.key), |e| &e.key);
                self.note(
                    at,
                    Level::Warning,
                    "the default `metadataOptions.httpPutResponseHopLimit` drops from 2 to 1 in v1: \
                     pods off the host network can no longer reach instance metadata (give them IRSA \
                     or Pod Identity, or set `httpPutResponseHopLimit: 2` to keep the old behaviour)",
                );
            }
        }

        if v1beta1 && let Some(tags) = self.reach(spec, &["tags"]).filter(|t| t.as_map().is_some())
        {
            for (index, entry) in tags.entries().iter().enumerate() {
                match entry.key_str() {
                    Some("karpenter.sh/managed-by") => self.note(
                        &entry.key,
                        Level::Warning,
                        "Karpenter v1 no longer sets the `karpenter.sh/managed-by` tag (it tags \
                         `eks:eks-cluster-name`); this tag is kept: update IAM conditions and cost \
                         reports that match it",
                    ),
                    Some("eks:eks-cluster-name") => {
                        if self.local(tags, entry) && self.remove(tags, index) {
                            self.unset(di, &["spec", "tags", "eks:eks-cluster-name"]);
                            self.note(
                                &entry.key,
                                Level::Warning,
                                "removed the tag `eks:eks-cluster-name`: v1 restricts it and sets \
                                 it to the cluster name itself",
                            );
                        } else {
                            self.note(
                                &entry.key,
                                Level::Error,
                                "remove the tag `eks:eks-cluster-name` (restricted in v1)",
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// `amiFamily: AL2023` -> `amiSelectorTerms: [{alias: al2023@latest}]`, in place.
    fn alias(
        &mut self,
        di: usize,
        spec: &'a Node,
        entry: &'a Entry,
        family: &str,
        alias: &str,
        pinned: &str,
    ) {
        let value = format!("{alias}@latest");
        let start = entry.key.span.start as usize;
        let end = self.content_end(&entry.value);
        let text = if self.is_flow(spec) {
            if self.json_style(spec) {
                format!("\"amiSelectorTerms\": [{{\"alias\": \"{value}\"}}]")
            } else {
                format!("amiSelectorTerms: [{{alias: {value}}}]")
            }
        } else {
            let col = self.column(start);
            let indent = self.sequence_indent(spec).unwrap_or(2);
            format!(
                "amiSelectorTerms:{}{}- alias: {value}",
                self.eol,
                " ".repeat(col + indent)
            )
        };
        if self.slice(&entry.value).contains('\n') {
            self.note(
                &entry.value,
                Level::Error,
                "cannot rewrite `amiFamily`; convert it by hand",
            );
            return;
        }
        self.edits.push(Edit { start, end, text });
        self.unset(di, &["spec", "amiFamily"]);
        self.set(
            di,
            &["spec", "amiSelectorTerms"],
            serde_json::json!([{ "alias": value }]),
        );
        if pinned == "latest" {
            self.note(
                &entry.key,
                Level::Info,
                format!(
                    "`amiFamily: {family}` is now `amiSelectorTerms: [{{alias: {value}}}]` \
                     (Windows aliases accept only `latest`)"
                ),
            );
        } else {
            self.note(
                &entry.key,
                Level::Warning,
                format!(
                    "`amiFamily: {family}` is now `amiSelectorTerms: [{{alias: {value}}}]`: \
                     `@latest` replaces every node when a new AMI is released; pin the release you \
                     run (`{alias}@{pinned}`, say)"
                ),
            );
        }
    }

    /// How far the block sequences of a mapping indent their `-` past the key (0 or 2).
    fn sequence_indent(&self, map: &Node) -> Option<usize> {
        map.entries().iter().find_map(|e| {
            let first = e.value.as_seq()?.first()?;
            if self.is_flow(&e.value) {
                return None;
            }
            let at = first.span.start as usize;
            let line = self.line_start(at);
            let before = self.text.get(line..at)?;
            let dash = before.rfind('-')?;
            let key_col = self.column(e.key.span.start as usize);
            dash.checked_sub(key_col)
        })
    }

    /// Old Karpenter annotations in the `annotations` of the metadata at `path`.
    fn annotations(&mut self, di: usize, doc: &'a Document, path: &[&str], whose: &str) {
        let Some(metadata) = doc.root.path(path) else {
            return;
        };
        let Some(annotations) = metadata.get("annotations").filter(|a| a.as_map().is_some()) else {
            return;
        };
        let old: Vec<(usize, &'a Entry)> = annotations
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.key_str().is_some_and(|k| OLD_ANNOTATIONS.contains(&k)))
            .collect();
        if old.is_empty() {
            return;
        }
        let apath: Vec<&str> = path.iter().copied().chain(["annotations"]).collect();
        let mut has_new = annotations.get(DO_NOT_DISRUPT).is_some();
        for (index, entry) in old {
            let key = entry.key_str().unwrap_or_default();
            if !self.local(annotations, entry) {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!("rename the annotation `{key}` to `{DO_NOT_DISRUPT}` by hand"),
                );
                continue;
            }
            let old_path: Vec<&str> = apath.iter().copied().chain([key]).collect();
            if has_new {
                if !self.remove(annotations, index) {
                    continue;
                }
                self.unset(di, &old_path);
                self.note(
                    &entry.key,
                    Level::Info,
                    format!(
                        "removed the {whose} annotation `{key}` (`{DO_NOT_DISRUPT}` is set; \
                         Karpenter v1 ignores `{key}`)"
                    ),
                );
            } else if self.replace_scalar(&entry.key, DO_NOT_DISRUPT) {
                has_new = true;
                let new_path: Vec<&str> = apath.iter().copied().chain([DO_NOT_DISRUPT]).collect();
                self.unset(di, &old_path);
                self.set(di, &new_path, entry.value.to_json());
                self.note(
                    &entry.key,
                    Level::Info,
                    format!("the {whose} annotation `{key}` is now `{DO_NOT_DISRUPT}`"),
                );
            } else {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!("rename the annotation `{key}` to `{DO_NOT_DISRUPT}` by hand"),
                );
            }
        }
    }

    /// Old annotations and tolerations of the old disruption taint in a pod template.
    fn workload(&mut self, di: usize, doc: &'a Document, kind: &str) {
        self.annotations(di, doc, pod_metadata_path(kind), "pod template");
        let spec_path = pod_spec_path(kind);
        let Some(tolerations) = doc.root.path(spec_path).and_then(|s| s.get("tolerations")) else {
            return;
        };
        for (i, toleration) in tolerations.items().iter().enumerate() {
            let Some(key) = toleration.get("key") else {
                continue;
            };
            if key.as_str() != Some(OLD_DISRUPTION_TAINT) {
                continue;
            }
            let index = i.to_string();
            let tpath: Vec<&str> = spec_path
                .iter()
                .copied()
                .chain(["tolerations", index.as_str()])
                .collect();
            let path = |field: &'static str| -> Vec<&str> {
                tpath.iter().copied().chain([field]).collect()
            };
            let local = toleration
                .entries()
                .iter()
                .all(|e| self.local(toleration, e));
            if !local || !self.replace_scalar(key, DISRUPTED_TAINT) {
                self.note(
                    key,
                    Level::Error,
                    format!(
                        "tolerate `{DISRUPTED_TAINT}` instead of `{OLD_DISRUPTION_TAINT}` by hand"
                    ),
                );
                continue;
            }
            self.set(di, &path("key"), Json::from(DISRUPTED_TAINT));
            let operator = toleration.entry("operator");
            let value = toleration
                .entries()
                .iter()
                .enumerate()
                .find(|(_, e)| e.key_str() == Some("value"));
            let mut ok = true;
            if let Some((vi, ventry)) = value
                && !ventry.value.scalar_text().unwrap_or_default().is_empty()
            {
                match operator.map(|o| o.value.as_str()) {
                    None => {
                        // `value: disrupting` -> `operator: Exists`, in place.
                        let start = ventry.key.span.start as usize;
                        let end = self.content_end(&ventry.value);
                        let text = if self.json_style(toleration) {
                            "\"operator\": \"Exists\"".to_string()
                        } else {
                            "operator: Exists".to_string()
                        };
                        if self.slice(&ventry.value).contains('\n') {
                            ok = false;
                        } else {
                            self.edits.push(Edit { start, end, text });
                        }
                    }
                    Some(Some("Equal")) => {
                        if let Some(op) = operator
                            && self.replace_scalar(&op.value, "Exists")
                        {
                            ok = self.remove(toleration, vi);
                        } else {
                            ok = false;
                        }
                    }
                    _ => ok = false,
                }
                if ok {
                    self.unset(di, &path("value"));
                    self.set(di, &path("operator"), Json::from("Exists"));
                }
            }
            if ok {
                self.note(
                    key,
                    Level::Info,
                    format!(
                        "the toleration of `{OLD_DISRUPTION_TAINT}` now tolerates Karpenter v1's \
                         `{DISRUPTED_TAINT}` taint"
                    ),
                );
            } else {
                self.note(
                    key,
                    Level::Error,
                    format!(
                        "make this toleration `{{key: {DISRUPTED_TAINT}, operator: Exists, effect: \
                         NoSchedule}}` by hand"
                    ),
                );
            }
        }
    }

    // ----- kubelet ----------------------------------------------------------------------

    /// Moves each NodePool's `kubelet` to the EC2NodeClass it references, when that is in the
    /// input and every NodePool that references it agrees on the settings.
    fn kubelets(&mut self) {
        let pending = std::mem::take(&mut self.kubelets);
        let mut by_class: BTreeMap<String, Vec<PoolKubelet<'a>>> = BTreeMap::new();
        for pk in pending {
            let class_ref = pk.template_spec.get("nodeClassRef");
            let kind = class_ref.and_then(|r| r.get("kind")).and_then(Node::as_str);
            let name = class_ref.and_then(|r| r.get("name")).and_then(Node::as_str);
            match (kind, name) {
                (Some(kind), _) if kind != "EC2NodeClass" => self.note(
                    &pk.entry.key,
                    Level::Error,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: the NodePool references a \
                         `{kind}`, which has no kubelet settings"
                    ),
                ),
                (_, Some(name)) => by_class.entry(name.to_string()).or_default().push(pk),
                (_, None) => self.note(
                    &pk.entry.key,
                    Level::Error,
                    "`spec.template.spec.kubelet` cannot move: `nodeClassRef` names no \
                     EC2NodeClass; move it to that EC2NodeClass's `spec.kubelet` by hand",
                ),
            }
        }
        for (class, pools) in by_class {
            self.move_kubelets(&class, &pools);
        }
    }

    fn move_kubelets(&mut self, class: &str, pools: &[PoolKubelet<'a>]) {
        let fail = |this: &mut Self, message: String| {
            for pk in pools {
                this.note(&pk.entry.key, Level::Error, message.clone());
            }
        };
        let classes: Vec<(usize, &'a Document)> = self
            .docs
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.kind() == Some("EC2NodeClass")
                    && d.group() == "karpenter.k8s.aws"
                    && d.name() == Some(class)
            })
            .collect();
        let (cdi, cdoc) = match classes.as_slice() {
            [] => {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` must move to `spec.kubelet` of EC2NodeClass \
                         `{class}`, which is not in this input: move it there by hand (v1 drops it \
                         from the NodePool), or migrate the NodePool and its EC2NodeClass together \
                         in one file"
                    ),
                );
            }
            [one] => *one,
            _ => {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` is in \
                         this input more than once"
                    ),
                );
            }
        };
        let value = pools
            .first()
            .map(|pk| pk.entry.value.to_json())
            .unwrap_or_default();
        // Every NodePool of the input that uses this class gets its kubelet settings.
        let users: Vec<&Document> = self
            .docs
            .iter()
            .filter(|d| {
                d.kind() == Some("NodePool")
                    && d.group() == "karpenter.sh"
                    && d.root
                        .path(&["spec", "template", "spec", "nodeClassRef", "name"])
                        .and_then(Node::as_str)
                        == Some(class)
            })
            .collect();
        let disagree: Vec<&str> = users
            .iter()
            .filter(|d| {
                d.root
                    .path(&["spec", "template", "spec", "kubelet"])
                    .map(Node::to_json)
                    != Some(value.clone())
            })
            .map(|d| d.name().unwrap_or("?"))
            .collect();
        if !disagree.is_empty() {
            let names: Vec<String> = users
                .iter()
                .map(|d| format!("`{}`", d.name().unwrap_or("?")))
                .collect();
            return fail(
                self,
                format!(
                    "`spec.template.spec.kubelet` cannot move: NodePools {} share EC2NodeClass \
                     `{class}` but not their kubelet settings, and v1 keeps them on the \
                     EC2NodeClass: give each group of NodePools its own EC2NodeClass with its \
                     `spec.kubelet`",
                    names.join(", ")
                ),
            );
        }
        if !self.editable(cdi) {
            return fail(
                self,
                format!(
                    "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` is not \
                     edited (see its note); move it to its `spec.kubelet` by hand"
                ),
            );
        }
        let Some(cspec) = cdoc
            .root
            .get("spec")
            .filter(|s| s.as_map().is_some())
            .filter(|_| {
                cdoc.root
                    .entry("spec")
                    .is_some_and(|e| self.local(&cdoc.root, e))
            })
        else {
            return fail(
                self,
                format!(
                    "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` has no \
                     `spec` mapping to move it into"
                ),
            );
        };
        let moved = match cspec.get("kubelet") {
            Some(existing) if existing.to_json() == value => false,
            Some(_) => {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` has \
                         other `spec.kubelet` settings; merge them by hand"
                    ),
                );
            }
            None => true,
        };
        let Some(first) = pools.first() else {
            return;
        };
        // The class and every pool must take the change, or none does.
        let mut all_local = self.all_local(cspec);
        for pk in pools {
            all_local &= self.all_local(pk.template_spec);
        }
        if !all_local {
            return;
        }
        if moved {
            if self.is_flow(cspec)
                && self
                    .capture(first.template_spec, first.entry)
                    .inline
                    .is_none()
            {
                return fail(
                    self,
                    format!(
                        "`spec.template.spec.kubelet` cannot move: EC2NodeClass `{class}` writes \
                         `spec` in flow style (`{{...}}`) and the kubelet block is in block style; \
                         move it by hand"
                    ),
                );
            }
            let captured = self.capture(first.template_spec, first.entry);
            let _ = self.insert(
                cspec,
                Anchor::End,
                NewEntry::Captured(captured),
                first.entry.key.span.start,
            );
            self.set(cdi, &["spec", "kubelet"], value);
            let names: Vec<String> = pools
                .iter()
                .map(|pk| format!("`{}`", pk.doc.name().unwrap_or("?")))
                .collect();
            if let Some(at) = cdoc.root.entry("spec") {
                self.note(
                    &at.key,
                    Level::Warning,
                    format!(
                        "EC2NodeClass `{class}` now carries the kubelet settings of NodePool {}: \
                         they apply to every NodePool that uses it, in other files too",
                        names.join(", ")
                    ),
                );
            }
        }
        for pk in pools {
            let _ = self.remove(pk.template_spec, pk.index);
            self.unset(pk.di, &["spec", "template", "spec", "kubelet"]);
            let message = if moved {
                format!(
                    "moved `spec.template.spec.kubelet` to EC2NodeClass `{class}` (`spec.kubelet`)"
                )
            } else {
                format!(
                    "removed `spec.template.spec.kubelet`: EC2NodeClass `{class}` has the same \
                     `spec.kubelet`"
                )
            };
            self.note(&pk.entry.key, Level::Info, message);
        }
    }

    // ----- rendering ----------------------------------------------------------------------

    fn finish(mut self) -> Planned {
        let maps = std::mem::take(&mut self.maps);
        for plan in maps.values() {
            if self.is_flow(plan.map) {
                self.render_flow(plan);
            } else {
                self.render_block(plan);
            }
        }
        let mut edits = std::mem::take(&mut self.edits);
        edits.sort_by_key(|e| (e.start, e.end));
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut pos = 0;
        for edit in &edits {
            if edit.start < pos || edit.end < edit.start {
                return Planned {
                    text: None,
                    notes: vec![(
                        edit.start as u32,
                        Level::Error,
                        "eksgate planned overlapping edits here: nothing was converted; convert \
                         the file by hand (and please report it)"
                            .to_string(),
                    )],
                    semantics: BTreeMap::new(),
                };
            }
            out.push_str(self.text.get(pos..edit.start).unwrap_or(""));
            out.push_str(&edit.text);
            pos = edit.end;
        }
        out.push_str(self.text.get(pos..).unwrap_or(""));
        Planned {
            text: Some(out),
            notes: self.notes,
            semantics: self.semantics,
        }
    }

    /// A block mapping: entries are whole lines.
    fn render_block(&mut self, plan: &MapPlan<'a>) {
        let entries = plan.map.entries();
        let Some(first) = entries.first() else {
            return;
        };
        let col = self.column(first.key.span.start as usize);
        for &index in &plan.removes {
            let Some(entry) = entries.get(index) else {
                continue;
            };
            let key_at = entry.key.span.start as usize;
            let end = self.after_entry(entry);
            let start = if self.first_on_line(key_at) {
                let comments = self.leading_comments(key_at, col).len();
                let mut start = self.line_start(key_at);
                for _ in 0..comments {
                    start = self.line_start(start.saturating_sub(1));
                }
                start
            } else if let Some(next) = entries.get(index + 1) {
                // `- key: value` opens a list item: the next key takes its place.
                self.edits.push(Edit {
                    start: key_at,
                    end: next.key.span.start as usize,
                    text: String::new(),
                });
                continue;
            } else {
                self.note(
                    &entry.key,
                    Level::Error,
                    format!(
                        "cannot remove `{}` here; delete it by hand",
                        entry.key_str().unwrap_or("?")
                    ),
                );
                continue;
            };
            self.edits.push(Edit {
                start,
                end,
                text: String::new(),
            });
        }
        // Inserts at the same place keep the order they were planned in.
        let mut groups: BTreeMap<usize, String> = BTreeMap::new();
        for (anchor, entry, _) in &plan.inserts {
            let after = match anchor {
                Anchor::After(i) => entries.get(*i),
                Anchor::End => entries.last(),
            };
            let Some(after) = after else {
                continue;
            };
            let lines = match entry {
                NewEntry::Scalar { key, value } => vec![format!("{key}: {value}")],
                NewEntry::Captured(c) => c.block.clone(),
            };
            let text = groups.entry(self.after_entry(after)).or_default();
            for line in lines {
                if !line.is_empty() {
                    text.push_str(&" ".repeat(col));
                    text.push_str(&line);
                }
                text.push_str(self.eol);
            }
        }
        for (at, mut text) in groups {
            // At the end of a file without a final line break, the break goes first.
            if at == self.text.len() && !self.text.ends_with('\n') {
                text.truncate(text.len() - self.eol.len());
                text.insert_str(0, self.eol);
            }
            self.edits.push(Edit {
                start: at,
                end: at,
                text,
            });
        }
    }

    /// A flow mapping (`{a: 1, b: 2}`, JSON): entries are separated by commas.
    fn render_flow(&mut self, plan: &MapPlan<'a>) {
        let entries = plan.map.entries();
        let n = entries.len();
        let json = self.json_style(plan.map);
        let value_end = |this: &Self, i: usize| entries.get(i).map(|e| this.entry_end(e));
        let key_start = |i: usize| entries.get(i).map(|e| e.key.span.start as usize);
        let sep = match (value_end(self, 0), key_start(1)) {
            (Some(a), Some(b)) => self
                .text
                .get(a..b)
                .filter(|s| !s.contains('#') && s.contains(','))
                .map_or_else(|| ", ".to_string(), str::to_string),
            _ => ", ".to_string(),
        };
        let key_col = entries
            .first()
            .map(|e| e.key.span.start as usize)
            .filter(|at| self.first_on_line(*at))
            .map_or(0, |at| self.column(at));
        let kept = |i: usize| !plan.removes.contains(&i);

        // Removals: runs of removed entries, with the separator on the right side.
        let mut i = 0;
        while i < n {
            if kept(i) {
                i += 1;
                continue;
            }
            let p = i;
            while i < n && !kept(i) {
                i += 1;
            }
            let q = i - 1;
            let range = if i < n {
                key_start(p).zip(key_start(i))
            } else if p > 0 {
                value_end(self, p - 1).zip(value_end(self, q))
            } else {
                key_start(0).zip(value_end(self, q))
            };
            if let Some((start, end)) = range {
                self.edits.push(Edit {
                    start,
                    end,
                    text: String::new(),
                });
            }
        }

        // Inserts: after the anchor, or the last kept entry before it.
        let mut groups: BTreeMap<(usize, u8), Vec<String>> = BTreeMap::new();
        for (anchor, entry, note_at) in &plan.inserts {
            let text = match entry {
                NewEntry::Scalar { key, value } if json => format!("\"{key}\": \"{value}\""),
                NewEntry::Scalar { key, value } => format!("{key}: {value}"),
                NewEntry::Captured(c) => match &c.inline {
                    Some(lines) => {
                        let pad = format!("{}{}", self.eol, " ".repeat(key_col));
                        lines.join(&pad)
                    }
                    None => {
                        self.notes.push((
                            *note_at,
                            Level::Error,
                            "cannot write a block-style value into a flow-style mapping; move it \
                             by hand"
                                .to_string(),
                        ));
                        continue;
                    }
                },
            };
            let wanted = match anchor {
                Anchor::After(i) => Some(*i),
                Anchor::End => n.checked_sub(1),
            };
            let before = wanted.and_then(|w| (0..=w).rev().find(|&j| kept(j)));
            // (offset, 0: separator before the text, 1: after, 2: none)
            let place = match before {
                Some(j) => value_end(self, j).map(|at| (at, 0)),
                None => match (0..n).find(|&j| kept(j)) {
                    Some(k) => key_start(k).map(|at| (at, 1)),
                    None if n > 0 => key_start(0).map(|at| (at, 2)),
                    None => Some((
                        plan.map.span.start as usize
                            + self.slice(plan.map).find('{').map_or(0, |i| i + 1),
                        2,
                    )),
                },
            };
            if let Some(place) = place {
                groups.entry(place).or_default().push(text);
            }
        }
        for ((at, side), texts) in groups {
            let joined = texts.join(&sep);
            let text = match side {
                0 => format!("{sep}{joined}"),
                1 => format!("{joined}{sep}"),
                _ => joined,
            };
            self.edits.push(Edit {
                start: at,
                end: at,
                text,
            });
        }
    }
}

fn scalar(key: &str, value: &str) -> NewEntry {
    NewEntry::Scalar {
        key: key.to_string(),
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;
    use crate::{CheckOptions, Input, Policy, check};

    fn migrate(text: &str) -> Migration {
        to_v1(&SourceFile::new("t.yaml", text))
    }

    /// The API001 messages a check of `text` gives.
    fn api001(text: &str) -> Vec<String> {
        let report = check(
            vec![Input::text("t.yaml", text)],
            &Policy::default_policy().unwrap(),
            &CheckOptions::default(),
        );
        report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "API001" || d.rule == "YAML001")
            .map(|d| format!("{} {}", d.rule, d.message))
            .collect()
    }

    /// A complete conversion: checks clean of API001, and converting again changes nothing.
    fn converted(text: &str) -> Migration {
        let m = migrate(text);
        assert!(m.changed, "nothing changed:\n{text}");
        assert!(m.is_complete(), "{:#?}\n{}", m.notes, m.text);
        assert_eq!(api001(&m.text), Vec::<String>::new(), "\n{}", m.text);
        let again = migrate(&m.text);
        assert!(!again.changed, "not idempotent:\n{}", again.text);
        m
    }

    fn errors(m: &Migration) -> Vec<&str> {
        m.notes
            .iter()
            .filter(|n| n.level == Level::Error)
            .map(|n| n.message.as_str())
            .collect()
    }

    const POOL_BLOCK: &str = "\
# Platform pools
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default # the default pool
spec:
  template:
    spec:
      nodeClassRef:
        apiVersion: karpenter.k8s.aws/v1beta1 # the AWS provider
        kind: EC2NodeClass
        name: default
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: [\"on-demand\"]
  limits:
    cpu: 1000
  disruption:
    consolidationPolicy: WhenUnderutilized # be frugal
    # nodes live a month
    expireAfter: 720h
";

    #[test]
    fn block_style_keeps_comments_and_layout() {
        let m = converted(POOL_BLOCK);
        assert_eq!(
            m.text,
            "\
# Platform pools
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default # the default pool
spec:
  template:
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws # the AWS provider
        kind: EC2NodeClass
        name: default
      requirements:
        - key: karpenter.sh/capacity-type
          operator: In
          values: [\"on-demand\"]
      # nodes live a month
      expireAfter: 720h
  limits:
    cpu: 1000
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized # be frugal
    consolidateAfter: 0s
"
        );
        assert_eq!(m.objects, 1);
        let warnings: Vec<&Note> = m
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning)
            .collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("consolidateAfter: 0s"));
        assert_eq!((warnings[0].line, warnings[0].column), (19, 3));
    }

    #[test]
    fn flow_style_is_edited_in_place() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: flow}
spec:
  template:
    spec:
      nodeClassRef: {name: flow}
      kubelet: {maxPods: 50}
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
  disruption: {consolidationPolicy: WhenUnderutilized, expireAfter: 168h}
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: flow}
spec: {amiFamily: Bottlerocket, role: r, subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}], metadataOptions: {httpPutResponseHopLimit: 1}}
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: flow}
spec:
  template:
    spec:
      nodeClassRef: {name: flow, group: karpenter.k8s.aws, kind: EC2NodeClass}
      requirements: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]
      expireAfter: 168h
  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 0s}
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: flow}
spec: {amiSelectorTerms: [{alias: bottlerocket@latest}], role: r, subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}], metadataOptions: {httpPutResponseHopLimit: 1}, kubelet: {maxPods: 50}}
"
        );
        assert_eq!(m.objects, 2);
    }

    #[test]
    fn flow_mapping_that_loses_its_only_entry() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: a}
spec:
  template: {spec: {nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: x}, requirements: []}}
  disruption: {expireAfter: Never}
";
        let m = converted(text);
        assert!(m.text.contains(
            "  template: {spec: {nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}, requirements: [], expireAfter: Never}}\n  disruption: {consolidateAfter: 0s}\n"
        ), "{}", m.text);
    }

    #[test]
    fn json_keeps_its_layout_and_quotes() {
        let text = r#"{
  "apiVersion": "karpenter.sh/v1beta1",
  "kind": "NodePool",
  "metadata": {
    "name": "json"
  },
  "spec": {
    "template": {
      "spec": {
        "nodeClassRef": {
          "apiVersion": "karpenter.k8s.aws/v1beta1",
          "name": "json"
        },
        "requirements": []
      }
    },
    "disruption": {
      "consolidationPolicy": "WhenUnderutilized",
      "expireAfter": "720h"
    }
  }
}
"#;
        let m = converted(text);
        assert_eq!(
            m.text,
            r#"{
  "apiVersion": "karpenter.sh/v1",
  "kind": "NodePool",
  "metadata": {
    "name": "json"
  },
  "spec": {
    "template": {
      "spec": {
        "nodeClassRef": {
          "group": "karpenter.k8s.aws",
          "kind": "EC2NodeClass",
          "name": "json"
        },
        "requirements": [],
        "expireAfter": "720h"
      }
    },
    "disruption": {
      "consolidationPolicy": "WhenEmptyOrUnderutilized",
      "consolidateAfter": "0s"
    }
  }
}
"#
        );
        assert!(serde_json::from_str::<Json>(&m.text).is_ok());
    }

    #[test]
    fn json_kubelet_moves_with_its_lines() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {
    "apiVersion": "karpenter.sh/v1beta1",
    "kind": "NodePool",
    "metadata": {"name": "p"},
    "spec": {
      "template": {
        "spec": {
          "nodeClassRef": {"apiVersion": "karpenter.k8s.aws/v1beta1", "kind": "EC2NodeClass", "name": "c"},
          "kubelet": {
            "maxPods": 20
          },
          "requirements": []
        }
      }
    }
  },
  {
    "apiVersion": "karpenter.k8s.aws/v1beta1",
    "kind": "EC2NodeClass",
    "metadata": {"name": "c"},
    "spec": {
      "amiFamily": "AL2",
      "role": "r",
      "subnetSelectorTerms": [{"tags": {"a": "b"}}],
      "securityGroupSelectorTerms": [{"tags": {"a": "b"}}],
      "metadataOptions": {"httpPutResponseHopLimit": 1}
    }
  }
]}
"#;
        let m = converted(text);
        let json: Json = serde_json::from_str(&m.text).unwrap();
        assert_eq!(json["items"][1]["spec"]["kubelet"]["maxPods"], 20);
        assert_eq!(
            json["items"][1]["spec"]["amiSelectorTerms"][0]["alias"],
            "al2@latest"
        );
        assert!(
            json["items"][0]["spec"]["template"]["spec"]
                .get("kubelet")
                .is_none()
        );
        assert!(
            m.text.contains(
                "      \"metadataOptions\": {\"httpPutResponseHopLimit\": 1},\n      \"kubelet\": {\n        \"maxPods\": 20\n      }\n"
            ),
            "{}",
            m.text
        );
    }

    #[test]
    fn other_documents_stay_byte_identical() {
        let other = "---\n# a ConfigMap\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}\ndata: {a: b}   # untouched\n---\napiVersion: karpenter.sh/v1\nkind: NodePool   # already v1\nmetadata: {name: v1}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n";
        let text = format!("{POOL_BLOCK}{other}");
        let m = converted(&text);
        assert!(m.text.ends_with(other), "{}", m.text);
        assert_eq!(m.objects, 1);
    }

    #[test]
    fn nothing_to_do() {
        let text = "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}\n      requirements: []\n---\napiVersion: v1\nkind: ConfigMap\n";
        let m = migrate(text);
        assert!(!m.changed);
        assert_eq!(m.text, text);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert!(m.is_complete());
    }

    #[test]
    fn kubelet_moves_to_the_node_class_in_the_input() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiFamily: AL2023
  role: KarpenterNodeRole-platform
  subnetSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  securityGroupSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  metadataOptions:
    httpPutResponseHopLimit: 1
---
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        name: default
      # dense nodes
      kubelet:
        maxPods: 110 # prefix delegation
        evictionHard:
          memory.available: 5%
      requirements: []
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  amiSelectorTerms:
  - alias: al2023@latest
  role: KarpenterNodeRole-platform
  subnetSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  securityGroupSelectorTerms:
  - tags:
      karpenter.sh/discovery: platform
  metadataOptions:
    httpPutResponseHopLimit: 1
  # dense nodes
  kubelet:
    maxPods: 110 # prefix delegation
    evictionHard:
      memory.available: 5%
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        name: default
        group: karpenter.k8s.aws
        kind: EC2NodeClass
      requirements: []
"
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.level == Level::Warning && n.message.contains("every NodePool"))
        );
    }

    #[test]
    fn kubelet_without_its_node_class_is_explained() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: default
spec:
  template:
    spec:
      nodeClassRef:
        apiVersion: karpenter.k8s.aws/v1beta1
        kind: EC2NodeClass
        name: elsewhere
      kubelet:
        maxPods: 110
      requirements: []
";
        let m = migrate(text);
        assert!(m.changed);
        assert!(!m.is_complete());
        let errors: Vec<&Note> = m.notes.iter().filter(|n| n.level == Level::Error).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (12, 7));
        assert!(
            errors[0].message.contains("EC2NodeClass `elsewhere`")
                && errors[0].message.contains("not in this input"),
            "{}",
            errors[0].message
        );
        // The rest is converted; the kubelet block stays where it was, for the user to move.
        assert!(m.text.contains("apiVersion: karpenter.sh/v1\n"));
        assert!(m.text.contains("      kubelet:\n        maxPods: 110\n"));
    }

    #[test]
    fn pools_that_share_a_class_must_agree_on_kubelet() {
        let class = "apiVersion: karpenter.k8s.aws/v1beta1\nkind: EC2NodeClass\nmetadata: {name: shared}\nspec:\n  amiFamily: AL2023\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n";
        let pool = |name: &str, kubelet: &str| {
            format!(
                "---\napiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      nodeClassRef: {{name: shared}}\n{kubelet}      requirements: []\n"
            )
        };
        // Different settings: not moved.
        let text = format!(
            "{class}{}{}",
            pool("a", "      kubelet: {maxPods: 10}\n"),
            pool("b", "      kubelet: {maxPods: 20}\n")
        );
        let m = migrate(&text);
        let errors = errors(&m);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("NodePools `a`, `b` share EC2NodeClass `shared`"));
        assert!(
            m.text.contains("kubelet: {maxPods: 10}") && m.text.contains("kubelet: {maxPods: 20}")
        );
        // A pool without kubelet would get the other's settings: not moved either.
        let text = format!(
            "{class}{}{}",
            pool("a", "      kubelet: {maxPods: 10}\n"),
            pool("b", "")
        );
        assert_eq!(super::tests::errors(&migrate(&text)).len(), 1);
        // The same settings: moved once, removed from both.
        let text = format!(
            "{class}{}{}",
            pool("a", "      kubelet: {maxPods: 10}\n"),
            pool("b", "      kubelet: {maxPods: 10}\n")
        );
        let m = converted(&text);
        assert_eq!(m.text.matches("kubelet").count(), 1, "{}", m.text);
        assert!(
            m.text.contains("  kubelet: {maxPods: 10}\n---"),
            "{}",
            m.text
        );
    }

    #[test]
    fn kubelet_already_on_the_class() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: c}
spec:
  amiSelectorTerms: [{alias: al2023@v20240625}]
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  kubelet:
    maxPods: 10
---
# half migrated: the apiVersion is v1 but kubelet is still here
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: p}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: c}
      kubelet:
        maxPods: 10
      requirements: []
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 1m
";
        let m = converted(text);
        assert!(!m.text.contains("      kubelet:"), "{}", m.text);
        assert_eq!(m.text.matches("maxPods").count(), 1);
        // Different settings on the class: left for the user.
        let m = migrate(&text.replacen("maxPods: 10", "maxPods: 99", 1));
        assert!(errors(&m)[0].contains("other `spec.kubelet` settings"));
    }

    #[test]
    fn ubuntu_and_custom_cannot_be_converted() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: ubuntu}
spec:
  amiFamily: Ubuntu
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions: {httpPutResponseHopLimit: 1}
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: custom}
spec:
  amiFamily: Custom
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions: {httpPutResponseHopLimit: 1}
";
        let m = migrate(text);
        let errors = errors(&m);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("Ubuntu"));
        assert!(errors[1].contains("`amiFamily: Custom` without `amiSelectorTerms`"));
        assert!(m.text.contains("amiFamily: Ubuntu"));
        assert_eq!(m.notes[1].line, 5);
    }

    #[test]
    fn ami_family_with_selector_terms_stays() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: c}
spec:
  amiFamily: AL2023
  amiSelectorTerms:
    - name: hardened-al2023-*
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
";
        let m = converted(text);
        assert_eq!(m.text, text.replacen("/v1beta1", "/v1", 1));
        // The hop limit default changes: a warning, no edit.
        assert!(m.notes.iter().any(|n| n.level == Level::Warning
            && n.message.contains("httpPutResponseHopLimit")
            && n.line == 4));
    }

    #[test]
    fn windows_alias_is_latest_without_a_warning() {
        let text = "apiVersion: karpenter.k8s.aws/v1beta1\nkind: EC2NodeClass\nmetadata: {name: w}\nspec:\n  amiFamily: Windows2022\n  role: r\n  subnetSelectorTerms: [{tags: {a: b}}]\n  securityGroupSelectorTerms: [{tags: {a: b}}]\n  metadataOptions: {httpPutResponseHopLimit: 1}\n";
        let m = converted(text);
        assert!(
            m.text
                .contains("  amiSelectorTerms:\n    - alias: windows2022@latest\n")
        );
        assert!(
            m.notes.iter().all(|n| n.level == Level::Info),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn restricted_tags_change() {
        let text = "\
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: c}
spec:
  amiSelectorTerms: [{id: ami-0123456789abcdef0}]
  amiFamily: AL2023
  role: r
  subnetSelectorTerms: [{tags: {a: b}}]
  securityGroupSelectorTerms: [{tags: {a: b}}]
  metadataOptions: {httpPutResponseHopLimit: 1}
  tags:
    team: platform
    eks:eks-cluster-name: prod # set by Karpenter v1
    karpenter.sh/managed-by: prod
";
        let m = migrate(text);
        assert!(m.is_complete());
        assert!(!m.text.contains("eks:eks-cluster-name"), "{}", m.text);
        assert!(
            m.text
                .contains("    team: platform\n    karpenter.sh/managed-by: prod\n")
        );
        let warnings: Vec<usize> = m
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning)
            .map(|n| n.line)
            .collect();
        assert_eq!(warnings, vec![13, 14]);
    }

    #[test]
    fn workloads_get_the_new_annotation_and_taint() {
        let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    karpenter.sh/do-not-evict: \"true\" # not a pod annotation: stays
spec:
  template:
    metadata:
      annotations:
        karpenter.sh/do-not-evict: \"true\" # keep the batch running
    spec:
      tolerations:
        - key: karpenter.sh/disruption
          value: disrupting
          effect: NoSchedule
        - {key: karpenter.sh/disruption, operator: Equal, value: disrupting, effect: NoSchedule}
        - key: karpenter.sh/disruption
          operator: Exists
      containers: [{name: api, image: api}]
---
apiVersion: v1
kind: Pod
metadata:
  name: job
  annotations:
    karpenter.sh/do-not-disrupt: \"true\"
    karpenter.sh/do-not-consolidate: \"true\"
spec:
  containers: [{name: job, image: job}]
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    karpenter.sh/do-not-evict: \"true\" # not a pod annotation: stays
spec:
  template:
    metadata:
      annotations:
        karpenter.sh/do-not-disrupt: \"true\" # keep the batch running
    spec:
      tolerations:
        - key: karpenter.sh/disrupted
          operator: Exists
          effect: NoSchedule
        - {key: karpenter.sh/disrupted, operator: Exists, effect: NoSchedule}
        - key: karpenter.sh/disrupted
          operator: Exists
      containers: [{name: api, image: api}]
---
apiVersion: v1
kind: Pod
metadata:
  name: job
  annotations:
    karpenter.sh/do-not-disrupt: \"true\"
spec:
  containers: [{name: job, image: job}]
"
        );
    }

    #[test]
    fn first_entry_of_a_list_item_can_be_removed() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          tolerations:\n          - value: disrupting\n            operator: Equal\n            key: karpenter.sh/disruption\n";
        let m = converted(text);
        assert!(
            m.text.ends_with(
                "          - operator: Exists\n            key: karpenter.sh/disrupted\n"
            ),
            "{}",
            m.text
        );
    }

    #[test]
    fn kind_list_items_are_converted_in_place() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: karpenter.sh/v1beta1
  kind: NodePool
  metadata:
    name: listed
  spec:
    template:
      spec:
        nodeClassRef:
          apiVersion: karpenter.k8s.aws/v1beta1
          kind: EC2NodeClass
          name: default
        requirements: []
    disruption:
      consolidationPolicy: WhenEmpty
      consolidateAfter: 30s
      expireAfter: 720h
";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\
apiVersion: v1
kind: List
items:
- apiVersion: karpenter.sh/v1
  kind: NodePool
  metadata:
    name: listed
  spec:
    template:
      spec:
        nodeClassRef:
          group: karpenter.k8s.aws
          kind: EC2NodeClass
          name: default
        requirements: []
        expireAfter: 720h
    disruption:
      consolidationPolicy: WhenEmpty
      consolidateAfter: 30s
"
        );
    }

    #[test]
    fn crlf_and_missing_final_line_break() {
        let text = "apiVersion: karpenter.sh/v1beta1\r\nkind: NodePool\r\nmetadata:\r\n  name: a\r\nspec:\r\n  template:\r\n    spec:\r\n      nodeClassRef:\r\n        name: a\r\n      requirements: []\r\n  disruption:\r\n    consolidationPolicy: WhenUnderutilized";
        let m = converted(text);
        assert_eq!(
            m.text,
            "apiVersion: karpenter.sh/v1\r\nkind: NodePool\r\nmetadata:\r\n  name: a\r\nspec:\r\n  template:\r\n    spec:\r\n      nodeClassRef:\r\n        name: a\r\n        group: karpenter.k8s.aws\r\n        kind: EC2NodeClass\r\n      requirements: []\r\n  disruption:\r\n    consolidationPolicy: WhenEmptyOrUnderutilized\r\n    consolidateAfter: 0s"
        );
    }

    #[test]
    fn expire_after_conflict_is_left_to_the_user() {
        let text = POOL_BLOCK.replace(
            "      requirements:",
            "      expireAfter: 24h\n      requirements:",
        );
        let m = migrate(&text);
        assert!(errors(&m)[0].contains("differ"));
        assert!(m.text.contains("    expireAfter: 720h\n"));
        let same = POOL_BLOCK.replace(
            "      requirements:",
            "      expireAfter: 720h\n      requirements:",
        );
        let m = converted(&same);
        assert_eq!(m.text.matches("expireAfter").count(), 1);
    }

    #[test]
    fn anchors_and_merge_keys_are_not_edited() {
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: a}
x-defaults: &disruption
  consolidationPolicy: WhenUnderutilized
  expireAfter: 720h
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: a}
      requirements: []
  disruption:
    <<: *disruption
";
        let m = migrate(text);
        assert!(!m.is_complete());
        assert!(
            m.notes
                .iter()
                .any(|n| n.level == Level::Error && n.message.contains("alias or merge key")),
            "{:?}",
            m.notes
        );
        // Whatever was converted verifies: no silent half-edit of the anchor.
        let reloaded = source::load(
            0,
            &SourceFile::new("x", m.text.as_str()),
            &Limits::default(),
        );
        assert!(
            reloaded
                .notes
                .iter()
                .all(|n| n.kind != ParseNoteKind::Syntax)
        );
    }

    #[test]
    fn block_kubelet_cannot_go_into_a_flow_class() {
        // `maxPods: 20` is one line, but a block mapping all the same.
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: p}
spec:
  template:
    spec:
      nodeClassRef: {name: c}
      kubelet:
        maxPods: 20
      requirements: []
---
apiVersion: karpenter.k8s.aws/v1beta1
kind: EC2NodeClass
metadata: {name: c}
spec: {amiFamily: AL2, role: r, subnetSelectorTerms: [{tags: {a: b}}], securityGroupSelectorTerms: [{tags: {a: b}}]}
";
        let m = migrate(text);
        assert!(m.changed);
        let errors = errors(&m);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("flow style"), "{errors:?}");
        assert!(m.text.contains("      kubelet:\n        maxPods: 20\n"));
        assert!(
            m.text
                .contains("spec: {amiSelectorTerms: [{alias: al2@latest}], role: r,")
        );
    }

    #[test]
    fn an_anchored_mapping_used_elsewhere_is_left_alone() {
        // Editing `disruption` would edit its alias too: the document is left as it was.
        let text = "\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: anchored}
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: a}
      requirements: []
  disruption: &d
    consolidationPolicy: WhenUnderutilized
    consolidateAfter: Never
metadata2: *d
---
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata: {name: plain}
spec:
  template:
    spec:
      nodeClassRef: {apiVersion: karpenter.k8s.aws/v1beta1, kind: EC2NodeClass, name: a}
      requirements: []
";
        let m = migrate(text);
        assert!(m.changed);
        let errors = errors(&m);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("NodePool `anchored`: eksgate could not edit this object safely")
        );
        let (first, second) = m.text.split_once("---\n").unwrap();
        assert_eq!(first, text.split_once("---\n").unwrap().0);
        assert!(
            second.starts_with("apiVersion: karpenter.sh/v1\n"),
            "{second}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_kept_and_not_indentation() {
        let text = "\u{feff}apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {name: a}\n      requirements: []\n  disruption:\n    expireAfter: 720h\n";
        let m = converted(text);
        assert_eq!(
            m.text,
            "\u{feff}apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      nodeClassRef: {name: a, group: karpenter.k8s.aws, kind: EC2NodeClass}\n      requirements: []\n      expireAfter: 720h\n  disruption:\n    consolidateAfter: 0s\n"
        );
        assert_eq!((m.notes[0].line, m.notes[0].column), (1, 13));
    }

    #[test]
    fn unparsable_input_is_returned_unchanged() {
        let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nspec: {template: [\n";
        let m = migrate(text);
        assert!(!m.changed);
        assert_eq!(m.text, text);
        assert!(errors(&m)[0].starts_with("cannot read the file"));
    }

    #[test]
    fn older_kinds_and_node_claims_are_explained() {
        let text = "apiVersion: karpenter.sh/v1alpha5\nkind: Provisioner\nmetadata: {name: p}\n---\napiVersion: karpenter.sh/v1beta1\nkind: NodeClaim\nmetadata: {name: c}\n";
        let m = migrate(text);
        assert!(!m.changed);
        let errors = errors(&m);
        assert!(errors[0].contains("karpenter-convert"));
        assert!(errors[1].contains("Karpenter creates NodeClaims itself"));
    }

    #[test]
    fn terraform_plans_are_not_edited() {
        let text = r#"{"format_version": "1.2", "planned_values": {"root_module": {"resources": [
  {"address": "kubernetes_manifest.pool", "type": "kubernetes_manifest", "values": {"manifest": {
    "apiVersion": "karpenter.sh/v1beta1", "kind": "NodePool", "metadata": {"name": "tf"},
    "spec": {"template": {"spec": {"nodeClassRef": {"name": "x"}, "requirements": []}}}}}}
]}}}
"#;
        let m = migrate(text);
        assert!(!m.changed);
        let errors = errors(&m);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("kubernetes_manifest.pool"), "{errors:?}");
    }

    #[test]
    fn missing_node_class_ref_and_template_are_explained() {
        let text = "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: bare}\nspec:\n  disruption:\n    expireAfter: 720h\n";
        let m = migrate(text);
        let errors = errors(&m);
        assert!(
            errors.iter().any(|e| e.contains("no `spec.template.spec`")),
            "{errors:?}"
        );
    }

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
