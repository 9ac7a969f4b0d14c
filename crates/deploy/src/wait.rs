//! The one wait loop. A gate is a pure condition (see [`crate::conditions`]) that a poll turns
//! into a [`Check`]; [`wait_until`] polls it with capped exponential backoff and jitter until it
//! is ready, fails, times out (the timeout is a required argument) or the run is cancelled. Each
//! poll prints a progress line with the elapsed time, and every ending says what was last seen.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
pub use crate::conditions::Check;
use crate::duration;
use crate::log::Log;

/// How a wait ended, when it did not end ready.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    #[error("`{what}` did not become ready within {}: last seen: {last_seen}", duration::format(*.timeout))]
    Timeout {
        what: String,
        timeout: Duration,
        last_seen: String,
    },
    #[error("`{what}` failed: {message}")]
    Failed { what: String, message: String },
    #[error("`{what}` was cancelled after {}: last seen: {last_seen}", duration::format(*.elapsed))]
    Cancelled {
        what: String,
        elapsed: Duration,
        last_seen: String,
    },
}

/// Capped exponential backoff with jitter: the n-th delay is drawn from
/// `[d/2, d]` where `d = min(max, initial * 2^n)` ("equal jitter": never zero, never in lockstep).
#[derive(Clone, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    attempt: u32,
}

impl Backoff {
    #[must_use]
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            attempt: 0,
        }
    }

    /// The ceiling of the next delay, before jitter.
    #[must_use]
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(20));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The next delay, with jitter.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=spread))
    }
}

/// Poll settings for gates: first retry after about a second, never more than 15 s apart.
#[must_use]
pub fn gate_backoff() -> Backoff {
    Backoff::new(Duration::from_secs(1), Duration::from_secs(15))
}

/// Polls `poll` until it reports [`Check::Ready`] or [`Check::Failed`], `timeout` passes, or
/// `cancel` fires. Returns the ready message.
///
/// # Errors
/// [`WaitError`] saying how it ended and what was last seen.
pub async fn wait_until<F, Fut>(
    what: &str,
    timeout: Duration,
    mut backoff: Backoff,
    cancel: &Cancel,
    log: &Log,
    mut poll: F,
) -> Result<String, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Check>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut last_seen = "nothing yet (no poll finished)".to_string();
    loop {
        let check = tokio::select! {
            check = poll() => check,
            () = cancel.cancelled() => {
                return Err(WaitError::Cancelled { what: what.to_string(), elapsed: started.elapsed(), last_seen });
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                return Err(WaitError::Timeout { what: what.to_string(), timeout, last_seen });
            }
        };
        let elapsed = duration::format(started.elapsed());
        match check {
            Check::Ready(message) => {
                log.line(&format!("  [{what}] ready after {elapsed}: {message}"));
                return Ok(message);
            }
            Check::Failed(message) => {
                log.line(&format!("  [{what}] failed after {elapsed}: {message}"));
                return Err(WaitError::Failed {
                    what: what.to_string(),
                    message,
                });
            }
            Check::Pending(message) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(WaitError::Timeout {
                        what: what.to_string(),
                        timeout,
                        last_seen: message,
                    });
                }
                let delay = backoff.next_delay().min(deadline - now);
                log.line(&format!(
                    "  [{what}] waiting ({elapsed} elapsed, next check in {}): {message}",
                    duration::format(delay)
                ));
                last_seen = message;
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = cancel.cancelled() => {
                        return Err(WaitError::Cancelled { what: what.to_string(), elapsed: started.elapsed(), last_seen });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let delays: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        let ceilings = [100, 200, 400, 800, 800, 800, 800, 800];
        for (d, c) in delays.iter().zip(ceilings) {
            let c = Duration::from_millis(c);
            assert!(*d >= c / 2 && *d <= c, "{d:?} outside [{:?}, {c:?}]", c / 2);
        }
    }

    #[tokio::test]
    async fn times_out_with_the_last_seen_state() {
        let log = Log::new(eksgate_github::Runner::default());
        let cancel = Cancel::new();
        let mut n = 0;
        let result = wait_until(
            "demo",
            Duration::from_millis(300),
            Backoff::new(Duration::from_millis(20), Duration::from_millis(50)),
            &cancel,
            &log,
            || {
                n += 1;
                let seen = format!("poll {n}: CREATING");
                async move { Check::Pending(seen) }
            },
        )
        .await;
        match result {
            Err(WaitError::Timeout { last_seen, .. }) => assert!(last_seen.ends_with("CREATING")),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn stops_at_once_on_failure_and_on_cancel() {
        let log = Log::new(eksgate_github::Runner::default());
        let cancel = Cancel::new();
        let failed = wait_until(
            "demo",
            Duration::from_secs(10),
            gate_backoff(),
            &cancel,
            &log,
            || async { Check::Failed("cluster is FAILED".into()) },
        )
        .await;
        assert!(matches!(failed, Err(WaitError::Failed { .. })));
        cancel.cancel(crate::cancel::Reason::Signal("SIGTERM"));
        let cancelled = wait_until(
            "demo",
            Duration::from_secs(10),
            gate_backoff(),
            &cancel,
            &log,
            || async { Check::Pending("CREATING".into()) },
        )
        .await;
        assert!(matches!(cancelled, Err(WaitError::Cancelled { .. })));
    }
}
