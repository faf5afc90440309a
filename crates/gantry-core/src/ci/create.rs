//! Creating pipelines: on a push (a domain event), from the API or the "Run pipeline" page.
//! The CI file is read at the pipeline's commit, planned by `gantry-ci` with the predefined
//! variables, and stored as jobs in one transaction; a file with errors gives a failed
//! pipeline that shows them. Its includes are read as the pipeline's user: local files at the
//! commit, other projects' files and components (`HOST/group/project/name@version`) if that
//! user may read their code, the server's templates, and remote files from the hosts an
//! administrator allows (`remote_include`).
//!
//! Long because reading every kind of include sits with the pipeline it is read for.

use gantry_ci::plan::PlannedJob;
use gantry_ci::{Diagnostics, Facts, NoPipeline, Plan};
use gantry_db::ci::{jobs, pipelines};
use gantry_git::read::Reader;
use gantry_git::refs::CommitSummary;
use gantry_types::{CiStatus, PipelineId, ScheduleId};
use serde::{Deserialize, Serialize};

use super::PipelineRow;
use super::predefined::{PipelineContext, pipeline_variables};
use crate::policy::{ProjectAction, authorize_pipeline_variables, authorize_project, authorize_protected_ref};
use crate::{Actor, CoreError, CoreResult, ProjectRow, UserRow};

/// The CI files looked for when the project does not name one, in order.
pub const DEFAULT_CI_FILES: [&str; 2] = [".gitlab-ci.yml", ".gantry-ci.yml"];

/// What a stored job carries for its runner besides its columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredJob {
    pub definition: gantry_ci::plan::Definition,
    /// The job's variables from the CI file (global and its own), in order.
    pub variables: Vec<gantry_ci::keywords::Variable>,
    /// Jobs whose artifacts this job downloads.
    pub dependencies: Vec<String>,
    /// Jobs of other pipelines whose artifacts this job downloads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elsewhere: Vec<gantry_ci::keywords::Need>,
}

/// Why a pipeline is created, and for which commit.
#[derive(Debug, Clone)]
pub struct PipelineRequest {
    pub ref_name: String,
    pub is_tag: bool,
    pub sha: String,
    pub before_sha: String,
    /// `push`, `web`, `api`, `schedule`, `trigger`.
    pub source: &'static str,
    pub user: Option<UserRow>,
    /// Variables given for this pipeline (highest precedence).
    pub variables: Vec<(String, String)>,
    /// The pipeline schedule it runs for (source `schedule`).
    pub schedule_id: Option<ScheduleId>,
    /// Values for the `spec:inputs` of the CI file (a JSON object), when given.
    pub inputs: Option<String>,
}

/// What starts a downstream pipeline, besides its request (`bridges`).
#[derive(Debug, Clone)]
pub(crate) struct Downstream {
    /// The trigger job starting it.
    pub(crate) upstream_job: gantry_types::JobId,
    /// A child pipeline: its CI file's `include:` (YAML), the name its problems are shown
    /// under, and the parent pipeline, whose jobs' artifacts it may include.
    pub(crate) child: Option<(String, String, PipelineId)>,
}

/// Why no pipeline was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPipelineReason {
    /// The commit has no CI file.
    NoCiFile,
    /// `workflow:rules` decided against it.
    Workflow,
    /// No job's rules matched.
    NoJobs,
}

impl std::fmt::Display for NoPipelineReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoPipelineReason::NoCiFile => "the commit has no CI configuration file",
            NoPipelineReason::Workflow => "the pipeline was filtered out by workflow:rules",
            NoPipelineReason::NoJobs => "no job of the CI file runs for this ref",
        })
    }
}

/// What a pipeline's includes are read with besides its own repository: the server (other
/// projects, components, templates, remote files), as whom, and the runtime the blocking
/// reader waits on for the database and the network.
struct IncludeSources {
    core: crate::Core,
    /// Whose access reads other projects and components: the pipeline's user.
    actor: Actor,
    /// This server's host (and port) as component addresses name it.
    host: String,
    /// The hosts `include:remote` may fetch from.
    remote_hosts: Vec<String>,
    runtime: tokio::runtime::Handle,
}

impl super::Ci<'_> {
    /// The sources of includes for a pipeline (or a lint) of `actor`.
    async fn include_sources(&self, actor: Actor) -> CoreResult<IncludeSources> {
        let remote_hosts = self.manage().current_application_settings().await?.ci_remote_include_hosts;
        Ok(IncludeSources {
            core: self.core.clone(),
            actor,
            host: server_host(&self.ci.settings.external_url),
            remote_hosts,
            runtime: tokio::runtime::Handle::current(),
        })
    }
}

/// The host and port of a URL (`http://localhost:3000/` → `localhost:3000`).
pub(crate) fn server_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_ascii_lowercase()
}

/// A project other than the pipeline's, opened for reading its files.
struct OtherProject {
    project: ProjectRow,
    reader: Reader,
}

