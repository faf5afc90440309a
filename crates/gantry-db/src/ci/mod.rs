//! Verify stage: runners, pipelines, jobs and job logs, and the projects a job's token may
//! reach (`job_token_scope`).

pub mod artifacts;
pub mod job_token_scope;
pub mod jobs;
pub mod pipelines;
pub mod runners;
pub mod schedules;
pub mod statuses;
pub mod traces;
pub mod variables;
