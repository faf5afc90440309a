//! The CI/CD job token scope: the API that keeps a project's allowlists (roles, bad input,
//! GitLab's answers), the settings page's section, and what real job tokens meet: a real
//! `git clone` over HTTP of another project, refused until that project lets the job's project
//! in (by project, by a group above it, or by lifting its limit) and always refused where the
//! job's user may not read; the same for a dependency's artifacts.

use std::net::SocketAddr;
use std::path::Path;

use axum::http::{Method, StatusCode};
use gantry_core::manage::groups::{Lookup, NewGroup};
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_core::{Actor, ProjectRow};
use gantry_types::{AccessLevel, JobId, ProjectId, UserId, Visibility};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse, TestUser};

fn message(response: &TestResponse) -> String {
    response.json()["message"].as_str().unwrap_or_default().to_owned()
}

async fn group(app: &TestApp, owner: &TestUser, path: &str, parent: Option<gantry_types::NamespaceId>) -> i64 {
    let input = NewGroup {
        name: path.to_uppercase(),
        path: path.into(),
        parent,
        visibility: Some(Visibility::Private),
        ..NewGroup::default()
    };
    app.core.manage().create_group(&Actor::User(owner.user.clone()), &input).await.unwrap().id.0
}

async fn project(app: &TestApp, owner: &TestUser, name: &str, namespace: Option<i64>, readme: bool) -> ProjectRow {
    let input = NewProjectInput {
        name: name.into(),
        namespace: namespace.map(gantry_types::NamespaceId),
        visibility: Some(Visibility::Private),
        initialize_with_readme: readme,
        ..NewProjectInput::default()
    };
    app.core.manage().create_project(&Actor::User(owner.user.clone()), &input).await.unwrap()
}