/// The commit's files as `gantry-ci` reads them: local includes from the same repository at the
/// pipeline's commit, others from the server as the pipeline's user may read them.
struct RepositoryFiles<'a> {
    reader: &'a Reader,
    sha: &'a str,
    project: &'a ProjectRow,
    sources: &'a IncludeSources,
    /// Other projects by lower-case path, opened once per pipeline.
    others: std::cell::RefCell<std::collections::HashMap<String, Result<std::rc::Rc<OtherProject>, String>>>,
    /// A child pipeline's parent: `include:artifact` reads its jobs' artifacts.
    parent: Option<PipelineId>,
}

/// The largest file a child pipeline includes from a job's artifacts.
const MAX_ARTIFACT_INCLUDE_BYTES: u64 = 4 << 20;

/// `include:template`: one of the server's `.gitlab-ci.yml` templates by its file name
/// (`Nodejs.gitlab-ci.yml`). An unknown one is GitLab's error, with a few names that exist and
/// where the whole list is.
pub fn include_template(name: &str) -> Result<String, String> {
    use crate::file_templates::{TemplateType, find, names};
    let Some(key) = name.strip_suffix(".gitlab-ci.yml") else {
        return Err(format!("Template file `{name}` is not a valid location!"));
    };
    if let Some(template) = find(TemplateType::GitlabCiYml, key) {
        return Ok(template.content.to_owned());
    }
    let all = names(TemplateType::GitlabCiYml);
    let wanted = key.to_lowercase();
    let mut shown: Vec<&str> = all
        .iter()
        .map(|n| n.key)
        .filter(|k| {
            let k = k.to_lowercase();
            !wanted.is_empty() && (k.contains(&wanted) || wanted.contains(&k))
        })
        .take(5)
        .collect();
    if shown.is_empty() {
        shown = all.iter().map(|n| n.key).take(6).collect();
    }
    let shown: Vec<String> = shown.iter().map(|k| format!("`{k}.gitlab-ci.yml`")).collect();
    Err(format!(
        "Included file `{name}` is empty or does not exist! Gantry has {} CI templates, such as {}; `GET /api/v4/templates/gitlab_ci_ymls` lists them all",
        all.len(),
        shown.join(", ")
    ))
}

