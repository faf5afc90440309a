//! GitLab's predefined CI/CD variables (`CI_COMMIT_SHA`, `CI_PROJECT_PATH`, …) from plain
//! data: the pipeline's set ([`for_pipeline`], which `rules:if` sees and every job gets) and each
//! job's own ([`for_job`]: `CI_JOB_ID`, `CI_JOB_TOKEN`, …). The server fills every fact; a local
//! checkout (`gantry ci lint`, `gantry ci exec`) leaves out what it cannot know, and the
//! variables made from it are left out too rather than guessed.

/// The project a pipeline runs for.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    /// None where it is not known (a local checkout): `CI_PROJECT_ID` is left out.
    pub id: Option<i64>,
    /// The last segment of the project's path (`platform`).
    pub path: &'a str,
    /// The project's display name (`CI_PROJECT_TITLE`).
    pub name: &'a str,
    /// The full path with namespaces (`acme/platform`).
    pub full_path: &'a str,
    /// `public`, `internal` or `private`; None where it is not known.
    pub visibility: Option<&'a str>,
    pub description: &'a str,
    pub default_branch: &'a str,
}

/// The pipeline's commit.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    pub message: &'a str,
    /// The message's first line.
    pub title: &'a str,
    pub author_name: &'a str,
    pub author_email: &'a str,
    /// Unix seconds.
    pub committed_at: i64,
}

/// Who the pipeline runs for.
#[derive(Debug, Clone, Copy)]
pub struct User<'a> {
    pub id: i64,
    pub username: &'a str,
    pub email: &'a str,
    pub name: &'a str,
}

/// What the pipeline's variables are made from.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline<'a> {
    /// The server's external URL (`https://gantry.example.com`); None where it is not known, and
    /// then `CI_SERVER_*`, `CI_API_V4_URL`, `CI_PROJECT_URL` and `CI_REGISTRY*` are left out.
    pub server_url: Option<&'a str>,
    pub project: Project<'a>,
    /// The pipeline's id and number once it is stored (planning happens before).
    pub ids: Option<(i64, i64)>,
    pub ref_name: &'a str,
    pub is_tag: bool,
    pub protected: bool,
    pub sha: &'a str,
    pub before_sha: &'a str,
    /// `push`, `web`, `api`, `schedule`, `trigger`, …
    pub source: &'a str,
    pub commit: Option<Commit<'a>>,
    pub user: Option<User<'a>>,
}

/// What a job's own variables are made from.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub id: i64,
    pub name: &'a str,
    pub stage: &'a str,
    /// Unix milliseconds.
    pub started_at: i64,
    pub token: &'a str,
    pub runner_id: Option<i64>,
    /// `parallel`: this job's index (from 1) and the number of its siblings.
    pub node: Option<(u32, u32)>,
    pub pipeline_id: i64,
    pub pipeline_iid: i64,
    /// Unix milliseconds.
    pub pipeline_created_at: i64,
}

/// The job variables that carry the job token: never public.
const SECRET_JOB_VARIABLES: [&str; 3] = ["CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_REPOSITORY_URL"];

/// Whether the predefined variable `key` carries a secret (the job token).
pub fn is_secret(key: &str) -> bool {
    SECRET_JOB_VARIABLES.contains(&key)
}

/// GitLab's `CI_COMMIT_REF_SLUG` rule: lowercase, anything but `[a-z0-9]` becomes `-`, at most
/// 63 characters, no `-` at either end.
pub fn slug(text: &str) -> String {
    let lowered: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .collect();
    let cut: String = lowered.chars().take(63).collect();
    cut.trim_matches('-').to_owned()
}

