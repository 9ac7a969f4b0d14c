//! The pull request comment: one per workflow and target, found again by a hidden marker and
//! updated in place.
//!
//! [`render`] is pure: the `eksgate check --format json` report in, Markdown out. Every value
//! that came from the user (file names, messages, help) goes through the policy core's
//! escaping ([`markdown_inline`], [`markdown_code`]), and link targets are percent-encoded, so the
//! only links, HTML and emphasis in the comment are the template's. [`upsert`] does the I/O.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use eksgate_policy::render::escape::{MarkdownContext, markdown_code, markdown_inline};
use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Api, ApiError};

/// GitHub's limit on a comment body, in characters.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// The part of the JSON report (`version: 1`) that the comment shows.
#[derive(Debug, Deserialize)]
pub struct Report {
    pub version: u32,
    pub diagnostics: Vec<Finding>,
    pub summary: Summary,
}

/// One finding of the report.
#[derive(Debug, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: String,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub end_line: usize,
    #[serde(default)]
    pub help: Option<String>,
}

/// The report's counts.
#[derive(Debug, Deserialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// Where the comment's links point.
#[derive(Clone, Debug)]
pub struct Context {
    /// `GITHUB_SERVER_URL`, e.g. `https://github.com`.
    pub server_url: String,
    /// `owner/name`.
    pub repo: String,
    /// The pull request's head commit: line links stay right after later pushes.
    pub head_sha: String,
    /// The checked directory relative to the repository root (`working-directory`), `""` for
    /// the root.
    pub path_prefix: String,
    /// The run's page, where the job summary holds the full report.
    pub run_url: Option<String>,
    /// What makes this comment one of its own: the workflow and the checked target.
    pub key: String,
}

/// The hidden first line that finds the comment again.
#[must_use]
pub fn marker(key: &str) -> String {
    // Only characters that cannot end the HTML comment or break the line.
    let key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | ' ' | '+' | '=') {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    format!("<!-- eksgate:pr-comment {key} -->")
}

/// Percent-encodes a repository path for a URL (keeps `/` and unreserved characters).
#[must_use]
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn repo_path(ctx: &Context, file: &str) -> String {
    let file = file.trim_start_matches("./");
    let prefix = ctx.path_prefix.trim_matches('/').trim_start_matches("./");
    if prefix.is_empty() || prefix == "." {
        file.to_string()
    } else {
        format!("{prefix}/{file}")
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The comment body for `report`, at most `limit` characters (use [`MAX_COMMENT_CHARS`]).
#[must_use]
pub fn render(report: &Report, ctx: &Context, limit: usize) -> String {
    let mut out = marker(&ctx.key);
    out.push('\n');
    let s = &report.summary;
    if report.diagnostics.is_empty() {
        let _ = write!(
            out,
            "### ✅ eksgate: all clear\n\nNo findings in {} checked at `{}`.\n",
            plural(s.files, "file"),
            short_sha(&ctx.head_sha)
        );
        return out;
    }
    let _ = write!(
        out,
        "### ❌ eksgate: {}, {}{} in {}\n\nChecked at `{}`.",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        if s.infos > 0 {
            format!(", {}", plural(s.infos, "note"))
        } else {
            String::new()
        },
        plural(s.files, "file"),
        short_sha(&ctx.head_sha)
    );
    if let Some(url) = &ctx.run_url {
        let _ = write!(out, " Full report: [the job summary]({url}).");
    }
    out.push('\n');

    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for d in &report.diagnostics {
        by_file.entry(d.file.as_str()).or_default().push(d);
    }
    // Room kept for the closing note.
    let budget = limit.saturating_sub(600);
    let mut shown = 0;
    'files: for (file, findings) in &by_file {
        let path = repo_path(ctx, file);
        let blob = format!(
            "{}/{}/blob/{}/{}",
            ctx.server_url.trim_end_matches('/'),
            ctx.repo,
            encode_path(&ctx.head_sha),
            encode_path(&path)
        );
        let heading = format!(
            "\n#### {} ({})\n\n",
            markdown_code(&path, MarkdownContext::Block),
            plural(findings.len(), "finding")
        );
        if out.chars().count() + heading.chars().count() > budget {
            break;
        }
        out.push_str(&heading);
        for d in findings {
            let icon = match d.severity.as_str() {
                "error" => "🔴",
                "warning" => "🟡",
                _ => "🔵",
            };
            let lines = if d.end_line > d.line {
                format!("#L{}-L{}", d.line, d.end_line)
            } else {
                format!("#L{}", d.line)
            };
            let mut item = format!(
                "- {icon} {} {} [line {}]({blob}{lines}): {}\n",
                markdown_code(&d.rule, MarkdownContext::Block),
                markdown_inline(&d.severity, MarkdownContext::Block),
                d.line,
                markdown_inline(&d.message, MarkdownContext::Block)
            );
            if let Some(help) = &d.help {
                let _ = writeln!(
                    item,
                    "  help: {}",
                    markdown_inline(help, MarkdownContext::Block)
                );
            }
            if out.chars().count() + item.chars().count() > budget {
                break 'files;
            }
            out.push_str(&item);
            shown += 1;
        }
    }
    let rest = report.diagnostics.len() - shown;
    if rest > 0 {
        let _ = write!(
            out,
            "\n… and {} more not shown: GitHub limits a comment to {MAX_COMMENT_CHARS} characters.",
            plural(rest, "finding")
        );
        match &ctx.run_url {
            Some(url) => {
                let _ = writeln!(out, " The full list is in [the job summary]({url}).");
            }
            None => out.push_str(" The full list is in the job summary.\n"),
        }
    }
    out
}

fn short_sha(sha: &str) -> String {
    let short: String = sha
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    if short.is_empty() {
        "the head commit".into()
    } else {
        short
    }
}

/// What [`upsert`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Created(u64),
    Updated(u64),
    /// Nothing to say and no earlier comment: no comment made.
    NothingToSay,
}

