//! Pages decide who the visitor is to the project once: a page that descends into core several
//! times makes one authorisation query (a role lookup), counted by gantry-db's task-local
//! counter around an in-process request.

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::manage::groups::NewGroup;
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_types::{AccessLevel, Visibility};

use crate::support::{TestApp, TestUser};

/// A private project in a subgroup of a private group, with a pipeline on `main`, a project
/// runner, a variable and a trigger token.
struct Fixture {
    owner: TestUser,
    /// Maintainer of the top group.
    maintainer: TestUser,
    group: gantry_core::NamespaceRow,
    project: gantry_core::ProjectRow,
}

async fn maintained_project(app: &TestApp) -> Fixture {
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let maintainer = app.user("maintainer").await;
    let actor = Actor::User(owner.user.clone());
    let core = &app.core;
    let private = |name: &str, parent| NewGroup {
        name: name.into(),
        path: name.into(),
        parent,
        visibility: Some(Visibility::Private),
        ..NewGroup::default()
    };
    let group = core.manage().create_group(&actor, &private("acme", None)).await.unwrap();
    let subgroup = core.manage().create_group(&actor, &private("platform", Some(group.id))).await.unwrap();
    let input = NewProjectInput {
        name: "api".into(),
        namespace: Some(subgroup.id),
        visibility: Some(Visibility::Private),
        ..NewProjectInput::default()
    };
    let project = core.manage().create_project(&actor, &input).await.unwrap();
    core.manage()
        .add_member(&actor, MemberTarget::Group(&group), maintainer.user.id, AccessLevel::Maintainer, None)
        .await
        .unwrap();
    let author = gantry_git::Author { name: "Tester", email: "tester@example.com" };
    let ci = b"job:\n  script: echo hi\n";
    let sha = core.repos().initial_commit(project.id, "main", ".gitlab-ci.yml", ci, "ci", &author).await.unwrap();
    core.code().create_branch(&actor, &project, "feature", "main").await.unwrap();
    let request = gantry_core::ci::create::PipelineRequest {
        ref_name: "main".into(),
        is_tag: false,
        sha,
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(owner.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    core.ci().create_pipeline(&project, request).await.unwrap().unwrap();
    let registration = gantry_core::ci::runners::RunnerRegistration {
        scope: gantry_core::ci::runners::RunnerScope::Project(project.id),
        description: "project runner".into(),
        tags: Vec::new(),
        run_untagged: true,
        paused: false,
        max_concurrent: 0,
    };
    core.ci().create_runner_as_operator(registration).await.unwrap();
    let variable = gantry_core::ci::variables::VariableInput {
        key: "DEPLOY".into(),
        value: Some("yes".into()),
        hidden: false,
        variable_type: None,
        masked: false,
        protected: false,
        raw: false,
        environment_scope: None,
        description: None,
    };
    let scope = gantry_core::ci::variables::VariableScope::Project(&project);
    core.ci().create_ci_variable(&actor, scope, &variable).await.unwrap();
    core.ci().create_trigger(&actor, &project, "deploys").await.unwrap();
    Fixture { owner, maintainer, group, project }
}

/// GETs `path` as `user` and returns the number of authorisation queries it made.
async fn queries_of(app: &TestApp, path: &str, user: &TestUser, expect: &str) -> u32 {
    let (response, queries) =
        gantry_db::stats::count_authorisation_queries(app.page(Method::GET, path, Some(user), None)).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
    assert!(response.body.contains(expect), "{path} shows {expect}: {}", response.body);
    queries
}

#[tokio::test]
async fn the_branches_and_ci_settings_pages_authorise_once() {
    let app = TestApp::new().await;
    let Fixture { maintainer, project, .. } = maintained_project(&app).await;
    let base = format!("/{}/-", project.full_path);
    let branches = queries_of(&app, &format!("{base}/branches"), &maintainer, "feature").await;
    let settings = queries_of(&app, &format!("{base}/settings/ci_cd"), &maintainer, "project runner").await;
    let pipelines = queries_of(&app, &format!("{base}/pipelines"), &maintainer, "main").await;
    let repository = queries_of(&app, &format!("{base}/settings/repository"), &maintainer, "feature").await;
    eprintln!("branches {branches}, ci settings {settings}, pipelines {pipelines}, repository settings {repository}");
    assert_eq!(branches, 1, "the branches page");
    assert_eq!(settings, 1, "the CI settings page");
    assert_eq!(pipelines, 1, "the pipelines page");
    assert_eq!(repository, 1, "the repository settings page");
}

#[tokio::test]
async fn the_pipeline_and_job_pages_authorise_once() {
    let app = TestApp::new().await;
    let Fixture { owner, maintainer, project, .. } = maintained_project(&app).await;
    let access = app.core.access_to_project(&Actor::User(owner.user.clone()), &project).await.unwrap();
    let filter = gantry_core::ci::PipelineFilter::default();
    let (found, _) =
        app.core.ci().list_pipelines(&access, &filter, gantry_core::Page { offset: 0, limit: 1 }).await.unwrap();
    let (_, jobs) = app.core.ci().pipeline(&access, found[0].id).await.unwrap();
    let base = format!("/{}/-", project.full_path);
    let pipeline = queries_of(&app, &format!("{base}/pipelines/{}", found[0].id), &maintainer, "job").await;
    let job = queries_of(&app, &format!("{base}/jobs/{}", jobs[0].id), &maintainer, "job").await;
    eprintln!("pipeline {pipeline}, job {job}");
    assert_eq!(pipeline, 1, "the pipeline page");
    assert_eq!(job, 1, "the job page");
}

#[tokio::test]
async fn the_group_and_members_pages_authorise_once() {
    let app = TestApp::new().await;
    let Fixture { maintainer, group, project, .. } = maintained_project(&app).await;
    let group_page = queries_of(&app, &format!("/{}", group.full_path), &maintainer, "platform").await;
    let group_members = queries_of(&app, &format!("/{}/-/members", group.full_path), &maintainer, "maintainer").await;
    let project_members =
        queries_of(&app, &format!("/{}/-/members", project.full_path), &maintainer, "maintainer").await;
    eprintln!("group {group_page}, group members {group_members}, project members {project_members}");
    assert_eq!(group_page, 1, "the group page");
    assert_eq!(group_members, 1, "the group's members page");
    assert_eq!(project_members, 1, "the project's members page");
}

#[tokio::test]
async fn listing_runners_makes_no_query_per_runner() {
    let app = TestApp::new().await;
    let Fixture { maintainer, project, .. } = maintained_project(&app).await;
    for n in 0..3 {
        let registration = gantry_core::ci::runners::RunnerRegistration {
            scope: gantry_core::ci::runners::RunnerScope::Project(project.id),
            description: format!("extra {n}"),
            tags: Vec::new(),
            run_untagged: true,
            paused: false,
            max_concurrent: 0,
        };
        app.core.ci().create_runner_as_operator(registration).await.unwrap();
    }
    app.instance_runner().await;
    let (response, queries) = gantry_db::stats::count_authorisation_queries(app.api(
        Method::GET,
        "/api/v4/runners",
        Some(&maintainer.token),
        None,
    ))
    .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let listed = response.json().as_array().map_or(0, Vec::len);
    eprintln!("runners listed {listed}, queries {queries}");
    assert_eq!(listed, 4, "the project's runners, not the instance's: {}", response.body);
    assert_eq!(queries, 1, "one query for every runner");
}

/// GitLab's rule: a group's runners are its Owners' to register and manage; its Maintainers
/// manage its CI/CD variables and their projects' runners.
#[tokio::test]
async fn group_runners_are_for_group_owners() {
    let app = TestApp::new().await;
    let Fixture { owner, maintainer, group, .. } = maintained_project(&app).await;
    let body = serde_json::json!({"runner_type": "group_type", "group_id": group.id.0, "description": "shared"});
    let refused = app.api(Method::POST, "/api/v4/user/runners", Some(&maintainer.token), Some(body.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let made = app.api(Method::POST, "/api/v4/user/runners", Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_i64().unwrap();
    let listed = |user: &TestUser| {
        let token = user.token.clone();
        let app = &app;
        async move {
            let response = app.api(Method::GET, "/api/v4/runners", Some(&token), None).await;
            response.json().as_array().unwrap().iter().any(|r| r["id"].as_i64() == Some(id))
        }
    };
    assert!(listed(&owner).await, "the group's Owner lists its runner");
    assert!(!listed(&maintainer).await, "a Maintainer does not");
    let path = format!("/api/v4/runners/{id}");
    assert_eq!(app.api(Method::GET, &path, Some(&maintainer.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(Method::GET, &path, Some(&owner.token), None).await.status, StatusCode::OK);
    let variable = serde_json::json!({"key": "GROUP_WIDE", "value": "1"});
    let path = format!("/api/v4/groups/{}/variables", group.id.0);
    let saved = app.api(Method::POST, &path, Some(&maintainer.token), Some(variable)).await;
    assert_eq!(saved.status, StatusCode::CREATED, "Maintainers manage group variables: {}", saved.body);
}
