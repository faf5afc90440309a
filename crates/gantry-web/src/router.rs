//! Every route of Gantry's HTTP server, in one table. The router and the route list (used by
//! the OpenAPI document and the authorisation sweep test) are built from the same table, so
//! neither can miss a route.
//!
//! Long because it is that one table (in `top_level`, `group_pages`, `project_pages` and
//! `git_routes`): split across files, a route would have more than one place to hide.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

use crate::api::{
    artifacts, files, groups, keys, members, openapi, pipelines, projects, protected_tags, repository, runner_protocol,
    runners, schedules, statuses, tokens, users, variables,
};
use crate::ui;
use crate::{AppState, assets, git_http, health, metrics};

/// Which part of the server a route belongs to (decides how the sweep test calls it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteScope {
    /// `/api/v4/…`: token-authenticated JSON.
    Api,
    /// Web pages and forms at fixed paths.
    Ui,
    /// Pages under a group's (or user's) path: `/{namespace}/-/…`.
    GroupPage,
    /// Pages under a project's path: `/{namespace}/{project}/-/…`.
    ProjectPage,
    /// Git's smart HTTP under a project's path: `/{namespace}/{project}.git/…`.
    Git,
    /// Health, readiness, metrics and static assets.
    Public,
    /// The runner protocol under `/api/v4`: runner and job tokens, no user credentials.
    Runner,
}

/// One route: method, path pattern (axum syntax), scope and a one-line summary.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub scope: RouteScope,
    pub summary: &'static str,
}

struct Table {
    router: Router<AppState>,
    routes: Vec<RouteInfo>,
    scope: RouteScope,
}

impl Table {
    fn new(scope: RouteScope) -> Table {
        Table { router: Router::new(), routes: Vec::new(), scope }
    }

    fn scope(mut self, scope: RouteScope) -> Table {
        self.scope = scope;
        self
    }

    fn route<H, T>(mut self, method: Method, path: &'static str, summary: &'static str, handler: H) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("standard method");
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push(RouteInfo { method, path, scope: self.scope, summary });
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Table {
        self.route(Method::GET, path, summary, handler)
    }
    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Table {
        self.route(Method::POST, path, summary, handler)
    }
    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Table {
        self.route(Method::PUT, path, summary, handler)
    }
    fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::PATCH, path, summary, handler)
    }
    fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::DELETE, path, summary, handler)
    }
}

