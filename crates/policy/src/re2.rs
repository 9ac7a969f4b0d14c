//! Go's regular expressions, compiled by the `regex` crate with Go's meaning.
//!
//! Kubernetes checks a CRD's `pattern` with Go's `regexp`, and CEL's `matches()`, `find()` and
//! `findAll()` run on it too (cel-go); eksgate's policy patterns are read the same way, so one
//! dialect holds everywhere. The crate's syntax looks the same but is not
//! (<https://pkg.go.dev/regexp/syntax>, <https://docs.rs/regex/latest/regex/#syntax>):
//!
//! - `\d`, `\s`, `\w` and `\b` are ASCII in Go and Unicode in the crate;
//! - in a Go class `[`, `&&`, `--` and `~~` are plain characters, in the crate they nest or
//!   combine classes; a `{` that starts no repetition is a plain character in Go and an error
//!   in the crate; `\<`, `\>` are the characters in Go and word boundaries in the crate;
//! - Go reads `\Q...\E` and octal escapes (`\012`), the crate does not;
//! - the crate also reads `(?x)`, `(?u)`, `(?R)`, `\p{Alphabetic}`, `\p{Age=..}`, `\p{sc=..}`,
//!   `\u0041`, stacked repetitions (`a**`) and counted ones above 1,000, which Go rejects, and
//!   `\b{start}` as one assertion (in Go a boundary, then the text `{start}`).
//!
//! So a pattern is read here with Go's grammar and written out in the crate's syntax, every
//! character class spelled out (`\w` is `[0-9A-Za-z_]`, `\p{Greek}` is `\p{sc=Greek}`), and
//! what Go rejects is an error. The crate then needs only its general-category, script and
//! case-folding tables, the same in every build (tests/re2_differential.py holds the result
//! to Go's `regexp` on generated patterns and texts).
//!
//! Unicode class names are looked up loosely (`\p{greek}`, `\p{Letter}`), as Go reads them
//! since Go 1.25 (golang/go#70780: also `Any`, `ASCII`, `Assigned`, `Cn`, `LC`); Go 1.24 and
//! older want the exact name. `\pC` is the crate's (it also holds unassigned code points, which
//! Go's `C` does not).

use std::fmt;

use regex::Regex;

use crate::text::shorten;

/// Why a pattern is not a Go regular expression (or is one the crate cannot run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Re2Error {
    pub message: String,
}

impl fmt::Display for Re2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Re2Error {}

/// Compiles a Go regular expression.
///
/// # Errors
/// The pattern is not valid Go syntax, or the crate cannot compile it (too large).
pub fn compile(pattern: &str) -> Result<Regex, Re2Error> {
    let translated = translate(pattern)?;
    regex::RegexBuilder::new(&translated)
        .size_limit(MAX_COMPILED)
        .build()
        .map_err(|err| {
            // The crate's text draws a caret under the pattern; its last line says why.
            let text = err.to_string();
            let why = text
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .map_or(text.as_str(), str::trim);
            Re2Error {
                message: why.to_string(),
            }
        })
}

/// The pattern in the crate's syntax, with Go's meaning.
///
/// # Errors
/// The pattern is not valid Go syntax.
pub fn translate(pattern: &str) -> Result<String, Re2Error> {
    // The crate holds each atom's syntax tree (about 1 KB; a Unicode class up to 6 KB of
    // ranges) before its size limit applies: `\pL` written 200,000 times took 1.2 GB.
    if pattern.len() > MAX_PATTERN {
        return Err(error(format!(
            "the pattern is longer than {MAX_PATTERN} bytes ({} bytes)",
            pattern.len()
        )));
    }
    let mut reader = Reader {
        source: pattern,
        rest: pattern,
        out: String::with_capacity(pattern.len() + 16),
        colon_close: None,
        names: Vec::new(),
        unicode_classes: 0,
    };
    reader.pattern()?;
    Ok(reader.out)
}

/// The longest pattern read: the upstream CRDs' longest is under 200 bytes.
pub const MAX_PATTERN: usize = 16 * 1024;

