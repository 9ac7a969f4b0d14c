//! The CEL parser eksgate compiles with (the `cel` crate's Pratt parser, plus the macros
//! eksgate's environment adds: `crates/policy/src/cel/macros.rs`) held to the crate's ANTLR
//! parser, which builds the same trees for cel-go's grammar and runs the crate's own macro
//! expanders: on every CEL rule of the upstream Karpenter and EKS Auto Mode CRDs
//! (`../shared/crds`, read as oracles) and of the bundled examples and policies, on each macro's
//! edge cases, and on generated expressions.
#![expect(clippy::unwrap_used, clippy::disallowed_methods, reason = "tests")]

use cel::common::ast::IdedExpr;
use cel::{Context, Value};
use eksgate_policy::cel::compile;
use proptest::prelude::*;

/// The deepest tree among the CRDs' and examples' rules (measured: see the test below).
const DEEPEST_CRD_RULE: usize = 12;

/// The tree the `cel` crate's ANTLR parser builds in eksgate's environment (which registers
/// `cel.bind` as a macro of the kind that parser expands), ids left out: the oracle.
fn antlr(source: &str) -> Option<String> {
    eksgate_policy::cel::env()
        .compile(source)
        .ok()
        .map(|p| without_ids(p.expression()))
}

fn pratt(source: &str) -> Option<String> {
    compile(source).ok().map(|p| without_ids(p.expression()))
}

/// The tree's Debug text with every id blanked: the two parsers number nodes differently,
/// and ids play no part in evaluation. One known difference is folded: ANTLR reads `-0x10` as
/// the literal -16, and `!-1.5` as `!` of the literal -1.5, where the Pratt parser builds `-`
/// applied to the number (it folds the sign into a decimal literal only when `-` is the sole
/// prefix); the value is the same.
fn without_ids(expr: &IdedExpr) -> String {
    let negated = regex::Regex::new(
        r#"Call\(CallExpr \{ func_name: "-_", target: None, args: \[IdedExpr \{ id: , expr: Literal\((Int\(Int|Double\(Double)\(([0-9.e+-]+)\)\)\) \}\] \}\)"#,
    )
    .unwrap();
    let text = format!("{expr:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("id: ") {
        let (head, tail) = rest.split_at(at + 4);
        out.push_str(head);
        rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    negated
        .replace_all(&out, |c: &regex::Captures<'_>| {
            if &c[1] == "Int(Int" {
                format!("Literal(Int(Int({})))", -c[2].parse::<i64>().unwrap())
            } else {
                format!(
                    "Literal(Double(Double({:?})))",
                    -c[2].parse::<f64>().unwrap()
                )
            }
        })
        .into_owned()
}

/// Every `rule` and `messageExpression` of the CRDs in `../shared/crds` (Karpenter's and EKS
/// Auto Mode's, read as oracles) and of the bundled examples and policies.
fn cel_sources() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in [
        "../shared/crds",
        "examples",
        "policies",
        "crates/policy/tests/fixtures",
    ] {
        let mut stack = vec![root.join(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    stack.push(entry.unwrap().path());
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                files.push(path);
            }
        }
    }
    let line_value = |line: &str, key: &str| -> Option<String> {
        let rest = line
            .trim_start()
            .trim_start_matches("- ")
            .strip_prefix(key)?;
        let value = rest.trim();
        // Plain, single- or double-quoted one-line scalars: enough for these files.
        let unquoted = if let Some(v) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
        {
            v.replace("''", "'")
        } else if value.starts_with('"') {
            serde_json::from_str::<String>(value.trim_end_matches(',')).ok()?
        } else {
            value.to_string()
        };
        (!unquoted.is_empty() && unquoted != "|" && unquoted != ">").then_some(unquoted)
    };
    let mut sources = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines() {
            for key in [
                "rule:",
                "messageExpression:",
                "expression:",
                "\"rule\":",
                "\"messageExpression\":",
            ] {
                if let Some(v) = line_value(line, key) {
                    sources.push(v);
                }
            }
        }
    }
    sources
}

#[test]
fn every_crd_and_example_rule_parses_to_the_antlr_tree() {
    let sources = cel_sources();
    assert!(
        sources.len() > 50,
        "found only {} CEL expressions",
        sources.len()
    );
    let mut compared = 0;
    let mut deepest = 0;
    for source in &sources {
        let expected = antlr(source);
        assert_eq!(pratt(source), expected, "{source}");
        compared += usize::from(expected.is_some());
        if let Ok(program) = compile(source) {
            deepest = deepest.max(program.depth());
        }
    }
    assert!(compared > 50, "only {compared} of the expressions parse");
    assert!(
        deepest <= DEEPEST_CRD_RULE,
        "the deepest rule nests {deepest}"
    );
}

