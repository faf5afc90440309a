//! The corpus of CI files in `tests/corpus`: each is checked and planned, and what comes out (the
//! jobs of the pipeline with their stages, needs and settings, or the errors with their lines
//! and columns) is compared with its snapshot in `tests/snapshots`, after the warnings of a
//! configuration that loads.
//!
//! A file's first line may set the facts of the pipeline it is loaded and planned for:
//! `# facts: CI_COMMIT_BRANCH=main CI_PIPELINE_SOURCE=push changed=a.rs,b.rs files=x,y`.
//! Without one it is a push to `main`, the default branch, with unknown changes. Included files
//! come from the corpus folder (see [`Folder`]).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use gantry_ci::component::{ComponentAddress, newest_release};
use gantry_ci::keywords::{AllowFailure, When};
use gantry_ci::{Component, Facts, Files, NoPipeline, Plan};

/// The corpus folder: the pipeline's project's files, other projects' under
/// `projects/<project>/<ref>/` (a component's versions are its refs), templates under
/// `templates/`, and the files of `https://ci.example.com/` under `remote/`.
struct Folder(PathBuf);

/// The corpus server's host, for component addresses.
const HOST: &str = "gantry.test";

impl Folder {
    fn text(&self, path: &Path, shown: &str) -> Result<String, String> {
        let inside = path.components().all(|c| matches!(c, std::path::Component::Normal(_)));
        let text = inside.then(|| std::fs::read_to_string(self.0.join(path)).ok()).flatten();
        text.ok_or_else(|| format!("`{shown}` does not exist"))
    }
}

impl Files for Folder {
    fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String> {
        match project {
            None => self.text(Path::new(path), path),
            Some(project) => {
                let reference = reference.unwrap_or("main");
                let shown = format!("{project}@{reference}:{path}");
                self.text(&Path::new("projects").join(project).join(reference).join(path), &shown)
            }
        }
    }

    fn list(&self, project: &str, reference: Option<&str>) -> Result<Vec<String>, String> {
        fn walk(folder: &Path, prefix: &str, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
                let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
                if entry.path().is_dir() {
                    walk(&entry.path(), &format!("{name}/"), out);
                } else {
                    out.push(name);
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.0.join("projects").join(project).join(reference.unwrap_or("main")), "", &mut files);
        Ok(files)
    }

    fn component(&self, address: &str) -> Result<Component, String> {
        let parsed = ComponentAddress::parse(address, HOST)?;
        let versions: Vec<String> = std::fs::read_dir(self.0.join("projects").join(&parsed.project))
            .map_err(|_| parsed.error("project does not exist or you don't have sufficient permissions"))?
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let newest = newest_release(versions.iter().map(String::as_str), &parsed.version);
        let version = newest.unwrap_or(&parsed.version).to_owned();
        for path in parsed.paths() {
            if let Ok(text) = self.read(Some(&parsed.project), Some(&version), &path) {
                let released = newest.is_some() || versions.contains(&version);
                return Ok(Component {
                    project: parsed.project.clone(),
                    sha: version.clone(),
                    path,
                    text,
                    name: parsed.name.clone(),
                    version: released.then(|| version.clone()),
                });
            }
        }
        Err(parsed.error("content not found"))
    }

    fn template(&self, name: &str) -> Result<String, String> {
        self.text(&Path::new("templates").join(name), name)
            .map_err(|_| format!("Included file `{name}` is empty or does not exist!"))
    }

    fn remote(&self, url: &str) -> Result<String, String> {
        let path = url.strip_prefix("https://ci.example.com/").ok_or_else(|| {
            format!("Remote file `{url}` could not be fetched: the corpus reaches only https://ci.example.com/")
        })?;
        self.text(&Path::new("remote").join(path), url)
            .map_err(|_| format!("Remote file `{url}` could not be fetched because of HTTP code `404` error!"))
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
        if !job.elsewhere.is_empty() {
            let list: Vec<String> = job
                .elsewhere
                .iter()
                .map(|n| match (&n.pipeline, &n.project) {
                    (Some(pipeline), _) => format!("{} of pipeline {pipeline}", n.job),
                    (_, Some((project, reference))) => format!("{} of {project}@{reference}", n.job),
                    _ => n.job.clone(),
                })
                .collect();
            writeln!(out, "  artifacts of other pipelines from [{}]", list.join(", ")).unwrap();
        }
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
        let (variables, changed, files) = facts_of(&source);
        let facts = Facts { variables: &variables, changed_paths: changed.as_deref(), files: &files };
        let outcome = match gantry_ci::load_for(&Folder(folder.clone()), &file, &source, &facts, &[]) {
            Err(errors) => format!("errors:\n{errors}\n"),
            Ok(config) => {
                let mut outcome = String::new();
                if !config.warnings.is_empty() {
                    let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
                    writeln!(outcome, "warnings:\n{}\n", warnings.join("\n")).unwrap();
                }
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
