//! The names and labels of what the Docker executor creates, the paths a job sees inside its
//! containers, and GitLab's rules for image references and service aliases. No IO.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::job::JobDirs;

/// The label every container and network of a runner carries: the runner's name. At start-up
/// the runner removes what carries its own name (a crashed run's leftovers).
pub(crate) const RUNNER_LABEL: &str = "io.gantry.runner";
/// The label with the job's id.
pub(crate) const JOB_LABEL: &str = "io.gantry.job";
/// The label with the job's project id (also on cache volumes).
pub(crate) const PROJECT_LABEL: &str = "io.gantry.project";
/// What the object is to the job: `network`, `service`, `step`, `cache`.
pub(crate) const ROLE_LABEL: &str = "io.gantry.role";

/// Where jobs' directories are inside containers (`CI_BUILDS_DIR`).
const CONTAINER_BUILDS_DIR: &str = "/builds";
/// Where the project's cache volume is mounted.
pub(crate) const CACHE_DIR: &str = "/cache";

/// The names of one job's objects.
#[derive(Debug, Clone)]
pub(crate) struct JobNames {
    runner: String,
    job_id: i64,
    project_id: i64,
    /// The runner's name, usable in Docker object names.
    prefix: String,
}

impl JobNames {
    pub(crate) fn new(runner: &str, job_id: i64, project_id: i64) -> JobNames {
        JobNames { runner: runner.to_owned(), job_id, project_id, prefix: object_name_part(runner) }
    }

    /// The job's network; also the prefix of its containers' names.
    pub(crate) fn network(&self) -> String {
        format!("gantry-{}-job-{}", self.prefix, self.job_id)
    }

    /// The container of a step (`step_script`, `after_script`, …).
    pub(crate) fn step_container(&self, section: &str) -> String {
        format!("{}-{}", self.network(), object_name_part(section))
    }

    /// The container of the `index`th service.
    pub(crate) fn service_container(&self, index: usize) -> String {
        format!("{}-service-{index}", self.network())
    }

    /// The project's cache volume: shared by the project's jobs on this runner, kept.
    pub(crate) fn cache_volume(&self) -> String {
        format!("gantry-{}-cache-project-{}", self.prefix, self.project_id)
    }

    /// The labels of an object of the job with `role`.
    pub(crate) fn labels(&self, role: &str) -> HashMap<String, String> {
        HashMap::from([
            (RUNNER_LABEL.to_owned(), self.runner.clone()),
            (JOB_LABEL.to_owned(), self.job_id.to_string()),
            (PROJECT_LABEL.to_owned(), self.project_id.to_string()),
            (ROLE_LABEL.to_owned(), role.to_owned()),
        ])
    }

    /// The labels of the project's cache volume (no job: it outlives them).
    pub(crate) fn cache_labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (RUNNER_LABEL.to_owned(), self.runner.clone()),
            (PROJECT_LABEL.to_owned(), self.project_id.to_string()),
            (ROLE_LABEL.to_owned(), "cache".to_owned()),
        ])
    }

    /// The label filter finding this job's objects.
    pub(crate) fn filter(&self) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_owned(),
            vec![format!("{RUNNER_LABEL}={}", self.runner), format!("{JOB_LABEL}={}", self.job_id)],
        )])
    }
}

/// The label filter finding every object of runner `runner`.
pub(crate) fn runner_filter(runner: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{RUNNER_LABEL}={runner}")])])
}

/// The job's directories as its containers see them: `/builds/<project path>` and
/// `/builds/<project path>.tmp`, GitLab's layout.
pub(crate) fn container_dirs(project_path: &str, project_id: i64) -> JobDirs {
    let segments: Vec<String> = project_path
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != "." && *segment != "..")
        .map(object_name_part)
        .collect();
    let relative = if segments.is_empty() { format!("project-{project_id}") } else { segments.join("/") };
    let builds = PathBuf::from(CONTAINER_BUILDS_DIR);
    JobDirs { project: builds.join(&relative), temp: builds.join(format!("{relative}.tmp")), builds, owner: None }
}

/// `image` as Docker pulls it: with `:latest` when it names neither a tag nor a digest (a pull
/// without a tag would fetch every tag).
pub(crate) fn pullable(image: &str) -> String {
    let last_segment = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last_segment.contains(':') { image.to_owned() } else { format!("{image}:latest") }
}

