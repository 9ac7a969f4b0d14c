//! The schemas eksgate ships (filled in by the schema work of issue #4).

use std::sync::OnceLock;

use crate::schema::SchemaSet;

pub(crate) fn schemas() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(SchemaSet::default)
}
