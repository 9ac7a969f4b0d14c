//! A `serde::Deserializer` over the spanned [`Node`] tree.
//!
//! It walks the tree the YAML or JSON reader built (so values are resolved the way the API
//! server resolves them, see `node.rs`), keeps the path from the root on the stack, and places
//! every error at the innermost node that failed: a key for an unknown field, the mapping for
//! a missing one, the value otherwise. [`Spanned`](super::Spanned) fields receive the span of
//! their node.

use serde::de::value::{BorrowedStrDeserializer, U32Deserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

use super::error::{DeError, Path, Role};
use super::spanned;
use crate::node::{Entry, Node, Value};

/// Deserializes one node (a value, or a mapping key when `role` is [`Role::Key`]).
pub(crate) struct NodeDeserializer<'a, 'p> {
    pub node: &'a Node,
    pub path: Path<'p>,
    pub role: Role,
}

impl<'a, 'p> NodeDeserializer<'a, 'p> {
    pub(crate) fn root(node: &'a Node) -> Self {
        Self {
            node,
            path: Path::Root,
            role: Role::Value,
        }
    }

    fn locate<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| e.locate(self.node, &self.path, self.role))
    }

    fn any<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(_) => visitor.visit_seq(SeqAccess {
                items: self.node.items().iter().enumerate(),
                path: &self.path,
            }),
            Value::Map(_) => visitor.visit_map(MapAccess {
                entries: self.node.entries().iter(),
                current: None,
                path: &self.path,
            }),
        }
    }
}

impl<'a> Deserializer<'a> for NodeDeserializer<'a, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        // A key that is not a string (`1: x`, `true: y`) is read as its text, as JSON has it.
        if self.role == Role::Key && !matches!(self.node.value, Value::Str(_)) {
            let text = self.node.scalar_text().unwrap_or_default();
            return self.locate(visitor.visit_string(text));
        }
        let result = self.any(visitor);
        self.locate(result)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = if self.node.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(NodeDeserializer {
                node: self.node,
                path: self.path,
                role: self.role,
            })
        };
        self.locate(result)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let _ = (name, fields);
        // A struct is a mapping: serde's structs also read lists (as tuples), eksgate's
        // documents write mappings. Anything else is the error the derived visitor would give,
        // without instantiating every `visit_*` call for each struct.
        let result = match &self.node.value {
            Value::Map(_) => visitor.visit_map(MapAccess {
                entries: self.node.entries().iter(),
                current: None,
                path: &self.path,
            }),
            _ => Err(de::Error::invalid_type(unexpected(self.node), &visitor)),
        };
        self.locate(result)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (node, path, role) = (self.node, self.path, self.role);
        let result = visitor.visit_newtype_struct(NodeDeserializer { node, path, role });
        self.locate(result)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Map(entries) if entries.len() == 1 => match entries.first() {
                Some(entry) => visitor.visit_enum(EnumAccess {
                    entry,
                    path: &self.path,
                }),
                None => self.any(visitor),
            },
            _ => self.any(visitor),
        };
        self.locate(result)
    }

    /// [`Spanned`](super::Spanned) asks for its span here (see spanned.rs).
    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == spanned::NAME {
            let result = visitor.visit_map(SpannedAccess {
                node: self.node,
                path: &self.path,
                role: self.role,
                next: 0,
            });
            return self.locate(result);
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple map identifier
    }
}

/// What a node is, in serde's words for a type error.
fn unexpected(node: &Node) -> de::Unexpected<'_> {
    match &node.value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Int(i) => de::Unexpected::Signed(*i),
        Value::Float(f) => de::Unexpected::Float(*f),
        Value::Str(s) => de::Unexpected::Str(s),
        Value::Seq(_) => de::Unexpected::Seq,
        Value::Map(_) => de::Unexpected::Map,
    }
}

struct SeqAccess<'a, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    path: &'p Path<'p>,
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'a, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((i, node)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Index(self.path, i);
        seed.deserialize(NodeDeserializer {
            node,
            path,
            role: Role::Value,
        })
        // A `deserialize_with` function or `Deserialize` impl may fail after reading the node.
        .map_err(|e| e.locate(node, &path, Role::Value))
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a, 'p> {
    entries: std::slice::Iter<'a, Entry>,
    current: Option<&'a Entry>,
    path: &'p Path<'p>,
}

impl<'a> de::MapAccess<'a> for MapAccess<'a, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        let path = Path::Key(self.path, &entry.key);
        seed.deserialize(NodeDeserializer {
            node: &entry.key,
            path,
            role: Role::Key,
        })
        .map_err(|e| e.locate(&entry.key, &path, Role::Key))
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.current.take() else {
            return Err(de::Error::custom("a value was read before its key"));
        };
        let path = Path::Key(self.path, &entry.key);
        seed.deserialize(NodeDeserializer {
            node: &entry.value,
            path,
            role: Role::Value,
        })
        .map_err(|e| e.locate(&entry.value, &path, Role::Value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A `{variant: value}` mapping read as an enum.
struct EnumAccess<'a, 'p> {
    entry: &'a Entry,
    path: &'p Path<'p>,
}

impl<'a: 'p, 'p> de::EnumAccess<'a> for EnumAccess<'a, 'p> {
    type Error = DeError;
    type Variant = NodeDeserializer<'a, 'p>;

    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let key = NodeDeserializer {
            node: &self.entry.key,
            path: Path::Key(self.path, &self.entry.key),
            role: Role::Key,
        };
        let variant = seed.deserialize(key)?;
        Ok((
            variant,
            NodeDeserializer {
                node: &self.entry.value,
                path: Path::Key(self.path, &self.entry.key),
                role: Role::Value,
            },
        ))
    }
}

impl<'a> de::VariantAccess<'a> for NodeDeserializer<'a, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }
}

/// The three fields [`Spanned`](super::Spanned) asks for: start, end, and the node's value.
struct SpannedAccess<'a, 'p> {
    node: &'a Node,
    path: &'p Path<'p>,
    role: Role,
    next: u8,
}

impl<'a> de::MapAccess<'a> for SpannedAccess<'a, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let key = match self.next {
            0 => spanned::START,
            1 => spanned::END,
            2 => spanned::VALUE,
            _ => return Ok(None),
        };
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let field = self.next;
        self.next += 1;
        match field {
            0 => seed.deserialize(U32Deserializer::new(self.node.span.start)),
            1 => seed.deserialize(U32Deserializer::new(self.node.span.end)),
            _ => seed.deserialize(NodeDeserializer {
                node: self.node,
                path: *self.path,
                role: self.role,
            }),
        }
    }
}
