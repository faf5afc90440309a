//! The Docker objects of one job: its private network, its services, one container per step
//! from the job's image (the job's directories bind-mounted where GitLab has them, the
//! project's cache volume at `/cache`), and their removal, found by the job's labels.

use std::collections::HashMap;
use std::path::Path;

use bollard::Docker;
use bollard::errors::Error;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions,
    NetworkCreateRequest, NetworkingConfig,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, RemoveContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use tokio::time::{Duration, Instant};

use crate::docker::container::{self, ContainerError};
use crate::docker::names::{CACHE_DIR, JobNames};
use crate::job::environment::Environment;
use crate::job::log_lines::{Colour, coloured};
use crate::job::script::RUN_WITH_ANY_SHELL;
use crate::job::step::{ScriptError, Step};
use crate::job::{FailureReason, JobDirs, Outcome};
use crate::process::ProcessRun;

/// How long giving the job's files back to the runner's user may take.
const HAND_BACK_LIMIT: Duration = Duration::from_secs(60);

/// A service of the job, its names and variables expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceSpec {
    pub(crate) image: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) entrypoint: Option<Vec<String>>,
    pub(crate) command: Option<Vec<String>>,
    /// Its own variables, added to the job's.
    pub(crate) variables: Vec<(String, String)>,
}

/// The containers and network of one job.
pub(crate) struct JobContainers<'a> {
    docker: &'a Docker,
    names: JobNames,
    image: String,
    entrypoint: Option<Vec<String>>,
    /// The job's directories inside its containers.
    seen: JobDirs,
    /// The job's directories, bind-mounted.
    directories: Vec<Mount>,
    /// The project's cache volume.
    cache: Mount,
}

impl<'a> JobContainers<'a> {
    /// The containers of a job running in `image` (with `entrypoint` when it overrides the
    /// image's), whose directories are `host` on the runner's machine and `seen` inside.
    pub(crate) fn new(
        docker: &'a Docker,
        names: JobNames,
        image: String,
        entrypoint: Option<Vec<String>>,
        host: &JobDirs,
        seen: JobDirs,
    ) -> JobContainers<'a> {
        let directories = vec![bind(&host.project, &seen.project), bind(&host.temp, &seen.temp)];
        let cache = Mount {
            typ: Some(MountType::VOLUME),
            source: Some(names.cache_volume()),
            target: Some(CACHE_DIR.to_owned()),
            // Labels for the volume Docker creates the first time.
            volume_options: Some(MountVolumeOptions { labels: Some(names.cache_labels()), ..Default::default() }),
            ..Default::default()
        };
        JobContainers { docker, names, image, entrypoint, seen, directories, cache }
    }

    /// The job's directories inside its containers.
    pub(crate) fn seen(&self) -> &JobDirs {
        &self.seen
    }

    /// The job's image.
    pub(crate) fn image(&self) -> &str {
        &self.image
    }

    /// Creates the job's private network.
    pub(crate) async fn create_network(&self) -> Result<(), Outcome> {
        let request = NetworkCreateRequest {
            name: self.names.network(),
            driver: Some("bridge".to_owned()),
            labels: Some(self.names.labels("network")),
            ..Default::default()
        };
        match self.docker.create_network(request).await {
            Ok(_) => Ok(()),
            Err(error) => Err(Outcome::system_failure(&format!("cannot create the job's network: {error}"))),
        }
    }

    /// Starts the `index`th service on the job's network, with the job's variables and its own.
    pub(crate) async fn start_service(
        &self,
        step: &mut Step<'_>,
        index: usize,
        service: &ServiceSpec,
        environment: &Environment,
    ) -> Result<(), Outcome> {
        let mut environment = environment.clone();
        for (key, value) in &service.variables {
            environment.insert(key.clone(), value.into());
        }
        let body = ContainerCreateBody {
            image: Some(service.image.clone()),
            entrypoint: service.entrypoint.clone(),
            cmd: service.command.clone(),
            env: Some(env_list(&environment)),
            labels: Some(self.names.labels("service")),
            host_config: Some(self.host_config(Vec::new())),
            networking_config: Some(self.endpoint(service.aliases.clone())),
            ..Default::default()
        };
        let id = self.create(&self.names.service_container(index), body).await.map_err(|error| {
            Outcome::system_failure(&format!("cannot create the service {}: {error}", service.image))
        })?;
        if let Err(error) = self.docker.start_container(&id, None).await {
            let message = format!("the service {} did not start: {error}", service.image);
            step.log.line(&coloured(Colour::Red, &format!("ERROR: {message}"))).await;
            return Err(Outcome::failed(FailureReason::ScriptFailure, None, &message));
        }
        Ok(())
    }

    /// Runs the script file `script` of the job's temporary directory for step `section`, in a
    /// new container of the job's image, until `deadline`.
    pub(crate) async fn run_script(
        &self,
        step: &mut Step<'_>,
        section: &str,
        script: &str,
        environment: &Environment,
        deadline: Instant,
    ) -> Result<ProcessRun, ScriptError> {
        let script_path = self.seen.temp.join(script).to_string_lossy().into_owned();
        let command = ["sh", "-c", RUN_WITH_ANY_SHELL, "sh", &script_path].map(str::to_owned);
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: self.entrypoint.clone(),
            cmd: Some(command.to_vec()),
            env: Some(env_list(environment)),
            working_dir: Some(self.seen.project.to_string_lossy().into_owned()),
            labels: Some(self.names.labels("step")),
            host_config: Some(self.host_config([&self.directories[..], std::slice::from_ref(&self.cache)].concat())),
            ..Default::default()
        };
        let id = self
            .create(&self.names.step_container(section), body)
            .await
            .map_err(|error| ScriptError::runner(format!("cannot create the job's container: {error}")))?;
        container::run_to_end(self.docker, &id, step.log, deadline, step.stop).await.map_err(|error| match error {
            ContainerError::Start(_) => ScriptError::job(error.to_string()),
            ContainerError::Engine { .. } => ScriptError::runner(error.to_string()),
        })
    }

    /// Gives the job's directories back to the runner's user (`uid:gid`): what the job's
    /// containers made there as root, the runner could not remove. Runs `chown` as root in a
    /// container of the job's image; an image without `chown` leaves the files as they are (their
    /// removal then fails, with a warning).
    pub(crate) async fn hand_back_files(&self, uid: u32, gid: u32) {
        let project = self.seen.project.to_string_lossy().into_owned();
        let temp = self.seen.temp.to_string_lossy().into_owned();
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec![String::new()]),
            cmd: Some(vec!["chown".to_owned(), "-R".to_owned(), format!("{uid}:{gid}"), project, temp]),
            user: Some("0:0".to_owned()),
            labels: Some(self.names.labels("hand_back_files")),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                mounts: Some(self.directories.clone()),
                log_config: Some(HostConfigLogConfig { typ: Some("none".to_owned()), config: None }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let handed_back = async {
            let id = self.create(&self.names.step_container("hand_back_files"), body).await?;
            self.docker.start_container(&id, None).await?;
            let options = WaitContainerOptions { condition: "not-running".to_owned() };
            match self.docker.wait_container(&id, Some(options)).next().await {
                Some(Err(error)) => Err(error),
                _ => Ok(()),
            }
        };
        match tokio::time::timeout(HAND_BACK_LIMIT, handed_back).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(error = %error, "cannot give a job's files back to the runner's user"),
            Err(_) => tracing::warn!("giving a job's files back to the runner's user took too long"),
        }
    }

    /// Removes every container (killing those still running) and the network of the job,
    /// whether this run made them or an earlier one did. Failures are logged, not returned:
    /// the runner's next start removes what is left.
    pub(crate) async fn remove_all(&self) {
        remove_matching(self.docker, self.names.filter()).await;
    }

    async fn create(&self, name: &str, body: ContainerCreateBody) -> Result<String, Error> {
        let options = CreateContainerOptions { name: Some(name.to_owned()), ..Default::default() };
        Ok(self.docker.create_container(Some(options), body).await?.id)
    }

    fn host_config(&self, mounts: Vec<Mount>) -> HostConfig {
        HostConfig {
            network_mode: Some(self.names.network()),
            mounts: Some(mounts),
            // The runner streams the output itself: the engine keeps no copy (with secrets
            // unmasked) on its disk.
            log_config: Some(HostConfigLogConfig { typ: Some("none".to_owned()), config: None }),
            ..Default::default()
        }
    }

    fn endpoint(&self, aliases: Vec<String>) -> NetworkingConfig {
        let settings = EndpointSettings { aliases: Some(aliases), ..Default::default() };
        NetworkingConfig { endpoints_config: Some(HashMap::from([(self.names.network(), settings)])) }
    }
}

