//! Telling the server about a running job: the heartbeat (`state: running` every so often,
//! whose answer also says when the job was canceled) and the final state, retried while the
//! server is away.

use std::time::Duration;

use gantry_ci::protocol::JobUpdate;
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use crate::client::ServerClient;
use crate::process::{JobStopper, StopReason};

/// How often the final state is tried before it is given up.
const FINAL_ATTEMPTS: u32 = 5;
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Sends `state: running` every `every` until aborted; stops the job when the server says so.
pub(crate) async fn heartbeat(
    client: ServerClient,
    job_id: i64,
    job_token: String,
    every: Duration,
    stopper: JobStopper,
) {
    let update = JobUpdate { token: job_token, state: "running".to_owned(), failure_reason: None, exit_code: None };
    let mut ticks = interval_at(Instant::now() + every, every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match client.update_job(job_id, &update).await {
            Ok(answer) if answer.job_stopped() => {
                tracing::info!(job.id = job_id, job.status = ?answer.job_status, "the server stopped the job");
                stopper.stop(StopReason::Canceled);
                return;
            }
            Ok(answer) if !answer.status.is_success() => {
                tracing::warn!(job.id = job_id, status = %answer.status, "the server refused a heartbeat");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(job.id = job_id, error = %error, "cannot send a heartbeat"),
        }
    }
}

/// Sends the job's final state, retrying transport failures and server errors a few times.
pub(crate) async fn final_state(client: &ServerClient, job_id: i64, update: &JobUpdate) {
    let mut retry = FIRST_RETRY;
    for attempt in 1..=FINAL_ATTEMPTS {
        let failure = match client.update_job(job_id, update).await {
            Ok(answer) if answer.status.is_success() => return,
            Ok(answer) if answer.status.is_client_error() => {
                // 403: the job is no longer running there (canceled); others will not get better.
                tracing::info!(job.id = job_id, status = %answer.status, state = update.state, "the server did not take the job's final state");
                return;
            }
            Ok(answer) => format!("the server answered {}", answer.status),
            Err(error) => error.to_string(),
        };
        if attempt == FINAL_ATTEMPTS {
            tracing::error!(
                job.id = job_id,
                error = failure,
                state = update.state,
                "giving up reporting the job's final state"
            );
            return;
        }
        tracing::warn!(job.id = job_id, error = failure, retry_in = ?retry, "cannot report the job's final state; retrying");
        tokio::time::sleep(retry).await;
        retry *= 2;
    }
}
