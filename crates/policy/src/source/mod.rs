//! Source texts and the documents read from them.
//!
//! A [`SourceFile`] is a name and its text; the core never opens files itself. [`load`] turns one
//! into documents (YAML streams, JSON, `kind: List` items, manifests inside Terraform plans and
//! Terraform source) and the parse findings (`YAML001`, `YAML002`).

mod json;
pub mod packed;
mod scalar;
pub mod terraform;
mod tfplan;
mod tree;
mod yaml;

use std::sync::Arc;

use crate::node::{Node, Span};

pub use terraform::{TerraformFacts, TfBlock, TfBlockKind};
pub use yaml::{ParseNote, ParseNoteKind};

/// Bounds that keep hostile input from costing unbounded time or memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest source accepted, in bytes.
    pub max_source_bytes: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes that alias expansion may add to one file (billion-laughs guard); a scalar
    /// weighs a node per 32 bytes of its text, since aliases copy scalars.
    pub max_alias_nodes: usize,
    /// Most documents in one file.
    pub max_documents: usize,
    /// Most values (scalars, lists and mappings) read from one file: memory stays in
    /// proportion to this, whatever the shape of the text.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_source_bytes: 32 * 1024 * 1024,
            max_depth: 100,
            max_alias_nodes: 100_000,
            max_documents: 100_000,
            max_nodes: 4_000_000,
        }
    }
}

/// One input: its display name (a path, `<stdin>`) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    line_starts: Vec<u32>,
    /// Byte length of a leading byte-order mark (0 or 3): not a column.
    bom: u32,
    /// Characters before every [`CHAR_MARK_STRIDE`]-th byte (rounded to a character boundary),
    /// so a column costs at most one stride of counting, even on a one-line 32 MiB plan.
    /// Empty when the text is ASCII (columns are then byte differences).
    char_marks: Vec<(u32, u32)>,
}

/// Bytes between two [`SourceFile`] character marks.
const CHAR_MARK_STRIDE: usize = 4096;

/// Why bytes could not become a [`SourceFile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeFault {
    /// Not UTF-8: where the first bad byte is (1-based line and column, and byte offset; the
    /// text before it is the same in a lossy decoding, so the offset holds there too).
    InvalidUtf8 {
        line: usize,
        column: usize,
        offset: usize,
    },
    /// Larger than [`Limits::max_source_bytes`].
    TooLarge { bytes: usize, limit: usize },
}

impl std::fmt::Display for DecodeFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeFault::InvalidUtf8 { line, column, .. } => {
                write!(f, "invalid UTF-8 at line {line}, column {column}")
            }
            DecodeFault::TooLarge { bytes, limit } => write!(
                f,
                "file is {bytes} bytes, larger than the {limit}-byte limit (raise the limit if the file is meant to be this big)"
            ),
        }
    }
}