impl RepositoryFiles<'_> {
    /// Another project, if the pipeline's user may read its code; Err is GitLab's message.
    fn other(&self, path: &str) -> Result<std::rc::Rc<OtherProject>, String> {
        let key = path.to_ascii_lowercase();
        if let Some(found) = self.others.borrow().get(&key) {
            return found.clone();
        }
        let denied = || {
            format!(
                "Project `{path}` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined."
            )
        };
        let sources = self.sources;
        let found = sources.runtime.block_on(async {
            let mut conn = sources.core.db.conn().await?;
            let Some(project) = gantry_db::manage::projects::find_project_by_full_path(&mut conn, path).await? else {
                return Ok(None);
            };
            match authorize_project(&mut conn, &sources.actor, &project, ProjectAction::ReadCode).await {
                Ok(_) => Ok(Some(project)),
                Err(CoreError::NotFound(_) | CoreError::Forbidden(_) | CoreError::Unauthorized) => Ok(None),
                Err(error) => Err(error),
            }
        });
        let opened = match found {
            Ok(None) => Err(denied()),
            Ok(Some(project)) => match sources.core.repos.reader(project.id) {
                Ok(reader) => Ok(std::rc::Rc::new(OtherProject { project, reader })),
                Err(error) => Err(format!("Project `{path}` cannot be read: {error}")),
            },
            Err(error) => Err(format!("Project `{path}` cannot be read now: {error}")),
        };
        self.others.borrow_mut().insert(key, opened.clone());
        opened
    }

    /// The commit `reference` (the default branch when None) names in `other`.
    fn commit_of(other: &OtherProject, path: &str, reference: Option<&str>) -> Result<String, String> {
        let reference = reference.unwrap_or(&other.project.default_branch);
        match other.reader.resolve(reference) {
            Ok(Some(commit)) => Ok(commit),
            _ => Err(format!("Project `{path}` reference `{reference}` does not exist!")),
        }
    }

    /// The text of `file` at `commit` of a repository; None when it is not there.
    fn blob_text(reader: &Reader, commit: &str, file: &str) -> Result<Option<String>, String> {
        match reader.blob(&format!("{commit}:{file}")) {
            Ok(Some(bytes)) => String::from_utf8(bytes).map(Some).map_err(|_| format!("`{file}` is not UTF-8 text")),
            Ok(None) => Ok(None),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The pipeline's project named by path (as `include:project` may): its own repository.
    fn is_own(&self, project: &str) -> bool {
        project.trim_matches('/').eq_ignore_ascii_case(&self.project.full_path)
    }

    /// The commit `reference` (the default branch when None) names in the pipeline's project.
    fn own_commit(&self, project: &str, reference: Option<&str>) -> Result<String, String> {
        let reference = reference.unwrap_or(&self.project.default_branch);
        match self.reader.resolve(reference) {
            Ok(Some(commit)) => Ok(commit),
            _ => Err(format!("Project `{project}` reference `{reference}` does not exist!")),
        }
    }
}

impl gantry_ci::Files for RepositoryFiles<'_> {
    fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String> {
        let path = path.trim_start_matches('/');
        let Some(project) = project else {
            return Self::blob_text(self.reader, self.sha, path)?
                .ok_or_else(|| format!("Local file `{path}` does not exist!"));
        };
        if self.is_own(project) {
            let commit = self.own_commit(project, reference)?;
            return Self::blob_text(self.reader, &commit, path)?
                .ok_or_else(|| format!("Project `{project}` file `{path}` does not exist!"));
        }
        let other = self.other(project)?;
        let commit = Self::commit_of(&other, project, reference)?;
        Self::blob_text(&other.reader, &commit, path)?
            .ok_or_else(|| format!("Project `{project}` file `{path}` does not exist!"))
    }

    fn list(&self, project: &str, reference: Option<&str>) -> Result<Vec<String>, String> {
        let (id, commit) = if self.is_own(project) {
            (self.project.id, self.own_commit(project, reference)?)
        } else {
            let other = self.other(project)?;
            (other.project.id, Self::commit_of(&other, project, reference)?)
        };
        let sources = self.sources;
        sources.runtime.block_on(sources.core.repos.list_files(id, &commit)).map_err(|error| error.to_string())
    }

    fn component(&self, address: &str) -> Result<gantry_ci::Component, String> {
        use gantry_ci::component::{ComponentAddress, LATEST, asks_for_newest, newest_release};
        let parsed = ComponentAddress::parse(address, &self.sources.host)?;
        let other = self
            .other(&parsed.project)
            .map_err(|_| parsed.error("project does not exist or you don't have sufficient permissions"))?;
        let tags = other.reader.tag_names().map_err(|error| parsed.error(&error.to_string()))?;
        let newest = asks_for_newest(&parsed.version)
            .then(|| newest_release(tags.iter().map(String::as_str), &parsed.version))
            .flatten();
        let (reference, version) = match newest {
            Some(tag) => (format!("refs/tags/{tag}"), Some(tag.to_owned())),
            None if parsed.version == LATEST => {
                return Err(parsed.error(&format!(
                    "content not found: `{}` has no released version yet (a tag such as `1.0.0`)",
                    parsed.project
                )));
            }
            None if tags.contains(&parsed.version) => {
                (format!("refs/tags/{}", parsed.version), Some(parsed.version.clone()))
            }
            None => (parsed.version.clone(), None),
        };
        let sha = match other.reader.resolve(&reference) {
            Ok(Some(sha)) => sha,
            _ => {
                let missing = format!("content not found: no branch, tag or commit `{}`", parsed.version);
                return Err(parsed.error(&missing));
            }
        };
        for path in parsed.paths() {
            if let Some(text) = Self::blob_text(&other.reader, &sha, &path).map_err(|e| parsed.error(&e))? {
                return Ok(gantry_ci::Component {
                    project: other.project.full_path.clone(),
                    sha,
                    path,
                    text,
                    name: parsed.name.clone(),
                    version,
                });
            }
        }
        let [simple, directory] = parsed.paths();
        Err(parsed.error(&format!("content not found: neither `{simple}` nor `{directory}` at `{}`", parsed.version)))
    }

    fn template(&self, name: &str) -> Result<String, String> {
        include_template(name)
    }

    fn remote(&self, url: &str) -> Result<String, String> {
        let sources = self.sources;
        sources.runtime.block_on(sources.core.ci.remote_includes.fetch(url, &sources.remote_hosts))
    }

    fn artifact(&self, job: &str, path: &str) -> Result<String, String> {
        let Some(parent) = self.parent else {
            return Err(format!(
                "`include:artifact` ({path}) is only for child pipelines: `trigger:include` of a job in the parent pipeline"
            ));
        };
        let sources = self.sources;
        let missing = || format!("Job `{job}` of the parent pipeline has no artifacts archive holding `{path}`");
        let opened = sources.runtime.block_on(async {
            let mut conn = sources.core.db.conn().await?;
            let all = jobs::pipeline_jobs(&mut conn, parent).await?;
            let Some(made) = all.iter().rev().find(|j| j.name == job && !j.retried) else { return Ok(None) };
            match sources.core.ci().open_archive(&mut conn, made.id, "archive").await {
                Ok((_, file, _)) => Ok(Some(file.into_std().await)),
                Err(CoreError::NotFound(_)) => Ok(None),
                Err(error) => Err(error),
            }
        });
        let file = match opened {
            Ok(Some(file)) => file,
            Ok(None) => return Err(missing()),
            Err(error) => return Err(format!("The artifacts of job `{job}` cannot be read now: {error}")),
        };
        match super::artifacts::archive_file_start(file, path, MAX_ARTIFACT_INCLUDE_BYTES + 1) {
            Ok((bytes, size)) if size <= MAX_ARTIFACT_INCLUDE_BYTES => {
                String::from_utf8(bytes).map_err(|_| format!("`{path}` of job `{job}` is not UTF-8 text"))
            }
            Ok(_) => Err(format!(
                "`{path}` of job `{job}` is larger than {} MiB, the most a child pipeline's CI file may be",
                MAX_ARTIFACT_INCLUDE_BYTES >> 20
            )),
            Err(CoreError::NotFound(_)) => Err(missing()),
            Err(error) => Err(format!("`{path}` of job `{job}` cannot be read: {error}")),
        }
    }
}

