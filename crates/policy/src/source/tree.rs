//! Builds [`Node`] trees from parser events, for YAML and JSON alike.
//!
//! The tree is built with an explicit stack (no recursion, so nesting is bounded by
//! [`Limits::max_depth`] and never by the native stack), every node is counted against the
//! file's [`Budget`], and mappings are merged the way Kubernetes' decoder merges them:
//! a repeated key keeps the last value (go-yaml v2 without strict mode, and Go's JSON decoder),
//! and `<<` merge keys apply in document order (go-yaml v2 `decode.go`, `mapping` and `merge`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use crate::node::{Entry, Node, Span, Value};
use crate::source::Limits;
use crate::source::yaml::{ParseNote, ParseNoteKind};

/// What one file may cost, shared by every document of the file and by every manifest embedded
/// in it (each `yaml_body` of a Terraform plan draws on the same budget).
#[derive(Debug, Default)]
pub(crate) struct Budget {
    /// Nodes created so far (scalars and containers; aliases are shared, not created).
    pub nodes: usize,
    /// Nodes that alias expansion has added to the logical tree so far (a scalar's text
    /// counts a node per [`TEXT_PER_NODE`] bytes).
    pub alias_nodes: usize,
}

/// Bytes of scalar text that weigh as one node in the alias budget (`Limits::max_alias_nodes`).
pub(crate) const TEXT_PER_NODE: usize = 32;

/// Repeated findings of one kind in one document are capped: the rest are counted.
pub(crate) const NOTES_PER_KIND_AND_DOCUMENT: usize = 100;

pub(crate) type Step = Result<(), (Span, String)>;

/// A scalar's text as a mapping key ([`super::scalar::map_key`]): `Err` says why Kubernetes
/// refuses it. `None` (a container, or a JSON key) falls back to [`json_key`].
pub(crate) type KeyText = Option<Result<String, String>>;

enum Frame {
    Seq {
        start: u32,
        anchor: Option<String>,
        flow: bool,
        items: Vec<Node>,
        /// Logical nodes below (alias expansions included; text weighs a node per
        /// [`TEXT_PER_NODE`] bytes), for alias budgets.
        count: usize,
    },
    Map {
        start: u32,
        anchor: Option<String>,
        flow: bool,
        entries: Vec<Entry>,
        /// The key read, waiting for its value; whether it is a `<<` merge key; and its text
        /// as Kubernetes writes it (see [`KeyText`]).
        key: Option<(Node, bool, KeyText)>,
        /// Index into `entries` by the key's JSON text.
        seen: Seen,
        /// Keys written explicitly (not merged), so a merge that overrides one can say so.
        explicit: Vec<bool>,
        count: usize,
    },
}

pub(crate) struct TreeBuilder<'a> {
    limits: &'a Limits,
    budget: &'a mut Budget,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<String, (Node, usize, KeyText)>,
    pub(crate) document: usize,
    pub(crate) notes: Vec<ParseNote>,
    /// Notes of the current document by kind: (kind, shown, not shown).
    note_counts: Vec<(ParseNoteKind, usize, usize)>,
}

impl<'a> TreeBuilder<'a> {
    pub(crate) fn new(limits: &'a Limits, budget: &'a mut Budget) -> Self {
        Self {
            limits,
            budget,
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            document: 0,
            notes: Vec::new(),
            note_counts: Vec::new(),
        }
    }

    /// Starts a document: anchors are per document, as in go-yaml.
    pub(crate) fn start_document(&mut self, index: usize) {
        self.document = index;
        self.stack.clear();
        self.root = None;
        self.anchors.clear();
        self.note_counts.clear();
    }

