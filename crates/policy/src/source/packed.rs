//! Documents packed into one byte buffer, to be unpacked later into the same trees.
//!
//! Phase 1 of a check keeps, of each file, the documents the cross-document rules read
//! (`engine::keep_for_run`) until phase 2 has seen every file. Kept as trees, they were
//! thousands of small allocations left between the parse trees of the files after them, and
//! the allocator's free lists grew long and cold: on the 100,000-document bench corpus a
//! quarter of a check's CPU went to `malloc` and `free` (against a tenth for parsing alone).
//! Packed, a file keeps one buffer; phase 2 unpacks them all at once, into memory no parse
//! tree is mixed with.
//!
//! The format is private to one run (it is never written anywhere): a node is a tag byte, its
//! span (start, and length), then its payload; integers are LEB128 varints, floats their
//! eight bytes. On the 100,000-document bench corpus the 49,048 kept documents pack into
//! 21.4 MB (436 bytes each); as trees they held about 60 MB.

use compact_str::CompactString;

use super::{Document, Origin};
use crate::node::{Entry, Node, Span, Value};

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const SEQ: u8 = 6;
const MAP: u8 = 7;

const STREAM: u8 = 0;
const LIST_ITEM: u8 = 1;
const TERRAFORM_PLAN: u8 = 2;
const TERRAFORM_SOURCE: u8 = 3;

/// Documents as one buffer of exactly their bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packed {
    bytes: Vec<u8>,
    documents: usize,
}

impl Packed {
    /// Packs `documents` (their trees are copied, not moved: shared subtrees are written once
    /// per place they appear, as rules see them).
    #[must_use]
    pub fn new(documents: &[Document]) -> Self {
        let mut bytes = Vec::new();
        for doc in documents {
            put_len(&mut bytes, doc.index);
            put_str(&mut bytes, &doc.pointer_prefix);
            match &doc.origin {
                Origin::Stream => bytes.push(STREAM),
                Origin::ListItem => bytes.push(LIST_ITEM),
                Origin::TerraformPlan { address } => {
                    bytes.push(TERRAFORM_PLAN);
                    put_str(&mut bytes, address);
                }
                Origin::TerraformSource { address } => {
                    bytes.push(TERRAFORM_SOURCE);
                    put_str(&mut bytes, address);
                }
            }
            put_node(&mut bytes, &doc.root);
        }
        bytes.shrink_to_fit();
        Self {
            bytes,
            documents: documents.len(),
        }
    }

    /// How many documents it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.documents
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.documents == 0
    }

    /// The documents again, each with `file` as its file index. `None` only if the buffer was
    /// not made by [`Packed::new`] (it cannot be: the field is private).
    #[must_use]
    pub fn unpack(&self, file: usize) -> Option<Vec<Document>> {
        let mut reader = Reader {
            bytes: &self.bytes,
            at: 0,
            fault: false,
        };
        let mut documents = Vec::with_capacity(self.documents);
        for _ in 0..self.documents {
            let index = reader.len()?;
            let pointer_prefix = reader.str()?.to_string();
            let origin = match reader.byte()? {
                STREAM => Origin::Stream,
                LIST_ITEM => Origin::ListItem,
                TERRAFORM_PLAN => Origin::TerraformPlan {
                    address: reader.str()?.to_string(),
                },
                TERRAFORM_SOURCE => Origin::TerraformSource {
                    address: reader.str()?.to_string(),
                },
                _ => return None,
            };
            let root = reader.node();
            documents.push(Document {
                file,
                index,
                pointer_prefix,
                origin,
                root,
            });
        }
        (!reader.fault && reader.at == self.bytes.len()).then_some(documents)
    }
}

