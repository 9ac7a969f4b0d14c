//! The policy's custom rules (`spec.rules[]`): each CEL `expression` runs with `object` bound
//! to every matching document, like a Kubernetes ValidatingAdmissionPolicy validation.
//!
//! `true` is compliant. `false` is a finding with the rule's `message` (or the string its
//! `messageExpression` gives), at the rule's severity, reported at the document's `kind`.
//! An expression that does not give a bool, or fails to evaluate (reading a field that is not
//! there without `has()`), is a finding too, saying so: an admission policy with the default
//! `failurePolicy: Fail` rejects the object in that case as well.

use cel::{Context, Value};

use crate::cel::value::schemaless;
use crate::diagnostic::Severity;
use crate::model::anchor_key;
use crate::model::policy::{CustomRule, Policy};
use crate::node::Span;
use crate::source::Document;

/// A custom rule's finding, before suppression.
#[derive(Debug)]
pub struct CustomFinding<'a> {
    pub rule: String,
    pub severity: Severity,
    pub doc: &'a Document,
    pub span: Span,
    pub pointer: String,
    pub message: String,
    pub help: Option<String>,
}

/// Runs every custom rule of `policy` on every document it matches.
#[must_use]
pub fn evaluate<'a>(policy: &Policy, documents: &'a [Document]) -> Vec<CustomFinding<'a>> {
    let mut out = Vec::new();
    if policy.rules.is_empty() {
        return out;
    }
    let context = Context::with_env(crate::cel::env());
    for doc in documents {
        if doc.kind().is_none() {
            continue;
        }
        let rules: Vec<&CustomRule> = policy
            .rules
            .iter()
            .filter(|r| r.matcher.matches(doc))
            .collect();
        if rules.is_empty() {
            continue;
        }
        let mut scope = context.new_inner_scope();
        scope.add_variable_from_value("object", schemaless(&doc.root.to_json()));
        let at = anchor_key(&doc.root, &[]);
        for rule in rules {
            // Every rule of a policy that was read is compiled.
            let Some(program) = rule.program() else {
                continue;
            };
            let (message, help) = match program.execute(&scope) {
                Ok(Value::Bool(true)) => continue,
                Ok(Value::Bool(false)) => (
                    message_of(rule, &scope),
                    format!("custom rule `{}` of the policy: `{}` is false for this object", rule.id, rule.expression),
                ),
                Ok(other) => (
                    format!("custom rule `{}` gives a {}, not a bool", rule.id, other.type_of()),
                    format!("make `{}` evaluate to `true` or `false`", rule.expression),
                ),
                Err(e) => (
                    format!("custom rule `{}` fails to evaluate: {}", rule.id, crate::cel::describe_error(&e)),
                    "guard optional fields with `has()`, e.g. `has(object.metadata.labels) && 'team' in object.metadata.labels`".to_string(),
                ),
            };
            out.push(CustomFinding {
                rule: rule.id.to_string(),
                severity: rule.severity,
                doc,
                span: at.span,
                pointer: doc.pointer(at),
                message,
                help: Some(help),
            });
        }
    }
    out
}

fn message_of(rule: &CustomRule, scope: &Context<'_, '_>) -> String {
    if let Some(expr) = rule.message_program()
        && let Ok(Value::String(s)) = expr.execute(scope)
        && !s.trim().is_empty()
    {
        return s.to_string();
    }
    rule.message
        .clone()
        .unwrap_or_else(|| format!("custom rule `{}` fails", rule.id))
}
