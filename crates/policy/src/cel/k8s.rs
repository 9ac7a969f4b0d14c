//! The Kubernetes CEL library functions the `cel` crate lacks, as far as eksgate evaluates them.
//!
//! Supported (on top of the CEL standard library and the `strings`, `lists` and `math`
//! extensions): the regex library's `find` and `findAll`, the lists library's `isSorted`,
//! `sum`, `min`, `max`, `indexOf` and `lastIndexOf`, the `sets` extension (`sets.contains`,
//! `sets.intersects`, `sets.equivalent`) and the `cel.bind` macro.
//!
//! Not supported: `quantity`/`isQuantity`, `url`/`isURL`, `ip`/`isIP`/`cidr`/`isCIDR`,
//! `semver`/`isSemver`, `authorizer`, `duration`/`timestamp` and the Kubernetes `format`
//! library. A rule that calls one of them is not evaluated: [`super::refs`] finds the call
//! before evaluation and CEL001 says which function is missing, instead of giving a verdict.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use cel::common::ast::{ComprehensionExpr, Expr, IdedExpr, ListExpr, LiteralValue};
use cel::common::types::{LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::parser::{Macro, MacroExprHelper, ParseError};
use cel::{Env, ExecutionError, Value, extensions};
use regex::Regex;

/// Builds the environment (see [`super::env()`], which caches it).
pub(crate) fn environment() -> Env {
    let mut env = Env::stdlib();
    // Each registration only fails on a duplicate declaration, which the tests rule out.
    let _ = env.add_extension(extensions::strings);
    let _ = env.add_extension(extensions::lists);
    let _ = env.add_extension(extensions::math);
    // `matches`, registered here rather than by the `cel` crate's `regex` feature: the same
    // function and error text, through this module's regex cache and the workspace's `regex`
    // features (the crate's feature would pull `regex` with all its default features).
    let _ = env.add_overload(
        "matches",
        "matches",
        vec![STRING_TYPE, STRING_TYPE],
        matches,
    );
    let _ = env.add_member_overload(
        "matches",
        "matches_string",
        STRING_TYPE,
        vec![STRING_TYPE],
        matches,
    );
    let _ = env.add_member_overload(
        "find",
        "string.find(string)",
        STRING_TYPE,
        vec![STRING_TYPE],
        find,
    );
    let _ = env.add_member_overload(
        "findAll",
        "string.findAll(string)",
        STRING_TYPE,
        vec![STRING_TYPE],
        find_all,
    );
    let _ = env.add_member_overload(
        "findAll",
        "string.findAll(string,int)",
        STRING_TYPE,
        vec![STRING_TYPE, cel::common::types::INT_TYPE],
        find_all_n,
    );
    let _ = env.add_member_overload("isSorted", "list.isSorted()", LIST_TYPE, vec![], is_sorted);
    let _ = env.add_member_overload("sum", "list.sum()", LIST_TYPE, vec![], sum);
    let _ = env.add_member_overload("min", "list.min()", LIST_TYPE, vec![], min);
    let _ = env.add_member_overload("max", "list.max()", LIST_TYPE, vec![], max);
    let _ = env.add_member_overload(
        "indexOf",
        "list.indexOf(dyn)",
        LIST_TYPE,
        vec![cel::common::types::DYN_TYPE],
        index_of,
    );
    let _ = env.add_member_overload(
        "lastIndexOf",
        "list.lastIndexOf(dyn)",
        LIST_TYPE,
        vec![cel::common::types::DYN_TYPE],
        last_index_of,
    );
    let _ = env.add_overload(
        "sets.contains",
        "sets.contains(list,list)",
        vec![LIST_TYPE, LIST_TYPE],
        sets_contains,
    );
    let _ = env.add_overload(
        "sets.intersects",
        "sets.intersects(list,list)",
        vec![LIST_TYPE, LIST_TYPE],
        sets_intersects,
    );
    let _ = env.add_overload(
        "sets.equivalent",
        "sets.equivalent(list,list)",
        vec![LIST_TYPE, LIST_TYPE],
        sets_equivalent,
    );
    // eksgate compiles with the Pratt parser, which `cel/macros.rs` expands `cel.bind` for; the
    // macro is registered for the `cel` crate's ANTLR parser (`Env::compile`), which the tests
    // hold that expansion to.
    let _ = env.add_macro(Macro::receiver("bind", 3, bind_macro));
    env
}

/// Functions of the Kubernetes CEL library that eksgate does not implement.
pub const UNSUPPORTED: &[&str] = &[
    "quantity",
    "isQuantity",
    "url",
    "isURL",
    "ip",
    "isIP",
    "cidr",
    "isCIDR",
    "semver",
    "isSemver",
    "authorizer",
    "duration",
    "timestamp",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
];

fn values(args: &[CowVal<'_, '_>]) -> Result<Vec<Value>, ExecutionError> {
    args.iter().map(|a| Value::try_from(a.as_ref())).collect()
}

fn out<'b, 'v>(value: Value) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let boxed: Box<dyn Val> = value.try_into()?;
    Ok(CowVal::Owned(boxed))
}