impl SourceFile {
    /// A source from text that is already UTF-8.
    ///
    /// # Panics
    /// Never: texts over 4 GiB are cut to the limit by [`SourceFile::from_bytes`]; this
    /// constructor is for texts the caller already bounded.
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let line_starts = line_starts(&text);
        let char_marks = char_marks(&text);
        Self {
            name: name.into(),
            text,
            line_starts,
            bom,
            char_marks,
        }
    }

    /// A source from raw bytes: checks size and UTF-8 so that neither reaches the parser.
    ///
    /// # Errors
    /// [`DecodeFault`] when the bytes are too many or not UTF-8; the fault says where, and the
    /// bytes come back (for a lossy view in the code frame).
    pub fn from_bytes(
        name: impl Into<String>,
        bytes: Vec<u8>,
        limits: &Limits,
    ) -> Result<Self, (DecodeFault, Vec<u8>)> {
        if bytes.len() > limits.max_source_bytes || bytes.len() > u32::MAX as usize {
            let fault = DecodeFault::TooLarge {
                bytes: bytes.len(),
                limit: limits.max_source_bytes,
            };
            return Err((fault, bytes));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self::new(name, text)),
            Err(err) => {
                let valid = err.utf8_error().valid_up_to();
                let bytes = err.as_bytes();
                let prefix = bytes.get(..valid).unwrap_or_default();
                // The valid prefix is UTF-8 by definition; count lines (CR, LF and CRLF, as
                // everywhere else) and characters in it.
                let prefix = std::str::from_utf8(prefix).unwrap_or_default();
                let starts = line_starts(prefix);
                let last = starts.last().copied().unwrap_or(0) as usize;
                let fault = DecodeFault::InvalidUtf8 {
                    line: starts.len(),
                    column: prefix.get(last..).map_or(0, |l| l.chars().count()) + 1,
                    offset: valid,
                };
                Err((fault, err.into_bytes()))
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let mut start = self.line_starts.get(line).copied().unwrap_or(0);
        if line == 0 {
            start = start.max(self.bom).min(offset);
        }
        let column = self.chars_before(offset) - self.chars_before(start);
        (line + 1, column + 1)
    }

    /// Characters in the text before byte `offset` (a character boundary).
    fn chars_before(&self, offset: u32) -> usize {
        if self.char_marks.is_empty() {
            return offset as usize;
        }
        let i = match self.char_marks.binary_search_by_key(&offset, |m| m.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let (at, chars) = self.char_marks.get(i).copied().unwrap_or((0, 0));
        chars as usize
            + self
                .text
                .get(at as usize..offset as usize)
                .map_or(0, |s| s.chars().count())
    }

    /// The text of 1-based line `line`, without its line break.
    #[must_use]
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = line.checked_sub(1).and_then(|i| self.line_starts.get(i)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len() as u32);
        let text = self.text.get(start as usize..end as usize).unwrap_or("");
        let text = if line == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        text.trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of the start of 1-based line `line`.
    #[must_use]
    pub fn line_start(&self, line: usize) -> Option<u32> {
        line.checked_sub(1)
            .and_then(|i| self.line_starts.get(i))
            .copied()
    }

    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text a span covers.
    #[must_use]
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// Character counts at stride boundaries; empty for ASCII text.
fn char_marks(text: &str) -> Vec<(u32, u32)> {
    if text.is_ascii() {
        return Vec::new();
    }
    let mut marks = vec![(0, 0)];
    let mut chars = 0u32;
    let mut at = 0usize;
    while at < text.len() {
        let mut next = (at + CHAR_MARK_STRIDE).min(text.len());
        while !text.is_char_boundary(next) {
            next += 1;
        }
        chars += text.get(at..next).map_or(0, |s| s.chars().count()) as u32;
        at = next;
        marks.push((at as u32, chars));
    }
    marks
}

/// Line starts for `\n`, `\r\n` and lone `\r` breaks, as YAML counts them.
fn line_starts(text: &str) -> Vec<u32> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    // memchr's vector search: this runs for every file read, and again for every file read
    // back to render its findings.
    for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        let crlf = bytes.get(at) == Some(&b'\r') && bytes.get(at + 1) == Some(&b'\n');
        if !crlf {
            starts.push(at as u32 + 1);
        }
    }
    starts
}

/// Where a document came from inside its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A document of a YAML stream (or a JSON file).
    Stream,
    /// An item of a `kind: List` document.
    ListItem,
    /// A manifest inside a `terraform show -json` plan.
    TerraformPlan { address: String },
    /// A manifest in Terraform source (`*.tf`): `kubernetes_manifest.manifest` or
    /// `kubectl_manifest.yaml_body` of the resource at `address`.
    TerraformSource { address: String },
}

/// One Kubernetes-style object read from a source.
#[derive(Clone, Debug)]
pub struct Document {
    /// Index of the file in the run.
    pub file: usize,
    /// 0-based index of the document in its file (items of a `List` share their list's index).
    pub index: usize,
    /// JSON pointer of `root` inside the document as written (`/items/3` for a List item).
    pub pointer_prefix: String,
    pub origin: Origin,
    pub root: Node,
}

impl Document {
    #[must_use]
    pub fn api_version(&self) -> Option<&str> {
        self.root.get("apiVersion").and_then(Node::as_str)
    }

    #[must_use]
    pub fn kind(&self) -> Option<&str> {
        self.root.get("kind").and_then(Node::as_str)
    }

    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.root.path(&["metadata", "name"]).and_then(Node::as_str)
    }

    #[must_use]
    pub fn namespace(&self) -> Option<&str> {
        self.root
            .path(&["metadata", "namespace"])
            .and_then(Node::as_str)
    }

    /// The API group of `apiVersion` (`karpenter.sh` of `karpenter.sh/v1`; empty for core `v1`).
    #[must_use]
    pub fn group(&self) -> &str {
        match self.api_version() {
            Some(v) => v.rsplit_once('/').map_or("", |(g, _)| g),
            None => "",
        }
    }

    /// The JSON pointer of a node of this document, as the user wrote the document.
    #[must_use]
    pub fn pointer(&self, node: &Node) -> String {
        let inner = self.root.pointer_to(node).unwrap_or_default();
        format!("{}{inner}", self.pointer_prefix)
    }
}

