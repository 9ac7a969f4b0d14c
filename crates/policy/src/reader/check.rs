//! [`Checker`]: the semantic checks after deserialization, pointing at positions.
//!
//! What a type cannot say (two stages with one name, a CEL expression that does not compile,
//! a rule ID that exists) is checked over the typed value, with the spans its
//! [`Spanned`](super::Spanned) fields kept; the checker turns a span into `file:line:column`
//! and the JSON pointer of the node there.

use super::error::{ReadError, Segment, pointer_of};
use super::spanned::Spanned;
use crate::node::{Node, Span};
use crate::source::SourceFile;

/// Collects the errors of a document's semantic checks.
#[derive(Debug)]
pub struct Checker<'a> {
    source: &'a SourceFile,
    root: &'a Node,
    errors: Vec<ReadError>,
}

impl<'a> Checker<'a> {
    #[must_use]
    pub fn new(source: &'a SourceFile, root: &'a Node) -> Self {
        Self {
            source,
            root,
            errors: Vec::new(),
        }
    }

    /// The text the document was read from (to point inside a scalar, say).
    #[must_use]
    pub fn source(&self) -> &'a SourceFile {
        self.source
    }

    /// The document's root node.
    #[must_use]
    pub fn root(&self) -> &'a Node {
        self.root
    }

    /// Reports `message` at `span` (a node's or key's span in the document, or a position
    /// inside one).
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        let pointer = pointer_at(self.root, span).unwrap_or_default();
        self.errors
            .push(ReadError::at(self.source, span, pointer, message.into()));
    }

    /// Reports `message` at a spanned value.
    pub fn at<T>(&mut self, value: &Spanned<T>, message: impl Into<String>) {
        self.error(value.span, message);
    }

    /// The span of the value of `key` in the mapping at `span` (a [`Spanned`] struct's), if
    /// the document gives that field: to point at one field of it.
    #[must_use]
    pub fn field(&self, span: Span, key: &str) -> Option<Span> {
        node_at(self.root, span)
            .and_then(|n| n.get(key))
            .map(|n| n.span)
    }

    /// Whether nothing has been reported.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The first error reported, if any.
    #[must_use]
    pub fn into_first_error(self) -> Option<ReadError> {
        self.errors.into_iter().next()
    }

    /// Every error reported, in the order the checks found them.
    #[must_use]
    pub fn into_errors(self) -> Vec<ReadError> {
        self.errors
    }
}

/// The outermost node (or key) of the tree whose span is `span`.
fn node_at(root: &Node, span: Span) -> Option<&Node> {
    if root.span == span {
        return Some(root);
    }
    if span.start < root.span.start || span.end > root.span.end {
        return None;
    }
    root.items()
        .iter()
        .find_map(|n| node_at(n, span))
        .or_else(|| {
            root.entries().iter().find_map(|e| {
                if e.key.span == span {
                    Some(&e.key)
                } else {
                    node_at(&e.value, span)
                }
            })
        })
}

/// The JSON pointer of the outermost node (or key) whose span is `span`, or of the innermost
/// node that contains it (a position inside a scalar points at the scalar).
fn pointer_at(root: &Node, span: Span) -> Option<String> {
    let mut path = Vec::new();
    walk(root, span, &mut path).then(|| pointer_of(&path))
}

fn walk(node: &Node, span: Span, path: &mut Vec<Segment>) -> bool {
    if node.span == span {
        return true;
    }
    if span.start < node.span.start || span.end > node.span.end {
        return false;
    }
    for (i, item) in node.items().iter().enumerate() {
        path.push(Segment::Index(i));
        if walk(item, span, path) {
            return true;
        }
        path.pop();
    }
    for entry in node.entries() {
        path.push(Segment::Key(entry.key.scalar_text().unwrap_or_default()));
        if entry.key.span == span || walk(&entry.value, span, path) {
            return true;
        }
        path.pop();
    }
    // Inside this node, in none of its children: the node itself.
    true
}
