//! Escaping user input for each output. Every string that came from the user (values inside
//! messages, file names, object names, custom rule IDs) goes through one of these before it is
//! written, so input can never become a terminal control sequence, a GitHub workflow command,
//! HTML or Markdown, or make XML malformed.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach an output raw: C0 controls (line breaks and tabs included), DEL,
/// C1 controls, the Unicode line and paragraph separators, bidirectional formatting characters
/// (which reorder what a terminal or browser shows: "Trojan Source"), and the two
/// non-characters XML 1.0 forbids.
#[must_use]
pub fn is_unsafe_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{061c}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}'
        | '\u{fffe}' | '\u{ffff}'
    )
}

/// `text` with every [unsafe character](is_unsafe_char) shown as a visible escape: `\n`, `\r`,
/// `\t`, `\0`, else `\u{…}` (Rust's notation). The result is one line of printable text, which
/// every format can carry; borrowed when there was nothing to escape.
#[must_use]
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends `c`, escaped if it is [unsafe](is_unsafe_char).
pub(crate) fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if is_unsafe_char(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// A line of eksgate's own output that the GitHub Actions runner would read as a workflow
/// command: `::` after leading whitespace (the runner trims it before it looks).
fn is_command_line(line: &str) -> bool {
    line.trim_start().starts_with("::")
}

/// Text about to be printed in a GitHub Actions log, with every line that would read as a
/// workflow command defused by a `\` before its `::`. Lines end at LF, CR or CRLF, as the
/// runner splits them. Renderers already escape input; this is the last line of defence for
/// text no renderer wrote (errors from the argument parser, messages naming paths).
#[must_use]
pub fn defuse_workflow_commands(text: &str) -> Cow<'_, str> {
    if !text.split(['\n', '\r']).any(is_command_line) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    loop {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let (line, tail) = rest.split_at(end);
        if is_command_line(line) {
            let indent = line.len() - line.trim_start().len();
            let (spaces, command) = line.split_at(indent);
            out.push_str(spaces);
            out.push('\\');
            out.push_str(command);
        } else {
            out.push_str(line);
        }
        let mut breaks = tail.chars();
        match breaks.next() {
            None => break,
            Some(c) => out.push(c),
        }
        rest = breaks.as_str();
    }
    Cow::Owned(out)
}

/// `&`, `<`, `>`, `"` and `'` as HTML character references, after [`visible`]: safe as text or
/// as a quoted attribute value in HTML, and inside Markdown's raw HTML blocks.
#[must_use]
pub fn html(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a piece of Markdown goes: inside a GFM table cell `|` must be escaped even in code
/// spans, and elsewhere that escape would show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkdownContext {
    /// A paragraph or list item.
    Block,
    /// A GFM table cell.
    TableCell,
}

/// `text` as Markdown that renders to exactly `visible(text)`, with nothing but text and code
/// spans: backtick-quoted parts become code spans (messages quote values that way), everything
/// else is text with every ASCII punctuation character backslash-escaped, so no emphasis, link,
/// image, HTML, entity or heading can come from it. Words that a GFM renderer would turn into
/// links on its own (`https://…`, `www.…`, `a@b.c`, `scheme:x`) are set as code spans, where
/// no autolink applies.
#[must_use]
pub fn markdown_inline(text: &str, context: MarkdownContext) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest: &str = &text;
    let mut in_code = false;
    loop {
        let (part, tail) = match rest.find('`') {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i + 1..)),
            None => (rest, None),
        };
        match tail {
            // An unmatched backtick: the rest is text, the backtick included.
            None if in_code => {
                push_markdown_text(&mut out, "`", context);
                push_markdown_text(&mut out, part, context);
            }
            _ if in_code => push_code_span(&mut out, part, context),
            _ => push_markdown_text(&mut out, part, context),
        }
        match tail {
            Some(tail) => {
                rest = tail;
                in_code = !in_code;
            }
            None => break,
        }
    }
    out
}