/// What [`load`] read from one file.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    /// Documents that were empty (`---` with nothing after it); they count as nothing.
    pub empty_documents: usize,
    pub notes: Vec<ParseNote>,
    /// What a Terraform source file says about providers, modules and clusters (`*.tf` only).
    pub terraform: Option<terraform::TerraformFacts>,
}

/// Reads every document of a source. `file` is the file's index in the run.
#[must_use]
pub fn load(file: usize, source: &SourceFile, limits: &Limits) -> Loaded {
    if terraform::is_terraform(&source.name) {
        let mut loaded = Loaded::default();
        terraform::load(file, source, limits, &mut loaded);
        return loaded;
    }
    let mut budget = tree::Budget::default();
    let parsed = parse_text(&source.text, limits, &mut budget);
    let mut loaded = Loaded {
        notes: parsed.notes,
        ..Loaded::default()
    };
    for (this, root) in parsed.documents.into_iter().enumerate() {
        let Some(root) = root else {
            loaded.empty_documents += 1;
            continue;
        };
        if tfplan::is_plan(&root) {
            tfplan::extract(file, this, source, &root, limits, &mut budget, &mut loaded);
            continue;
        }
        push_document(file, this, String::new(), Origin::Stream, root, &mut loaded);
    }
    loaded
}

/// Parses a text as Kubernetes would: JSON when it starts with `{`, YAML otherwise.
fn parse_text(text: &str, limits: &Limits, budget: &mut tree::Budget) -> yaml::Parsed {
    if json::is_json_stream(text) {
        json::parse_stream(text, limits, budget)
    } else {
        yaml::parse_stream(text, limits, budget)
    }
}

/// Adds a document, unrolling `kind: List` (as `kubectl get -o yaml` prints) into its items.
fn push_document(
    file: usize,
    index: usize,
    prefix: String,
    origin: Origin,
    root: Node,
    loaded: &mut Loaded,
) {
    let is_list = root
        .get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List") && root.get("items").is_some())
        && root.get("items").and_then(Node::as_seq).is_some();
    if !is_list {
        loaded.documents.push(Document {
            file,
            index,
            pointer_prefix: prefix,
            origin,
            root,
        });
        return;
    }
    let crate::node::Value::Map(entries) = root.value else {
        return;
    };
    for entry in entries.iter() {
        if entry.key_str() != Some("items") {
            continue;
        }
        if let crate::node::Value::Seq(items) = &entry.value.value {
            for (i, item) in items.iter().cloned().enumerate() {
                let item_origin = match &origin {
                    Origin::Stream => Origin::ListItem,
                    other => other.clone(),
                };
                push_document(
                    file,
                    index,
                    format!("{prefix}/items/{i}"),
                    item_origin,
                    item,
                    loaded,
                );
            }
        }
    }
}

/// Moves every span of a tree read from embedded text to where that text sits in its file.
pub(crate) fn remap_spans(node: &mut Node, remap: &impl Fn(u32) -> u32) {
    node.span = Span::new(remap(node.span.start), remap(node.span.end));
    match &mut node.value {
        crate::node::Value::Seq(items) => std::sync::Arc::make_mut(items)
            .iter_mut()
            .for_each(|n| remap_spans(n, remap)),
        crate::node::Value::Map(entries) => {
            for e in std::sync::Arc::make_mut(entries) {
                remap_spans(&mut e.key, remap);
                remap_spans(&mut e.value, remap);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Line starts the slow way: every break character in turn.
    fn by_bytes(text: &str) -> Vec<u32> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let next = i as u32 + 1;
            match b {
                b'\n' => starts.push(next),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(next),
                _ => {}
            }
        }
        starts
    }

    proptest! {
        /// Texts with CR, LF and CRLF breaks, and the same texts without CR: the starts a byte loop finds.
        #[test]
        fn line_starts_are_those_of_every_break(text in "[a\\r\\n\u{e9}]{0,40}") {
            prop_assert_eq!(super::line_starts(&text), by_bytes(&text));
            let lf_only = text.replace('\r', "");
            prop_assert_eq!(super::line_starts(&lf_only), by_bytes(&lf_only));
        }
    }
}
