//! Child processes (terraform, escape-hatch commands): output streamed line by line through the
//! redacting [`Log`], credentials passed in the environment only, and SIGINT/SIGTERM passed on
//! to the child when the run is cancelled.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

use crate::cancel::{Cancel, Reason};
use crate::log::Log;

/// How a child ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// Non-zero exit (or killed by a signal: `None`).
    Failed(Option<i32>),
    /// The run was cancelled and the signal passed on; the child has exited.
    Cancelled(&'static str),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot start `{program}`: {source}; is it installed and on PATH?")]
pub struct SpawnError {
    program: String,
    #[source]
    source: std::io::Error,
}

/// How long a child may take to stop after the signal before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(60);

/// Runs `program args` in `dir` with `env` added, printing its output as it comes.
///
/// # Errors
/// [`SpawnError`] when the program cannot be started.
pub async fn run(
    program: &str,
    args: &[String],
    dir: &Path,
    env: &[(String, String)],
    remove_env: &[&str],
    log: &Log,
    cancel: &Cancel,
) -> Result<Exit, SpawnError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in remove_env {
        command.env_remove(name);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().map_err(|source| SpawnError {
        program: program.to_string(),
        source,
    })?;
    let pid = child.id();
    let out = child
        .stdout
        .take()
        .map(|s| pump(BufReader::new(s), log.clone(), false));
    let err = child
        .stderr
        .take()
        .map(|s| pump(BufReader::new(s), log.clone(), true));

    let status = tokio::select! {
        status = child.wait() => Some(status),
        () = cancel.cancelled() => None,
    };
    let exit = match status {
        Some(Ok(s)) if s.success() => Exit::Success,
        Some(Ok(s)) => Exit::Failed(s.code()),
        Some(Err(_)) => Exit::Failed(None),
        None => {
            let name = match cancel.reason() {
                Some(Reason::Signal(name)) => name,
                Some(Reason::Deadline) | None => "SIGTERM",
            };
            let signal = if name == "SIGINT" {
                nix::sys::signal::Signal::SIGINT
            } else {
                nix::sys::signal::Signal::SIGTERM
            };
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                log.line(&format!(
                    "  passing {name} to `{program}` (pid {pid}) and waiting for it to stop"
                ));
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
            }
            if tokio::time::timeout(STOP_GRACE, child.wait())
                .await
                .is_err()
            {
                log.line(&format!(
                    "  `{program}` did not stop within {}s: killing it",
                    STOP_GRACE.as_secs()
                ));
                let _ = child.kill().await;
            }
            Exit::Cancelled(name)
        }
    };
    // Drain what the child printed before it exited.
    if let Some(h) = out {
        let _ = h.await;
    }
    if let Some(h) = err {
        let _ = h.await;
    }
    Ok(exit)
}

fn pump<R>(mut reader: BufReader<R>, log: Log, stderr: bool) -> tokio::task::JoinHandle<()>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\n', '\r']);
                    // Both streams go to stdout, so a log group keeps them in order;
                    // stderr lines are marked.
                    if stderr {
                        log.child_line(&format!("[stderr] {text}"));
                    } else {
                        log.child_line(text);
                    }
                }
            }
        }
    })
}