/// The most Unicode classes (`\pL`, `\p{Greek}`) in one pattern, each up to 6 KB of ranges.
const MAX_UNICODE_CLASSES: usize = 256;

/// The largest compiled program (the crate's default is 10 MiB; patterns are cached, and a
/// real one compiles to a few KB).
const MAX_COMPILED: usize = 1 << 20;

/// Go's limit on a counted repetition (`regexp/syntax`: `ErrInvalidRepeatSize`).
const MAX_REPEAT: u32 = 1000;

fn error(message: impl Into<String>) -> Re2Error {
    Re2Error {
        message: message.into(),
    }
}

struct Reader<'a> {
    source: &'a str,
    rest: &'a str,
    out: String,
    /// Where the next `:]` is (searched from some earlier place), once looked for.
    colon_close: Option<Option<usize>>,
    /// Unicode class names already looked up, and how they are spelled.
    names: Vec<(String, String)>,
    /// How many Unicode classes have been read.
    unicode_classes: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.rest = self.rest.get(c.len_utf8()..).unwrap_or("");
        Some(c)
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn pattern(&mut self) -> Result<(), Re2Error> {
        // Whether the last token was a repetition: Go refuses `a**` and `a{2}{3}`.
        let mut after_repeat = false;
        // Flags set by `(?i)` are written after a repetition that follows them: in Go `a(?i)*`
        // repeats `a` (the flags are no operand), the crate wants the operand right before.
        let mut flags = String::new();
        // Where the last operand starts in the output, the open groups' starts, and whether
        // the output ends in a repetition: Go's `a+(?i)?` is `(a+)?`, the crate's `a+?` lazy.
        let mut operand = 0;
        let mut groups: Vec<usize> = Vec::new();
        let mut ends_in_repeat = false;
        while let Some(c) = self.next() {
            let is_repeat =
                matches!(c, '*' | '+' | '?') || (c == '{' && self.starts_counted_repeat());
            // A `(?` may be more flags: it places the pending ones itself.
            let is_group = c == '(' && self.rest.starts_with('?');
            if !is_repeat && !is_group {
                self.out.push_str(&flags);
                flags.clear();
            }
            if !is_repeat && !is_group && c != ')' {
                operand = self.out.len();
            }
            let repeat = match c {
                '\\' => {
                    self.escape()?;
                    false
                }
                '[' => {
                    self.class()?;
                    false
                }
                '{' => match self.counted_repeat()? {
                    Some(text) => {
                        self.repeat(&text, after_repeat, ends_in_repeat, operand)?;
                        true
                    }
                    None => {
                        self.out.push_str(r"\{");
                        false
                    }
                },
                '*' | '+' | '?' => {
                    self.repeat(&c.to_string(), after_repeat, ends_in_repeat, operand)?;
                    true
                }
                '(' if self.eat("?") => {
                    let opener = self.out.len();
                    match self.group()? {
                        // Flags alone write nothing yet: what came before stays the operand.
                        Some(set) => {
                            flags.push_str(&set);
                            after_repeat = false;
                            continue;
                        }
                        None => {
                            self.out.insert_str(opener, &flags);
                            groups.push(opener + flags.len());
                            flags.clear();
                        }
                    }
                    false
                }
                '(' => {
                    groups.push(self.out.len());
                    self.out.push(c);
                    false
                }
                ')' => {
                    operand = groups.pop().unwrap_or(self.out.len());
                    self.out.push(c);
                    false
                }
                '|' | '.' | '^' | '$' => {
                    self.out.push(c);
                    false
                }
                _ => {
                    push_literal(&mut self.out, c);
                    false
                }
            };
            if repeat {
                self.out.push_str(&flags);
                flags.clear();
            }
            after_repeat = repeat;
            ends_in_repeat = repeat;
        }
        self.out.push_str(&flags);
        Ok(())
    }

    /// A repetition operator, and the `?` that makes it lazy. Right after another repetition
    /// in the output (flags stood between them in Go), the operand and its repetition are put
    /// in a group first, so the crate repeats them rather than reading `?` as lazy.
    fn repeat(
        &mut self,
        operator: &str,
        after_repeat: bool,
        ends_in_repeat: bool,
        operand: usize,
    ) -> Result<(), Re2Error> {
        if after_repeat {
            return Err(error(format!(
                "invalid nested repetition operator: `{}`",
                shorten(operator)
            )));
        }
        if ends_in_repeat && operand <= self.out.len() {
            self.out.insert_str(operand, "(?:");
            self.out.push(')');
        }
        self.out.push_str(operator);
        if self.eat("?") {
            self.out.push('?');
        }
        Ok(())
    }

    /// Whether the text after a `{` makes it a counted repetition (read without consuming; an
    /// invalid count is no repetition here, and the error when it is read).
    fn starts_counted_repeat(&self) -> bool {
        let mut probe = Reader {
            source: self.source,
            rest: self.rest,
            out: String::new(),
            colon_close: None,
            names: Vec::new(),
            unicode_classes: 0,
        };
        matches!(probe.counted_repeat(), Ok(Some(_)))
    }

    /// After `{`: a counted repetition (`{2}`, `{2,}`, `{2,5}`) as its text, or `None` when Go
    /// reads the `{` as a plain character (`{,2}`, `{x}`, `{01}`), as Go's `parseRepeat` does.
    fn counted_repeat(&mut self) -> Result<Option<String>, Re2Error> {
        // Digits without a leading zero; `u32::MAX` stands for "too many".
        fn number(s: &str) -> Option<(u32, &str)> {
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || (digits > 1 && s.starts_with('0')) {
                return None;
            }
            let (n, rest) = s.split_at(digits);
            Some((n.parse().unwrap_or(u32::MAX), rest))
        }
        let Some((low, rest)) = number(self.rest) else {
            return Ok(None);
        };
        let (high, rest) = match rest.strip_prefix(',') {
            None => (Some(low), rest),
            Some(rest) if rest.starts_with('}') => (None, rest),
            Some(rest) => match number(rest) {
                Some((high, rest)) => (Some(high), rest),
                None => return Ok(None),
            },
        };
        let Some(rest) = rest.strip_prefix('}') else {
            return Ok(None);
        };
        let body = self
            .rest
            .get(..self.rest.len() - rest.len())
            .unwrap_or_default();
        let text = format!("{{{body}");
        if low > MAX_REPEAT || high.is_some_and(|h| h > MAX_REPEAT || h < low) {
            return Err(error(format!("invalid repeat count: `{}`", shorten(&text))));
        }
        self.rest = rest;
        Ok(Some(text))
    }

    /// After `(?`: a named group or flags, as Go spells them. Flags alone (`(?i)`) are given
    /// back to be written by the caller; the rest is written out.
    fn group(&mut self) -> Result<Option<String>, Re2Error> {
        if self.eat("P<") || self.eat("<") {
            let end = self.rest.find('>').ok_or_else(|| {
                error(format!(
                    "invalid named capture: `(?<{}`",
                    shorten(self.rest)
                ))
            })?;
            let name = self.rest.get(..end).unwrap_or("");
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(error(format!(
                    "invalid named capture: `(?P<{}>`",
                    shorten(name)
                )));
            }
            // A plain group: names play no part in matching, and Go allows a name twice.
            self.out.push('(');
            self.rest = self.rest.get(end + 1..).unwrap_or("");
            return Ok(None);
        }
        // Flags: `(?i)`, `(?i-s:...)`; Go knows i, m, s and U.
        let mut flags = String::new();
        let mut negated = false;
        let mut flag_since_sign = false;
        loop {
            let c = self
                .next()
                .ok_or_else(|| error("missing closing ): `(?`"))?;
            match c {
                'i' | 'm' | 's' | 'U' => {
                    flags.push(c);
                    flag_since_sign = true;
                }
                '-' if !negated => {
                    negated = true;
                    flag_since_sign = false;
                    flags.push(c);
                }
                // `(?)` sets nothing, as in Go.
                ')' if flags.is_empty() => return Ok(Some(String::new())),
                ':' | ')' => {
                    if negated && !flag_since_sign {
                        return Err(error(format!(
                            "invalid or unsupported Perl syntax: `(?{flags}{c}`"
                        )));
                    }
                    let text = format!("(?{flags}{c}");
                    if c == ')' {
                        return Ok(Some(text));
                    }
                    self.out.push_str(&text);
                    return Ok(None);
                }
                _ => {
                    return Err(error(format!(
                        "invalid or unsupported Perl syntax: `(?{flags}{c}`"
                    )));
                }
            }
        }
    }

    /// After `\` outside a class.
    fn escape(&mut self) -> Result<(), Re2Error> {
        let c = self
            .peek()
            .ok_or_else(|| error("trailing backslash at end of expression"))?;
        match c {
            'A' | 'z' => {
                self.next();
                self.out.push('\\');
                self.out.push(c);
            }
            // ASCII word boundaries: the crate allows them in a Unicode pattern.
            'b' | 'B' => {
                self.next();
                self.out.push_str("(?-u:\\");
                self.out.push(c);
                self.out.push(')');
            }
            'Q' => {
                self.next();
                let (quoted, rest) = self.rest.split_once("\\E").unwrap_or((self.rest, ""));
                for q in quoted.chars() {
                    push_literal(&mut self.out, q);
                }
                self.rest = rest;
            }
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                self.next();
                let (class, negated) = perl_class(c);
                push_class(&mut self.out, class, negated);
            }
            'p' | 'P' => {
                self.next();
                let class = self.unicode_class(c == 'P')?;
                self.out.push_str(&class);
            }
            _ => {
                let code = self.class_char_escape()?;
                push_code(&mut self.out, code);
            }
        }
        Ok(())
    }

    /// An escape that stands for one character, after `\` (outside or inside a class).
    fn class_char_escape(&mut self) -> Result<u32, Re2Error> {
        let c = self
            .next()
            .ok_or_else(|| error("trailing backslash at end of expression"))?;
        match c {
            // Octal: `\0`, `\012`; `\1` to `\7` only when another octal digit follows (a
            // single one would be a backreference).
            '0'..='7' => {
                let second_is_octal = self.peek().is_some_and(|d| ('0'..='7').contains(&d));
                if c != '0' && !second_is_octal {
                    return Err(error(format!("invalid escape sequence: `\\{c}`")));
                }
                let mut value = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            self.next();
                        }
                        None => break,
                    }
                }
                Ok(value)
            }
            'x' => self.hex_escape(),
            'a' => Ok(0x07),
            'f' => Ok(0x0C),
            't' => Ok(0x09),
            'n' => Ok(0x0A),
            'r' => Ok(0x0D),
            'v' => Ok(0x0B),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(u32::from(c)),
            c => Err(error(format!("invalid escape sequence: `\\{c}`"))),
        }
    }

    /// After `\x`: two hex digits, or any number of them in braces.
    fn hex_escape(&mut self) -> Result<u32, Re2Error> {
        let invalid = |s: &str| error(format!("invalid escape sequence: `\\x{}`", shorten(s)));
        let digits = if self.eat("{") {
            let end = self.rest.find('}').ok_or_else(|| invalid(self.rest))?;
            let digits = self.rest.get(..end).unwrap_or("");
            self.rest = self.rest.get(end + 1..).unwrap_or("");
            digits
        } else {
            let digits = self.rest.get(..2).unwrap_or("");
            self.rest = self.rest.get(2..).unwrap_or("");
            if digits.len() < 2 {
                return Err(invalid(digits));
            }
            digits
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(digits));
        }
        u32::from_str_radix(digits, 16)
            .ok()
            .filter(|&v| v <= 0x10_FFFF)
            .ok_or_else(|| invalid(digits))
    }

    /// After `\p` or `\P`: `\pL`, `\p{Greek}`, `\p{^Greek}`, as the crate spells them.
    fn unicode_class(&mut self, mut negated: bool) -> Result<String, Re2Error> {
        self.unicode_classes += 1;
        if self.unicode_classes > MAX_UNICODE_CLASSES {
            return Err(error(format!(
                "more than {MAX_UNICODE_CLASSES} Unicode classes in one pattern"
            )));
        }
        let name = if self.eat("{") {
            let end = self.rest.find('}').ok_or_else(|| {
                error(format!(
                    "invalid character class: `\\p{{{}`",
                    shorten(self.rest)
                ))
            })?;
            let name = self.rest.get(..end).unwrap_or("");
            self.rest = self.rest.get(end + 1..).unwrap_or("");
            name
        } else {
            let Some(c) = self.peek() else {
                return Err(error("invalid character class: `\\p`"));
            };
            let name = self.rest.get(..c.len_utf8()).unwrap_or("");
            self.next();
            name
        };
        let name = match name.strip_prefix('^') {
            Some(name) => {
                negated = !negated;
                name
            }
            None => name,
        };
        let invalid = || {
            error(format!(
                "invalid character class range: `\\p{{{}}}`",
                shorten(name)
            ))
        };
        // The longest category or script name is 35 characters.
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-'))
        {
            return Err(invalid());
        }
        let p = if negated { 'P' } else { 'p' };
        let normal: String = name
            .chars()
            .filter(|c| !matches!(c, '_' | ' ' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let spelled = match normal.as_str() {
            "any" => format!(
                "{}\\x{{0}}-\\x{{10FFFF}}]",
                if negated { "[^" } else { "[" }
            ),
            "ascii" => format!("{}\\x{{0}}-\\x{{7F}}]", if negated { "[^" } else { "[" }),
            "assigned" => format!("\\{}{{gc=Cn}}", if negated { 'p' } else { 'P' }),
            _ => {
                // Keyed by the name as the crate matches it (case, `_`, ` `, `-` ignored), so
                // the keys are bounded by the names of categories and scripts.
                let key = format!("{p}{normal}");
                if let Some((_, spelled)) = self.names.iter().find(|(k, _)| *k == key) {
                    return Ok(spelled.clone());
                }
                // A general category, else a script: by value, so no binary property (which Go
                // does not know) can answer for the name.
                let by_value = |property: &str| format!("\\{p}{{{property}={name}}}");
                let spelled = [by_value("gc"), by_value("sc")]
                    .into_iter()
                    .find(|class| Regex::new(class).is_ok())
                    .ok_or_else(invalid)?;
                // At most one entry per class read (MAX_UNICODE_CLASSES).
                self.names.push((key, spelled.clone()));
                spelled
            }
        };
        Ok(spelled)
    }

    /// After `[`: a Go bracket class, written out as the crate's.
    fn class(&mut self) -> Result<(), Re2Error> {
        self.out.push('[');
        if self.eat("^") {
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(error("missing closing ]"));
            };
            if c == ']' && !first {
                self.next();
                break;
            }
            first = false;
            // POSIX classes: `[:alpha:]`, `[:^alpha:]`.
            // POSIX classes: `[:alpha:]`; as in Go, whatever lies up to the next `:]` is a name.
            if self.rest.starts_with("[:")
                && let Some(end) = self.next_colon_close()
            {
                let name = self.rest.get(2..end).unwrap_or("");
                let bare = name.strip_prefix('^').unwrap_or(name);
                if !POSIX_CLASSES.contains(&bare) {
                    return Err(error(format!(
                        "invalid character class range: `[:{}:]`",
                        shorten(name)
                    )));
                }
                self.out.push_str("[:");
                self.out.push_str(name);
                self.out.push_str(":]");
                self.rest = self.rest.get(end + 2..).unwrap_or("");
                continue;
            }
            if self.rest.starts_with("\\p") || self.rest.starts_with("\\P") {
                let negated = self.rest.starts_with("\\P");
                self.rest = self.rest.get(2..).unwrap_or("");
                let class = self.unicode_class(negated)?;
                self.out.push_str(&class);
                continue;
            }
            if let Some(letter) = self.rest.strip_prefix('\\').and_then(|r| r.chars().next())
                && matches!(letter, 'd' | 'D' | 's' | 'S' | 'w' | 'W')
            {
                self.rest = self.rest.get(2..).unwrap_or("");
                let (class, negated) = perl_class(letter);
                push_class(&mut self.out, class, negated);
                continue;
            }
            let low = self.class_char()?;
            let mut high = low;
            // `a-z`; a `-` before the closing `]` is a plain `-`.
            if self.rest.starts_with('-') && !self.rest.starts_with("-]") && self.rest.len() > 1 {
                self.next();
                high = self.class_char()?;
                if high < low {
                    return Err(error("invalid character class range"));
                }
            }
            push_range(&mut self.out, low, high);
        }
        self.out.push(']');
        Ok(())
    }

    /// Where the `:]` after the `[:` at the start of `rest` is, as an offset into `rest`. Go
    /// looks for it through the rest of the pattern; the place found is kept, so a run of `[:`
    /// stays linear.
    fn next_colon_close(&mut self) -> Option<usize> {
        let from = self.source.len() - self.rest.len() + 2;
        let found = match self.colon_close {
            Some(None) => None,
            Some(Some(at)) if at >= from => Some(at),
            _ => {
                let found = self
                    .source
                    .get(from..)
                    .and_then(|r| r.find(":]"))
                    .map(|i| i + from);
                self.colon_close = Some(found);
                found
            }
        };
        found.map(|at| at + 2 - from)
    }

    /// One character of a class: itself, or an escape that stands for one.
    fn class_char(&mut self) -> Result<u32, Re2Error> {
        match self.next() {
            Some('\\') => self.class_char_escape(),
            Some(c) => Ok(u32::from(c)),
            None => Err(error("missing closing ]")),
        }
    }
}

