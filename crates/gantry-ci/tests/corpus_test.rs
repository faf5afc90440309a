//! The corpus of CI files in `tests/corpus`: each is checked and planned, and what comes out (the
//! jobs of the pipeline with their stages, needs and settings, or the errors with their lines
//! and columns) is compared with its snapshot in `tests/snapshots`, after the warnings of a
//! configuration that loads.
//!
//! A file's first line may set the facts of the pipeline it is planned for:
//! `# facts: CI_COMMIT_BRANCH=main CI_PIPELINE_SOURCE=push changed=a.rs,b.rs files=x,y`.
//! Without one it is a push to `main`, the default branch, with unknown changes.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use gantry_ci::keywords::{AllowFailure, When};
use gantry_ci::{Facts, Files, NoPipeline, Plan};

struct Folder(PathBuf);

impl Files for Folder {
    fn read(&self, project: Option<&str>, _: Option<&str>, path: &str) -> Result<String, String> {
        if project.is_some() {
            return Err("other projects are not available here".into());
        }
        std::fs::read_to_string(self.0.join(path)).map_err(|_| format!("`{path}` does not exist"))
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// The variables, changed paths and files a corpus file is planned with.
type FactsOf = (Vec<(String, String)>, Option<Vec<String>>, Vec<String>);

fn facts_of(source: &str) -> FactsOf {
    let mut variables: Vec<(String, String)> = [
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_PROJECT_PATH", "acme/api"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    let mut changed = None;
    let mut files = Vec::new();
    if let Some(line) = source.lines().next().and_then(|l| l.strip_prefix("# facts:")) {
        variables.clear();
        for word in line.split_whitespace() {
            let (key, value) = word.split_once('=').expect("facts are KEY=value");
            match key {
                "changed" => changed = Some(value.split(',').map(str::to_owned).collect()),
                "files" => files = value.split(',').map(str::to_owned).collect(),
                _ => variables.push((key.to_owned(), value.to_owned())),
            }
        }
    }
    (variables, changed, files)
}

fn describe(plan: &Plan) -> String {
    let mut out = String::new();
    if let Some(name) = &plan.name {
        writeln!(out, "name: {name}").unwrap();
    }
    writeln!(out, "stages: {}", plan.stages.join(", ")).unwrap();
    for job in &plan.jobs {
        writeln!(out, "\n{} [{}]", job.name, job.stage).unwrap();
        let when = serde_json::to_value(job.when).unwrap();
        let mut line = format!("  when {}", when.as_str().unwrap());
        if let Some(seconds) = job.start_in {
            write!(line, " in {seconds}s").unwrap();
        }
        match &job.allow_failure {
            AllowFailure::No => {}
            AllowFailure::Yes => line.push_str(", may fail"),
            AllowFailure::ExitCodes(codes) => write!(line, ", may fail with {codes:?}").unwrap(),
        }
        writeln!(out, "{line}").unwrap();
        match &job.needs {
            None => writeln!(out, "  after its earlier stages").unwrap(),
            Some(needs) => {
                let list: Vec<String> = needs
                    .iter()
                    .map(|n| if n.artifacts { n.job.clone() } else { format!("{} (no artifacts)", n.job) })
                    .collect();
                writeln!(out, "  needs [{}]", list.join(", ")).unwrap();
            }
        }
        writeln!(out, "  artifacts from [{}]", job.dependencies.join(", ")).unwrap();
        if !job.variables.is_empty() {
            let vars: Vec<String> = job.variables.iter().map(|v| format!("{}={}", v.key, v.value)).collect();
            writeln!(out, "  variables {}", vars.join(" ")).unwrap();
        }
        let definition = serde_json::to_string(&job.definition).unwrap();
        writeln!(out, "  definition {definition}").unwrap();
    }
    out
}

#[test]
fn corpus_files_give_their_expected_graphs_or_errors() {
    let folder = corpus();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "the corpus has {} files", names.len());
    for path in names {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        let file = format!("{name}.yml");
        let outcome = match gantry_ci::load(&Folder(folder.clone()), &file, &source) {
            Err(errors) => format!("errors:\n{errors}\n"),
            Ok(config) => {
                let mut outcome = String::new();
                if !config.warnings.is_empty() {
                    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
                    writeln!(outcome, "warnings:\n{}\n", warnings.join("\n")).unwrap();
                }
                let (variables, changed, files) = facts_of(&source);
                let facts = Facts { variables: &variables, changed_paths: changed.as_deref(), files: &files };
                outcome.push_str(&match gantry_ci::plan(&config, &facts) {
                    Err(errors) => format!("errors:\n{errors}\n"),
                    Ok(Err(NoPipeline::Workflow)) => "no pipeline: workflow:rules\n".to_owned(),
                    Ok(Err(NoPipeline::NoJobs)) => "no pipeline: no jobs\n".to_owned(),
                    Ok(Ok(plan)) => describe(&plan),
                });
                outcome
            }
        };
        insta::assert_snapshot!(name, outcome);
    }
}

#[test]
fn manual_jobs_outside_rules_may_fail() {
    let config = gantry_ci::load(&Folder(corpus()), "x.yml", "deploy:\n  script: x\n  when: manual\n").unwrap();
    let variables = [("CI_COMMIT_BRANCH".to_owned(), "main".to_owned())];
    let plan =
        gantry_ci::plan(&config, &Facts { variables: &variables, changed_paths: None, files: &[] }).unwrap().unwrap();
    assert_eq!(plan.jobs[0].when, When::Manual);
    assert_eq!(plan.jobs[0].allow_failure, AllowFailure::Yes);
}