/// Removes the containers, then the networks, that match the label `filter`; how many objects.
pub(crate) async fn remove_matching(docker: &Docker, filter: HashMap<String, Vec<String>>) -> usize {
    let mut removed = 0;
    let options = ListContainersOptions { all: true, filters: Some(filter.clone()), ..Default::default() };
    match docker.list_containers(Some(options)).await {
        Ok(containers) => {
            for id in containers.into_iter().filter_map(|container| container.id) {
                let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
                match docker.remove_container(&id, Some(options)).await {
                    Ok(()) => removed += 1,
                    Err(Error::DockerResponseServerError { status_code: 404, .. }) => {}
                    Err(error) => tracing::warn!(container = %id, error = %error, "cannot remove a job container"),
                }
            }
        }
        Err(error) => tracing::warn!(error = %error, "cannot list job containers to remove them"),
    }
    match docker.list_networks(Some(ListNetworksOptions { filters: Some(filter) })).await {
        Ok(networks) => {
            for id in networks.into_iter().filter_map(|network| network.id) {
                match docker.remove_network(&id).await {
                    Ok(()) => removed += 1,
                    Err(Error::DockerResponseServerError { status_code: 404, .. }) => {}
                    Err(error) => tracing::warn!(network = %id, error = %error, "cannot remove a job network"),
                }
            }
        }
        Err(error) => tracing::warn!(error = %error, "cannot list job networks to remove them"),
    }
    removed
}

fn bind(host: &Path, container: &Path) -> Mount {
    Mount {
        typ: Some(MountType::BIND),
        source: Some(host.to_string_lossy().into_owned()),
        target: Some(container.to_string_lossy().into_owned()),
        ..Default::default()
    }
}

/// An environment as Docker takes it: `KEY=value`.
fn env_list(environment: &Environment) -> Vec<String> {
    environment.iter().map(|(key, value)| format!("{key}={}", value.to_string_lossy())).collect()
}
