//! Template placeholders in values, and substituting them before a check.
//!
//! Real repositories are templates: envsubst and Flux `postBuild.substitute` (`${cluster_name}`,
//! `${region:=eu-west-1}`), Terraform `templatefile` (`${var}`), Kubernetes and kustomize
//! variable references (`$(VAR)`), Helm and Go templates (`{{ .Values.x }}`), sed markers
//! (`<<CLUSTER_NAME>>`) and the `<cluster-name>` of documentation excerpts. A value holding one is unknown until it is rendered: the rules judge
//! nothing about it (no pattern, enum, type, syntax or reference verdict), and two names that
//! hold placeholders may turn out equal. `--var`/`--vars-file` substitute first, with
//! [`Substituted::original_span`] mapping every position back into the text the user wrote.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::node::{Node, Span, Value};

/// The template syntaxes eksgate recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `${NAME}`, `${NAME:=default}`, `${var.x}` (envsubst, Flux, Terraform).
    DollarBrace,
    /// `$(NAME)` (Kubernetes dependent environment variables, kustomize vars).
    DollarParen,
    /// `{{ ... }}` (Helm, Go templates, Jinja).
    Braces,
    /// `<<NAME>>` (sed-style markers).
    Angles,
    /// `<cluster-name>` (documentation: "put yours here").
    Angle,
}

/// One placeholder in a string: where it is (byte range) and its syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    pub range: Range<usize>,
    pub syntax: Syntax,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The placeholders of `s`, left to right, none overlapping.
