//! The Docker executor (`executor.rs`' seam): a job's sources are fetched on the runner's
//! machine as for the shell executor, then its steps run in containers of its image on a
//! private network with its services; everything the job created is removed when it ends, and
//! what a crashed run left (found by the runner's label) when the runner starts.

mod container;
pub(crate) mod containers;
mod images;
mod names;

use bollard::Docker;
use gantry_ci::protocol::JobPayload;
use tokio::time::Instant;

use self::containers::{JobContainers, ServiceSpec};
use self::images::{PullPolicy, ensure_image};
use self::names::JobNames;
use crate::config::DockerSettings;
use crate::error::RunnerError;
use crate::executor::{Executor, ExecutorJob};
use crate::job::environment::Environment;
use crate::job::script;
use crate::job::step::{ScriptError, Step};
use crate::job::{JobDirs, Outcome};
use crate::process::ProcessRun;

/// The engine's address when neither the settings nor `DOCKER_HOST` give one.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// A connection to the Docker Engine a runner's jobs run on. Cheap to share.
pub(crate) struct DockerEngine {
    docker: Docker,
    /// The runner's name: the label of everything it creates.
    runner: String,
    default_image: String,
}

impl DockerEngine {
    /// Connects to the engine of `settings` and agrees on an API version with it.
    pub(crate) async fn connect(settings: &DockerSettings, runner: &str) -> Result<DockerEngine, RunnerError> {
        let host = settings
            .host
            .clone()
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|host| !host.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let failed = |source: bollard::errors::Error| RunnerError::Docker { host: host.clone(), source: source.into() };
        let docker = Docker::connect_with_host(&host).map_err(failed)?.negotiate_version().await.map_err(failed)?;
        Ok(DockerEngine { docker, runner: runner.to_owned(), default_image: settings.default_image.clone() })
    }

    /// Removes the containers and networks carrying this runner's label (a crashed run's: at
    /// start-up no job runs); how many.
    pub(crate) async fn remove_leftovers(&self) -> usize {
        containers::remove_matching(&self.docker, names::runner_filter(&self.runner)).await
    }
}

/// A job in containers: the engine and the job's containers and network.
pub(crate) struct DockerJob<'a> {
    engine: &'a DockerEngine,
    containers: JobContainers<'a>,
}

impl Executor for DockerEngine {
    type Job<'a> = DockerJob<'a>;

    /// The job's containers run its image (or the default one), its directories (`step.dirs` on
    /// the runner's machine) bind-mounted where GitLab has them.
    async fn open<'a>(&'a self, step: &mut Step<'_>, payload: &JobPayload) -> DockerJob<'a> {
        let image = payload
            .image
            .as_ref()
            .map(|image| expand_variables(&image.name, payload))
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| self.default_image.clone());
        step.log.line(&format!("Using the docker executor with image {image} ...")).await;
        let seen = names::container_dirs(&payload.job_info.project_name, payload.job_info.project_id);
        let names = JobNames::new(&self.runner, payload.id, payload.job_info.project_id);
        let entrypoint = payload.image.as_ref().and_then(|image| image.entrypoint.clone());
        let containers = JobContainers::new(&self.docker, names, image, entrypoint, step.dirs, seen);
        DockerJob { engine: self, containers }
    }
}

impl ExecutorJob for DockerJob<'_> {
    fn seen_dirs(&self) -> &JobDirs {
        self.containers.seen()
    }

    /// Nothing of the runner's: the image's own `PATH` and `HOME` stay.
    fn base_environment(&self) -> Environment {
        Environment::new()
    }

    async fn start(&self, step: &mut Step<'_>, payload: &JobPayload, environment: &Environment) -> Result<(), Outcome> {
        start_job(self.engine, &self.containers, step, payload, environment).await
    }

    /// For `sh` or bash, whichever the image has.
    fn script(&self, lines: &[String]) -> String {
        script::generate_for_any_shell(lines)
    }

    async fn run_script(
        &self,
        step: &mut Step<'_>,
        section: &str,
        file_name: &str,
        environment: &Environment,
        deadline: Instant,
    ) -> Result<ProcessRun, ScriptError> {
        self.containers.run_script(step, section, file_name, environment, deadline).await
    }

    async fn close(self) {
        let (uid, gid) = (rustix::process::geteuid(), rustix::process::getegid());
        if !uid.is_root() {
            self.containers.hand_back_files(uid.as_raw(), gid.as_raw()).await;
        }
        self.containers.remove_all().await;
    }
}

/// The job's image, its network and its services.
async fn start_job(
    engine: &DockerEngine,
    containers: &JobContainers<'_>,
    step: &mut Step<'_>,
    payload: &JobPayload,
    environment: &Environment,
) -> Result<(), Outcome> {
    let policy = PullPolicy::of(payload.image.as_ref().and_then(|image| image.pull_policy.as_deref()));
    ensure_image(&engine.docker, containers.image(), policy, "", step).await?;
    containers.create_network().await?;
    for (index, service) in payload.services.iter().enumerate() {
        if let Some(reason) = *step.stop.borrow() {
            return Err(Outcome::Stopped(reason));
        }
        let image = expand_variables(&service.name, payload);
        let alias = service.alias.as_deref().map(|alias| expand_variables(alias, payload));
        let variables = service.variables.iter().map(|variable| {
            let value =
                if variable.expand { expand_variables(&variable.value, payload) } else { variable.value.clone() };
            (variable.key.clone(), value)
        });
        let service = ServiceSpec {
            aliases: names::service_aliases(&image, alias.as_deref()),
            image,
            entrypoint: service.entrypoint.clone(),
            command: service.command.clone(),
            variables: variables.collect(),
        };
        step.log.line(&format!("Starting service {} ...", service.image)).await;
        ensure_image(&engine.docker, &service.image, PullPolicy::IfNotPresent, " service", step).await?;
        containers.start_service(step, index, &service, environment).await?;
    }
    Ok(())
}

/// `text` with the job's variables (`$NAME`, `${NAME}`) replaced, as GitLab does for image and
/// service names; unknown ones are removed.
fn expand_variables(text: &str, payload: &JobPayload) -> String {
    let lookup = |name: &str| {
        payload.variables.iter().rev().find(|variable| variable.key == name).map(|variable| variable.value.clone())
    };
    gantry_ci::vars::expand(text, &lookup, false)
}
