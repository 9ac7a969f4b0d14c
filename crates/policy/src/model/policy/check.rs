//! What a policy's types cannot say, checked after it is read: class names and custom rule
//! IDs are unique, one class at most is the infrastructure, overrides name rules that exist,
//! custom rules take no built-in ID and their CEL compiles. Errors point at the field.

use std::sync::Arc;

use schemars::{Schema, SchemaGenerator, json_schema};

use super::{Compiled, CustomRule, Policy, RuleOverride, TaintEffect};
use crate::catalogue::{BUILTIN_RULE_IDS, is_builtin};
use crate::node::Span;
use crate::reader::{Checker, Spanned};
use crate::source::SourceFile;
use crate::text::closest_name;

/// Whether `id` may name a custom rule: `^[A-Z][A-Z0-9-]*[0-9]+$`.
#[must_use]
pub fn is_custom_rule_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && id.ends_with(|c: char| c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

/// The schema of `spec.overrides`: the built-in rule IDs to the override's schema.
pub(super) fn overrides_schema(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": {"enum": BUILTIN_RULE_IDS},
        "additionalProperties": generator.subschema_for::<RuleOverride>(),
    })
}

pub(super) fn policy(policy: &mut Policy, checker: &mut Checker<'_>) {
    let mut infrastructure: Option<&Spanned<String>> = None;
    for (i, class) in policy.pool_classes.iter().enumerate() {
        if policy
            .pool_classes
            .iter()
            .take(i)
            .any(|c| c.name == class.name)
        {
            checker.at(
                &class.name,
                format!("pool class `{}` is defined twice", class.name),
            );
        }
        if class.infrastructure {
            match infrastructure {
                Some(first) => checker.at(
                    &class.name,
                    format!(
                        "pool classes `{first}` and `{}` are both `infrastructure: true`; only one pool class may be",
                        class.name
                    ),
                ),
                None => infrastructure = Some(&class.name),
            }
        }
    }
    // A taint given without effects is satisfied by either fencing effect.
    for class in &mut policy.pool_classes {
        for taint in &mut class.taints {
            if taint.effects.is_empty() {
                taint.effects = vec![TaintEffect::NoSchedule, TaintEffect::NoExecute];
            }
        }
    }
    for (id, _) in policy.overrides.iter() {
        if !is_builtin(id) {
            let near = closest_name(id, BUILTIN_RULE_IDS)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            checker.at(
                id,
                format!("unknown rule `{id}` ({near}see `eksgate rules`)"),
            );
        }
    }
    for i in 0..policy.rules.len() {
        let Some(rule) = policy.rules.get(i) else {
            continue;
        };
        if policy.rules.iter().take(i).any(|r| r.id == rule.id) {
            checker.at(
                &rule.id,
                format!("custom rule `{}` is defined twice", rule.id),
            );
        }
        let compiled = custom_rule(rule, checker);
        if let Some(rule) = policy.rules.get_mut(i) {
            rule.compiled = compiled;
        }
    }
}

fn custom_rule(rule: &CustomRule, checker: &mut Checker<'_>) -> Option<Compiled> {
    let id = &rule.id;
    if !is_custom_rule_id(id) {
        checker.at(
            id,
            format!("custom rule ID `{id}` must be upper-case letters, digits and `-`, starting with a letter and ending with a digit (like `ACME001`)"),
        );
    } else if is_builtin(id) {
        checker.at(
            id,
            format!("custom rule ID `{id}` is a built-in rule's ID; choose another (`eksgate rules` lists them)"),
        );
    }
    if rule.message.is_none() && rule.message_expression.is_none() {
        checker.at(
            id,
            format!("custom rule `{id}` needs a `message` or a `messageExpression`"),
        );
    }
    let program = cel(checker, &rule.expression)?;
    let message = match &rule.message_expression {
        Some(m) => Some(Arc::new(cel(checker, m)?)),
        None => None,
    };
    Some(Compiled {
        program: Arc::new(program),
        message,
    })
}

/// Compiles a CEL expression of the policy; errors point into the expression's text.
fn cel(checker: &mut Checker<'_>, text: &Spanned<String>) -> Option<crate::cel::Program> {
    match crate::cel::compile(text) {
        Ok(program) => {
            let missing = crate::cel::refs::missing(program.expression(), &["object"]);
            if let Some(f) = missing.functions.first() {
                checker.at(text, format!("CEL function `{f}` is not supported (see `eksgate explain CEL001` for what is)"));
                return None;
            }
            if let Some(v) = missing.variables.first() {
                checker.at(
                    text,
                    format!("unknown variable `{v}` in CEL expression; the document is `object`"),
                );
                return None;
            }
            Some(program)
        }
        Err(e) => {
            let at = expression_offset(checker.source(), text.span, e.line, e.column);
            checker.error(
                Span::empty(at),
                format!("invalid CEL expression: {}", e.message),
            );
            None
        }
    }
}

/// The byte offset in `source` of `line`:`column` (1-based, characters) inside the string
/// scalar at `span`: plain and quoted scalars start on their own line (after the quote), block
/// scalars (`|`, `>`) on the line after the indicator, at the block's indentation.
fn expression_offset(source: &SourceFile, span: Span, line: usize, column: usize) -> u32 {
    let raw = source.slice(span);
    let (start_line, start_column) = source.line_col(span.start);
    // A block scalar's node starts at its content; its indicator ends the line before.
    let block = start_line > 1 && {
        let before = source.line_text(start_line - 1);
        let before = before.split(" #").next().unwrap_or("").trim_end();
        ["|", ">", "|-", "|+", ">-", ">+"]
            .iter()
            .any(|indicator| before.ends_with(indicator))
    };
    let quoted = raw.starts_with('"') || raw.starts_with('\'');
    let (file_line, first_column) = if block {
        (start_line + line.saturating_sub(1), start_column)
    } else if line <= 1 {
        (start_line, start_column + usize::from(quoted))
    } else {
        let file_line = start_line + line - 1;
        let indent = source
            .line_text(file_line)
            .chars()
            .take_while(|c| *c == ' ')
            .count();
        (file_line, indent + 1)
    };
    let Some(line_start) = source.line_start(file_line) else {
        return span.start;
    };
    let text = source.line_text(file_line);
    let target = first_column + column.saturating_sub(1);
    let byte = text
        .char_indices()
        .nth(target.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    line_start + u32::try_from(byte).unwrap_or(0)
}