/// The host names GitLab gives a service from its image: the name without tag or digest and
/// without the registry's port, with `/` replaced by `__` and, as a second name valid in every
/// resolver, by `-` (`registry.example.com:5000/group/db:15` is
/// `registry.example.com__group__db` and `registry.example.com-group-db`; `postgres:15` is
/// `postgres`).
pub(crate) fn service_aliases_from_image(image: &str) -> Vec<String> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let (first, rest) = match without_digest.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (without_digest, None),
    };
    let path = match rest {
        // A registry host: drop its port.
        Some(rest) => format!("{}/{}", first.split(':').next().unwrap_or(first), strip_tag(rest)),
        None => strip_tag(first).to_owned(),
    };
    if path.is_empty() {
        return Vec::new();
    }
    let primary = path.replace('/', "__");
    let secondary = path.replace('/', "-");
    if primary == secondary { vec![primary] } else { vec![primary, secondary] }
}

/// The aliases a service is given: its image's, then the ones it names (`alias: db, primary`
/// names two), without repeats.
pub(crate) fn service_aliases(image: &str, alias: Option<&str>) -> Vec<String> {
    let mut aliases = service_aliases_from_image(image);
    let named = alias.unwrap_or_default().split([',', ' ', '\t']).filter(|alias| !alias.is_empty());
    for alias in named {
        if !aliases.iter().any(|known| known == alias) {
            aliases.push(alias.to_owned());
        }
    }
    aliases
}

fn strip_tag(path: &str) -> &str {
    let last_start = path.rfind('/').map_or(0, |slash| slash + 1);
    match path[last_start..].find(':') {
        Some(colon) => &path[..last_start + colon],
        None => path,
    }
}

/// `text` with every character Docker refuses in object names (`[a-zA-Z0-9_.-]`) replaced by
/// `-`, never empty and never starting with `.` or `-`.
fn object_name_part(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' { c } else { '-' })
        .collect();
    if cleaned.starts_with(|c: char| c.is_ascii_alphanumeric()) { cleaned } else { format!("x{cleaned}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_aliases_follow_gitlab() {
        assert_eq!(service_aliases_from_image("postgres:15"), ["postgres"]);
        assert_eq!(service_aliases_from_image("postgres"), ["postgres"]);
        assert_eq!(service_aliases_from_image("tutum/wordpress:latest"), ["tutum__wordpress", "tutum-wordpress"]);
        assert_eq!(
            service_aliases_from_image("registry.example.com:5000/group/db:15"),
            ["registry.example.com__group__db", "registry.example.com-group-db"]
        );
        assert_eq!(service_aliases_from_image("localhost:5000/web"), ["localhost__web", "localhost-web"]);
        assert_eq!(service_aliases_from_image("redis@sha256:abcd"), ["redis"]);
        assert_eq!(
            service_aliases("gantry-test/busybox:latest", Some("web, www web")),
            ["gantry-test__busybox", "gantry-test-busybox", "web", "www"]
        );
    }

    #[test]
    fn images_are_pulled_by_tag() {
        assert_eq!(pullable("alpine"), "alpine:latest");
        assert_eq!(pullable("alpine:3.20"), "alpine:3.20");
        assert_eq!(pullable("localhost:5000/group/app"), "localhost:5000/group/app:latest");
        assert_eq!(pullable("redis@sha256:abcd"), "redis@sha256:abcd");
    }

    #[test]
    fn jobs_see_gitlabs_directories_and_no_path_escapes_them() {
        let dirs = container_dirs("acme/platform/api", 7);
        assert_eq!(dirs.builds, PathBuf::from("/builds"));
        assert_eq!(dirs.project, PathBuf::from("/builds/acme/platform/api"));
        assert_eq!(dirs.temp, PathBuf::from("/builds/acme/platform/api.tmp"));
        assert_eq!(container_dirs("../../etc", 7).project, PathBuf::from("/builds/etc"));
        assert_eq!(container_dirs("", 7).project, PathBuf::from("/builds/project-7"));
    }

    #[test]
    fn names_are_valid_docker_names_and_labels_find_the_job() {
        let names = JobNames::new("my runner/1", 42, 7);
        assert_eq!(names.network(), "gantry-my-runner-1-job-42");
        assert_eq!(names.step_container("step_script"), "gantry-my-runner-1-job-42-step_script");
        assert_eq!(names.service_container(0), "gantry-my-runner-1-job-42-service-0");
        assert_eq!(names.cache_volume(), "gantry-my-runner-1-cache-project-7");
        assert_eq!(names.labels("service")[RUNNER_LABEL], "my runner/1");
        assert_eq!(names.filter()["label"], ["io.gantry.runner=my runner/1", "io.gantry.job=42"]);
        assert_eq!(JobNames::new("-x", 1, 1).network(), "gantry-x-x-job-1");
    }
}
