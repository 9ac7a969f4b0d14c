//! [`Spanned`]: a value with the span of the text it was read from.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use crate::node::Span;
use crate::source::SourceFile;

/// The struct name by which [`Spanned`] asks the node deserializer for a span.
pub(crate) const NAME: &str = "$eksgate::Spanned";
pub(crate) const START: &str = "$eksgate::Spanned::start";
pub(crate) const END: &str = "$eksgate::Spanned::end";
pub(crate) const VALUE: &str = "$eksgate::Spanned::value";
pub(crate) const FIELDS: &[&str] = &[START, END, VALUE];

/// A value with the span of the text it was read from, so a later check or rule can point
/// at it (`file:line:column` through [`Spanned::line_col`], the JSON pointer through the
/// document). Compares, orders and hashes by value only, like `serde_spanned`: two equal
/// names written in two places are the same name.
///
/// It dereferences to the value, so `spanned.len()` or `spanned.as_str()` read through it. In
/// the JSON Schema it is the value's schema.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    #[must_use]
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    #[must_use]
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The 1-based line and column where the value starts in `source`.
    #[must_use]
    pub fn line_col(&self, source: &SourceFile) -> (usize, usize) {
        source.line_col(self.span.start)
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Spanned<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> AsRef<T> for Spanned<T> {
    fn as_ref(&self) -> &T {
        &self.value
    }
}

impl Borrow<str> for Spanned<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: PartialOrd> PartialOrd for Spanned<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Ord> Ord for Spanned<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T: Hash> Hash for Spanned<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl PartialEq<str> for Spanned<String> {
    fn eq(&self, other: &str) -> bool {
        self.value == other
    }
}

impl PartialEq<&str> for Spanned<String> {
    fn eq(&self, other: &&str) -> bool {
        self.value == *other
    }
}

impl PartialEq<String> for Spanned<String> {
    fn eq(&self, other: &String) -> bool {
        &self.value == other
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read from a document with spans")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let mut start = None;
                let mut end = None;
                let mut value = None;
                while let Some(key) = map.next_key::<&str>()? {
                    match key {
                        START => start = Some(map.next_value::<u32>()?),
                        END => end = Some(map.next_value::<u32>()?),
                        VALUE => value = Some(map.next_value::<T>()?),
                        other => {
                            return Err(de::Error::custom(format!(
                                "`{other}` is not part of a spanned value; spans come only from eksgate's document reader"
                            )));
                        }
                    }
                }
                match (start, end, value) {
                    (Some(start), Some(end), Some(value)) => {
                        Ok(Spanned::new(value, Span::new(start, end)))
                    }
                    _ => Err(de::Error::custom(
                        "a spanned value needs its start, end and value",
                    )),
                }
            }
        }

        // Asked as a tuple struct, which no document type is: the node deserializer answers
        // only this call with a span, so the derived structs' own calls carry no span code.
        deserializer.deserialize_tuple_struct(
            NAME,
            FIELDS.len(),
            SpannedVisitor(std::marker::PhantomData),
        )
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}
