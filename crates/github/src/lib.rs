//! The GitHub Actions runner contract for a Rust binary.
//!
//! - State goes through *file commands*: `$GITHUB_OUTPUT`, `$GITHUB_ENV` and
//!   `$GITHUB_STEP_SUMMARY`, written in the heredoc form `name<<DELIM` with a random delimiter that
//!   occurs in neither the name nor the value ([`Runner::set_output`], [`Runner::export_env`]).
//! - Everything else is a *workflow command* on stdout: `::add-mask::`, `::group::`,
//!   `::error::`. Their data and properties are escaped ([`escape_data`], [`escape_property`]),
//!   so a value cannot end a command early or start a new one.
//!
//! Formatting is pure (functions returning `String`); [`Runner`] only appends to the files the
//! runner named. Outside Actions (no `GITHUB_ACTIONS=true`) every file command is a no-op, and
//! `::add-mask::` is never printed, because printing it would print the secret.

#[cfg(feature = "api")]
pub mod api;
#[cfg(feature = "api")]
pub mod comment;
#[cfg(feature = "api")]
pub mod deployment;
#[cfg(feature = "api")]
pub mod event;

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a file command could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The runner named a file that cannot be appended to.
    #[error(
        "cannot append to `{path}` (from `{variable}`): {source}; the runner creates this file, so check the step runs on a GitHub runner"
    )]
    Append {
        variable: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A name that GitHub would not accept.
    #[error(
        "`{name}` is not a valid {what} name: use letters, digits, `_` and `-`, starting with a letter or `_`"
    )]
    InvalidName { name: String, what: &'static str },
}

/// Workflow-command escaping is the policy core's (its `github` renderer writes the same
/// commands): `%`, CR and LF in data; also `:` and `,` in property values.
pub use eksgate_policy::render::{escape_data, escape_property};

/// The `::add-mask::` command for `secret` (one line per line of the secret: the runner masks
/// line by line).
#[must_use]
pub fn add_mask_command(secret: &str) -> String {
    secret
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| format!("::add-mask::{}\n", escape_data(l)))
        .collect()
}

/// The `::group::` line that opens a collapsible group in the log.
#[must_use]
pub fn group_command(title: &str) -> String {
    format!("::group::{}\n", escape_data(title))
}

/// The line that closes the group opened last.
#[must_use]
pub const fn endgroup_command() -> &'static str {
    "::endgroup::\n"
}

/// An `::error title=...::message` annotation.
#[must_use]
pub fn error_command(title: &str, message: &str) -> String {
    format!(
        "::error title={}::{}\n",
        escape_property(title),
        escape_data(message)
    )
}

/// A `::warning title=...::message` annotation.
#[must_use]
pub fn warning_command(title: &str, message: &str) -> String {
    format!(
        "::warning title={}::{}\n",
        escape_property(title),
        escape_data(message)
    )
}

/// `name<<DELIM\nvalue\nDELIM\n`, with a random delimiter absent from both name and value.
///
/// # Errors
/// [`Error::InvalidName`] when `name` is empty or has characters GitHub does not allow.
pub fn heredoc_record(name: &str, value: &str, what: &'static str) -> Result<String, Error> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(Error::InvalidName {
            name: name.to_string(),
            what,
        });
    }
    let delimiter = loop {
        let candidate = format!("ghadelimiter_{}", random_hex(16));
        if !name.contains(&candidate) && !value.contains(&candidate) {
            break candidate;
        }
    };
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

fn random_hex(bytes: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let _ = write!(out, "{:02x}", fastrand::u8(..));
    }
    out
}

/// The runner's files, read from the environment once.
#[derive(Clone, Debug, Default)]
pub struct Runner {
    /// `GITHUB_ACTIONS=true`: workflow commands are understood (and `::add-mask::` is safe).
    pub in_actions: bool,
    pub output: Option<PathBuf>,
    pub env: Option<PathBuf>,
    pub summary: Option<PathBuf>,
}

