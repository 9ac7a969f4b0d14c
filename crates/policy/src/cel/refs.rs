//! Static check of a CEL program's references, before it is evaluated.
//!
//! The `cel` crate has no type checker: a call to a function it does not know only fails when
//! evaluation reaches it, and a rule whose failing branch is never taken would look satisfied.
//! So every function a program names (`x.find(..)`, `sets.contains(..)`, `quantity(..)`) is
//! checked against the engine first, and a rule that needs a missing one is reported as not
//! evaluable offline, never given a verdict.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// What a program needs that eksgate cannot give it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// Functions the engine does not implement (`quantity`, `url`, ...), sorted.
    pub functions: Vec<String>,
    /// Variables that are neither declared nor bound by a macro (`authorizer`, ...), sorted.
    pub variables: Vec<String>,
}

impl Missing {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.variables.is_empty()
    }

    /// `function `quantity` is not supported` (the first problem, for a message).
    #[must_use]
    pub fn describe(&self) -> String {
        if let Some(f) = self.functions.first() {
            format!("function `{f}` is not supported")
        } else if let Some(v) = self.variables.first() {
            format!("variable `{v}` is not available")
        } else {
            String::new()
        }
    }
}

/// The functions and variables `expr` uses that the engine lacks; `declared` are the variables
/// the program is given (`self`, `object`, ...).
#[must_use]
pub fn missing(expr: &IdedExpr, declared: &[&str]) -> Missing {
    let mut walker = Walker {
        scopes: declared.iter().map(|s| (*s).to_string()).collect(),
        functions: BTreeSet::new(),
        variables: BTreeSet::new(),
    };
    walker.walk(expr);
    Missing {
        functions: walker
            .functions
            .into_iter()
            .filter(|(name, member)| !is_supported(name, *member))
            .map(|(name, _)| name)
            .collect(),
        variables: walker.variables.into_iter().collect(),
    }
}

struct Walker {
    /// Names in scope (declared variables, then macro variables, innermost last).
    scopes: Vec<String>,
    /// (name, called on a target) of every function call.
    functions: BTreeSet<(String, bool)>,
    variables: BTreeSet<String>,
}

impl Walker {
    fn bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s == name)
    }

    fn walk(&mut self, expr: &IdedExpr) {
        match &expr.expr {
            Expr::Call(call) => {
                let operator = call.func_name.starts_with('_')
                    || call
                        .func_name
                        .rsplit('.')
                        .next()
                        .is_some_and(|f| f.starts_with('@'))
                    || call.func_name.starts_with("!_")
                    || call.func_name.starts_with("-_");
                match call.target.as_deref() {
                    // `sets.contains(..)`: a namespaced function, not a method of a variable.
                    Some(IdedExpr {
                        expr: Expr::Ident(ns),
                        ..
                    }) if !self.bound(ns) => {
                        if !operator {
                            self.functions
                                .insert((format!("{ns}.{}", call.func_name), false));
                        }
                    }
                    Some(target) => {
                        if !operator {
                            self.functions.insert((call.func_name.clone(), true));
                        }
                        self.walk(target);
                    }
                    None => {
                        if !operator {
                            self.functions.insert((call.func_name.clone(), false));
                        }
                    }
                }
                for arg in &call.args {
                    self.walk(arg);
                }
            }
            Expr::Comprehension(comp) => {
                self.walk(&comp.iter_range);
                self.walk(&comp.accu_init);
                let depth = self.scopes.len();
                self.scopes.push(comp.iter_var.clone());
                if let Some(v) = &comp.iter_var2 {
                    self.scopes.push(v.clone());
                }
                self.scopes.push(comp.accu_var.clone());
                self.walk(&comp.loop_cond);
                self.walk(&comp.loop_step);
                self.walk(&comp.result);
                self.scopes.truncate(depth);
            }
            Expr::Ident(name) => {
                if !name.starts_with('@') && !self.bound(name) && !is_builtin_ident(name) {
                    self.variables.insert(name.clone());
                }
            }
            Expr::List(list) => {
                for e in &list.elements {
                    self.walk(e);
                }
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    match &entry.expr {
                        EntryExpr::StructField(f) => self.walk(&f.value),
                        EntryExpr::MapEntry(e) => {
                            self.walk(&e.key);
                            self.walk(&e.value);
                        }
                    }
                }
            }
            Expr::Select(select) => self.walk(&select.operand),
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.walk(&f.value);
                    }
                }
            }
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