/// The ASCII class a Perl escape stands for in Go, and whether it is negated.
fn perl_class(letter: char) -> (&'static str, bool) {
    let class = match letter.to_ascii_lowercase() {
        'd' => "0-9",
        's' => "\\t\\n\\x0C\\r\\x20",
        _ => "0-9A-Za-z_",
    };
    (class, letter.is_ascii_uppercase())
}

fn push_class(out: &mut String, class: &str, negated: bool) {
    out.push_str(if negated { "[^" } else { "[" });
    out.push_str(class);
    out.push(']');
}

/// The POSIX classes Go knows (`regexp/syntax`, perl_groups.go), the same the crate knows.
const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// A character as a literal of the crate's syntax, in or out of a class: ASCII letters and
/// digits and every non-ASCII character as themselves, the rest as a hex escape (so no
/// punctuation can mean anything).
fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
    }
}

/// A code point as a literal. Go reads `\x{D800}` (a surrogate) as a character no text holds;
/// the crate has no such character, so it is a class that matches nothing.
fn push_code(out: &mut String, code: u32) {
    match char::from_u32(code) {
        Some(c) => push_literal(out, c),
        None => out.push_str(NOTHING),
    }
}

/// A range (or one character) of a class, surrogates left out as they match no text.
fn push_range(out: &mut String, low: u32, high: u32) {
    let low = if (0xD800..=0xDFFF).contains(&low) {
        0xE000
    } else {
        low
    };
    let high = if (0xD800..=0xDFFF).contains(&high) {
        0xD7FF
    } else {
        high
    };
    match (char::from_u32(low), char::from_u32(high)) {
        (Some(low), Some(high)) if low <= high => {
            push_literal(out, low);
            if high != low {
                out.push('-');
                push_literal(out, high);
            }
        }
        _ => out.push_str(NOTHING),
    }
}

