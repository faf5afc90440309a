//! Verify stage: runners, pipelines, jobs and job logs, the projects a job's token may reach
//! (`job_token_scope`), the projects that are CI/CD Catalog resources (`catalog`), and the keys
//! that sign jobs' ID tokens (`signing_keys`).

pub mod artifacts;
pub mod catalog;
pub mod job_token_scope;
pub mod jobs;
pub mod pipelines;
pub mod runners;
pub mod schedules;
pub mod signing_keys;
pub mod statuses;
pub mod traces;
pub mod variables;
