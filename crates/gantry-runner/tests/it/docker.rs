//! The Docker executor against the machine's real Docker Engine. No image can be pulled here,
//! so the tests import their own: a root file system of Debian's static busybox
//! (`apt-get install busybox-static`), as `gantry-test/busybox:latest`. Each test's runner has a
//! name of its own, so one runner's start-up clean-up never touches another test's containers.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, NetworkCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};
use gantry_ci::keywords::{Image, Service, Variable};
use gantry_ci::protocol::JobVariable;
use gantry_runner::{DockerSettings, ExecutorKind, Isolation, RunnerConfig};

use crate::fake_server::FakeServerForRunnerTests;
use crate::jobs::assert_in_order;
use crate::{TestRepo, TestRunner, config, job, step, test_dir, variable};

/// The image the tests build and import.
const BUSYBOX: &str = "gantry-test/busybox:latest";

#[tokio::test]
async fn a_job_runs_in_its_image_with_its_sources_variables_and_cache_mounted() {
    let name = "docker-it-success";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["hello from the repository"]);
    let mut payload = job(
        101,
        &repo,
        &[
            "echo first",
            "echo second >&2",
            "cat README.md; echo",
            "test \"$CI_PROJECT_DIR\" = \"$PWD\" && echo \"in $PWD\"",
            "test -z \"${CARGO_MANIFEST_DIR:-}\" && echo runner-env-not-inherited",
            "cat \"$CONFIG_FILE\"; echo",
            "echo \"$CONFIG_FILE\"",
            "echo in-cache > /cache/mark",
            "mkdir -p made/by/the-job && echo as-root > made/by/the-job/file",
        ],
    );
    payload.image = Some(Image { name: BUSYBOX.into(), entrypoint: None, pull_policy: Some(vec!["never".into()]) });
    payload.variables.push(JobVariable { file: true, ..variable("CONFIG_FILE", "key: value") });
    server.enqueue(payload);

    let finished = server.wait_for_final_state(101).await;
    let trace = finished.trace_text();
    let update = finished.final_update().unwrap();
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref()), ("success", None), "{trace}");
    assert_in_order(
        &trace,
        &[
            "Using the docker executor with image gantry-test/busybox:latest ...",
            "Using docker image sha256:",
            ":get_sources\r\x1b[0K",
            ":step_script\r\x1b[0K",
            "\x1b[32;1m$ echo first\x1b[0;m\nfirst\n",
            "\x1b[32;1m$ echo second >&2\x1b[0;m\nsecond\n",
            "hello from the repository\n",
            "in /builds/acme/app\n",
            "runner-env-not-inherited\n",
            "key: value\n",
            "/builds/acme/app.tmp/CONFIG_FILE\n",
            "Job succeeded",
        ],
    );
    finish(&mut runner, name).await;
    assert_eq!(job_objects(&docker(), name, 101).await, Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(runner.builds.path()).unwrap().collect();
    assert!(left.is_empty(), "the job's directories are removed: {left:?}");
}

#[tokio::test]
async fn the_cache_volume_outlives_the_job_and_the_default_image_is_used() {
    let name = "docker-it-cache";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut first = job(102, &repo, &["echo cached-by-102 > /cache/file"]);
    first.job_info.project_id = 9102;
    server.enqueue(first);
    let finished = server.wait_for_final_state(102).await;
    assert_eq!(finished.final_update().unwrap().state, "success", "{}", finished.trace_text());

    let mut second = job(103, &repo, &["cat /cache/file"]);
    second.job_info.project_id = 9102;
    server.enqueue(second);
    let finished = server.wait_for_final_state(103).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    assert_in_order(&trace, &["with image gantry-test/busybox:latest", "$ cat /cache/file\x1b[0;m\ncached-by-102\n"]);
    runner.shut_down().await.unwrap();

    let volume = format!("gantry-{name}-cache-project-9102");
    let found = docker().inspect_volume(&volume).await.expect("the cache volume is kept");
    assert_eq!(found.labels.get("io.gantry.project").map(String::as_str), Some("9102"));
    remove_cache_volumes(name).await;
}

