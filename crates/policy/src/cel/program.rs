//! Compiling CEL source into a program eksgate can run.
//!
//! Parsed by the `cel` crate's hand-written Pratt parser rather than its ANTLR one: the same
//! grammar and the same trees (`tests/cel_parser.rs` holds every CEL rule of the bundled and
//! upstream CRDs, and generated expressions, to the ANTLR parser's trees), in a fraction of the
//! code, which is what keeps the browser's WASM module small. The Pratt parser only expands the
//! standard macros, so those eksgate's environment adds (`cel.bind`, `math.greatest`, `math.least`,
//! `sortBy`) are expanded here, into the same trees.
//!
//! Its trees can be deeper than its recursion limit (`a.b.c...` and `1 + 1 + ...` are built in
//! loops), and evaluation recurses once per level, so a tree nested deeper than
//! [`MAX_DEPTH`] is refused as a compile error instead of overflowing the stack.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::parser::PrattParser;
use cel::parser::pratt_parser::{Lexer, TokenKind};
use cel::{Context, ResolveResult, Value};

use super::CompileError;

/// The deepest expression tree eksgate compiles: evaluation recurses once per level, at about
/// 1.5 KB of stack a level in a release build (a 1 MB stack, WASM's, overflowed between 500
/// and 1,000 levels of `1 + 1 + ...`). CEL asks implementations for at least 12 levels of each
/// recursive rule (langdef.md, "Syntax"); the 434 rules of the Karpenter and EKS Auto Mode CRDs
/// and eksgate's examples nest at most 12 levels (a test keeps that count).
pub const MAX_DEPTH: usize = 128;

/// The largest [`depth_bound`] parsed: the bound counts 5 levels for each call and every
/// operator in a run, so it is larger than the tree; it keeps the parser's own recursion (it
/// copies the tree so far at each member call) and the drop of what it built shallow.
const MAX_DEPTH_BOUND: usize = 4 * MAX_DEPTH;

/// A compiled CEL expression.
#[derive(Debug)]
pub struct Program {
    expression: IdedExpr,
}

impl Program {
    /// The expression tree, macros expanded.
    #[must_use]
    pub fn expression(&self) -> &IdedExpr {
        &self.expression
    }

    /// How many levels its tree has (at most [`MAX_DEPTH`]).
    #[must_use]
    pub fn depth(&self) -> usize {
        depth(&self.expression)
    }

    /// Evaluates the program in `context`.
    ///
    /// # Errors
    /// Whatever evaluation fails with (an unknown field, a wrong type, ...).
    pub fn execute(&self, context: &Context) -> ResolveResult {
        Value::resolve(&self.expression, context)
    }
}

/// Parses `source` as eksgate's environment does (optional syntax on, as [`cel::Env`] has it by
/// default), expanding the standard macros and those the environment adds.
///
/// # Errors
/// The first parse error, with its position in `source`; a tree deeper than [`MAX_DEPTH`].
pub fn compile(source: &str) -> Result<Program, CompileError> {
    // Refused before parsing: the parser copies the tree so far at each member call, and clones
    // and drops recurse once per level.
    if depth_bound(source) > MAX_DEPTH_BOUND {
        return Err(too_deep());
    }
    let parse = |text: &str| PrattParser::new().enable_optional_syntax(true).parse(text);
    // Two readings of cel-go's grammar the Pratt parser lacks, fixed in the text first.
    let blanked = lone_commas_blanked(source);
    let text = blanked.as_deref().unwrap_or(source);
    let parsed = match signed_literals_after_not(text) {
        Some(grouped) => parse(&grouped),
        None => parse(text),
    }
    // Errors are reported from the text as written, so their columns are the user's.
    .or_else(|errors| {
        if text == source {
            Err(errors)
        } else {
            parse(source)
        }
    });
    let mut expression = parsed.map_err(|errors| {
        let first = errors.errors.first();
        // The parser counts lines and bytes from 1, and gives 0 for errors without a place.
        let (line, column) = first.map_or((1, 1), |e| {
            let line = usize::try_from(e.pos.0).unwrap_or(1).max(1);
            let byte = usize::try_from(e.pos.1).unwrap_or(1).max(1);
            (line, char_column(source, line, byte))
        });
        CompileError {
            line,
            column,
            message: first.map_or_else(|| errors.to_string(), |e| e.msg.clone()),
        }
    })?;
    if let Some(at) = mixed_prefix_operators(source) {
        let (line, column) = position(source, at);
        return Err(CompileError {
            line,
            column,
            message: "Syntax error: `!` and `-` cannot follow each other (write `!(-x)`)"
                .to_string(),
        });
    }
    if depth(&expression) > MAX_DEPTH {
        return Err(too_deep());
    }
    let mut next_id = max_id(&expression) + 1;
    super::macros::expand(&mut expression, &mut next_id).map_err(|error| {
        let (line, column) = super::macros::position(source, error.name);
        CompileError {
            line,
            column,
            message: error.message,
        }
    })?;
    // Checked before expanding too, which recurses; an expansion adds up to 3 levels.
    if depth(&expression) > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(Program { expression })
}