/// The pipeline-wide predefined variables, in GitLab's names and order.
pub fn for_pipeline(pipeline: &Pipeline<'_>) -> Vec<(String, String)> {
    let project = &pipeline.project;
    let server = pipeline.server_url.map(|url| url.trim_end_matches('/'));
    let namespace = project.full_path.rsplit_once('/').map_or("", |(ns, _)| ns);
    let root_namespace = project.full_path.split('/').next().unwrap_or("");
    let mut vars: Vec<(String, String)> = Vec::with_capacity(64);
    let mut set = |key: &str, value: String| vars.push((key.to_owned(), value));
    set("CI", "true".into());
    set("GITLAB_CI", "true".into());
    set("GANTRY_CI", "true".into());
    set("CI_SERVER", "yes".into());
    set("CI_SERVER_NAME", "Gantry".into());
    set("CI_SERVER_VERSION", env!("CARGO_PKG_VERSION").into());
    if let Some(server) = server {
        let (protocol, host, port) = host_and_port(server);
        set("CI_SERVER_URL", server.into());
        set("CI_SERVER_PROTOCOL", protocol);
        set("CI_SERVER_HOST", host);
        set("CI_SERVER_PORT", port);
        set("CI_API_V4_URL", format!("{server}/api/v4"));
    }
    if let Some(id) = project.id {
        set("CI_PROJECT_ID", id.to_string());
    }
    set("CI_PROJECT_NAME", project.path.into());
    set("CI_PROJECT_TITLE", project.name.into());
    set("CI_PROJECT_PATH", project.full_path.into());
    set("CI_PROJECT_PATH_SLUG", slug(project.full_path));
    set("CI_PROJECT_NAMESPACE", namespace.into());
    set("CI_PROJECT_ROOT_NAMESPACE", root_namespace.into());
    if let Some(server) = server {
        set("CI_PROJECT_URL", format!("{server}/{}", project.full_path));
    }
    if let Some(visibility) = project.visibility {
        set("CI_PROJECT_VISIBILITY", visibility.into());
    }
    set("CI_PROJECT_DESCRIPTION", project.description.into());
    set("CI_DEFAULT_BRANCH", project.default_branch.into());
    set("CI_CONFIG_PATH", ".gitlab-ci.yml".into());
    set("CI_COMMIT_SHA", pipeline.sha.into());
    set("CI_COMMIT_SHORT_SHA", pipeline.sha.chars().take(8).collect());
    set("CI_COMMIT_BEFORE_SHA", pipeline.before_sha.into());
    set("CI_COMMIT_REF_NAME", pipeline.ref_name.into());
    set("CI_COMMIT_REF_SLUG", slug(pipeline.ref_name));
    set("CI_COMMIT_REF_PROTECTED", pipeline.protected.to_string());
    if pipeline.is_tag {
        set("CI_COMMIT_TAG", pipeline.ref_name.into());
    } else {
        set("CI_COMMIT_BRANCH", pipeline.ref_name.into());
    }
    if let Some(commit) = &pipeline.commit {
        set("CI_COMMIT_MESSAGE", commit.message.into());
        set("CI_COMMIT_TITLE", commit.title.into());
        let description = commit.message.split_once('\n').map_or("", |(_, rest)| rest.trim_start_matches('\n'));
        set("CI_COMMIT_DESCRIPTION", description.into());
        set("CI_COMMIT_AUTHOR", format!("{} <{}>", commit.author_name, commit.author_email));
        set("CI_COMMIT_TIMESTAMP", rfc3339(commit.committed_at.saturating_mul(1000)));
    }
    set("CI_PIPELINE_SOURCE", pipeline.source.into());
    if let Some((id, iid)) = pipeline.ids {
        set("CI_PIPELINE_ID", id.to_string());
        set("CI_PIPELINE_IID", iid.to_string());
        if let Some(server) = server {
            set("CI_PIPELINE_URL", format!("{server}/{}/-/pipelines/{id}", project.full_path));
        }
    }
    if let Some(server) = server {
        let registry_host = server.split_once("://").map_or(server, |(_, rest)| rest).to_owned();
        set("CI_REGISTRY", registry_host.clone());
        set("CI_REGISTRY_IMAGE", format!("{registry_host}/{}", project.full_path.to_lowercase()));
        set("CI_REGISTRY_USER", "gitlab-ci-token".into());
    }
    if let Some(user) = &pipeline.user {
        set("GITLAB_USER_ID", user.id.to_string());
        set("GITLAB_USER_LOGIN", user.username.into());
        set("GITLAB_USER_EMAIL", user.email.into());
        set("GITLAB_USER_NAME", user.name.into());
    }
    vars
}