#[tokio::test]
async fn a_failing_line_fails_the_job_with_its_exit_code_and_after_script_runs_in_a_container() {
    let name = "docker-it-failure";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(104, &repo, &["echo before", "(exit 7)", "echo never-printed"]);
    payload.steps.push(step("after_script", &["echo \"cleaning up after $CI_JOB_STATUS\"", "exit 3"]));
    server.enqueue(payload);

    let finished = server.wait_for_final_state(104).await;
    let update = finished.final_update().unwrap();
    let trace = finished.trace_text();
    assert_eq!(
        (update.state.as_str(), update.failure_reason.as_deref(), update.exit_code),
        ("failed", Some("script_failure"), Some(7)),
        "{trace}"
    );
    assert!(!trace.contains("never-printed"), "{trace}");
    assert_in_order(
        &trace,
        &[
            "before\n",
            "$ (exit 7)",
            ":after_script\r\x1b[0K",
            "cleaning up after failed\n",
            "WARNING: after_script failed: exit code 3",
            "ERROR: Job failed: exit code 7",
        ],
    );
    finish(&mut runner, name).await;
    assert_eq!(job_objects(&docker(), name, 104).await, Vec::<String>::new());
}

#[tokio::test]
async fn services_are_reachable_by_their_aliases_with_the_jobs_and_their_own_variables() {
    let name = "docker-it-services";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(
        105,
        &repo,
        &[
            "wget -qO- http://web:8080/",
            "wget -qO- http://gantry-test-busybox:8080/",
            "wget -qO- http://gantry-test__busybox:8080/",
        ],
    );
    payload.variables.push(variable("FROM_JOB", "job-variable"));
    payload.services.push(Service {
        name: BUSYBOX.into(),
        alias: Some("web".into()),
        entrypoint: None,
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            "mkdir -p /www && echo \"$GREETING with $FROM_JOB\" > /www/index.html && exec httpd -f -p 8080 -h /www"
                .into(),
        ]),
        variables: vec![Variable {
            key: "GREETING".into(),
            value: "hello-from-service".into(),
            description: None,
            expand: true,
            options: Vec::new(),
        }],
    });
    server.enqueue(payload);

    let finished = server.wait_for_final_state(105).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    let page = "hello-from-service with job-variable\n";
    assert_in_order(
        &trace,
        &[
            "Starting service gantry-test/busybox:latest ...",
            "for gantry-test/busybox:latest service ...",
            &format!("$ wget -qO- http://web:8080/\x1b[0;m\n{page}"),
            &format!("$ wget -qO- http://gantry-test-busybox:8080/\x1b[0;m\n{page}"),
            &format!("$ wget -qO- http://gantry-test__busybox:8080/\x1b[0;m\n{page}"),
        ],
    );
    finish(&mut runner, name).await;
    assert_eq!(job_objects(&docker(), name, 105).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_canceled_job_has_its_containers_killed_and_removed_at_once() {
    let name = "docker-it-cancel";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(106, &repo, &["echo started", "sleep 306"]);
    payload.services.push(busybox_service(&["sleep", "307"]));
    server.enqueue(payload);

    server.wait_for_trace(106, "started\n").await;
    let docker = docker();
    assert_eq!(job_objects(&docker, name, 106).await.len(), 3, "the step, the service and the network");
    server.cancel(106);
    let finished = server.wait_for_final_state(106).await;
    // The script sleeps for 306 s, far past the wait's limit: the job ended because of the cancel.
    assert!(finished.trace_text().contains("Job canceled"), "{}", finished.trace_text());
    assert_eq!(job_objects(&docker, name, 106).await, Vec::<String>::new());
    finish(&mut runner, name).await;
}

#[tokio::test]
async fn a_timeout_kills_the_container() {
    let name = "docker-it-timeout";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(107, &repo, &["echo waiting", "sleep 308"]);
    payload.runner_info.timeout = 3;
    server.enqueue(payload);

    let finished = server.wait_for_final_state(107).await;
    let update = finished.final_update().unwrap();
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref()), ("failed", Some("job_execution_timeout")));
    assert_in_order(
        &finished.trace_text(),
        &[
            "waiting\n",
            "ERROR: Job timed out after 3 seconds",
            "ERROR: Job failed: execution took longer than 3 seconds",
        ],
    );
    assert_eq!(job_objects(&docker(), name, 107).await, Vec::<String>::new());
    finish(&mut runner, name).await;
}

#[tokio::test]
async fn shutting_down_the_runner_kills_the_jobs_containers() {
    let name = "docker-it-shutdown";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    server.enqueue(job(108, &repo, &["echo started", "sleep 309"]));

    server.wait_for_trace(108, "started\n").await;
    runner.shut_down().await.unwrap();
    let update = server.job(108).unwrap().final_update().cloned().expect("reported before the runner stopped");
    assert_eq!((update.state.as_str(), update.failure_reason.as_deref()), ("failed", Some("runner_system_failure")));
    assert_eq!(job_objects(&docker(), name, 108).await, Vec::<String>::new());
    remove_cache_volumes(name).await;
}

