//! AWS tags on node classes: billing tags for chargeback, and tag syntax.

pub mod billing_class_mismatch;
pub mod billing_tag_missing;
pub mod billing_tag_value_invalid;
pub mod tag_key_reserved;
pub mod tag_syntax_invalid;