fn top_level() -> Table {
    Table::new(RouteScope::Public)
        .get("/-/health", "Liveness check", health::health)
        .get("/-/readiness", "Readiness check (database reachable)", health::readiness)
        .get("/metrics", "Prometheus metrics", metrics::metrics)
        .get("/assets/style.css", "Stylesheet", assets::stylesheet)
        .get("/assets/highlight.css", "Colours of highlighted code", assets::highlight_stylesheet)
        .get("/assets/code.js", "Line-range selection on file pages", assets::code_script)
        .get("/assets/ci.js", "Live job logs and the pipeline graph", assets::ci_script)
        .scope(RouteScope::Api)
        .get("/api/v4/openapi.json", "This document", openapi::openapi)
        .get("/api/v4/user", "The authenticated user", users::current_user)
        .get("/api/v4/users", "List users (filters: username, search, blocked)", users::list_users)
        .post("/api/v4/users", "Create a user (administrators)", users::create_user)
        .get("/api/v4/users/{user_id}", "Get a user", users::get_user)
        .post("/api/v4/users/{user_id}/block", "Block a user (administrators)", users::block_user)
        .post("/api/v4/users/{user_id}/unblock", "Unblock a user (administrators)", users::unblock_user)
        .post("/api/v4/users/{user_id}/approve", "Approve a sign-up (administrators)", users::approve_user)
        .post("/api/v4/users/{user_id}/reject", "Reject and delete a sign-up (administrators)", users::reject_user)
        .get("/api/v4/users/{user_id}/keys", "List a user's SSH keys", keys::list_for_user)
        .get("/api/v4/user/keys", "List your SSH keys", keys::list_own)
        .post("/api/v4/user/keys", "Add an SSH key (title, key, expires_at)", keys::add_own)
        .get("/api/v4/user/keys/{key_id}", "Get one of your SSH keys", keys::get_own)
        .delete("/api/v4/user/keys/{key_id}", "Delete one of your SSH keys", keys::delete_own)
        .get("/api/v4/groups", "List groups", groups::list_groups)
        .post("/api/v4/groups", "Create a group or subgroup (parent_id)", groups::create_group)
        .get("/api/v4/groups/{id}", "Get a group", groups::get_group)
        .put("/api/v4/groups/{id}", "Update a group", groups::update_group)
        .delete("/api/v4/groups/{id}", "Delete a group with everything in it", groups::delete_group)
        .get("/api/v4/groups/{id}/subgroups", "List a group's subgroups", groups::list_subgroups)
        .get("/api/v4/groups/{id}/projects", "List a group's projects", groups::list_group_projects)
        .get("/api/v4/groups/{id}/members", "List a group's direct members", members::group::list)
        .post("/api/v4/groups/{id}/members", "Add a member to a group", members::group::add)
        .get(
            "/api/v4/groups/{id}/members/all",
            "List a group's members including inherited ones",
            members::group::list_all,
        )
        .get(
            "/api/v4/groups/{id}/members/all/{user_id}",
            "Get a direct or inherited group member",
            members::group::get_inherited,
        )
        .get("/api/v4/groups/{id}/members/{user_id}", "Get a group member", members::group::get)
        .put("/api/v4/groups/{id}/members/{user_id}", "Change a group member's role", members::group::update)
        .delete("/api/v4/groups/{id}/members/{user_id}", "Remove a group member", members::group::remove)
        .get("/api/v4/projects", "List projects", projects::list_projects)
        .post("/api/v4/projects", "Create a project", projects::create_project)
        .get("/api/v4/projects/{id}", "Get a project", projects::get_project)
        .put("/api/v4/projects/{id}", "Update a project", projects::update_project)
        .delete("/api/v4/projects/{id}", "Delete a project", projects::delete_project)
        .put("/api/v4/projects/{id}/transfer", "Move a project to another namespace", projects::transfer_project)
        .post("/api/v4/projects/{id}/archive", "Archive a project", projects::archive_project)
        .post("/api/v4/projects/{id}/unarchive", "Unarchive a project", projects::unarchive_project)
        .get("/api/v4/projects/{id}/members", "List a project's direct members", members::project::list)
        .post("/api/v4/projects/{id}/members", "Add a member to a project", members::project::add)
        .get(
            "/api/v4/projects/{id}/members/all",
            "List a project's members including inherited ones",
            members::project::list_all,
        )
        .get(
            "/api/v4/projects/{id}/members/all/{user_id}",
            "Get a direct or inherited project member",
            members::project::get_inherited,
        )
        .get("/api/v4/projects/{id}/members/{user_id}", "Get a project member", members::project::get)
        .put("/api/v4/projects/{id}/members/{user_id}", "Change a project member's role", members::project::update)
        .delete("/api/v4/projects/{id}/members/{user_id}", "Remove a project member", members::project::remove)
        .get("/api/v4/projects/{id}/repository/tree", "List a folder (path, ref)", files::tree)
        .get("/api/v4/projects/{id}/repository/files/{file_path}", "Get a file, base64-encoded (ref)", files::file)
        .get("/api/v4/projects/{id}/repository/files/{file_path}/raw", "Get a file's bytes (ref)", files::file_raw)
        .get("/api/v4/projects/{id}/repository/blobs/{sha}/raw", "Get a blob's bytes", files::blob_raw)
        .get("/api/v4/projects/{id}/repository/commits", "List commits (ref_name, path)", files::commits)
        .get("/api/v4/projects/{id}/repository/commits/{sha}", "Get a commit", files::commit)
        .get("/api/v4/projects/{id}/repository/commits/{sha}/diff", "Get a commit's diff", files::commit_diff)
        .get("/api/v4/projects/{id}/repository/compare", "Compare two refs (from, to)", files::compare)
        .get("/api/v4/projects/{id}/repository/archive", "Download an archive (sha, format)", files::archive)
        .get("/api/v4/projects/{id}/repository/archive.zip", "Download a zip archive (sha)", files::archive_zip)
        .get(
            "/api/v4/projects/{id}/repository/archive.tar.gz",
            "Download a tar.gz archive (sha)",
            files::archive_tar_gz,
        )
        .get("/api/v4/projects/{id}/repository/branches", "List branches (search)", repository::list_branches)
        .post("/api/v4/projects/{id}/repository/branches", "Create a branch (branch, ref)", repository::create_branch)
        .get("/api/v4/projects/{id}/repository/branches/{branch}", "Get a branch", repository::get_branch)
        .delete("/api/v4/projects/{id}/repository/branches/{branch}", "Delete a branch", repository::delete_branch)
        .get("/api/v4/projects/{id}/repository/tags", "List tags (search)", repository::list_tags)
        .post("/api/v4/projects/{id}/repository/tags", "Create a tag (tag_name, ref, message)", repository::create_tag)
        .get("/api/v4/projects/{id}/repository/tags/{tag_name}", "Get a tag", repository::get_tag)
        .delete("/api/v4/projects/{id}/repository/tags/{tag_name}", "Delete a tag", repository::delete_tag)
        .get("/api/v4/projects/{id}/protected_branches", "List protected branches", repository::list_protected_branches)
        .post(
            "/api/v4/projects/{id}/protected_branches",
            "Protect a branch or pattern (name, push_access_level, merge_access_level, allow_force_push)",
            repository::protect_branch,
        )
        .get(
            "/api/v4/projects/{id}/protected_branches/{name}",
            "Get a protected branch",
            repository::get_protected_branch,
        )
        .patch(
            "/api/v4/projects/{id}/protected_branches/{name}",
            "Change a protected branch's levels or force-push setting",
            repository::update_protected_branch,
        )
        .delete(
            "/api/v4/projects/{id}/protected_branches/{name}",
            "Unprotect a branch or pattern",
            repository::unprotect_branch,
        )
        .get(
            "/api/v4/projects/{id}/protected_tags",
            "List protected tags (Maintainers)",
            protected_tags::list_protected_tags,
        )
        .post(
            "/api/v4/projects/{id}/protected_tags",
            "Protect a tag or pattern (name, create_access_level or allowed_to_create)",
            protected_tags::protect_tag,
        )
        .get("/api/v4/projects/{id}/protected_tags/{name}", "Get a protected tag", protected_tags::get_protected_tag)
        .delete(
            "/api/v4/projects/{id}/protected_tags/{name}",
            "Unprotect a tag or pattern",
            protected_tags::unprotect_tag,
        )
        .get(
            "/api/v4/projects/{id}/pipelines",
            "List pipelines (status, ref, sha, source, username)",
            pipelines::list_pipelines,
        )
        .post("/api/v4/projects/{id}/pipeline", "Run a pipeline (ref, variables)", pipelines::create_pipeline)
        .get("/api/v4/projects/{id}/pipelines/{pipeline_id}", "Get a pipeline", pipelines::get_pipeline)
        .delete("/api/v4/projects/{id}/pipelines/{pipeline_id}", "Delete a pipeline", pipelines::delete_pipeline)
        .post(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry",
            "Retry a pipeline's failed and canceled jobs",
            pipelines::retry_pipeline,
        )
        .post(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel",
            "Cancel a pipeline's unfinished jobs",
            pipelines::cancel_pipeline,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs",
            "List a pipeline's jobs (scope[], include_retried)",
            pipelines::pipeline_jobs,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables",
            "The variables a pipeline was run with",
            pipelines::pipeline_variables_of,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report",
            "A pipeline's test results, one suite per job, new failures flagged",
            artifacts::test_report,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report_summary",
            "The counts of a pipeline's test results",
            artifacts::test_report_summary,
        )
        .get("/api/v4/projects/{id}/jobs", "List jobs (scope[])", pipelines::list_jobs)
        .get(
            "/api/v4/projects/{id}/jobs/artifacts/{ref_name}/download",
            "The archive of the latest successful job of a ref (job)",
            artifacts::latest_of_ref,
        )
        .get("/api/v4/projects/{id}/jobs/{job_id}/artifacts", "Download a job's artifacts archive", artifacts::download)
        .delete("/api/v4/projects/{id}/jobs/{job_id}/artifacts", "Delete a job's artifacts", artifacts::delete)
        .post(
            "/api/v4/projects/{id}/jobs/{job_id}/artifacts/keep",
            "Keep a job's artifacts past their expiry",
            artifacts::keep,
        )
        .get(
            "/api/v4/projects/{id}/jobs/{job_id}/artifacts/{*artifact_path}",
            "One file of a job's artifacts archive",
            artifacts::file,
        )
        .get("/api/v4/projects/{id}/jobs/{job_id}", "Get a job", pipelines::get_job)
        .get("/api/v4/projects/{id}/jobs/{job_id}/trace", "A job's log as text", pipelines::job_trace)
        .post("/api/v4/projects/{id}/jobs/{job_id}/retry", "Retry a job", pipelines::retry_job)
        .post("/api/v4/projects/{id}/jobs/{job_id}/cancel", "Cancel a job", pipelines::cancel_job)
        .post("/api/v4/projects/{id}/jobs/{job_id}/play", "Start a manual job", pipelines::play_job)
        .get("/api/v4/projects/{id}/ci/lint", "Check the project's CI file at a ref (ref)", pipelines::lint_project)
        .post("/api/v4/projects/{id}/ci/lint", "Check a CI configuration (content, ref)", pipelines::lint_content)
        .get("/api/v4/projects/{id}/runners", "Runners that may run the project's jobs", runners::project_runners)
        .post(
            "/api/v4/projects/{id}/statuses/{sha}",
            "Report a commit's status (state, ref, name, target_url, description, coverage)",
            statuses::create,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/statuses",
            "A commit's statuses: reported ones and its newest pipeline's jobs (ref, name)",
            statuses::list,
        )
        .get("/api/v4/projects/{id}/pipeline_schedules", "List pipeline schedules (scope)", schedules::list)
        .post(
            "/api/v4/projects/{id}/pipeline_schedules",
            "Create a pipeline schedule (description, ref, cron, cron_timezone, active)",
            schedules::create,
        )
        .get("/api/v4/projects/{id}/pipeline_schedules/{schedule_id}", "Get a pipeline schedule", schedules::get)
        .put("/api/v4/projects/{id}/pipeline_schedules/{schedule_id}", "Change a pipeline schedule", schedules::update)
        .delete(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}",
            "Delete a pipeline schedule",
            schedules::delete,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/take_ownership",
            "Become a pipeline schedule's owner",
            schedules::take_ownership,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/play",
            "Run a pipeline schedule now",
            schedules::play,
        )
        .get(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/pipelines",
            "The pipelines a schedule started",
            schedules::pipelines,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/variables",
            "Add a pipeline schedule variable (key, value, variable_type)",
            schedules::create_variable,
        )
        .put(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/variables/{key}",
            "Change a pipeline schedule variable",
            schedules::update_variable,
        )
        .delete(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/variables/{key}",
            "Delete a pipeline schedule variable",
            schedules::delete_variable,
        )
        .get("/api/v4/projects/{id}/triggers", "List pipeline trigger tokens", schedules::list_triggers)
        .post(
            "/api/v4/projects/{id}/triggers",
            "Create a pipeline trigger token (description)",
            schedules::create_trigger,
        )
        .put(
            "/api/v4/projects/{id}/triggers/{trigger_id}",
            "Change a trigger token's description",
            schedules::update_trigger,
        )
        .delete(
            "/api/v4/projects/{id}/triggers/{trigger_id}",
            "Delete a pipeline trigger token",
            schedules::delete_trigger,
        )
        .post(
            "/api/v4/projects/{id}/trigger/pipeline",
            "Run a pipeline with a trigger token (token, ref, variables[KEY]; no user credentials)",
            schedules::trigger_pipeline,
        )
        .get("/api/v4/projects/{id}/variables", "List the project's CI/CD variables", variables::list_project)
        .post("/api/v4/projects/{id}/variables", "Create a project CI/CD variable", variables::create_project)
        .get("/api/v4/projects/{id}/variables/{key}", "Get a project CI/CD variable", variables::get_project)
        .put("/api/v4/projects/{id}/variables/{key}", "Change a project CI/CD variable", variables::update_project)
        .delete("/api/v4/projects/{id}/variables/{key}", "Delete a project CI/CD variable", variables::delete_project)
        .get("/api/v4/groups/{id}/variables", "List the group's CI/CD variables", variables::list_group)
        .post("/api/v4/groups/{id}/variables", "Create a group CI/CD variable", variables::create_group)
        .get("/api/v4/groups/{id}/variables/{key}", "Get a group CI/CD variable", variables::get_group)
        .put("/api/v4/groups/{id}/variables/{key}", "Change a group CI/CD variable", variables::update_group)
        .delete("/api/v4/groups/{id}/variables/{key}", "Delete a group CI/CD variable", variables::delete_group)
        .get("/api/v4/admin/ci/variables", "List the instance's CI/CD variables", variables::list_instance)
        .post("/api/v4/admin/ci/variables", "Create an instance CI/CD variable", variables::create_instance)
        .get("/api/v4/admin/ci/variables/{key}", "Get an instance CI/CD variable", variables::get_instance)
        .put("/api/v4/admin/ci/variables/{key}", "Change an instance CI/CD variable", variables::update_instance)
        .delete("/api/v4/admin/ci/variables/{key}", "Delete an instance CI/CD variable", variables::delete_instance)
        .post(
            "/api/v4/user/runners",
            "Create a runner and get its token (runner_type, group_id, project_id, tag_list, run_untagged)",
            runners::create_runner,
        )
        .get("/api/v4/runners", "Runners you manage", runners::list_runners)
        .get("/api/v4/runners/all", "Every runner (administrators)", runners::list_all_runners)
        .get("/api/v4/runners/{runner_id}", "Get a runner", runners::get_runner)
        .put(
            "/api/v4/runners/{runner_id}",
            "Change a runner (description, tag_list, paused, run_untagged)",
            runners::update_runner,
        )
        .delete("/api/v4/runners/{runner_id}", "Delete a runner", runners::delete_runner)
        .get("/api/v4/personal_access_tokens", "List your personal access tokens", tokens::list_tokens)
        .get("/api/v4/personal_access_tokens/{token_id}", "Get a personal access token", tokens::get_token)
        .delete("/api/v4/personal_access_tokens/{token_id}", "Revoke a personal access token", tokens::revoke_token)
        .post(
            "/api/v4/user/personal_access_tokens",
            "Create a personal access token for yourself",
            tokens::create_token,
        )
        .scope(RouteScope::Runner)
        .post("/api/v4/runners/verify", "Check a runner token (runners)", runner_protocol::verify)
        .post(
            "/api/v4/jobs/request",
            "Ask for a job, held open until one is pending (runners)",
            runner_protocol::request_job,
        )
        .put("/api/v4/jobs/{job_id}", "Report a job's state or heartbeat (JOB-TOKEN)", runner_protocol::update_job)
        .patch(
            "/api/v4/jobs/{job_id}/trace",
            "Append to a job's log (JOB-TOKEN, Content-Range)",
            runner_protocol::append_trace,
        )
        .post(
            "/api/v4/jobs/{job_id}/artifacts",
            "Upload a job's artifacts or a report as a zip body (JOB-TOKEN; artifact_type, expire_in)",
            runner_protocol::upload_artifacts,
        )
        .get(
            "/api/v4/jobs/{job_id}/artifacts",
            "Download a job's artifacts for a dependent job (JOB-TOKEN)",
            runner_protocol::download_artifacts,
        )
        .get("/api/v4/jobs/{job_id}/cache", "Download a cache (JOB-TOKEN; key)", runner_protocol::download_cache)
        .put(
            "/api/v4/jobs/{job_id}/cache",
            "Save a cache as a zip body (JOB-TOKEN; key)",
            runner_protocol::upload_cache,
        )
        .scope(RouteScope::Ui)
        .get("/", "Home: the dashboard, or the sign-in page", ui::dashboard::home)
        .get("/users/sign_in", "Sign-in form", ui::sessions::sign_in_form)
        .post("/users/sign_in", "Sign in", ui::sessions::sign_in)
        .get("/users/sign_up", "Sign-up form", ui::sessions::sign_up_form)
        .post("/users/sign_up", "Create an account", ui::sessions::sign_up)
        .post("/users/sign_out", "Sign out", ui::sessions::sign_out)
        .get("/dashboard", "Your projects and groups", ui::dashboard::dashboard)
        .get("/explore", "Projects you can see", ui::dashboard::explore)
        .get("/groups/new", "New group form", ui::groups::new_group_form)
        .post("/groups", "Create a group", ui::groups::create_group)
        .get("/projects/new", "New project form", ui::projects::new_project_form)
        .post("/projects", "Create a project", ui::projects::create_project)
        .get("/-/profile", "Profile settings", ui::profile::profile)
        .post("/-/profile", "Update profile", ui::profile::update_profile)
        .post("/-/profile/password", "Change password (ends your other sessions)", ui::profile::change_password)
        .post(
            "/-/profile/sign_out_everywhere",
            "End all your sessions, this one included",
            ui::sessions::sign_out_everywhere,
        )
        .get("/-/profile/personal_access_tokens", "Personal access tokens", ui::profile::tokens)
        .post("/-/profile/personal_access_tokens", "Create a personal access token", ui::profile::create_token)
        .post(
            "/-/profile/personal_access_tokens/{token_id}/revoke",
            "Revoke a personal access token",
            ui::profile::revoke_token,
        )
        .get("/-/profile/keys", "SSH keys", ui::profile::keys)
        .post("/-/profile/keys", "Add an SSH key", ui::profile::add_key)
        .post("/-/profile/keys/{key_id}/delete", "Delete an SSH key", ui::profile::delete_key)
        .get("/admin", "Admin area: users", ui::admin::users)
        .post("/admin/users", "Create a user", ui::admin::create_user)
        .post("/admin/users/{user_id}/block", "Block a user", ui::admin::block_user)
        .post("/admin/users/{user_id}/unblock", "Unblock a user", ui::admin::unblock_user)
        .post("/admin/users/{user_id}/approve", "Approve a sign-up", ui::admin::approve_user)
        .post("/admin/users/{user_id}/reject", "Reject and delete a sign-up", ui::admin::reject_user)
        .get("/admin/ci_cd", "Instance CI/CD variables and every runner", ui::ci_settings::admin::admin_settings)
        .post(
            "/admin/ci_cd/variables",
            "Add or change an instance variable",
            ui::ci_settings::admin::save_admin_variable,
        )
        .post(
            "/admin/ci_cd/variables/delete",
            "Delete an instance variable",
            ui::ci_settings::admin::delete_admin_variable,
        )
        .post("/admin/runners/{runner_id}", "Pause, resume or delete a runner", ui::ci_settings::admin::change_runner)
        .get("/admin/background_jobs", "Background job queue", ui::admin::background_jobs)
        .post(
            "/admin/background_jobs/{job_id}/retry",
            "Queue a failed background job again",
            ui::admin::retry_background_job,
        )
        .post(
            "/admin/background_jobs/{job_id}/discard",
            "Discard a failed background job",
            ui::admin::discard_background_job,
        )
        .get("/admin/settings", "Instance settings", ui::admin::settings)
        .post("/admin/settings", "Save instance settings", ui::admin::save_settings)
}

