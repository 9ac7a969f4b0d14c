//! Everything eksgate prints goes through [`Log`]: it knows the secrets of the run and replaces
//! them with `***` before a byte reaches stdout or stderr, so a secret that slips into a message
//! (an error body, a child's output) is still never shown.

use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use eksgate_github::Runner;

/// Where the run's text goes, with secrets redacted.
#[derive(Clone, Debug)]
pub struct Log {
    secrets: Arc<Mutex<Vec<String>>>,
    runner: Runner,
}

impl Log {
    #[must_use]
    pub fn new(runner: Runner) -> Self {
        Self {
            secrets: Arc::new(Mutex::new(Vec::new())),
            runner,
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
        let mask = self.runner.mask(value);
        if !mask.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(mask.as_bytes());
            let _ = out.flush();
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        if !secrets.iter().any(|s| s == value) {
            secrets.push(value.to_string());
            // Longest first, so a secret that contains another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
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
        let text = self.redact(text);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Prints a line to stderr.
    pub fn error(&self, text: &str) {
        let text = self.redact(text);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    pub fn group(&self, title: &str) {
        self.raw(&self.runner.group(title));
    }

    pub fn endgroup(&self) {
        self.raw(self.runner.endgroup());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
