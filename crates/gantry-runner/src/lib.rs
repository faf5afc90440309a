//! The CI runner agent: asks a Gantry server for jobs over HTTP and runs them.
#![doc = include_str!("../README.md")]

mod client;
mod config;
mod docker;
mod error;
mod executor;
mod isolation;
mod job;
mod process;
mod tls;
mod trace;
mod workers;

pub use config::{DockerSettings, ExecutorKind, RunnerConfig};
pub use error::RunnerError;
pub use isolation::{Isolation, JobLimits, SandboxSettings, SandboxUnavailable, open_door, sandbox};
pub use tls::install_crypto_provider;
pub use workers::{run, verify};

/// This crate's version, as the runner reports it to the server and prints in each job's log.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