/// Type names and constants an expression may name (`int`, `string`, `null_type`, ...).
fn is_builtin_ident(name: &str) -> bool {
    matches!(
        name,
        "int"
            | "uint"
            | "double"
            | "bool"
            | "string"
            | "bytes"
            | "list"
            | "map"
            | "type"
            | "null_type"
            | "dyn"
            | "optional_type"
    )
}

thread_local! {
    static PROBED: RefCell<HashMap<(String, bool), bool>> = RefCell::new(HashMap::new());
}

/// Whether the engine has a function of this name (as a method when `member`). Found by
/// calling it without arguments: an unknown function fails with "undeclared reference", a
/// known one with a wrong-arguments error.
#[must_use]
pub fn is_supported(name: &str, member: bool) -> bool {
    if super::k8s::UNSUPPORTED.contains(&name) {
        return false;
    }
    let key = (name.to_string(), member);
    if let Some(known) = PROBED.with(|p| p.borrow().get(&key).copied()) {
        return known;
    }
    let valid_name = name.split('.').all(|part| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    let supported = valid_name && {
        let probe = if member {
            format!("null.{name}()")
        } else {
            format!("{name}()")
        };
        match super::compile(&probe) {
            Ok(program) => {
                let context = cel::Context::with_env(super::env());
                !matches!(
                    program.execute(&context),
                    Err(cel::ExecutionError::UndeclaredReference(_))
                )
            }
            Err(_) => false,
        }
    };
    PROBED.with(|p| p.borrow_mut().insert(key, supported));
    supported
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn missing_in(source: &str) -> Missing {
        let program = crate::cel::compile(source).unwrap();
        missing(program.expression(), &["self"])
    }

    #[test]
    fn finds_unsupported_functions_on_any_branch() {
        let m = missing_in("true || quantity(self.x).isGreaterThan(quantity('1'))");
        assert_eq!(m.functions, vec!["isGreaterThan", "quantity"]);
        assert_eq!(m.describe(), "function `isGreaterThan` is not supported");
        assert_eq!(
            missing_in("self.all(x, url(x).getHost() != '')").functions,
            vec!["getHost", "url"]
        );
        assert_eq!(
            missing_in("sets.unknown([1], [2])").functions,
            vec!["sets.unknown"]
        );
    }

    #[test]
    fn supported_functions_pass() {
        for source in [
            "self.find('^([^/]+)').endsWith('karpenter.sh')",
            "self.all(k, k != '' && self[k] != '')",
            "self.split('@')[0] in ['al2', 'al2023']",
            "self.filter(x, has(x.rootVolume) ? x.rootVolume == true : false).size() <= 1",
            "int(self.values[0]) >= 0 && self.matches('^a') && size(self) > 0",
            "sets.contains(self, [1]) && [1].isSorted() && [1].sum() == 1",
            "cel.bind(v, self.size(), v > 0)",
            "self.exists_one(x, x == 1) && self.map(x, x + 1).size() == 1",
            "self.?a.orValue(1) == 1 && type(self) == list && string(1) == '1'",
            "'a'.lowerAscii() == 'a' && ['a'].join(',') == 'a' && math.greatest(1, 2) == 2",
        ] {
            assert!(
                missing_in(source).is_empty(),
                "{source}: {:?}",
                missing_in(source)
            );
        }
    }

    #[test]
    fn unbound_variables_are_reported() {
        let m = missing_in("authorizer.group('x') != null || oldSelf == self");
        assert_eq!(m.variables, vec!["oldSelf"]);
        assert_eq!(m.functions, vec!["authorizer.group"]);
    }
}
