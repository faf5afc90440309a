//! Verify stage: runners, pipelines, jobs and job logs.

pub mod artifacts;
pub mod jobs;
pub mod pipelines;
pub mod runners;
pub mod schedules;
pub mod statuses;
pub mod traces;
pub mod variables;