    /// Ends the document and returns its root (`None` when empty or `null`), plus a summary
    /// note for each kind of note that was capped.
    pub(crate) fn end_document(&mut self) -> Option<Node> {
        for (kind, shown, hidden) in std::mem::take(&mut self.note_counts) {
            if hidden > 0 {
                let span = self
                    .notes
                    .iter()
                    .rev()
                    .find(|n| n.kind == kind)
                    .map(|n| n.span);
                self.notes.push(ParseNote {
                    kind,
                    span: span.unwrap_or_default(),
                    document: self.document,
                    message: format!(
                        "{hidden} more findings like this in this document are not shown (the first {shown} are)"
                    ),
                    help: None,
                });
            }
        }
        self.stack.clear();
        self.root.take().filter(|n| !n.is_null())
    }

    /// Records a note, counting (not keeping) those past the per-document cap.
    pub(crate) fn note(
        &mut self,
        kind: ParseNoteKind,
        span: Span,
        message: String,
        help: Option<String>,
    ) {
        if kind != ParseNoteKind::Syntax {
            let slot = match self.note_counts.iter_mut().find(|(k, _, _)| *k == kind) {
                Some(slot) => slot,
                None => {
                    self.note_counts.push((kind, 0, 0));
                    let last = self.note_counts.len() - 1;
                    #[expect(clippy::indexing_slicing, reason = "pushed on the line above")]
                    &mut self.note_counts[last]
                }
            };
            if slot.1 >= NOTES_PER_KIND_AND_DOCUMENT {
                slot.2 += 1;
                return;
            }
            slot.1 += 1;
        }
        self.notes.push(ParseNote {
            kind,
            span,
            document: self.document,
            message,
            help,
        });
    }