fn wrong_args(function: &str, got: &[Value]) -> ExecutionError {
    ExecutionError::no_such_overload(
        function,
        got.iter().map(|v| v.type_of().to_string()).collect(),
    )
}

thread_local! {
    static REGEXES: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// A compiled regex, cached per thread (rules call `find` with a handful of patterns, once per
/// label key).
fn with_regex<T>(
    function: &str,
    pattern: &str,
    f: impl FnOnce(&Regex) -> T,
) -> Result<T, ExecutionError> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern) {
            return Ok(f(re));
        }
        let re = crate::re2::compile(pattern)
            .map_err(|e| ExecutionError::function_error(function, e))?;
        let result = f(&re);
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re);
        Ok(result)
    })
}

fn string_pair(
    function: &str,
    args: &[Value],
) -> Result<(Arc<String>, Arc<String>), ExecutionError> {
    match args {
        [Value::String(s), Value::String(re), ..] => Ok((Arc::clone(s), Arc::clone(re))),
        _ => Err(wrong_args(function, args)),
    }
}

/// `'abc'.matches('^a')` and `matches('abc', '^a')`: whether the regex matches anywhere; an
/// invalid regex is an error that names it, in the words of the `cel` crate's own `matches`.
fn matches<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let (s, re) = string_pair("matches", &args)?;
    REGEXES
        .with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(compiled) = cache.get(re.as_str()) {
                return Ok(compiled.is_match(&s));
            }
            let compiled =
                crate::re2::compile(&re).map_err(|err| ExecutionError::FunctionError {
                    function: "matches".to_string(),
                    message: format!("'{re}' not a valid regex:\n{err}"),
                })?;
            let found = compiled.is_match(&s);
            if cache.len() >= 256 {
                cache.clear();
            }
            cache.insert(re.to_string(), compiled);
            Ok(found)
        })
        .and_then(|found| out(Value::Bool(found)))
}

/// `'abc 123'.find('[0-9]+')`: the first match, or `''`.
fn find<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let (s, re) = string_pair("find", &args)?;
    let found = with_regex("find", &re, |re| {
        re.find(&s)
            .map(|m| m.as_str().to_string())
            .unwrap_or_default()
    })?;
    out(Value::String(Arc::new(found)))
}

fn find_all_limited(args: &[Value], limit: Option<i64>) -> Result<Value, ExecutionError> {
    let (s, re) = string_pair("findAll", args)?;
    let all = with_regex("findAll", &re, |re| {
        let matches = re
            .find_iter(&s)
            .map(|m| Value::String(Arc::new(m.as_str().to_string())));
        match limit.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => matches.take(n).collect::<Vec<_>>(),
            None => matches.collect(),
        }
    })?;
    Ok(Value::List(Arc::new(all)))
}

/// `'123 abc 456'.findAll('[0-9]+')`: every match.
fn find_all<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    out(find_all_limited(&args, None)?)
}

/// `findAll(re, n)`: at most `n` matches (all for a negative `n`).
fn find_all_n<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let limit = match args.get(2) {
        Some(Value::Int(n)) => *n,
        _ => return Err(wrong_args("findAll", &args)),
    };
    out(find_all_limited(&args, Some(limit))?)
}

/// A CEL list value's elements.
type List = Arc<Vec<Value>>;

fn list_arg(function: &str, args: &[Value]) -> Result<List, ExecutionError> {
    match args.first() {
        Some(Value::List(items)) => Ok(Arc::clone(items)),
        _ => Err(wrong_args(function, args)),
    }
}

fn compare(function: &str, a: &Value, b: &Value) -> Result<Ordering, ExecutionError> {
    let comparable = matches!(
        (a, b),
        (Value::Int(_), Value::Int(_))
            | (Value::UInt(_), Value::UInt(_))
            | (Value::Float(_), Value::Float(_))
            | (Value::String(_), Value::String(_))
            | (Value::Bool(_), Value::Bool(_))
    );
    if !comparable {
        return Err(ExecutionError::function_error(
            function,
            format!("cannot compare {} with {}", a.type_of(), b.type_of()),
        ));
    }
    a.partial_cmp(b).ok_or_else(|| {
        ExecutionError::function_error(function, "values cannot be ordered".to_string())
    })
}