#[test]
fn the_environments_macros_expand_like_the_antlr_expanders() {
    for source in [
        "cel.bind(x, 1, x + 1)",
        "cel.bind(a, [1, 2], cel.bind(b, a.size(), b * 2))",
        "[1, 2].all(i, cel.bind(j, i * 2, j > i))",
        "cel.bind(x, 1)",
        "other.bind(x, 1, x)",
        "math.greatest(1)",
        "math.greatest(1, 2.0)",
        "math.least(1, x, 3u)",
        "math.greatest([1, 2])",
        "math.least(self.a)",
        "other.least(1, 2)",
        "[3, 1, 2].sortBy(x, -x)",
        "self.items.sortBy(i, i.name).map(i, i.name)",
        "[1].sortBy(x, x).all(y, cel.bind(z, math.least(y, 2), z > 0))",
    ] {
        assert_eq!(pratt(source), antlr(source), "{source}");
        assert!(pratt(source).is_some(), "{source}");
    }
    for source in [
        "cel.bind(1, 2, 3)",
        "math.greatest()",
        "math.least('a')",
        "math.greatest(1, 'a')",
        "'abc'.sortBy(x, x)",
        "[1].sortBy(1, 2)",
    ] {
        assert!(
            antlr(source).is_none() && pratt(source).is_none(),
            "{source}"
        );
    }
    let err = compile("true &&\n  cel.bind(1, 2, 3)").unwrap_err();
    assert_eq!((err.line, err.column), (2, 3), "{err:?}");
    let err = compile("1 < math.least('a')").unwrap_err();
    assert_eq!((err.line, err.column), (1, 5), "{err:?}");
    let context = Context::with_env(eksgate_policy::cel::env());
    for (source, expected) in [
        ("cel.bind(x, 20, x * 2 + 2)", Value::Int(42)),
        ("math.greatest(3, 9, 4)", Value::Int(9)),
        ("[3, 1, 2].sortBy(x, -x) == [3, 2, 1]", Value::Bool(true)),
    ] {
        assert_eq!(
            compile(source).unwrap().execute(&context),
            Ok(expected),
            "{source}"
        );
    }
}

/// Expressions built from CEL's grammar: literals of every kind, operators, selections,
/// calls, macros, lists, maps and the ternary.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("self".to_string()),
        Just("x".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        (0u64..1000).prop_map(|n| n.to_string()),
        (0u64..1000).prop_map(|n| format!("{n}u")),
        (0u64..1000).prop_map(|n| format!("0x{n:x}")),
        (0.0f64..100.0).prop_map(|f| format!("{f:.2}")),
        "[a-z .'\\\\]{0,6}"
            .prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
        "[a-z]{0,4}".prop_map(|s| format!("r\"{s}\"")),
        "[a-z]{0,4}".prop_map(|s| format!("b'{s}'")),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        let op = prop_oneof![
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("%"),
            Just("=="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">="),
            Just("&&"),
            Just("||"),
            Just("in"),
        ];
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("{a} ? {b} : {c}")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("({a})")),
            (inner.clone(), "[a-z]{1,3}").prop_map(|(a, f)| format!("{a}.{f}")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            inner.clone().prop_map(|a| format!("has({a}.f)")),
            inner.clone().prop_map(|a| format!("size({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.startsWith({b})")),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((inner.clone(), inner.clone()), 0..3).prop_map(|v| {
                let entries: Vec<String> = v.iter().map(|(k, e)| format!("{k}: {e}")).collect();
                format!("{{{}}}", entries.join(", "))
            }),
            (
                inner.clone(),
                prop::sample::select(vec!["all", "exists", "exists_one", "map", "filter"]),
                inner.clone()
            )
                .prop_map(|(r, m, b)| format!("{r}.{m}(x, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(r, f, b)| format!("{r}.map(x, {f}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(i, b)| format!("cel.bind(x, {i}, {b})")),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| format!("math.greatest({})", v.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("math.least({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(r, k)| format!("{r}.sortBy(x, {k})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_expressions_parse_to_the_antlr_tree(source in expression()) {
        prop_assert_eq!(pratt(&source), antlr(&source), "{}", source);
    }

    /// Text that is mostly not CEL: both parsers refuse the same inputs.
    #[test]
    fn both_parsers_refuse_the_same_text(source in "[a-z0-9 .,()\\[\\]{}:?!<>=&|+*/%'\"-]{0,24}") {
        prop_assert_eq!(pratt(&source).is_some(), antlr(&source).is_some(), "{}", source);
    }
}

/// After `!`, a signed number keeps its sign, as it does alone: `!-1.f()` calls `f` on -1 (the
/// Pratt parser alone builds `!-(1.f())`); an empty list or map may have a trailing comma. The
/// generated expressions found both.
#[test]
fn the_grammar_the_pratt_parser_lacks_is_read_as_cel_go_reads_it() {
    for source in [
        "!-1.f()",
        "!!-1.f()",
        "!!!-1.5.f()",
        "!- 1.5.f()",
        "!-\n1.f()",
        "!-1 + 2",
        "!-1[0]",
        "!-9223372036854775808",
        "!-0x0.map(x, self, self)",
        "x ? !-1.f() : [!-2.0.g().h]",
        "!-1u",
    ] {
        assert_eq!(pratt(source), antlr(source), "{source}");
    }
    // cel-go's grammar allows the trailing comma of an empty list or map.
    for source in [
        "[,]",
        "{,}",
        "[ , ].size() == 0",
        "{ // c\n , }",
        "[[,], {,}]",
    ] {
        assert_eq!(pratt(source), antlr(source), "{source}");
        assert!(pratt(source).is_some(), "{source}");
    }
    assert_eq!(pratt("[,,]"), None);
    assert_eq!(pratt("[1,,]"), None);
    // Errors keep the columns of the text as written.
    let error = compile("!-1.f(").unwrap_err();
    assert_eq!((error.line, error.column), (1, 7), "{error:?}");
}
