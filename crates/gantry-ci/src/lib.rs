//! Pipeline definitions from GitLab-CI YAML, pure (see the README below).
#![doc = include_str!("../README.md")]

pub mod assemble;
pub mod component;
mod decode;
pub mod error;
pub mod expr;
mod include;
mod inputs;
mod interpolate;
pub mod keywords;
pub mod mask;
pub mod payload;
pub mod plan;
pub mod predefined;
pub mod protocol;
pub mod reports;
pub mod vars;
pub mod yaml;

pub use assemble::{Component, Files, IncludeKind};
pub use error::{Diagnostic, Diagnostics, Location, Severity};
pub use keywords::Config;
pub use plan::{Facts, NoPipeline, Plan, PlannedJob, plan};

/// Reads the CI file `path` (its text is `source`; included files come from `files`) into a
/// checked configuration, with its warnings; or every error found, in all the files it includes.
/// Nothing is known of a pipeline: `include:rules` see no variable and no file (see
/// [`load_for`]).
pub fn load(files: &dyn Files, path: &str, source: &str) -> Result<Config, Diagnostics> {
    load_for(files, path, source, &Facts { variables: &[], changed_paths: None, files: &[] }, &[])
}

/// [`load`] for the pipeline `facts` describe: `include:rules`, the variables in include
/// locations and `expand_vars` see its variables, wildcards and `exists` its files, `changes`
/// its changed paths. `masked` names the variables whose values are secret: `expand_vars`
/// refuses them, and where a location with one of them expanded shows in a problem, the value
/// is shown as `[MASKED]`.
pub fn load_for(
    files: &dyn Files,
    path: &str,
    source: &str,
    facts: &Facts,
    masked: &[String],
) -> Result<Config, Diagnostics> {
    load_given(files, path, source, facts, masked, None)
}

/// [`load_for`] with values for the main file's `spec:inputs`: `inputs` is a hash written in
/// YAML or JSON (`{"environment": "staging", "replicas": 2}`), checked against the header as
/// an `include:inputs` is (types, `options`, `regex`, unknown names).
pub fn load_with_inputs(
    files: &dyn Files,
    path: &str,
    source: &str,
    facts: &Facts,
    masked: &[String],
    inputs: &str,
) -> Result<Config, Diagnostics> {
    let given = yaml::parse(&std::sync::Arc::from("pipeline inputs"), inputs).map_err(Diagnostics::from)?;
    load_given(files, path, source, facts, masked, Some(&given))
}

fn load_given(
    files: &dyn Files,
    path: &str,
    source: &str,
    facts: &Facts,
    masked: &[String],
    given: Option<&yaml::Node>,
) -> Result<Config, Diagnostics> {
    let secrets: Vec<&str> = facts
        .variables
        .iter()
        .filter(|(name, value)| !value.is_empty() && masked.contains(name))
        .map(|(_, value)| value.as_str())
        .collect();
    let hide = |mut problems: Diagnostics| {
        for problem in &mut problems.0 {
            for secret in &secrets {
                problem.message = problem.message.replace(secret, "[MASKED]");
                if problem.at.file.contains(secret) {
                    problem.at.file = problem.at.file.replace(secret, "[MASKED]").into();
                }
            }
        }
        problems
    };
    let assemble::Assembled { root, mut problems, incomplete } =
        assemble::assemble_with_inputs(files, path, source, facts, masked, given).map_err(hide)?;
    let mut config = decode::decode(&root, incomplete, &mut problems);
    let mut problems = hide(problems);
    config.warnings = problems.take_warnings();
    problems.into_result(config)
}
