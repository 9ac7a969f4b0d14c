//! The `x-kubernetes-validations` rules of a CRD schema: compiled once per schema, evaluated on
//! every node they are attached to.
//!
//! A rule is attached to a schema node; `self` is the value at that node. Rules under `items`
//! apply to each element of the array, rules under `additionalProperties` to each value of the
//! map. Rules that read `oldSelf` (transition rules) only run on updates and are skipped.
//!
//! Where a rule says "every element" (`self.all(x, P)`) or "no element" (`!self.exists(x, P)`),
//! the finding points at the element that breaks it, not at the whole list or map.
//!
//! Evaluation errors are findings only when the values alone cause them (`int('x')`, an index
//! past the end, a division by zero): the API server fails the same way and rejects the object.
//! Any other error (no such key, no matching overload) may come from eksgate's model of the
//! object, so the rule is reported as not evaluable, at `info`, and not at all when the value
//! under the rule already breaks its schema (a wrong type or a missing required field: SCH001
//! reports that).

use std::sync::Arc;

use cel::common::ast::{Expr, IdedExpr, LiteralValue, operators};
use cel::{Context, Value};
use serde_json::Value as J;

use super::Program;
use super::refs::{self, Missing};
use super::value::from_json;
use crate::node::Node;

/// One step from a schema node to a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Property(String),
    /// Each element of an array.
    Items,
    /// Each value of a map (`additionalProperties`).
    Additional,
}

/// A schema node that carries rules.
#[derive(Debug)]
pub struct Site {
    pub path: Vec<Step>,
    /// The schema node itself (types, defaults and pruning of `self`).
    pub schema: J,
    pub rules: Vec<CompiledRule>,
}

impl Site {
    /// `spec.template.spec.requirements[].key`, `spec.tags`, `<root>`.
    #[must_use]
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                Step::Property(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Step::Items => out.push_str("[]"),
                Step::Additional => out.push_str("{*}"),
            }
        }
        if out.is_empty() {
            "<root>".to_string()
        } else {
            out
        }
    }
}

/// One `x-kubernetes-validations` entry.
#[derive(Debug)]
pub struct CompiledRule {
    pub rule: String,
    pub message: Option<String>,
    pub message_expression: Option<Program>,
    /// `fieldPath`: where the API server reports a failure, relative to `self`.
    pub field_path: Option<String>,
    pub state: RuleState,
}

/// Whether and how a rule can be evaluated.
#[derive(Debug)]
pub enum RuleState {
    /// Reads `oldSelf`: only evaluated on updates.
    Transition,
    /// Does not compile (the API server would not have accepted the CRD).
    Invalid(String),
    /// Needs functions or variables eksgate does not have.
    Missing(Missing),
    Ready {
        program: Program,
        blame: Option<Blame>,
    },
}

/// `self.all(var, body)` (report the elements where `body` is false) or
/// `!self.exists(var, body)` (report those where it is true).
#[derive(Debug)]
pub struct Blame {
    pub var: String,
    pub body: IdedExpr,
    /// The value of `body` that breaks the rule.
    pub breaks_when: bool,
}

/// Every rule of one schema, compiled.
#[derive(Debug, Default)]
pub struct CompiledSchema {
    pub sites: Vec<Site>,
}

impl CompiledSchema {
    /// Finds and compiles every rule of `openapi` (an `openAPIV3Schema`).
    #[must_use]
    pub fn compile(openapi: &J) -> Self {
        let mut sites = Vec::new();
        collect(openapi, &mut Vec::new(), &mut sites, 0);
        Self { sites }
    }

    /// Whether any rule is attached anywhere.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// Evaluates every rule on `root` (the document; `json` is `root.to_json()`).
    pub fn evaluate<'n>(&self, root: &'n Node, json: &J, sink: &mut dyn FnMut(Outcome<'n, '_>)) {
        if self.sites.is_empty() {
            return;
        }
        let context = Context::with_env(super::env());
        let top = root.entry("kind").map_or(root, |e| &e.key);
        for site in &self.sites {
            let mut targets = Vec::new();
            find_targets(root, json, top, &site.path, &mut targets);
            for target in targets {
                evaluate_site(site, &target, &context, sink);
            }
        }
    }
}

