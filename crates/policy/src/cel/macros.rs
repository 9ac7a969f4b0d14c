//! The macros eksgate's CEL environment adds to the standard ones, expanded after parsing.
//!
//! The Pratt parser [`super::program`] compiles with expands only CEL's standard macros (`has`,
//! `all`, `exists`, `exists_one`, `map`, `filter`); these are expanded here into the trees the
//! `cel` crate's own expanders build (the differential tests in [`super::program`] hold them to
//! the ANTLR parser's, which runs those expanders).

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, ListExpr, LiteralValue, MapExpr,
    StructExpr, operators,
};

/// Expands, innermost first as a parser does, the macros eksgate's environment adds to CEL's
/// standard ones (which the Pratt parser expands itself): `cel.bind` (registered in
/// [`super::k8s`]), the `math` extension's `math.greatest` and `math.least`, and the `lists`
/// extension's `sortBy`, each into the tree the `cel` crate's own expander builds for it.
pub(super) fn expand(expr: &mut IdedExpr, next_id: &mut u64) -> Result<(), MacroError> {
    match &mut expr.expr {
        Expr::Call(call) => {
            if let Some(target) = call.target.as_deref_mut() {
                expand(target, next_id)?;
            }
            for arg in &mut call.args {
                expand(arg, next_id)?;
            }
        }
        Expr::Comprehension(c) => {
            for e in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                expand(e, next_id)?;
            }
        }
        Expr::List(list) => {
            for e in &mut list.elements {
                expand(e, next_id)?;
            }
        }
        Expr::Map(MapExpr { entries }) | Expr::Struct(StructExpr { entries, .. }) => {
            for entry in entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(m) => {
                        expand(&mut m.key, next_id)?;
                        expand(&mut m.value, next_id)?;
                    }
                    EntryExpr::StructField(f) => expand(&mut f.value, next_id)?,
                }
            }
        }
        Expr::Select(select) => expand(&mut select.operand, next_id)?,
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
    let Expr::Call(call) = &mut expr.expr else {
        return Ok(());
    };
    let namespace = match call.target.as_deref() {
        Some(IdedExpr {
            expr: Expr::Ident(ns),
            ..
        }) => ns.as_str(),
        _ => "",
    };
    let mut ids = Ids(next_id);
    let expanded = match (namespace, call.func_name.as_str(), call.args.len()) {
        ("cel", "bind", 3) => bind(std::mem::take(&mut call.args), &mut ids)?,
        ("math", "greatest", _) => extreme(call, "greatest", "math.@max", &mut ids)?,
        ("math", "least", _) => extreme(call, "least", "math.@min", &mut ids)?,
        (_, "sortBy", 2) if call.target.is_some() => sort_by(call, &mut ids)?,
        _ => return Ok(()),
    };
    *expr = expanded;
    Ok(())
}

/// Why a macro call cannot be expanded, and the macro's name (to place the error).
pub(super) struct MacroError {
    pub name: &'static str,
    pub message: String,
}

/// Fresh node ids, after the parser's.
struct Ids<'a>(&'a mut u64);

impl Ids<'_> {
    fn node(&mut self, expr: Expr) -> IdedExpr {
        let id = *self.0;
        *self.0 += 1;
        IdedExpr { id, expr }
    }
}

/// `cel.bind(name, init, body)`: a comprehension over an empty list whose accumulator, `name`,
/// starts as `init` and whose result is `body` (cel-go's expansion).
fn bind(args: Vec<IdedExpr>, ids: &mut Ids<'_>) -> Result<IdedExpr, MacroError> {
    let mut args = args.into_iter();
    let (Some(var), Some(init), Some(result)) = (args.next(), args.next(), args.next()) else {
        return Err(MacroError {
            name: "bind",
            message: "cel.bind takes a name, a value and an expression".to_string(),
        });
    };
    let Expr::Ident(name) = var.expr else {
        return Err(MacroError {
            name: "bind",
            message: "the first argument of cel.bind must be a name".to_string(),
        });
    };
    Ok(binding(name, init, result, ids))
}

fn binding(name: String, init: IdedExpr, result: IdedExpr, ids: &mut Ids<'_>) -> IdedExpr {
    let bind = ComprehensionExpr {
        iter_range: ids.node(Expr::List(ListExpr::new(Vec::new()))),
        iter_var: "#unused".to_string(),
        iter_var2: None,
        accu_var: name.clone(),
        accu_init: init,
        loop_cond: ids.node(Expr::Literal(LiteralValue::Boolean(false.into()))),
        loop_step: ids.node(Expr::Ident(name)),
        result,
    };
    ids.node(Expr::Comprehension(Box::new(bind)))
}