/// The outcome of reading and planning the CI file.
enum Planned {
    NoFile,
    Invalid(Diagnostics),
    Nothing(NoPipeline),
    Plan(Plan),
}

/// Reads the CI file at `sha` and plans it (blocking: runs on a blocking thread).
#[expect(clippy::too_many_arguments, reason = "the facts of one pipeline, each named by its one caller")]
fn read_and_plan(
    reader: &Reader,
    config_path: &str,
    project: &ProjectRow,
    sources: &IncludeSources,
    request: &PipelineRequest,
    variables: &[(String, String)],
    masked: &[String],
    changed: Option<&[String]>,
    files: &[String],
    downstream: Option<&Downstream>,
) -> Planned {
    let child = downstream.and_then(|d| d.child.as_ref());
    let (path, source) = if let Some((include, name, _)) = child {
        (name.as_str(), format!("include: {include}\n"))
    } else {
        let candidates: Vec<&str> = if config_path.is_empty() { DEFAULT_CI_FILES.to_vec() } else { vec![config_path] };
        let found = candidates.iter().find_map(|path| {
            reader.blob(&format!("{}:{path}", request.sha)).ok().flatten().map(|bytes| (*path, bytes))
        });
        let Some((path, bytes)) = found else { return Planned::NoFile };
        let Ok(source) = String::from_utf8(bytes) else {
            let mut diagnostics = Diagnostics::default();
            diagnostics.push(gantry_ci::Location::file(path), "the CI file is not UTF-8 text");
            return Planned::Invalid(diagnostics);
        };
        (path, source)
    };
    let files_source = RepositoryFiles {
        reader,
        sha: &request.sha,
        project,
        sources,
        others: Default::default(),
        parent: child.map(|(_, _, parent)| *parent),
    };
    let facts = Facts { variables, changed_paths: changed, files };
    let loaded = match &request.inputs {
        Some(inputs) => gantry_ci::load_with_inputs(&files_source, path, &source, &facts, masked, inputs),
        None => gantry_ci::load_for(&files_source, path, &source, &facts, masked),
    };
    let config = match loaded {
        Ok(config) => config,
        Err(diagnostics) => return Planned::Invalid(diagnostics),
    };
    match gantry_ci::plan(&config, &facts) {
        Err(diagnostics) => Planned::Invalid(diagnostics),
        Ok(Err(nothing)) => Planned::Nothing(nothing),
        Ok(Ok(plan)) => Planned::Plan(plan),
    }
}