fn too_deep() -> CompileError {
    CompileError {
        line: 1,
        column: 1,
        message: format!("the expression nests deeper than {MAX_DEPTH} levels"),
    }
}

/// One bracketed group (or the whole text) while [`depth_bound`] reads the tokens.
#[derive(Default)]
struct Group {
    /// Operators, selections and openers in the current segment (a run of tokens between
    /// separators, whose nodes can all lie on one path of the tree).
    segment: usize,
    /// The deepest bracketed group in the current segment.
    segment_child: usize,
    /// The deepest segment so far.
    deepest: usize,
    or: u32,
    and: u32,
    ternary: usize,
}

impl Group {
    fn end_segment(&mut self) {
        self.deepest = self.deepest.max(self.segment + self.segment_child);
        self.segment = 0;
        self.segment_child = 0;
    }

    fn bound(mut self) -> usize {
        self.end_segment();
        // Chains of `||` and of `&&` are built balanced; a ternary nests per `?`.
        let balanced = |n: u32| (u32::BITS - n.leading_zeros()) as usize;
        self.deepest + balanced(self.or) + balanced(self.and) + self.ternary
    }
}

/// An upper bound on the depth of the tree `source` parses to, macros expanded, read from its
/// tokens without building anything. Separators (`,` `:` `?` `||` `&&`) split a group into
/// siblings; within a run between them every node on a path comes from a distinct token, and a
/// call (`(`) counts 5 for the levels a macro expands it to. The property tests hold it to the
/// parsed trees.
fn depth_bound(source: &str) -> usize {
    let mut lexer = Lexer::new(source);
    let mut stack = vec![Group::default()];
    let mut previous = TokenKind::TokEnd;
    loop {
        let token = lexer.lex();
        let Some(group) = stack.last_mut() else {
            return 0;
        };
        match token.kind {
            // The parser reports either; the bound is of what it builds before it stops.
            TokenKind::TokEnd | TokenKind::TokError => break,
            TokenKind::TokWhitespace | TokenKind::TokComment => continue,
            TokenKind::TokLeftParen | TokenKind::TokLeftBracket | TokenKind::TokLeftBrace => {
                group.segment += if token.kind == TokenKind::TokLeftParen {
                    5
                } else {
                    2
                };
                stack.push(Group::default());
            }
            TokenKind::TokRightParen | TokenKind::TokRightBracket | TokenKind::TokRightBrace => {
                if stack.len() == 1 {
                    break;
                }
                let inner = stack.pop().map_or(0, Group::bound);
                if let Some(outer) = stack.last_mut() {
                    outer.segment_child = outer.segment_child.max(inner);
                }
            }
            TokenKind::TokComma | TokenKind::TokColon => group.end_segment(),
            // `.?` and `[?` are optional selections, counted by their `.` or `[`.
            TokenKind::TokQuestion
                if matches!(previous, TokenKind::TokDot | TokenKind::TokLeftBracket) => {}
            TokenKind::TokQuestion => {
                group.ternary += 1;
                group.end_segment();
            }
            TokenKind::TokLogicalOr => {
                group.or += 1;
                group.end_segment();
            }
            TokenKind::TokLogicalAnd => {
                group.and += 1;
                group.end_segment();
            }
            TokenKind::TokDot
            | TokenKind::TokMinus
            | TokenKind::TokPlus
            | TokenKind::TokAsterisk
            | TokenKind::TokSlash
            | TokenKind::TokPercent
            | TokenKind::TokExclamation
            | TokenKind::TokEqual
            | TokenKind::TokEqualEqual
            | TokenKind::TokExclamationEqual
            | TokenKind::TokLess
            | TokenKind::TokLessEqual
            | TokenKind::TokGreater
            | TokenKind::TokGreaterEqual
            | TokenKind::TokIn => group.segment += 1,
            _ => {}
        }
        previous = token.kind;
    }
    // Groups left open (a parse error) still count.
    let mut bound = 0;
    while let Some(group) = stack.pop() {
        bound = group.bound().max(bound);
        if let Some(outer) = stack.last_mut() {
            outer.segment_child = outer.segment_child.max(bound);
        }
    }
    bound + 1
}