    fn count_node(&mut self, span: Span) -> Step {
        self.budget.nodes += 1;
        if self.budget.nodes > self.limits.max_nodes {
            return Err((
                span,
                format!(
                    "the file has more than {} values; eksgate reads at most that many from one file (split it, or raise the limit)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn open_seq(&mut self, start: Span, anchor: Option<String>, flow: bool) -> Step {
        self.depth_check(start)?;
        self.count_node(start)?;
        self.stack.push(Frame::Seq {
            start: start.start,
            anchor,
            flow,
            items: Vec::new(),
            count: 1,
        });
        Ok(())
    }

    pub(crate) fn open_map(&mut self, start: Span, anchor: Option<String>, flow: bool) -> Step {
        self.depth_check(start)?;
        self.count_node(start)?;
        self.stack.push(Frame::Map {
            start: start.start,
            anchor,
            flow,
            entries: Vec::new(),
            key: None,
            seen: Seen::default(),
            explicit: Vec::new(),
            count: 1,
        });
        Ok(())
    }

    fn depth_check(&self, span: Span) -> Step {
        if self.stack.len() >= self.limits.max_depth {
            return Err((
                span,
                format!(
                    "nesting is deeper than {} levels; no Kubernetes object needs that",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }

    /// A scalar (already resolved). `merge_key` marks a plain `<<` in key position; `key` is
    /// its text as a mapping key, needed when it is one ([`Self::expects_key`]) or anchored.
    pub(crate) fn scalar(
        &mut self,
        node: Node,
        anchor: Option<String>,
        merge_key: bool,
        key: KeyText,
    ) -> Step {
        self.count_node(node.span)?;
        // Aliases share containers but copy scalars, and whatever keeps or walks an expansion
        // (the packed documents of phase 2, a rule) pays for its text: a long string weighs as
        // a node per 32 bytes (a node's size), so the alias budget bounds expanded text too
        // (1 MiB aliased 2,000 times took 2 GB before).
        let weight = 1 + node.as_str().map_or(0, |s| s.len() / TEXT_PER_NODE);
        self.place(node, weight, anchor, merge_key, key)
    }

    /// Inside a flow collection: the bracket that closes the innermost one.
    pub(crate) fn flow_closing(&self) -> Option<char> {
        match self.stack.last() {
            Some(Frame::Seq { flow: true, .. }) => Some(']'),
            Some(Frame::Map { flow: true, .. }) => Some('}'),
            _ => None,
        }
    }

    /// Whether the next node is a mapping key.
    pub(crate) fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// An alias of an anchor of this document: the anchored node, shared.
    pub(crate) fn alias(&mut self, name: &str, span: Span) -> Step {
        let Some((node, count, key)) = self.anchors.get(name) else {
            return Err((span, format!("unknown anchor `{name}` referenced")));
        };
        let (mut node, count, key) = (node.clone(), *count, key.clone());
        self.budget.alias_nodes += count;
        if self.budget.alias_nodes > self.limits.max_alias_nodes {
            return Err((
                span,
                format!(
                    "aliases expand to more than {} nodes (a \"billion laughs\" document?; text counts a node per {TEXT_PER_NODE} bytes)",
                    self.limits.max_alias_nodes
                ),
            ));
        }
        // A scalar is a copy anyway, so it takes the alias's place (a repeated key written as
        // `*name` is reported there). A container keeps the anchor's spans: findings inside it
        // point at the anchored text, the only place its contents are written.
        if !matches!(node.value, Value::Seq(_) | Value::Map(_)) {
            node.span = span;
        }
        // go-yaml decodes an alias as its anchored node again: a `.nan` anchored as a key is
        // fine there and not as a value.
        if let Value::Float(f) = node.value
            && !f.is_finite()
            && !self.expects_key()
        {
            let text = if f.is_nan() {
                ".nan"
            } else if f > 0.0 {
                ".inf"
            } else {
                "-.inf"
            };
            self.note(
                ParseNoteKind::NotJson,
                span,
                format!("`*{name}` is `{text}`, which cannot be written as JSON, so Kubernetes rejects the file"),
                Some(NOT_FINITE_HELP.to_string()),
            );
        }
        self.place(node, count, None, false, key)
    }

    /// Closes the innermost container; `end` is the closing event's span (flow collections end
    /// at their bracket; block collections at their last child).
    pub(crate) fn close(&mut self, end: Span) -> Step {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        match frame {
            Frame::Seq {
                start,
                anchor,
                flow,
                mut items,
                count,
            } => {
                // The tree is kept for the run: `Arc<[_]>` holds exactly the items. Shrinking
                // first gives back what the growing vector reserved before the copy is made (a
                // large vector shrinks in place), so a long list costs twice its items at most.
                items.shrink_to_fit();
                let end = container_end(flow, end, items.last());
                self.place(
                    Node::new(Value::Seq(Arc::from(items)), Span::new(start, end)),
                    count,
                    anchor,
                    false,
                    None,
                )
            }
            Frame::Map {
                start,
                anchor,
                flow,
                mut entries,
                count,
                ..
            } => {
                entries.shrink_to_fit();
                let end = container_end(flow, end, entries.last().map(|e| &e.value));
                self.place(
                    Node::new(Value::Map(Arc::from(entries)), Span::new(start, end)),
                    count,
                    anchor,
                    false,
                    None,
                )
            }
        }
    }

    /// Puts a finished node into its parent, or makes it the document's root.
    fn place(
        &mut self,
        node: Node,
        count: usize,
        anchor: Option<String>,
        merge_key: bool,
        key_text: KeyText,
    ) -> Step {
        if let Some(name) = anchor {
            // A container's clone is a pointer copy: anchors cost nothing until aliased.
            self.anchors
                .insert(name, (node.clone(), count, key_text.clone()));
        }
        let mut duplicate: Option<(Span, String)> = None;
        let mut overridden: Vec<(Span, String)> = Vec::new();
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                return Ok(());
            }
            Some(Frame::Seq {
                items, count: c, ..
            }) => {
                push(items, node);
                *c += count;
                return Ok(());
            }
            Some(Frame::Map {
                entries,
                key,
                seen,
                explicit,
                count: c,
                ..
            }) => {
                *c += count;
                let Some((mut k, is_merge, key_text)) = key.take() else {
                    *key = Some((node, merge_key, key_text));
                    return Ok(());
                };
                if is_merge {
                    merge_into(entries, seen, explicit, &node, &mut overridden)
                        .map_err(|message| (node.span, message))?;
                } else {
                    // Kubernetes' keys are strings (JSON's): rules see the key so.
                    let converted = match key_text {
                        Some(Ok(text)) => {
                            if !matches!(k.value, Value::Str(_)) {
                                k.value = Value::Str(text.into());
                            }
                            Ok(())
                        }
                        Some(Err(message)) => Err(message),
                        None if matches!(k.value, Value::Str(_)) => Ok(()),
                        None => match json_key(&k).map(Cow::into_owned) {
                            Some(text) => {
                                k.value = Value::Str(text.into());
                                Ok(())
                            }
                            None => Err(format!(
                                "a {} cannot be a mapping key in Kubernetes",
                                k.type_name()
                            )),
                        },
                    };
                    match converted.map(|()| json_key(&k).unwrap_or(Cow::Borrowed(""))) {
                        Ok(text) => {
                            if let Some(at) = seen.get(entries, &text) {
                                if let (Some(slot), Some(flag)) =
                                    (entries.get_mut(at), explicit.get_mut(at))
                                {
                                    // Overriding a merged key is what merges are for.
                                    if *flag {
                                        duplicate = Some((k.span, text.into_owned()));
                                    }
                                    *slot = Entry {
                                        key: k,
                                        value: node,
                                    };
                                    *flag = true;
                                }
                            } else {
                                seen.insert(entries, &text, entries.len());
                                drop(text);
                                push(
                                    entries,
                                    Entry {
                                        key: k,
                                        value: node,
                                    },
                                );
                                explicit.push(true);
                            }
                        }
                        Err(message) => {
                            let span = k.span;
                            self.note(
                                ParseNoteKind::NotJson,
                                span,
                                message,
                                Some(
                                    "Kubernetes converts YAML to JSON, whose keys are strings; use a string, number or boolean key".to_string(),
                                ),
                            );
                        }
                    }
                }
            }
        }
        if let Some((span, text)) = duplicate {
            self.note(
                ParseNoteKind::DuplicateKey,
                span,
                format!("key `{text}` is repeated in this mapping; Kubernetes keeps this last value"),
                Some(
                    "keep one: kubectl and the API server take the last value without a word, while kustomize (and so Flux) rejects the file".to_string(),
                ),
            );
        }
        for (span, text) in overridden {
            self.note(
                ParseNoteKind::DuplicateKey,
                span,
                format!("key `{text}` is overridden by the `<<` merge that follows it"),
                Some(
                    "Kubernetes' decoder (go-yaml v2) applies merge keys in order, so a key written before `<<` loses; move the key after the merge".to_string(),
                ),
            );
        }
        Ok(())
    }
}

/// The help of a `.nan` or `.inf` value.
pub(crate) const NOT_FINITE_HELP: &str =
    "Kubernetes converts YAML to JSON, which has no infinity or NaN; quote the value if it is text";

/// Applies a `<<` merge: a mapping, or a sequence of mappings where earlier ones win; merged
/// keys override keys written before the merge (go-yaml v2 applies merges in document order).
fn merge_into(
    entries: &mut Vec<Entry>,
    seen: &mut Seen,
    explicit: &mut Vec<bool>,
    source: &Node,
    overridden: &mut Vec<(Span, String)>,
) -> Result<(), String> {
    const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
    let maps: Vec<&Node> = match &source.value {
        Value::Map(_) => vec![source],
        Value::Seq(items) => {
            if items.iter().any(|i| i.as_map().is_none()) {
                return Err(WANT_MAP.to_string());
            }
            items.iter().rev().collect()
        }
        _ => return Err(WANT_MAP.to_string()),
    };
    for map in maps {
        for entry in map.entries() {
            let Some(text) = json_key(&entry.key) else {
                continue;
            };
            match seen.get(entries, &text) {
                Some(at) => {
                    if let (Some(slot), Some(flag)) = (entries.get_mut(at), explicit.get_mut(at)) {
                        if *flag {
                            overridden.push((slot.key.span, text.into_owned()));
                        }
                        *slot = entry.clone();
                        *flag = false;
                    }
                }
                None => {
                    seen.insert(entries, &text, entries.len());
                    push(entries, entry.clone());
                    explicit.push(false);
                }
            }
        }
    }
    Ok(())
}

/// The key as Kubernetes' YAML-to-JSON conversion writes it (`sigs.k8s.io/yaml`
/// `convertToJSONableObject`): strings, numbers and booleans; `None` for null and containers,
/// which it refuses.
pub(crate) fn json_key(key: &Node) -> Option<Cow<'_, str>> {
    match &key.value {
        Value::Str(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::Float(f) if f.is_nan() => Some(Cow::Borrowed(".nan")),
        Value::Float(f) if f.is_infinite() => {
            Some(Cow::Borrowed(if *f > 0.0 { ".inf" } else { "-.inf" }))
        }
        Value::Float(f) => Some(Cow::Owned(f.to_string())),
        Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

/// The keys of a mapping being built, as indexes into its entries (4 bytes a key, where a map
/// from key text to index would hold a second copy of every key). Lookups hash the JSON text
/// of the key (`json_key`), so `1` and `"1"` are the same key, as after Kubernetes' conversion.
#[derive(Default)]
struct Seen {
    table: hashbrown::HashTable<u32>,
    /// Randomly seeded, as std's maps are: keys come from the input.
    hasher: RandomState,
}

impl Seen {
    /// Mappings of up to this many keys (nearly all of Kubernetes') are searched key by key,
    /// which costs less than hashing each key; larger ones get the table.
    const SCANNED: usize = 8;

    fn hash(hasher: &RandomState, text: &str) -> u64 {
        hasher.hash_one(text)
    }

    fn text_at(entries: &[Entry], at: u32) -> Option<Cow<'_, str>> {
        entries.get(at as usize).and_then(|e| json_key(&e.key))
    }

    fn get(&self, entries: &[Entry], text: &str) -> Option<usize> {
        if entries.len() <= Self::SCANNED {
            return entries
                .iter()
                .position(|e| json_key(&e.key).as_deref() == Some(text));
        }
        let hash = Self::hash(&self.hasher, text);
        self.table
            .find(hash, |&at| {
                Self::text_at(entries, at).as_deref() == Some(text)
            })
            .map(|&at| at as usize)
    }

    /// Records that `entries[at]` (about to be pushed, or there) has the key `text`.
    fn insert(&mut self, entries: &[Entry], text: &str, at: usize) {
        if at < Self::SCANNED {
            return;
        }
        let hasher = &self.hasher;
        if at == Self::SCANNED {
            // The mapping outgrows scanning: its keys so far go into the table.
            for (i, entry) in entries.iter().enumerate().take(Self::SCANNED) {
                if let Some(key) = json_key(&entry.key) {
                    let i = u32::try_from(i).unwrap_or(u32::MAX);
                    self.table.insert_unique(Self::hash(hasher, &key), i, |&i| {
                        Self::hash(hasher, Self::text_at(entries, i).as_deref().unwrap_or(""))
                    });
                }
            }
        }
        let hash = Self::hash(hasher, text);
        // Indexes fit: a file holds at most `Limits::max_nodes` values, far below u32::MAX.
        let at = u32::try_from(at).unwrap_or(u32::MAX);
        self.table.insert_unique(hash, at, |&i| {
            Self::hash(hasher, Self::text_at(entries, i).as_deref().unwrap_or(""))
        });
    }
}

/// Pushes onto a vector of the tree, growing it by half when full rather than doubling: the
/// tree is kept for the run, so a list or mapping of a million values holds at most a third
/// more than it needs while it is built (and nothing more once `close` shrinks it).
fn push<T>(items: &mut Vec<T>, item: T) {
    if items.len() == items.capacity() {
        items.reserve_exact((items.len() / 2).max(4));
    }
    items.push(item);
}

fn container_end(flow: bool, end: Span, last: Option<&Node>) -> u32 {
    if flow {
        // Just after the closing bracket.
        end.end.max(end.start)
    } else {
        last.map_or(end.start, |n| n.span.end)
    }
}