/// `math.greatest(..)` / `math.least(..)`: a call of `function` on the one argument, the two
/// arguments, or a list of them when there are more (the `cel` crate's `math` extension).
fn extreme(
    call: &mut CallExpr,
    name: &'static str,
    function: &str,
    ids: &mut Ids<'_>,
) -> Result<IdedExpr, MacroError> {
    let invalid = match call.args.as_slice() {
        [] => Some("requires at least one argument"),
        [arg] if !is_numeric_list(arg) && !may_be_numeric(arg) => {
            Some("invalid single argument value")
        }
        [_] => None,
        args => args
            .iter()
            .any(|arg| !may_be_numeric(arg))
            .then_some("simple literal arguments must be numeric"),
    };
    if let Some(message) = invalid {
        return Err(MacroError {
            name,
            message: format!("math.{name}() {message}"),
        });
    }
    let mut args = std::mem::take(&mut call.args);
    if args.len() > 2 {
        args = vec![ids.node(Expr::List(ListExpr::new(args)))];
    }
    Ok(ids.node(Expr::Call(CallExpr {
        func_name: function.to_owned(),
        target: None,
        args,
    })))
}

/// Whether `arg` can be a number: a numeric literal, or anything but another literal, a list,
/// a map or a message.
fn may_be_numeric(arg: &IdedExpr) -> bool {
    match &arg.expr {
        Expr::Literal(literal) => matches!(
            literal,
            LiteralValue::Int(_) | LiteralValue::UInt(_) | LiteralValue::Double(_)
        ),
        Expr::List(_) | Expr::Map(_) | Expr::Struct(_) => false,
        _ => true,
    }
}

fn is_numeric_list(arg: &IdedExpr) -> bool {
    matches!(&arg.expr, Expr::List(list)
        if !list.elements.is_empty() && list.elements.iter().all(may_be_numeric))
}

/// `list.sortBy(v, key)`: the list bound to an internal name, mapped to its keys as `map` does,
/// and sorted by them with the `lists` extension's `@sortByAssociatedKeys`.
fn sort_by(call: &mut CallExpr, ids: &mut Ids<'_>) -> Result<IdedExpr, MacroError> {
    const INPUT: &str = "@__sortBy_input__";
    let mut args = std::mem::take(&mut call.args);
    let (Some(list), [var, key]) = (call.target.take(), args.as_mut_slice()) else {
        return Err(MacroError {
            name: "sortBy",
            message: "sortBy takes a name and an expression".to_string(),
        });
    };
    if matches!(list.expr, Expr::Literal(_) | Expr::Map(_) | Expr::Struct(_)) {
        return Err(MacroError {
            name: "sortBy",
            message: "sortBy can only be applied to a list, identifier, comprehension, call or select expression".to_string(),
        });
    }
    let Expr::Ident(var) = std::mem::take(&mut var.expr) else {
        return Err(MacroError {
            name: "sortBy",
            message: "argument must be a simple name".to_string(),
        });
    };
    let key = std::mem::take(key);
    // The `map` macro's expansion, over the bound input.
    let result = "@result".to_string();
    let init = ids.node(Expr::List(ListExpr::new(Vec::new())));
    let condition = ids.node(Expr::Literal(LiteralValue::Boolean(true.into())));
    let accu = ids.node(Expr::Ident(result.clone()));
    let item = ids.node(Expr::List(ListExpr::new(vec![key])));
    let step = ids.node(Expr::Call(CallExpr {
        func_name: operators::ADD.to_string(),
        target: None,
        args: vec![accu, item],
    }));
    let out = ids.node(Expr::Ident(result.clone()));
    let input = ids.node(Expr::Ident(INPUT.to_owned()));
    let keys = ids.node(Expr::Comprehension(Box::new(ComprehensionExpr {
        iter_range: input,
        iter_var: var,
        iter_var2: None,
        accu_var: result,
        accu_init: init,
        loop_cond: condition,
        loop_step: step,
        result: out,
    })));
    let target = ids.node(Expr::Ident(INPUT.to_owned()));
    let sorted = ids.node(Expr::Call(CallExpr {
        func_name: "@sortByAssociatedKeys".to_owned(),
        target: Some(Box::new(target)),
        args: vec![keys],
    }));
    Ok(binding(INPUT.to_owned(), *list, sorted, ids))
}

/// Where the first call of macro `name` in `source` starts: the Pratt parser keeps no positions
/// for a tree it parsed without errors.
pub(super) fn position(source: &str, name: &str) -> (usize, usize) {
    let at = source
        .match_indices(name)
        .find(|(i, _)| {
            source
                .get(i + name.len()..)
                .is_some_and(|r| r.trim_start().starts_with('('))
        })
        .map_or(0, |(i, _)| i);
    let before = source.get(..at).unwrap_or("");
    // Back to the namespace: `cel.bind`, `math.least`.
    let start = before
        .trim_end_matches(['.'])
        .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    super::program::position(source, if name == "sortBy" { at } else { start.len() })
}
