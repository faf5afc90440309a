//! Every route of Gantry's HTTP server, in one table. The router and the route list (used by
//! the OpenAPI document and the authorisation sweep test) are built from the same table, so
//! neither can miss a route. Each route names what it requires of its caller
//! ([`Requires`], in `router/requires.rs`): no route can be added without saying, and the
//! sweep test holds each declaration against its own table.
//!
//! Long because it is that one table (in `top_level`, `group_pages`, `project_pages` and
//! `git_routes`): split across files, a route would have more than one place to hide.

mod requires;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};
use gantry_core::policy::{GroupAction, ProjectAction};

use crate::api::plan::{
    award_emoji, boards, description_versions, discussions, epic_notes, epics, events as plan_events, issues,
    iterations, labels, links as issue_links, markdown, milestones, notes, todos, uploads as plan_uploads, wikis,
};
use crate::api::{
    access_tokens, application_settings, archives, artifacts, commits, deploy_keys, deploy_tokens, emails, events,
    files, gpg_keys, group_protected_branches, groups, history, instance, job_token_scope, keys, languages, members,
    openapi, pipelines, projects, protected_tags, repository, runner_protocol, runners, schedules, search, sharing,
    statuses, templates, tokens, topics, user_status, users, variables,
};
use crate::ui;
use crate::{AppState, assets, avatars, git_http, health, metrics, openid};
pub use requires::Requires;
use requires::Requires::{
    Admin, AdminOrForbidden, Anyone, AwardOwner, Group, JobToken, MailLink, NewRunner, NoteAuthor, Parent, Project,
    ProtectedRef, RunnerManager, RunnerToken, ScheduleOwner, SignedIn, TodoOwner, TokenOwner, TriggerToken,
};

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
    /// Health, readiness, metrics, static assets and OpenID Connect discovery.
    Public,
    /// The runner protocol under `/api/v4`: runner and job tokens, no user credentials.
    Runner,
}

/// One route: method, path pattern (axum syntax), scope, what it requires and a one-line
/// summary.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    pub path: &'static str,
    pub scope: RouteScope,
    pub requires: Requires,
    pub summary: &'static str,
}

/// The table being built: `get`, `post`, … each add a route with its path, what it requires
/// (no default, so a route cannot leave it out), its summary and its handler.
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

    fn route<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        requires: Requires,
        summary: &'static str,
        handler: H,
    ) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("standard method");
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push(RouteInfo { method, path, scope: self.scope, requires, summary });
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        requires: Requires,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::GET, path, requires, summary, handler)
    }
    fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        requires: Requires,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::POST, path, requires, summary, handler)
    }
    fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        requires: Requires,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::PUT, path, requires, summary, handler)
    }
    fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        requires: Requires,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::PATCH, path, requires, summary, handler)
    }
    fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        requires: Requires,
        summary: &'static str,
        handler: H,
    ) -> Table {
        self.route(Method::DELETE, path, requires, summary, handler)
    }
}

/// The body limit of issues' and comments' writes (`api::plan::TEXT_BODY_LIMIT`).
fn text_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(crate::api::plan::TEXT_BODY_LIMIT)
}

