//! The IDs of the built-in rules, for the layers below `rules/`.
//!
//! The policy reader refuses overrides of rules that do not exist and custom rules that take a
//! built-in ID, and the policy's JSON Schema lists the IDs an override may name; none of them
//! may import the rules themselves (which read the policy). The registry in `rules/mod.rs` is
//! the source of truth: a test there holds this list equal to it, in the same order.

/// Every built-in rule ID, in the order `eksgate rules` lists them.
pub const BUILTIN_RULE_IDS: &[&str] = &[
    "YAML001", "YAML002", "YAML003", "YAML004", "SUP001", "API001", "SCH001", "SCH002", "CEL001",
    "IMDS001", "IMDS002", "ENC001", "ENC002", "SEP001", "SEP002", "SEP003", "SEP004", "SEP005",
    "SEP006", "TAG001", "TAG002", "TAG003", "TAG004", "TAG005", "REF001", "REF002", "KARP001",
    "KARP002", "KARP003", "ORD001", "ORD002", "ORD003", "ORD004", "TF001", "REQ001",
];

/// Whether `id` is a built-in rule's ID.
#[must_use]
pub fn is_builtin(id: &str) -> bool {
    BUILTIN_RULE_IDS.contains(&id)
}