/// What evaluating a rule at a node gave, when it is worth saying.
#[derive(Debug)]
pub struct Outcome<'n, 's> {
    /// Where to report.
    pub at: &'n Node,
    pub site: &'s Site,
    pub rule: &'s CompiledRule,
    pub kind: OutcomeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    /// The rule is false: the API server rejects the object with `message`.
    Failed { message: String },
    /// The rule could not be evaluated offline; `reason` says why.
    NotEvaluable { reason: String },
}

const DEPTH_LIMIT: usize = 64;

fn collect(schema: &J, path: &mut Vec<Step>, sites: &mut Vec<Site>, depth: usize) {
    if depth > DEPTH_LIMIT {
        return;
    }
    if let Some(list) = schema.get("x-kubernetes-validations").and_then(J::as_array) {
        let rules: Vec<CompiledRule> = list.iter().filter_map(compile_rule).collect();
        if !rules.is_empty() {
            let mut node = schema.clone();
            // The node's own rules are evaluated here; its children keep theirs.
            if let Some(obj) = node.as_object_mut() {
                obj.remove("x-kubernetes-validations");
            }
            sites.push(Site {
                path: path.clone(),
                schema: node,
                rules,
            });
        }
    }
    if let Some(properties) = schema.get("properties").and_then(J::as_object) {
        for (name, child) in properties {
            path.push(Step::Property(name.clone()));
            collect(child, path, sites, depth + 1);
            path.pop();
        }
    }
    if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
        path.push(Step::Items);
        collect(items, path, sites, depth + 1);
        path.pop();
    }
    if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        path.push(Step::Additional);
        collect(additional, path, sites, depth + 1);
        path.pop();
    }
}

fn compile_rule(entry: &J) -> Option<CompiledRule> {
    let rule = entry.get("rule")?.as_str()?.to_string();
    let text = |key: &str| entry.get(key).and_then(J::as_str).map(str::to_string);
    let message_expression = text("messageExpression").and_then(|m| super::compile(&m).ok());
    let state = match super::compile(&rule) {
        Err(e) => RuleState::Invalid(e.to_string()),
        Ok(program) => {
            let mut missing = refs::missing(program.expression(), &["self"]);
            if missing.variables.iter().any(|v| v == "oldSelf") {
                RuleState::Transition
            } else if !missing.is_empty() {
                missing.variables.retain(|v| v != "oldSelf");
                RuleState::Missing(missing)
            } else {
                let blame = blame_of(program.expression());
                RuleState::Ready { program, blame }
            }
        }
    };
    Some(CompiledRule {
        rule,
        message: text("message"),
        message_expression,
        field_path: text("fieldPath"),
        state,
    })
}

fn is_self(expr: &IdedExpr) -> bool {
    matches!(&expr.expr, Expr::Ident(name) if name == "self")
}

/// Recognises the macro expansions of `self.all(x, P)` and `!self.exists(x, P)`.
fn blame_of(expr: &IdedExpr) -> Option<Blame> {
    let (comprehension, negated) = match &expr.expr {
        Expr::Comprehension(c) => (c, false),
        Expr::Call(call) if call.func_name == operators::LOGICAL_NOT && call.target.is_none() => {
            match call.args.as_slice() {
                [
                    IdedExpr {
                        expr: Expr::Comprehension(c),
                        ..
                    },
                ] => (c, true),
                _ => return None,
            }
        }
        _ => return None,
    };
    if !is_self(&comprehension.iter_range) || comprehension.iter_var2.is_some() {
        return None;
    }
    let Expr::Literal(LiteralValue::Boolean(init)) = &comprehension.accu_init.expr else {
        return None;
    };
    let init = *init.inner();
    let Expr::Call(step) = &comprehension.loop_step.expr else {
        return None;
    };
    let [accu, body] = step.args.as_slice() else {
        return None;
    };
    if !matches!(&accu.expr, Expr::Ident(a) if *a == comprehension.accu_var) {
        return None;
    }
    let is_all = init && step.func_name == operators::LOGICAL_AND;
    let is_exists = !init && step.func_name == operators::LOGICAL_OR;
    let breaks_when = match (is_all, is_exists, negated) {
        (true, _, false) => false,
        (_, true, true) => true,
        _ => return None,
    };
    Some(Blame {
        var: comprehension.iter_var.clone(),
        body: body.clone(),
        breaks_when,
    })
}

