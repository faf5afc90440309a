//! `gantry ci exec [JOB…]`: runs jobs of the working tree's CI file on this machine, in `needs`
//! order, with the shell or Docker executor. The jobs run in the same runner code as on a
//! server; it talks to a coordinator inside this process (on 127.0.0.1) that hands the jobs out
//! one at a time, prints their logs, keeps their artifacts, dotenv variables and caches in a
//! temporary directory, and records how each ended. The sources are the working tree as git
//! sees it: committed and uncommitted changes to tracked files (a `git stash create` commit
//! under a temporary ref), never untracked files.

mod coordinator;

use gantry_types::CiStatus;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_ci::keywords::When;
use gantry_ci::plan::PlannedJob;

use self::coordinator::{Context, Coordinator, Exec, LocalJob};
use crate::ci::{Checkout, WorkingTree, git_output, key_values, locate};

/// The arguments of `gantry ci exec`.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Jobs to run, with the jobs they need (default: every job a push would run but manual ones)
    pub jobs: Vec<String>,
    /// The CI file (default: .gitlab-ci.yml or .gantry-ci.yml at the repository's top)
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Where the jobs run
    #[arg(long, value_enum, default_value = "shell")]
    pub executor: gantry_config::Executor,
    /// The image of jobs without `image:` (Docker executor)
    #[arg(long, default_value = "alpine:3.20")]
    pub docker_image: String,
    /// A variable for every job, over the CI file's (repeatable)
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub variables: Vec<String>,
}

/// Runs the command; the exit status is 0 when every job passed (or was allowed to fail).
pub fn run(args: ExecArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return 2;
        }
    };
    match runtime.block_on(exec(args)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            2
        }
    }
}

/// The jobs to run in order: the named ones and what they need (all but manual ones when none
/// is named), by stage, each after its needs.
fn select(plan: &gantry_ci::Plan, wanted: &[String]) -> Result<Vec<PlannedJob>, String> {
    let mut chosen: BTreeSet<String> = BTreeSet::new();
    if wanted.is_empty() {
        chosen
            .extend(plan.jobs.iter().filter(|j| !matches!(j.when, When::Manual | When::Never)).map(|j| j.name.clone()));
    } else {
        let mut pending: Vec<String> = wanted.to_vec();
        while let Some(name) = pending.pop() {
            let matching: Vec<&PlannedJob> =
                plan.jobs.iter().filter(|j| j.name == name || j.name.starts_with(&format!("{name} "))).collect();
            if matching.is_empty() {
                let known: Vec<&str> = plan.jobs.iter().map(|j| j.name.as_str()).collect();
                return Err(format!("no job `{name}` in this pipeline; its jobs: {}", known.join(", ")));
            }
            for job in matching {
                if chosen.insert(job.name.clone()) {
                    pending.extend(job.needs.iter().flatten().map(|n| n.job.clone()));
                    pending.extend(job.dependencies.iter().cloned());
                }
            }
        }
    }
    let stage_of = |job: &PlannedJob| plan.stages.iter().position(|s| *s == job.stage).unwrap_or(usize::MAX);
    let mut ordered: Vec<PlannedJob> = plan.jobs.iter().filter(|j| chosen.contains(&j.name)).cloned().collect();
    ordered.sort_by_key(stage_of);
    // Within a stage, a job comes after the jobs it needs.
    let mut sorted: Vec<PlannedJob> = Vec::with_capacity(ordered.len());
    while !ordered.is_empty() {
        let ready = ordered
            .iter()
            .position(|job| job.needs.iter().flatten().all(|need| !ordered.iter().any(|other| other.name == need.job)))
            .unwrap_or(0);
        sorted.push(ordered.remove(ready));
    }
    Ok(sorted)
}

