//! The states of a job of the background queue.

use serde::{Deserialize, Serialize};

named_enum!(
    /// Where a background job stands (done jobs are deleted).
    BackgroundStatus {
        /// Waiting to be claimed (now, or at its `run_at`).
        Queued = "queued",
        /// Claimed by a worker, whose lease keeps it.
        Running = "running",
        /// Out of attempts: kept for an administrator to retry or discard.
        Failed = "failed",
    }
);