/// `[1, 2, 3].isSorted()`.
fn is_sorted<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let items = list_arg("isSorted", &args)?;
    for pair in items.windows(2) {
        if let [a, b] = pair
            && compare("isSorted", a, b)? == Ordering::Greater
        {
            return out(Value::Bool(false));
        }
    }
    out(Value::Bool(true))
}

/// `[1, 2].sum()`: `0` for an empty list.
fn sum<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let items = list_arg("sum", &args)?;
    let overflow = || ExecutionError::function_error("sum", "integer overflow".to_string());
    let total = match items.first() {
        None => Value::Int(0),
        Some(Value::Int(_)) => {
            let mut total: i64 = 0;
            for item in items.iter() {
                let Value::Int(i) = item else {
                    return Err(wrong_args("sum", &args));
                };
                total = total.checked_add(*i).ok_or_else(overflow)?;
            }
            Value::Int(total)
        }
        Some(Value::UInt(_)) => {
            let mut total: u64 = 0;
            for item in items.iter() {
                let Value::UInt(u) = item else {
                    return Err(wrong_args("sum", &args));
                };
                total = total.checked_add(*u).ok_or_else(overflow)?;
            }
            Value::UInt(total)
        }
        Some(Value::Float(_)) => {
            let mut total = 0.0;
            for item in items.iter() {
                let Value::Float(f) = item else {
                    return Err(wrong_args("sum", &args));
                };
                total += f;
            }
            Value::Float(total)
        }
        Some(_) => return Err(wrong_args("sum", &args)),
    };
    out(total)
}

fn extreme(function: &str, args: &[Value], keep: Ordering) -> Result<Value, ExecutionError> {
    let items = list_arg(function, args)?;
    let mut iter = items.iter();
    let Some(mut best) = iter.next() else {
        return Err(ExecutionError::function_error(
            function,
            format!("{function} called on an empty list"),
        ));
    };
    for item in iter {
        if compare(function, item, best)? == keep {
            best = item;
        }
    }
    Ok(best.clone())
}

/// `[3, 1].min()`.
fn min<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    out(extreme("min", &args, Ordering::Less)?)
}

/// `[3, 1].max()`.
fn max<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    out(extreme("max", &args, Ordering::Greater)?)
}

fn position(args: &[Value], last: bool) -> Result<Value, ExecutionError> {
    let function = if last { "lastIndexOf" } else { "indexOf" };
    let items = list_arg(function, args)?;
    let Some(needle) = args.get(1) else {
        return Err(wrong_args(function, args));
    };
    let found = if last {
        items.iter().rposition(|v| v == needle)
    } else {
        items.iter().position(|v| v == needle)
    };
    Ok(Value::Int(
        found.map_or(-1, |i| i64::try_from(i).unwrap_or(-1)),
    ))
}

/// `[1, 2].indexOf(2)`: `-1` when absent.
fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    out(position(&args, false)?)
}

/// `[1, 2, 1].lastIndexOf(1)`.
fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    out(position(&args, true)?)
}

fn two_lists(function: &str, args: &[Value]) -> Result<(List, List), ExecutionError> {
    match args {
        [Value::List(a), Value::List(b)] => Ok((Arc::clone(a), Arc::clone(b))),
        _ => Err(wrong_args(function, args)),
    }
}

fn contains_all(a: &[Value], b: &[Value]) -> bool {
    b.iter().all(|x| a.contains(x))
}

/// `sets.contains(a, b)`: every element of `b` is in `a`.
fn sets_contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let (a, b) = two_lists("sets.contains", &args)?;
    out(Value::Bool(contains_all(&a, &b)))
}

/// `sets.intersects(a, b)`: some element is in both.
fn sets_intersects<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let (a, b) = two_lists("sets.intersects", &args)?;
    out(Value::Bool(b.iter().any(|x| a.contains(x))))
}

/// `sets.equivalent(a, b)`: the same elements, duplicates and order aside.
fn sets_equivalent<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let args = values(&args)?;
    let (a, b) = two_lists("sets.equivalent", &args)?;
    out(Value::Bool(contains_all(&a, &b) && contains_all(&b, &a)))
}

