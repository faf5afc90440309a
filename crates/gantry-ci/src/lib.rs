//! Pipeline definitions from GitLab-CI YAML, pure (see the README below).
#![doc = include_str!("../README.md")]

pub mod assemble;
mod decode;
pub mod error;
pub mod expr;
pub mod keywords;
pub mod mask;
pub mod payload;
pub mod plan;
pub mod predefined;
pub mod protocol;
pub mod reports;
pub mod vars;
pub mod yaml;

pub use assemble::Files;
pub use error::{Diagnostic, Diagnostics, Location, Severity};
pub use keywords::Config;
pub use plan::{Facts, NoPipeline, Plan, PlannedJob, plan};

/// Reads the CI file `path` (its text is `source`; included files come from `files`) into a
/// checked configuration, with its warnings; or every error found, in all the files it includes.
pub fn load(files: &dyn Files, path: &str, source: &str) -> Result<Config, Diagnostics> {
    let assemble::Assembled { root, mut problems, incomplete } = assemble::assemble(files, path, source)?;
    let mut config = decode::decode(&root, incomplete, &mut problems);
    config.warnings = problems.take_warnings();
    problems.into_result(config)
}
