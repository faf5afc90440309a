//! `gantry ci …` on a laptop: `lint` checks a CI file and the files it includes from the working
//! tree, with the same checks the server makes, and shows the jobs a push would run; `exec`
//! (`ci_exec.rs`) runs them.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use gantry_ci::{Facts, Files, NoPipeline};

#[derive(Subcommand)]
pub enum CiCommand {
    /// Check a CI file (default: .gitlab-ci.yml or .gantry-ci.yml here) and list the jobs a push would run
    Lint {
        /// The CI file
        file: Option<PathBuf>,
        /// Plan the pipeline of a push to this branch (default: the checked-out branch)
        #[arg(long)]
        branch: Option<String>,
    },
    /// Run jobs of the CI file here, in needs order, from the working tree (shell or Docker)
    Exec(crate::ci_exec::ExecArgs),
}

/// Runs the command; the exit status is 0 when the file is valid, 1 when it is not, 2 when it
/// cannot be read.
pub fn run(command: CiCommand) -> i32 {
    match command {
        CiCommand::Lint { file, branch } => lint(file, branch),
        CiCommand::Exec(args) => crate::ci_exec::run(args),
    }
}

/// Included files, read from the repository's working tree (never outside it).
pub(crate) struct WorkingTree(pub(crate) PathBuf);

impl Files for WorkingTree {
    fn read(&self, project: Option<&str>, _: Option<&str>, path: &str) -> Result<String, String> {
        if let Some(project) = project {
            return Err(format!(
                "`{path}` of `{project}`: files of other projects are checked on the server (`/api/v4/projects/:id/ci/lint`)"
            ));
        }
        let full = self.0.join(path);
        let inside = full.canonicalize().ok().is_some_and(|p| p.starts_with(&self.0));
        if !inside {
            return Err(format!("`{path}` does not exist in the repository"));
        }
        std::fs::read_to_string(&full).map_err(|e| format!("`{path}` cannot be read: {e}"))
    }
}

pub(crate) fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}

/// A CI file found in a repository's working tree.
pub(crate) struct Located {
    /// The repository's top folder.
    pub(crate) root: PathBuf,
    /// The file's path from there.
    pub(crate) shown: String,
    pub(crate) source: String,
}

/// Finds the CI file (`file`, else `.gitlab-ci.yml` or `.gantry-ci.yml` here) and reads it.
pub(crate) fn locate(file: Option<PathBuf>) -> Result<Located, String> {
    let file = match file {
        Some(file) => file,
        None => [".gitlab-ci.yml", ".gantry-ci.yml"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("no .gitlab-ci.yml or .gantry-ci.yml here; name the file")?,
    };
    let source = std::fs::read_to_string(&file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let root = git_output(&folder, &["rev-parse", "--show-toplevel"]).map(PathBuf::from).unwrap_or(folder.clone());
    let root = root.canonicalize().unwrap_or(root);
    let shown = file
        .canonicalize()
        .ok()
        .and_then(|f| f.strip_prefix(&root).ok().map(Path::to_path_buf))
        .unwrap_or(file.clone());
    Ok(Located { root, shown: shown.to_string_lossy().into_owned(), source })
}

fn lint(file: Option<PathBuf>, branch: Option<String>) -> i32 {
    let Located { root, shown, source } = match locate(file) {
        Ok(located) => located,
        Err(message) => {
            eprintln!("{message}");
            return 2;
        }
    };
    let shown = PathBuf::from(shown);
    let config = match gantry_ci::load(&WorkingTree(root.clone()), &shown.to_string_lossy(), &source) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} is invalid: {} problem(s)", shown.display(), errors.0.len());
            return 1;
        }
    };
    let branch =
        branch.or_else(|| git_output(&root, &["symbolic-ref", "--short", "HEAD"])).unwrap_or_else(|| "main".into());
    let default_branch = git_output(&root, &["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
        .and_then(|r| r.strip_prefix("origin/").map(str::to_owned))
        .unwrap_or_else(|| "main".into());
    let variables: Vec<(String, String)> = [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", branch.as_str()),
        ("CI_COMMIT_REF_NAME", branch.as_str()),
        ("CI_DEFAULT_BRANCH", default_branch.as_str()),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    let files: Vec<String> =
        git_output(&root, &["ls-files"]).map(|l| l.lines().map(str::to_owned).collect()).unwrap_or_default();
    println!("{} is valid: {} jobs; stages {}", shown.display(), config.jobs.len(), config.stages.join(", "));
    match gantry_ci::plan(&config, &Facts { variables: &variables, changed_paths: None, files: &files }) {
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("a push to `{branch}` would not run: {} problem(s)", errors.0.len());
            1
        }
        Ok(Err(NoPipeline::Workflow)) => {
            println!("a push to `{branch}` creates no pipeline: workflow:rules do not let it run");
            0
        }
        Ok(Err(NoPipeline::NoJobs)) => {
            println!("a push to `{branch}` creates no pipeline: no job's rules let it run");
            0
        }
        Ok(Ok(plan)) => {
            println!("a push to `{branch}` runs {} jobs:", plan.jobs.len());
            for stage in &plan.stages {
                println!("  {stage}");
                for job in plan.jobs.iter().filter(|j| &j.stage == stage) {
                    let when = match job.when {
                        gantry_ci::keywords::When::OnSuccess => String::new(),
                        other => format!(
                            " ({})",
                            serde_json::to_value(other)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        ),
                    };
                    let needs = match &job.needs {
                        Some(needs) => {
                            format!(" needs [{}]", needs.iter().map(|n| n.job.as_str()).collect::<Vec<_>>().join(", "))
                        }
                        None => String::new(),
                    };
                    println!("    {}{when}{needs}", job.name);
                }
            }
            0
        }
    }
}