/// Pages under a group's or user's path (`/{namespace}/-/…`); paths are relative to it.
fn group_pages() -> Table {
    Table::new(RouteScope::GroupPage)
        .get("/", "Group (or user) overview", ui::groups::show)
        .get("/members", "Group members", ui::members::group_members)
        .post("/members", "Add a group member", ui::members::add_group_member)
        .post("/members/{user_id}/update", "Change a group member's role", ui::members::update_group_member)
        .post("/members/{user_id}/remove", "Remove a group member", ui::members::remove_group_member)
        .get("/settings", "Group settings", ui::groups::settings)
        .post("/settings", "Save group settings", ui::groups::save_settings)
        .post("/delete", "Delete the group", ui::groups::delete)
        .get("/settings/ci_cd", "Group CI/CD variables", ui::ci_settings::group::group_settings)
        .post(
            "/settings/ci_cd/variables",
            "Add or change a group variable",
            ui::ci_settings::group::save_group_variable,
        )
        .post(
            "/settings/ci_cd/variables/delete",
            "Delete a group variable",
            ui::ci_settings::group::delete_group_variable,
        )
}

/// Pages under a project's path (`/{namespace}/{project}/-/…`); paths are relative to it.
fn project_pages() -> Table {
    Table::new(RouteScope::ProjectPage)
        .get("/", "Project overview", ui::projects::show)
        .get("/members", "Project members", ui::members::project_members)
        .post("/members", "Add a project member", ui::members::add_project_member)
        .post("/members/{user_id}/update", "Change a project member's role", ui::members::update_project_member)
        .post("/members/{user_id}/remove", "Remove a project member", ui::members::remove_project_member)
        .get("/settings", "Project settings", ui::projects::settings)
        .post("/settings", "Save project settings", ui::projects::save_settings)
        .post("/transfer", "Transfer the project", ui::projects::transfer)
        .post("/archive", "Archive the project", ui::projects::archive)
        .post("/unarchive", "Unarchive the project", ui::projects::unarchive)
        .post("/delete", "Delete the project", ui::projects::delete)
        .get("/tree/{*ref_path}", "Files of a folder at a branch, tag or commit", ui::code::tree)
        .get("/blob/{*ref_path}", "A file, highlighted, at a branch, tag or commit", ui::code::blob::blob)
        .get("/raw/{*ref_path}", "A file's bytes", ui::code::blob::raw)
        .get("/blame/{*ref_path}", "Who last changed each line of a file", ui::code::blame::blame)
        .get("/commits/{*ref_path}", "History of a branch, tag or path", ui::history::commits)
        .get("/commit/{sha}", "A commit and its diff", ui::history::commit)
        .get("/refs/switch", "Switch the branch or tag being browsed", ui::code::switch_ref)
        .get("/last_commits/{*ref_path}", "The last commit of each entry of a folder (JSON)", ui::code::last_commits)
        .get("/archive/{*rest}", "Download the files at a ref (.tar.gz, .tar, .zip)", ui::code::archive::archive)
        .get("/compare", "Compare two branches, tags or commits", ui::history::compare_form)
        .get("/compare/{spec}", "What changed from one ref to another (from...to)", ui::history::compare)
        .get(
            "/badges/{*rest}",
            "Pipeline and coverage badges of a ref ({ref}/pipeline.svg, {ref}/coverage.svg)",
            ui::badges::badge,
        )
        .get("/pipelines", "Pipelines (status, ref)", ui::pipelines::pipelines)
        .post("/pipelines", "Run a pipeline", ui::pipelines::run_pipeline)
        .get("/pipelines/new", "Run pipeline form", ui::pipelines::new_pipeline_form)
        .get("/pipelines/{pipeline_id}", "A pipeline: its stages and jobs", ui::pipelines::pipeline)
        .get("/pipelines/{pipeline_id}/test_report", "A pipeline's Tests tab", ui::test_reports::tests)
        .post(
            "/pipelines/{pipeline_id}/{action}",
            "Cancel a pipeline, or retry its failed jobs (action: cancel, retry)",
            ui::pipelines::change_pipeline,
        )
        .post("/pipelines/{pipeline_id}/delete", "Delete a pipeline", ui::pipelines::delete_pipeline)
        .get("/pipeline_schedules", "Pipeline schedules", ui::schedules::schedules)
        .post("/pipeline_schedules", "Create a pipeline schedule", ui::schedules::create_schedule)
        .get("/pipeline_schedules/new", "New pipeline schedule form", ui::schedules::new_schedule_form)
        .get("/pipeline_schedules/{schedule_id}/edit", "Edit a pipeline schedule", ui::schedules::edit_schedule_form)
        .post("/pipeline_schedules/{schedule_id}/edit", "Save a pipeline schedule", ui::schedules::update_schedule)
        .post(
            "/pipeline_schedules/{schedule_id}/{action}",
            "Run now, take ownership of or delete a schedule (action: play, take_ownership, delete)",
            ui::schedules::change_schedule,
        )
        .get("/jobs", "Jobs (status)", ui::jobs::jobs)
        .get("/jobs/{job_id}", "A job and its log", ui::jobs::job)
        .get("/jobs/{job_id}/raw", "A job's log as text", ui::jobs::job_raw)
        .get("/jobs/{job_id}/stream", "A job's log, live (Server-Sent Events)", ui::jobs::job_stream)
        .get("/jobs/{job_id}/artifacts/browse", "Browse a job's artifacts", ui::artifacts::browse)
        .get("/jobs/{job_id}/artifacts/browse/{*path}", "A folder of a job's artifacts", ui::artifacts::browse_folder)
        .get("/jobs/{job_id}/artifacts/file/{*path}", "One file of a job's artifacts", ui::artifacts::file)
        .get("/jobs/{job_id}/artifacts/raw/{*path}", "One file of a job's artifacts, raw", ui::artifacts::raw)
        .get(
            "/jobs/{job_id}/artifacts/download",
            "Download a job's artifacts (file_type: archive or a report)",
            ui::artifacts::download,
        )
        .post(
            "/jobs/{job_id}/artifacts/{action}",
            "Keep or delete a job's artifacts (action: keep, delete)",
            ui::artifacts::change,
        )
        .post(
            "/jobs/{job_id}/{action}",
            "Cancel, retry or start a job (action: cancel, retry, play)",
            ui::jobs::change_job,
        )
        .get("/branches", "Branches", ui::repository::branches)
        .post("/branches", "Create a branch", ui::repository::create_branch)
        .post("/branches/delete", "Delete a branch", ui::repository::delete_branch)
        .get("/tags", "Tags", ui::repository::tags)
        .post("/tags", "Create a tag", ui::repository::create_tag)
        .post("/tags/delete", "Delete a tag", ui::repository::delete_tag)
        .get(
            "/settings/repository",
            "Repository settings: protected branches and tags",
            ui::repository::repository_settings,
        )
        .get("/settings/ci_cd", "CI/CD settings: pipelines, variables, runners", ui::ci_settings::project_settings)
        .post("/settings/ci_cd", "Save the pipeline settings", ui::ci_settings::save_project_settings)
        .post("/settings/ci_cd/variables", "Add or change a project variable", ui::ci_settings::save_project_variable)
        .post("/settings/ci_cd/variables/delete", "Delete a project variable", ui::ci_settings::delete_project_variable)
        .post("/settings/ci_cd/runners", "Create a project runner", ui::ci_settings::create_project_runner)
        .post("/settings/ci_cd/caches/clear", "Clear runner caches", ui::ci_settings::clear_caches)
        .post("/settings/ci_cd/triggers", "Create a pipeline trigger token", ui::ci_settings::create_trigger)
        .post("/settings/ci_cd/triggers/delete", "Revoke a pipeline trigger token", ui::ci_settings::delete_trigger)
        .post("/settings/repository/protected_branches", "Protect a branch or pattern", ui::repository::protect_branch)
        .post(
            "/settings/repository/protected_branches/update",
            "Change a protected branch",
            ui::repository::update_protected_branch,
        )
        .post(
            "/settings/repository/fsck",
            "Check the repository with git fsck (administrators)",
            ui::repository::check_repository,
        )
        .post(
            "/settings/repository/protected_branches/delete",
            "Unprotect a branch or pattern",
            ui::repository::unprotect_branch,
        )
        .post("/settings/repository/protected_tags", "Protect a tag or pattern", ui::protected_tags::protect_tag)
        .post(
            "/settings/repository/protected_tags/delete",
            "Unprotect a tag or pattern",
            ui::protected_tags::unprotect_tag,
        )
}