/// Unsigned integers (lengths, counts, indexes, span offsets) as LEB128: 7 bits a byte, the
/// high bit set on all but the last. Most are small, so most take one byte.
fn put_varint(bytes: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        bytes.push((n as u8) | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
}

fn put_len(bytes: &mut Vec<u8>, n: usize) {
    put_varint(bytes, n as u64);
}

fn put_str(bytes: &mut Vec<u8>, s: &str) {
    put_len(bytes, s.len());
    bytes.extend_from_slice(s.as_bytes());
}

fn put_node(bytes: &mut Vec<u8>, node: &Node) {
    let tag = match &node.value {
        Value::Null => NULL,
        Value::Bool(false) => FALSE,
        Value::Bool(true) => TRUE,
        Value::Int(_) => INT,
        Value::Float(_) => FLOAT,
        Value::Str(_) => STR,
        Value::Seq(_) => SEQ,
        Value::Map(_) => MAP,
    };
    bytes.push(tag);
    // The end as its distance from the start: short, except for a span that ends first
    // (none does, but what comes back must be what went in).
    put_varint(bytes, u64::from(node.span.start));
    put_varint(
        bytes,
        u64::from(node.span.end.wrapping_sub(node.span.start)),
    );
    match &node.value {
        Value::Null | Value::Bool(_) => {}
        // Zigzag, so small negative numbers are short too.
        Value::Int(i) => put_varint(bytes, ((i << 1) ^ (i >> 63)) as u64),
        Value::Float(f) => bytes.extend_from_slice(&f.to_bits().to_le_bytes()),
        Value::Str(s) => put_str(bytes, s),
        Value::Seq(items) => {
            put_len(bytes, items.len());
            for item in items.iter() {
                put_node(bytes, item);
            }
        }
        Value::Map(entries) => {
            put_len(bytes, entries.len());
            for entry in entries.iter() {
                put_node(bytes, &entry.key);
                put_node(bytes, &entry.value);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    fault: bool,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let end = self.at.checked_add(N)?;
        let taken = self.bytes.get(self.at..end)?.try_into().ok()?;
        self.at = end;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        let end = self.at.checked_add(len)?;
        let s = std::str::from_utf8(self.bytes.get(self.at..end)?).ok()?;
        self.at = end;
        Some(s)
    }

    /// A count of nodes to come, refused when the rest of the buffer could not hold them (each
    /// takes at least a tag and a span's two bytes), so a count is never trusted for an
    /// allocation.
    fn count(&mut self) -> Option<usize> {
        let count = self.len()?;
        (count <= self.bytes.len().saturating_sub(self.at) / 3).then_some(count)
    }

    /// The next node. A fault (which a buffer of [`Packed::new`] never has) gives `Null` and
    /// is remembered in `fault`: a container's items are then read by an iterator of known
    /// length, so each becomes one allocation of exactly its items, with no vector between.
    fn node(&mut self) -> Node {
        self.try_node().unwrap_or_else(|| {
            self.fault = true;
            Node::new(Value::Null, Span::default())
        })
    }

    fn try_node(&mut self) -> Option<Node> {
        if self.fault {
            return None;
        }
        let tag = self.byte()?;
        let start = self.u32()?;
        let span = Span::new(start, start.wrapping_add(self.u32()?));
        let value = match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => {
                let zigzag = self.varint()?;
                Value::Int((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
            }
            FLOAT => Value::Float(f64::from_bits(u64::from_le_bytes(self.take()?))),
            STR => Value::Str(CompactString::from(self.str()?)),
            SEQ => {
                let count = self.count()?;
                Value::Seq((0..count).map(|_| self.node()).collect())
            }
            MAP => {
                let count = self.count()?;
                Value::Map(
                    (0..count)
                        .map(|_| Entry {
                            key: self.node(),
                            value: self.node(),
                        })
                        .collect(),
                )
            }
            _ => return None,
        };
        Some(Node::new(value, span))
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests fail loudly")]
    use proptest::prelude::*;

    use super::*;
    use crate::source::{Limits, SourceFile, load};

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            // Bits, so NaNs of every payload and -0.0 come back as they went in.
            any::<u64>().prop_map(|b| Value::Float(f64::from_bits(b))),
            ".{0,40}".prop_map(|s| Value::Str(CompactString::from(s))),
        ]
    }

    fn spanned(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Node> {
        (value, any::<u32>(), any::<u32>()).prop_map(|(v, a, b)| Node::new(v, Span::new(a, b)))
    }

    fn node() -> impl Strategy<Value = Node> {
        spanned(leaf()).prop_recursive(5, 64, 6, |inner| {
            let items = prop::collection::vec(inner.clone(), 0..6);
            let entries = prop::collection::vec((inner.clone(), inner), 0..6);
            prop_oneof![
                spanned(items.prop_map(|i| Value::Seq(i.into()))),
                spanned(entries.prop_map(|e| {
                    Value::Map(
                        e.into_iter()
                            .map(|(key, value)| Entry { key, value })
                            .collect(),
                    )
                })),
            ]
        })
    }

    /// Equal as written: floats by their bits (`NaN != NaN` for `PartialEq`).
    fn same(a: &Node, b: &Node) -> bool {
        a.span == b.span
            && match (&a.value, &b.value) {
                (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
                (Value::Seq(x), Value::Seq(y)) => {
                    x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
                }
                (Value::Map(x), Value::Map(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y.iter())
                            .all(|(a, b)| same(&a.key, &b.key) && same(&a.value, &b.value))
                }
                (x, y) => x == y,
            }
    }

    proptest! {
        #[test]
        fn unpacks_what_was_packed(
            roots in prop::collection::vec(node(), 0..4),
            prefix in ".{0,12}",
            address in ".{0,12}",
        ) {
            let documents: Vec<Document> = roots
                .into_iter()
                .enumerate()
                .map(|(index, root)| Document {
                    file: 3,
                    index,
                    pointer_prefix: prefix.clone(),
                    origin: match index % 4 {
                        0 => Origin::Stream,
                        1 => Origin::ListItem,
                        2 => Origin::TerraformPlan { address: address.clone() },
                        _ => Origin::TerraformSource { address: address.clone() },
                    },
                    root,
                })
                .collect();
            let packed = Packed::new(&documents);
            prop_assert_eq!(packed.len(), documents.len());
            let unpacked = packed.unpack(7).unwrap();
            prop_assert_eq!(unpacked.len(), documents.len());
            for (before, after) in documents.iter().zip(&unpacked) {
                prop_assert_eq!(after.file, 7, "the file index is the caller's");
                prop_assert_eq!(after.index, before.index);
                prop_assert_eq!(&after.pointer_prefix, &before.pointer_prefix);
                prop_assert_eq!(&after.origin, &before.origin);
                prop_assert!(same(&after.root, &before.root));
            }
        }

        #[test]
        fn a_cut_or_mended_buffer_unpacks_to_nothing_rather_than_panicking(
            root in node(),
            cut in any::<prop::sample::Index>(),
            flip in any::<(prop::sample::Index, u8)>(),
        ) {
            let doc = Document { file: 0, index: 0, pointer_prefix: String::new(), origin: Origin::Stream, root };
            let packed = Packed::new(&[doc]);
            let mut cut_short = packed.clone();
            cut_short.bytes.truncate(cut.index(packed.bytes.len()));
            prop_assert!(cut_short.unpack(0).is_none());
            // Any byte changed: either refused or some documents; never a panic or a huge allocation.
            let mut mended = packed;
            let at = flip.0.index(mended.bytes.len());
            if let Some(b) = mended.bytes.get_mut(at) {
                *b ^= flip.1 | 1;
            }
            let _ = mended.unpack(0);
        }
    }

    #[test]
    fn aliases_come_back_as_the_values_rules_saw() {
        let text = "a: &x {k: [1, 2.5, on, ~, \"s\"]}\nb: *x\n";
        let source = SourceFile::new("a.yaml", text);
        let documents = load(0, &source, &Limits::default()).documents;
        let unpacked = Packed::new(&documents).unpack(0).unwrap();
        assert_eq!(unpacked.len(), 1);
        let (before, after) = (
            &documents.first().unwrap().root,
            &unpacked.first().unwrap().root,
        );
        assert_eq!(after, before);
        assert_eq!(after.get("b"), before.get("a"));
    }
}
