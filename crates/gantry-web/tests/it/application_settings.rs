//! The instance settings (`/application/settings` and the admin page): read and changed by
//! administrators only, under GitLab's names; settings Gantry does not have are ignored; bad
//! values are refused with nothing written. Each setting does what it says: the limit on
//! personal projects new accounts get (enforced on create and transfer, in GitLab's words),
//! the visibility and first branch of new projects, the artifact size and lifetime.

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::ci::create::PipelineRequest;
use serde_json::{Value, json};

use crate::support::{TestApp, zip_of};

const SETTINGS: &str = "/api/v4/application/settings";

#[tokio::test]
async fn administrators_read_and_change_the_settings_by_gitlab_names() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let admin = Some(root.token.as_str());

    let read = app.api(Method::GET, SETTINGS, admin, None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(
        read.json(),
        json!({
            "signup_enabled": true,
            "require_admin_approval_after_user_signup": true,
            "default_projects_limit": 100_000,
            "default_project_visibility": "private",
            "default_branch_name": null,
            "max_artifacts_size": 100,
            "default_artifacts_expire_in": "30 days",
            "ci_remote_include_hosts": [],
        })
    );

    // Others are told there is nothing here, before anything they sent is read.
    for token in [Some(ada.token.as_str()), None] {
        let expected = if token.is_some() { StatusCode::NOT_FOUND } else { StatusCode::UNAUTHORIZED };
        assert_eq!(app.api(Method::GET, SETTINGS, token, None).await.status, expected);
        let bad = json!({"default_projects_limit": "lots"});
        assert_eq!(app.api(Method::PUT, SETTINGS, token, Some(bad)).await.status, expected);
        let good = json!({"signup_enabled": false});
        assert_eq!(app.api(Method::PUT, SETTINGS, token, Some(good)).await.status, expected);
    }

    // python-gitlab's round trip, and its command line's `--signup-enabled false` (text).
    let changed = app.api(Method::PUT, SETTINGS, admin, Some(json!({"default_projects_limit": 42}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["default_projects_limit"], 42);
    let cli = app.api(Method::PUT, SETTINGS, admin, Some(json!({"signup_enabled": "false"}))).await;
    assert_eq!(cli.json()["signup_enabled"], false, "{}", cli.body);
    let form = axum::http::Request::builder()
        .method(Method::PUT)
        .uri(SETTINGS)
        .header("PRIVATE-TOKEN", &root.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("default_branch_name=trunk"))
        .unwrap();
    assert_eq!(app.send(form).await.status, StatusCode::OK);
    let read = app.api(Method::GET, SETTINGS, admin, None).await.json();
    assert_eq!(
        (&read["default_projects_limit"], &read["signup_enabled"], &read["default_branch_name"]),
        (&json!(42), &json!(false), &json!("trunk"))
    );
    assert!(!app.core.manage().signup_enabled().await.unwrap(), "sign-up reads the same setting");

    // Settings Gantry does not have are ignored; a request with none it has is refused.
    let mixed = json!({"throttle_authenticated_api_enabled": true, "default_project_visibility": "internal"});
    let mixed = app.api(Method::PUT, SETTINGS, admin, Some(mixed)).await;
    assert_eq!(mixed.status, StatusCode::OK, "{}", mixed.body);
    assert_eq!(mixed.json()["default_project_visibility"], "internal");
    assert!(mixed.json().get("throttle_authenticated_api_enabled").is_none());
    let unknown = app.api(Method::PUT, SETTINGS, admin, Some(json!({"gravatar_enabled": false}))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.json()["message"].as_str().unwrap().contains("are missing, at least one parameter must be provided")
    );

    // `null` (or empty) puts the first branch back to `main`.
    let reset = app.api(Method::PUT, SETTINGS, admin, Some(json!({"default_branch_name": null}))).await;
    assert_eq!(reset.json()["default_branch_name"], Value::Null, "{}", reset.body);
}

#[tokio::test]
async fn bad_values_are_refused_with_nothing_written() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let admin = Some(root.token.as_str());
    let before = app.api(Method::GET, SETTINGS, admin, None).await.json();
    let cases = [
        (json!({"default_projects_limit": -1}), "default_projects_limit must be greater than or equal to 0"),
        (
            json!({"default_projects_limit": 3_000_000_000_i64}),
            "default_projects_limit must be less than or equal to 2147483647",
        ),
        (json!({"default_projects_limit": "many"}), "default_projects_limit is invalid"),
        (json!({"signup_enabled": "perhaps"}), "signup_enabled is invalid"),
        (json!({"default_project_visibility": "secret"}), "default_project_visibility does not have a valid value"),
        (json!({"default_branch_name": "bad..name"}), "default_branch_name 'bad..name' is not a valid branch name"),
        (json!({"max_artifacts_size": 0}), "max_artifacts_size must be greater than 0"),
        (json!({"default_artifacts_expire_in": "soonish"}), "default_artifacts_expire_in is not a correct duration"),
        (json!({"default_artifacts_expire_in": " "}), "default_artifacts_expire_in can't be blank"),
        // One bad value spoils the whole request: the good one beside it is not written.
        (json!({"signup_enabled": false, "max_artifacts_size": -5}), "max_artifacts_size must be greater than 0"),
    ];
    for (body, message) in cases {
        let refused = app.api(Method::PUT, SETTINGS, admin, Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert_eq!(refused.json()["message"], message, "{body}");
    }
    assert_eq!(app.api(Method::GET, SETTINGS, admin, None).await.json(), before, "nothing was written");
}

async fn create_project(app: &TestApp, token: &str, body: Value) -> crate::support::TestResponse {
    app.api(Method::POST, "/api/v4/projects", Some(token), Some(body)).await
}

#[tokio::test]
async fn new_accounts_get_the_default_limit_on_personal_projects() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let admin = Some(root.token.as_str());
    let veteran = app.user("veteran").await;
    let limit = app.api(Method::PUT, SETTINGS, admin, Some(json!({"default_projects_limit": 1}))).await;
    assert_eq!(limit.status, StatusCode::OK);

    let newbie = app.user("newbie").await;
    let first = create_project(&app, &newbie.token, json!({"name": "first"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = create_project(&app, &newbie.token, json!({"name": "second"})).await;
    assert_eq!(second.status, StatusCode::FORBIDDEN, "{}", second.body);
    assert_eq!(
        second.json()["message"],
        "Your project limit is 1 projects! Please contact your administrator to increase it"
    );

    // Projects in groups do not count, nor are they limited; a transfer into the personal
    // namespace is.
    let group =
        app.api(Method::POST, "/api/v4/groups", Some(&newbie.token), Some(json!({"name": "Team", "path": "team"})));
    let group_id = group.await.json()["id"].as_i64().unwrap();
    let in_group = create_project(&app, &newbie.token, json!({"name": "shared", "namespace_id": group_id})).await;
    assert_eq!(in_group.status, StatusCode::CREATED, "{}", in_group.body);
    let personal_namespace = first.json()["namespace"]["id"].as_i64().unwrap();
    let transfer = format!("/api/v4/projects/{}/transfer", in_group.json()["id"]);
    let moved =
        app.api(Method::PUT, &transfer, Some(&newbie.token), Some(json!({"namespace": personal_namespace}))).await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN, "{}", moved.body);

    // Accounts made before keep their limit, as in GitLab.
    for name in ["one", "two"] {
        assert_eq!(create_project(&app, &veteran.token, json!({"name": name})).await.status, StatusCode::CREATED);
    }

    // An administrator raises the newbie's limit; then the transfer goes through.
    let admin_actor = Actor::User(root.user.clone());
    app.core.manage().set_projects_limit(&admin_actor, newbie.user.id, 5).await.unwrap();
    let counted = app.core.manage().personal_projects(&Actor::User(newbie.user.clone()), newbie.user.id).await.unwrap();
    assert_eq!((counted.limit, counted.count), (5, 1));
    let moved =
        app.api(Method::PUT, &transfer, Some(&newbie.token), Some(json!({"namespace": personal_namespace}))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let stranger = Actor::User(veteran.user.clone());
    assert!(app.core.manage().set_projects_limit(&stranger, newbie.user.id, 9).await.is_err());
    assert!(app.core.manage().personal_projects(&stranger, newbie.user.id).await.is_err());

    // With 0, new accounts cannot have projects of their own at all.
    app.api(Method::PUT, SETTINGS, admin, Some(json!({"default_projects_limit": 0}))).await;
    let none = app.user("none").await;
    let refused = create_project(&app, &none.token, json!({"name": "mine"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json()["message"],
        "Personal project creation is not allowed. Please contact your administrator with questions"
    );
    let page = app.page(Method::POST, "/projects", Some(&none), Some(&[("name", "mine")])).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Personal project creation is not allowed"), "{}", page.body);
}

#[tokio::test]
async fn new_projects_take_the_default_visibility_and_first_branch() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let admin = Some(root.token.as_str());
    let defaults = json!({"default_project_visibility": "public", "default_branch_name": "trunk"});
    assert_eq!(app.api(Method::PUT, SETTINGS, admin, Some(defaults)).await.status, StatusCode::OK);

    let made = create_project(&app, &ada.token, json!({"name": "open", "initialize_with_readme": true})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!((&made.json()["visibility"], &made.json()["default_branch"]), (&json!("public"), &json!("trunk")));
    let id = made.json()["id"].as_i64().unwrap();
    let branch = app.api(Method::GET, &format!("/api/v4/projects/{id}/repository/branches/trunk"), None, None).await;
    assert_eq!(branch.status, StatusCode::OK, "the first commit is on the default branch: {}", branch.body);
    let chosen = create_project(&app, &ada.token, json!({"name": "closed", "visibility": "private"})).await;
    assert_eq!(chosen.json()["visibility"], "private", "the creator's choice wins");

    // In a private group the default yields to the group's limit; an explicit choice does not.
    let group =
        app.api(Method::POST, "/api/v4/groups", Some(&ada.token), Some(json!({"name": "Quiet", "path": "quiet"})));
    let group_id = group.await.json()["id"].as_i64().unwrap();
    let in_group = create_project(&app, &ada.token, json!({"name": "inner", "namespace_id": group_id})).await;
    assert_eq!(in_group.json()["visibility"], "private", "{}", in_group.body);
    let too_open = json!({"name": "loud", "namespace_id": group_id, "visibility": "public"});
    assert_eq!(create_project(&app, &ada.token, too_open).await.status, StatusCode::BAD_REQUEST);

    // The new-project form starts on the default visibility.
    let form = app.page(Method::GET, "/projects/new", Some(&ada), None).await;
    assert!(form.body.contains("value=\"public\" checked"), "{}", form.body);
}

/// Runs a pipeline in a new project `name` and uploads an artifact of its job (a small zip, or
/// `size` bytes); the upload's status and the job.
async fn run_and_upload(
    app: &TestApp,
    token_owner: &crate::support::TestUser,
    name: &str,
    query: &str,
    size: usize,
) -> (StatusCode, Value) {
    let ci = b"build:\n  script: make\n  artifacts:\n    paths: [out]\n";
    let (project, sha) = app.project_with_file(token_owner, name, ".gitlab-ci.yml", ci).await;
    let request = PipelineRequest {
        ref_name: "main".into(),
        is_tag: false,
        sha,
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(token_owner.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    app.core.ci().create_pipeline(&project, request).await.unwrap().unwrap();
    let runner = app.instance_runner().await;
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    let (job, token) = (taken.json()["id"].as_i64().unwrap(), taken.json()["token"].as_str().unwrap().to_owned());
    let body = if size == 0 { zip_of(&[("out", b"built")]) } else { vec![b'x'; size] };
    let uploaded = app.job_request(Method::POST, &format!("/api/v4/jobs/{job}/artifacts?{query}"), &token, body).await;
    let job_json = app
        .api(Method::GET, &format!("/api/v4/projects/{}/jobs/{job}", project.id.0), Some(&token_owner.token), None)
        .await;
    (uploaded.status, job_json.json())
}

#[tokio::test]
async fn artifacts_follow_the_size_and_lifetime_settings() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let admin = Some(root.token.as_str());
    assert_eq!(app.core.ci().max_artifact_size().await.unwrap(), 100 << 20, "the server's default");

    // Without `expire_in`, artifacts live as long as the instance says; `0` keeps them.
    let (status, job) = run_and_upload(&app, &root, "month", "artifact_type=archive", 0).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(job["artifacts_expire_at"].is_string(), "30 days by default: {job}");
    let keep = json!({"default_artifacts_expire_in": "0", "max_artifacts_size": 1});
    assert_eq!(app.api(Method::PUT, SETTINGS, admin, Some(keep)).await.status, StatusCode::OK);
    let (status, job) = run_and_upload(&app, &root, "forever", "artifact_type=archive", 0).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(job["artifacts_expire_at"].is_null(), "kept for ever: {job}");
    let (status, job) = run_and_upload(&app, &root, "hour", "artifact_type=archive&expire_in=3600", 0).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(job["artifacts_expire_at"].is_string(), "the job's own expiry wins: {job}");

    // The size limit is the setting's, in MiB.
    assert_eq!(app.core.ci().max_artifact_size().await.unwrap(), 1 << 20);
    let (status, _) = run_and_upload(&app, &root, "huge", "artifact_type=archive", (1 << 20) + 1).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_admin_page_shows_and_changes_every_setting() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let page = app.page(Method::GET, "/admin/settings", Some(&root), None).await;
    assert_eq!(page.status, StatusCode::OK);
    for field in [
        "signup_enabled",
        "require_admin_approval",
        "default_projects_limit",
        "default_project_visibility",
        "default_branch_name",
        "max_artifacts_size",
        "default_artifacts_expire_in",
        "ci_remote_include_hosts",
    ] {
        assert!(page.body.contains(&format!("name=\"{field}\"")), "{field} is on the page");
    }
    assert_eq!(app.page(Method::GET, "/admin/settings", Some(&ada), None).await.status, StatusCode::NOT_FOUND);

    let form = [
        ("require_admin_approval", "1"),
        ("default_projects_limit", "7"),
        ("default_project_visibility", "internal"),
        ("default_branch_name", "develop"),
        ("max_artifacts_size", "250"),
        ("default_artifacts_expire_in", "1 week"),
        ("ci_remote_include_hosts", "ci.example.com\r\n*.example.org\r\n"),
    ];
    let saved = app.page(Method::POST, "/admin/settings", Some(&root), Some(&form)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let read = app.api(Method::GET, SETTINGS, Some(&root.token), None).await.json();
    assert_eq!(
        read,
        json!({
            "signup_enabled": false,
            "require_admin_approval_after_user_signup": true,
            "default_projects_limit": 7,
            "default_project_visibility": "internal",
            "default_branch_name": "develop",
            "max_artifacts_size": 250,
            "default_artifacts_expire_in": "1 week",
            "ci_remote_include_hosts": ["ci.example.com", "*.example.org"],
        })
    );
    let page = app.page(Method::GET, "/admin/settings", Some(&root), None).await;
    assert!(page.body.contains("value=\"internal\" selected"), "{}", page.body);

    // A bad value shows the form again with the reason, and changes nothing.
    let bad = [("default_projects_limit", "seven"), ("max_artifacts_size", "250")];
    let refused = app.page(Method::POST, "/admin/settings", Some(&root), Some(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("default_projects_limit must be a whole number"), "{}", refused.body);
    let refused =
        app.page(Method::POST, "/admin/settings", Some(&root), Some(&[("default_artifacts_expire_in", "later")])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("is not a correct duration"), "{}", refused.body);
    assert_eq!(app.api(Method::GET, SETTINGS, Some(&root.token), None).await.json(), read);
}