#[tokio::test]
async fn masked_variables_are_masked_in_container_output() {
    let name = "docker-it-masked";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let secret = "d0cker-S3cret-Value";
    let mut payload = job(
        109,
        &repo,
        &["echo \"whole: $SECRET\"", "printf 'split: d0cker-S3'; sleep 0.3; printf 'cret-Value end\\n'"],
    );
    payload.variables.push(JobVariable { masked: true, ..variable("SECRET", secret) });
    server.enqueue(payload);

    let finished = server.wait_for_final_state(109).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    assert!(!trace.contains(secret), "{trace}");
    assert_in_order(&trace, &["whole: [MASKED]\n", "split: [MASKED] end\n"]);
    finish(&mut runner, name).await;
}

#[tokio::test]
async fn an_image_that_cannot_be_pulled_fails_the_job_with_gitlabs_message() {
    let name = "docker-it-pull";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut payload = job(110, &repo, &["echo never-run"]);
    // Nothing listens on port 1: the pull fails at once.
    payload.image = Some(Image { name: "127.0.0.1:1/gantry-test/missing".into(), entrypoint: None, pull_policy: None });
    server.enqueue(payload);

    let finished = server.wait_for_final_state(110).await;
    let update = finished.final_update().unwrap();
    let trace = finished.trace_text();
    assert_eq!(
        (update.state.as_str(), update.failure_reason.as_deref()),
        ("failed", Some("script_failure")),
        "{trace}"
    );
    assert!(!trace.contains("never-run\n"), "{trace}");
    assert_in_order(
        &trace,
        &[
            "Pulling docker image 127.0.0.1:1/gantry-test/missing:latest ...",
            "ERROR: failed to pull image \"127.0.0.1:1/gantry-test/missing:latest\": ",
            "ERROR: Job failed: failed to pull image \"127.0.0.1:1/gantry-test/missing:latest\"",
        ],
    );
    finish(&mut runner, name).await;
    assert_eq!(job_objects(&docker(), name, 110).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_jobs_entrypoint_replaces_the_images_and_one_that_cannot_start_fails_the_job() {
    let name = "docker-it-entrypoint";
    let (server, mut runner) = start(name).await;
    let repo = TestRepo::with_commits(&["x"]);
    let mut wrapped = job(111, &repo, &["echo in-script"]);
    let entrypoint = ["sh", "-c", "echo from-entrypoint; exec \"$@\"", "entrypoint"];
    wrapped.image = Some(Image {
        name: BUSYBOX.into(),
        entrypoint: Some(entrypoint.map(str::to_owned).to_vec()),
        pull_policy: None,
    });
    server.enqueue(wrapped);
    let finished = server.wait_for_final_state(111).await;
    let trace = finished.trace_text();
    assert_eq!(finished.final_update().unwrap().state, "success", "{trace}");
    assert_in_order(&trace, &["from-entrypoint\n", "$ echo in-script\x1b[0;m\nin-script\n"]);

    let mut broken = job(112, &repo, &["echo never-run"]);
    broken.image =
        Some(Image { name: BUSYBOX.into(), entrypoint: Some(vec!["/does-not-exist".into()]), pull_policy: None });
    server.enqueue(broken);
    let finished = server.wait_for_final_state(112).await;
    let update = finished.final_update().unwrap();
    let trace = finished.trace_text();
    assert_eq!(
        (update.state.as_str(), update.failure_reason.as_deref()),
        ("failed", Some("script_failure")),
        "{trace}"
    );
    assert!(trace.contains("ERROR: Job failed: the container did not start: "), "{trace}");
    finish(&mut runner, name).await;
    assert_eq!(job_objects(&docker(), name, 112).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_runner_removes_what_a_crashed_run_of_it_left_and_nothing_else() {
    let name = "docker-it-crash";
    let docker = docker();
    busybox_image();
    let mine = labels(name, "41");
    let others = labels("docker-it-someone-else", "41");
    let network = format!("gantry-{name}-job-41");
    let request = NetworkCreateRequest { name: network.clone(), labels: Some(mine.clone()), ..Default::default() };
    docker.create_network(request).await.unwrap();
    let leftover = create_sleeper(&docker, &format!("gantry-{name}-job-41-step_script"), &mine, Some(&network)).await;
    let survivor = create_sleeper(&docker, "gantry-docker-it-someone-else-job-41", &others, None).await;
    assert_eq!(job_objects(&docker, name, 41).await.len(), 2);

    let server = FakeServerForRunnerTests::start().await;
    let builds = test_dir();
    let mut runner = TestRunner::start_with(docker_config(&server, builds.path(), name), builds);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !job_objects(&docker, name, 41).await.is_empty() {
        assert!(Instant::now() < deadline, "the leftovers are still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    finish(&mut runner, name).await;
    assert!(docker.inspect_container(&leftover, None).await.is_err());
    assert!(docker.inspect_container(&survivor, None).await.is_ok(), "another runner's container stays");
    let options = RemoveContainerOptions { force: true, ..Default::default() };
    docker.remove_container(&survivor, Some(options)).await.unwrap();
}

/// Stops the runner and removes the cache volumes its jobs made.
async fn finish(runner: &mut TestRunner, name: &str) {
    runner.shut_down().await.unwrap();
    remove_cache_volumes(name).await;
}

async fn remove_cache_volumes(runner: &str) {
    let docker = docker();
    let filters = HashMap::from([("label".to_owned(), vec![format!("io.gantry.runner={runner}")])]);
    let volumes = docker.list_volumes(Some(ListVolumesOptions { filters: Some(filters) })).await.unwrap();
    for volume in volumes.volumes.unwrap_or_default() {
        docker.remove_volume(&volume.name, None::<RemoveVolumeOptions>).await.unwrap();
    }
}

/// A fake server and a Docker runner named `name` (unique per test) against it.
async fn start(name: &str) -> (FakeServerForRunnerTests, TestRunner) {
    busybox_image();
    let server = FakeServerForRunnerTests::start().await;
    let builds = test_dir();
    let config = docker_config(&server, builds.path(), name);
    let runner = TestRunner::start_with(config, builds);
    (server, runner)
}

fn docker_config(server: &FakeServerForRunnerTests, builds: &Path, name: &str) -> RunnerConfig {
    let mut config = config(server.url(), builds, Isolation::None, 1);
    config.name = name.to_owned();
    config.executor = ExecutorKind::Docker(DockerSettings { host: None, default_image: BUSYBOX.to_owned() });
    config
}

fn docker() -> Docker {
    Docker::connect_with_local_defaults().expect("the Docker Engine's socket")
}

/// A service of the busybox image running `command`.
fn busybox_service(command: &[&str]) -> Service {
    Service {
        name: BUSYBOX.into(),
        alias: None,
        entrypoint: None,
        command: Some(command.iter().map(|part| (*part).to_owned()).collect()),
        variables: Vec::new(),
    }
}

/// The names of the containers and networks of runner `runner`'s job `job_id`.
async fn job_objects(docker: &Docker, runner: &str, job_id: i64) -> Vec<String> {
    let labels = vec![format!("io.gantry.runner={runner}"), format!("io.gantry.job={job_id}")];
    let filters = Some(HashMap::from([("label".to_owned(), labels)]));
    let options = ListContainersOptions { all: true, filters: filters.clone(), ..Default::default() };
    let containers = docker.list_containers(Some(options)).await.unwrap();
    let networks = docker.list_networks(Some(ListNetworksOptions { filters })).await.unwrap();
    let mut names: Vec<String> =
        containers.into_iter().flat_map(|container| container.names.unwrap_or_default()).collect();
    names.extend(networks.into_iter().filter_map(|network| network.name));
    names
}

fn labels(runner: &str, job_id: &str) -> HashMap<String, String> {
    HashMap::from([("io.gantry.runner".to_owned(), runner.to_owned()), ("io.gantry.job".to_owned(), job_id.to_owned())])
}

/// Creates and starts a busybox container sleeping for long, as a crashed runner leaves one;
/// its id.
async fn create_sleeper(
    docker: &Docker,
    name: &str,
    labels: &HashMap<String, String>,
    network: Option<&str>,
) -> String {
    let body = ContainerCreateBody {
        image: Some(BUSYBOX.to_owned()),
        cmd: Some(vec!["sleep".into(), "310".into()]),
        labels: Some(labels.clone()),
        host_config: Some(bollard::models::HostConfig {
            network_mode: network.map(str::to_owned),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions { name: Some(name.to_owned()), ..Default::default() };
    let id = docker.create_container(Some(options), body).await.unwrap().id;
    docker.start_container(&id, None).await.unwrap();
    id
}

/// Makes sure the engine has [`BUSYBOX`], importing it once from a root file system of
/// `/bin/busybox`.
fn busybox_image() {
    static IMPORTED: OnceLock<()> = OnceLock::new();
    IMPORTED.get_or_init(import_busybox);
}

fn import_busybox() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/test-images");
    let built = Command::new(script).output().unwrap();
    assert!(built.status.success(), "{script} failed: {}", String::from_utf8_lossy(&built.stderr));
}