#[must_use]
pub fn find(s: &str) -> Vec<Placeholder> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = bytes.get(i..).unwrap_or_default();
        let found = if rest.starts_with(b"${") {
            closing(bytes, i + 2, b"}").map(|end| (end, Syntax::DollarBrace))
        } else if rest.starts_with(b"$(") {
            dollar_paren(bytes, i + 2).map(|end| (end, Syntax::DollarParen))
        } else if rest.starts_with(b"{{") {
            closing(bytes, i + 2, b"}}").map(|end| (end, Syntax::Braces))
        } else if rest.starts_with(b"<<") {
            angles(bytes, i + 2).map(|end| (end, Syntax::Angles))
        } else if rest.starts_with(b"<") && (i == 0 || bytes.get(i - 1) != Some(&b'<')) {
            angle(bytes, i + 1).map(|end| (end, Syntax::Angle))
        } else {
            None
        };
        match found {
            Some((end, syntax)) => {
                out.push(Placeholder {
                    range: i..end,
                    syntax,
                });
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// The end (exclusive) of a placeholder whose body starts at `from` and ends with `close`:
/// a non-empty body on one line.
fn closing(bytes: &[u8], from: usize, close: &[u8]) -> Option<usize> {
    let body = bytes.get(from..)?;
    let at = body
        .windows(close.len())
        .position(|w| w == close)
        .filter(|&n| n > 0)?;
    let inner = body.get(..at)?;
    if inner.iter().any(|&b| b == b'\n' || b == b'\r') || inner.iter().all(u8::is_ascii_whitespace)
    {
        return None;
    }
    Some(from + at + close.len())
}

/// `<<NAME>>`: a name of letters, digits, `_`, `-` and `.`, so a YAML merge key (`<<`) or a
/// shift is never one.
fn angles(bytes: &[u8], from: usize) -> Option<usize> {
    let body = bytes.get(from..)?;
    let first = *body.first()?;
    if !is_name_start(first) {
        return None;
    }
    let len = body
        .iter()
        .position(|&b| !(is_name(b) || b == b'-' || b == b'.'))?;
    body.get(len..)?
        .starts_with(b">>")
        .then_some(from + len + 2)
}

/// `$(NAME)`: Kubernetes expands only a variable name there (`$(VAR_NAME)`); shell text such as
/// `$(touch x)` is no placeholder.
fn dollar_paren(bytes: &[u8], from: usize) -> Option<usize> {
    let body = bytes.get(from..)?;
    if !is_name_start(*body.first()?) {
        return None;
    }
    let len = body.iter().position(|&b| !is_name(b))?;
    (body.get(len) == Some(&b')')).then_some(from + len + 1)
}

/// `<name>`: a name of letters, digits, `_`, `-` and `.` that starts with a letter, closed by a
/// single `>` (so `a < b`, `<<` and `->` are none).
fn angle(bytes: &[u8], from: usize) -> Option<usize> {
    let body = bytes.get(from..)?;
    if !body.first()?.is_ascii_alphabetic() {
        return None;
    }
    let len = body
        .iter()
        .position(|&b| !(is_name(b) || b == b'-' || b == b'.'))?;
    let after = body.get(len..)?;
    (after.first() == Some(&b'>') && after.get(1) != Some(&b'>')).then_some(from + len + 1)
}

/// Whether `s` holds a placeholder.
#[must_use]
pub fn contains(s: &str) -> bool {
    // Cheap reject first: most values have none of the opening characters.
    (s.contains('$') || s.contains("{{") || s.contains('<')) && !find(s).is_empty()
}

/// Whether `a` and `b` may be the same string once rendered: equal, or one holds placeholders
/// and its literal parts appear in the other in order (a placeholder may stand for anything,
/// including another placeholder).
#[must_use]
pub fn may_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (contains(a), contains(b)) {
        (false, false) => false,
        (true, false) => matches_template(a, b),
        (false, true) => matches_template(b, a),
        // Both unknown: the literal parts could line up in too many ways to refute.
        (true, true) => true,
    }
}

/// Whether the literal `text` can be what `template` renders to: its literal pieces appear in
/// order, the first at the start and the last at the end unless a placeholder is there.
fn matches_template(template: &str, text: &str) -> bool {
    let holes = find(template);
    let mut pieces = Vec::new();
    let mut at = 0;
    for hole in &holes {
        pieces.push(template.get(at..hole.range.start).unwrap_or_default());
        at = hole.range.end;
    }
    pieces.push(template.get(at..).unwrap_or_default());
    let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
        return true;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle = pieces
        .get(1..pieces.len().saturating_sub(1))
        .unwrap_or_default();
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = rest.get(i + piece.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    pieces.len() == 1 || rest.ends_with(last)
}

/// Whether a finding at `node` would judge a value that is not known yet: a string (value or
/// key) holding a placeholder, or with `subtree`, any string below it (CEL rules judge whole
/// objects).
#[must_use]
pub fn is_unknown(node: &Node, subtree: bool) -> bool {
    match &node.value {
        Value::Str(s) => contains(s),
        Value::Seq(items) if subtree => items.iter().any(|n| is_unknown(n, true)),
        Value::Map(entries) if subtree => entries
            .iter()
            .any(|e| is_unknown(&e.key, true) || is_unknown(&e.value, true)),
        _ => false,
    }
}

/// Values for `--var NAME=VALUE` and `--vars-file`, by name.
pub type Vars = BTreeMap<String, String>;

/// A text after substitution, and where each substitution came from.
#[derive(Clone, Debug, Default)]
pub struct Substituted {
    pub text: String,
    /// (range in the original text, range in `text`), in order.
    edits: Vec<(Range<usize>, Range<usize>)>,
}

impl Substituted {
    /// Whether anything was substituted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The original offset of `offset` in the substituted text: inside a substitution, its
    /// start (`end`: its end) in the original; elsewhere shifted by the edits before it.
    #[must_use]
    pub fn original_offset(&self, offset: usize, end: bool) -> usize {
        let mut shift: isize = 0;
        for (original, substituted) in &self.edits {
            if offset < substituted.start || (end && offset == substituted.start) {
                break;
            }
            if offset < substituted.end || (end && offset == substituted.end) {
                return if end && offset > substituted.start {
                    original.end
                } else {
                    original.start
                };
            }
            shift = original.end as isize - substituted.end as isize;
        }
        offset.saturating_add_signed(shift)
    }

    /// `span` of the substituted text as a span of the original.
    #[must_use]
    pub fn original_span(&self, span: Span) -> Span {
        let start = self.original_offset(span.start as usize, false);
        let end = self
            .original_offset(span.end as usize, span.end > span.start)
            .max(start);
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }
}

/// Substitutes `${NAME}` with Flux `postBuild.substitute` semantics (drone/envsubst as Flux
/// runs it): `${NAME}` takes the value when `NAME` is set; `${NAME:=default}` and
/// `${NAME:-default}` take the default when it is unset or empty, `${NAME=default}` and
/// `${NAME-default}` when it is unset; `$${` is a literal `${`. A placeholder whose variable is
/// not set and has no default is left as written (it stays unknown). Bare `$NAME` is not
/// substituted: Flux leaves it alone, and so does eksgate.
#[must_use]
pub fn substitute(text: &str, vars: &Vars) -> Substituted {
    let mut out = Substituted {
        text: String::with_capacity(text.len()),
        edits: Vec::new(),
    };
    if !text.contains("${") {
        out.text.push_str(text);
        return out;
    }
    let mut copied = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while let Some(found) = text.get(i..).and_then(|rest| rest.find('$')) {
        let at = i + found;
        let rest = bytes.get(at..).unwrap_or_default();
        let replacement = if rest.starts_with(b"$${") {
            Some((at + 3, "${".to_string()))
        } else if rest.starts_with(b"${") {
            expand(text, at, vars)
        } else {
            None
        };
        match replacement {
            Some((end, value)) => {
                out.text.push_str(text.get(copied..at).unwrap_or_default());
                let start = out.text.len();
                out.text.push_str(&value);
                out.edits.push((at..end, start..out.text.len()));
                copied = end;
                i = end;
            }
            None => i = at + 1,
        }
    }
    out.text.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// `${NAME...}` at `at`: (end of the placeholder, its value) when it has one.
fn expand(text: &str, at: usize, vars: &Vars) -> Option<(usize, String)> {
    let body_start = at + 2;
    let body_len = text.get(body_start..)?.find(['}', '\n'])?;
    let end = body_start + body_len;
    if text.as_bytes().get(end) != Some(&b'}') {
        return None;
    }
    let body = text.get(body_start..end)?;
    let name_len = body.bytes().position(|b| !is_name(b)).unwrap_or(body.len());
    let name = body.get(..name_len)?;
    if name.is_empty() || !is_name_start(name.as_bytes().first().copied()?) {
        return None;
    }
    let operator = body.get(name_len..)?;
    let value = vars.get(name);
    let chosen = if operator.is_empty() {
        value.cloned()
    } else if let Some(default) = operator
        .strip_prefix(":=")
        .or_else(|| operator.strip_prefix(":-"))
    {
        Some(match value {
            Some(v) if !v.is_empty() => v.clone(),
            _ => default.to_string(),
        })
    } else {
        operator
            .strip_prefix('=')
            .or_else(|| operator.strip_prefix('-'))
            .map(|default| value.cloned().unwrap_or_else(|| default.to_string()))
    }?;
    Some((end + 1, chosen))
}

/// Reads a `--vars-file`: a YAML or JSON mapping of names to values (`cluster_name: demo`), a
/// ConfigMap or Secret (`data`/`stringData`, as Flux `substituteFrom` reads them; Secret
/// `data` is base64 and not decoded), or, for a name ending in `.env`, `NAME=VALUE` lines.
/// Numbers and booleans are taken as their text.
///
/// # Errors
/// Why the file cannot be used, with its name, line and column.
pub fn read_vars(source: &crate::source::SourceFile) -> Result<Vars, String> {
    if source.name.ends_with(".env") {
        return read_dotenv(source);
    }
    let at = |offset: u32| {
        let (line, column) = source.line_col(offset);
        format!("{}:{line}:{column}", source.name)
    };
    let loaded = crate::source::load(0, source, &crate::source::Limits::default());
    if let Some(note) = loaded
        .notes
        .iter()
        .find(|n| n.kind == crate::source::ParseNoteKind::Syntax)
    {
        return Err(format!("{}: {}", at(note.span.start), note.message));
    }
    let mut vars = Vars::new();
    for doc in &loaded.documents {
        let map = match doc.kind() {
            Some("ConfigMap") => doc.root.get("data"),
            Some("Secret") => doc.root.get("stringData"),
            _ => Some(&doc.root),
        };
        let Some(map) = map else { continue };
        if !matches!(map.value, Value::Map(_)) {
            return Err(format!(
                "{}: expected a mapping of variable names to values",
                at(map.span.start)
            ));
        }
        for entry in map.entries() {
            let (Some(name), Some(value)) = (entry.key.scalar_text(), entry.value.scalar_text())
            else {
                return Err(format!(
                    "{}: a variable's value must be a string, number or boolean",
                    at(entry.value.span.start)
                ));
            };
            if !valid_name(&name) {
                return Err(format!(
                    "{}: `{}` is not a variable name (letters, digits and `_`, not starting with a digit)",
                    at(entry.key.span.start),
                    crate::text::shorten(&name)
                ));
            }
            vars.insert(name, value);
        }
    }
    Ok(vars)
}

/// A name `${NAME}` can refer to (Flux: `^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
#[must_use]
pub fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.first().is_some_and(|&b| is_name_start(b)) && bytes.iter().all(|&b| is_name(b))
}

fn read_dotenv(source: &crate::source::SourceFile) -> Result<Vars, String> {
    let mut vars = Vars::new();
    for (index, line) in source.text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let Some((name, value)) = body.split_once('=') else {
            return Err(format!(
                "{}:{}:1: expected NAME=VALUE",
                source.name,
                index + 1
            ));
        };
        let name = name.trim();
        if !valid_name(name) {
            return Err(format!(
                "{}:{}:1: `{}` is not a variable name",
                source.name,
                index + 1,
                crate::text::shorten(name)
            ));
        }
        let value = value.trim();
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        vars.insert(name.to_string(), unquoted.to_string());
    }
    Ok(vars)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn syntaxes(s: &str) -> Vec<Syntax> {
        find(s).into_iter().map(|p| p.syntax).collect()
    }

    #[test]
    fn finds_each_syntax() {
        assert_eq!(syntaxes("${EKS_CLUSTER_NAME}"), [Syntax::DollarBrace]);
        assert_eq!(
            syntaxes("karpenter-${var.cluster}-nodes"),
            [Syntax::DollarBrace]
        );
        assert_eq!(syntaxes("$(CLUSTER_NAME)"), [Syntax::DollarParen]);
        assert_eq!(syntaxes("{{ .Values.clusterName }}"), [Syntax::Braces]);
        assert_eq!(syntaxes("<<AMD64PREVAMI>>"), [Syntax::Angles]);
        assert_eq!(syntaxes("<cluster-name>"), [Syntax::Angle]);
        assert_eq!(
            syntaxes("KarpenterNodeRole-<YOUR_CLUSTER>"),
            [Syntax::Angle]
        );
        assert_eq!(
            syntaxes("${a}-{{b}}-<<C>>"),
            [Syntax::DollarBrace, Syntax::Braces, Syntax::Angles]
        );
    }

    #[test]
    fn ordinary_values_hold_none() {
        for s in [
            "optional",
            "<<",
            "a << b",
            "$",
            "${}",
            "$( )",
            "$(touch PWNED)",
            "{{}}",
            "price: $5",
            "ami-0123456789abcdef0",
            "${unclosed",
            "<<1NAME>>",
            "a < b > c",
            "<1>",
            "x->y",
            "{\"json\": true}",
        ] {
            assert!(!contains(s), "{s}");
        }
    }

    #[test]
    fn placeholders_may_equal_what_they_could_render_to() {
        assert!(may_equal("${name}", "${ec2nodeclass_ref}"));
        assert!(may_equal("${name}", "default"));
        assert!(may_equal("karpenter-${env}", "karpenter-prod"));
        assert!(!may_equal("karpenter-${env}", "other-prod"));
        assert!(may_equal("${env}-nodes", "prod-nodes"));
        assert!(!may_equal("${env}-nodes", "prod-pool"));
        assert!(may_equal("a-${x}-b-${y}-c", "a-1-b-2-c"));
        assert!(!may_equal("a-${x}-b-${y}-c", "a-1-2-c"));
        assert!(!may_equal("default", "infra"));
    }

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn substitutes_as_flux_does() {
        let v = vars(&[("cluster", "demo"), ("empty", "")]);
        let s = substitute(
            "a: ${cluster}\nb: ${missing}\nc: ${missing:=x}\nd: ${empty:=y}\ne: ${empty=z}\nf: $cluster\ng: $${cluster}\n",
            &v,
        );
        assert_eq!(
            s.text,
            "a: demo\nb: ${missing}\nc: x\nd: y\ne: \nf: $cluster\ng: ${cluster}\n"
        );
    }

    #[test]
    fn positions_map_back_into_the_original() {
        let original = "a: ${cluster}\nb: x\n";
        let s = substitute(original, &vars(&[("cluster", "averyverylongname")]));
        let b = s.text.find("b: x").unwrap();
        assert_eq!(s.original_offset(b, false), original.find("b: x").unwrap());
        let value = s.text.find("averyverylongname").unwrap();
        let span = Span {
            start: value as u32,
            end: (value + "averyverylongname".len()) as u32,
        };
        let back = s.original_span(span);
        assert_eq!(
            &original[back.start as usize..back.end as usize],
            "${cluster}"
        );
        // A span inside the substituted value points at the whole placeholder.
        let inner = Span {
            start: value as u32 + 2,
            end: value as u32 + 4,
        };
        let back = s.original_span(inner);
        assert_eq!(
            &original[back.start as usize..back.end as usize],
            "${cluster}"
        );
        // The end of the text maps to the end of the original.
        assert_eq!(s.original_offset(s.text.len(), true), original.len());
    }

    #[test]
    fn reads_vars_files() {
        let yaml =
            crate::source::SourceFile::new("vars.yaml", "cluster_name: demo\nhop_limit: 1\n");
        let v = read_vars(&yaml).unwrap();
        assert_eq!(v["cluster_name"], "demo");
        assert_eq!(v["hop_limit"], "1");
        let cm = crate::source::SourceFile::new(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vars}\ndata:\n  region: eu-west-1\n",
        );
        assert_eq!(read_vars(&cm).unwrap()["region"], "eu-west-1");
        let env = crate::source::SourceFile::new("x.env", "# c\nexport A=1\nB=\"two words\"\n");
        let v = read_vars(&env).unwrap();
        assert_eq!((v["A"].as_str(), v["B"].as_str()), ("1", "two words"));
        let bad = crate::source::SourceFile::new("bad.yaml", "a: b\nnested: {x: 1}\n");
        assert_eq!(
            read_vars(&bad).unwrap_err(),
            "bad.yaml:2:9: a variable's value must be a string, number or boolean"
        );
        let bad = crate::source::SourceFile::new("bad.yaml", "9lives: x\n");
        assert!(
            read_vars(&bad)
                .unwrap_err()
                .starts_with("bad.yaml:1:1: `9lives`")
        );
    }
}