impl super::Ci<'_> {
    /// Runs a pipeline for a branch or tag (the API, the "Run pipeline" page): Developers and
    /// above. Fails with a message when the ref has no CI file or no job would run.
    pub async fn run_pipeline(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
        variables: Vec<(String, String)>,
        source: &'static str,
    ) -> CoreResult<PipelineRow> {
        self.run_pipeline_with_inputs(actor, project, ref_name, variables, None, source).await
    }

    /// [`Self::run_pipeline`] with values for the CI file's `spec:inputs` (a JSON object):
    /// values that do not fit its header give a failed pipeline showing why, as GitLab does.
    pub async fn run_pipeline_with_inputs(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
        variables: Vec<(String, String)>,
        inputs: Option<String>,
        source: &'static str,
    ) -> CoreResult<PipelineRow> {
        let inputs = match inputs.as_deref().map(serde_json::from_str::<serde_json::Value>) {
            None => None,
            Some(Ok(serde_json::Value::Object(values))) => {
                let values: Vec<(String, serde_json::Value)> = values.into_iter().collect();
                Some(super::schedules::stored_inputs(&values)?)
            }
            Some(_) => return Err(CoreError::invalid("inputs", "inputs are a hash of input names and values")),
        };
        let mut request = self.pipeline_request_for_ref(actor, project, ref_name, variables, source).await?;
        request.inputs = inputs;
        self.run_pipeline_request(project, request).await
    }

    /// Creates the pipeline a checked request asks for; a request that makes no pipeline is
    /// an error naming why.
    pub(crate) async fn run_pipeline_request(
        &self,
        project: &ProjectRow,
        request: PipelineRequest,
    ) -> CoreResult<PipelineRow> {
        match self.create_pipeline(project, request).await? {
            Ok(pipeline) => Ok(pipeline),
            Err(reason) => Err(CoreError::invalid("ref", reason.to_string())),
        }
    }

    /// The request for a pipeline of a branch or tag's current commit, once the actor may run
    /// pipelines on that ref and may give these variables.
    pub(crate) async fn pipeline_request_for_ref(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
        variables: Vec<(String, String)>,
        source: &'static str,
    ) -> CoreResult<PipelineRequest> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::RunPipelines).await?;
        drop(conn);
        self.check_pipeline_variables(actor, project, &variables).await?;
        let ref_name = ref_name.trim();
        let (is_tag, full) = self.branch_or_tag(project, ref_name).await?;
        let mut conn = self.db.conn().await?;
        authorize_protected_ref(&mut conn, actor, project, ref_name, is_tag).await?;
        drop(conn);
        let sha = self
            .repos
            .resolve_commit(project.id, &full)
            .await?
            .ok_or_else(|| CoreError::invalid("ref", format!("'{ref_name}' does not point at a commit")))?;
        Ok(PipelineRequest {
            ref_name: ref_name.to_owned(),
            is_tag,
            before_sha: gantry_git::ZERO_OID.to_owned(),
            sha,
            source,
            user: actor.user().cloned(),
            variables,
            schedule_id: None,
            inputs: None,
        })
    }

    /// Whether `ref_name` is a tag (a branch of the same name wins), with its full name.
    pub(crate) async fn branch_or_tag(&self, project: &ProjectRow, ref_name: &str) -> CoreResult<(bool, String)> {
        for (is_tag, full) in [(false, format!("refs/heads/{ref_name}")), (true, format!("refs/tags/{ref_name}"))] {
            if self.repos.ref_target(project.id, &full).await?.is_some() {
                return Ok((is_tag, full));
            }
        }
        Err(CoreError::invalid("ref", format!("'{ref_name}' is not a branch or tag of this project")))
    }

    /// Checks that `actor` may give `variables` to a pipeline of `project`: the project's
    /// minimum role for pipeline variables (403), well-formed names, and no key of a protected
    /// CI/CD variable (400: a pipeline variable never shadows one).
    pub(crate) async fn check_pipeline_variables(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        variables: &[(String, String)],
    ) -> CoreResult<()> {
        if variables.is_empty() {
            return Ok(());
        }
        let mut conn = self.db.conn().await?;
        authorize_pipeline_variables(&mut conn, actor, project).await?;
        drop(conn);
        for (key, _) in variables {
            if !super::jobs::is_variable_key(key) {
                return Err(CoreError::invalid("variables", format!("'{key}' is not a valid variable name")));
            }
        }
        let protected = self.protected_variable_keys(project).await?;
        if let Some((key, _)) = variables.iter().find(|(key, _)| protected.contains(key)) {
            return Err(CoreError::invalid(
                "variables",
                format!("'{key}' is the name of a protected CI/CD variable, which pipeline variables cannot override"),
            ));
        }
        Ok(())
    }

    /// Creates and starts a pipeline (no authorisation: the caller decided).
    pub async fn create_pipeline(
        &self,
        project: &ProjectRow,
        request: PipelineRequest,
    ) -> CoreResult<Result<PipelineRow, NoPipelineReason>> {
        self.create_pipeline_for(project, request, None, None).await
    }

    /// Creates and starts the pipeline a trigger job starts (no authorisation: `bridges`
    /// decided).
    pub(crate) async fn create_downstream_pipeline(
        &self,
        project: &ProjectRow,
        request: PipelineRequest,
        downstream: Downstream,
    ) -> CoreResult<Result<PipelineRow, NoPipelineReason>> {
        self.create_pipeline_for(project, request, None, Some(downstream)).await
    }

    /// Creates and starts a pipeline, for a push event when it names one (the database
    /// refuses a second pipeline for the same event), or for a trigger job (likewise).
    async fn create_pipeline_for(
        &self,
        project: &ProjectRow,
        request: PipelineRequest,
        push_event: Option<i64>,
        downstream: Option<Downstream>,
    ) -> CoreResult<Result<PipelineRow, NoPipelineReason>> {
        let mut conn = self.db.conn().await?;
        let settings = pipelines::ci_settings(&mut conn, project.id).await?;
        let protected = super::ref_is_protected(&mut conn, project.id, &request.ref_name, request.is_tag).await?;
        drop(conn);
        // Rules see the CI/CD variables too (those not limited to an environment).
        let ci_variables: Vec<gantry_ci::payload::CiCdVariable> =
            self.variables_for_job(project, protected, None).await?.into_iter().map(Into::into).collect();
        let changed = if request.before_sha == gantry_git::ZERO_OID || request.source != "push" {
            None
        } else {
            self.repos.changed_files(project.id, &request.before_sha, &request.sha).await.ok()
        };
        let files = self.repos.list_files(project.id, &request.sha).await?;
        let actor = request.user.clone().map_or(Actor::Anonymous, Actor::User);
        let sources = self.include_sources(actor).await?;
        let repos = self.repos.clone();
        let (project_for_plan, request_for_plan) = (project.clone(), request.clone());
        let server_url = self.ci.settings.external_url.clone();
        let downstream_for_plan = downstream.clone();
        let planned = tokio::task::spawn_blocking(move || {
            let reader = repos.reader(project_for_plan.id)?;
            let commit = reader.commit(&request_for_plan.sha).ok();
            let predefined = pipeline_variables(&PipelineContext {
                server_url: &server_url,
                project: &project_for_plan,
                pipeline: None,
                ref_name: &request_for_plan.ref_name,
                is_tag: request_for_plan.is_tag,
                protected,
                sha: &request_for_plan.sha,
                before_sha: &request_for_plan.before_sha,
                source: request_for_plan.source,
                commit: commit.as_ref(),
                user: request_for_plan.user.as_ref(),
            });
            let variables =
                gantry_ci::payload::rules_variables(&predefined, &ci_variables, &request_for_plan.variables);
            let masked: Vec<String> = ci_variables.iter().filter(|v| v.masked).map(|v| v.key.clone()).collect();
            let planned = read_and_plan(
                &reader,
                &settings.config_path,
                &project_for_plan,
                &sources,
                &request_for_plan,
                &variables,
                &masked,
                changed.as_deref(),
                &files,
                downstream_for_plan.as_ref(),
            );
            Ok::<_, gantry_git::GitError>(planned)
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))??;
        let (plan, errors) = match planned {
            Planned::NoFile => return Ok(Err(NoPipelineReason::NoCiFile)),
            Planned::Nothing(NoPipeline::Workflow) => return Ok(Err(NoPipelineReason::Workflow)),
            Planned::Nothing(NoPipeline::NoJobs) => return Ok(Err(NoPipelineReason::NoJobs)),
            Planned::Invalid(diagnostics) => (None, Some(diagnostics.to_string())),
            Planned::Plan(plan) => (Some(plan), None),
        };
        let pipeline_variables: Vec<serde_json::Value> = request
            .variables
            .iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value, "variable_type": "env_var" }))
            .collect();
        let pipeline_variables = serde_json::Value::Array(pipeline_variables).to_string();
        let mut tx = self.db.begin().await?;
        let pipeline_id = pipelines::insert_pipeline(
            &mut tx,
            &pipelines::NewPipeline {
                project_id: project.id,
                ref_name: &request.ref_name,
                is_tag: request.is_tag,
                sha: &request.sha,
                before_sha: &request.before_sha,
                source: request.source,
                status: if errors.is_some() { CiStatus::Failed } else { CiStatus::Created },
                name: plan.as_ref().and_then(|p| p.name.as_deref()),
                user_id: request.user.as_ref().map(|u| u.id),
                variables: &pipeline_variables,
                yaml_errors: errors.as_deref(),
                schedule_id: request.schedule_id,
                push_event_id: push_event,
                upstream_job_id: downstream.as_ref().map(|d| d.upstream_job),
            },
        )
        .await?;
        if let Some(plan) = &plan {
            for job in &plan.jobs {
                insert_planned_job(&mut tx, project, pipeline_id, plan, job, request.user.as_ref()).await?;
            }
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        // Keeps the commit fetchable by jobs even after the branch moves on.
        let keep = format!("refs/pipelines/{pipeline_id}");
        if let Err(error) = self.repos.update_ref(project.id, &keep, gantry_git::ZERO_OID, &request.sha).await {
            tracing::warn!(error = %error, pipeline = %pipeline_id, "cannot write the pipeline's ref");
        }
        self.process_pipeline(pipeline_id).await?;
        // A downstream pipeline never cancels the pipeline that started it.
        if settings.auto_cancel && !request.is_tag && downstream.is_none() {
            self.auto_cancel_older(project, &request.ref_name, pipeline_id).await?;
        }
        let mut conn = self.db.conn().await?;
        let pipeline = pipelines::get_pipeline(&mut conn, pipeline_id).await?.ok_or(CoreError::NotFound("pipeline"))?;
        tracing::info!(project.id = %project.id, pipeline = %pipeline.id, status = %pipeline.status, "pipeline created");
        Ok(Ok(pipeline))
    }

    /// Creates the pipelines a push asks for: one per pushed branch or tag, unless the push
    /// said `-o ci.skip` or the commit message says `[skip ci]`.
    /// Each ref gets its pipeline once: one made for its push event before (this work ran
    /// again after a crash) is only moved on, never made twice.
    pub(crate) async fn pipelines_for_push(
        &self,
        project: gantry_types::ProjectId,
        user: Option<gantry_types::UserId>,
        refs: &[crate::background::PushedRef],
        options: &[String],
    ) -> CoreResult<()> {
        if options.iter().any(|o| o == "ci.skip" || o == "ci.skip=true") {
            return Ok(());
        }
        let mut conn = self.db.conn().await?;
        let Some(project) = gantry_db::manage::projects::find_project_by_id(&mut conn, project).await? else {
            return Ok(());
        };
        let user = match user {
            Some(id) => gantry_db::manage::users::find_user_by_id(&mut conn, id).await?,
            None => None,
        };
        drop(conn);
        if project.archived {
            return Ok(());
        }
        for update in refs.iter().filter(|r| r.new != gantry_git::ZERO_OID) {
            let mut conn = self.db.conn().await?;
            let made_before = pipelines::pipeline_for_push_event(&mut conn, update.event).await?;
            drop(conn);
            if let Some(pipeline) = made_before {
                self.process_pipeline(pipeline).await?;
                continue;
            }
            let (is_tag, name) = if let Some(branch) = update.name.strip_prefix("refs/heads/") {
                (false, branch)
            } else if let Some(tag) = update.name.strip_prefix("refs/tags/") {
                (true, tag)
            } else {
                continue;
            };
            let Some(sha) = self.repos.resolve_commit(project.id, &update.new).await? else { continue };
            if self.commit_skips_ci(&project, &sha).await {
                continue;
            }
            let request = PipelineRequest {
                ref_name: name.to_owned(),
                is_tag,
                sha,
                before_sha: update.old.clone(),
                source: "push",
                user: user.clone(),
                variables: Vec::new(),
                schedule_id: None,
                inputs: None,
            };
            match self.create_pipeline_for(&project, request, Some(update.event), None).await {
                Ok(Ok(_)) => {}
                Err(error) => {
                    // Another server may have made it meanwhile (this work's lease ran out).
                    let mut conn = self.db.conn().await?;
                    if pipelines::pipeline_for_push_event(&mut conn, update.event).await?.is_none() {
                        return Err(error);
                    }
                }
                Ok(Err(reason)) => {
                    tracing::debug!(project.id = %project.id, reference = %update.name, %reason, "no pipeline")
                }
            }
        }
        Ok(())
    }

    async fn commit_skips_ci(&self, project: &ProjectRow, sha: &str) -> bool {
        let repos = self.repos.clone();
        let (id, sha) = (project.id, sha.to_owned());
        let commit: Option<CommitSummary> =
            tokio::task::spawn_blocking(move || repos.reader(id).ok()?.commit(&sha).ok()).await.ok().flatten();
        commit.is_some_and(|c| {
            let message = c.message.to_lowercase();
            message.contains("[skip ci]") || message.contains("[ci skip]")
        })
    }
}