/// `text` as one code span that renders to exactly `visible(text)` (for identifiers: rule IDs,
/// names).
#[must_use]
pub fn markdown_code(text: &str, context: MarkdownContext) -> String {
    let mut out = String::new();
    push_code_span(&mut out, &visible(text), context);
    out
}

/// Appends prose: whitespace-separated words, each escaped or, if it looks like a link, a code
/// span.
fn push_markdown_text(out: &mut String, text: &str, context: MarkdownContext) {
    let mut word = String::new();
    for c in text.chars() {
        if c == ' ' {
            push_markdown_word(out, &word, context);
            word.clear();
            out.push(' ');
        } else {
            word.push(c);
        }
    }
    push_markdown_word(out, &word, context);
}

fn push_markdown_word(out: &mut String, word: &str, context: MarkdownContext) {
    if word.is_empty() {
        return;
    }
    if looks_like_link(word) {
        push_code_span(out, word, context);
        return;
    }
    for c in word.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Words a GFM renderer may link without any markup: URLs, `www.` domains, e-mail addresses,
/// and anything with a scheme-like `word:` prefix (`mailto:`, `javascript:`).
fn looks_like_link(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower.contains("://")
        || lower.contains("www.")
        || word.contains('@')
        || word.find(':').is_some_and(|i| i > 0 && i + 1 < word.len())
}

/// Appends `code` as a code span whose content renders literally: a fence longer than any run
/// of backticks inside, padded with spaces when the content starts or ends with a backtick or
/// a space; `|` escaped in table cells (GFM splits cells before it reads code spans).
fn push_code_span(out: &mut String, code: &str, context: MarkdownContext) {
    if code.is_empty() {
        return;
    }
    let mut longest = 0;
    let mut run = 0;
    for c in code.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    // CommonMark strips one space from each side when both are spaces and the content is not
    // all spaces; pad so that what is left is `code` exactly.
    let pad = code.starts_with(['`', ' ']) || code.ends_with(['`', ' ']);
    out.push_str(&fence);
    if pad {
        out.push(' ');
    }
    for c in code.chars() {
        if c == '|' && context == MarkdownContext::TableCell {
            out.push('\\');
        }
        out.push(c);
    }
    if pad {
        out.push(' ');
    }
    out.push_str(&fence);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_escapes_controls_separators_and_bidi() {
        assert_eq!(visible("plain"), Cow::Borrowed("plain"));
        assert_eq!(
            visible("a\nb\r\tc\0\u{1b}[31m\u{2028}\u{202e}\u{85}"),
            "a\\nb\\r\\tc\\0\\u{1b}[31m\\u{2028}\\u{202e}\\u{85}"
        );
    }

    #[test]
    fn defuse_prefixes_command_lines_after_any_break() {
        assert_eq!(defuse_workflow_commands("a\nb"), Cow::Borrowed("a\nb"));
        assert_eq!(
            defuse_workflow_commands("x\n  ::stop-commands::t\r::add-mask::y\r\nok"),
            "x\n  \\::stop-commands::t\r\\::add-mask::y\r\nok"
        );
        assert_eq!(defuse_workflow_commands("::a"), "\\::a");
    }

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html("<img src=x onerror='a'>&\"\n"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;\\n"
        );
    }

    #[test]
    fn markdown_keeps_code_spans_and_escapes_the_rest() {
        let cell = MarkdownContext::TableCell;
        assert_eq!(
            markdown_inline("`httpTokens` is `optional`", cell),
            "`httpTokens` is `optional`"
        );
        assert_eq!(
            markdown_inline("*a* [b](c)", cell),
            "\\*a\\* \\[b\\]\\(c\\)"
        );
        assert_eq!(markdown_inline("`a|b`", cell), "`a\\|b`");
        assert_eq!(markdown_inline("`a|b`", MarkdownContext::Block), "`a|b`");
        assert_eq!(markdown_inline("`a``b`", cell), "`a``b`");
        assert_eq!(markdown_inline("x `open", cell), "x \\`open");
        assert_eq!(
            markdown_inline("see https://e.x now", cell),
            "see `https://e.x` now"
        );
    }
}
