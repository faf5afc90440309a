//! `gantry ci exec [JOB…]`: runs jobs of the working tree's CI file on this machine, in `needs`
//! order, with the shell or Docker executor. The jobs run in the same runner code as on a
//! server; it talks to a coordinator inside this process (on 127.0.0.1) that hands the jobs out
//! one at a time, prints their logs, keeps their artifacts, dotenv variables and caches in a
//! temporary directory, and records how each ended. The sources are the working tree as git
//! sees it: committed and uncommitted changes to tracked files (a `git stash create` commit
//! under a temporary ref), never untracked files.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use gantry_ci::keywords::{AllowFailure, CacheKey, When};
use gantry_ci::plan::PlannedJob;
use gantry_ci::protocol::{self, JobPayload, JobVariable};

use crate::ci::{WorkingTree, git_output, locate};

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

/// One job of this run.
struct LocalJob {
    planned: PlannedJob,
    id: i64,
    status: &'static str,
    started: Option<Instant>,
    duration: Option<Duration>,
    archive: Option<PathBuf>,
    dotenv: Vec<(String, String)>,
}

/// What every job shares.
struct Context {
    root: PathBuf,
    branch: String,
    default_branch: String,
    sha: String,
    snapshot_ref: String,
    extra: Vec<(String, String)>,
    token: String,
}

struct Exec {
    jobs: Vec<LocalJob>,
    next: usize,
    running: Option<usize>,
    /// A job failed that may not: the rest are skipped.
    halted: bool,
    work: PathBuf,
    trace_sizes: std::collections::HashMap<i64, u64>,
}

#[derive(Clone)]
struct Coordinator {
    exec: Arc<Mutex<Exec>>,
    context: Arc<Context>,
    done: Arc<tokio::sync::Notify>,
}

impl Exec {
    fn finished(&self) -> bool {
        self.running.is_none() && (self.halted || self.next >= self.jobs.len())
    }
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
    let config = gantry_ci::load(&WorkingTree(located.root.clone()), &located.shown, &located.source)
        .map_err(|errors| format!("{errors}\n{} is invalid", located.shown))?;
    let root = located.root;
    let branch = git_output(&root, &["symbolic-ref", "--short", "HEAD"]).unwrap_or_else(|| "main".into());
    let default_branch = git_output(&root, &["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
        .and_then(|r| r.strip_prefix("origin/").map(str::to_owned))
        .unwrap_or_else(|| branch.clone());
    let head = git_output(&root, &["rev-parse", "HEAD"]).ok_or("the repository has no commit yet: commit first")?;
    // The working tree's tracked files as a commit that no branch points at.
    let sha = git_output(&root, &["stash", "create", "gantry ci exec"]).unwrap_or(head);
    let snapshot_ref = format!("refs/gantry-exec/{}", std::process::id());
    git_output(&root, &["update-ref", &snapshot_ref, &sha]);
    let _snapshot = RemoveRef { root: root.clone(), name: snapshot_ref.clone() };

    let mut extra = Vec::new();
    for pair in &args.variables {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("--var {pair}: write it as KEY=VALUE"))?;
        extra.push((key.to_owned(), value.to_owned()));
    }
    let facts_vars = predefined(&root, &branch, &default_branch, &sha);
    let files: Vec<String> =
        git_output(&root, &["ls-files"]).map(|l| l.lines().map(str::to_owned).collect()).unwrap_or_default();
    let variables: Vec<(String, String)> = facts_vars.iter().cloned().chain(extra.iter().cloned()).collect();
    let plan =
        match gantry_ci::plan(&config, &gantry_ci::Facts { variables: &variables, changed_paths: None, files: &files })
        {
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
            status: "created",
            started: None,
            duration: None,
            archive: None,
            dotenv: Vec::new(),
        })
        .collect();
    let coordinator = Coordinator {
        exec: Arc::new(Mutex::new(Exec {
            jobs,
            next: 0,
            running: None,
            halted: false,
            work: work.clone(),
            trace_sizes: Default::default(),
        })),
        context: Arc::new(Context {
            root,
            branch,
            default_branch,
            sha,
            snapshot_ref,
            extra,
            token: format!("local-{}", std::process::id()),
        }),
        done: Arc::new(tokio::sync::Notify::new()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot listen: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let app = axum::Router::new()
        .route("/api/v4/runners/verify", post(|| async { Json(serde_json::json!({"id": 0})) }))
        .route("/api/v4/jobs/request", post(request_job))
        .route("/api/v4/jobs/{id}", put(update_job))
        .route("/api/v4/jobs/{id}/trace", patch(append_trace))
        .route("/api/v4/jobs/{id}/artifacts", post(upload_artifact).get(download_artifact))
        .route("/api/v4/jobs/{id}/cache", get(download_cache).put(upload_cache))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 30))
        .with_state(coordinator.clone());
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
        let allowed = !matches!(job.planned.allow_failure, AllowFailure::No);
        let duration = job.duration.map(|d| format!(" in {:.2} s", d.as_secs_f64())).unwrap_or_default();
        let note = if job.status == "failed" && allowed { " (allowed to fail)" } else { "" };
        eprintln!("  {:<8} {}{duration}{note}", job.status, job.planned.name);
        failed |= job.status == "failed" && !allowed;
    }
    let passed = !failed && !exec.halted;
    eprintln!("{}", if passed { "every job passed" } else { "the pipeline failed" });
    i32::from(!passed)
}