async fn insert_planned_job(
    tx: &mut gantry_db::Tx,
    project: &ProjectRow,
    pipeline_id: PipelineId,
    plan: &Plan,
    job: &PlannedJob,
    user: Option<&UserRow>,
) -> CoreResult<gantry_types::JobId> {
    let stage_idx = plan.stages.iter().position(|s| *s == job.stage).unwrap_or(0);
    let needs = job.needs.as_ref().map(|needs| {
        serde_json::to_string(&needs.iter().map(|n| n.job.as_str()).collect::<Vec<_>>()).unwrap_or_default()
    });
    let stored = StoredJob {
        definition: job.definition.clone(),
        variables: job.variables.clone(),
        dependencies: job.dependencies.clone(),
        elsewhere: job.elsewhere.clone(),
    };
    let definition = serde_json::to_string(&stored).map_err(|error| CoreError::Internal(Box::new(error)))?;
    let allow_failure =
        serde_json::to_string(&job.allow_failure).map_err(|error| CoreError::Internal(Box::new(error)))?;
    Ok(jobs::insert_job(
        tx,
        &jobs::NewJob {
            pipeline_id,
            project_id: project.id,
            name: &job.name,
            stage: &job.stage,
            stage_idx: i64::try_from(stage_idx).unwrap_or(0),
            run_when: job.when,
            allow_failure: &allow_failure,
            start_in: job.start_in.and_then(|s| i64::try_from(s).ok()),
            needs: needs.as_deref(),
            definition: &definition,
            tags: &job.definition.tags,
            interruptible: job.definition.interruptible,
            resource_group: job.definition.resource_group.as_deref(),
            attempt: 1,
            user_id: user.map(|u| u.id),
            bridge: job.definition.trigger.is_some(),
        },
    )
    .await?)
}

