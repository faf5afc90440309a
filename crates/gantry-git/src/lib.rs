//! Git repositories of Gantry projects: where they live, the transport, ref-update checks.
#![doc = include_str!("../README.md")]

pub mod archive;
pub mod blame;
mod ci_inputs;
mod command;
pub mod diff;
pub mod hooks;
mod maintenance;
pub mod pktline;
pub mod read;
pub mod refcheck;
pub mod refs;
pub mod search;
mod storage;
pub mod transport;
pub mod write;

pub use command::GitError;
pub use storage::{Author, RepoId, Repositories};

/// The id of an object: 40 hex digits (SHA-1 repositories).
pub const ZERO_OID: &str = "0000000000000000000000000000000000000000";