/// Updates the comment carrying `marker(key)` on pull request `number`, or creates it.
/// `all_clear` with no earlier comment creates none. Comments are listed page by page (up to
/// 50 pages of 100).
///
/// # Errors
/// See [`ApiError`].
pub async fn upsert(
    api: &Api,
    number: u64,
    key: &str,
    body: &str,
    all_clear: bool,
) -> Result<Outcome, ApiError> {
    let mark = marker(key);
    let comments = api
        .list(
            &api.repo_path(&format!("/issues/{number}/comments")),
            "the pull request's comments",
            50,
        )
        .await?;
    let existing = comments.iter().find_map(|c| {
        let body = c.get("body").and_then(Value::as_str)?;
        let first = body.lines().next()?;
        (first.trim() == mark).then(|| c.get("id").and_then(Value::as_u64))?
    });
    match existing {
        Some(id) => {
            api.send(
                Method::PATCH,
                &api.repo_path(&format!("/issues/comments/{id}")),
                Some(&json!({ "body": body })),
                "the pull request comment (update)",
            )
            .await?;
            Ok(Outcome::Updated(id))
        }
        None if all_clear => Ok(Outcome::NothingToSay),
        None => {
            let created = api
                .send(
                    Method::POST,
                    &api.repo_path(&format!("/issues/{number}/comments")),
                    Some(&json!({ "body": body })),
                    "the pull request comment",
                )
                .await?;
            Ok(Outcome::Created(
                created.body.get("id").and_then(Value::as_u64).unwrap_or(0),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            server_url: "https://github.com".into(),
            repo: "acme/platform".into(),
            head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
            path_prefix: "k8s".into(),
            run_url: Some("https://github.com/acme/platform/actions/runs/7".into()),
            key: "ci/check k8s".into(),
        }
    }

    fn finding(file: &str, message: &str) -> Finding {
        Finding {
            rule: "IMDS001".into(),
            severity: "error".into(),
            message: message.into(),
            file: file.into(),
            line: 3,
            end_line: 4,
            help: Some("set `httpTokens: required`".into()),
        }
    }

    fn report(diagnostics: Vec<Finding>) -> Report {
        Report {
            version: 1,
            summary: Summary {
                files: 2,
                errors: diagnostics.len(),
                warnings: 0,
                infos: 0,
            },
            diagnostics,
        }
    }

    #[test]
    fn links_each_finding_to_its_lines_at_the_head_commit() {
        let body = render(
            &report(vec![finding("a b.yaml", "bad")]),
            &ctx(),
            MAX_COMMENT_CHARS,
        );
        assert!(body.starts_with("<!-- eksgate:pr-comment ci/check k8s -->\n"));
        assert!(body.contains(
            "(https://github.com/acme/platform/blob/0123456789abcdef0123456789abcdef01234567/k8s/a%20b.yaml#L3-L4)"
        ));
        assert!(body.contains("#### `k8s/a b.yaml` (1 finding)"));
    }

    #[test]
    fn hostile_text_stays_text() {
        let evil =
            "x --> <img src=x onerror=alert(1)> [y](javascript:alert(1)) $(id) `a`\n::error::z";
        let body = render(
            &report(vec![finding(evil, evil)]),
            &ctx(),
            MAX_COMMENT_CHARS,
        );
        // The marker is the only HTML comment; the hostile text is inside code spans, where
        // GitHub shows it literally (tests/action_runner.py strips code spans and checks the
        // rest).
        assert_eq!(body.matches("<!--").count(), 1, "{body}");
        assert!(body.lines().next().is_some_and(|l| l.ends_with(" -->")));
        assert!(!body.lines().any(|l| l.starts_with("::")));
        assert!(marker("a --> b\n<x>").ends_with("a ___ b__x_ -->"));
    }

    #[test]
    fn a_large_report_is_cut_below_the_limit_with_a_link() {
        let many: Vec<_> = (0..5000)
            .map(|i| finding(&format!("f{}.yaml", i % 40), &"long message ".repeat(10)))
            .collect();
        let body = render(&report(many), &ctx(), MAX_COMMENT_CHARS);
        assert!(body.chars().count() < MAX_COMMENT_CHARS);
        assert!(body.contains("more not shown"));
        assert!(
            body.contains("[the job summary](https://github.com/acme/platform/actions/runs/7)")
        );
    }

    #[test]
    fn all_clear() {
        let body = render(&report(vec![]), &ctx(), MAX_COMMENT_CHARS);
        assert!(body.contains("all clear"));
    }
}