/// Git's smart HTTP under a project's path (`/{namespace}/{project}.git/…`, `.git` optional).
fn git_routes() -> Table {
    Table::new(RouteScope::Git)
        .get("/info/refs", "Ref advertisement for git-upload-pack or git-receive-pack", git_http::info_refs)
        .post("/git-upload-pack", "Clone and fetch", git_http::upload_pack)
        .post("/git-receive-pack", "Push", git_http::receive_pack)
}

/// Every route, top-level ones first, then namespace pages and git (their paths relative).
pub fn route_table() -> Vec<RouteInfo> {
    let mut routes = top_level().routes;
    routes.extend(group_pages().routes);
    routes.extend(project_pages().routes);
    routes.extend(git_routes().routes);
    routes
}

/// The whole application with its middleware: namespace pages dispatched by path, a CSRF
/// cookie for browsers, metrics, a body-size limit, a request timeout and, around everything,
/// the security headers of every response.
pub fn app(state: AppState) -> Router {
    let routers = crate::namespace_dispatch::NamespaceRouters {
        group: group_pages().router.fallback(ui::not_found).with_state(state.clone()),
        project: project_pages().router.fallback(ui::not_found).with_state(state.clone()),
        git: git_routes().router.with_state(state.clone()),
    };
    top_level()
        .router
        .fallback(move |state, request| crate::namespace_dispatch::dispatch(state, routers.clone(), request))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::csrf_cookie))
        .layer(axum::extract::DefaultBodyLimit::max(crate::BODY_LIMIT_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(60),
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn(crate::security_headers::security_headers))
        .with_state(state)
}
