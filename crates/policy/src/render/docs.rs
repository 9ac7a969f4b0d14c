//! A rule's documentation (its doc comment) for people: as a Markdown page (`docs/rules/<ID>.md`,
//! where SARIF's `helpUri` points) and for a terminal (`eksgate explain`). The doc comment's
//! example fences (```` ```yaml,fail ````, ```` ```yaml,pass ````) are markers for the docs test;
//! readers see the examples labelled "bad" and "good" instead.

use crate::rules::RuleMeta;

/// One piece of a rule's documentation.
enum Block<'a> {
    /// `## Why`.
    Heading(&'a str),
    /// A line of prose.
    Prose(&'a str),
    /// An example, `good` or not, with its lines.
    Example {
        good: bool,
        lines: Vec<&'a str>,
    },
    Blank,
}

fn blocks(docs: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut lines = docs.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            let good = info.ends_with(",pass");
            let mut body = Vec::new();
            for line in lines.by_ref() {
                if line.trim() == "```" {
                    break;
                }
                body.push(line);
            }
            out.push(Block::Example { good, lines: body });
        } else if let Some(heading) = trimmed.strip_prefix("## ") {
            out.push(Block::Heading(heading));
        } else if trimmed.is_empty() {
            out.push(Block::Blank);
        } else if trimmed == "Use instead:" {
            // The "good" label says it.
        } else {
            out.push(Block::Prose(line));
        }
    }
    out
}

/// The rule's page in Markdown: title, default severity, then the documentation with plain
/// `yaml` fences under **Bad** and **Good**.
#[must_use]
pub fn rule_page(meta: &RuleMeta) -> String {
    let mut out = format!(
        "# {} `{}`\n\nDefault severity: **{}**. Explain it in a terminal with `eksgate explain {}`; turn it off with `--ignore {}` or `spec.overrides.{}.enabled: false`.\n\n",
        meta.id, meta.name, meta.severity, meta.id, meta.id, meta.id
    );
    out.push_str(match meta.fix {
        Some(crate::fix::Applicability::Safe) => {
            "Fixable: **safe** fix, applied by `eksgate check --fix` (see Fix below).\n\n"
        }
        Some(crate::fix::Applicability::Unsafe) => {
            "Fixable: **unsafe** fix, applied by `eksgate check --fix --unsafe-fixes` (see Fix below).\n\n"
        }
        None => "Fixable: no.\n\n",
    });
    for block in blocks(&meta.docs()) {
        match block {
            Block::Heading(h) => {
                out.push_str(&format!("## {h}\n\n"));
            }
            Block::Prose(line) => {
                out.push_str(line);
                out.push('\n');
            }
            Block::Blank => out.push('\n'),
            Block::Example { good, lines } => {
                if !out.ends_with("\n\n") {
                    out.push('\n');
                }
                out.push_str(if good {
                    "**Good:**\n\n"
                } else {
                    "**Bad:**\n\n"
                });
                out.push_str("```yaml\n");
                for line in lines {
                    out.push_str(line);
                    out.push('\n');
                }
                out.push_str("```\n\n");
            }
        }
    }
    let mut out = out.trim_end().to_string();
    out.push('\n');
    out
}

const BOLD: &str = "\u{1b}[1m";
const CODE: &str = "\u{1b}[36m";
const BAD: &str = "\u{1b}[1;31m";
const GOOD: &str = "\u{1b}[1;32m";
const DIM: &str = "\u{1b}[2m";
const RESET: &str = "\u{1b}[0m";

/// The rule's documentation for a terminal: headings in bold, inline code in colour (its
/// backticks kept when there is no colour), examples indented under `bad:` and `good:`.
#[must_use]
pub fn rule_terminal(meta: &RuleMeta, color: bool) -> String {
    let style = |code: &'static str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = format!(
        "{} {}\n\n",
        style(BOLD, &format!("{} ({})", meta.id, meta.name)),
        style(DIM, &format!("default severity: {}", meta.severity)),
    );
    let mut previous_blank = false;
    for block in blocks(&meta.docs()) {
        match block {
            Block::Heading(h) => {
                if !previous_blank {
                    out.push('\n');
                }
                out.push_str(&style(BOLD, h));
                out.push('\n');
            }
            Block::Prose(line) => {
                out.push_str(&inline(line, color));
                out.push('\n');
            }
            Block::Blank => out.push('\n'),
            Block::Example { good, lines } => {
                let label = if good {
                    style(GOOD, "good:")
                } else {
                    style(BAD, "bad:")
                };
                out.push_str(&format!("  {label}\n"));
                for line in lines {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        previous_blank = out.ends_with("\n\n");
    }
    let mut out = out.trim_end().to_string();
    out.push_str(&format!(
        "\n\n{}\n",
        style(DIM, &format!("Documentation: {}", meta.url()))
    ));
    out
}

/// `` `code` `` in colour and `**bold**` in bold; without colour the backticks stay (they mark
/// code where nothing else can) and the asterisks go.
fn inline(line: &str, color: bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(['`', '*']) {
        let (before, tail) = rest.split_at(i);
        out.push_str(before);
        let (marker, style) = if tail.starts_with("**") {
            ("**", BOLD)
        } else if tail.starts_with('`') {
            ("`", CODE)
        } else {
            out.push('*');
            rest = tail.get(1..).unwrap_or("");
            continue;
        };
        let inner = tail.get(marker.len()..).unwrap_or("");
        match inner.find(marker) {
            Some(end) => {
                let text = inner.get(..end).unwrap_or("");
                match (color, marker) {
                    (true, _) => out.push_str(&format!("{style}{text}{RESET}")),
                    (false, "`") => out.push_str(&format!("`{text}`")),
                    (false, _) => out.push_str(text),
                }
                rest = inner.get(end + marker.len()..).unwrap_or("");
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn examples_are_labelled_and_fences_gone() {
        let meta = crate::rules::find("IMDS001").unwrap().meta();
        let text = rule_terminal(meta, false);
        assert!(!text.contains("```"), "{text}");
        assert!(
            text.contains("\n  bad:\n    apiVersion: karpenter.k8s.aws/v1\n"),
            "{text}"
        );
        assert!(text.contains("\n  good:\n    apiVersion:"), "{text}");
        assert!(
            text.contains("`metadataOptions.httpTokens: required`"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
        let colored = rule_terminal(meta, true);
        assert!(colored.contains("\u{1b}[36mmetadataOptions.httpTokens: required\u{1b}[0m"));
        let page = rule_page(meta);
        assert!(page.starts_with("# IMDS001 `imdsv1-allowed`\n"), "{page}");
        assert!(page.contains("**Bad:**\n\n```yaml\n"), "{page}");
        assert!(!page.contains("yaml,fail"), "{page}");
    }

    #[test]
    fn inline_markup() {
        assert_eq!(inline("a `b` **c** d*e", false), "a `b` c d*e");
        assert_eq!(inline("`b`", true), "\u{1b}[36mb\u{1b}[0m");
        assert_eq!(inline("open `tick", false), "open `tick");
    }
}