/// The job's own predefined variables. `server_url` None (a local run) leaves out the URLs:
/// `CI_JOB_URL`, `CI_PIPELINE_URL` and `CI_REPOSITORY_URL`.
pub fn for_job(server_url: Option<&str>, project_full_path: &str, job: &Job<'_>) -> Vec<(String, String)> {
    let server = server_url.map(|url| url.trim_end_matches('/'));
    let mut vars: Vec<(String, String)> = Vec::with_capacity(16);
    let mut set = |key: &str, value: String| vars.push((key.to_owned(), value));
    set("CI_JOB_ID", job.id.to_string());
    set("CI_JOB_NAME", job.name.into());
    set("CI_JOB_NAME_SLUG", slug(job.name));
    set("CI_JOB_STAGE", job.stage.into());
    if let Some(server) = server {
        set("CI_JOB_URL", format!("{server}/{project_full_path}/-/jobs/{}", job.id));
    }
    set("CI_JOB_STARTED_AT", rfc3339(job.started_at));
    set("CI_JOB_TOKEN", job.token.into());
    set("CI_REGISTRY_PASSWORD", job.token.into());
    set("CI_PIPELINE_ID", job.pipeline_id.to_string());
    set("CI_PIPELINE_IID", job.pipeline_iid.to_string());
    if let Some(server) = server {
        set("CI_PIPELINE_URL", format!("{server}/{project_full_path}/-/pipelines/{}", job.pipeline_id));
    }
    set("CI_PIPELINE_CREATED_AT", rfc3339(job.pipeline_created_at));
    if let Some(server) = server {
        let (protocol, rest) = server.split_once("://").unwrap_or(("http", server));
        set("CI_REPOSITORY_URL", format!("{protocol}://gitlab-ci-token:{}@{rest}/{project_full_path}.git", job.token));
    }
    if let Some(runner) = job.runner_id {
        set("CI_RUNNER_ID", runner.to_string());
    }
    if let Some((index, total)) = job.node {
        set("CI_NODE_INDEX", index.to_string());
        set("CI_NODE_TOTAL", total.to_string());
    }
    vars
}