/// A node a site's rules run on.
struct Target<'n, 'j> {
    node: &'n Node,
    json: &'j J,
    /// Where to report (the key of a mapping or list value, the value itself for scalars).
    anchor: &'n Node,
}

/// Where to report a rule on a mapping value: its key for a mapping or list, the value itself
/// for a scalar.
#[must_use]
pub fn anchor_of<'n>(key: &'n Node, value: &'n Node) -> &'n Node {
    if value.as_map().is_some() || value.as_seq().is_some() {
        key
    } else {
        value
    }
}

fn find_targets<'n, 'j>(
    node: &'n Node,
    json: &'j J,
    anchor: &'n Node,
    path: &[Step],
    out: &mut Vec<Target<'n, 'j>>,
) {
    let Some((step, rest)) = path.split_first() else {
        out.push(Target { node, json, anchor });
        return;
    };
    match step {
        Step::Property(name) => {
            if let (Some(entry), Some(child)) = (node.entry(name), json.get(name.as_str())) {
                find_targets(
                    &entry.value,
                    child,
                    anchor_of(&entry.key, &entry.value),
                    rest,
                    out,
                );
            }
        }
        Step::Items => {
            if let (Some(items), Some(array)) = (node.as_seq(), json.as_array()) {
                for (item, child) in items.iter().zip(array) {
                    find_targets(item, child, item, rest, out);
                }
            }
        }
        Step::Additional => {
            for entry in node.entries() {
                let key = entry.key.scalar_text().unwrap_or_default();
                if let Some(child) = json.get(key.as_str()) {
                    find_targets(
                        &entry.value,
                        child,
                        anchor_of(&entry.key, &entry.value),
                        rest,
                        out,
                    );
                }
            }
        }
    }
}