#[tokio::test]
async fn the_api_keeps_the_scope_and_its_allowlists_for_maintainers() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let developer = app.user("dev").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", None).await;
    let tools = group(&app, &owner, "tools", None).await;
    let app_project = project(&app, &owner, "App", Some(acme), false).await;
    let lib = project(&app, &owner, "Lib", Some(acme), false).await;
    let secret = project(&app, &stranger, "Secret", None, false).await;
    let owner_actor = Actor::User(owner.user.clone());
    let target = MemberTarget::Project(&app_project);
    app.core.manage().add_member(&owner_actor, target, developer.user.id, AccessLevel::Developer, None).await.unwrap();
    let (o, d, s) = (Some(owner.token.as_str()), Some(developer.token.as_str()), Some(stranger.token.as_str()));
    let scope = format!("/api/v4/projects/{}/job_token_scope", app_project.id);
    let allowlist = format!("{scope}/allowlist");
    let groups = format!("{scope}/groups_allowlist");

    // Limited by default; only Maintainers see or change it, and a project one cannot see is
    // not there at all.
    let read = app.api(Method::GET, &scope, o, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json(), json!({"inbound_enabled": true, "outbound_enabled": false}));
    assert_eq!(app.api(Method::GET, &scope, d, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, &scope, s, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(Method::GET, &scope, None, None).await.status, StatusCode::NOT_FOUND);
    let by_path = format!("/api/v4/projects/{}/job_token_scope", "acme%2Fapp");
    assert_eq!(app.api(Method::GET, &by_path, o, None).await.status, StatusCode::OK);

    // The role is checked before the parameters are read.
    assert_eq!(app.api(Method::PATCH, &scope, d, Some(json!({}))).await.status, StatusCode::FORBIDDEN);
    let missing = app.api(Method::PATCH, &scope, o, Some(json!({}))).await;
    assert_eq!((missing.status, message(&missing)), (StatusCode::BAD_REQUEST, "enabled is missing".to_owned()));
    let invalid = app.api(Method::PATCH, &scope, o, Some(json!({"enabled": "maybe"}))).await;
    assert_eq!((invalid.status, message(&invalid)), (StatusCode::BAD_REQUEST, "enabled is invalid".to_owned()));
    assert_eq!(app.api(Method::GET, &scope, o, None).await.json()["inbound_enabled"], true, "nothing changed");
    let opened = app.api(Method::PATCH, &scope, o, Some(json!({"enabled": false}))).await;
    assert_eq!(opened.status, StatusCode::NO_CONTENT, "{}", opened.body);
    assert_eq!(app.api(Method::GET, &scope, o, None).await.json()["inbound_enabled"], false);
    let closed = app.api(Method::PATCH, &format!("{scope}?enabled=true"), o, None).await;
    assert_eq!(closed.status, StatusCode::NO_CONTENT, "{}", closed.body);
    assert_eq!(app.api(Method::GET, &scope, o, None).await.json()["inbound_enabled"], true);

    // The project itself is always listed first.
    let listed = app.api(Method::GET, &allowlist, o, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], app_project.id.0);
    assert_eq!(listed[0]["path_with_namespace"], "acme/app");
    assert_eq!(listed[0]["namespace"]["full_path"], "acme");

    // Adding a project: one the caller sees, once, never the project itself.
    let body = |id: i64| Some(json!({"target_project_id": id}));
    assert_eq!(app.api(Method::POST, &allowlist, d, Some(json!({}))).await.status, StatusCode::FORBIDDEN);
    let added = app.api(Method::POST, &allowlist, o, body(lib.id.0)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.json(), json!({"source_project_id": app_project.id.0, "target_project_id": lib.id.0}));
    let again = app.api(Method::POST, &allowlist, o, body(lib.id.0)).await;
    assert_eq!(
        (again.status, message(&again)),
        (StatusCode::BAD_REQUEST, "Target project is already in the job token scope".to_owned())
    );
    let itself = app.api(Method::POST, &allowlist, o, body(app_project.id.0)).await;
    assert_eq!(itself.status, StatusCode::BAD_REQUEST, "{}", itself.body);
    for hidden in [secret.id.0, 999_999] {
        let refused = app.api(Method::POST, &allowlist, o, body(hidden)).await;
        assert_eq!(
            (refused.status, message(&refused)),
            (StatusCode::NOT_FOUND, "404 Target project Not Found".to_owned())
        );
    }
    let missing = app.api(Method::POST, &allowlist, o, Some(json!({}))).await;
    assert_eq!(message(&missing), "target_project_id is missing");
    let invalid = app.api(Method::POST, &allowlist, o, Some(json!({"target_project_id": "lib"}))).await;
    assert_eq!((invalid.status, message(&invalid)), (StatusCode::BAD_REQUEST, "target_project_id is invalid".into()));

    let listed = app.api(Method::GET, &allowlist, o, None).await.json();
    let ids: Vec<&Value> = listed.as_array().unwrap().iter().map(|p| &p["id"]).collect();
    assert_eq!(ids, [&json!(app_project.id.0), &json!(lib.id.0)]);
    assert_eq!(listed[1]["name"], "Lib");
    let second = app.api(Method::GET, &format!("{allowlist}?per_page=1&page=2"), o, None).await;
    assert_eq!(second.header("x-total"), "2");
    assert_eq!(second.json()[0]["id"], lib.id.0);

    // Removing a project.
    let remove = |id: &str| format!("{allowlist}/{id}");
    assert_eq!(app.api(Method::DELETE, &remove(&lib.id.to_string()), d, None).await.status, StatusCode::FORBIDDEN);
    let removed = app.api(Method::DELETE, &remove(&lib.id.to_string()), o, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    let gone = app.api(Method::DELETE, &remove(&lib.id.to_string()), o, None).await;
    assert_eq!(
        (gone.status, message(&gone)),
        (StatusCode::BAD_REQUEST, "Target project is not in the job token scope".to_owned())
    );
    let source = app.api(Method::DELETE, &remove(&app_project.id.to_string()), o, None).await;
    assert_eq!(
        (source.status, message(&source)),
        (StatusCode::BAD_REQUEST, "Source project cannot be removed from the job token scope".to_owned())
    );
    assert_eq!(app.api(Method::DELETE, &remove("999999"), o, None).await.status, StatusCode::NOT_FOUND);
    let invalid = app.api(Method::DELETE, &remove("lib"), o, None).await;
    assert_eq!((invalid.status, message(&invalid)), (StatusCode::BAD_REQUEST, "target_project_id is invalid".into()));
    assert_eq!(app.api(Method::GET, &allowlist, o, None).await.json().as_array().unwrap().len(), 1);

    // Groups, the same way; a user's namespace is no group.
    assert_eq!(app.api(Method::GET, &groups, d, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, &groups, o, None).await.json(), json!([]));
    let added = app.api(Method::POST, &groups, o, Some(json!({"target_group_id": tools}))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.json(), json!({"source_project_id": app_project.id.0, "target_group_id": tools}));
    let again = app.api(Method::POST, &groups, o, Some(json!({"target_group_id": tools}))).await;
    assert_eq!(message(&again), "Target group is already in the job token scope");
    let personal = app.core.manage().user_namespace(&owner_actor, owner.user.id).await.unwrap();
    let refused = app.api(Method::POST, &groups, o, Some(json!({"target_group_id": personal.0}))).await;
    assert_eq!((refused.status, message(&refused)), (StatusCode::NOT_FOUND, "404 Target group Not Found".into()));
    let stranger_group = group(&app, &stranger, "hidden", None).await;
    let refused = app.api(Method::POST, &groups, o, Some(json!({"target_group_id": stranger_group}))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(message(&app.api(Method::POST, &groups, o, Some(json!({}))).await), "target_group_id is missing");
    let listed = app.api(Method::GET, &groups, o, None).await.json();
    assert_eq!(listed, json!([{"id": tools, "name": "TOOLS", "web_url": "http://gantry.test/groups/tools"}]));
    let removed = app.api(Method::DELETE, &format!("{groups}/{tools}"), o, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    let gone = app.api(Method::DELETE, &format!("{groups}/{tools}"), o, None).await;
    assert_eq!(
        (gone.status, message(&gone)),
        (StatusCode::BAD_REQUEST, "Target group is not in the job token scope".to_owned())
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("{groups}/{stranger_group}"), o, None).await.status,
        StatusCode::NOT_FOUND
    );

    // A project or group that goes leaves the allowlists with it.
    assert_eq!(app.api(Method::POST, &allowlist, o, body(lib.id.0)).await.status, StatusCode::CREATED);
    assert_eq!(
        app.api(Method::POST, &groups, o, Some(json!({"target_group_id": tools}))).await.status,
        StatusCode::CREATED
    );
    app.core.manage().delete_project(&owner_actor, &lib).await.unwrap();
    let tools_row = app.core.group_access(&owner_actor, &Lookup::Id(tools)).await.unwrap().into_group();
    app.core.manage().delete_group(&owner_actor, &tools_row).await.unwrap();
    assert_eq!(app.api(Method::GET, &allowlist, o, None).await.json().as_array().unwrap().len(), 1);
    assert_eq!(app.api(Method::GET, &groups, o, None).await.json(), json!([]));
}

#[tokio::test]
async fn the_settings_page_limits_job_tokens_and_keeps_the_allowlist() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let developer = app.user("dev").await;
    let acme = group(&app, &owner, "acme", None).await;
    let app_project = project(&app, &owner, "App", Some(acme), false).await;
    let lib = project(&app, &owner, "Lib", Some(acme), false).await;
    let owner_actor = Actor::User(owner.user.clone());
    let target = MemberTarget::Project(&app_project);
    app.core.manage().add_member(&owner_actor, target, developer.user.id, AccessLevel::Developer, None).await.unwrap();
    let settings = "/acme/app/-/settings/ci_cd";
    let add = format!("{settings}/job_token_scope/allowlist");
    let remove = format!("{add}/remove");
    let api = format!("/api/v4/projects/{}/job_token_scope", app_project.id);
    let o = Some(owner.token.as_str());

    let page = app.page(Method::GET, settings, Some(&owner), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Job token permissions"), "{}", page.body);
    assert!(page.body.contains(r#"name="inbound_enabled" value="1" checked"#), "limited by default");
    assert!(page.body.contains("(this project)"));
    assert_eq!(app.page(Method::GET, settings, Some(&developer), None).await.status, StatusCode::FORBIDDEN);
    let refused = app.page(Method::POST, &add, Some(&developer), Some(&[("path", "acme/lib")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Added by path: a project, then a group.
    for path in ["acme/lib", "acme"] {
        let added = app.page(Method::POST, &add, Some(&owner), Some(&[("path", path)])).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    }
    let listed = app.api(Method::GET, &format!("{api}/allowlist"), o, None).await.json();
    assert_eq!(listed[1]["id"], lib.id.0);
    assert_eq!(app.api(Method::GET, &format!("{api}/groups_allowlist"), o, None).await.json()[0]["id"], acme);
    let page = app.page(Method::GET, settings, Some(&owner), None).await;
    assert!(page.body.contains("<code>acme/lib</code>") && page.body.contains("<code>acme</code>"), "{}", page.body);
    assert_eq!(page.body.matches("Remove acme").count(), 2, "the project itself has no remove button");

    // Mistakes are told on the page, and nothing changes.
    let unknown = app.page(Method::POST, &add, Some(&owner), Some(&[("path", "nowhere/at-all")])).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("names no project or group you can see"), "{}", unknown.body);
    let twice = app.page(Method::POST, &add, Some(&owner), Some(&[("path", "acme/lib")])).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert!(twice.body.contains("already in the job token scope"), "{}", twice.body);
    let itself = app.page(Method::POST, &add, Some(&owner), Some(&[("path", "acme/app")])).await;
    assert_eq!(itself.status, StatusCode::BAD_REQUEST);
    let wrong = app.page(Method::POST, &remove, Some(&owner), Some(&[("kind", "user"), ("id", "1")])).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let scope = format!("{settings}/job_token_scope");
    let wrong = app.page(Method::POST, &scope, Some(&owner), Some(&[("inbound_enabled", "maybe")])).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.api(Method::GET, &api, o, None).await.json()["inbound_enabled"], true);

    // Removed one by one.
    let lib_id = lib.id.to_string();
    let removed = app.page(Method::POST, &remove, Some(&owner), Some(&[("kind", "project"), ("id", &lib_id)])).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let acme_id = acme.to_string();
    let removed = app.page(Method::POST, &remove, Some(&owner), Some(&[("kind", "group"), ("id", &acme_id)])).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(app.api(Method::GET, &format!("{api}/allowlist"), o, None).await.json().as_array().unwrap().len(), 1);
    assert_eq!(app.api(Method::GET, &format!("{api}/groups_allowlist"), o, None).await.json(), json!([]));

    // The limit lifted and put back.
    let lifted = app.page(Method::POST, &scope, Some(&owner), Some(&[("inbound_enabled", "0")])).await;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER);
    assert_eq!(app.api(Method::GET, &api, o, None).await.json()["inbound_enabled"], false);
    let page = app.page(Method::GET, settings, Some(&owner), None).await;
    assert!(page.body.contains(r#"name="inbound_enabled" value="0" checked"#), "{}", page.body);
    let restored = app.page(Method::POST, &scope, Some(&owner), Some(&[("inbound_enabled", "1")])).await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    assert_eq!(app.api(Method::GET, &api, o, None).await.json()["inbound_enabled"], true);
}

/// A running job of `project` for `user`, and its token (a runner of the instance takes it).
struct RunningJob {
    id: JobId,
    token: String,
}

/// Runs one pipeline per `(project, user)` (each project's `main` holds a one-job CI file) and
/// lets an instance runner take every job; their tokens, in the same order.
async fn running_jobs(app: &TestApp, runs: &[(&ProjectRow, &TestUser)]) -> Vec<RunningJob> {
    for (project, user) in runs {
        let sha = app.core.repos().resolve_commit(project.id, "refs/heads/main").await.unwrap().unwrap();
        let request = gantry_core::ci::create::PipelineRequest {
            ref_name: "main".into(),
            is_tag: false,
            sha,
            before_sha: gantry_git::ZERO_OID.into(),
            source: "push",
            user: Some(user.user.clone()),
            variables: Vec::new(),
            schedule_id: None,
            inputs: None,
        };
        app.core.ci().create_pipeline(project, request).await.unwrap().unwrap();
    }
    let runner = app.instance_runner().await;
    let info = gantry_ci::protocol::RunnerInfo::default();
    let mut taken: Vec<(ProjectId, Option<UserId>, RunningJob)> = Vec::new();
    for _ in runs {
        let wait = std::time::Duration::from_secs(5);
        let payload = app.core.ci().request_job(&runner, &info, "127.0.0.1", wait).await.unwrap().unwrap();
        let job = app.core.ci().authenticate_job_token(&payload.token).await.unwrap();
        taken.push((job.project_id, job.user_id, RunningJob { id: job.id, token: payload.token }));
    }
    runs.iter()
        .map(|(project, user)| {
            let at = taken.iter().position(|(p, u, _)| *p == project.id && *u == Some(user.user.id)).unwrap();
            taken.remove(at).2
        })
        .collect()
}

/// `git clone` over HTTP as `gitlab-ci-token` with a job's token, from the server at `address`;
/// git's error output when it fails.
async fn clone(address: SocketAddr, token: &str, path: &str, into: &Path) -> Result<(), String> {
    let url = format!("http://gitlab-ci-token:{token}@{address}/{path}.git");
    let output = tokio::process::Command::new("git")
        .args(["-c", "credential.helper=", "clone", "-q", &url])
        .arg(into)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .await
        .expect("git is installed");
    let _ = std::fs::remove_dir_all(into);
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

/// Serves the app on a free loopback port for real clients.
async fn serve(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

#[tokio::test]
async fn a_job_token_reaches_another_project_only_when_let_in_and_never_past_its_user() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let alice = app.user("alice").await;
    let dev = app.user("dev").await;
    let alice_actor = Actor::User(alice.user.clone());
    let acme = group(&app, &alice, "acme", None).await;
    let ci_group = group(&app, &alice, "ci", Some(gantry_types::NamespaceId(acme))).await;
    let ci_file = b"build:\n  script: echo hi\n";
    let author = gantry_git::Author { name: "Tester", email: "tester@example.com" };
    let mut with_ci = Vec::new();
    for (name, namespace) in [("App", ci_group), ("Lib", acme)] {
        let made = project(&app, &alice, name, Some(namespace), false).await;
        app.core.repos().initial_commit(made.id, "main", ".gitlab-ci.yml", ci_file, "ci", &author).await.unwrap();
        with_ci.push(made);
    }
    let (ci_app, lib) = (&with_ci[0], &with_ci[1]);
    assert_eq!((ci_app.full_path.as_str(), lib.full_path.as_str()), ("acme/ci/app", "acme/lib"));
    // Two pipelines run on the app's `main` at once: the newer must not cancel the older.
    let access = app.core.access_to_project(&alice_actor, ci_app).await.unwrap();
    let settings = app.core.ci().ci_settings(&access).await.unwrap();
    let settings = gantry_core::ci::CiSettings { auto_cancel: false, ..settings };
    app.core.ci().update_ci_settings(&alice_actor, ci_app, &settings).await.unwrap();
    // The developer works on the app only: they may not read the library.
    let target = MemberTarget::Project(ci_app);
    app.core.manage().add_member(&alice_actor, target, dev.user.id, AccessLevel::Developer, None).await.unwrap();

    let jobs = running_jobs(&app, &[(ci_app, &alice), (ci_app, &dev), (lib, &alice)]).await;
    let (alices, devs, libs) = (&jobs[0].token, &jobs[1].token, &jobs[2]);
    let address = serve(&app).await;
    let work = tempfile::tempdir().unwrap();
    let into = work.path().join("clone");
    let o = Some(alice.token.as_str());
    let scope = format!("/api/v4/projects/{}/job_token_scope", lib.id);
    let (allowlist, groups_allowlist) = (format!("{scope}/allowlist"), format!("{scope}/groups_allowlist"));
    let not_allowed = "Authentication by CI/CD job token not allowed from acme/ci/app to acme/lib";
    let not_found = "could not be found";
    let expect_refused = async |token: &str, words: &str| {
        let printed = clone(address, token, "acme/lib", &into).await.expect_err("the clone is refused");
        assert!(printed.contains(words), "git said: {printed}");
    };

    // A job reads its own project, never pushes, and reads no other project by default.
    clone(address, alices, "acme/ci/app", &into).await.unwrap();
    clone(address, devs, "acme/ci/app", &into).await.unwrap();
    expect_refused(alices, not_allowed).await;
    expect_refused(devs, not_found).await;
    let push = app.git(Method::GET, "/acme/ci/app.git/info/refs?service=git-receive-pack", None, b"").await;
    assert_eq!(push.status, StatusCode::UNAUTHORIZED, "anonymous pushes are asked for credentials");
    let push = job_git(&app, alices, "/acme/ci/app.git/info/refs?service=git-receive-pack").await;
    assert_eq!(push.status, StatusCode::FORBIDDEN);
    assert!(push.body.contains("only reads"), "{}", push.body);
    let push = job_git(&app, alices, "/acme/lib.git/info/refs?service=git-receive-pack").await;
    assert_eq!(push.status, StatusCode::FORBIDDEN, "{}", push.body);
    let push = job_git(&app, devs, "/acme/lib.git/info/refs?service=git-receive-pack").await;
    assert_eq!(push.status, StatusCode::NOT_FOUND, "the developer's job does not learn the library exists");

    // The library's allowlist names the app: Alice's job reads it, the developer's still not.
    let let_app_in = Some(json!({"target_project_id": ci_app.id.0}));
    assert_eq!(app.api(Method::POST, &allowlist, o, let_app_in.clone()).await.status, StatusCode::CREATED);
    clone(address, alices, "acme/lib", &into).await.unwrap();
    expect_refused(devs, not_found).await;
    let removed = app.api(Method::DELETE, &format!("{allowlist}/{}", ci_app.id), o, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    expect_refused(alices, not_allowed).await;

    // A group above the app lets it in too, until it is removed.
    let let_acme_in = Some(json!({"target_group_id": acme}));
    assert_eq!(app.api(Method::POST, &groups_allowlist, o, let_acme_in).await.status, StatusCode::CREATED);
    clone(address, alices, "acme/lib", &into).await.unwrap();
    expect_refused(devs, not_found).await;
    let removed = app.api(Method::DELETE, &format!("{groups_allowlist}/{acme}"), o, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    expect_refused(alices, not_allowed).await;

    // Without the limit every project's jobs come in, within their users' rights.
    let opened = app.api(Method::PATCH, &scope, o, Some(json!({"enabled": false}))).await;
    assert_eq!(opened.status, StatusCode::NO_CONTENT);
    clone(address, alices, "acme/lib", &into).await.unwrap();
    expect_refused(devs, not_found).await;
    let closed = app.api(Method::PATCH, &scope, o, Some(json!({"enabled": true}))).await;
    assert_eq!(closed.status, StatusCode::NO_CONTENT);
    expect_refused(alices, not_allowed).await;

    // A dependency's artifacts follow the same rule.
    let zip = crate::support::zip_of(&[("out.txt", b"built")]);
    let blob = app.core.ci().blobs().put_bytes(&zip).await.unwrap();
    let lib_job = app.core.ci().authenticate_job_token(&libs.token).await.unwrap();
    app.core.ci().record_artifact(&lib_job, &Default::default(), blob).await.unwrap();
    let artifacts = format!("/api/v4/jobs/{}/artifacts", libs.id);
    assert_eq!(app.job_request(Method::GET, &artifacts, &libs.token, Vec::new()).await.status, StatusCode::OK);
    let refused = app.job_request(Method::GET, &artifacts, alices, Vec::new()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains(not_allowed), "{}", refused.body);
    assert_eq!(app.job_request(Method::GET, &artifacts, devs, Vec::new()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(Method::POST, &allowlist, o, let_app_in).await.status, StatusCode::CREATED);
    let fetched = app.job_request(Method::GET, &artifacts, alices, Vec::new()).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
    assert_eq!(fetched.bytes, zip);
    assert_eq!(app.job_request(Method::GET, &artifacts, devs, Vec::new()).await.status, StatusCode::NOT_FOUND);

    // A blocked user's jobs reach nothing beyond their own project.
    let block = format!("/api/v4/users/{}/block", alice.user.id);
    assert_eq!(app.api(Method::POST, &block, Some(&admin.token), None).await.status, StatusCode::CREATED);
    expect_refused(alices, not_found).await;

    // A token is good only while its job runs.
    let update = gantry_ci::protocol::JobUpdate {
        token: jobs[1].token.clone(),
        state: "success".into(),
        failure_reason: None,
        exit_code: Some(0),
    };
    app.core.ci().update_job_from_runner(jobs[1].id, &update).await.unwrap();
    let printed = clone(address, devs, "acme/ci/app", &into).await.expect_err("a finished job's token is refused");
    assert!(printed.contains("403") || printed.contains("401"), "git said: {printed}");
}

/// A git smart-HTTP request with a job token as the password.
async fn job_git(app: &TestApp, token: &str, path: &str) -> TestResponse {
    use base64::Engine;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("gitlab-ci-token:{token}"));
    let request = axum::http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("authorization", format!("Basic {credentials}"));
    app.send(request.body(axum::body::Body::empty()).unwrap()).await
}