/// The sub-expressions of `expr`, in source order.
fn children(expr: &IdedExpr) -> Vec<&IdedExpr> {
    match &expr.expr {
        Expr::Call(call) => call
            .target
            .as_deref()
            .into_iter()
            .chain(&call.args)
            .collect(),
        Expr::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => entries(&map.entries),
        Expr::Struct(s) => entries(&s.entries),
        Expr::Select(select) => vec![&*select.operand],
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => Vec::new(),
    }
}

fn entries(entries: &[cel::common::ast::IdedEntryExpr]) -> Vec<&IdedExpr> {
    entries
        .iter()
        .flat_map(|e| match &e.expr {
            EntryExpr::MapEntry(m) => vec![&m.key, &m.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })
        .collect()
}

/// How many levels the tree has, without recursing (the tree may be arbitrarily deep).
fn depth(root: &IdedExpr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root, 1)];
    while let Some((expr, level)) = stack.pop() {
        deepest = deepest.max(level);
        if level <= MAX_DEPTH {
            stack.extend(children(expr).into_iter().map(|c| (c, level + 1)));
        }
    }
    deepest
}

fn max_id(root: &IdedExpr) -> u64 {
    let mut max = 0;
    let mut stack = vec![root];
    while let Some(expr) = stack.pop() {
        max = max.max(expr.id);
        stack.extend(children(expr));
    }
    max
}

/// The 1-based line and column (in characters) of byte `at`.
pub(super) fn position(source: &str, at: usize) -> (usize, usize) {
    let before = source.get(..at).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The character column of 1-based byte column `byte` on 1-based `line`.
fn char_column(source: &str, line: usize, byte: usize) -> usize {
    let text = source.split('\n').nth(line - 1).unwrap_or("");
    let mut end = (byte - 1).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).map_or(0, |t| t.chars().count()) + 1
}

/// `source` with the comma of an empty list or map written with one (`[,]`, `{,}`, `T{,}`)
/// turned into a space, or `None` if it has none. cel-go's grammar allows a trailing comma
/// after no elements (`'[' listInit? ','? ']'`), the Pratt parser refuses it. Same length, so
/// columns stay the user's.
fn lone_commas_blanked(source: &str) -> Option<String> {
    let mut commas = Vec::new();
    let mut before: [Option<(TokenKind, usize)>; 2] = [None, None];
    for (kind, start, _) in significant_tokens(source) {
        if let [Some((open, _)), Some((TokenKind::TokComma, comma))] = before
            && matches!(
                (open, kind),
                (TokenKind::TokLeftBracket, TokenKind::TokRightBracket)
                    | (TokenKind::TokLeftBrace, TokenKind::TokRightBrace)
            )
        {
            commas.push(comma);
        }
        before = [before[1], Some((kind, start))];
    }
    if commas.is_empty() {
        return None;
    }
    let mut blanked = source.as_bytes().to_vec();
    for at in commas {
        if let Some(byte) = blanked.get_mut(at) {
            *byte = b' ';
        }
    }
    String::from_utf8(blanked).ok()
}

/// `source` with each number signed right after a `!` put in parentheses (`!-1.f()` becomes
/// `!(-1).f()`), or `None` if it has none. In CEL's grammar the sign belongs to the number
/// (`literal: sign=MINUS? tok=NUM_INT`), so `!-1.f()` calls `f` on -1, as the Pratt parser reads
/// `-1.f()` alone; after a `!` it builds `-(1.f())` instead. The parentheses keep the number whole.
fn signed_literals_after_not(source: &str) -> Option<String> {
    let mut spans = Vec::new();
    let mut before: [Option<(TokenKind, usize)>; 2] = [None, None];
    for (kind, start, end) in significant_tokens(source) {
        if let [
            Some((TokenKind::TokExclamation, _)),
            Some((TokenKind::TokMinus, minus)),
        ] = before
            && matches!(kind, TokenKind::TokInt | TokenKind::TokFloat)
        {
            spans.push((minus, end));
        }
        before = [before[1], Some((kind, start))];
    }
    if spans.is_empty() {
        return None;
    }
    let mut grouped = String::with_capacity(source.len() + 2 * spans.len());
    let mut copied = 0;
    for (start, end) in spans {
        grouped.push_str(source.get(copied..start)?);
        grouped.push('(');
        grouped.push_str(source.get(start..end)?);
        grouped.push(')');
        copied = end;
    }
    grouped.push_str(source.get(copied..)?);
    Some(grouped)
}

