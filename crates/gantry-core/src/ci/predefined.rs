//! GitLab's predefined CI/CD variables (`CI_COMMIT_SHA`, `CI_PROJECT_PATH`, …): the pipeline's
//! set (used to plan and given to every job) and each job's own (`CI_JOB_ID`, `CI_JOB_TOKEN`).

use gantry_git::refs::CommitSummary;

use super::PipelineRow;
use crate::{ProjectRow, UserRow};

/// What the pipeline's variables are made from.
pub(crate) struct PipelineContext<'a> {
    pub server_url: &'a str,
    pub project: &'a ProjectRow,
    /// Id and number of the pipeline, when it has been stored.
    pub pipeline: Option<(i64, i64)>,
    pub ref_name: &'a str,
    pub is_tag: bool,
    pub protected: bool,
    pub sha: &'a str,
    pub before_sha: &'a str,
    pub source: &'a str,
    pub commit: Option<&'a CommitSummary>,
    pub user: Option<&'a UserRow>,
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

fn host_and_port(url: &str) -> (String, String, String) {
    let (protocol, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (host.to_owned(), port.to_owned()),
        _ => (authority.to_owned(), if protocol == "https" { "443".to_owned() } else { "80".to_owned() }),
    };
    (protocol.to_owned(), host, port)
}

/// The pipeline-wide predefined variables, in GitLab's names.
pub(crate) fn pipeline_variables(context: &PipelineContext<'_>) -> Vec<(String, String)> {
    let server = context.server_url.trim_end_matches('/');
    let project = context.project;
    let (protocol, host, port) = host_and_port(server);
    let namespace = project.full_path.rsplit_once('/').map_or("", |(ns, _)| ns);
    let root_namespace = project.full_path.split('/').next().unwrap_or("");
    let project_url = format!("{server}/{}", project.full_path);
    let registry_host = server.split_once("://").map_or(server, |(_, rest)| rest).to_owned();
    let mut vars: Vec<(String, String)> = Vec::with_capacity(64);
    let mut set = |key: &str, value: String| vars.push((key.to_owned(), value));
    set("CI", "true".into());
    set("GITLAB_CI", "true".into());
    set("GANTRY_CI", "true".into());
    set("CI_SERVER", "yes".into());
    set("CI_SERVER_NAME", "Gantry".into());
    set("CI_SERVER_VERSION", env!("CARGO_PKG_VERSION").into());
    set("CI_SERVER_URL", server.into());
    set("CI_SERVER_PROTOCOL", protocol);
    set("CI_SERVER_HOST", host);
    set("CI_SERVER_PORT", port);
    set("CI_API_V4_URL", format!("{server}/api/v4"));
    set("CI_PROJECT_ID", project.id.0.to_string());
    set("CI_PROJECT_NAME", project.path.clone());
    set("CI_PROJECT_TITLE", project.name.clone());
    set("CI_PROJECT_PATH", project.full_path.clone());
    set("CI_PROJECT_PATH_SLUG", slug(&project.full_path));
    set("CI_PROJECT_NAMESPACE", namespace.into());
    set("CI_PROJECT_ROOT_NAMESPACE", root_namespace.into());
    set("CI_PROJECT_URL", project_url.clone());
    set("CI_PROJECT_VISIBILITY", project.visibility.as_str().into());
    set("CI_PROJECT_DESCRIPTION", project.description.clone());
    set("CI_DEFAULT_BRANCH", project.default_branch.clone());
    set("CI_CONFIG_PATH", ".gitlab-ci.yml".into());
    set("CI_COMMIT_SHA", context.sha.into());
    set("CI_COMMIT_SHORT_SHA", context.sha.chars().take(8).collect());
    set("CI_COMMIT_BEFORE_SHA", context.before_sha.into());
    set("CI_COMMIT_REF_NAME", context.ref_name.into());
    set("CI_COMMIT_REF_SLUG", slug(context.ref_name));
    set("CI_COMMIT_REF_PROTECTED", context.protected.to_string());
    if context.is_tag {
        set("CI_COMMIT_TAG", context.ref_name.into());
    } else {
        set("CI_COMMIT_BRANCH", context.ref_name.into());
    }
    if let Some(commit) = context.commit {
        set("CI_COMMIT_MESSAGE", commit.message.clone());
        set("CI_COMMIT_TITLE", commit.title.clone());
        let description = commit.message.split_once('\n').map_or("", |(_, rest)| rest.trim_start_matches('\n'));
        set("CI_COMMIT_DESCRIPTION", description.into());
        set("CI_COMMIT_AUTHOR", format!("{} <{}>", commit.author_name, commit.author_email));
        set("CI_COMMIT_TIMESTAMP", rfc3339(commit.committed_date * 1000));
    }
    set("CI_PIPELINE_SOURCE", context.source.into());
    if let Some((id, iid)) = context.pipeline {
        set("CI_PIPELINE_ID", id.to_string());
        set("CI_PIPELINE_IID", iid.to_string());
        set("CI_PIPELINE_URL", format!("{project_url}/-/pipelines/{id}"));
    }
    set("CI_REGISTRY", registry_host.clone());
    set("CI_REGISTRY_IMAGE", format!("{registry_host}/{}", project.full_path.to_lowercase()));
    set("CI_REGISTRY_USER", "gitlab-ci-token".into());
    if let Some(user) = context.user {
        set("GITLAB_USER_ID", user.id.0.to_string());
        set("GITLAB_USER_LOGIN", user.username.clone());
        set("GITLAB_USER_EMAIL", user.email.clone());
        set("GITLAB_USER_NAME", user.name.clone());
    }
    vars
}

