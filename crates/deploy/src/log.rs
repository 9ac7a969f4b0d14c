//! Everything eksgate prints goes through [`Log`]: it knows the secrets of the run and replaces
//! them with `***` before a byte reaches stdout or stderr, so a secret that slips into a message
//! (an error body, a child's output) is still never shown.
//!
//! In GitHub Actions it also keeps text from becoming a workflow command: the runner takes any
//! line that starts with `::` (after whitespace) as one, and a value from a manifest or the plan
//! can hold a line break. [`Log::line`], [`Log::raw`] and [`Log::error`] print such a line with a
//! `\` before its `::` ([`defuse`]); only eksgate's own commands, whose data the
//! `eksgate_github` functions escape, go out as commands ([`Log::command`]), and the output of a
//! plan's own `command:` stage, which may mean to print them ([`Log::for_trusted_child`]).

use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use eksgate_github::Runner;

/// Where the run's text goes, with secrets redacted.
#[derive(Clone, Debug)]
pub struct Log {
    secrets: Arc<Mutex<Vec<String>>>,
    runner: Runner,
    /// Whether a child's lines may be workflow commands (see [`Log::for_trusted_child`]).
    trusted_child: bool,
}

impl Log {
    #[must_use]
    pub fn new(runner: Runner) -> Self {
        Self {
            secrets: Arc::new(Mutex::new(Vec::new())),
            runner,
            trusted_child: false,
        }
    }

    #[must_use]
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// Registers a secret: masked in Actions (`::add-mask::`, printed before anything else could
    /// show it) and redacted from everything this log prints or writes.
    pub fn secret(&self, value: &str) {
        if value.len() < 4 {
            return;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        if secrets.iter().any(|s| s == value) {
            return;
        }
        let mask = self.runner.mask(value);
        if !mask.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(mask.as_bytes());
            let _ = out.flush();
        }
        secrets.push(value.to_string());
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// `text` with every registered secret replaced by `***`.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = text.to_string();
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    /// Prints a line to stdout.
    pub fn line(&self, text: &str) {
        self.raw(&format!("{text}\n"));
    }

    /// Prints text (already newline-terminated) to stdout.
    pub fn raw(&self, text: &str) {
        self.stdout(&self.safe(text));
    }

    /// Prints a line to stderr (the runner reads workflow commands there too).
    pub fn error(&self, text: &str) {
        let text = self.safe(&format!("{text}\n"));
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    /// Prints workflow commands eksgate wrote (`::error`, `::group`, the `github` report), as
    /// they are: their data is escaped where they were made. Secrets are still redacted.
    pub fn command(&self, text: &str) {
        self.stdout(&self.redact(text));
    }

    /// The same log (same secrets), for the plan's own `command:` stage: a script there may
    /// print workflow commands on purpose, so its lines go out as they are (redacted). Terraform's
    /// output, which echoes values from the manifests and variables, is defused like any text.
    #[must_use]
    pub fn for_trusted_child(&self) -> Log {
        Log {
            trusted_child: true,
            ..self.clone()
        }
    }

    /// Prints a line a child process wrote.
    pub fn child_line(&self, text: &str) {
        if self.trusted_child {
            self.stdout(&self.redact(&format!("{text}\n")));
        } else {
            self.line(text);
        }
    }

    pub fn group(&self, title: &str) {
        self.command(&self.runner.group(title));
    }

    pub fn endgroup(&self) {
        self.command(self.runner.endgroup());
    }

    /// Redacted, and in Actions defused.
    fn safe(&self, text: &str) -> String {
        let text = self.redact(text);
        if self.runner.in_actions {
            defuse(&text)
        } else {
            text
        }
    }

    fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// `text` with a `\` before the `::` of every line that would start a workflow command: the
/// runner trims leading whitespace, and ends a line at CR as well as at LF.
#[must_use]
pub fn defuse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        let body = line.trim_start();
        if body.starts_with("::") {
            out.push_str(line.get(..line.len() - body.len()).unwrap_or_default());
            out.push('\\');
            out.push_str(body);
        } else {
            out.push_str(line);
        }
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defuse_breaks_every_line_that_would_be_a_command() {
        assert_eq!(defuse("plain\n"), "plain\n");
        assert_eq!(
            defuse("a `optional\n     ::stop-commands::tok` b\n"),
            "a `optional\n     \\::stop-commands::tok` b\n"
        );
        // CR ends a line for the runner too; any Unicode whitespace is trimmed.
        assert_eq!(defuse("x\r::error::y"), "x\r\\::error::y");
        assert_eq!(defuse("\u{a0}\t::warning::z\n"), "\u{a0}\t\\::warning::z\n");
        // `::` later in a line is not a command.
        assert_eq!(defuse("see ::this\n"), "see ::this\n");
        for text in ["", "\n", "::", "\r\n::x", "é::"] {
            let done = defuse(text);
            for line in done.split(['\r', '\n']) {
                assert!(!line.trim_start().starts_with("::"), "{text:?} -> {done:?}");
            }
        }
    }

    #[test]
    fn redacts_every_registered_secret_longest_first() {
        let log = Log::new(Runner::default());
        log.secret("abcd");
        log.secret("abcdefgh");
        log.secret("xy"); // too short to redact without mangling ordinary text
        assert_eq!(
            log.redact("key=abcdefgh other=abcd xy"),
            "key=*** other=*** xy"
        );
    }
}