/// `cel.bind(name, init, expr)`: `expr` with `name` bound to `init`, as cel-go expands it (a
/// comprehension over an empty list whose accumulator is the binding).
fn bind_macro(
    helper: &mut MacroExprHelper<'_>,
    target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    if !matches!(target.as_ref().map(|t| &t.expr), Some(Expr::Ident(ns)) if ns == "cel") {
        return Ok(None);
    }
    let (Some(result), Some(init), Some(var)) = (args.pop(), args.pop(), args.pop()) else {
        return Err(helper.new_error(0, "cel.bind takes a name, a value and an expression"));
    };
    let Expr::Ident(name) = var.expr else {
        return Err(helper.new_error(var.id, "the first argument of cel.bind must be a name"));
    };
    target.take();
    let empty = helper.next_expr(Expr::List(ListExpr::new(Vec::new())));
    let stop = helper.next_expr(Expr::Literal(LiteralValue::Boolean(false.into())));
    let step = helper.next_expr(Expr::Ident(name.clone()));
    let bind = ComprehensionExpr {
        iter_range: empty,
        iter_var: "#unused".to_string(),
        iter_var2: None,
        accu_var: name,
        accu_init: init,
        loop_cond: stop,
        loop_step: step,
        result,
    };
    Ok(Some(helper.next_expr(Expr::Comprehension(Box::new(bind)))))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn eval(source: &str) -> Result<Value, ExecutionError> {
        let program = crate::cel::compile(source).unwrap();
        let context = cel::Context::with_env(crate::cel::env());
        program.execute(&context)
    }

    fn is_true(source: &str) {
        assert_eq!(eval(source), Ok(Value::Bool(true)), "{source}");
    }

    #[test]
    fn regex_library() {
        is_true("'karpenter.sh/foo'.find('^([^/]+)') == 'karpenter.sh'");
        is_true("'nodomain'.find('^([^/]+)') == 'nodomain'");
        is_true("'abc'.find('[0-9]+') == ''");
        is_true("'1 a 22 b 333'.findAll('[0-9]+') == ['1', '22', '333']");
        is_true("'1 a 22 b 333'.findAll('[0-9]+', 2) == ['1', '22']");
        assert!(eval("'a'.find('(')").is_err());
    }

    #[test]
    fn matches_as_the_cel_crate_gave_it() {
        is_true("'foobar'.matches('^[a-zA-Z]*$')");
        is_true("matches('foobar', '^[a-zA-Z]*$')");
        is_true("!matches('foo1', '^[a-zA-Z]*$')");
        is_true("!{'1': 'abc', '2': 'def'}.all(key, key.matches('^[a-zA-Z]*$'))");
        is_true("'abc'.matches('b')");
        // Unicode general categories and scripts, as Go's RE2 (and so Kubernetes) has them.
        is_true("'Ωmega'.matches('^\\\\p{Greek}\\\\p{L}+$')");
        // Go's meaning: `\w` is ASCII, `[[` a class holding `[` (crate::re2).
        is_true("!'é'.matches('^\\\\w$')");
        is_true("'a['.matches('^[[a]+$')");
        // The first line of the `cel` crate's own `matches` error, then why.
        assert_eq!(
            eval("'foobar'.matches('(foo')"),
            Err(ExecutionError::FunctionError {
                function: "matches".to_string(),
                message: "'(foo' not a valid regex:\nunclosed group".to_string(),
            })
        );
        assert!(eval("'a'.matches('(?x)a')").is_err(), "Go has no x flag");
        assert!(eval("'a'.matches(1)").is_err());
    }

    #[test]
    fn lists_library() {
        is_true("[1, 2, 2, 3].isSorted()");
        is_true("!['b', 'a'].isSorted()");
        is_true("[1, 2, 3].sum() == 6");
        is_true("[].sum() == 0");
        is_true("[1.5, 2.5].sum() == 4.0");
        is_true("[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3");
        is_true("[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2");
        is_true("[1, 2].indexOf(5) == -1");
        is_true("'abcb'.indexOf('b') == 1");
        assert!(eval("[].min()").is_err());
    }

    #[test]
    fn sets_and_bind() {
        is_true("sets.contains([1, 2, 3], [2, 3])");
        is_true("!sets.contains([1], [2])");
        is_true("sets.intersects([1, 2], [2, 5])");
        is_true("sets.equivalent([1, 2, 2], [2, 1])");
        is_true("cel.bind(x, [1, 2], x.size() == 2 && x[0] == 1)");
        is_true("cel.bind(a, 'x', cel.bind(b, a + 'y', b == 'xy'))");
    }

    #[test]
    fn standard_and_extension_functions() {
        is_true("'al2023@latest'.split('@')[0] == 'al2023'");
        is_true("'ab'.startsWith('a') && 'ab'.endsWith('b') && 'ab'.matches('^a')");
        is_true("'%s-%d'.format(['a', 1]) == 'a-1'");
        is_true("int('12') == 12");
        is_true("{'a': 1}.?b.orValue(2) == 2");
    }
}
