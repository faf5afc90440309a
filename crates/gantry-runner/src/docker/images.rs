//! The images a job needs: an image the engine has is used as it is, never pulled again; one
//! it lacks is pulled, unless the job's `pull_policy` is `never`. A pull that fails fails the job
//! (`script_failure`, as the image is the job's choice) with GitLab's "failed to pull image".

use bollard::Docker;
use bollard::errors::Error;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;
use tokio::time::sleep_until;

use crate::docker::names::pullable;
use crate::job::log_lines::{Colour, coloured};
use crate::job::step::Step;
use crate::job::{FailureReason, Outcome};
use crate::process::stopped;

/// When an image is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PullPolicy {
    /// Pulled when the engine lacks it (also for GitLab's `always`: this runner never pulls an
    /// image it has).
    IfNotPresent,
    /// Never: an image the engine lacks fails the job.
    Never,
}

impl PullPolicy {
    /// The policy of a job's `pull_policy` list: `never` when it allows nothing else.
    pub(crate) fn of(asked: Option<&[String]>) -> PullPolicy {
        match asked {
            Some(policies) if !policies.is_empty() && policies.iter().all(|policy| policy == "never") => {
                PullPolicy::Never
            }
            _ => PullPolicy::IfNotPresent,
        }
    }
}

/// Makes sure the engine has `image` (`purpose` says what it is for, in the log).
pub(crate) async fn ensure_image(
    docker: &Docker,
    image: &str,
    policy: PullPolicy,
    purpose: &str,
    step: &mut Step<'_>,
) -> Result<(), Outcome> {
    match docker.inspect_image(image).await {
        Ok(found) => {
            let id = found.id.unwrap_or_default();
            step.log.line(&format!("Using docker image {id} for {image}{purpose} ...")).await;
            return Ok(());
        }
        // Absent, or a name the engine cannot parse: a pull says which.
        Err(Error::DockerResponseServerError { status_code: 400..500, .. }) => {}
        Err(error) => return Err(Outcome::system_failure(&format!("cannot look up the image {image}: {error}"))),
    }
    if policy == PullPolicy::Never {
        let message =
            format!("failed to pull image \"{image}\": it is not on this runner and its pull_policy is never");
        step.log.line(&coloured(Colour::Red, &format!("ERROR: {message}"))).await;
        return Err(Outcome::failed(FailureReason::ScriptFailure, None, &message));
    }

    let reference = pullable(image);
    step.log.line(&format!("Pulling docker image {reference} ...")).await;
    let pulled = tokio::select! {
        pulled = pull(docker, &reference) => pulled,
        () = sleep_until(step.deadline) => return Err(step.timed_out().await),
        reason = stopped(step.stop) => return Err(Outcome::Stopped(reason)),
    };
    if let Err(error) = pulled {
        let line = format!("ERROR: failed to pull image \"{reference}\": {}", pull_error_message(&error));
        step.log.line(&coloured(Colour::Red, &line)).await;
        return Err(Outcome::failed(
            FailureReason::ScriptFailure,
            None,
            &format!("failed to pull image \"{reference}\""),
        ));
    }
    Ok(())
}

/// Pulls `reference`, following the engine's progress to its end.
async fn pull(docker: &Docker, reference: &str) -> Result<(), Error> {
    let options = CreateImageOptions { from_image: Some(reference.to_owned()), ..Default::default() };
    let mut progress = docker.create_image(Some(options), None, None);
    while let Some(report) = progress.next().await {
        if let Some(detail) = report?.error_detail {
            let error = detail.message.unwrap_or_else(|| "the engine reported an error".to_owned());
            return Err(Error::DockerStreamError { error });
        }
    }
    Ok(())
}

fn pull_error_message(error: &Error) -> String {
    match error {
        Error::DockerResponseServerError { message, .. } => message.clone(),
        Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_list_of_never_never_pulls() {
        let list = |policies: &[&str]| policies.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        assert_eq!(PullPolicy::of(None), PullPolicy::IfNotPresent);
        assert_eq!(PullPolicy::of(Some(&list(&["never"]))), PullPolicy::Never);
        assert_eq!(PullPolicy::of(Some(&list(&["always"]))), PullPolicy::IfNotPresent);
        assert_eq!(PullPolicy::of(Some(&list(&["never", "if-not-present"]))), PullPolicy::IfNotPresent);
        assert_eq!(PullPolicy::of(Some(&[])), PullPolicy::IfNotPresent);
    }
}