/// A class that matches no character.
const NOTHING: &str = "[^\\x{0}-\\x{10FFFF}]";

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern).unwrap().is_match(text)
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
        assert!(matches(r"^\w+$", "abc_09"));
        assert!(!matches(r"^\w+$", "café"));
        assert!(!matches(r"^\d$", "٣"));
        assert!(!matches(r"^\s$", "\u{A0}"));
        assert!(!matches(r"^\s$", "\x0B"));
        assert!(matches(r"^[\w.-]+$", "a.b-c"));
        assert!(matches(r"^[^\d]$", "x"));
        assert!(matches(r"^[\D]$", "x"));
        assert!(!matches(r"^[\D]$", "1"));
        assert!(matches(r"\bé", "aé"), "é is no word character in Go");
    }

    #[test]
    fn go_literals_stay_literals() {
        assert!(matches(r"^[[a]+$", "[a["));
        assert!(matches(r"^[a&&b]+$", "a&b"));
        assert!(matches(r"^[a~~b]+$", "~"));
        assert!(matches(r"^a{,2}$", "a{,2}"));
        assert!(matches(r"^a{x}$", "a{x}"));
        assert!(matches(r"^\<\>$", "<>"));
        assert!(matches(r"^\Q.*[\E$", ".*["));
        assert!(matches(r"^\012$", "\n"));
        assert!(matches(r"^[+--]+$", ",-+"));
        assert!(matches(r"^[]a]+$", "]a"));
        assert!(matches(r"^a{2}$", "aa"));
        assert!(matches(r"^a{01}$", "a{01}"));
        // Flags are no operand: a repetition after them repeats what came before.
        assert!(matches(r"^a(?i)(?m)*$", ""));
        assert!(matches(r"^(?:\A)(?i)(?i){1,3}b$", "B"));
        assert!(matches(r"^x(?i)(?:y)$", "xY"));
        // ... and a repetition after flags after a repetition repeats both: `(a+)?`, not lazy.
        assert!(matches(r"^(?:[0[~~]{2}(?i)?)$", ""));
        assert_eq!(
            compile(r"a+(?i)?").unwrap().find("aaa").map(|m| m.end()),
            Some(3)
        );
        assert!(
            matches(r"^(ab)*(?i)*$", "abAB")
                == compile(r"^(?:(ab)*)*(?i)$").unwrap().is_match("abAB")
        );
        // Go has no `\b{start}`: a boundary, then the text `{start}`.
        assert!(matches(r"a\b{start}", "a{start}"));
    }

    #[test]
    fn what_go_rejects_is_an_error() {
        for pattern in [
            r"(?x)a",
            r"(?u)a",
            r"(?R)a",
            r"\p{Alphabetic}",
            r"\p{Age=3.0}",
            r"\p{sc=Greek}",
            r"\u0041",
            r"a{1001}",
            r"a{2,1}",
            r"\1",
            r"\q",
            r"[z-a]",
            r"[a",
            r"a\",
            r"(?P<>a)",
            r"(?i-)a",
            r"[[:foo:]]",
        ] {
            assert!(compile(pattern).is_err(), "{pattern}");
        }
    }

    #[test]
    fn unicode_classes_are_categories_and_scripts() {
        assert!(matches(r"^\pL+$", "éλ"));
        assert!(matches(r"^\p{Greek}+$", "λ"));
        assert!(!matches(r"^\p{Greek}$", "a"));
        assert!(matches(r"^\P{Greek}$", "a"));
        assert!(matches(r"^\p{^Greek}$", "a"));
        assert!(matches(r"^[\p{Lu}\d]+$", "A1"));
        assert!(matches(r"^\p{Any}$", "x"));
        assert!(matches(r"(?i)^\p{Lu}$", "a"));
    }

    #[test]
    fn hostile_patterns_end_in_an_answer() {
        for pattern in [
            "\\",
            "[",
            "(?",
            "\\x{",
            "\\p{",
            "[[:",
            "{",
            "a{99999999999}",
            "\\Q",
        ] {
            let _ = compile(pattern);
        }
        // Linear in the pattern, however it repeats.
        for unit in [
            "[a-z]",
            "\\pL",
            "\\p{Greek}",
            "[[:",
            "{1",
            "x{",
            "(?i)",
            "\\Q",
        ] {
            let _ = translate(&unit.repeat(20_000));
        }
        // Spellings of one name are looked up once.
        let spellings: String = (0..MAX_UNICODE_CLASSES)
            .map(|i| format!("\\p{{{}}}", if i % 2 == 0 { "greek" } else { "G_r-e e_K" }))
            .collect();
        assert!(translate(&spellings).is_ok());
        assert!(translate(&format!("{spellings}\\pL")).is_err());
        assert!(translate(&format!("\\p{{{}}}", "a".repeat(10_000))).is_err());
        assert!(translate(&"a".repeat(MAX_PATTERN + 1)).is_err());
        // Within the length, the compiled program is bounded too (an error past 1 MiB).
        assert!(compile(&"\\w{1000}".repeat(100)).is_err());
        let _ = compile(&"\\pL".repeat(MAX_UNICODE_CLASSES));
    }
}
