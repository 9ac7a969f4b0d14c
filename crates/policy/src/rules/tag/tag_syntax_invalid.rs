use crate::rules::{Rule, declare_rule};

declare_rule! {
    /// A tag breaks AWS tag syntax.
    pub TagSyntaxInvalid { id: "TAG003", name: "tag-syntax-invalid", severity: Error }
}

impl Rule for TagSyntaxInvalid {}