impl Runner {
    /// Reads `GITHUB_ACTIONS`, `GITHUB_OUTPUT`, `GITHUB_ENV` and `GITHUB_STEP_SUMMARY`.
    #[must_use]
    pub fn from_env() -> Self {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            in_actions: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            output: path("GITHUB_OUTPUT"),
            env: path("GITHUB_ENV"),
            summary: path("GITHUB_STEP_SUMMARY"),
        }
    }

    /// The `::add-mask::` lines for `secret`, or nothing outside Actions (where printing the
    /// command would print the secret itself).
    #[must_use]
    pub fn mask(&self, secret: &str) -> String {
        if self.in_actions {
            add_mask_command(secret)
        } else {
            String::new()
        }
    }

    /// Opens a log group in Actions; a plain heading elsewhere.
    #[must_use]
    pub fn group(&self, title: &str) -> String {
        if self.in_actions {
            group_command(title)
        } else {
            format!("==> {title}\n")
        }
    }

    /// Closes the group (nothing outside Actions).
    #[must_use]
    pub fn endgroup(&self) -> &'static str {
        if self.in_actions {
            endgroup_command()
        } else {
            ""
        }
    }

    /// Sets a step output (`$GITHUB_OUTPUT`); does nothing when the runner gave no file.
    ///
    /// # Errors
    /// When the name is invalid or the file cannot be appended to.
    pub fn set_output(&self, name: &str, value: &str) -> Result<(), Error> {
        let record = heredoc_record(name, value, "output")?;
        append(self.output.as_deref(), "GITHUB_OUTPUT", &record)
    }

    /// Exports an environment variable to later steps (`$GITHUB_ENV`).
    ///
    /// # Errors
    /// When the name is invalid or the file cannot be appended to.
    pub fn export_env(&self, name: &str, value: &str) -> Result<(), Error> {
        let record = heredoc_record(name, value, "environment variable")?;
        append(self.env.as_deref(), "GITHUB_ENV", &record)
    }

    /// Appends Markdown to the job summary (`$GITHUB_STEP_SUMMARY`).
    ///
    /// # Errors
    /// When the file cannot be appended to.
    pub fn append_summary(&self, markdown: &str) -> Result<(), Error> {
        append(self.summary.as_deref(), "GITHUB_STEP_SUMMARY", markdown)
    }
}

fn append(path: Option<&Path>, variable: &'static str, text: &str) -> Result<(), Error> {
    let Some(path) = path else {
        return Ok(());
    };
    let fail = |source| Error::Append {
        variable,
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new().append(true).open(path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)
}

/// Escapes text for a Markdown table cell (pipes and line breaks).
#[must_use]
pub fn markdown_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(
            error_command("stage: apps, gate", "line1\nline2"),
            "::error title=stage%3A apps%2C gate::line1%0Aline2\n"
        );
    }

    #[test]
    fn a_value_cannot_inject_a_command() {
        let line = group_command("x\n::add-mask::y");
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn masks_every_line_of_a_multiline_secret() {
        assert_eq!(add_mask_command("a\nb"), "::add-mask::a\n::add-mask::b\n");
        let outside = Runner::default();
        assert_eq!(outside.mask("secret"), "");
    }

    #[test]
    fn heredoc_uses_a_delimiter_absent_from_the_value() {
        let record = heredoc_record("result", "ok\nghadelimiter_x", "output").unwrap_or_default();
        let mut lines = record.lines();
        let head = lines.next().unwrap_or_default();
        let delimiter = head.strip_prefix("result<<").unwrap_or_default();
        assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() > 20);
        assert_eq!(lines.next(), Some("ok"));
        assert_eq!(lines.next(), Some("ghadelimiter_x"));
        assert_eq!(lines.next(), Some(delimiter));
        assert!(heredoc_record("bad name", "v", "output").is_err());
        assert!(heredoc_record("", "v", "output").is_err());
    }

    #[test]
    fn writes_outputs_env_and_summary_to_the_runner_files() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
        let file = |n: &str| {
            let p = dir.path().join(n);
            std::fs::write(&p, "").unwrap_or_else(|e| unreachable!("write: {e}"));
            p
        };
        let runner = Runner {
            in_actions: true,
            output: Some(file("out")),
            env: Some(file("env")),
            summary: Some(file("summary")),
        };
        runner
            .set_output("cluster-name", "demo")
            .unwrap_or_else(|e| unreachable!("{e}"));
        runner
            .export_env("EKSGATE_RESULT", "ok")
            .unwrap_or_else(|e| unreachable!("{e}"));
        runner
            .append_summary("| a |\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap_or_default();
        assert!(read("out").starts_with("cluster-name<<ghadelimiter_"));
        assert!(read("out").contains("\ndemo\n"));
        assert!(read("env").contains("\nok\n"));
        assert_eq!(read("summary"), "| a |\n");
        assert_eq!(markdown_cell("a|b\nc"), "a\\|b<br>c");
    }

    #[test]
    fn a_missing_runner_file_is_an_error_that_names_it() {
        let runner = Runner {
            output: Some(PathBuf::from("/nonexistent/dir/out")),
            ..Runner::default()
        };
        let err = runner.set_output("x", "y").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("GITHUB_OUTPUT")));
    }
}