fn evaluate_site<'n, 's>(
    site: &'s Site,
    target: &Target<'n, '_>,
    context: &Context<'_, '_>,
    sink: &mut dyn FnMut(Outcome<'n, 's>),
) {
    if target.json.is_null() {
        return; // dropped before validation (or `nullable`, where rules do not run on null)
    }
    let mut mismatch = false;
    let value = from_json(target.json, Some(&site.schema), &mut mismatch);
    let mut scope = context.new_inner_scope();
    scope.add_variable_from_value("self", value.clone());
    for rule in &site.rules {
        let mut emit = |at: &'n Node, kind: OutcomeKind| {
            sink(Outcome {
                at,
                site,
                rule,
                kind,
            });
        };
        match &rule.state {
            RuleState::Transition => {}
            RuleState::Invalid(error) => emit(
                target.anchor,
                OutcomeKind::NotEvaluable {
                    reason: format!("the rule does not compile: {error}"),
                },
            ),
            RuleState::Missing(missing) => emit(
                target.anchor,
                OutcomeKind::NotEvaluable {
                    reason: format!("rule cannot be evaluated offline: {}", missing.describe()),
                },
            ),
            RuleState::Ready { program, blame } => {
                let failed = |emit: &mut dyn FnMut(&'n Node, OutcomeKind), at: &'n Node| {
                    let message = message_of(rule, &scope);
                    let at = rule
                        .field_path
                        .as_deref()
                        .and_then(|p| follow_field_path(target.node, p))
                        .unwrap_or(at);
                    emit(at, OutcomeKind::Failed { message });
                };
                let not_evaluable =
                    |emit: &mut dyn FnMut(&'n Node, OutcomeKind), at: &'n Node, reason: String| {
                        if !mismatch {
                            emit(
                                at,
                                OutcomeKind::NotEvaluable {
                                    reason: format!("rule cannot be evaluated offline: {reason}"),
                                },
                            );
                        }
                    };
                // An error that the data alone causes (`int('x')`, an index past the end) fails
                // the same way in the API server, which then rejects the object; any other error
                // may come from eksgate's model of the object and is not a verdict.
                let errored = |emit: &mut dyn FnMut(&'n Node, OutcomeKind),
                               at: &'n Node,
                               e: &cel::ExecutionError| {
                    if is_data_error(e) {
                        let message = format!(
                            "{} (the rule fails to evaluate: {})",
                            message_of(rule, &scope),
                            super::describe_error(e)
                        );
                        emit(at, OutcomeKind::Failed { message });
                    } else {
                        not_evaluable(emit, at, super::describe_error(e));
                    }
                };
                match (blame, &value) {
                    (Some(blame), Value::List(items)) => {
                        let nodes = target.node.items();
                        for (item, node) in items.iter().zip(nodes) {
                            let mut inner = scope.new_inner_scope();
                            inner.add_variable_from_value(blame.var.as_str(), item.clone());
                            match Value::resolve(&blame.body, &inner) {
                                Ok(Value::Bool(b)) if b == blame.breaks_when => {
                                    failed(&mut emit, node);
                                }
                                Ok(Value::Bool(_)) => {}
                                Ok(other) => not_evaluable(
                                    &mut emit,
                                    node,
                                    format!("the rule gives a {}, not a bool", other.type_of()),
                                ),
                                Err(e) => errored(&mut emit, node, &e),
                            }
                        }
                    }
                    (Some(blame), Value::Map(map)) => {
                        for entry in target.node.entries() {
                            let Some(key) = entry.key.scalar_text() else {
                                continue;
                            };
                            let key = Arc::new(key);
                            if !map
                                .map
                                .contains_key(&cel::objects::Key::String(Arc::clone(&key)))
                            {
                                continue; // pruned
                            }
                            let mut inner = scope.new_inner_scope();
                            inner.add_variable_from_value(blame.var.as_str(), Value::String(key));
                            match Value::resolve(&blame.body, &inner) {
                                Ok(Value::Bool(b)) if b == blame.breaks_when => {
                                    failed(&mut emit, &entry.key);
                                }
                                Ok(Value::Bool(_)) => {}
                                Ok(other) => not_evaluable(
                                    &mut emit,
                                    &entry.key,
                                    format!("the rule gives a {}, not a bool", other.type_of()),
                                ),
                                Err(e) => errored(&mut emit, &entry.key, &e),
                            }
                        }
                    }
                    _ => match program.execute(&scope) {
                        Ok(Value::Bool(true)) => {}
                        Ok(Value::Bool(false)) => failed(&mut emit, target.anchor),
                        Ok(other) => not_evaluable(
                            &mut emit,
                            target.anchor,
                            format!("the rule gives a {}, not a bool", other.type_of()),
                        ),
                        Err(e) => errored(&mut emit, target.anchor, &e),
                    },
                }
            }
        }
    }
}

/// Errors that come from the values alone, whatever the engine: the API server's evaluation
/// fails the same way.
fn is_data_error(e: &cel::ExecutionError) -> bool {
    matches!(
        e,
        cel::ExecutionError::FunctionError { .. }
            | cel::ExecutionError::IndexOutOfBounds(_)
            | cel::ExecutionError::DivisionByZero(_)
            | cel::ExecutionError::RemainderByZero(_)
            | cel::ExecutionError::Overflow(..)
    )
}

/// The message the API server answers with: `messageExpression`, else `message`, else
/// `failed rule: <rule>`.
fn message_of(rule: &CompiledRule, scope: &Context<'_, '_>) -> String {
    if let Some(expr) = &rule.message_expression
        && let Ok(Value::String(s)) = expr.execute(scope)
        && !s.trim().is_empty()
    {
        return s.to_string();
    }
    match &rule.message {
        Some(m) if !m.is_empty() => m.clone(),
        _ => format!("failed rule: {}", rule.rule),
    }
}

/// Follows a `fieldPath` (`.spec.foo`, `.items['a.b']`, `.list[0]`) from `node`.
fn follow_field_path<'n>(node: &'n Node, path: &str) -> Option<&'n Node> {
    let mut current = node;
    let mut anchor = node;
    let mut rest = path.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let (name, tail) = after.split_at(end);
            let entry = current.entry(name)?;
            anchor = anchor_of(&entry.key, &entry.value);
            current = &entry.value;
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let (inside, tail) = after.split_at(end);
            rest = tail.strip_prefix(']').unwrap_or(tail);
            let inside = inside.trim();
            if let Ok(index) = inside.parse::<usize>() {
                current = current.items().get(index)?;
                anchor = current;
            } else {
                let name = inside.trim_matches(|c| c == '\'' || c == '"');
                let entry = current.entry(name)?;
                anchor = anchor_of(&entry.key, &entry.value);
                current = &entry.value;
            }
        } else {
            return None;
        }
    }
    Some(anchor)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use crate::source::{Limits, SourceFile, load};
    use serde_json::json;

    fn outcomes(schema: &J, yaml: &str) -> Vec<(usize, OutcomeKind)> {
        let compiled = CompiledSchema::compile(schema);
        let source = SourceFile::new("t.yaml", yaml);
        let loaded = load(0, &source, &Limits::default());
        let doc = &loaded.documents[0];
        let json = doc.root.to_json();
        let mut out = Vec::new();
        compiled.evaluate(&doc.root, &json, &mut |o| {
            out.push((source.line_col(o.at.span.start).0, o.kind));
        });
        out
    }

    fn failed(message: &str) -> OutcomeKind {
        OutcomeKind::Failed {
            message: message.to_string(),
        }
    }

    #[test]
    fn rules_on_items_and_map_values_point_at_the_offending_element() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "labels": {"type": "object", "additionalProperties": {"type": "string"},
                "x-kubernetes-validations": [{"rule": "self.all(x, !x.find('^([^/]+)').endsWith('karpenter.sh'))",
                                              "message": "restricted"}]},
            "reqs": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'bad'", "message": "bad key"}]}}},
                "x-kubernetes-validations": [{"rule": "!self.exists(x, has(x.key) && x.key == 'worse')", "message": "worse"}]}
        }}}});
        let yaml = "spec:\n  labels:\n    ok: a\n    karpenter.sh/x: b\n  reqs:\n    - key: good\n    - key: bad\n    - key: worse\n";
        let mut got = outcomes(&schema, yaml);
        got.sort_by_key(|(line, _)| *line);
        assert_eq!(
            got,
            vec![
                (4, failed("restricted")),
                (7, failed("bad key")),
                (8, failed("worse"))
            ]
        );
    }

    #[test]
    fn transition_rules_are_skipped_and_missing_functions_named() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"q": {"type": "string"}},
            "x-kubernetes-validations": [
                {"rule": "self.q == oldSelf.q", "message": "immutable"},
                {"rule": "quantity(self.q).isLessThan(quantity('1Gi'))", "message": "too big"}]}}});
        let got = outcomes(&schema, "spec:\n  q: 2Gi\n");
        assert_eq!(
            got,
            vec![(
                1,
                OutcomeKind::NotEvaluable {
                    reason:
                        "rule cannot be evaluated offline: function `isLessThan` is not supported"
                            .to_string()
                }
            )]
        );
    }

    #[test]
    fn errors_are_not_findings_and_defaults_apply() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"num": {"type": "integer"}, "d": {"type": "string", "default": "x"}},
            "x-kubernetes-validations": [
                {"rule": "self.missing == 1", "message": "m"},
                {"rule": "self.d == 'x'", "message": "defaulted"},
                {"rule": "self.num > 1", "messageExpression": "'num is ' + string(self.num)", "fieldPath": ".num"}]}}});
        let got = outcomes(&schema, "spec:\n  num: 1\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            matches!(&got[0], (1, OutcomeKind::NotEvaluable { reason }) if reason.contains("No such key"))
        );
        assert_eq!(got[1], (2, failed("num is 1")));
        // A value of the wrong type: SCH001's business, no CEL noise.
        let got = outcomes(&schema, "spec:\n  num: 'one'\n");
        assert!(
            got.iter()
                .all(|(_, k)| !matches!(k, OutcomeKind::NotEvaluable { .. })),
            "{got:?}"
        );
    }
}
