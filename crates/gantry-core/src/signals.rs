//! Wake-ups that cross servers. A job queued, a log grown, a job's or pipeline's status
//! changed, a background job queued: each wakes this server's waiters at once (runners in a
//! long poll, live log pages, the background worker) and, on PostgreSQL, is sent to every
//! other server sharing the database (`NOTIFY`), whose [`Core::run_signals`] wakes theirs. A
//! lost signal costs only time: every waiter also looks again after a few seconds.

use std::sync::OnceLock;

use crate::Core;
use crate::ci::CiEvent;
use gantry_types::{JobId, PipelineId};

/// How many signals may wait to be sent before new ones are dropped (waiters look again
/// after a few seconds anyway).
const OUTBOX: usize = 4096;

/// Something other servers' waiters may need to hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Signal {
    /// A job became pending: runners waiting for one look at the queue.
    JobQueued,
    /// A log grew, a job's or a pipeline's status changed.
    Ci(CiEvent),
    /// A background job was queued.
    BackgroundQueued,
}

impl Signal {
    fn encode(self) -> String {
        match self {
            Signal::JobQueued => "q".to_owned(),
            Signal::BackgroundQueued => "b".to_owned(),
            Signal::Ci(CiEvent::Trace(job)) => format!("t{job}"),
            Signal::Ci(CiEvent::Job(job)) => format!("j{job}"),
            Signal::Ci(CiEvent::Pipeline(pipeline)) => format!("p{pipeline}"),
        }
    }

    fn decode(text: &str) -> Option<Signal> {
        let (kind, id) = text.split_at_checked(1)?;
        match (kind, id) {
            ("q", "") => Some(Signal::JobQueued),
            ("b", "") => Some(Signal::BackgroundQueued),
            ("t", id) => Some(Signal::Ci(CiEvent::Trace(JobId(id.parse().ok()?)))),
            ("j", id) => Some(Signal::Ci(CiEvent::Job(JobId(id.parse().ok()?)))),
            ("p", id) => Some(Signal::Ci(CiEvent::Pipeline(PipelineId(id.parse().ok()?)))),
            _ => None,
        }
    }
}

/// This server's side of the signals: its name among the servers, and the outbox its
/// [`Core::run_signals`] sends from (unset on SQLite and until it runs).
#[derive(Debug)]
pub(crate) struct Signals {
    server: String,
    outbox: OnceLock<tokio::sync::mpsc::Sender<Signal>>,
}

impl Default for Signals {
    fn default() -> Self {
        Signals { server: crate::secret::random_hex(8), outbox: OnceLock::new() }
    }
}

impl Signals {
    /// Sends `signal` to the other servers (when there may be any).
    pub(crate) fn publish(&self, signal: Signal) {
        if let Some(outbox) = self.outbox.get() {
            let _ = outbox.try_send(signal);
        }
    }

    /// The signal in `payload` when another server sent it.
    fn sent_elsewhere(&self, payload: &str) -> Option<Signal> {
        let (server, signal) = payload.split_once(' ')?;
        if server == self.server {
            return None;
        }
        Signal::decode(signal)
    }
}

impl Core {
    /// Sends this server's signals to the other servers on the database and wakes this
    /// server's waiters on theirs, until `shutdown` resolves. Returns at once on SQLite (one
    /// server only).
    pub async fn run_signals(&self, shutdown: impl std::future::Future<Output = ()>) {
        let listener = match self.db.listen().await {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for other servers' signals; their changes show after a few seconds");
                return;
            }
        };
        let (outbox, mut outgoing) = tokio::sync::mpsc::channel(OUTBOX);
        if self.signals.outbox.set(outbox).is_err() {
            return;
        }
        let send = async {
            let mut batch = Vec::new();
            while outgoing.recv_many(&mut batch, 256).await > 0 {
                // A burst of one signal (a log growing fast) is sent once.
                let mut seen = std::collections::HashSet::new();
                for signal in batch.drain(..).filter(|signal| seen.insert(*signal)) {
                    let payload = format!("{} {}", self.signals.server, signal.encode());
                    if let Err(error) = self.db.signal(&payload).await {
                        tracing::warn!(error = %error, "cannot signal the other servers");
                    }
                }
            }
        };
        let receive = async {
            let mut listener = listener;
            loop {
                match listener.next().await {
                    Ok(Some(payload)) => {
                        if let Some(signal) = self.signals.sent_elsewhere(&payload) {
                            self.wake_locally(signal);
                        }
                    }
                    // The connection was lost and is being made again: what was missed may
                    // have been anything.
                    Ok(None) => {
                        self.wake_locally(Signal::JobQueued);
                        self.wake_locally(Signal::BackgroundQueued);
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "lost the other servers' signals; listening again");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        };
        tokio::select! {
            () = shutdown => {}
            () = send => {}
            () = receive => {}
        }
    }

    /// Wakes this server's waiters for a signal from another server.
    fn wake_locally(&self, signal: Signal) {
        match signal {
            Signal::JobQueued => self.ci.wake_runners(),
            Signal::Ci(event) => self.ci.tell_viewers(event),
            Signal::BackgroundQueued => self.background.wake(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_read_back_and_a_servers_own_are_ignored() {
        for signal in [
            Signal::JobQueued,
            Signal::BackgroundQueued,
            Signal::Ci(CiEvent::Trace(JobId(12))),
            Signal::Ci(CiEvent::Job(JobId(3))),
            Signal::Ci(CiEvent::Pipeline(PipelineId(40))),
        ] {
            assert_eq!(Signal::decode(&signal.encode()), Some(signal));
        }
        for wrong in ["", "x", "t", "tx", "q1", "j-"] {
            assert_eq!(Signal::decode(wrong), None, "{wrong}");
        }
        let signals = Signals::default();
        assert_eq!(signals.sent_elsewhere(&format!("{} q", signals.server)), None);
        assert_eq!(signals.sent_elsewhere("0011223344556677 j5"), Some(Signal::Ci(CiEvent::Job(JobId(5)))));
    }
}
