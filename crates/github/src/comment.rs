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
    /// The newest comment with the marker was updated; `duplicates` tells what became of the
    /// others (a race of two runs can leave two).
    Updated {
        id: u64,
        duplicates: Duplicates,
    },
    /// Nothing to say and no earlier comment: no comment made.
    NothingToSay,
}

/// The other comments with the marker, found while updating the newest.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    /// Deleted (or already gone: a concurrent run deleted it first).
    pub removed: Vec<u64>,
    /// Could not be deleted: the id and why (the update itself stands).
    pub kept: Vec<(u64, String)>,
}

/// Which of the comments listed (oldest first, as GitHub lists them) carry `marker(key)`:
/// `(the one to update, the duplicates to delete)`.
///
/// Only comments whose first line is the marker count. When bots (`user.type: Bot`, e.g.
/// `github-actions[bot]`, the author of every comment made with `github.token`) wrote some of
/// them, only theirs count, so a person's comment that copies the marker is neither edited nor
/// deleted. The one updated is the newest (the highest id); the duplicates are the others by
/// the same author.
#[must_use]
pub fn select(comments: &[Value], key: &str) -> Option<(u64, Vec<u64>)> {
    let mark = marker(key);
    let marked: Vec<(u64, &str, bool)> = comments
        .iter()
        .filter_map(|c| {
            let first = c.get("body").and_then(Value::as_str)?.lines().next()?;
            if first.trim() != mark {
                return None;
            }
            let id = c.get("id").and_then(Value::as_u64)?;
            let user = c.get("user");
            let login = user
                .and_then(|u| u.get("login"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let bot = user
                .and_then(|u| u.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t == "Bot");
            Some((id, login, bot))
        })
        .collect();
    let any_bot = marked.iter().any(|m| m.2);
    let candidates: Vec<&(u64, &str, bool)> = marked.iter().filter(|m| m.2 || !any_bot).collect();
    let newest = candidates.iter().max_by_key(|m| m.0)?;
    let duplicates = candidates
        .iter()
        .filter(|m| m.0 != newest.0 && m.1 == newest.1)
        .map(|m| m.0)
        .collect();
    Some((newest.0, duplicates))
}

/// Updates the comment carrying `marker(key)` on pull request `number`, or creates it.
/// `all_clear` with no earlier comment creates none. Comments are listed page by page (up to
/// 50 pages of 100). Several comments with the marker (two runs that raced to create it) are
/// made one: the newest is updated and the others are deleted ([`select`]).
///
/// # Errors
/// See [`ApiError`]. A duplicate that cannot be deleted is no error: it is in
/// [`Duplicates::kept`].
pub async fn upsert(
    api: &Api,
    number: u64,
    key: &str,
    body: &str,
    all_clear: bool,
) -> Result<Outcome, ApiError> {
    let comments = api
        .list(
            &api.repo_path(&format!("/issues/{number}/comments")),
            "the pull request's comments",
            50,
        )
        .await?;
    match select(&comments, key) {
        Some((id, others)) => {
            api.send(
                Method::PATCH,
                &api.repo_path(&format!("/issues/comments/{id}")),
                Some(&json!({ "body": body })),
                "the pull request comment (update)",
            )
            .await?;
            let mut duplicates = Duplicates::default();
            for other in others {
                match api
                    .send(
                        Method::DELETE,
                        &api.repo_path(&format!("/issues/comments/{other}")),
                        None,
                        "a duplicate pull request comment (delete)",
                    )
                    .await
                {
                    Ok(_) | Err(ApiError::NotFound { .. }) => duplicates.removed.push(other),
                    Err(e) => duplicates.kept.push((other, e.to_string())),
                }
            }
            Ok(Outcome::Updated { id, duplicates })
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

    fn comment(id: u64, body: &str, login: &str, kind: &str) -> Value {
        json!({"id": id, "body": body, "user": {"login": login, "type": kind}})
    }

    #[test]
    fn the_newest_marked_comment_is_kept_and_the_others_by_its_author_go() {
        let mark = format!("{}\nold", marker("ci k8s"));
        let bot = "github-actions[bot]";
        let comments = vec![
            comment(10, "unrelated", "alice", "User"),
            comment(11, &mark, bot, "Bot"),
            comment(
                12,
                &format!("{}\nother target", marker("ci web")),
                bot,
                "Bot",
            ),
            comment(13, &mark, bot, "Bot"),
            comment(14, &format!("quoted:\n{mark}"), "bob", "User"),
            comment(15, &mark, bot, "Bot"),
        ];
        assert_eq!(select(&comments, "ci k8s"), Some((15, vec![11, 13])));
        assert_eq!(select(&comments, "ci web"), Some((12, vec![])));
        assert_eq!(select(&comments, "ci other"), None);
    }

    #[test]
    fn a_person_copying_the_marker_is_neither_edited_nor_deleted() {
        let mark = marker("ci k8s");
        let comments = vec![
            comment(20, &mark, "github-actions[bot]", "Bot"),
            comment(21, &mark, "mallory", "User"),
        ];
        assert_eq!(select(&comments, "ci k8s"), Some((20, vec![])));
        // A token of a person (a PAT): its own comments are the only marked ones.
        let comments = vec![
            comment(30, &mark, "ci-user", "User"),
            comment(31, &mark, "ci-user", "User"),
        ];
        assert_eq!(select(&comments, "ci k8s"), Some((31, vec![30])));
    }
}
