//! Cancellation: SIGINT/SIGTERM (or the run's deadline) flip one flag that every wait and every
//! child process watches.

use std::sync::Arc;

use tokio::sync::watch;

/// Why the run is stopping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// SIGINT or SIGTERM (the name), passed on to the running child.
    Signal(&'static str),
    /// The run's `--timeout` passed; the child gets SIGTERM.
    Deadline,
}

/// A cloneable cancellation flag.
#[derive(Clone, Debug)]
pub struct Cancel {
    tx: Arc<watch::Sender<Option<Reason>>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    #[must_use]
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(None);
        Self { tx: Arc::new(tx) }
    }

    pub fn cancel(&self, reason: Reason) {
        self.tx.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    #[must_use]
    pub fn reason(&self) -> Option<Reason> {
        self.tx.borrow().clone()
    }

    /// Resolves once the run is cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(Option::is_some).await;
    }

    /// Cancels the run with [`Reason::Deadline`] after `after`.
    pub fn deadline(&self, after: std::time::Duration) {
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            this.cancel(Reason::Deadline);
        });
    }

    /// Installs SIGINT and SIGTERM handlers that cancel the run.
    ///
    /// # Errors
    /// When the handlers cannot be installed.
    pub fn listen_for_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let this = self.clone();
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            this.cancel(Reason::Signal(name));
        });
        Ok(())
    }
}