async fn exec(args: ExecArgs) -> Result<i32, String> {
    let located = locate(args.file.clone())?;
    let root = located.root.clone();
    let branch = git_output(&root, &["symbolic-ref", "--short", "HEAD"]).unwrap_or_else(|| "main".into());
    let checkout = Checkout::read(&root, &branch);
    let head = git_output(&root, &["rev-parse", "HEAD"]).ok_or("the repository has no commit yet: commit first")?;
    // The working tree's tracked files as a commit that no branch points at.
    let sha = git_output(&root, &["stash", "create", "gantry ci exec"]).unwrap_or(head);
    let snapshot_ref = format!("refs/gantry-exec/{}", std::process::id());
    git_output(&root, &["update-ref", &snapshot_ref, &sha]);
    let _snapshot = RemoveRef { root: root.clone(), name: snapshot_ref.clone() };

    let extra = key_values(&args.variables)?;
    // The snapshot's commit is the one that runs; its message and author are HEAD's.
    let predefined = checkout.predefined(&branch, &sha);
    let files: Vec<String> =
        git_output(&root, &["ls-files"]).map(|l| l.lines().map(str::to_owned).collect()).unwrap_or_default();
    let variables = gantry_ci::payload::rules_variables(&predefined, &[], &extra);
    let facts = gantry_ci::Facts { variables: &variables, changed_paths: None, files: &files };
    let config = gantry_ci::load_for(&WorkingTree(root.clone()), &located.shown, &located.source, &facts, &[])
        .map_err(|errors| format!("{errors}\n{} is invalid", located.shown))?;
    let plan = match gantry_ci::plan(&config, &facts) {
        Err(errors) => return Err(format!("{errors}")),
        Ok(Err(_)) => {
            println!("a push to `{branch}` runs no jobs: nothing to do");
            return Ok(0);
        }
        Ok(Ok(plan)) => plan,
    };
    let selected = select(&plan, &args.jobs)?;
    let names: Vec<&str> = selected.iter().map(|j| j.name.as_str()).collect();
    eprintln!("gantry ci exec: running {} on `{branch}` at {} ({})", names.join(", "), &sha[..8], args.executor_name());

    let work = std::env::temp_dir().join(format!("gantry-ci-exec-{}", std::process::id()));
    std::fs::create_dir_all(work.join("artifacts")).map_err(|e| format!("cannot make {}: {e}", work.display()))?;
    std::fs::create_dir_all(work.join("cache")).map_err(|e| e.to_string())?;
    let _work = RemoveDir(work.clone());
    let jobs = selected
        .into_iter()
        .enumerate()
        .map(|(index, planned)| LocalJob {
            planned,
            id: index as i64 + 1,
            status: CiStatus::Created,
            started: None,
            duration: None,
            archive: None,
            dotenv: Vec::new(),
            allowed_failure: false,
        })
        .collect();
    let coordinator = Coordinator {
        exec: Arc::new(Mutex::new(Exec {
            jobs,
            next: 0,
            running: None,
            halted: false,
            trace_sizes: Default::default(),
        })),
        context: Arc::new(Context {
            root,
            branch,
            project_path: checkout.project_path().to_owned(),
            predefined,
            created_at: coordinator::now_millis(),
            sha,
            snapshot_ref,
            extra,
            token: format!("local-{}", std::process::id()),
            work: work.clone(),
        }),
        done: Arc::new(tokio::sync::Notify::new()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot listen: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let app = coordinator::router(coordinator.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let (executor, isolation) = match args.executor {
        gantry_config::Executor::Shell => (gantry_runner::ExecutorKind::Shell, gantry_runner::Isolation::None),
        gantry_config::Executor::Docker => (
            gantry_runner::ExecutorKind::Docker(gantry_runner::DockerSettings {
                host: None,
                default_image: args.docker_image.clone(),
            }),
            gantry_runner::Isolation::None,
        ),
    };
    let runner = gantry_runner::RunnerConfig {
        url: format!("http://{address}"),
        token: coordinator.context.token.clone(),
        name: format!("gantry-ci-exec-{}", std::process::id()),
        concurrent: 1,
        builds_dir: work.join("builds"),
        executor,
        isolation,
        heartbeat: Duration::from_secs(30),
        tls_ca_file: None,
        clone_url: None,
    };
    std::fs::create_dir_all(&runner.builds_dir).map_err(|e| e.to_string())?;
    let done = coordinator.done.clone();
    let finished = coordinator.exec.clone();
    let ran = gantry_runner::run(runner, async move {
        loop {
            let notified = done.notified();
            if finished.lock().map(|e| e.finished()).unwrap_or(true) {
                return;
            }
            notified.await;
        }
    })
    .await;
    server.abort();
    ran.map_err(|error| format!("cannot run the jobs: {error}"))?;
    let exec = coordinator.exec.lock().map_err(|_| "the coordinator failed".to_owned())?;
    Ok(summary(&exec))
}

impl ExecArgs {
    fn executor_name(&self) -> &'static str {
        match self.executor {
            gantry_config::Executor::Shell => "shell executor",
            gantry_config::Executor::Docker => "Docker executor",
        }
    }
}

/// Prints how each job ended; the exit status.
fn summary(exec: &Exec) -> i32 {
    eprintln!();
    let mut failed = false;
    for job in &exec.jobs {
        let duration = job.duration.map(|d| format!(" in {:.2} s", d.as_secs_f64())).unwrap_or_default();
        let note = if job.status == CiStatus::Failed && job.allowed_failure { " (allowed to fail)" } else { "" };
        eprintln!("  {:<8} {}{duration}{note}", job.status.as_str(), job.planned.name);
        failed |= job.status == CiStatus::Failed && !job.allowed_failure;
    }
    let passed = !failed && !exec.halted;
    eprintln!("{}", if passed { "every job passed" } else { "the pipeline failed" });
    i32::from(!passed)
}

/// Deletes the snapshot's ref when the run ends.
struct RemoveRef {
    root: PathBuf,
    name: String,
}

impl Drop for RemoveRef {
    fn drop(&mut self) {
        git_output(&self.root, &["update-ref", "-d", &self.name]);
    }
}

/// Removes the run's temporary directory when it ends.
struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