/// The job's own predefined variables.
pub(crate) fn job_variables(
    server_url: &str,
    project: &ProjectRow,
    pipeline: &PipelineRow,
    job: &super::JobRow,
    token: &str,
    node: Option<(u32, u32)>,
) -> Vec<(String, String)> {
    let server = server_url.trim_end_matches('/');
    let (protocol, rest) = server.split_once("://").unwrap_or(("http", server));
    let mut vars = vec![
        ("CI_JOB_ID".to_owned(), job.id.to_string()),
        ("CI_JOB_NAME".to_owned(), job.name.clone()),
        ("CI_JOB_NAME_SLUG".to_owned(), slug(&job.name)),
        ("CI_JOB_STAGE".to_owned(), job.stage.clone()),
        ("CI_JOB_URL".to_owned(), format!("{server}/{}/-/jobs/{}", project.full_path, job.id)),
        ("CI_JOB_STARTED_AT".to_owned(), rfc3339(job.started_at.unwrap_or_else(crate::now_millis))),
        ("CI_JOB_TOKEN".to_owned(), token.to_owned()),
        ("CI_REGISTRY_PASSWORD".to_owned(), token.to_owned()),
        ("CI_PIPELINE_ID".to_owned(), pipeline.id.to_string()),
        ("CI_PIPELINE_IID".to_owned(), pipeline.iid.to_string()),
        ("CI_PIPELINE_URL".to_owned(), format!("{server}/{}/-/pipelines/{}", project.full_path, pipeline.id)),
        ("CI_PIPELINE_CREATED_AT".to_owned(), rfc3339(pipeline.created_at)),
        (
            "CI_REPOSITORY_URL".to_owned(),
            format!("{protocol}://gitlab-ci-token:{token}@{rest}/{}.git", project.full_path),
        ),
    ];
    if let Some(runner) = job.runner_id {
        vars.push(("CI_RUNNER_ID".to_owned(), runner.to_string()));
    }
    if let Some((index, total)) = node {
        vars.push(("CI_NODE_INDEX".to_owned(), index.to_string()));
        vars.push(("CI_NODE_TOTAL".to_owned(), total.to_string()));
    }
    vars
}

/// Unix milliseconds as RFC 3339 in UTC (`2026-11-27T16:00:00Z`).
pub(crate) fn rfc3339(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(millis / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
