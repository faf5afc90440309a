//! CI's vocabulary: the status of a job, a pipeline or a commit status, when a job runs, and
//! which kind a runner is. Each is stored as GitLab's name for it and decoded at the edge of
//! gantry-db, so the rest of Gantry matches on variants, never on strings.

use serde::{Deserialize, Serialize};

named_enum!(
    /// Where a job, a pipeline or a commit status stands (GitLab's statuses).
    CiStatus {
        /// Waiting for the jobs before it.
        Created = "created",
        /// Ready, waiting for its resource group to be free.
        WaitingForResource = "waiting_for_resource",
        /// A runner is preparing it.
        Preparing = "preparing",
        /// Ready, waiting for a runner.
        Pending = "pending",
        Running = "running",
        Success = "success",
        Failed = "failed",
        /// Asked to stop, not stopped yet.
        Canceling = "canceling",
        Canceled = "canceled",
        /// Not run: its `when` did not hold after the jobs before it.
        Skipped = "skipped",
        /// Waiting for a person to start it.
        Manual = "manual",
        /// Delayed: waiting for its time.
        Scheduled = "scheduled",
    }
);

impl CiStatus {
    /// Finished: it will not change without a retry.
    pub fn is_finished(self) -> bool {
        matches!(self, CiStatus::Success | CiStatus::Failed | CiStatus::Canceled | CiStatus::Skipped)
    }

    /// Still to run or running (a manual job waits for a person, so it is not active).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            CiStatus::Created
                | CiStatus::WaitingForResource
                | CiStatus::Preparing
                | CiStatus::Pending
                | CiStatus::Running
                | CiStatus::Scheduled
        )
    }

    /// Its page may still change: a log may grow or the status move on by itself.
    pub fn is_live(self) -> bool {
        self.is_active() || self == CiStatus::Canceling
    }

    /// A job in this status may be retried (a new attempt of a finished job that ran or was
    /// stopped).
    pub fn is_retryable(self) -> bool {
        matches!(self, CiStatus::Success | CiStatus::Failed | CiStatus::Canceled)
    }

    /// The word shown to people (GitLab's: "passed" for success, "delayed" for scheduled).
    pub fn label(self) -> &'static str {
        match self {
            CiStatus::Success => "passed",
            CiStatus::Scheduled => "delayed",
            CiStatus::WaitingForResource => "waiting",
            CiStatus::Manual => "manual",
            other => other.as_str(),
        }
    }
}

named_enum!(
    /// When a job runs, relative to the jobs before it (`when:`).
    #[derive(Default)]
    When {
        #[default]
        OnSuccess = "on_success",
        OnFailure = "on_failure",
        Always = "always",
        Manual = "manual",
        Delayed = "delayed",
        Never = "never",
    }
);

named_enum!(
    /// Whose jobs a runner takes.
    RunnerType {
        /// Any project's, set up by an administrator.
        Instance = "instance_type",
        /// The projects of one group and its subgroups.
        Group = "group_type",
        /// One project's.
        Project = "project_type",
    }
);

impl RunnerType {
    /// The word shown to people: `instance`, `group` or `project`.
    pub fn label(self) -> &'static str {
        match self {
            RunnerType::Instance => "instance",
            RunnerType::Group => "group",
            RunnerType::Project => "project",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for status in CiStatus::ALL {
            assert_eq!(CiStatus::parse(status.as_str()), Some(*status));
        }
        for when in When::ALL {
            assert_eq!(When::parse(when.as_str()), Some(*when));
        }
        for kind in RunnerType::ALL {
            assert_eq!(RunnerType::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(CiStatus::parse("Success"), None);
        assert_eq!(When::default(), When::OnSuccess);
    }

    #[test]
    fn finished_and_active_do_not_overlap() {
        for status in CiStatus::ALL {
            assert!(!(status.is_finished() && status.is_active()), "{status}");
        }
        assert!(!CiStatus::Manual.is_active() && !CiStatus::Manual.is_finished());
        assert_eq!(CiStatus::Success.label(), "passed");
    }
}
