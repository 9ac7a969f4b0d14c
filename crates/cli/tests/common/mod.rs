//! Runs the built `eksgate` binary with a deadline, as a user's shell or CI would.
//!
//! Every run is killed after [`DEADLINE`] and the test fails: a hang is a bug as much as a
//! panic is. The environment is scrubbed of the variables that change eksgate's behaviour
//! (`EKSGATE_POLICY`, colour switches), so results do not depend on the developer's shell.
#![allow(
    dead_code,
    reason = "each test binary includes this module and uses a different part of it"
)]

use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Longest any single run may take.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The exit code Rust uses when the main thread panics.
pub const PANIC_EXIT: i32 = 101;

/// The workspace root (where `examples/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// What one run produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The command line, for failure messages.
    pub shown: String,
}

impl Output {
    /// stdout parsed as JSON (for `--format json` runs).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed invalid JSON ({e}):\n{}\nstderr:\n{}",
                self.shown, self.stdout, self.stderr
            )
        })
    }

    /// Fails the test if the process panicked (exit 101 or a panic message).
    pub fn assert_no_panic(&self) {
        assert_ne!(
            self.code, PANIC_EXIT,
            "`{}` panicked:\n{}",
            self.shown, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "`{}` panicked:\n{}",
            self.shown,
            self.stderr
        );
    }

    /// The whole run as one text, for snapshots: exit code, stdout, stderr.
    pub fn transcript(&self) -> String {
        format!(
            "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A command line for the built binary.
pub struct Eksgate {
    command: Command,
    stdin: Option<Vec<u8>>,
    shown: String,
}

/// `eksgate` with `args`, run from the workspace root.
pub fn eksgate<I, S>(args: I) -> Eksgate
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_eksgate"));
    let mut shown = String::from("eksgate");
    for arg in args {
        shown.push(' ');
        shown.push_str(&arg.as_ref().to_string_lossy());
        command.arg(arg);
    }
    for var in [
        "EKSGATE_POLICY",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
        "TERM",
    ] {
        command.env_remove(var);
    }
    command.current_dir(workspace_root());
    Eksgate {
        command,
        stdin: None,
        shown,
    }
}

impl Eksgate {
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs to completion, or kills the process at [`DEADLINE`] and fails the test.
    pub fn run(mut self) -> Output {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = self
            .command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", self.shown));
        if let (Some(bytes), Some(mut pipe)) = (self.stdin.take(), child.stdin.take()) {
            // A writer thread: eksgate may stop reading early (size limit) and close the pipe.
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let mut out = child.stdout.take().expect("stdout is piped");
        let mut err = child.stderr.take().expect("stderr is piped");
        let out_reader = thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let err_reader = thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting on eksgate") {
                break status;
            }
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`{}` did not finish within {} s and was killed",
                    self.shown,
                    DEADLINE.as_secs()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let stdout = out_reader.join().expect("stdout reader");
        let stderr = err_reader.join().expect("stderr reader");
        let Some(code) = status.code() else {
            panic!("`{}` was killed by a signal: {status}", self.shown);
        };
        Output {
            code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
            shown: self.shown,
        }
    }
}

/// `(rule, line)` of every diagnostic of a `--format json` run.
pub fn rule_lines(report: &serde_json::Value) -> Vec<(String, u64)> {
    diagnostics(report)
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The `diagnostics` array of a `--format json` run.
pub fn diagnostics(report: &serde_json::Value) -> &[serde_json::Value] {
    report["diagnostics"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// One line per diagnostic, `file:line:col RULE message`, for failure messages.
pub fn describe(report: &serde_json::Value) -> String {
    diagnostics(report)
        .iter()
        .map(|d| {
            format!(
                "  {}:{}:{} {} {}\n",
                d["file"].as_str().unwrap_or_default(),
                d["line"],
                d["column"],
                d["rule"].as_str().unwrap_or_default(),
                d["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}
