//! Repository housekeeping in the background: after pushes (a domain event), each pushed
//! repository gets its incremental maintenance, at most once per quiet period so a burst of
//! pushes costs one run.

use std::collections::HashMap;
use std::time::Duration;

use gantry_types::ProjectId;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::{Core, DomainEvent};

/// How long a repository is left alone after a push before its maintenance runs.
pub const QUIET_PERIOD: Duration = Duration::from_secs(20);

impl Core {
    /// Runs until `shutdown` resolves: maintains each repository `quiet` after the last push
    /// to it. `events` comes from [`Core::subscribe`], taken before the task starts so no push
    /// made meanwhile is missed.
    pub async fn run_housekeeping(
        &self,
        mut events: tokio::sync::broadcast::Receiver<DomainEvent>,
        quiet: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut due: HashMap<ProjectId, Instant> = HashMap::new();
        tokio::pin!(shutdown);
        loop {
            let next = due.values().min().copied();
            let wait = async {
                match next {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                event = events.recv() => match event {
                    Ok(DomainEvent::Pushed { project, .. }) => {
                        due.insert(project, Instant::now() + quiet);
                    }
                    Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "housekeeping missed push events"),
                    Err(RecvError::Closed) => return,
                },
                () = wait => {
                    let now = Instant::now();
                    let ready: Vec<ProjectId> = due.iter().filter(|(_, at)| **at <= now).map(|(id, _)| *id).collect();
                    for project in ready {
                        due.remove(&project);
                        match self.repos.maintain(project).await {
                            Ok(()) => tracing::debug!(project.id = %project, "repository maintained"),
                            Err(gantry_git::GitError::Missing) => {}
                            Err(error) => tracing::warn!(project.id = %project, error = %error, "repository maintenance failed"),
                        }
                    }
                }
            }
        }
    }
}