/// Unix milliseconds as RFC 3339 in UTC (`2026-11-27T16:00:00Z`); empty outside the years
/// 0 to 9999.
pub fn rfc3339(millis: i64) -> String {
    let seconds = millis.div_euclid(1000);
    let (days, time) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return String::new();
    }
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", time / 3600, time % 3600 / 60, time % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// A server URL's protocol, host and port (the scheme's default when none is written).
fn host_and_port(url: &str) -> (String, String, String) {
    let (protocol, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (host.to_owned(), port.to_owned()),
        _ => (authority.to_owned(), if protocol == "https" { "443".to_owned() } else { "80".to_owned() }),
    };
    (protocol.to_owned(), host, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'v>(vars: &'v [(String, String)], key: &str) -> Option<&'v str> {
        vars.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn project() -> Project<'static> {
        Project {
            id: Some(7),
            path: "platform",
            name: "Platform",
            full_path: "acme/tools/platform",
            visibility: Some("internal"),
            description: "",
            default_branch: "main",
        }
    }

    fn pipeline() -> Pipeline<'static> {
        Pipeline {
            server_url: Some("https://git.example.com/"),
            project: project(),
            ids: Some((41, 3)),
            ref_name: "feature/Add_Login",
            is_tag: false,
            protected: false,
            sha: "0123456789abcdef0123456789abcdef01234567",
            before_sha: "0000000000000000000000000000000000000000",
            source: "push",
            commit: Some(Commit {
                message: "Add login\n\nWith a form.\n",
                title: "Add login",
                author_name: "Ada",
                author_email: "ada@example.com",
                committed_at: 1_795_795_200,
            }),
            user: Some(User { id: 2, username: "ada", email: "ada@example.com", name: "Ada" }),
        }
    }

    #[test]
    fn slugs_follow_gitlab() {
        assert_eq!(slug("feature/Add_Login"), "feature-add-login");
        assert_eq!(slug("-x-"), "x");
        assert_eq!(slug(&"a".repeat(80)).len(), 63);
    }

    #[test]
    fn server_url_splits_into_host_and_port() {
        assert_eq!(host_and_port("http://127.0.0.1:3000"), ("http".into(), "127.0.0.1".into(), "3000".into()));
        assert_eq!(host_and_port("https://git.example.com"), ("https".into(), "git.example.com".into(), "443".into()));
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_795_200_999), "2026-11-27T16:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1000), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "");
    }

    #[test]
    fn a_pipeline_gets_gitlabs_variables() {
        let vars = for_pipeline(&pipeline());
        let get = |key| lookup(&vars, key);
        assert_eq!(get("CI_SERVER_URL"), Some("https://git.example.com"));
        assert_eq!(get("CI_SERVER_PORT"), Some("443"));
        assert_eq!(get("CI_PROJECT_ID"), Some("7"));
        assert_eq!(get("CI_PROJECT_NAMESPACE"), Some("acme/tools"));
        assert_eq!(get("CI_PROJECT_ROOT_NAMESPACE"), Some("acme"));
        assert_eq!(get("CI_PROJECT_PATH_SLUG"), Some("acme-tools-platform"));
        assert_eq!(get("CI_PROJECT_URL"), Some("https://git.example.com/acme/tools/platform"));
        assert_eq!(get("CI_COMMIT_BRANCH"), Some("feature/Add_Login"));
        assert_eq!(get("CI_COMMIT_TAG"), None);
        assert_eq!(get("CI_COMMIT_REF_SLUG"), Some("feature-add-login"));
        assert_eq!(get("CI_COMMIT_SHORT_SHA"), Some("01234567"));
        assert_eq!(get("CI_COMMIT_TITLE"), Some("Add login"));
        assert_eq!(get("CI_COMMIT_DESCRIPTION"), Some("With a form.\n"));
        assert_eq!(get("CI_COMMIT_AUTHOR"), Some("Ada <ada@example.com>"));
        assert_eq!(get("CI_COMMIT_TIMESTAMP"), Some("2026-11-27T16:00:00Z"));
        assert_eq!(get("CI_PIPELINE_URL"), Some("https://git.example.com/acme/tools/platform/-/pipelines/41"));
        assert_eq!(get("CI_REGISTRY_IMAGE"), Some("git.example.com/acme/tools/platform"));
        assert_eq!(get("GITLAB_USER_LOGIN"), Some("ada"));

        let tag = for_pipeline(&Pipeline { is_tag: true, ref_name: "v1.0", ..pipeline() });
        assert_eq!(lookup(&tag, "CI_COMMIT_TAG"), Some("v1.0"));
        assert_eq!(lookup(&tag, "CI_COMMIT_BRANCH"), None);
    }

    #[test]
    fn what_a_local_checkout_cannot_know_is_left_out() {
        let local = Pipeline {
            server_url: None,
            project: Project { id: None, visibility: None, ..project() },
            ids: None,
            user: None,
            ..pipeline()
        };
        let vars = for_pipeline(&local);
        for key in [
            "CI_SERVER_URL",
            "CI_SERVER_HOST",
            "CI_API_V4_URL",
            "CI_PROJECT_ID",
            "CI_PROJECT_URL",
            "CI_PROJECT_VISIBILITY",
            "CI_PIPELINE_ID",
            "CI_REGISTRY",
            "GITLAB_USER_ID",
        ] {
            assert_eq!(lookup(&vars, key), None, "{key}");
        }
        assert_eq!(lookup(&vars, "CI_PROJECT_NAMESPACE"), Some("acme/tools"));
        assert_eq!(lookup(&vars, "CI_COMMIT_TITLE"), Some("Add login"));
    }

    #[test]
    fn a_job_gets_its_own_variables_and_only_the_token_is_secret() {
        let job = Job {
            id: 99,
            name: "test: [fancy]",
            stage: "test",
            started_at: 0,
            token: "glcbt-secret",
            runner_id: Some(5),
            node: Some((2, 3)),
            pipeline_id: 41,
            pipeline_iid: 3,
            pipeline_created_at: 0,
        };
        let vars = for_job(Some("http://127.0.0.1:3000/"), "acme/app", &job);
        let get = |key| lookup(&vars, key);
        assert_eq!(get("CI_JOB_NAME_SLUG"), Some("test---fancy"));
        assert_eq!(get("CI_JOB_URL"), Some("http://127.0.0.1:3000/acme/app/-/jobs/99"));
        assert_eq!(get("CI_REPOSITORY_URL"), Some("http://gitlab-ci-token:glcbt-secret@127.0.0.1:3000/acme/app.git"));
        assert_eq!(get("CI_NODE_INDEX"), Some("2"));
        assert_eq!(get("CI_RUNNER_ID"), Some("5"));
        let secret: Vec<&str> = vars.iter().filter(|(k, _)| is_secret(k)).map(|(k, _)| k.as_str()).collect();
        assert_eq!(secret, ["CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_REPOSITORY_URL"]);

        let local = for_job(None, "local/app", &job);
        assert_eq!(lookup(&local, "CI_JOB_URL"), None);
        assert_eq!(lookup(&local, "CI_REPOSITORY_URL"), None);
        assert_eq!(lookup(&local, "CI_PIPELINE_ID"), Some("41"));
    }
}