/// What `ci/lint` found: errors (GitLab's fixed messages as GitLab words them, the others at
/// file:line:column), warnings, and the jobs a push to the ref would run.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// The errors and warnings found in the CI files, with their positions (for pages).
    pub diagnostics: Vec<gantry_ci::Diagnostic>,
    pub jobs: Vec<PlannedJob>,
}

impl super::Ci<'_> {
    /// The `spec:inputs` the project's CI file declares at `ref_name` (for the "Run pipeline"
    /// form): empty when the file has no header, or there is no file; Err says why the file
    /// cannot be read.
    pub async fn pipeline_inputs_of(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        ref_name: &str,
    ) -> CoreResult<Result<Vec<super::catalog::ComponentInput>, String>> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        let settings = pipelines::ci_settings(&mut conn, project.id).await?;
        drop(conn);
        let Some(sha) = self.repos.resolve_commit(project.id, ref_name.trim()).await? else {
            return Ok(Ok(Vec::new()));
        };
        let candidates: Vec<String> = if settings.config_path.is_empty() {
            DEFAULT_CI_FILES.iter().map(|p| (*p).to_owned()).collect()
        } else {
            vec![settings.config_path.clone()]
        };
        let repos = self.repos.clone();
        let id = project.id;
        tokio::task::spawn_blocking(move || -> Result<_, gantry_git::GitError> {
            let reader = repos.reader(id)?;
            for path in candidates {
                if let Some(bytes) = reader.blob(&format!("{sha}:{path}"))? {
                    let Ok(text) = String::from_utf8(bytes) else {
                        return Ok(Err(format!("{path} is not UTF-8 text")));
                    };
                    return Ok(super::catalog::component_inputs(&path, &text));
                }
            }
            Ok(Ok(Vec::new()))
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))?
        .map_err(CoreError::from)
    }

    /// Checks a CI configuration: `content` when given, else the project's CI file at `ref_name`
    /// (the default branch when none). Includes are read from the repository at that ref.
    pub async fn lint_ci(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        content: Option<String>,
        ref_name: Option<&str>,
    ) -> CoreResult<LintReport> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadCode).await?;
        let settings = pipelines::ci_settings(&mut conn, project.id).await?;
        drop(conn);
        let ref_name = ref_name.filter(|r| !r.is_empty()).unwrap_or(&project.default_branch).to_owned();
        let sha = self.repos.resolve_commit(project.id, &ref_name).await?;
        let files = match &sha {
            Some(sha) => self.repos.list_files(project.id, sha).await?,
            None => Vec::new(),
        };
        let sources = self.include_sources(actor.clone()).await?;
        let repos = self.repos.clone();
        let project = project.clone();
        let server_url = self.ci.settings.external_url.clone();
        tokio::task::spawn_blocking(move || -> Result<LintReport, gantry_git::GitError> {
            let reader = repos.reader(project.id)?;
            let sha = sha.unwrap_or_else(|| gantry_git::ZERO_OID.to_owned());
            let config_path = if settings.config_path.is_empty() { DEFAULT_CI_FILES[0] } else { &settings.config_path };
            let source = match content {
                Some(content) => content,
                None => match DEFAULT_CI_FILES
                    .iter()
                    .copied()
                    .filter(|_| settings.config_path.is_empty())
                    .chain(std::iter::once(config_path))
                    .find_map(|path| reader.blob(&format!("{sha}:{path}")).ok().flatten())
                {
                    Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    None => {
                        return Ok(LintReport {
                            errors: vec![format!("{ref_name} has no CI configuration file ({config_path})")],
                            ..LintReport::default()
                        });
                    }
                },
            };
            let commit = reader.commit(&sha).ok();
            let variables = pipeline_variables(&PipelineContext {
                server_url: &server_url,
                project: &project,
                pipeline: None,
                ref_name: &ref_name,
                is_tag: false,
                protected: false,
                sha: &sha,
                before_sha: gantry_git::ZERO_OID,
                source: "push",
                commit: commit.as_ref(),
                user: None,
            });
            let files_source = RepositoryFiles {
                reader: &reader,
                sha: &sha,
                project: &project,
                sources: &sources,
                others: Default::default(),
                parent: None,
            };
            let facts = Facts { variables: &variables, changed_paths: None, files: &files };
            let config = match gantry_ci::load_for(&files_source, config_path, &source, &facts, &[]) {
                Ok(config) => config,
                Err(diagnostics) => {
                    return Ok(LintReport {
                        errors: diagnostics.0.iter().map(gantry_ci::Diagnostic::api_text).collect(),
                        diagnostics: diagnostics.0,
                        ..LintReport::default()
                    });
                }
            };
            let warned = LintReport {
                warnings: config.warnings.iter().map(gantry_ci::Diagnostic::api_text).collect(),
                diagnostics: config.warnings.clone(),
                ..LintReport::default()
            };
            Ok(match gantry_ci::plan(&config, &facts) {
                Err(diagnostics) => LintReport {
                    errors: diagnostics.0.iter().map(gantry_ci::Diagnostic::api_text).collect(),
                    diagnostics: warned.diagnostics.into_iter().chain(diagnostics.0).collect(),
                    ..warned
                },
                Ok(Err(nothing)) => {
                    let mut report = warned;
                    report.warnings.push(match nothing {
                        NoPipeline::Workflow => format!("workflow:rules create no pipeline for {ref_name}"),
                        NoPipeline::NoJobs => format!("no job runs for a push to {ref_name}"),
                    });
                    report
                }
                Ok(Ok(plan)) => LintReport { jobs: plan.jobs, ..warned },
            })
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))?
        .map_err(CoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_addresses_name_the_server_by_its_host_and_port() {
        assert_eq!(server_host("http://gantry.test"), "gantry.test");
        assert_eq!(server_host("https://Git.Example.com:8443/"), "git.example.com:8443");
        assert_eq!(server_host("http://localhost:3000/gantry"), "localhost:3000");
    }

    #[test]
    fn templates_are_included_by_file_name_and_an_unknown_one_names_some() {
        assert!(include_template("Rust.gitlab-ci.yml").unwrap().contains("cargo"));
        assert!(include_template("rust.gitlab-ci.yml").is_ok(), "names are found in any case");
        let unknown = include_template("Rusty.gitlab-ci.yml").unwrap_err();
        assert!(
            unknown.starts_with("Included file `Rusty.gitlab-ci.yml` is empty or does not exist! Gantry has "),
            "{unknown}"
        );
        assert!(unknown.contains("`Rust.gitlab-ci.yml`") && unknown.ends_with("lists them all"), "{unknown}");
        let other = include_template("Security/SAST.gitlab-ci.yml").unwrap_err();
        assert!(other.contains("such as `Bash.gitlab-ci.yml`, `C++.gitlab-ci.yml`"), "{other}");
        assert_eq!(include_template("Rust").unwrap_err(), "Template file `Rust` is not a valid location!");
    }
}