fn top_level() -> Table {
    Table::new(RouteScope::Public)
        .get("/-/health", Anyone, "Liveness check", health::health)
        .get("/-/readiness", Anyone, "Readiness check (database reachable)", health::readiness)
        .get("/metrics", Anyone, "Prometheus metrics", metrics::metrics)
        .get("/assets/style.css", Anyone, "Stylesheet", assets::stylesheet)
        .get("/assets/highlight.css", Anyone, "Colours of highlighted code", assets::highlight_stylesheet)
        .get("/assets/code.js", Anyone, "Line-range selection on file pages", assets::code_script)
        .get("/assets/ci.js", Anyone, "Live job logs and the pipeline graph", assets::ci_script)
        .get("/assets/site.js", Anyone, "Copy buttons and confirmations before destructive forms", assets::site_script)
        .get(
            "/assets/find.js",
            Anyone,
            "Find file as you type, its `t` key, and the branch and tag filter",
            assets::find_script,
        )
        .get(
            "/.well-known/openid-configuration",
            Anyone,
            "OpenID Connect discovery: the issuer of CI jobs' ID tokens and its key set",
            openid::configuration,
        )
        .get("/oauth/discovery/keys", Anyone, "The public keys ID tokens are signed with (JWKS)", openid::keys)
        .scope(RouteScope::Api)
        .get("/api/v4/openapi.json", Anyone, "This document", openapi::openapi)
        .get(
            "/api/v4/templates/{type}",
            Anyone,
            "List file templates (type: gitlab_ci_ymls, gitignores, dockerfiles, licenses; popular)",
            templates::list,
        )
        .get(
            "/api/v4/templates/{type}/{name}",
            Anyone,
            "One file template (licenses filled in with project and fullname)",
            templates::get,
        )
        .get(
            "/api/v4/version",
            SignedIn,
            "The GitLab API version Gantry answers as, and its own",
            instance::get_version,
        )
        .get(
            "/api/v4/metadata",
            SignedIn,
            "The instance's version and features (no Kubernetes agent)",
            instance::get_metadata,
        )
        .get(
            "/api/v4/application/settings",
            Admin,
            "The instance's settings (administrators)",
            application_settings::get_application_settings,
        )
        .put(
            "/api/v4/application/settings",
            Admin,
            "Change the instance's settings; settings Gantry does not have are ignored (administrators)",
            application_settings::update_application_settings,
        )
        .get("/api/v4/user", SignedIn, "The authenticated user", users::current_user)
        .get("/api/v4/users", SignedIn, "List users (filters: username, search, blocked)", users::list_users)
        .post(
            "/api/v4/markdown",
            Anyone,
            "Render Markdown as the pages do (text; gfm: references as links, in project's context)",
            markdown::render,
        )
        .get(
            "/api/v4/search",
            Anyone,
            "Search (search, scope: projects, users (signed in), blobs or commits across the projects whose code you \
             may read, at most 50, most recently changed first)",
            search::search_instance,
        )
        .post("/api/v4/users", Admin, "Create a user (administrators)", users::create_user)
        .get("/api/v4/users/{user_id}", SignedIn, "Get a user", users::get_user)
        .put("/api/v4/users/{user_id}", Admin, "Change a user (administrators)", users::update_user)
        .delete(
            "/api/v4/users/{user_id}",
            Admin,
            "Delete a user with their personal projects (administrators)",
            users::delete_user,
        )
        .post("/api/v4/users/{user_id}/block", Admin, "Block a user (administrators)", users::block_user)
        .post("/api/v4/users/{user_id}/unblock", Admin, "Unblock a user (administrators)", users::unblock_user)
        .post("/api/v4/users/{user_id}/ban", Admin, "Ban an active user (administrators)", users::ban_user)
        .post("/api/v4/users/{user_id}/unban", Admin, "Unban a banned user (administrators)", users::unban_user)
        .post(
            "/api/v4/users/{user_id}/deactivate",
            Admin,
            "Deactivate an active user; signing in on the web activates them again (administrators)",
            users::deactivate_user,
        )
        .post(
            "/api/v4/users/{user_id}/activate",
            Admin,
            "Activate a deactivated user (administrators)",
            users::activate_user,
        )
        .post("/api/v4/users/{user_id}/approve", Admin, "Approve a sign-up (administrators)", users::approve_user)
        .post(
            "/api/v4/users/{user_id}/reject",
            Admin,
            "Reject and delete a sign-up (administrators)",
            users::reject_user,
        )
        .get("/api/v4/users/{user_id}/keys", SignedIn, "List a user's SSH keys", keys::list_for_user)
        .post("/api/v4/users/{user_id}/keys", Admin, "Add an SSH key to a user (administrators)", keys::add_for_user)
        .get("/api/v4/users/{user_id}/keys/{key_id}", SignedIn, "Get one of a user's SSH keys", keys::get_for_user)
        .delete(
            "/api/v4/users/{user_id}/keys/{key_id}",
            Admin,
            "Delete a user's SSH key (administrators)",
            keys::delete_for_user,
        )
        .post(
            "/api/v4/users/{user_id}/personal_access_tokens",
            Admin,
            "Create a personal access token for a user (administrators)",
            tokens::create_for_user,
        )
        .get(
            "/api/v4/users/{user_id}/projects",
            SignedIn,
            "A user's personal projects you may see",
            projects::list_user_projects,
        )
        .get(
            "/api/v4/users/{user_id}/memberships",
            AdminOrForbidden,
            "A user's direct memberships of groups and projects (type: Project or Namespace; administrators)",
            members::list_user_memberships,
        )
        .put("/api/v4/user/avatar", SignedIn, "Set your avatar (an image file, at most 200 KiB)", users::set_own_avatar)
        .get("/api/v4/user/keys", SignedIn, "List your SSH keys", keys::list_own)
        .post("/api/v4/user/keys", SignedIn, "Add an SSH key (title, key, expires_at)", keys::add_own)
        .get("/api/v4/user/keys/{key_id}", TokenOwner, "Get one of your SSH keys", keys::get_own)
        .delete("/api/v4/user/keys/{key_id}", TokenOwner, "Delete one of your SSH keys", keys::delete_own)
        .get("/api/v4/user/emails", SignedIn, "List your secondary e-mail addresses", emails::list_own)
        .post("/api/v4/user/emails", SignedIn, "Add a secondary e-mail address (email)", emails::add_own)
        .get(
            "/api/v4/user/emails/{email_id}",
            TokenOwner,
            "Get one of your secondary e-mail addresses",
            emails::get_own,
        )
        .delete(
            "/api/v4/user/emails/{email_id}",
            TokenOwner,
            "Delete one of your secondary e-mail addresses",
            emails::delete_own,
        )
        .get(
            "/api/v4/users/{user_id}/emails",
            Admin,
            "List a user's secondary e-mail addresses (administrators)",
            emails::list_for_user,
        )
        .post(
            "/api/v4/users/{user_id}/emails",
            Admin,
            "Add a secondary e-mail address to a user (email, skip_confirmation; administrators)",
            emails::add_for_user,
        )
        .delete(
            "/api/v4/users/{user_id}/emails/{email_id}",
            Admin,
            "Delete a user's secondary e-mail address (administrators)",
            emails::delete_for_user,
        )
        .get("/api/v4/user/status", SignedIn, "Your status", user_status::get_own)
        .put(
            "/api/v4/user/status",
            SignedIn,
            "Set your status (emoji, message, availability, clear_status_after); what is not sent is cleared",
            user_status::replace_own,
        )
        .patch("/api/v4/user/status", SignedIn, "Change your status; what is not sent stays", user_status::update_own)
        .get(
            "/api/v4/users/{user_id}/status",
            SignedIn,
            "A user's status (by id or username)",
            user_status::get_for_user,
        )
        .get("/api/v4/user/gpg_keys", SignedIn, "List your GPG keys", gpg_keys::list_own)
        .post("/api/v4/user/gpg_keys", SignedIn, "Add a GPG key (key: the armored public key)", gpg_keys::add_own)
        .get("/api/v4/user/gpg_keys/{gpg_key_id}", TokenOwner, "Get one of your GPG keys", gpg_keys::get_own)
        .delete("/api/v4/user/gpg_keys/{gpg_key_id}", TokenOwner, "Delete one of your GPG keys", gpg_keys::delete_own)
        .post(
            "/api/v4/user/gpg_keys/{gpg_key_id}/revoke",
            TokenOwner,
            "Revoke one of your GPG keys (it is deleted)",
            gpg_keys::revoke_own,
        )
        .get("/api/v4/users/{user_id}/gpg_keys", SignedIn, "List a user's GPG keys", gpg_keys::list_for_user)
        .post(
            "/api/v4/users/{user_id}/gpg_keys",
            Admin,
            "Add a GPG key to a user (administrators)",
            gpg_keys::add_for_user,
        )
        .get("/api/v4/users/{user_id}/gpg_keys/{gpg_key_id}", SignedIn, "Get a user's GPG key", gpg_keys::get_for_user)
        .delete(
            "/api/v4/users/{user_id}/gpg_keys/{gpg_key_id}",
            Admin,
            "Delete a user's GPG key (administrators)",
            gpg_keys::delete_for_user,
        )
        .post(
            "/api/v4/users/{user_id}/gpg_keys/{gpg_key_id}/revoke",
            Admin,
            "Revoke a user's GPG key (it is deleted; administrators)",
            gpg_keys::revoke_for_user,
        )
        .get(
            "/api/v4/users/{user_id}/impersonation_tokens",
            Admin,
            "List a user's impersonation tokens (state: all, active or inactive; administrators)",
            tokens::list_impersonation_tokens,
        )
        .post(
            "/api/v4/users/{user_id}/impersonation_tokens",
            Admin,
            "Create an impersonation token acting as the user (name, scopes, expires_at; administrators)",
            tokens::create_impersonation_token,
        )
        .get(
            "/api/v4/users/{user_id}/impersonation_tokens/{impersonation_token_id}",
            Admin,
            "Get a user's impersonation token (administrators)",
            tokens::get_impersonation_token,
        )
        .delete(
            "/api/v4/users/{user_id}/impersonation_tokens/{impersonation_token_id}",
            Admin,
            "Revoke a user's impersonation token (administrators)",
            tokens::revoke_impersonation_token,
        )
        .get(
            "/api/v4/keys",
            Admin,
            "Find a user's SSH key or a deploy key by its SHA256 fingerprint (fingerprint; administrators)",
            keys::find_by_fingerprint,
        )
        .get("/api/v4/keys/{key_id}", Admin, "Get any user's SSH key with its user (administrators)", keys::get_any)
        .get(
            "/api/v4/deploy_keys",
            Admin,
            "Every deploy key with the projects it is enabled on (public; administrators)",
            deploy_keys::list_all,
        )
        .post(
            "/api/v4/deploy_keys",
            Admin,
            "Add an instance deploy key any project's Maintainers may enable (title, key, expires_at; administrators)",
            deploy_keys::create_instance,
        )
        .get(
            "/api/v4/projects/{id}/deploy_keys",
            Project(ProjectAction::ManageDeployCredentials),
            "List a project's deploy keys",
            deploy_keys::list_for_project,
        )
        .post(
            "/api/v4/projects/{id}/deploy_keys",
            Project(ProjectAction::ManageDeployCredentials),
            "Add a deploy key (title, key, can_push, expires_at), or enable the same key you use elsewhere",
            deploy_keys::add_to_project,
        )
        .get(
            "/api/v4/projects/{id}/deploy_keys/{key_id}",
            Project(ProjectAction::ManageDeployCredentials),
            "Get a project's deploy key",
            deploy_keys::get_for_project,
        )
        .put(
            "/api/v4/projects/{id}/deploy_keys/{key_id}",
            Project(ProjectAction::ManageDeployCredentials),
            "Change a deploy key's title or whether it may push here (title, can_push)",
            deploy_keys::update_for_project,
        )
        .delete(
            "/api/v4/projects/{id}/deploy_keys/{key_id}",
            Project(ProjectAction::ManageDeployCredentials),
            "Disable a deploy key here (deleted when no project uses it, unless an instance key)",
            deploy_keys::delete_from_project,
        )
        .post(
            "/api/v4/projects/{id}/deploy_keys/{key_id}/enable",
            Project(ProjectAction::ManageDeployCredentials),
            "Enable a deploy key you use elsewhere, or an instance key",
            deploy_keys::enable_for_project,
        )
        .get("/api/v4/deploy_tokens", Admin, "Every deploy token (active; administrators)", deploy_tokens::list_all)
        .get(
            "/api/v4/projects/{id}/deploy_tokens",
            Project(ProjectAction::ManageDeployCredentials),
            "List a project's deploy tokens (active)",
            deploy_tokens::project::list,
        )
        .post(
            "/api/v4/projects/{id}/deploy_tokens",
            Project(ProjectAction::ManageDeployCredentials),
            "Create a project deploy token (name, scopes, username, expires_at); the token is in this answer only",
            deploy_tokens::project::create,
        )
        .get(
            "/api/v4/projects/{id}/deploy_tokens/{token_id}",
            Project(ProjectAction::ManageDeployCredentials),
            "Get a project deploy token",
            deploy_tokens::project::get,
        )
        .delete(
            "/api/v4/projects/{id}/deploy_tokens/{token_id}",
            Project(ProjectAction::ManageDeployCredentials),
            "Delete a project deploy token",
            deploy_tokens::project::delete,
        )
        .get(
            "/api/v4/groups/{id}/deploy_tokens",
            Group(GroupAction::ReadDeployTokens),
            "List a group's deploy tokens (active)",
            deploy_tokens::group::list,
        )
        .post(
            "/api/v4/groups/{id}/deploy_tokens",
            Group(GroupAction::ManageDeployTokens),
            "Create a group deploy token, valid for every project below the group (name, scopes, username, \
             expires_at); the token is in this answer only",
            deploy_tokens::group::create,
        )
        .get(
            "/api/v4/groups/{id}/deploy_tokens/{token_id}",
            Group(GroupAction::ReadDeployTokens),
            "Get a group deploy token",
            deploy_tokens::group::get,
        )
        .delete(
            "/api/v4/groups/{id}/deploy_tokens/{token_id}",
            Group(GroupAction::ManageDeployTokens),
            "Delete a group deploy token",
            deploy_tokens::group::delete,
        )
        .get(
            "/api/v4/projects/{id}/access_tokens",
            Project(ProjectAction::ManageAccessTokens),
            "List a project's access tokens (state: active or inactive)",
            access_tokens::project::list,
        )
        .post(
            "/api/v4/projects/{id}/access_tokens",
            Project(ProjectAction::ManageAccessTokens),
            "Create a project access token (name, scopes, access_level, expires_at): a bot member with that role; \
             the token is in this answer only",
            access_tokens::project::create,
        )
        .get(
            "/api/v4/projects/{id}/access_tokens/{token_id}",
            Project(ProjectAction::ManageAccessTokens),
            "Get a project access token",
            access_tokens::project::get,
        )
        .post(
            "/api/v4/projects/{id}/access_tokens/{token_id}/rotate",
            Project(ProjectAction::ManageAccessTokens),
            "Rotate a project access token (expires_at); the new token is in this answer only",
            access_tokens::project::rotate,
        )
        .delete(
            "/api/v4/projects/{id}/access_tokens/{token_id}",
            Project(ProjectAction::ManageAccessTokens),
            "Revoke a project access token",
            access_tokens::project::revoke,
        )
        .get(
            "/api/v4/groups/{id}/access_tokens",
            Group(GroupAction::ManageAccessTokens),
            "List a group's access tokens (state: active or inactive)",
            access_tokens::group::list,
        )
        .post(
            "/api/v4/groups/{id}/access_tokens",
            Group(GroupAction::ManageAccessTokens),
            "Create a group access token (name, scopes, access_level, expires_at): a bot member with that role; \
             the token is in this answer only",
            access_tokens::group::create,
        )
        .get(
            "/api/v4/groups/{id}/access_tokens/{token_id}",
            Group(GroupAction::ManageAccessTokens),
            "Get a group access token",
            access_tokens::group::get,
        )
        .post(
            "/api/v4/groups/{id}/access_tokens/{token_id}/rotate",
            Group(GroupAction::ManageAccessTokens),
            "Rotate a group access token (expires_at); the new token is in this answer only",
            access_tokens::group::rotate,
        )
        .delete(
            "/api/v4/groups/{id}/access_tokens/{token_id}",
            Group(GroupAction::ManageAccessTokens),
            "Revoke a group access token",
            access_tokens::group::revoke,
        )
        .get("/api/v4/topics", Anyone, "List project topics (search, without_projects)", topics::list_topics)
        .post("/api/v4/topics", Admin, "Create a topic (name, title, description)", topics::create_topic)
        .post(
            "/api/v4/topics/merge",
            Admin,
            "Merge a topic into another (source_topic_id, target_topic_id)",
            topics::merge_topics,
        )
        .get("/api/v4/topics/{topic_id}", Anyone, "Get a topic", topics::get_topic)
        .put("/api/v4/topics/{topic_id}", Admin, "Update a topic (name, title, description)", topics::update_topic)
        .delete("/api/v4/topics/{topic_id}", Admin, "Delete a topic", topics::delete_topic)
        .get("/api/v4/groups", Anyone, "List groups", groups::list_groups)
        .post(
            "/api/v4/groups",
            Parent(GroupAction::CreateSubgroup),
            "Create a group or subgroup (parent_id)",
            groups::create_group,
        )
        .get("/api/v4/groups/{id}", Group(GroupAction::Read), "Get a group", groups::get_group)
        .get(
            "/api/v4/groups/{id}/search",
            Group(GroupAction::Read),
            "Search the group and its subgroups (search, scope: projects, blobs, commits)",
            search::search_group,
        )
        .put("/api/v4/groups/{id}", Group(GroupAction::Update), "Update a group", groups::update_group)
        .delete(
            "/api/v4/groups/{id}",
            Group(GroupAction::Delete),
            "Delete a group with everything in it",
            groups::delete_group,
        )
        .get(
            "/api/v4/groups/{id}/subgroups",
            Group(GroupAction::Read),
            "List a group's subgroups (search, skip_groups, all_available, order_by, sort)",
            groups::list_subgroups,
        )
        .get(
            "/api/v4/groups/{id}/descendant_groups",
            Group(GroupAction::Read),
            "List every group below a group (the subgroups' parameters)",
            groups::list_descendant_groups,
        )
        .post(
            "/api/v4/groups/{id}/transfer",
            Group(GroupAction::Transfer),
            "Move a group under another group (group_id), or to the top level without one",
            groups::transfer_group,
        )
        .post(
            "/api/v4/groups/{id}/share",
            Group(GroupAction::ManageMembers),
            "Share a group with a group (group_id, group_access, expires_at)",
            sharing::share_group,
        )
        .delete(
            "/api/v4/groups/{id}/share/{group_id}",
            Group(GroupAction::ManageMembers),
            "Stop sharing a group with a group",
            sharing::unshare_group,
        )
        .get(
            "/api/v4/groups/{id}/protected_branches",
            Group(GroupAction::ManageProtectedBranches),
            "List a group's protected branches, which apply to every project below it",
            group_protected_branches::list_group_protected_branches,
        )
        .post(
            "/api/v4/groups/{id}/protected_branches",
            Group(GroupAction::ManageProtectedBranches),
            "Protect a branch or pattern in every project of a group (name, push_access_level, merge_access_level, \
             allow_force_push)",
            group_protected_branches::protect_group_branch,
        )
        .get(
            "/api/v4/groups/{id}/protected_branches/{name}",
            Group(GroupAction::ManageProtectedBranches),
            "Get one of a group's protected branches",
            group_protected_branches::get_group_protected_branch,
        )
        .patch(
            "/api/v4/groups/{id}/protected_branches/{name}",
            Group(GroupAction::ManageProtectedBranches),
            "Change one of a group's protected branches",
            group_protected_branches::update_group_protected_branch,
        )
        .delete(
            "/api/v4/groups/{id}/protected_branches/{name}",
            Group(GroupAction::ManageProtectedBranches),
            "Unprotect a branch or pattern of a group",
            group_protected_branches::unprotect_group_branch,
        )
        .get(
            "/api/v4/groups/{id}/projects",
            Group(GroupAction::Read),
            "List a group's projects",
            groups::list_group_projects,
        )
        .get(
            "/api/v4/groups/{id}/members",
            Group(GroupAction::Read),
            "List a group's direct members",
            members::group::list,
        )
        .post(
            "/api/v4/groups/{id}/members",
            Group(GroupAction::ManageMembers),
            "Add a member to a group",
            members::group::add,
        )
        .get(
            "/api/v4/groups/{id}/members/all",
            Group(GroupAction::Read),
            "List a group's members including inherited ones",
            members::group::list_all,
        )
        .get(
            "/api/v4/groups/{id}/members/all/{user_id}",
            Group(GroupAction::Read),
            "Get a direct or inherited group member",
            members::group::get_inherited,
        )
        .get(
            "/api/v4/groups/{id}/members/{user_id}",
            Group(GroupAction::Read),
            "Get a group member",
            members::group::get,
        )
        .put(
            "/api/v4/groups/{id}/members/{user_id}",
            Group(GroupAction::ManageMembers),
            "Change a group member's role",
            members::group::update,
        )
        .delete(
            "/api/v4/groups/{id}/members/{user_id}",
            Group(GroupAction::ManageMembers),
            "Remove a group member",
            members::group::remove,
        )
        .get("/api/v4/projects", Anyone, "List projects", projects::list_projects)
        .post("/api/v4/projects", Parent(GroupAction::CreateProject), "Create a project", projects::create_project)
        .get("/api/v4/projects/{id}", Project(ProjectAction::Read), "Get a project", projects::get_project)
        .get(
            "/api/v4/projects/{id}/search",
            Project(ProjectAction::Read),
            "Search the project's code or commit messages at a ref (search, scope: blobs, commits; ref); nothing \
             for those who may not read the code",
            search::search_project,
        )
        .put("/api/v4/projects/{id}", Project(ProjectAction::Update), "Update a project", projects::update_project)
        .delete("/api/v4/projects/{id}", Project(ProjectAction::Delete), "Delete a project", projects::delete_project)
        .put(
            "/api/v4/projects/{id}/transfer",
            Project(ProjectAction::Transfer),
            "Move a project to another namespace",
            projects::transfer_project,
        )
        .get(
            "/api/v4/projects/{id}/groups",
            Project(ProjectAction::Read),
            "A project's groups: its namespace, that namespace's ancestors and, with with_shared, the groups it is \
             shared with",
            sharing::list_project_groups,
        )
        .post(
            "/api/v4/projects/{id}/share",
            Project(ProjectAction::ManageMembers),
            "Share a project with a group (group_id, group_access, expires_at)",
            sharing::share_project,
        )
        .delete(
            "/api/v4/projects/{id}/share/{group_id}",
            Project(ProjectAction::ManageMembers),
            "Stop sharing a project with a group",
            sharing::unshare_project,
        )
        .post(
            "/api/v4/projects/{id}/archive",
            Project(ProjectAction::Archive),
            "Archive a project",
            projects::archive_project,
        )
        .post(
            "/api/v4/projects/{id}/unarchive",
            Project(ProjectAction::Archive),
            "Unarchive a project",
            projects::unarchive_project,
        )
        .get(
            "/api/v4/projects/{id}/snapshot",
            Admin,
            "The bare repository as an uncompressed tar (administrators; wiki)",
            archives::snapshot,
        )
        .get(
            "/api/v4/projects/{id}/members",
            Project(ProjectAction::Read),
            "List a project's direct members",
            members::project::list,
        )
        .post(
            "/api/v4/projects/{id}/members",
            Project(ProjectAction::ManageMembers),
            "Add a member to a project",
            members::project::add,
        )
        .get(
            "/api/v4/projects/{id}/members/all",
            Project(ProjectAction::Read),
            "List a project's members including inherited ones",
            members::project::list_all,
        )
        .get(
            "/api/v4/projects/{id}/members/all/{user_id}",
            Project(ProjectAction::Read),
            "Get a direct or inherited project member",
            members::project::get_inherited,
        )
        .get(
            "/api/v4/projects/{id}/members/{user_id}",
            Project(ProjectAction::Read),
            "Get a project member",
            members::project::get,
        )
        .put(
            "/api/v4/projects/{id}/members/{user_id}",
            Project(ProjectAction::ManageMembers),
            "Change a project member's role",
            members::project::update,
        )
        .delete(
            "/api/v4/projects/{id}/members/{user_id}",
            Project(ProjectAction::ManageMembers),
            "Remove a project member",
            members::project::remove,
        )
        .get(
            "/api/v4/projects/{id}/languages",
            Project(ProjectAction::ReadCode),
            "The languages of the default branch, as percentages of its code (at most five, largest first)",
            languages::get_languages,
        )
        .get(
            "/api/v4/projects/{id}/repository/tree",
            Project(ProjectAction::ReadCode),
            "List a folder (path, ref)",
            files::tree,
        )
        .get(
            "/api/v4/projects/{id}/repository/files/{file_path}",
            Project(ProjectAction::ReadCode),
            "Get a file, base64-encoded, its metadata also in X-Gitlab-* headers (HEAD: only them) (ref)",
            files::file,
        )
        .post(
            "/api/v4/projects/{id}/repository/files/{file_path}",
            Project(ProjectAction::PushCode),
            "Create a file in a commit on a branch (branch, content, commit_message, start_branch, encoding)",
            commits::create_file,
        )
        .put(
            "/api/v4/projects/{id}/repository/files/{file_path}",
            Project(ProjectAction::PushCode),
            "Change a file in a commit on a branch (branch, content, commit_message)",
            commits::update_file,
        )
        .delete(
            "/api/v4/projects/{id}/repository/files/{file_path}",
            Project(ProjectAction::PushCode),
            "Delete a file in a commit on a branch (branch, commit_message)",
            commits::delete_file,
        )
        .get(
            "/api/v4/projects/{id}/repository/files/{file_path}/raw",
            Project(ProjectAction::ReadCode),
            "Get a file's bytes, its metadata in X-Gitlab-* headers (ref)",
            files::file_raw,
        )
        .get(
            "/api/v4/projects/{id}/repository/files/{file_path}/blame",
            Project(ProjectAction::ReadCode),
            "Who last changed each line of a file, in runs of lines (ref, range[start], range[end])",
            files::file_blame,
        )
        .get(
            "/api/v4/projects/{id}/repository/blobs/{sha}/raw",
            Project(ProjectAction::ReadCode),
            "Get a blob's bytes",
            files::blob_raw,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits",
            Project(ProjectAction::ReadCode),
            "List commits (ref_name or all, since, until, path, author, first_parent, order, with_stats, trailers)",
            history::commits,
        )
        .post(
            "/api/v4/projects/{id}/repository/commits",
            Project(ProjectAction::PushCode),
            "Commit file actions (create, update, delete, move, chmod) to a branch",
            commits::create_commit,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}",
            Project(ProjectAction::ReadCode),
            "Get a commit, with its stats (stats)",
            history::commit,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/diff",
            Project(ProjectAction::ReadCode),
            "Get a commit's diff",
            history::commit_diff,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/refs",
            Project(ProjectAction::ReadCode),
            "The branches and tags that hold a commit (type: branch, tag or all)",
            history::commit_refs,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/sequence",
            Project(ProjectAction::ReadCode),
            "How many commits lead to a commit (first_parent)",
            history::commit_sequence,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/signature",
            Project(ProjectAction::ReadCode),
            "How a commit is signed (not verified); 404 when it is not",
            history::commit_signature,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/merge_requests",
            Project(ProjectAction::ReadCode),
            "Merge requests of a commit (none: Gantry has no merge requests)",
            history::commit_merge_requests,
        )
        .post(
            "/api/v4/projects/{id}/repository/commits/{sha}/cherry_pick",
            Project(ProjectAction::PushCode),
            "Cherry-pick a commit onto a branch (branch, dry_run, message)",
            commits::cherry_pick,
        )
        .post(
            "/api/v4/projects/{id}/repository/commits/{sha}/revert",
            Project(ProjectAction::PushCode),
            "Revert a commit on a branch (branch, dry_run)",
            commits::revert,
        )
        .get(
            "/api/v4/projects/{id}/repository/compare",
            Project(ProjectAction::ReadCode),
            "Compare two refs (from, to)",
            history::compare,
        )
        .get(
            "/api/v4/projects/{id}/repository/merge_base",
            Project(ProjectAction::ReadCode),
            "The best common ancestor of two or more refs (refs[])",
            history::merge_base,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive",
            Project(ProjectAction::ReadCode),
            "Download an archive of the files at a commit (sha, format, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tar.gz",
            Project(ProjectAction::ReadCode),
            "Download a tar.gz archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tgz",
            Project(ProjectAction::ReadCode),
            "Download a tar.gz archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.gz",
            Project(ProjectAction::ReadCode),
            "Download a tar.gz archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tar.bz2",
            Project(ProjectAction::ReadCode),
            "Download a tar.bz2 archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tbz",
            Project(ProjectAction::ReadCode),
            "Download a tar.bz2 archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tbz2",
            Project(ProjectAction::ReadCode),
            "Download a tar.bz2 archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tb2",
            Project(ProjectAction::ReadCode),
            "Download a tar.bz2 archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.bz2",
            Project(ProjectAction::ReadCode),
            "Download a tar.bz2 archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.tar",
            Project(ProjectAction::ReadCode),
            "Download a tar archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/archive.zip",
            Project(ProjectAction::ReadCode),
            "Download a zip archive (sha, path)",
            archives::archive,
        )
        .get(
            "/api/v4/projects/{id}/repository/branches",
            Project(ProjectAction::ReadCode),
            "List branches (search)",
            repository::list_branches,
        )
        .post(
            "/api/v4/projects/{id}/repository/branches",
            Project(ProjectAction::PushCode),
            "Create a branch (branch, ref)",
            repository::create_branch,
        )
        .get(
            "/api/v4/projects/{id}/repository/branches/{branch}",
            Project(ProjectAction::ReadCode),
            "Get a branch",
            repository::get_branch,
        )
        .delete(
            "/api/v4/projects/{id}/repository/branches/{branch}",
            Project(ProjectAction::PushCode),
            "Delete a branch",
            repository::delete_branch,
        )
        .get(
            "/api/v4/projects/{id}/repository/tags",
            Project(ProjectAction::ReadCode),
            "List tags (search)",
            repository::list_tags,
        )
        .post(
            "/api/v4/projects/{id}/repository/tags",
            Project(ProjectAction::PushCode),
            "Create a tag (tag_name, ref, message)",
            repository::create_tag,
        )
        .get(
            "/api/v4/projects/{id}/repository/tags/{tag_name}",
            Project(ProjectAction::ReadCode),
            "Get a tag",
            repository::get_tag,
        )
        .delete(
            "/api/v4/projects/{id}/repository/tags/{tag_name}",
            Project(ProjectAction::PushCode),
            "Delete a tag",
            repository::delete_tag,
        )
        .get(
            "/api/v4/projects/{id}/protected_branches",
            Project(ProjectAction::ReadCode),
            "List protected branches",
            repository::list_protected_branches,
        )
        .post(
            "/api/v4/projects/{id}/protected_branches",
            Project(ProjectAction::ManageProtectedBranches),
            "Protect a branch or pattern (name, push_access_level, merge_access_level, allow_force_push)",
            repository::protect_branch,
        )
        .get(
            "/api/v4/projects/{id}/protected_branches/{name}",
            Project(ProjectAction::ReadCode),
            "Get a protected branch",
            repository::get_protected_branch,
        )
        .patch(
            "/api/v4/projects/{id}/protected_branches/{name}",
            Project(ProjectAction::ManageProtectedBranches),
            "Change a protected branch's levels or force-push setting",
            repository::update_protected_branch,
        )
        .delete(
            "/api/v4/projects/{id}/protected_branches/{name}",
            Project(ProjectAction::ManageProtectedBranches),
            "Unprotect a branch or pattern",
            repository::unprotect_branch,
        )
        .get(
            "/api/v4/projects/{id}/protected_tags",
            Project(ProjectAction::ManageProtectedTags),
            "List protected tags (Maintainers)",
            protected_tags::list_protected_tags,
        )
        .post(
            "/api/v4/projects/{id}/protected_tags",
            Project(ProjectAction::ManageProtectedTags),
            "Protect a tag or pattern (name, create_access_level or allowed_to_create)",
            protected_tags::protect_tag,
        )
        .get(
            "/api/v4/projects/{id}/protected_tags/{name}",
            Project(ProjectAction::ManageProtectedTags),
            "Get a protected tag",
            protected_tags::get_protected_tag,
        )
        .delete(
            "/api/v4/projects/{id}/protected_tags/{name}",
            Project(ProjectAction::ManageProtectedTags),
            "Unprotect a tag or pattern",
            protected_tags::unprotect_tag,
        )
        .get(
            "/api/v4/projects/{id}/pipelines",
            Project(ProjectAction::ReadPipelines),
            "List pipelines (status, ref, sha, source, username)",
            pipelines::list_pipelines,
        )
        .post(
            "/api/v4/projects/{id}/pipeline",
            ProtectedRef,
            "Run a pipeline (ref, variables)",
            pipelines::create_pipeline,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}",
            Project(ProjectAction::ReadPipelines),
            "Get a pipeline",
            pipelines::get_pipeline,
        )
        .delete(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}",
            Project(ProjectAction::DeletePipelines),
            "Delete a pipeline",
            pipelines::delete_pipeline,
        )
        .post(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry",
            ProtectedRef,
            "Retry a pipeline's failed and canceled jobs",
            pipelines::retry_pipeline,
        )
        .post(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel",
            ProtectedRef,
            "Cancel a pipeline's unfinished jobs",
            pipelines::cancel_pipeline,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs",
            Project(ProjectAction::ReadPipelines),
            "List a pipeline's jobs (scope[], include_retried)",
            pipelines::pipeline_jobs,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/bridges",
            Project(ProjectAction::ReadPipelines),
            "List a pipeline's trigger jobs with their downstream pipelines (scope[])",
            pipelines::pipeline_bridges,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables",
            ProtectedRef,
            "The variables a pipeline was run with",
            pipelines::pipeline_variables_of,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report",
            Project(ProjectAction::ReadPipelines),
            "A pipeline's test results, one suite per job, new failures flagged",
            artifacts::test_report,
        )
        .get(
            "/api/v4/projects/{id}/pipelines/{pipeline_id}/test_report_summary",
            Project(ProjectAction::ReadPipelines),
            "The counts of a pipeline's test results",
            artifacts::test_report_summary,
        )
        .get(
            "/api/v4/projects/{id}/jobs",
            Project(ProjectAction::ReadPipelines),
            "List jobs (scope[])",
            pipelines::list_jobs,
        )
        .get(
            "/api/v4/projects/{id}/jobs/artifacts/{ref_name}/download",
            Project(ProjectAction::ReadPipelines),
            "The archive of the latest successful job of a ref (job)",
            artifacts::latest_of_ref,
        )
        .get(
            "/api/v4/projects/{id}/jobs/artifacts/{ref_name}/raw/{*artifact_path}",
            Project(ProjectAction::ReadPipelines),
            "One file of the archive of the latest successful job of a ref (job)",
            artifacts::latest_file_of_ref,
        )
        .get(
            "/api/v4/projects/{id}/jobs/{job_id}/artifacts",
            Project(ProjectAction::ReadPipelines),
            "Download a job's artifacts archive",
            artifacts::download,
        )
        .delete(
            "/api/v4/projects/{id}/jobs/{job_id}/artifacts",
            Project(ProjectAction::ManageCi),
            "Delete a job's artifacts",
            artifacts::delete,
        )
        .post(
            "/api/v4/projects/{id}/jobs/{job_id}/artifacts/keep",
            Project(ProjectAction::RunPipelines),
            "Keep a job's artifacts past their expiry",
            artifacts::keep,
        )
        .get(
            "/api/v4/projects/{id}/jobs/{job_id}/artifacts/{*artifact_path}",
            Project(ProjectAction::ReadPipelines),
            "One file of a job's artifacts archive",
            artifacts::file,
        )
        .get(
            "/api/v4/projects/{id}/jobs/{job_id}",
            Project(ProjectAction::ReadPipelines),
            "Get a job",
            pipelines::get_job,
        )
        .get(
            "/api/v4/projects/{id}/jobs/{job_id}/trace",
            Project(ProjectAction::ReadPipelines),
            "A job's log as text",
            pipelines::job_trace,
        )
        .post("/api/v4/projects/{id}/jobs/{job_id}/retry", ProtectedRef, "Retry a job", pipelines::retry_job)
        .post("/api/v4/projects/{id}/jobs/{job_id}/cancel", ProtectedRef, "Cancel a job", pipelines::cancel_job)
        .post("/api/v4/projects/{id}/jobs/{job_id}/play", ProtectedRef, "Start a manual job", pipelines::play_job)
        .get(
            "/api/v4/projects/{id}/templates/{type}",
            Project(ProjectAction::Read),
            "List the file templates a project may use (type; issues: the project's issue templates)",
            templates::project_list,
        )
        .get(
            "/api/v4/projects/{id}/templates/{type}/{name}",
            Project(ProjectAction::Read),
            "One file template for a project (licenses filled in with project and fullname)",
            templates::project_get,
        )
        .get(
            "/api/v4/projects/{id}/ci/lint",
            Project(ProjectAction::ReadCode),
            "Check the project's CI file at a ref (ref)",
            pipelines::lint_project,
        )
        .post(
            "/api/v4/projects/{id}/ci/lint",
            Project(ProjectAction::ReadCode),
            "Check a CI configuration (content, ref)",
            pipelines::lint_content,
        )
        .get(
            "/api/v4/projects/{id}/runners",
            Project(ProjectAction::ManageCi),
            "Runners that may run the project's jobs",
            runners::project_runners,
        )
        .post(
            "/api/v4/projects/{id}/statuses/{sha}",
            Project(ProjectAction::RunPipelines),
            "Report a commit's status (state, ref, name, target_url, description, coverage)",
            statuses::create,
        )
        .get(
            "/api/v4/projects/{id}/repository/commits/{sha}/statuses",
            Project(ProjectAction::ReadPipelines),
            "A commit's statuses: reported ones and its newest pipeline's jobs (ref, name)",
            statuses::list,
        )
        .get(
            "/api/v4/projects/{id}/pipeline_schedules",
            Project(ProjectAction::RunPipelines),
            "List pipeline schedules (scope)",
            schedules::list,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules",
            ProtectedRef,
            "Create a pipeline schedule (description, ref, cron, cron_timezone, active)",
            schedules::create,
        )
        .get(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}",
            Project(ProjectAction::RunPipelines),
            "Get a pipeline schedule",
            schedules::get,
        )
        .put(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}",
            ScheduleOwner,
            "Change a pipeline schedule",
            schedules::update,
        )
        .delete(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}",
            Project(ProjectAction::ManageCi),
            "Delete a pipeline schedule (its owner, or Maintainers)",
            schedules::delete,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/take_ownership",
            Project(ProjectAction::ManageCi),
            "Become a pipeline schedule's owner",
            schedules::take_ownership,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/play",
            ProtectedRef,
            "Run a pipeline schedule now",
            schedules::play,
        )
        .get(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/pipelines",
            Project(ProjectAction::RunPipelines),
            "The pipelines a schedule started",
            schedules::pipelines,
        )
        .post(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/variables",
            ScheduleOwner,
            "Add a pipeline schedule variable (key, value, variable_type)",
            schedules::create_variable,
        )
        .put(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/variables/{key}",
            ScheduleOwner,
            "Change a pipeline schedule variable",
            schedules::update_variable,
        )
        .delete(
            "/api/v4/projects/{id}/pipeline_schedules/{schedule_id}/variables/{key}",
            ScheduleOwner,
            "Delete a pipeline schedule variable",
            schedules::delete_variable,
        )
        .get(
            "/api/v4/projects/{id}/triggers",
            Project(ProjectAction::ManageCi),
            "List pipeline trigger tokens",
            schedules::list_triggers,
        )
        .post(
            "/api/v4/projects/{id}/triggers",
            Project(ProjectAction::ManageCi),
            "Create a pipeline trigger token (description)",
            schedules::create_trigger,
        )
        .put(
            "/api/v4/projects/{id}/triggers/{trigger_id}",
            Project(ProjectAction::ManageCi),
            "Change a trigger token's description",
            schedules::update_trigger,
        )
        .delete(
            "/api/v4/projects/{id}/triggers/{trigger_id}",
            Project(ProjectAction::ManageCi),
            "Delete a pipeline trigger token",
            schedules::delete_trigger,
        )
        .post(
            "/api/v4/projects/{id}/trigger/pipeline",
            TriggerToken,
            "Run a pipeline with a trigger token (token, ref, variables[KEY]; no user credentials)",
            schedules::trigger_pipeline,
        )
        .get(
            "/api/v4/projects/{id}/job_token_scope",
            Project(ProjectAction::ManageCi),
            "Whether other projects' CI/CD job tokens are limited to the allowlist (inbound_enabled)",
            job_token_scope::get_scope,
        )
        .patch(
            "/api/v4/projects/{id}/job_token_scope",
            Project(ProjectAction::ManageCi),
            "Limit which projects' CI/CD job tokens reach this project, or stop limiting (enabled)",
            job_token_scope::update_scope,
        )
        .get(
            "/api/v4/projects/{id}/job_token_scope/allowlist",
            Project(ProjectAction::ManageCi),
            "List the projects whose CI/CD job tokens may reach this project",
            job_token_scope::list_projects,
        )
        .post(
            "/api/v4/projects/{id}/job_token_scope/allowlist",
            Project(ProjectAction::ManageCi),
            "Let a project's CI/CD job tokens reach this project (target_project_id)",
            job_token_scope::add_project,
        )
        .delete(
            "/api/v4/projects/{id}/job_token_scope/allowlist/{target_project_id}",
            Project(ProjectAction::ManageCi),
            "Remove a project from the CI/CD job token allowlist",
            job_token_scope::remove_project,
        )
        .get(
            "/api/v4/projects/{id}/job_token_scope/groups_allowlist",
            Project(ProjectAction::ManageCi),
            "List the groups whose projects' CI/CD job tokens may reach this project",
            job_token_scope::list_groups,
        )
        .post(
            "/api/v4/projects/{id}/job_token_scope/groups_allowlist",
            Project(ProjectAction::ManageCi),
            "Let the CI/CD job tokens of a group's projects reach this project (target_group_id)",
            job_token_scope::add_group,
        )
        .delete(
            "/api/v4/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}",
            Project(ProjectAction::ManageCi),
            "Remove a group from the CI/CD job token allowlist",
            job_token_scope::remove_group,
        )
        .get(
            "/api/v4/projects/{id}/variables",
            Project(ProjectAction::ManageCi),
            "List the project's CI/CD variables",
            variables::list_project,
        )
        .post(
            "/api/v4/projects/{id}/variables",
            Project(ProjectAction::ManageCi),
            "Create a project CI/CD variable",
            variables::create_project,
        )
        .get(
            "/api/v4/projects/{id}/variables/{key}",
            Project(ProjectAction::ManageCi),
            "Get a project CI/CD variable",
            variables::get_project,
        )
        .put(
            "/api/v4/projects/{id}/variables/{key}",
            Project(ProjectAction::ManageCi),
            "Change a project CI/CD variable",
            variables::update_project,
        )
        .delete(
            "/api/v4/projects/{id}/variables/{key}",
            Project(ProjectAction::ManageCi),
            "Delete a project CI/CD variable",
            variables::delete_project,
        )
        .get(
            "/api/v4/groups/{id}/variables",
            Group(GroupAction::ManageCi),
            "List the group's CI/CD variables",
            variables::list_group,
        )
        .post(
            "/api/v4/groups/{id}/variables",
            Group(GroupAction::ManageCi),
            "Create a group CI/CD variable",
            variables::create_group,
        )
        .get(
            "/api/v4/groups/{id}/variables/{key}",
            Group(GroupAction::ManageCi),
            "Get a group CI/CD variable",
            variables::get_group,
        )
        .put(
            "/api/v4/groups/{id}/variables/{key}",
            Group(GroupAction::ManageCi),
            "Change a group CI/CD variable",
            variables::update_group,
        )
        .delete(
            "/api/v4/groups/{id}/variables/{key}",
            Group(GroupAction::ManageCi),
            "Delete a group CI/CD variable",
            variables::delete_group,
        )
        .get("/api/v4/admin/ci/variables", Admin, "List the instance's CI/CD variables", variables::list_instance)
        .post("/api/v4/admin/ci/variables", Admin, "Create an instance CI/CD variable", variables::create_instance)
        .get("/api/v4/admin/ci/variables/{key}", Admin, "Get an instance CI/CD variable", variables::get_instance)
        .put("/api/v4/admin/ci/variables/{key}", Admin, "Change an instance CI/CD variable", variables::update_instance)
        .delete(
            "/api/v4/admin/ci/variables/{key}",
            Admin,
            "Delete an instance CI/CD variable",
            variables::delete_instance,
        )
        .post(
            "/api/v4/user/runners",
            NewRunner,
            "Create a runner and get its token (runner_type, group_id, project_id, tag_list, run_untagged)",
            runners::create_runner,
        )
        .get("/api/v4/runners", SignedIn, "Runners you manage", runners::list_runners)
        .get("/api/v4/runners/all", Admin, "Every runner (administrators)", runners::list_all_runners)
        .get("/api/v4/runners/{runner_id}", RunnerManager, "Get a runner", runners::get_runner)
        .put(
            "/api/v4/runners/{runner_id}",
            RunnerManager,
            "Change a runner (description, tag_list, paused, run_untagged)",
            runners::update_runner,
        )
        .delete("/api/v4/runners/{runner_id}", RunnerManager, "Delete a runner", runners::delete_runner)
        .get("/api/v4/personal_access_tokens", SignedIn, "List your personal access tokens", tokens::list_tokens)
        .get("/api/v4/personal_access_tokens/{token_id}", TokenOwner, "Get a personal access token", tokens::get_token)
        .delete(
            "/api/v4/personal_access_tokens/{token_id}",
            TokenOwner,
            "Revoke a personal access token",
            tokens::revoke_token,
        )
        .post(
            "/api/v4/personal_access_tokens/{token_id}/rotate",
            TokenOwner,
            "Rotate a personal access token (expires_at; default a week): the old one stops working, the new \
             token is in this answer only",
            tokens::rotate_token,
        )
        .post(
            "/api/v4/user/personal_access_tokens",
            SignedIn,
            "Create a personal access token for yourself",
            tokens::create_token,
        )
        // Activity: GitLab's events.
        .get(
            "/api/v4/events",
            SignedIn,
            "What you did (scope=all: everything in the projects you see; action, target_type, before, after, sort)",
            events::list_own_events,
        )
        .get(
            "/api/v4/users/{user_id}/events",
            SignedIn,
            "What someone did (id or username), among what you may see (action, target_type, before, after, sort)",
            events::list_user_events,
        )
        .get(
            "/api/v4/projects/{id}/events",
            Project(ProjectAction::Read),
            "A project's activity: issues opened, closed and reopened, comments, pushes (filters as /events)",
            events::list_project_events,
        )
        // Plan: issues, their notes, labels.
        .get("/api/v4/issues", SignedIn, "Issues you may see (scope: created_by_me, assigned_to_me, all; filters as a project's)", issues::list_issues)
        .get(
            "/api/v4/groups/{id}/issues",
            Group(GroupAction::Read),
            "Issues of the group's projects and its subgroups' (filters as a project's)",
            issues::list_group_issues,
        )
        .get(
            "/api/v4/projects/{id}/issues",
            Project(ProjectAction::ReadIssues),
            "List issues (state, labels, milestone, assignee_id, assignee_username, author_id, author_username, \
             search, confidential, iids[], created_after, created_before, updated_after, updated_before, order_by, sort, scope)",
            issues::list_project_issues,
        )
        .post(
            "/api/v4/projects/{id}/issues",
            Project(ProjectAction::CreateIssue),
            "Open an issue (title, description, labels, assignee_ids, milestone_id, confidential, due_date, weight)",
            issues::create_issue.layer(text_limit()),
        )
        .get(
            "/api/v4/projects/{id}/issues_statistics",
            Project(ProjectAction::ReadIssues),
            "Counts of the issues the list's filters select",
            issues::project_issues_statistics,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}",
            Project(ProjectAction::ReadIssues),
            "Get an issue",
            issues::get_issue,
        )
        .put(
            "/api/v4/projects/{id}/issues/{issue_iid}",
            Project(ProjectAction::UpdateIssues),
            "Edit an issue (its author and assignees too: title, description, state_event close or reopen; \
             Reporters also labels, add_labels, remove_labels, assignee_ids, milestone_id, confidential, due_date, weight, \
             discussion_locked)",
            issues::update_issue.layer(text_limit()),
        )
        .delete(
            "/api/v4/projects/{id}/issues/{issue_iid}",
            Project(ProjectAction::DeleteIssues),
            "Delete an issue",
            issues::delete_issue,
        )
        .put(
            "/api/v4/projects/{id}/issues/{issue_iid}/reorder",
            Project(ProjectAction::UpdateIssues),
            "Place an issue in the order of boards (move_after_id: the issue to follow it, move_before_id: the one to \
             precede it; its author and assignees too)",
            issues::reorder_issue,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/participants",
            Project(ProjectAction::ReadIssues),
            "The people of an issue: its author, assignees and commenters",
            issues::list_issue_participants,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_label_events",
            Project(ProjectAction::ReadIssues),
            "List an issue's label events",
            plan_events::list_label_events,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_label_events/{event_id}",
            Project(ProjectAction::ReadIssues),
            "Get one label event of an issue",
            plan_events::get_label_event,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_milestone_events",
            Project(ProjectAction::ReadIssues),
            "List an issue's milestone events",
            plan_events::list_milestone_events,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_milestone_events/{event_id}",
            Project(ProjectAction::ReadIssues),
            "Get one milestone event of an issue",
            plan_events::get_milestone_event,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_iteration_events",
            Project(ProjectAction::ReadIssues),
            "List an issue's iteration events",
            plan_events::list_iteration_events,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_iteration_events/{event_id}",
            Project(ProjectAction::ReadIssues),
            "Get one iteration event of an issue",
            plan_events::get_iteration_event,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_weight_events",
            Project(ProjectAction::ReadIssues),
            "List an issue's weight events",
            plan_events::list_weight_events,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_weight_events/{event_id}",
            Project(ProjectAction::ReadIssues),
            "Get one weight event of an issue",
            plan_events::get_weight_event,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_state_events",
            Project(ProjectAction::ReadIssues),
            "List an issue's state events",
            plan_events::list_state_events,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/resource_state_events/{event_id}",
            Project(ProjectAction::ReadIssues),
            "Get one state event of an issue",
            plan_events::get_state_event,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/closed_by",
            Project(ProjectAction::ReadIssues),
            "The merge requests that close an issue when merged (none until merge requests exist)",
            plan_events::list_issue_merge_requests,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/related_merge_requests",
            Project(ProjectAction::ReadIssues),
            "The merge requests that name an issue (none until merge requests exist)",
            plan_events::list_issue_merge_requests,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes",
            Project(ProjectAction::ReadIssues),
            "List an issue's comments and system notes (sort, order_by)",
            notes::list_issue_notes,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes",
            Project(ProjectAction::CreateIssue),
            "Comment on an issue (body)",
            notes::create_issue_note.layer(text_limit()),
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
            Project(ProjectAction::ReadIssues),
            "Get a note of an issue",
            notes::get_issue_note,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}/versions",
            Project(ProjectAction::ReadIssues),
            "The texts an edited comment had, newest first, with who wrote each and when",
            notes::issue_note_versions,
        )
        .put(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
            NoteAuthor,
            "Edit a comment (body)",
            notes::update_issue_note.layer(text_limit()),
        )
        .delete(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}",
            NoteAuthor,
            "Delete a comment",
            notes::delete_issue_note,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/award_emoji",
            Project(ProjectAction::ReadIssues),
            "List the emoji reactions on an issue",
            award_emoji::list_issue_awards,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/award_emoji",
            Project(ProjectAction::ReadIssues),
            "React to an issue with an emoji (name)",
            award_emoji::award_issue,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/award_emoji/{award_id}",
            Project(ProjectAction::ReadIssues),
            "Get an emoji reaction on an issue",
            award_emoji::get_issue_award,
        )
        .delete(
            "/api/v4/projects/{id}/issues/{issue_iid}/award_emoji/{award_id}",
            AwardOwner,
            "Remove your emoji reaction on an issue",
            award_emoji::delete_issue_award,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}/award_emoji",
            Project(ProjectAction::ReadIssues),
            "List the emoji reactions on a comment",
            award_emoji::list_note_awards,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}/award_emoji",
            Project(ProjectAction::ReadIssues),
            "React to a comment with an emoji (name)",
            award_emoji::award_note,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}/award_emoji/{award_id}",
            Project(ProjectAction::ReadIssues),
            "Get an emoji reaction on a comment",
            award_emoji::get_note_award,
        )
        .delete(
            "/api/v4/projects/{id}/issues/{issue_iid}/notes/{note_id}/award_emoji/{award_id}",
            AwardOwner,
            "Remove your emoji reaction on a comment",
            award_emoji::delete_note_award,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions",
            Project(ProjectAction::ReadIssues),
            "List an issue's discussions: comments and threads with their replies",
            discussions::list_issue_discussions,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions",
            Project(ProjectAction::CreateIssue),
            "Start a thread on an issue (body)",
            discussions::create_issue_discussion.layer(text_limit()),
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions/{discussion_id}",
            Project(ProjectAction::ReadIssues),
            "Get a discussion of an issue",
            discussions::get_issue_discussion,
        )
        .put(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions/{discussion_id}",
            Project(ProjectAction::UpdateIssues),
            "Resolve or reopen a thread (resolved; those who may edit the issue, or who started it)",
            discussions::resolve_issue_discussion,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions/{discussion_id}/notes",
            Project(ProjectAction::CreateIssue),
            "Reply in a discussion (body)",
            discussions::reply_to_issue_discussion.layer(text_limit()),
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions/{discussion_id}/notes/{note_id}",
            Project(ProjectAction::ReadIssues),
            "Get a note of a discussion",
            discussions::get_discussion_note,
        )
        .put(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions/{discussion_id}/notes/{note_id}",
            NoteAuthor,
            "Edit a note of a discussion (body), or resolve its thread (resolved)",
            discussions::update_discussion_note.layer(text_limit()),
        )
        .delete(
            "/api/v4/projects/{id}/issues/{issue_iid}/discussions/{discussion_id}/notes/{note_id}",
            NoteAuthor,
            "Delete a note of a discussion",
            discussions::delete_discussion_note,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/links",
            Project(ProjectAction::ReadIssues),
            "List the issues linked to an issue (those you may see)",
            issue_links::list_issue_links,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/links",
            Project(ProjectAction::UpdateIssues),
            "Link an issue to another (target_project_id, target_issue_iid, link_type)",
            issue_links::create_issue_link,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/links/{issue_link_id}",
            Project(ProjectAction::ReadIssues),
            "Get a link of an issue",
            issue_links::get_issue_link,
        )
        .delete(
            "/api/v4/projects/{id}/issues/{issue_iid}/links/{issue_link_id}",
            Project(ProjectAction::UpdateIssues),
            "Remove a link of an issue",
            issue_links::delete_issue_link,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/description_versions",
            Project(ProjectAction::ReadIssues),
            "The descriptions an issue has had, oldest first, with their authors (skip; 100 at a time)",
            description_versions::list_description_versions,
        )
        .get(
            "/api/v4/projects/{id}/issues/{issue_iid}/time_stats",
            Project(ProjectAction::ReadIssues),
            "An issue's time estimate and time spent",
            issues::time_stats,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/time_estimate",
            Project(ProjectAction::UpdateIssues),
            "Set an issue's time estimate (duration, as 3h30m)",
            issues::set_time_estimate,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/reset_time_estimate",
            Project(ProjectAction::UpdateIssues),
            "Remove an issue's time estimate",
            issues::reset_time_estimate,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/add_spent_time",
            Project(ProjectAction::UpdateIssues),
            "Log time spent on an issue (duration, as 1h or -30m; summary)",
            issues::add_spent_time,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/reset_spent_time",
            Project(ProjectAction::UpdateIssues),
            "Remove the time logged on an issue",
            issues::reset_spent_time,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/todo",
            Project(ProjectAction::ReadIssues),
            "Add a to-do on an issue for yourself (304 when one is pending)",
            todos::add_issue_todo,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/subscribe",
            Project(ProjectAction::ReadIssues),
            "Get mail about an issue whatever your notification level (304 when you already do)",
            todos::subscribe_issue,
        )
        .post(
            "/api/v4/projects/{id}/issues/{issue_iid}/unsubscribe",
            Project(ProjectAction::ReadIssues),
            "Get no mail about an issue (304 when you already get none)",
            todos::unsubscribe_issue,
        )
        .get(
            "/api/v4/todos",
            SignedIn,
            "Your to-dos (state pending, the default, or done; action, author_id, project_id, type)",
            todos::list_todos,
        )
        .post("/api/v4/todos/mark_as_done", SignedIn, "Mark all your pending to-dos as done", todos::mark_all_todos_done)
        .post("/api/v4/todos/{todo_id}/mark_as_done", TodoOwner, "Mark one of your to-dos as done", todos::mark_todo_done)
        .get("/api/v4/notification_settings", SignedIn, "Your notification level for all mail", todos::get_global_setting)
        .put(
            "/api/v4/notification_settings",
            SignedIn,
            "Set your notification level for all mail (level: watch, participating, mention, disabled)",
            todos::put_global_setting,
        )
        .get(
            "/api/v4/groups/{id}/notification_settings",
            Group(GroupAction::Read),
            "Your notification level for the group",
            todos::get_group_setting,
        )
        .put(
            "/api/v4/groups/{id}/notification_settings",
            Group(GroupAction::Read),
            "Set your notification level for the group (level: global, watch, participating, mention, disabled)",
            todos::put_group_setting,
        )
        .get(
            "/api/v4/projects/{id}/notification_settings",
            Project(ProjectAction::Read),
            "Your notification level for the project",
            todos::get_project_setting,
        )
        .put(
            "/api/v4/projects/{id}/notification_settings",
            Project(ProjectAction::Read),
            "Set your notification level for the project (level: global, watch, participating, mention, disabled)",
            todos::put_project_setting,
        )
        .get(
            "/api/v4/projects/{id}/labels",
            Project(ProjectAction::ReadIssues),
            "List the project's labels and its groups' (search)",
            labels::list_project_labels,
        )
        .post(
            "/api/v4/projects/{id}/labels",
            Project(ProjectAction::ManageLabels),
            "Create a project label (name, color, description)",
            labels::create_project_label,
        )
        .put(
            "/api/v4/projects/{id}/labels",
            Project(ProjectAction::ManageLabels),
            "Edit the project label named by name (new_name, color, description; GitLab's older form)",
            labels::update_project_label_by_name,
        )
        .delete(
            "/api/v4/projects/{id}/labels",
            Project(ProjectAction::ManageLabels),
            "Delete the project label named by name (GitLab's older form)",
            labels::delete_project_label_by_name,
        )
        .get(
            "/api/v4/projects/{id}/labels/{label_id}",
            Project(ProjectAction::ReadIssues),
            "Get a label by id or name",
            labels::get_project_label,
        )
        .put(
            "/api/v4/projects/{id}/labels/{label_id}",
            Project(ProjectAction::ManageLabels),
            "Edit a project label (new_name, color, description)",
            labels::update_project_label,
        )
        .delete(
            "/api/v4/projects/{id}/labels/{label_id}",
            Project(ProjectAction::ManageLabels),
            "Delete a project label",
            labels::delete_project_label,
        )
        .post(
            "/api/v4/projects/{id}/labels/{label_id}/subscribe",
            Project(ProjectAction::ReadIssues),
            "Get mail when an issue of the project gets this label",
            labels::subscribe_project_label,
        )
        .post(
            "/api/v4/projects/{id}/labels/{label_id}/unsubscribe",
            Project(ProjectAction::ReadIssues),
            "Stop mail about this label in the project",
            labels::unsubscribe_project_label,
        )
        .put(
            "/api/v4/projects/{id}/labels/{label_id}/promote",
            Project(ProjectAction::ManageLabels),
            "Make a project label its group's, merging the group projects' labels of that name into it",
            labels::promote_project_label,
        )
        .get(
            "/api/v4/groups/{id}/labels",
            Group(GroupAction::Read),
            "List the group's labels and its ancestors' (search, include_ancestor_groups)",
            labels::list_group_labels,
        )
        .post(
            "/api/v4/groups/{id}/labels",
            Group(GroupAction::ManageLabels),
            "Create a group label (name, color, description)",
            labels::create_group_label,
        )
        .put(
            "/api/v4/groups/{id}/labels",
            Group(GroupAction::ManageLabels),
            "Edit the group label named by name (new_name, color, description; GitLab's older form)",
            labels::update_group_label_by_name,
        )
        .delete(
            "/api/v4/groups/{id}/labels",
            Group(GroupAction::ManageLabels),
            "Delete the group label named by name (GitLab's older form)",
            labels::delete_group_label_by_name,
        )
        .get(
            "/api/v4/groups/{id}/labels/{label_id}",
            Group(GroupAction::Read),
            "Get a group label by id or name",
            labels::get_group_label,
        )
        .put(
            "/api/v4/groups/{id}/labels/{label_id}",
            Group(GroupAction::ManageLabels),
            "Edit a group label (new_name, color, description)",
            labels::update_group_label,
        )
        .delete(
            "/api/v4/groups/{id}/labels/{label_id}",
            Group(GroupAction::ManageLabels),
            "Delete a group label",
            labels::delete_group_label,
        )
        .post(
            "/api/v4/groups/{id}/labels/{label_id}/subscribe",
            Group(GroupAction::Read),
            "Get mail when any issue gets this label",
            labels::subscribe_group_label,
        )
        .post(
            "/api/v4/groups/{id}/labels/{label_id}/unsubscribe",
            Group(GroupAction::Read),
            "Stop mail about this label",
            labels::unsubscribe_group_label,
        )
        .get(
            "/api/v4/projects/{id}/iterations",
            Project(ProjectAction::ReadIssues),
            "List the iterations of the project's groups (state: opened, upcoming, current, closed, all; search; \
             include_ancestors)",
            iterations::list_project_iterations,
        )
        .get(
            "/api/v4/projects/{id}/milestones",
            Project(ProjectAction::ReadIssues),
            "List the project's milestones (state, title, search, iids[], include_parent_milestones)",
            milestones::list_project_milestones,
        )
        .post(
            "/api/v4/projects/{id}/milestones",
            Project(ProjectAction::ManageMilestones),
            "Create a project milestone (title, description, start_date, due_date)",
            milestones::create_project_milestone,
        )
        .get(
            "/api/v4/projects/{id}/milestones/{milestone_id}",
            Project(ProjectAction::ReadIssues),
            "Get a project milestone",
            milestones::get_project_milestone,
        )
        .put(
            "/api/v4/projects/{id}/milestones/{milestone_id}",
            Project(ProjectAction::ManageMilestones),
            "Edit, close or reopen a project milestone (title, description, start_date, due_date, \
             state_event close or activate)",
            milestones::update_project_milestone,
        )
        .delete(
            "/api/v4/projects/{id}/milestones/{milestone_id}",
            Project(ProjectAction::ManageMilestones),
            "Delete a project milestone (its issues are in none after)",
            milestones::delete_project_milestone,
        )
        .get(
            "/api/v4/projects/{id}/milestones/{milestone_id}/burnup",
            Project(ProjectAction::ReadIssues),
            "A milestone's burnup and burndown: per day, its issues you may see (scope) and those closed, counted and \
             weighed (it needs a start and a due date)",
            milestones::project_milestone_burnup,
        )
        .get(
            "/api/v4/projects/{id}/milestones/{milestone_id}/issues",
            Project(ProjectAction::ReadIssues),
            "The issues of a project milestone you may see",
            milestones::list_project_milestone_issues,
        )
        .get(
            "/api/v4/projects/{id}/milestones/{milestone_id}/merge_requests",
            Project(ProjectAction::ReadIssues),
            "The merge requests of a project milestone (none until merge requests exist)",
            milestones::list_project_milestone_merge_requests,
        )
        .post(
            "/api/v4/projects/{id}/milestones/{milestone_id}/promote",
            Project(ProjectAction::ManageMilestones),
            "Make a project milestone its group's (Reporter on the group too)",
            milestones::promote_project_milestone,
        )
        .post(
            "/api/v4/projects/{id}/uploads",
            Project(ProjectAction::CreateIssue),
            "Upload a file for the project's issues and comments (multipart file): its url and Markdown",
            plan_uploads::upload_project_file.layer(axum::extract::DefaultBodyLimit::max(
                gantry_core::plan::uploads::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        )
        .get(
            "/api/v4/projects/{id}/wikis",
            Project(ProjectAction::ReadWiki),
            "List the project's wiki pages (with_content)",
            wikis::list_wiki_pages,
        )
        .post(
            "/api/v4/projects/{id}/wikis",
            Project(ProjectAction::EditWiki),
            "Create a wiki page (title, content, format: markdown)",
            wikis::create_wiki_page.layer(text_limit()),
        )
        .post(
            "/api/v4/projects/{id}/wikis/attachments",
            Project(ProjectAction::EditWiki),
            "Attach a file to the wiki (multipart file; branch), kept under uploads/",
            wikis::upload_wiki_attachment.layer(axum::extract::DefaultBodyLimit::max(
                gantry_core::plan::wiki::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .get(
            "/api/v4/projects/{id}/wikis/{slug}",
            Project(ProjectAction::ReadWiki),
            "A wiki page by its slug (version, render_html)",
            wikis::get_wiki_page,
        )
        .put(
            "/api/v4/projects/{id}/wikis/{slug}",
            Project(ProjectAction::EditWiki),
            "Edit a wiki page (title moves it, content, format)",
            wikis::update_wiki_page.layer(text_limit()),
        )
        .delete(
            "/api/v4/projects/{id}/wikis/{slug}",
            Project(ProjectAction::EditWiki),
            "Delete a wiki page",
            wikis::delete_wiki_page,
        )
        .get(
            "/api/v4/groups/{id}/wikis",
            Group(GroupAction::ReadWiki),
            "List the group's wiki pages (with_content)",
            wikis::list_wiki_pages,
        )
        .post(
            "/api/v4/groups/{id}/wikis",
            Group(GroupAction::EditWiki),
            "Create a group wiki page (title, content, format: markdown)",
            wikis::create_wiki_page.layer(text_limit()),
        )
        .post(
            "/api/v4/groups/{id}/wikis/attachments",
            Group(GroupAction::EditWiki),
            "Attach a file to the group's wiki (multipart file; branch), kept under uploads/",
            wikis::upload_wiki_attachment.layer(axum::extract::DefaultBodyLimit::max(
                gantry_core::plan::wiki::MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
        .get(
            "/api/v4/groups/{id}/wikis/{slug}",
            Group(GroupAction::ReadWiki),
            "A group wiki page by its slug (version, render_html)",
            wikis::get_wiki_page,
        )
        .put(
            "/api/v4/groups/{id}/wikis/{slug}",
            Group(GroupAction::EditWiki),
            "Edit a group wiki page (title moves it, content, format)",
            wikis::update_wiki_page.layer(text_limit()),
        )
        .delete(
            "/api/v4/groups/{id}/wikis/{slug}",
            Group(GroupAction::EditWiki),
            "Delete a group wiki page",
            wikis::delete_wiki_page,
        )
        .get(
            "/api/v4/groups/{id}/iterations",
            Group(GroupAction::Read),
            "List the group's iterations and, unless include_ancestors=false, those of the groups above it \
             (state: opened, upcoming, current, closed, all; search; include_descendants; updated_before/after)",
            iterations::list_group_iterations,
        )
        .get(
            "/api/v4/groups/{id}/iterations/{iteration_id}",
            Group(GroupAction::Read),
            "Get an iteration of the group or of a group above it",
            iterations::get_iteration,
        )
        .put(
            "/api/v4/groups/{id}/iterations/{iteration_id}",
            Group(GroupAction::ManageIterations),
            "Edit an iteration of the group (title, description; a manual cadence's start_date, due_date)",
            iterations::update_iteration,
        )
        .delete(
            "/api/v4/groups/{id}/iterations/{iteration_id}",
            Group(GroupAction::ManageIterations),
            "Delete an iteration of a manual cadence of the group (its issues are in none after)",
            iterations::delete_iteration,
        )
        .get(
            "/api/v4/groups/{id}/iterations/{iteration_id}/burnup",
            Group(GroupAction::Read),
            "An iteration's burnup and burndown: per day, its issues you may see (scope) and those closed, counted \
             and weighed",
            iterations::iteration_burnup,
        )
        .get(
            "/api/v4/groups/{id}/iterations/{iteration_id}/issues",
            Group(GroupAction::Read),
            "The issues of an iteration in the group's projects that you may see",
            iterations::list_iteration_issues,
        )
        .get(
            "/api/v4/groups/{id}/iteration_cadences",
            Group(GroupAction::Read),
            "List the group's iteration cadences and, unless include_ancestors=false, those of the groups above it",
            iterations::list_cadences,
        )
        .post(
            "/api/v4/groups/{id}/iteration_cadences",
            Group(GroupAction::ManageIterations),
            "Create an iteration cadence (title, start_date, duration_in_weeks 1-4, iterations_in_advance 1-10, \
             automatic, roll_over, description)",
            iterations::create_cadence,
        )
        .get(
            "/api/v4/groups/{id}/iteration_cadences/{cadence_id}",
            Group(GroupAction::Read),
            "Get an iteration cadence of the group",
            iterations::get_cadence,
        )
        .put(
            "/api/v4/groups/{id}/iteration_cadences/{cadence_id}",
            Group(GroupAction::ManageIterations),
            "Edit an iteration cadence (the fields of create; a new length re-dates the iterations not started)",
            iterations::update_cadence,
        )
        .delete(
            "/api/v4/groups/{id}/iteration_cadences/{cadence_id}",
            Group(GroupAction::ManageIterations),
            "Delete an iteration cadence and its iterations (their issues are in none after)",
            iterations::delete_cadence,
        )
        .post(
            "/api/v4/groups/{id}/iteration_cadences/{cadence_id}/iterations",
            Group(GroupAction::ManageIterations),
            "Add an iteration to a manual cadence (title, description, start_date, due_date)",
            iterations::create_iteration,
        )
        .get(
            "/api/v4/groups/{id}/milestones",
            Group(GroupAction::Read),
            "List the group's milestones (state, title, search, iids[], include_ancestors)",
            milestones::list_group_milestones,
        )
        .post(
            "/api/v4/groups/{id}/milestones",
            Group(GroupAction::ManageMilestones),
            "Create a group milestone (title, description, start_date, due_date)",
            milestones::create_group_milestone,
        )
        .get(
            "/api/v4/groups/{id}/milestones/{milestone_id}",
            Group(GroupAction::Read),
            "Get a group milestone",
            milestones::get_group_milestone,
        )
        .put(
            "/api/v4/groups/{id}/milestones/{milestone_id}",
            Group(GroupAction::ManageMilestones),
            "Edit, close or reopen a group milestone (title, description, start_date, due_date, \
             state_event close or activate)",
            milestones::update_group_milestone,
        )
        .delete(
            "/api/v4/groups/{id}/milestones/{milestone_id}",
            Group(GroupAction::ManageMilestones),
            "Delete a group milestone (its issues are in none after)",
            milestones::delete_group_milestone,
        )
        .get(
            "/api/v4/groups/{id}/milestones/{milestone_id}/burnup",
            Group(GroupAction::Read),
            "A group milestone's burnup and burndown (it needs a start and a due date)",
            milestones::group_milestone_burnup,
        )
        .get(
            "/api/v4/groups/{id}/milestones/{milestone_id}/issues",
            Group(GroupAction::Read),
            "The issues of a group milestone in the group's projects that you may see",
            milestones::list_group_milestone_issues,
        )
        .get(
            "/api/v4/groups/{id}/milestones/{milestone_id}/merge_requests",
            Group(GroupAction::Read),
            "The merge requests of a group milestone (none until merge requests exist)",
            milestones::list_group_milestone_merge_requests,
        )
        .get(
            "/api/v4/groups/{id}/epics",
            Group(GroupAction::Read),
            "List the group's epics you may see, with its subgroups' unless include_descendant_groups=false (state, \
             labels, search, author_id, author_username, confidential, iids[], order_by, sort)",
            epics::list_epics,
        )
        .post(
            "/api/v4/groups/{id}/epics",
            Group(GroupAction::ManageEpics),
            "Create an epic (title, description, labels, confidential, start_date_is_fixed, start_date_fixed, \
             due_date_is_fixed, due_date_fixed, parent_id)",
            epics::create_epic,
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}",
            Group(GroupAction::Read),
            "Get an epic (confidential ones: Reporters and above)",
            epics::get_epic,
        )
        .put(
            "/api/v4/groups/{id}/epics/{epic_iid}",
            Group(GroupAction::ManageEpics),
            "Edit, close or reopen an epic (the fields of create, add_labels, remove_labels, state_event close or \
             reopen)",
            epics::update_epic,
        )
        .delete(
            "/api/v4/groups/{id}/epics/{epic_iid}",
            Group(GroupAction::DeleteEpics),
            "Delete an epic (its child epics go to the top, its issues are in none)",
            epics::delete_epic,
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/notes",
            Group(GroupAction::Read),
            "List an epic's notes (the epic named by its id, as GitLab's notes API does; sort, order_by)",
            epic_notes::list_notes,
        )
        .post(
            "/api/v4/groups/{id}/epics/{epic_iid}/notes",
            Group(GroupAction::Read),
            "Comment on an epic (body; the epic by its id)",
            epic_notes::create_note.layer(text_limit()),
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/notes/{note_id}",
            Group(GroupAction::Read),
            "Get a note of an epic (the epic by its id)",
            epic_notes::get_note,
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/notes/{note_id}/versions",
            Group(GroupAction::Read),
            "The texts an edited comment on an epic had, newest first (the epic by its id)",
            epic_notes::note_versions,
        )
        .put(
            "/api/v4/groups/{id}/epics/{epic_iid}/notes/{note_id}",
            NoteAuthor,
            "Edit your comment on an epic (body)",
            epic_notes::update_note.layer(text_limit()),
        )
        .delete(
            "/api/v4/groups/{id}/epics/{epic_iid}/notes/{note_id}",
            NoteAuthor,
            "Delete your comment on an epic",
            epic_notes::delete_note,
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions",
            Group(GroupAction::Read),
            "List an epic's discussions: comments and threads with their replies (the epic by its id)",
            epic_notes::list_discussions,
        )
        .post(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions",
            Group(GroupAction::Read),
            "Start a thread on an epic (body)",
            epic_notes::create_discussion.layer(text_limit()),
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions/{discussion_id}",
            Group(GroupAction::Read),
            "Get a discussion of an epic",
            epic_notes::get_discussion,
        )
        .put(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions/{discussion_id}",
            Group(GroupAction::ManageEpics),
            "Resolve or reopen a thread of an epic (resolved; Reporters, or who started it)",
            epic_notes::resolve_discussion,
        )
        .post(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions/{discussion_id}/notes",
            Group(GroupAction::Read),
            "Reply in a discussion of an epic (body)",
            epic_notes::reply.layer(text_limit()),
        )
        .put(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions/{discussion_id}/notes/{note_id}",
            NoteAuthor,
            "Edit your note in a discussion of an epic (body), or resolve the thread (resolved)",
            epic_notes::update_discussion_note.layer(text_limit()),
        )
        .delete(
            "/api/v4/groups/{id}/epics/{epic_iid}/discussions/{discussion_id}/notes/{note_id}",
            NoteAuthor,
            "Delete your note in a discussion of an epic",
            epic_notes::delete_discussion_note,
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/issues",
            Group(GroupAction::Read),
            "The epic's issues that you may see, each with its epic_issue_id",
            epics::list_epic_issues,
        )
        .post(
            "/api/v4/groups/{id}/epics/{epic_iid}/issues/{issue_id}",
            Group(GroupAction::ManageEpics),
            "Put an issue (by id, of a project of the group or its subgroups, that you may see) in the epic",
            epics::add_epic_issue,
        )
        .delete(
            "/api/v4/groups/{id}/epics/{epic_iid}/issues/{issue_id}",
            Group(GroupAction::ManageEpics),
            "Take an issue out of the epic (issue_id here is its epic_issue_id, as GitLab's)",
            epics::remove_epic_issue,
        )
        .get(
            "/api/v4/groups/{id}/epics/{epic_iid}/epics",
            Group(GroupAction::Read),
            "The epic's child epics that you may see",
            epics::list_child_epics,
        )
        .post(
            "/api/v4/groups/{id}/epics/{epic_iid}/epics",
            Group(GroupAction::ManageEpics),
            "Create an epic of the group under this one (title and the fields of create)",
            epics::create_child_epic,
        )
        .post(
            "/api/v4/groups/{id}/epics/{epic_iid}/epics/{child_epic_id}",
            Group(GroupAction::ManageEpics),
            "Put an epic (by id, of the group or a subgroup) under this one: at most 7 levels, no cycles",
            epics::add_child_epic,
        )
        .delete(
            "/api/v4/groups/{id}/epics/{epic_iid}/epics/{child_epic_id}",
            Group(GroupAction::ManageEpics),
            "Take a child epic from under this one (it goes to the top)",
            epics::remove_child_epic,
        )
        .get(
            "/api/v4/projects/{id}/boards",
            Project(ProjectAction::ReadIssues),
            "List the project's issue boards (the first look makes one, Development)",
            boards::list_project_boards,
        )
        .post(
            "/api/v4/projects/{id}/boards",
            Project(ProjectAction::ManageBoards),
            "Create a project issue board (name)",
            boards::create_project_board,
        )
        .get(
            "/api/v4/projects/{id}/boards/{board_id}",
            Project(ProjectAction::ReadIssues),
            "Get a project issue board with its lists",
            boards::get_project_board,
        )
        .put(
            "/api/v4/projects/{id}/boards/{board_id}",
            Project(ProjectAction::ManageBoards),
            "Edit a project issue board (name, hide_backlog_list, hide_closed_list)",
            boards::update_project_board,
        )
        .delete(
            "/api/v4/projects/{id}/boards/{board_id}",
            Project(ProjectAction::ManageBoards),
            "Delete a project issue board with its lists",
            boards::delete_project_board,
        )
        .get(
            "/api/v4/projects/{id}/boards/{board_id}/lists",
            Project(ProjectAction::ReadIssues),
            "The lists of a project issue board (not the open and closed ones)",
            boards::list_project_board_lists,
        )
        .post(
            "/api/v4/projects/{id}/boards/{board_id}/lists",
            Project(ProjectAction::ManageBoards),
            "Add a list to a project issue board (label_id, milestone_id, assignee_id or iteration_id)",
            boards::create_project_board_list,
        )
        .get(
            "/api/v4/projects/{id}/boards/{board_id}/lists/{list_id}",
            Project(ProjectAction::ReadIssues),
            "Get a list of a project issue board",
            boards::get_project_board_list,
        )
        .put(
            "/api/v4/projects/{id}/boards/{board_id}/lists/{list_id}",
            Project(ProjectAction::ManageBoards),
            "Move a list of a project issue board (position, from 0)",
            boards::update_project_board_list,
        )
        .delete(
            "/api/v4/projects/{id}/boards/{board_id}/lists/{list_id}",
            Project(ProjectAction::ManageBoards),
            "Remove a list from a project issue board",
            boards::delete_project_board_list,
        )
        .get(
            "/api/v4/groups/{id}/boards",
            Group(GroupAction::Read),
            "List the group's issue boards (the first look makes one, Development)",
            boards::list_group_boards,
        )
        .post(
            "/api/v4/groups/{id}/boards",
            Group(GroupAction::ManageBoards),
            "Create a group issue board (name)",
            boards::create_group_board,
        )
        .get(
            "/api/v4/groups/{id}/boards/{board_id}",
            Group(GroupAction::Read),
            "Get a group issue board with its lists",
            boards::get_group_board,
        )
        .put(
            "/api/v4/groups/{id}/boards/{board_id}",
            Group(GroupAction::ManageBoards),
            "Edit a group issue board (name, hide_backlog_list, hide_closed_list)",
            boards::update_group_board,
        )
        .delete(
            "/api/v4/groups/{id}/boards/{board_id}",
            Group(GroupAction::ManageBoards),
            "Delete a group issue board with its lists",
            boards::delete_group_board,
        )
        .get(
            "/api/v4/groups/{id}/boards/{board_id}/lists",
            Group(GroupAction::Read),
            "The lists of a group issue board (not the open and closed ones)",
            boards::list_group_board_lists,
        )
        .post(
            "/api/v4/groups/{id}/boards/{board_id}/lists",
            Group(GroupAction::ManageBoards),
            "Add a list to a group issue board (label_id, milestone_id, assignee_id or iteration_id)",
            boards::create_group_board_list,
        )
        .get(
            "/api/v4/groups/{id}/boards/{board_id}/lists/{list_id}",
            Group(GroupAction::Read),
            "Get a list of a group issue board",
            boards::get_group_board_list,
        )
        .put(
            "/api/v4/groups/{id}/boards/{board_id}/lists/{list_id}",
            Group(GroupAction::ManageBoards),
            "Move a list of a group issue board (position, from 0)",
            boards::update_group_board_list,
        )
        .delete(
            "/api/v4/groups/{id}/boards/{board_id}/lists/{list_id}",
            Group(GroupAction::ManageBoards),
            "Remove a list from a group issue board",
            boards::delete_group_board_list,
        )
        .scope(RouteScope::Runner)
        .post("/api/v4/runners/verify", RunnerToken, "Check a runner token (runners)", runner_protocol::verify)
        .delete("/api/v4/runners", RunnerToken, "A runner removes itself (`token`)", runner_protocol::unregister)
        .post(
            "/api/v4/jobs/request",
            RunnerToken,
            "Ask for a job, held open until one is pending (runners)",
            runner_protocol::request_job,
        )
        .put(
            "/api/v4/jobs/{job_id}",
            JobToken,
            "Report a job's state or heartbeat (JOB-TOKEN)",
            runner_protocol::update_job,
        )
        .patch(
            "/api/v4/jobs/{job_id}/trace",
            JobToken,
            "Append to a job's log (JOB-TOKEN, Content-Range)",
            runner_protocol::append_trace,
        )
        .post(
            "/api/v4/jobs/{job_id}/artifacts",
            JobToken,
            "Upload a job's artifacts or a report as a zip body (JOB-TOKEN; artifact_type, expire_in)",
            runner_protocol::upload_artifacts,
        )
        .get(
            "/api/v4/jobs/{job_id}/artifacts",
            JobToken,
            "Download a job's artifacts for a dependent job (JOB-TOKEN)",
            runner_protocol::download_artifacts,
        )
        .get(
            "/api/v4/jobs/{job_id}/cache",
            JobToken,
            "Download a cache (JOB-TOKEN; key)",
            runner_protocol::download_cache,
        )
        .put(
            "/api/v4/jobs/{job_id}/cache",
            JobToken,
            "Save a cache as a zip body (JOB-TOKEN; key)",
            runner_protocol::upload_cache,
        )
        .scope(RouteScope::Ui)
        .get("/", Anyone, "Home: the dashboard, or the sign-in page", ui::dashboard::home)
        .get("/uploads/-/system/user/avatar/{user_id}/{filename}", Anyone, "A user's avatar", avatars::user_avatar)
        .get(
            "/uploads/-/system/group/avatar/{id}/{filename}",
            Group(GroupAction::Read),
            "A group's avatar",
            avatars::group_avatar,
        )
        .get(
            "/uploads/-/system/project/avatar/{id}/{filename}",
            Project(ProjectAction::Read),
            "A project's avatar",
            avatars::project_avatar,
        )
        .get(
            "/uploads/-/system/projects/topic/avatar/{topic_id}/{filename}",
            Anyone,
            "A topic's avatar",
            avatars::topic_avatar,
        )
        .get("/users/sign_in", Anyone, "Sign-in form", ui::sessions::sign_in_form)
        .post("/users/sign_in", Anyone, "Sign in", ui::sessions::sign_in)
        .get("/users/sign_up", Anyone, "Sign-up form", ui::sessions::sign_up_form)
        .post("/users/sign_up", Anyone, "Create an account", ui::sessions::sign_up)
        .post("/users/sign_out", Anyone, "Sign out", ui::sessions::sign_out)
        .get("/dashboard", SignedIn, "Your projects and groups", ui::dashboard::dashboard)
        .get("/dashboard/todos", SignedIn, "Your to-do list (state=done for the done ones)", ui::plan::todos::list)
        .post("/dashboard/todos/done", SignedIn, "Mark all your pending to-dos as done", ui::plan::todos::mark_all_done)
        .post("/dashboard/todos/{todo_id}/done", TodoOwner, "Mark one of your to-dos as done", ui::plan::todos::mark_done)
        .get("/-/unsubscribe/{key}", MailLink, "What a mail's unsubscribe link stops", ui::plan::todos::unsubscribe_page)
        .post(
            "/-/unsubscribe/{key}",
            MailLink,
            "Stop (or, resubscribe=yes, restart) the mail a link names; mail clients' one-click too",
            ui::plan::todos::unsubscribe,
        )
        .get("/explore", Anyone, "Projects you can see", ui::dashboard::explore)
        .get(
            "/search",
            Anyone,
            "Search what you may see: projects, groups, users, code and commits (search, scope, project_id or \
             group_id, ref, page)",
            ui::search::search,
        )
        .get(
            "/explore/catalog",
            Anyone,
            "The CI/CD Catalog: catalog resources you can see (search, page)",
            ui::catalog::explore_catalog,
        )
        .get(
            "/explore/catalog/{*path}",
            Project(ProjectAction::ReadCode),
            "A CI/CD Catalog resource: its components, their inputs, and its versions",
            ui::catalog::catalog_resource,
        )
        .get("/groups/new", SignedIn, "New group form", ui::groups::new_group_form)
        .post("/groups", Parent(GroupAction::CreateSubgroup), "Create a group", ui::groups::create_group)
        .get("/projects/new", SignedIn, "New project form", ui::projects::new_project_form)
        .post("/projects", Parent(GroupAction::CreateProject), "Create a project", ui::projects::create_project)
        .get("/-/profile", SignedIn, "Profile settings", ui::profile::profile)
        .post("/-/profile", SignedIn, "Update profile", ui::profile::update_profile)
        .post(
            "/-/profile/password",
            SignedIn,
            "Change password (ends your other sessions)",
            ui::profile::change_password,
        )
        .post(
            "/-/profile/sign_out_everywhere",
            SignedIn,
            "End all your sessions, this one included",
            ui::sessions::sign_out_everywhere,
        )
        .post("/-/profile/avatar", SignedIn, "Upload or remove your avatar", avatars::save_profile_avatar)
        .get("/-/profile/personal_access_tokens", SignedIn, "Personal access tokens", ui::profile::tokens)
        .post(
            "/-/profile/personal_access_tokens",
            SignedIn,
            "Create a personal access token",
            ui::profile::create_token,
        )
        .post(
            "/-/profile/personal_access_tokens/{token_id}/revoke",
            TokenOwner,
            "Revoke a personal access token",
            ui::profile::revoke_token,
        )
        .get("/-/profile/keys", SignedIn, "SSH keys", ui::profile::keys)
        .post("/-/profile/keys", SignedIn, "Add an SSH key", ui::profile::add_key)
        .post("/-/profile/keys/{key_id}/delete", TokenOwner, "Delete an SSH key", ui::profile::delete_key)
        .post("/-/profile/emails", SignedIn, "Add a secondary e-mail address", ui::profile::add_email)
        .post(
            "/-/profile/emails/{email_id}/delete",
            TokenOwner,
            "Remove a secondary e-mail address",
            ui::profile::delete_email,
        )
        .post("/-/profile/status", SignedIn, "Set or clear your status", ui::profile::set_status)
        .get("/-/profile/gpg_keys", SignedIn, "GPG keys", ui::profile::gpg_keys::list)
        .post("/-/profile/gpg_keys", SignedIn, "Add a GPG key", ui::profile::gpg_keys::add)
        .post("/-/profile/gpg_keys/{gpg_key_id}/delete", TokenOwner, "Delete a GPG key", ui::profile::gpg_keys::delete)
        .get("/-/profile/notifications", SignedIn, "Your notification level for all mail", ui::plan::todos::settings)
        .post("/-/profile/notifications", SignedIn, "Set your notification level", ui::plan::todos::save_settings)
        .get("/admin", Admin, "Admin area: users", ui::admin::users)
        .post("/admin/users", Admin, "Create a user", ui::admin::create_user)
        .post("/admin/users/{user_id}/block", Admin, "Block a user", ui::admin::block_user)
        .post("/admin/users/{user_id}/unblock", Admin, "Unblock a user", ui::admin::unblock_user)
        .post("/admin/users/{user_id}/ban", Admin, "Ban a user", ui::admin::ban_user)
        .post("/admin/users/{user_id}/unban", Admin, "Unban a user", ui::admin::unban_user)
        .post("/admin/users/{user_id}/deactivate", Admin, "Deactivate a user", ui::admin::deactivate_user)
        .post("/admin/users/{user_id}/activate", Admin, "Activate a deactivated user", ui::admin::activate_user)
        .post("/admin/users/{user_id}/approve", Admin, "Approve a sign-up", ui::admin::approve_user)
        .post("/admin/users/{user_id}/reject", Admin, "Reject and delete a sign-up", ui::admin::reject_user)
        .post(
            "/admin/users/{user_id}/delete",
            Admin,
            "Delete a user and their personal projects",
            ui::admin::delete_user,
        )
        .get("/admin/ci_cd", Admin, "Instance CI/CD variables and every runner", ui::ci_settings::admin::admin_settings)
        .post(
            "/admin/ci_cd/variables",
            Admin,
            "Add or change an instance variable",
            ui::ci_settings::admin::save_admin_variable,
        )
        .post(
            "/admin/ci_cd/variables/delete",
            Admin,
            "Delete an instance variable",
            ui::ci_settings::admin::delete_admin_variable,
        )
        .post(
            "/admin/runners/{runner_id}",
            Admin,
            "Pause, resume or delete a runner",
            ui::ci_settings::admin::change_runner,
        )
        .get("/admin/background_jobs", Admin, "Background job queue", ui::admin::background_jobs)
        .post(
            "/admin/background_jobs/{job_id}/retry",
            Admin,
            "Queue a failed background job again",
            ui::admin::retry_background_job,
        )
        .post(
            "/admin/background_jobs/{job_id}/discard",
            Admin,
            "Discard a failed background job",
            ui::admin::discard_background_job,
        )
        .get("/admin/settings", Admin, "Instance settings", ui::admin::settings)
        .post("/admin/settings", Admin, "Save instance settings", ui::admin::save_settings)
        .post("/admin/settings/test_mail", Admin, "Send a test e-mail (to)", ui::admin::send_test_mail)
}

/// Pages under a group's or user's path (`/{namespace}/-/…`); paths are relative to it.
fn group_pages() -> Table {
    Table::new(RouteScope::GroupPage)
        .get("/", Group(GroupAction::Read), "Group (or user) overview", ui::groups::show)
        .post(
            "/notifications",
            Group(GroupAction::Read),
            "Set your notification level for the group",
            ui::plan::todos::save_group_level,
        )
        .get("/wikis", Group(GroupAction::ReadWiki), "The group's wiki: its home page, or its pages", ui::plan::wiki::group_index)
        .get(
            "/wikis/{*rest}",
            Group(GroupAction::ReadWiki),
            "A group wiki page (version_id), -/pages, -/new, a page's -/edit, -/history, -/diff (version_id) and -/delete, or an attachment's bytes",
            ui::plan::wiki::group_get,
        )
        .post(
            "/wikis/{*rest}",
            Group(GroupAction::EditWiki),
            "Create (-/new) or save (<page>/-/edit) a group wiki page, a multipart form with an optional attachment; delete one (<page>/-/delete, confirm=yes)",
            ui::plan::wiki::group_post.layer(axum::extract::DefaultBodyLimit::max(
                gantry_core::plan::wiki::MAX_ATTACHMENT_BYTES + gantry_core::plan::wiki::MAX_PAGE_BYTES + 64 * 1024,
            )),
        )
        .get(
            "/cadences",
            Group(GroupAction::Read),
            "The group's iteration cadences and those of the groups above it, with their current, upcoming and past iterations",
            ui::plan::cadence_pages::index,
        )
        .post(
            "/cadences",
            Group(GroupAction::ManageIterations),
            "Create an iteration cadence (title, start_date, duration_in_weeks, iterations_in_advance, automatic, roll_over, description)",
            ui::plan::cadence_pages::create_cadence,
        )
        .get(
            "/cadences/{cadence_id}/edit",
            Group(GroupAction::ManageIterations),
            "The form that edits an iteration cadence of the group",
            ui::plan::cadence_pages::edit_cadence,
        )
        .post(
            "/cadences/{cadence_id}/edit",
            Group(GroupAction::ManageIterations),
            "Save an iteration cadence of the group",
            ui::plan::cadence_pages::save_cadence,
        )
        .post(
            "/cadences/{cadence_id}/delete",
            Group(GroupAction::ManageIterations),
            "Delete an iteration cadence and its iterations (confirm=yes; without it, a page asks)",
            ui::plan::cadence_pages::delete_cadence,
        )
        .post(
            "/cadences/{cadence_id}/iterations",
            Group(GroupAction::ManageIterations),
            "Add an iteration to a manual cadence (title, start_date, due_date, description)",
            ui::plan::cadence_pages::create_iteration,
        )
        .get(
            "/iterations/{iteration_id}",
            Group(GroupAction::Read),
            "An iteration: its dates, progress and issues in the group's projects",
            ui::plan::iterations::show,
        )
        .get(
            "/iterations/{iteration_id}/edit",
            Group(GroupAction::ManageIterations),
            "The form that edits an iteration of the group",
            ui::plan::iterations::edit_iteration,
        )
        .post(
            "/iterations/{iteration_id}/edit",
            Group(GroupAction::ManageIterations),
            "Save an iteration of the group (title, description; a manual cadence's start_date, due_date)",
            ui::plan::iterations::save_iteration,
        )
        .post(
            "/iterations/{iteration_id}/delete",
            Group(GroupAction::ManageIterations),
            "Delete an iteration of a manual cadence (confirm=yes; without it, a page asks)",
            ui::plan::iterations::delete_iteration,
        )
        .get(
            "/boards",
            Group(GroupAction::Read),
            "The group's first issue board (made on the first look; filters: label_name, assignee_username, milestone_title, weight, search)",
            ui::plan::board_pages::group_index,
        )
        .post(
            "/boards",
            Group(GroupAction::ManageBoards),
            "Create a group issue board (name)",
            ui::plan::board_pages::group_create,
        )
        .get(
            "/boards/{board_id}",
            Group(GroupAction::Read),
            "A group issue board: Open, its lists and Closed, with their cards (the same filters)",
            ui::plan::board_pages::group_show,
        )
        .post(
            "/boards/{board_id}/edit",
            Group(GroupAction::ManageBoards),
            "Rename a group issue board, show or hide its Open and Closed lists",
            ui::plan::board_pages::group_save,
        )
        .post(
            "/boards/{board_id}/delete",
            Group(GroupAction::ManageBoards),
            "Delete a group issue board (confirm=yes; without it, a page asks)",
            ui::plan::board_pages::group_delete,
        )
        .post(
            "/boards/{board_id}/lists",
            Group(GroupAction::ManageBoards),
            "Add a list to a group issue board (list: label:ID or milestone:ID, or username)",
            ui::plan::board_pages::group_add_list,
        )
        .post(
            "/boards/{board_id}/lists/{list_id}/delete",
            Group(GroupAction::ManageBoards),
            "Remove a list from a group issue board",
            ui::plan::board_pages::group_remove_list,
        )
        .post(
            "/boards/{board_id}/issues/{issue_id}/move",
            Group(GroupAction::ManageBoards),
            "Move a card of a group issue board (from, to: open, closed or a list; move_before_id, move_after_id): changes its issue as the lists mean",
            ui::plan::board_pages::group_move_card,
        )
        .get("/labels", Group(GroupAction::Read), "The group's labels and its ancestors'", ui::plan::labels::list_group)
        .post("/labels", Group(GroupAction::ManageLabels), "Create a group label", ui::plan::labels::create_group)
        .get("/labels/{label_id}/edit", Group(GroupAction::ManageLabels), "Edit a group label", ui::plan::labels::edit_group)
        .post("/labels/{label_id}/edit", Group(GroupAction::ManageLabels), "Save a group label", ui::plan::labels::save_group)
        .post(
            "/labels/{label_id}/delete",
            Group(GroupAction::ManageLabels),
            "Delete a group label (confirm=yes; without it, a page asks)",
            ui::plan::labels::delete_group,
        )
        .post(
            "/labels/{label_id}/subscription",
            Group(GroupAction::Read),
            "Get mail when any issue gets a label, or stop (subscribed=yes|no)",
            ui::plan::labels::subscription_group,
        )
        .get(
            "/milestones",
            Group(GroupAction::Read),
            "The group's milestones (state: opened, closed, all)",
            ui::plan::group_milestones::list,
        )
        .post(
            "/milestones",
            Group(GroupAction::ManageMilestones),
            "Create a group milestone",
            ui::plan::group_milestones::create,
        )
        .get(
            "/milestones/{milestone_iid}",
            Group(GroupAction::Read),
            "A group milestone with its progress and its issues in the group's projects",
            ui::plan::group_milestones::show,
        )
        .get(
            "/milestones/{milestone_iid}/edit",
            Group(GroupAction::ManageMilestones),
            "Edit a group milestone",
            ui::plan::group_milestones::edit,
        )
        .post(
            "/milestones/{milestone_iid}/edit",
            Group(GroupAction::ManageMilestones),
            "Save a group milestone",
            ui::plan::group_milestones::save,
        )
        .post(
            "/milestones/{milestone_iid}/close",
            Group(GroupAction::ManageMilestones),
            "Close a group milestone",
            ui::plan::group_milestones::close,
        )
        .post(
            "/milestones/{milestone_iid}/reopen",
            Group(GroupAction::ManageMilestones),
            "Reopen a group milestone",
            ui::plan::group_milestones::reopen,
        )
        .post(
            "/milestones/{milestone_iid}/delete",
            Group(GroupAction::ManageMilestones),
            "Delete a group milestone (confirm=yes; without it, a page asks)",
            ui::plan::group_milestones::delete,
        )
        .get(
            "/epics",
            Group(GroupAction::Read),
            "The group's epics that you may see (state: opened, closed, all; search)",
            ui::plan::epics::list,
        )
        .post("/epics", Group(GroupAction::ManageEpics), "Create an epic", ui::plan::epics::create)
        .get(
            "/epics/{epic_iid}",
            Group(GroupAction::Read),
            "An epic with its dates, progress, child epics and the issues that you may see",
            ui::plan::epics::show,
        )
        .get("/epics/{epic_iid}/edit", Group(GroupAction::ManageEpics), "Edit an epic", ui::plan::epics::edit)
        .post("/epics/{epic_iid}/edit", Group(GroupAction::ManageEpics), "Save an epic", ui::plan::epics::save)
        .get(
            "/epics/{epic_iid}/notes/{note_id}/history",
            Group(GroupAction::Read),
            "What an edited comment on an epic said before, edit by edit",
            ui::plan::note_history::epic_note,
        )
        .post("/epics/{epic_iid}/close", Group(GroupAction::ManageEpics), "Close an epic", ui::plan::epics::close)
        .post("/epics/{epic_iid}/reopen", Group(GroupAction::ManageEpics), "Reopen an epic", ui::plan::epics::reopen)
        .post(
            "/epics/{epic_iid}/notes",
            Group(GroupAction::Read),
            "Comment on an epic (body; thread=yes starts a thread)",
            ui::plan::epic_notes::comment.layer(text_limit()),
        )
        .post(
            "/epics/{epic_iid}/notes/{note_id}/edit",
            NoteAuthor,
            "Save your comment on an epic (body)",
            ui::plan::epic_notes::edit_note.layer(text_limit()),
        )
        .post(
            "/epics/{epic_iid}/notes/{note_id}/delete",
            NoteAuthor,
            "Delete your comment on an epic",
            ui::plan::epic_notes::delete_note,
        )
        .post(
            "/epics/{epic_iid}/discussions/{discussion_id}/reply",
            Group(GroupAction::Read),
            "Reply in a thread of an epic (body)",
            ui::plan::epic_notes::reply.layer(text_limit()),
        )
        .post(
            "/epics/{epic_iid}/discussions/{discussion_id}/resolve",
            Group(GroupAction::ManageEpics),
            "Resolve or reopen a thread of an epic (resolved=yes|no; Reporters, or who started it)",
            ui::plan::epic_notes::resolve,
        )
        .post(
            "/epics/{epic_iid}/delete",
            Group(GroupAction::DeleteEpics),
            "Delete an epic (confirm=yes; without it, a page asks)",
            ui::plan::epics::delete,
        )
        .post(
            "/epics/{epic_iid}/issues",
            Group(GroupAction::ManageEpics),
            "Add an issue to an epic (issue: group/project#12)",
            ui::plan::epics::add_issue,
        )
        .post(
            "/epics/{epic_iid}/issues/{epic_issue_id}/remove",
            Group(GroupAction::ManageEpics),
            "Remove an issue from an epic",
            ui::plan::epics::remove_issue,
        )
        .post(
            "/epics/{epic_iid}/epics",
            Group(GroupAction::ManageEpics),
            "Add a child epic (epic: &5 or group/subgroup&5)",
            ui::plan::epics::add_child,
        )
        .post(
            "/epics/{epic_iid}/epics/{child_epic_id}/remove",
            Group(GroupAction::ManageEpics),
            "Remove a child epic (it goes to the top)",
            ui::plan::epics::remove_child,
        )
        .get(
            "/roadmap",
            Group(GroupAction::Read),
            "The group's epics that you may see on a time line (state: opened or all)",
            ui::plan::roadmap::show,
        )
        .get("/members", Group(GroupAction::Read), "Group members", ui::members::group_members)
        .post("/members", Group(GroupAction::ManageMembers), "Add a group member", ui::members::add_group_member)
        .post(
            "/members/{user_id}/update",
            Group(GroupAction::ManageMembers),
            "Change a group member's role",
            ui::members::update_group_member,
        )
        .post(
            "/members/{user_id}/remove",
            Group(GroupAction::ManageMembers),
            "Remove a group member",
            ui::members::remove_group_member,
        )
        .post(
            "/members/share",
            Group(GroupAction::ManageMembers),
            "Share the group with a group (invite a group)",
            ui::members::share_group,
        )
        .post(
            "/members/share/{group_id}/remove",
            Group(GroupAction::ManageMembers),
            "Stop sharing the group with a group",
            ui::members::unshare_group,
        )
        .post(
            "/transfer",
            Group(GroupAction::Transfer),
            "Move the group under another group or to the top level",
            ui::groups::transfer,
        )
        .get(
            "/settings/repository",
            Group(GroupAction::ManageProtectedBranches),
            "Group protected branches (for every project below it)",
            ui::group_repository::repository_settings,
        )
        .post(
            "/settings/repository/protected_branches",
            Group(GroupAction::ManageProtectedBranches),
            "Protect a branch in every project of the group",
            ui::group_repository::protect_branch,
        )
        .post(
            "/settings/repository/protected_branches/update",
            Group(GroupAction::ManageProtectedBranches),
            "Change a group protected branch",
            ui::group_repository::update_protected_branch,
        )
        .post(
            "/settings/repository/protected_branches/delete",
            Group(GroupAction::ManageProtectedBranches),
            "Unprotect a group protected branch",
            ui::group_repository::unprotect_branch,
        )
        .get("/settings", Group(GroupAction::Update), "Group settings", ui::groups::settings)
        .post("/settings", Group(GroupAction::Update), "Save group settings", ui::groups::save_settings)
        .post(
            "/settings/avatar",
            Group(GroupAction::Update),
            "Upload or remove the group's avatar",
            avatars::save_group_avatar,
        )
        .post("/delete", Group(GroupAction::Delete), "Delete the group", ui::groups::delete)
        .get(
            "/settings/ci_cd",
            Group(GroupAction::ManageCi),
            "Group CI/CD variables",
            ui::ci_settings::group::group_settings,
        )
        .post(
            "/settings/ci_cd/variables",
            Group(GroupAction::ManageCi),
            "Add or change a group variable",
            ui::ci_settings::group::save_group_variable,
        )
        .post(
            "/settings/ci_cd/variables/delete",
            Group(GroupAction::ManageCi),
            "Delete a group variable",
            ui::ci_settings::group::delete_group_variable,
        )
        .get(
            "/settings/deploy",
            Group(GroupAction::ReadDeployTokens),
            "Group deploy tokens",
            ui::deploy_settings::group_page,
        )
        .post(
            "/settings/deploy/tokens",
            Group(GroupAction::ManageDeployTokens),
            "Create a group deploy token (shown once)",
            ui::deploy_settings::create_group_token,
        )
        .post(
            "/settings/deploy/tokens/revoke",
            Group(GroupAction::ManageDeployTokens),
            "Revoke a group deploy token",
            ui::deploy_settings::revoke_group_token,
        )
        .get(
            "/settings/access_tokens",
            Group(GroupAction::ManageAccessTokens),
            "Group access tokens",
            ui::access_tokens::group_page,
        )
        .post(
            "/settings/access_tokens",
            Group(GroupAction::ManageAccessTokens),
            "Create a group access token (shown once)",
            ui::access_tokens::create_group_token,
        )
        .post(
            "/settings/access_tokens/rotate",
            Group(GroupAction::ManageAccessTokens),
            "Rotate a group access token (the new one shown once)",
            ui::access_tokens::rotate_group_token,
        )
        .post(
            "/settings/access_tokens/revoke",
            Group(GroupAction::ManageAccessTokens),
            "Revoke a group access token",
            ui::access_tokens::revoke_group_token,
        )
}

/// Pages under a project's path (`/{namespace}/{project}/-/…`); paths are relative to it.
fn project_pages() -> Table {
    Table::new(RouteScope::ProjectPage)
        .get("/", Project(ProjectAction::Read), "Project overview", ui::projects::show)
        .post(
            "/notifications",
            Project(ProjectAction::Read),
            "Set your notification level for the project",
            ui::plan::todos::save_project_level,
        )
        .get("/members", Project(ProjectAction::Read), "Project members", ui::members::project_members)
        .post(
            "/members",
            Project(ProjectAction::ManageMembers),
            "Add a project member",
            ui::members::add_project_member,
        )
        .post(
            "/members/{user_id}/update",
            Project(ProjectAction::ManageMembers),
            "Change a project member's role",
            ui::members::update_project_member,
        )
        .post(
            "/members/{user_id}/remove",
            Project(ProjectAction::ManageMembers),
            "Remove a project member",
            ui::members::remove_project_member,
        )
        .post(
            "/members/share",
            Project(ProjectAction::ManageMembers),
            "Share the project with a group (invite a group)",
            ui::members::share_project,
        )
        .post(
            "/members/share/{group_id}/remove",
            Project(ProjectAction::ManageMembers),
            "Stop sharing the project with a group",
            ui::members::unshare_project,
        )
        // Plan: issues, their comments, labels.
        .get("/issues", Project(ProjectAction::ReadIssues), "Issues (state, search, label, milestone, assignee, sort, page)", ui::plan::issues::list)
        .post("/issues", Project(ProjectAction::CreateIssue), "Open an issue", ui::plan::issues::create_issue.layer(text_limit()))
        .get(
            "/issues/new",
            Project(ProjectAction::CreateIssue),
            "The new issue form (issuable_template: an issue template to start from)",
            ui::plan::issues::new_issue,
        )
        .post(
            "/issues/bulk_update",
            Project(ProjectAction::UpdateIssues),
            "Change the ticked issues at once (iids; state_event, add_label, remove_label, milestone_id, assignee)",
            ui::plan::bulk_edit::bulk_update,
        )
        .get("/issues/{issue_iid}", Project(ProjectAction::ReadIssues), "An issue with its comments", ui::plan::issue::show)
        .get(
            "/issues/{issue_iid}/descriptions/{version_id}/diff",
            Project(ProjectAction::ReadIssues),
            "What one edit changed in an issue's description, against the version before",
            ui::plan::description_versions::diff,
        )
        .get(
            "/issues/{issue_iid}/notes/{note_id}/history",
            Project(ProjectAction::ReadIssues),
            "What an edited comment on an issue said before, edit by edit",
            ui::plan::note_history::issue_note,
        )
        .get(
            "/issues/{issue_iid}/edit",
            Project(ProjectAction::UpdateIssues),
            "Edit an issue's title and description (its author and assignees too)",
            ui::plan::issue::edit,
        )
        .post(
            "/issues/{issue_iid}/edit",
            Project(ProjectAction::UpdateIssues),
            "Save an issue's title and description (its author and assignees too)",
            ui::plan::issue::save_edit.layer(text_limit()),
        )
        .post(
            "/issues/{issue_iid}/sidebar",
            Project(ProjectAction::UpdateIssues),
            "Save an issue's labels, assignees, due date, weight, confidentiality and lock",
            ui::plan::issue_sidebar::save_sidebar,
        )
        .post(
            "/issues/{issue_iid}/tasks",
            Project(ProjectAction::UpdateIssues),
            "Tick or untick a task box of an issue's description (index, checked, digest; its author and \
             assignees too)",
            ui::plan::issue::set_task,
        )
        .post(
            "/issues/{issue_iid}/close",
            Project(ProjectAction::UpdateIssues),
            "Close an issue (its author and assignees too)",
            ui::plan::issue::close,
        )
        .post(
            "/issues/{issue_iid}/reopen",
            Project(ProjectAction::UpdateIssues),
            "Reopen an issue (its author and assignees too)",
            ui::plan::issue::reopen,
        )
        .post(
            "/issues/{issue_iid}/delete",
            Project(ProjectAction::DeleteIssues),
            "Delete an issue (confirm=yes; without it, a page asks)",
            ui::plan::issue::delete,
        )
        .post("/issues/{issue_iid}/notes", Project(ProjectAction::CreateIssue), "Comment on an issue", ui::plan::issue::comment.layer(text_limit()))
        .post(
            "/issues/{issue_iid}/subscription",
            Project(ProjectAction::ReadIssues),
            "Turn mail about an issue on or off (subscribed=yes|no)",
            ui::plan::todos::save_subscription,
        )
        .post(
            "/issues/{issue_iid}/todo",
            Project(ProjectAction::ReadIssues),
            "Add a to-do on an issue (done=yes: mark yours on it as done)",
            ui::plan::todos::save_todo,
        )
        .post(
            "/issues/{issue_iid}/discussions/{discussion_id}/reply",
            Project(ProjectAction::CreateIssue),
            "Reply in a thread of an issue (body)",
            ui::plan::threads::reply.layer(text_limit()),
        )
        .post(
            "/issues/{issue_iid}/discussions/{discussion_id}/resolve",
            Project(ProjectAction::UpdateIssues),
            "Resolve or reopen a thread (resolved=yes|no; who may edit the issue, or started the thread)",
            ui::plan::threads::resolve,
        )
        .post(
            "/issues/{issue_iid}/links",
            Project(ProjectAction::UpdateIssues),
            "Link an issue to another (reference, link_type)",
            ui::plan::issue_links::add_link,
        )
        .post(
            "/issues/{issue_iid}/links/{issue_link_id}/delete",
            Project(ProjectAction::UpdateIssues),
            "Remove a link of an issue",
            ui::plan::issue_links::remove_link,
        )
        .post(
            "/issues/{issue_iid}/award",
            Project(ProjectAction::ReadIssues),
            "React to an issue or a comment with an emoji, or take the reaction back (name, note_id)",
            ui::plan::reactions::toggle_award,
        )
        .post("/issues/{issue_iid}/notes/{note_id}/edit", NoteAuthor, "Edit your comment", ui::plan::issue::edit_note.layer(text_limit()))
        .post("/issues/{issue_iid}/notes/{note_id}/delete", NoteAuthor, "Delete your comment", ui::plan::issue::delete_note)
        .get(
            "/labels",
            Project(ProjectAction::ReadIssues),
            "The project's labels and its groups', the prioritized first",
            ui::plan::labels::list_project,
        )
        .post("/labels", Project(ProjectAction::ManageLabels), "Create a project label", ui::plan::labels::create_project)
        .get(
            "/labels/{label_id}/edit",
            Project(ProjectAction::ManageLabels),
            "Edit a project label",
            ui::plan::labels::edit_project,
        )
        .post(
            "/labels/{label_id}/edit",
            Project(ProjectAction::ManageLabels),
            "Save a project label",
            ui::plan::labels::save_project,
        )
        .post(
            "/labels/{label_id}/delete",
            Project(ProjectAction::ManageLabels),
            "Delete a project label (confirm=yes; without it, a page asks)",
            ui::plan::labels::delete_project,
        )
        .post(
            "/labels/{label_id}/subscription",
            Project(ProjectAction::ReadIssues),
            "Get mail when an issue of the project gets a label, or stop (subscribed=yes|no)",
            ui::plan::labels::subscription_project,
        )
        .post(
            "/labels/{label_id}/priority",
            Project(ProjectAction::ManageLabels),
            "Prioritize a label, move it up or down among the prioritized, or remove its priority (step)",
            ui::plan::labels::priority,
        )
        .post(
            "/labels/{label_id}/promote",
            Project(ProjectAction::ManageLabels),
            "Make a project label its group's (confirm=yes; without it, a page says what merges)",
            ui::plan::labels::promote,
        )
        .get(
            "/boards",
            Project(ProjectAction::ReadIssues),
            "The project's first issue board (made on the first look; filters: label_name, assignee_username, milestone_title, weight, search)",
            ui::plan::board_pages::project_index,
        )
        .post(
            "/boards",
            Project(ProjectAction::ManageBoards),
            "Create a project issue board (name)",
            ui::plan::board_pages::project_create,
        )
        .get(
            "/boards/{board_id}",
            Project(ProjectAction::ReadIssues),
            "A project issue board: Open, its lists and Closed, with their cards (the same filters)",
            ui::plan::board_pages::project_show,
        )
        .post(
            "/boards/{board_id}/edit",
            Project(ProjectAction::ManageBoards),
            "Rename a project issue board, show or hide its Open and Closed lists",
            ui::plan::board_pages::project_save,
        )
        .post(
            "/boards/{board_id}/delete",
            Project(ProjectAction::ManageBoards),
            "Delete a project issue board (confirm=yes; without it, a page asks)",
            ui::plan::board_pages::project_delete,
        )
        .post(
            "/boards/{board_id}/lists",
            Project(ProjectAction::ManageBoards),
            "Add a list to a project issue board (list: label:ID or milestone:ID, or username)",
            ui::plan::board_pages::project_add_list,
        )
        .post(
            "/boards/{board_id}/lists/{list_id}/delete",
            Project(ProjectAction::ManageBoards),
            "Remove a list from a project issue board",
            ui::plan::board_pages::project_remove_list,
        )
        .post(
            "/boards/{board_id}/issues/{issue_id}/move",
            Project(ProjectAction::UpdateIssues),
            "Move a card of a project issue board (from, to: open, closed or a list; move_before_id, move_after_id): changes its issue as the lists mean",
            ui::plan::board_pages::project_move_card,
        )
        .get(
            "/uploads/{secret}/{filename}",
            Project(ProjectAction::ReadIssues),
            "A file attached to the project's issues or comments (images shown, text as text, the rest downloaded)",
            ui::plan::uploads::show,
        )
        .post(
            "/issues/{issue_iid}/uploads",
            Project(ProjectAction::CreateIssue),
            "Upload a file from an issue's page (multipart file); the notice gives its Markdown",
            ui::plan::uploads::upload.layer(axum::extract::DefaultBodyLimit::max(
                gantry_core::plan::uploads::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        )
        .get("/wikis", Project(ProjectAction::ReadWiki), "The wiki: its home page, or its pages", ui::plan::wiki::index)
        .get(
            "/wikis/{*rest}",
            Project(ProjectAction::ReadWiki),
            "A wiki page (version_id), -/pages, -/new, a page's -/edit, -/history, -/diff (version_id) and -/delete, or an attachment's bytes",
            ui::plan::wiki::get,
        )
        .post(
            "/wikis/{*rest}",
            Project(ProjectAction::EditWiki),
            "Create (-/new) or save (<page>/-/edit) a wiki page, a multipart form with an optional attachment; delete one (<page>/-/delete, confirm=yes)",
            ui::plan::wiki::post.layer(axum::extract::DefaultBodyLimit::max(
                gantry_core::plan::wiki::MAX_ATTACHMENT_BYTES + gantry_core::plan::wiki::MAX_PAGE_BYTES + 64 * 1024,
            )),
        )
        .get(
            "/milestones",
            Project(ProjectAction::ReadIssues),
            "The project's milestones and its groups' (state: opened, closed, all)",
            ui::plan::milestones::list_project,
        )
        .post(
            "/milestones",
            Project(ProjectAction::ManageMilestones),
            "Create a project milestone",
            ui::plan::milestones::create_project,
        )
        .get(
            "/milestones/{milestone_iid}",
            Project(ProjectAction::ReadIssues),
            "A project milestone with its progress and issues",
            ui::plan::milestones::show_project,
        )
        .get(
            "/milestones/{milestone_iid}/edit",
            Project(ProjectAction::ManageMilestones),
            "Edit a project milestone",
            ui::plan::milestones::edit_project,
        )
        .post(
            "/milestones/{milestone_iid}/edit",
            Project(ProjectAction::ManageMilestones),
            "Save a project milestone",
            ui::plan::milestones::save_project,
        )
        .post(
            "/milestones/{milestone_iid}/close",
            Project(ProjectAction::ManageMilestones),
            "Close a project milestone",
            ui::plan::milestones::close_project,
        )
        .post(
            "/milestones/{milestone_iid}/reopen",
            Project(ProjectAction::ManageMilestones),
            "Reopen a project milestone",
            ui::plan::milestones::reopen_project,
        )
        .post(
            "/milestones/{milestone_iid}/delete",
            Project(ProjectAction::ManageMilestones),
            "Delete a project milestone (confirm=yes; without it, a page asks)",
            ui::plan::milestones::delete_project,
        )
        .get("/settings", Project(ProjectAction::Update), "Project settings", ui::projects::settings)
        .post("/settings", Project(ProjectAction::Update), "Save project settings", ui::projects::save_settings)
        .post(
            "/settings/catalog",
            Project(ProjectAction::ManageCatalog),
            "Mark the project as a CI/CD Catalog resource, or remove the mark (ci_cd_catalog)",
            ui::catalog::save_catalog_setting,
        )
        .post(
            "/settings/avatar",
            Project(ProjectAction::Update),
            "Upload or remove the project's avatar",
            avatars::save_project_avatar,
        )
        .post("/transfer", Project(ProjectAction::Transfer), "Transfer the project", ui::projects::transfer)
        .post("/archive", Project(ProjectAction::Archive), "Archive the project", ui::projects::archive)
        .post("/unarchive", Project(ProjectAction::Archive), "Unarchive the project", ui::projects::unarchive)
        .post("/delete", Project(ProjectAction::Delete), "Delete the project", ui::projects::delete)
        .get(
            "/tree/{*ref_path}",
            Project(ProjectAction::ReadCode),
            "Files of a folder at a branch, tag or commit",
            ui::code::tree,
        )
        .get(
            "/blob/{*ref_path}",
            Project(ProjectAction::ReadCode),
            "A file, highlighted, at a branch, tag or commit",
            ui::code::blob::blob,
        )
        .get("/raw/{*ref_path}", Project(ProjectAction::ReadCode), "A file's bytes", ui::code::blob::raw)
        .get("/edit/{*ref_path}", Project(ProjectAction::PushCode), "Edit a file", ui::code::edit::edit_form)
        .post(
            "/edit/{*ref_path}",
            Project(ProjectAction::PushCode),
            "Commit a file's new text, path or both (or preview its Markdown)",
            ui::code::edit::edit,
        )
        .get("/new/{*ref_path}", Project(ProjectAction::PushCode), "New file in a folder", ui::code::edit::new_form)
        .post("/new/{*ref_path}", Project(ProjectAction::PushCode), "Commit a new file", ui::code::edit::create)
        .get(
            "/upload/{*ref_path}",
            Project(ProjectAction::PushCode),
            "Upload files into a folder",
            ui::code::edit::upload_form,
        )
        .post(
            "/upload/{*ref_path}",
            Project(ProjectAction::PushCode),
            "Commit uploaded files (multipart, 10 MiB in all)",
            ui::code::edit::upload.layer(axum::extract::DefaultBodyLimit::max(
                ui::code::edit::UPLOAD_LIMIT_BYTES + 64 * 1024,
            )),
        )
        .get("/new_dir/{*ref_path}", Project(ProjectAction::PushCode), "New folder", ui::code::edit::new_dir_form)
        .post(
            "/new_dir/{*ref_path}",
            Project(ProjectAction::PushCode),
            "Commit a new folder (with an empty .gitkeep)",
            ui::code::edit::create_dir,
        )
        .get(
            "/delete/{*ref_path}",
            Project(ProjectAction::PushCode),
            "Ask before deleting a file",
            ui::code::edit::delete_form,
        )
        .post("/delete/{*ref_path}", Project(ProjectAction::PushCode), "Commit a file's removal", ui::code::edit::delete)
        .get(
            "/find_file/{*reference}",
            Project(ProjectAction::ReadCode),
            "Find a file at a branch, tag or commit by the letters of its path (q)",
            ui::find_file::find_file,
        )
        .get(
            "/files/{*reference}",
            Project(ProjectAction::ReadCode),
            "The paths at a branch, tag or commit that best match the letters typed, as JSON (q, limit)",
            ui::find_file::find_file_matches,
        )
        .get(
            "/blame/{*ref_path}",
            Project(ProjectAction::ReadCode),
            "Who last changed each line of a file",
            ui::code::blame::blame,
        )
        .get(
            "/commits/{*ref_path}",
            Project(ProjectAction::ReadCode),
            "History of a branch, tag or path",
            ui::history::commits,
        )
        .get("/commit/{sha}", Project(ProjectAction::ReadCode), "A commit and its diff", ui::history::commit)
        .post(
            "/commit/{sha}/cherry_pick",
            Project(ProjectAction::PushCode),
            "Cherry-pick the commit onto a branch (branch)",
            ui::history::cherry_pick,
        )
        .post(
            "/commit/{sha}/revert",
            Project(ProjectAction::PushCode),
            "Revert the commit on a branch (branch)",
            ui::history::revert,
        )
        .get(
            "/refs/switch",
            Project(ProjectAction::Read),
            "Switch the branch or tag being browsed",
            ui::code::switch_ref,
        )
        .get(
            "/last_commits/{*ref_path}",
            Project(ProjectAction::ReadCode),
            "The last commit of each entry of a folder (JSON)",
            ui::code::last_commits,
        )
        .get(
            "/archive/{*rest}",
            Project(ProjectAction::ReadCode),
            "Download the files at a ref (.tar.gz, .tar.bz2, .tar, .zip and GitLab's other names)",
            ui::code::archive::archive,
        )
        .get(
            "/compare",
            Project(ProjectAction::ReadCode),
            "Compare two branches, tags or commits",
            ui::history::compare_form,
        )
        .get(
            "/compare/{*spec}",
            Project(ProjectAction::ReadCode),
            "What changed from one ref to another (from...to; either may hold slashes)",
            ui::history::compare,
        )
        .get(
            "/badges/{*rest}",
            Project(ProjectAction::ReadPipelines),
            "Pipeline and coverage badges of a ref ({ref}/pipeline.svg, {ref}/coverage.svg)",
            ui::badges::badge,
        )
        .get("/pipelines", Project(ProjectAction::ReadPipelines), "Pipelines (status, ref)", ui::pipelines::pipelines)
        .get(
            "/pipelines/stream",
            Project(ProjectAction::ReadPipelines),
            "The pipelines list, live (Server-Sent Events; status, ref, page)",
            ui::pipelines::live::pipelines_stream,
        )
        .post("/pipelines", ProtectedRef, "Run a pipeline", ui::pipelines::run_pipeline)
        .get(
            "/pipelines/new",
            Project(ProjectAction::RunPipelines),
            "Run pipeline form",
            ui::pipelines::new_pipeline_form,
        )
        .get(
            "/pipelines/{pipeline_id}",
            Project(ProjectAction::ReadPipelines),
            "A pipeline: its stages and jobs",
            ui::pipelines::pipeline,
        )
        .get(
            "/pipelines/{pipeline_id}/stream",
            Project(ProjectAction::ReadPipelines),
            "A pipeline's status and jobs, live (Server-Sent Events)",
            ui::pipelines::live::pipeline_stream,
        )
        .get(
            "/ci/lint",
            Project(ProjectAction::ReadPipelines),
            "CI lint: check a CI configuration, with the project's own file to start from",
            ui::ci_lint::ci_lint_form,
        )
        .post(
            "/ci/lint",
            Project(ProjectAction::ReadPipelines),
            "CI lint: the errors and warnings of a configuration, and the jobs a push to a branch would run (content, ref)",
            ui::ci_lint::ci_lint,
        )
        .get(
            "/pipelines/{pipeline_id}/test_report",
            Project(ProjectAction::ReadPipelines),
            "A pipeline's Tests tab",
            ui::test_reports::tests,
        )
        .get(
            "/pipelines/{pipeline_id}/codequality_report",
            Project(ProjectAction::ReadPipelines),
            "A pipeline's Code quality tab: its jobs' code quality findings",
            ui::pipelines::codequality::codequality,
        )
        .post(
            "/pipelines/{pipeline_id}/{action}",
            ProtectedRef,
            "Cancel a pipeline, or retry its failed jobs (action: cancel, retry)",
            ui::pipelines::change_pipeline,
        )
        .post(
            "/pipelines/{pipeline_id}/delete",
            Project(ProjectAction::DeletePipelines),
            "Delete a pipeline",
            ui::pipelines::delete_pipeline,
        )
        .get(
            "/pipeline_schedules",
            Project(ProjectAction::RunPipelines),
            "Pipeline schedules",
            ui::schedules::schedules,
        )
        .post("/pipeline_schedules", ProtectedRef, "Create a pipeline schedule", ui::schedules::create_schedule)
        .get(
            "/pipeline_schedules/new",
            Project(ProjectAction::RunPipelines),
            "New pipeline schedule form",
            ui::schedules::new_schedule_form,
        )
        .get(
            "/pipeline_schedules/{schedule_id}/edit",
            Project(ProjectAction::RunPipelines),
            "Edit a pipeline schedule",
            ui::schedules::edit_schedule_form,
        )
        .post(
            "/pipeline_schedules/{schedule_id}/edit",
            ScheduleOwner,
            "Save a pipeline schedule",
            ui::schedules::update_schedule,
        )
        .post(
            "/pipeline_schedules/{schedule_id}/{action}",
            ProtectedRef,
            "Run now, take ownership of or delete a schedule (action: play, take_ownership, delete; taking ownership is for Maintainers, deleting for its owner or Maintainers)",
            ui::schedules::change_schedule,
        )
        .get("/jobs", Project(ProjectAction::ReadPipelines), "Jobs (status)", ui::jobs::jobs)
        .get("/jobs/{job_id}", Project(ProjectAction::ReadPipelines), "A job and its log", ui::jobs::job)
        .get("/jobs/{job_id}/raw", Project(ProjectAction::ReadPipelines), "A job's log as text", ui::jobs::job_raw)
        .get(
            "/jobs/{job_id}/stream",
            Project(ProjectAction::ReadPipelines),
            "A job's log, live (Server-Sent Events)",
            ui::jobs::job_stream,
        )
        .get(
            "/jobs/{job_id}/artifacts/browse",
            Project(ProjectAction::ReadPipelines),
            "Browse a job's artifacts",
            ui::artifacts::browse,
        )
        .get(
            "/jobs/{job_id}/artifacts/browse/{*path}",
            Project(ProjectAction::ReadPipelines),
            "A folder of a job's artifacts",
            ui::artifacts::browse_folder,
        )
        .get(
            "/jobs/{job_id}/artifacts/file/{*path}",
            Project(ProjectAction::ReadPipelines),
            "One file of a job's artifacts",
            ui::artifacts::file,
        )
        .get(
            "/jobs/{job_id}/artifacts/raw/{*path}",
            Project(ProjectAction::ReadPipelines),
            "One file of a job's artifacts, raw",
            ui::artifacts::raw,
        )
        .get(
            "/jobs/{job_id}/artifacts/download",
            Project(ProjectAction::ReadPipelines),
            "Download a job's artifacts (file_type: archive or a report)",
            ui::artifacts::download,
        )
        .post(
            "/jobs/{job_id}/artifacts/{action}",
            Project(ProjectAction::RunPipelines),
            "Keep or delete a job's artifacts (action: keep, delete; deleting is for Maintainers)",
            ui::artifacts::change,
        )
        .post(
            "/jobs/{job_id}/{action}",
            ProtectedRef,
            "Cancel, retry or start a job (action: cancel, retry, play)",
            ui::jobs::change_job,
        )
        .get("/branches", Project(ProjectAction::ReadCode), "Branches", ui::repository::branches)
        .get(
            "/activity",
            Project(ProjectAction::Read),
            "Activity: pushes, issues and comments (event_filter: all, push, issue, comments; page)",
            ui::activity::project_activity,
        )
        .post("/branches", Project(ProjectAction::PushCode), "Create a branch", ui::repository::create_branch)
        .post("/branches/delete", Project(ProjectAction::PushCode), "Delete a branch", ui::repository::delete_branch)
        .get("/tags", Project(ProjectAction::ReadCode), "Tags", ui::repository::tags)
        .post("/tags", Project(ProjectAction::PushCode), "Create a tag", ui::repository::create_tag)
        .post("/tags/delete", Project(ProjectAction::PushCode), "Delete a tag", ui::repository::delete_tag)
        .get(
            "/settings/repository",
            Project(ProjectAction::ManageProtectedBranches),
            "Repository settings: protected branches and tags",
            ui::repository::repository_settings,
        )
        .get(
            "/settings/ci_cd",
            Project(ProjectAction::ManageCi),
            "CI/CD settings: pipelines, variables, runners",
            ui::ci_settings::project_settings,
        )
        .post(
            "/settings/ci_cd",
            Project(ProjectAction::ManageCi),
            "Save the pipeline settings",
            ui::ci_settings::save_project_settings,
        )
        .post(
            "/settings/ci_cd/variables",
            Project(ProjectAction::ManageCi),
            "Add or change a project variable",
            ui::ci_settings::save_project_variable,
        )
        .post(
            "/settings/ci_cd/variables/delete",
            Project(ProjectAction::ManageCi),
            "Delete a project variable",
            ui::ci_settings::delete_project_variable,
        )
        .post(
            "/settings/ci_cd/runners",
            Project(ProjectAction::ManageCi),
            "Create a project runner",
            ui::ci_settings::create_project_runner,
        )
        .post(
            "/settings/ci_cd/caches/clear",
            Project(ProjectAction::ManageCi),
            "Clear runner caches",
            ui::ci_settings::clear_caches,
        )
        .post(
            "/settings/ci_cd/triggers",
            Project(ProjectAction::ManageCi),
            "Create a pipeline trigger token",
            ui::ci_settings::create_trigger,
        )
        .post(
            "/settings/ci_cd/triggers/delete",
            Project(ProjectAction::ManageCi),
            "Revoke a pipeline trigger token",
            ui::ci_settings::delete_trigger,
        )
        .post(
            "/settings/ci_cd/job_token_scope",
            Project(ProjectAction::ManageCi),
            "Limit which projects' CI/CD job tokens reach this project, or stop limiting",
            ui::ci_settings::job_token::save_scope,
        )
        .post(
            "/settings/ci_cd/job_token_scope/allowlist",
            Project(ProjectAction::ManageCi),
            "Add a group or project to the CI/CD job token allowlist (path)",
            ui::ci_settings::job_token::add_to_allowlist,
        )
        .post(
            "/settings/ci_cd/job_token_scope/allowlist/remove",
            Project(ProjectAction::ManageCi),
            "Remove a group or project from the CI/CD job token allowlist",
            ui::ci_settings::job_token::remove_from_allowlist,
        )
        .post(
            "/settings/repository/protected_branches",
            Project(ProjectAction::ManageProtectedBranches),
            "Protect a branch or pattern",
            ui::repository::protect_branch,
        )
        .post(
            "/settings/repository/protected_branches/update",
            Project(ProjectAction::ManageProtectedBranches),
            "Change a protected branch",
            ui::repository::update_protected_branch,
        )
        .post(
            "/settings/repository/fsck",
            Admin,
            "Check the repository with git fsck (administrators)",
            ui::repository::check_repository,
        )
        .post(
            "/settings/repository/protected_branches/delete",
            Project(ProjectAction::ManageProtectedBranches),
            "Unprotect a branch or pattern",
            ui::repository::unprotect_branch,
        )
        .post(
            "/settings/repository/protected_tags",
            Project(ProjectAction::ManageProtectedTags),
            "Protect a tag or pattern",
            ui::protected_tags::protect_tag,
        )
        .post(
            "/settings/repository/protected_tags/delete",
            Project(ProjectAction::ManageProtectedTags),
            "Unprotect a tag or pattern",
            ui::protected_tags::unprotect_tag,
        )
        .get(
            "/settings/deploy",
            Project(ProjectAction::ManageDeployCredentials),
            "Deploy keys and deploy tokens",
            ui::deploy_settings::project_page,
        )
        .post(
            "/settings/deploy/keys",
            Project(ProjectAction::ManageDeployCredentials),
            "Add a deploy key",
            ui::deploy_settings::add_key,
        )
        .post(
            "/settings/deploy/keys/enable",
            Project(ProjectAction::ManageDeployCredentials),
            "Enable a deploy key used elsewhere, or an instance key",
            ui::deploy_settings::enable_key,
        )
        .post(
            "/settings/deploy/keys/update",
            Project(ProjectAction::ManageDeployCredentials),
            "Allow or forbid a deploy key's pushes",
            ui::deploy_settings::update_key,
        )
        .post(
            "/settings/deploy/keys/disable",
            Project(ProjectAction::ManageDeployCredentials),
            "Remove a deploy key from the project",
            ui::deploy_settings::disable_key,
        )
        .post(
            "/settings/deploy/tokens",
            Project(ProjectAction::ManageDeployCredentials),
            "Create a project deploy token (shown once)",
            ui::deploy_settings::create_project_token,
        )
        .post(
            "/settings/deploy/tokens/revoke",
            Project(ProjectAction::ManageDeployCredentials),
            "Revoke a project deploy token",
            ui::deploy_settings::revoke_project_token,
        )
        .get(
            "/settings/access_tokens",
            Project(ProjectAction::ManageAccessTokens),
            "Project access tokens",
            ui::access_tokens::project_page,
        )
        .post(
            "/settings/access_tokens",
            Project(ProjectAction::ManageAccessTokens),
            "Create a project access token (shown once)",
            ui::access_tokens::create_project_token,
        )
        .post(
            "/settings/access_tokens/rotate",
            Project(ProjectAction::ManageAccessTokens),
            "Rotate a project access token (the new one shown once)",
            ui::access_tokens::rotate_project_token,
        )
        .post(
            "/settings/access_tokens/revoke",
            Project(ProjectAction::ManageAccessTokens),
            "Revoke a project access token",
            ui::access_tokens::revoke_project_token,
        )
}

/// Git's smart HTTP under a project's path (`/{namespace}/{project}.git/…`, `.git` optional).
fn git_routes() -> Table {
    Table::new(RouteScope::Git)
        .get(
            "/info/refs",
            Project(ProjectAction::ReadCode),
            "Ref advertisement for git-upload-pack or git-receive-pack (the latter needs PushCode)",
            git_http::info_refs,
        )
        .post("/git-upload-pack", Project(ProjectAction::ReadCode), "Clone and fetch", git_http::upload_pack)
        .post("/git-receive-pack", Project(ProjectAction::PushCode), "Push", git_http::receive_pack)
}

/// Every route, top-level ones first, then namespace pages and git (their paths relative).
pub fn route_table() -> Vec<RouteInfo> {
    let mut routes = top_level().routes;
    routes.extend(group_pages().routes);
    routes.extend(project_pages().routes);
    routes.extend(git_routes().routes);
    routes
}

/// Whether a path is the API's, whose every answer is JSON (an unknown route included).
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// GitLab's answer for a route it does not have or a method the route does not take:
/// `{"error": "404 Not Found"}`.
fn api_error(status: axum::http::StatusCode, error: &'static str) -> axum::response::Response {
    axum::response::IntoResponse::into_response((status, axum::Json(serde_json::json!({ "error": error }))))
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
        .fallback(move |state, request: axum::extract::Request| {
            let routers = routers.clone();
            async move {
                if is_api(request.uri().path()) {
                    api_error(axum::http::StatusCode::NOT_FOUND, "404 Not Found")
                } else {
                    crate::namespace_dispatch::dispatch(state, routers, request).await
                }
            }
        })
        .method_not_allowed_fallback(|uri: axum::http::Uri| async move {
            let status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
            if is_api(uri.path()) {
                api_error(status, "405 Method Not Allowed")
            } else {
                axum::response::IntoResponse::into_response((
                    status,
                    "405 Method Not Allowed: this page does not take that method",
                ))
            }
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::error::error_pages))
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