/// The predefined variables of a local run (GitLab's names).
fn predefined(root: &Path, branch: &str, default_branch: &str, sha: &str) -> Vec<(String, String)> {
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".into());
    [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_SERVER", "yes"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_PIPELINE_ID", "0"),
        ("CI_PIPELINE_IID", "0"),
        ("CI_COMMIT_SHA", sha),
        ("CI_COMMIT_SHORT_SHA", &sha[..8.min(sha.len())]),
        ("CI_COMMIT_BRANCH", branch),
        ("CI_COMMIT_REF_NAME", branch),
        ("CI_COMMIT_REF_SLUG", &gantry_core::ci::predefined::slug(branch)),
        ("CI_DEFAULT_BRANCH", default_branch),
        ("CI_PROJECT_NAME", &name),
        ("CI_PROJECT_PATH", &format!("local/{name}")),
        ("CI_PROJECT_NAMESPACE", "local"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into()
}

impl Coordinator {
    fn payload(&self, exec: &Exec, index: usize) -> JobPayload {
        let context = &self.context;
        let job = &exec.jobs[index];
        let planned = &job.planned;
        let public = |key: &str, value: &str| JobVariable {
            key: key.to_owned(),
            value: value.to_owned(),
            public: true,
            masked: false,
            file: false,
        };
        let mut variables: Vec<JobVariable> =
            predefined(&context.root, &context.branch, &context.default_branch, &context.sha)
                .iter()
                .map(|(k, v)| public(k, v))
                .collect();
        variables.push(public("CI_JOB_ID", &job.id.to_string()));
        variables.push(public("CI_JOB_NAME", &planned.name));
        variables.push(public("CI_JOB_STAGE", &planned.stage));
        variables.push(public("CI_JOB_TOKEN", &context.token));
        if let Some((index, total)) = planned.definition.node {
            variables.push(public("CI_NODE_INDEX", &index.to_string()));
            variables.push(public("CI_NODE_TOTAL", &total.to_string()));
        }
        for variable in &planned.variables {
            let value = if variable.expand {
                let lookup = |name: &str| variables.iter().rev().find(|v| v.key == name).map(|v| v.value.clone());
                gantry_ci::vars::expand(&variable.value, &lookup, false)
            } else {
                variable.value.clone()
            };
            variables.push(public(&variable.key, &value));
        }
        let dependencies: Vec<&LocalJob> =
            exec.jobs.iter().filter(|other| planned.dependencies.contains(&other.planned.name)).collect();
        for dependency in &dependencies {
            variables.extend(dependency.dotenv.iter().map(|(k, v)| public(k, v)));
        }
        variables.extend(context.extra.iter().map(|(k, v)| public(k, v)));
        let definition = &planned.definition;
        let timeout = definition.timeout.unwrap_or(3600);
        let mut steps = vec![protocol::Step {
            name: "script".to_owned(),
            script: definition.before_script.iter().chain(&definition.script).cloned().collect(),
            timeout,
            when: "on_success".to_owned(),
            allow_failure: false,
        }];
        if !definition.after_script.is_empty() {
            steps.push(protocol::Step {
                name: "after_script".to_owned(),
                script: definition.after_script.clone(),
                timeout: 300,
                when: "always".to_owned(),
                allow_failure: true,
            });
        }
        JobPayload {
            id: job.id,
            token: context.token.clone(),
            job_info: protocol::JobInfo {
                id: job.id,
                name: planned.name.clone(),
                stage: planned.stage.clone(),
                project_id: 0,
                project_name: "local".to_owned(),
            },
            git_info: protocol::GitInfo {
                repo_url: format!("file://{}", context.root.display()),
                ref_name: context.branch.clone(),
                sha: context.sha.clone(),
                before_sha: "0".repeat(40),
                ref_type: "branch".to_owned(),
                refspecs: vec![format!("+{0}:{0}", context.snapshot_ref)],
                depth: 0,
            },
            runner_info: protocol::JobRunnerInfo { timeout },
            variables,
            steps,
            image: definition.image.clone(),
            services: definition.services.clone(),
            artifacts: gantry_core::ci::jobs::artifact_specs(definition),
            cache: definition.cache.iter().map(|cache| cache_spec(&context.root, cache)).collect(),
            dependencies: dependencies
                .iter()
                .filter(|d| d.archive.is_some())
                .map(|d| protocol::Dependency {
                    id: d.id,
                    name: d.planned.name.clone(),
                    artifacts_file: Some(protocol::ArtifactsFile { filename: "artifacts.zip".into(), size: 0 }),
                })
                .collect(),
        }
    }
}

/// A cache of the CI file with its key resolved locally (`key:files` from the working tree).
fn cache_spec(root: &Path, cache: &gantry_ci::keywords::Cache) -> protocol::CacheSpec {
    let key = match &cache.key {
        CacheKey::Text(key) => key.clone(),
        CacheKey::Files { files, prefix } => {
            use sha2::Digest;
            let mut hasher = sha2::Sha256::new();
            for file in files {
                hasher.update(file.as_bytes());
                hasher.update(std::fs::read(root.join(file)).unwrap_or_default());
            }
            let digest = hex::encode(hasher.finalize());
            format!("{}-{}", prefix.as_deref().unwrap_or("files"), &digest[..16])
        }
    };
    let when = match cache.when {
        When::OnFailure => "on_failure",
        When::Always => "always",
        _ => "on_success",
    };
    protocol::CacheSpec {
        key: safe_name(&key),
        paths: cache.paths.clone(),
        untracked: cache.untracked,
        policy: cache.policy.clone(),
        when: when.to_owned(),
        fallback_keys: cache.fallback_keys.iter().map(|k| safe_name(k)).collect(),
    }
}

/// A key usable as a file name.
fn safe_name(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

fn job_id(text: &str) -> Result<i64, StatusCode> {
    text.parse().map_err(|_| StatusCode::NOT_FOUND)
}

async fn request_job(State(coordinator): State<Coordinator>) -> Response {
    let payload = {
        let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if exec.running.is_some() || exec.finished() {
            None
        } else {
            let index = exec.next;
            exec.next += 1;
            exec.running = Some(index);
            exec.jobs[index].status = "running";
            exec.jobs[index].started = Some(Instant::now());
            let name = exec.jobs[index].planned.name.clone();
            eprintln!("\n== {name}");
            Some(coordinator.payload(&exec, index))
        }
    };
    match payload {
        Some(payload) => (StatusCode::CREATED, Json(payload)).into_response(),
        None => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

async fn update_job(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
    Json(update): Json<protocol::JobUpdate>,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let index = exec.jobs.iter().position(|j| j.id == id).ok_or(StatusCode::NOT_FOUND)?;
    if matches!(update.state.as_str(), "success" | "failed") && exec.running == Some(index) {
        let job = &mut exec.jobs[index];
        job.status = if update.state == "success" { "success" } else { "failed" };
        job.duration = job.started.map(|s| s.elapsed());
        let may_fail = match &job.planned.allow_failure {
            AllowFailure::No => false,
            AllowFailure::Yes => true,
            AllowFailure::ExitCodes(codes) => update.exit_code.is_some_and(|code| codes.contains(&code)),
        };
        if job.status == "failed" && !may_fail {
            exec.halted = true;
            let next = exec.next;
            for later in &mut exec.jobs[next..] {
                later.status = "skipped";
            }
        }
        exec.running = None;
        coordinator.done.notify_waiters();
    }
    let status = exec.jobs[index].status;
    Ok(([(protocol::JOB_STATUS_HEADER, status)], StatusCode::OK).into_response())
}

async fn append_trace(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let size = {
        let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let size = exec.trace_sizes.entry(id).or_default();
        *size += body.len() as u64;
        *size
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&body);
    let _ = out.flush();
    Ok((StatusCode::ACCEPTED, [("range", format!("0-{size}")), (protocol::JOB_STATUS_HEADER, "running".to_owned())])
        .into_response())
}

#[derive(serde::Deserialize)]
struct ArtifactQuery {
    artifact_type: Option<String>,
}

async fn upload_artifact(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<ArtifactQuery>,
    body: Bytes,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let kind = safe_name(query.artifact_type.as_deref().unwrap_or("archive"));
    let mut exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = exec.work.join("artifacts").join(format!("{id}-{kind}.zip"));
    std::fs::write(&path, &body).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let job = exec.jobs.iter_mut().find(|j| j.id == id).ok_or(StatusCode::NOT_FOUND)?;
    match kind.as_str() {
        "archive" => job.archive = Some(path),
        "dotenv" => {
            let file = std::fs::File::open(&path).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            let files =
                gantry_core::ci::artifacts::archive_files(file, 1 << 20).map_err(|_| StatusCode::BAD_REQUEST)?;
            for (name, content) in files {
                match gantry_ci::reports::dotenv::parse(&content) {
                    Ok(variables) => job.dotenv.extend(variables),
                    Err(error) => {
                        eprintln!("dotenv report {name}: {error}");
                        return Err(StatusCode::BAD_REQUEST);
                    }
                }
            }
        }
        "junit" => {
            let file = std::fs::File::open(&path).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            let files =
                gantry_core::ci::artifacts::archive_files(file, 30 << 20).map_err(|_| StatusCode::BAD_REQUEST)?;
            let suites: Vec<_> =
                files.iter().filter_map(|(_, c)| gantry_ci::reports::junit::parse(c).ok()).flatten().collect();
            let cases = suites.iter().flat_map(|s| &s.cases);
            let failing: Vec<String> = cases
                .clone()
                .filter(|c| {
                    matches!(
                        c.status,
                        gantry_ci::reports::junit::CaseStatus::Failed | gantry_ci::reports::junit::CaseStatus::Error
                    )
                })
                .map(|c| format!("{} {}", c.classname, c.name))
                .collect();
            eprintln!(
                "JUnit: {} tests, {} failing{}",
                cases.count(),
                failing.len(),
                if failing.is_empty() { String::new() } else { format!(": {}", failing.join(", ")) }
            );
        }
        _ => {}
    }
    Ok(StatusCode::CREATED.into_response())
}

async fn download_artifact(
    State(coordinator): State<Coordinator>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, StatusCode> {
    let id = job_id(&id)?;
    let path = {
        let exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        exec.jobs.iter().find(|j| j.id == id).and_then(|j| j.archive.clone()).ok_or(StatusCode::NOT_FOUND)?
    };
    let bytes = tokio::fs::read(path).await.map_err(|_| StatusCode::NOT_FOUND)?;
    Ok(bytes.into_response())
}

#[derive(serde::Deserialize)]
struct CacheQuery {
    key: String,
}

fn cache_path(coordinator: &Coordinator, key: &str) -> PathBuf {
    let exec = coordinator.exec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    exec.work.join("cache").join(format!("{}.zip", safe_name(key)))
}

async fn download_cache(State(coordinator): State<Coordinator>, Query(query): Query<CacheQuery>) -> Response {
    match tokio::fs::read(cache_path(&coordinator, &query.key)).await {
        Ok(bytes) => bytes.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn upload_cache(
    State(coordinator): State<Coordinator>,
    Query(query): Query<CacheQuery>,
    _headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    match tokio::fs::write(cache_path(&coordinator, &query.key), &body).await {
        Ok(()) => StatusCode::CREATED,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_become_file_names() {
        assert_eq!(safe_name("deps/linux x"), "deps_linux_x");
        assert_eq!(safe_name("../x"), ".._x");
    }
}