/// Where `!` and `-` follow each other as prefix operators (`!-x`, `-!x`), which CEL's grammar
/// does not allow (`unary: member | '!'+ member | '-'+ member`; `-1` and `-1.5` are literals)
/// and the Pratt parser accepts.
fn mixed_prefix_operators(source: &str) -> Option<usize> {
    // Whether a token of `kind` between `before` and `after` is a prefix `!` or `-` (a `-` after
    // an operand is subtraction, and one before a number is its sign).
    let prefix = |before: Option<TokenKind>, kind: TokenKind, after: Option<TokenKind>| match kind {
        TokenKind::TokExclamation => true,
        TokenKind::TokMinus => {
            let after_operand = before.is_some_and(|p| {
                matches!(
                    p,
                    TokenKind::TokIdent
                        | TokenKind::TokNull
                        | TokenKind::TokTrue
                        | TokenKind::TokFalse
                        | TokenKind::TokInt
                        | TokenKind::TokUint
                        | TokenKind::TokFloat
                        | TokenKind::TokString
                        | TokenKind::TokBytes
                        | TokenKind::TokRightParen
                        | TokenKind::TokRightBracket
                        | TokenKind::TokRightBrace
                )
            });
            let sign = matches!(after, Some(TokenKind::TokInt | TokenKind::TokFloat));
            !after_operand && !sign
        }
        _ => false,
    };
    // One pass with a window of three tokens: nothing is kept of a long expression.
    let mut tokens = significant_tokens(source).peekable();
    let mut before: Option<TokenKind> = None;
    let mut previous_prefix: Option<TokenKind> = None;
    while let Some((kind, start, _)) = tokens.next() {
        let is_prefix = prefix(before, kind, tokens.peek().map(|t| t.0));
        if is_prefix && previous_prefix.is_some_and(|p| p != kind) {
            return Some(start);
        }
        previous_prefix = is_prefix.then_some(kind);
        before = Some(kind);
    }
    None
}

/// The tokens of `source` that are not whitespace or comments, as (kind, start, end), up to
/// its end or the first token the lexer cannot read.
fn significant_tokens(source: &str) -> impl Iterator<Item = (TokenKind, usize, usize)> + '_ {
    let mut lexer = Lexer::new(source);
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            let token = lexer.lex();
            match token.kind {
                TokenKind::TokEnd | TokenKind::TokError => done = true,
                TokenKind::TokWhitespace | TokenKind::TokComment => {}
                kind => return Some((kind, token.start, token.end)),
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trees_deeper_than_the_limit_are_refused_not_overflowed() {
        // Chains of `||` and `&&` are balanced, as cel-go builds them: 20,000 terms nest 16 deep.
        let wide = vec!["false"; 20_000].join(" || ");
        let context = Context::with_env(super::super::env());
        assert_eq!(
            compile(&wide).unwrap().execute(&context),
            Ok(Value::Bool(false))
        );
        for source in [
            format!("a{}", ".b".repeat(20_000)),
            format!(
                "{}1{}",
                "[".repeat(MAX_DEPTH * 2),
                "]".repeat(MAX_DEPTH * 2)
            ),
            vec!["1"; 20_000].join(" + "),
        ] {
            assert!(compile(&source).is_err(), "{}", &source[..40]);
        }
        let deepest = vec!["1"; MAX_DEPTH - 1].join(" + ");
        // A debug build's frames are several times a release build's.
        let value = std::thread::Builder::new()
            .stack_size(32 << 20)
            .spawn(move || compile(&deepest).unwrap().execute(&context))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(value, Ok(Value::Int(i64::try_from(MAX_DEPTH).unwrap() - 1)));
    }

    /// Deep shapes of every kind: chains of selections, calls and indexes, operators, nested
    /// brackets, macros, ternaries and logical chains, mixed.
    fn deep() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("x".to_string()),
            Just("1".to_string()),
            Just("'s'".to_string())
        ];
        leaf.prop_recursive(12, 200, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(|a| format!("{a}.f")),
                inner.clone().prop_map(|a| format!("{a}.f()")),
                inner.clone().prop_map(|a| format!("{a}[0]")),
                inner.clone().prop_map(|a| format!("-{a}")),
                inner.clone().prop_map(|a| format!("[{a}]")),
                inner.clone().prop_map(|a| format!("{{1: {a}}}")),
                inner.clone().prop_map(|a| format!("f({a})")),
                inner.clone().prop_map(|a| format!("[1].all(i, {a})")),
                inner.clone().prop_map(|a| format!("[1].map(i, {a}, {a})")),
                inner
                    .clone()
                    .prop_map(|a| format!("cel.bind(v, {a}, [v].sortBy(w, {a}))")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b} && {a}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} ? {b} : {a}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, {b}).g({b})")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The bound read from the tokens is never below the depth of the parsed tree.
        #[test]
        fn the_token_bound_covers_the_tree(source in deep()) {
            if let Ok(program) = compile(&source) {
                let bound = depth_bound(&source);
                let depth = program.depth();
                prop_assert!(depth <= bound, "depth {} > bound {}: {}", depth, bound, source);
            }
        }
    }
}
