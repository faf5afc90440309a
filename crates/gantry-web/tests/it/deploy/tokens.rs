//! Deploy tokens through the API (projects' and groups'), git's smart HTTP with them (fetch
//! only, never push; revoked and expired ones refused), and the deploy settings pages.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use gantry_core::Actor;
use gantry_core::manage::groups::NewGroup;
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_types::{AccessLevel, Visibility};
use serde_json::{Value, json};

use super::{fingerprint, key, message, project_of};
use crate::support::{TestApp, TestResponse, TestUser};

#[tokio::test]
async fn deploy_tokens_of_projects_and_groups() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let owner = app.user("owner").await;
    let maintainer = app.user("maintainer").await;
    let dev = app.user("dev").await;
    let stranger = app.user("stranger").await;
    let owner_actor = Actor::User(owner.user.clone());
    let group = app
        .core
        .manage()
        .create_group(
            &owner_actor,
            &NewGroup {
                name: "Acme".into(),
                path: "acme".into(),
                visibility: Some(Visibility::Private),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    let project = app
        .core
        .manage()
        .create_project(
            &owner_actor,
            &NewProjectInput { name: "API".into(), namespace: Some(group.id), ..NewProjectInput::default() },
        )
        .await
        .unwrap();
    for (who, level) in [(&maintainer, AccessLevel::Maintainer), (&dev, AccessLevel::Developer)] {
        app.core
            .manage()
            .add_member(&owner_actor, MemberTarget::Group(&group), who.user.id, level, None)
            .await
            .unwrap();
    }
    let tokens = format!("/api/v4/projects/{}/deploy_tokens", project.id);
    let m = Some(maintainer.token.as_str());

    let body = json!({"name": "foo", "username": "bar", "expires_at": "2999-01-31", "scopes": ["read_registry"]});
    for (who, status) in [(&dev, StatusCode::FORBIDDEN), (&stranger, StatusCode::NOT_FOUND)] {
        assert_eq!(app.api(Method::POST, &tokens, Some(&who.token), Some(json!({}))).await.status, status);
        assert_eq!(app.api(Method::GET, &tokens, Some(&who.token), None).await.status, status);
    }
    let created = app.api(Method::POST, &tokens, m, Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = created.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["expires_at"], "2999-01-31T00:00:00.000Z");
    assert_eq!(created["scopes"], json!(["read_registry"]));
    assert_eq!(created["username"], "bar");
    assert_eq!((created["revoked"].clone(), created["expired"].clone()), (json!(false), json!(false)));
    assert!(created["token"].as_str().unwrap().starts_with("gldt-"));
    let one = app.api(Method::GET, &format!("{tokens}/{id}"), m, None).await.json();
    assert_eq!(one["name"], "foo");
    assert!(one.get("token").is_none(), "the token is shown once: {one}");

    // The command line sends scopes as one comma-separated text; the user name defaults.
    let form = Request::builder()
        .method(Method::POST)
        .uri(&tokens)
        .header("PRIVATE-TOKEN", &maintainer.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("name=cli&scopes=read_repository,read_registry&expires_at=2001-01-01"))
        .unwrap();
    let cli = app.send(form).await;
    assert_eq!(cli.status, StatusCode::CREATED, "{}", cli.body);
    let cli = cli.json();
    assert_eq!(cli["scopes"], json!(["read_repository", "read_registry"]));
    assert_eq!(cli["username"], format!("gitlab+deploy-token-{}", cli["id"]));
    assert_eq!(cli["expired"], true, "a date that has passed is taken, as GitLab takes it");
    let active = app.api(Method::GET, &format!("{tokens}?active=true"), m, None).await.json();
    assert_eq!(active.as_array().unwrap().len(), 1);

    for (body, expected) in [
        (json!({"scopes": ["read_repository"]}), "name can't be blank"),
        (json!({"name": "x"}), "scopes can't be blank"),
        (json!({"name": "x", "scopes": ["api"]}), "scopes does not have a valid value"),
        (json!({"name": "x", "scopes": ["read_repository"], "username": "has space"}), "username can contain only"),
        (json!({"name": "x", "scopes": ["read_repository"], "expires_at": "someday"}), "expires_at is invalid"),
    ] {
        let refused = app.api(Method::POST, &tokens, m, Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert!(message(&refused).contains(expected), "{body}: {}", refused.body);
    }
    assert_eq!(app.api(Method::GET, &tokens, m, None).await.json().as_array().unwrap().len(), 2, "nothing more");

    // Group tokens: Maintainers see them, Owners make and delete them.
    let group_tokens = format!("/api/v4/groups/{}/deploy_tokens", group.id);
    let group_body = json!({"name": "fleet", "scopes": "read_repository"});
    assert_eq!(app.api(Method::POST, &group_tokens, m, Some(group_body.clone())).await.status, StatusCode::FORBIDDEN);
    let made = app.api(Method::POST, &group_tokens, Some(&owner.token), Some(group_body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let group_token = made.json()["id"].as_i64().unwrap();
    assert_eq!(app.api(Method::GET, &group_tokens, m, None).await.json()[0]["name"], "fleet");
    assert_eq!(app.api(Method::GET, &group_tokens, Some(&dev.token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api(Method::GET, &format!("{tokens}/{group_token}"), m, None).await.status,
        StatusCode::NOT_FOUND,
        "a group's token is not the project's"
    );

    // The administrators' listing holds them all.
    assert_eq!(app.api(Method::GET, "/api/v4/deploy_tokens", m, None).await.status, StatusCode::NOT_FOUND);
    let all = app.api(Method::GET, "/api/v4/deploy_tokens", Some(&root.token), None).await.json();
    assert_eq!(all.as_array().unwrap().len(), 3);

    assert_eq!(app.api(Method::DELETE, &format!("{tokens}/{id}"), m, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, &format!("{tokens}/{id}"), m, None).await.status, StatusCode::NOT_FOUND);
    let by_owner = app.api(Method::DELETE, &format!("{group_tokens}/{group_token}"), Some(&owner.token), None).await;
    assert_eq!(by_owner.status, StatusCode::NO_CONTENT);
}

/// A git smart-HTTP request with Basic credentials `login:secret`.
async fn git(app: &TestApp, path: &str, login: &str, secret: &str) -> TestResponse {
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{secret}"));
    let request =
        Request::builder().method(Method::GET).uri(path).header("authorization", format!("Basic {credentials}"));
    app.send(request.body(Body::empty()).unwrap()).await
}

async fn token(app: &TestApp, who: &TestUser, path: &str, body: Value) -> (String, String) {
    let created = app.api(Method::POST, path, Some(&who.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = created.json();
    (created["username"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn deploy_tokens_fetch_over_http_and_never_push() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let owner_actor = Actor::User(owner.user.clone());
    let group = app
        .core
        .manage()
        .create_group(
            &owner_actor,
            &NewGroup {
                name: "Acme".into(),
                path: "acme".into(),
                visibility: Some(Visibility::Private),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    let sub = app
        .core
        .manage()
        .create_group(
            &owner_actor,
            &NewGroup { name: "Tools".into(), path: "tools".into(), parent: Some(group.id), ..NewGroup::default() },
        )
        .await
        .unwrap();
    let project = |name: &str, namespace| NewProjectInput {
        name: name.into(),
        namespace: Some(namespace),
        initialize_with_readme: true,
        ..NewProjectInput::default()
    };
    let api = app.core.manage().create_project(&owner_actor, &project("API", group.id)).await.unwrap();
    let cli = app.core.manage().create_project(&owner_actor, &project("CLI", sub.id)).await.unwrap();
    let (elsewhere, _) = app.project_with_file(&owner, "Elsewhere", "README.md", b"hi").await;
    let tokens = format!("/api/v4/projects/{}/deploy_tokens", api.id);
    let fetch = |path: &str| format!("/{path}.git/info/refs?service=git-upload-pack");
    let push = |path: &str| format!("/{path}.git/info/refs?service=git-receive-pack");

    let (user, secret) =
        token(&app, &owner, &tokens, json!({"name": "ci", "username": "ci", "scopes": ["read_repository"]})).await;
    let fetched = git(&app, &fetch("acme/api"), &user, &secret).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
    assert!(fetched.body.contains("refs/heads/main"), "{}", fetched.body);
    let pushed = git(&app, &push("acme/api"), &user, &secret).await;
    assert_eq!(pushed.status, StatusCode::FORBIDDEN);
    assert!(pushed.body.contains("a deploy token cannot push"), "{}", pushed.body);
    assert_eq!(git(&app, &fetch("acme/api"), "someone-else", &secret).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(git(&app, &fetch("acme/tools/cli"), &user, &secret).await.status, StatusCode::NOT_FOUND);
    assert_eq!(git(&app, &fetch(&elsewhere.full_path), &user, &secret).await.status, StatusCode::NOT_FOUND);

    let (registry_user, registry) =
        token(&app, &owner, &tokens, json!({"name": "r", "scopes": ["read_registry"]})).await;
    let refused = git(&app, &fetch("acme/api"), &registry_user, &registry).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("read_repository"), "{}", refused.body);
    let (old_user, old) = token(
        &app,
        &owner,
        &tokens,
        json!({"name": "old", "scopes": ["read_repository"], "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(git(&app, &fetch("acme/api"), &old_user, &old).await.status, StatusCode::UNAUTHORIZED);

    // Revoked on the settings page: it stops working and stays listed as revoked.
    let listed = app.api(Method::GET, &tokens, Some(&owner.token), None).await.json();
    let ci = listed[0]["id"].to_string();
    let revoked = app
        .page(Method::POST, "/acme/api/-/settings/deploy/tokens/revoke", Some(&owner), Some(&[("token_id", &ci)]))
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(git(&app, &fetch("acme/api"), &user, &secret).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api(Method::GET, &format!("{tokens}/{ci}"), Some(&owner.token), None).await.json()["revoked"], true);

    // A group's token fetches from every project below it.
    let group_tokens = format!("/api/v4/groups/{}/deploy_tokens", group.id);
    let (fleet, fleet_secret) =
        token(&app, &owner, &group_tokens, json!({"name": "fleet", "scopes": ["read_repository"]})).await;
    assert_eq!(git(&app, &fetch("acme/api"), &fleet, &fleet_secret).await.status, StatusCode::OK);
    assert_eq!(git(&app, &fetch("acme/tools/cli"), &fleet, &fleet_secret).await.status, StatusCode::OK);
    assert_eq!(git(&app, &fetch(&elsewhere.full_path), &fleet, &fleet_secret).await.status, StatusCode::NOT_FOUND);
    assert_eq!(git(&app, &push(&cli.full_path), &fleet, &fleet_secret).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_settings_pages_add_keys_and_show_a_new_token_once() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let maintainer = app.user("maintainer").await;
    let dev = app.user("dev").await;
    let owner_actor = Actor::User(owner.user.clone());
    let group = app
        .core
        .manage()
        .create_group(
            &owner_actor,
            &NewGroup {
                name: "Acme".into(),
                path: "acme".into(),
                visibility: Some(Visibility::Private),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    let api = app
        .core
        .manage()
        .create_project(
            &owner_actor,
            &NewProjectInput { name: "API".into(), namespace: Some(group.id), ..NewProjectInput::default() },
        )
        .await
        .unwrap();
    let web = project_of(&app, &maintainer, "Web").await;
    for (who, level) in [(&maintainer, AccessLevel::Maintainer), (&dev, AccessLevel::Developer)] {
        app.core
            .manage()
            .add_member(&owner_actor, MemberTarget::Group(&group), who.user.id, level, None)
            .await
            .unwrap();
    }
    let page = "/acme/api/-/settings/deploy";
    assert_eq!(app.page(Method::GET, page, Some(&dev), None).await.status, StatusCode::FORBIDDEN);
    let empty = app.page(Method::GET, page, Some(&maintainer), None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("No deploy keys.") && empty.body.contains("No deploy tokens."), "{}", empty.body);

    // A bad key keeps what was typed; a good one is listed, and offered to the Maintainer's other project.
    let bad = app
        .page(
            Method::POST,
            "/acme/api/-/settings/deploy/keys",
            Some(&maintainer),
            Some(&[("key", "nonsense"), ("title", "ci")]),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("nonsense") && bad.body.contains("not a valid OpenSSH public key"), "{}", bad.body);
    let ci_key = key(1, "ci@host");
    let added = app
        .page(
            Method::POST,
            "/acme/api/-/settings/deploy/keys",
            Some(&maintainer),
            Some(&[("key", &ci_key), ("title", ""), ("can_push", "1")]),
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let listed = app.page(Method::GET, page, Some(&maintainer), None).await;
    assert!(listed.body.contains("ci@host") && listed.body.contains(&fingerprint(&ci_key)), "{}", listed.body);
    assert!(listed.body.contains("name=\"can_push\" value=\"1\" checked"), "write access is shown");
    let keys = app
        .api(Method::GET, &format!("/api/v4/projects/{}/deploy_keys", api.id), Some(&maintainer.token), None)
        .await
        .json();
    let id = keys[0]["id"].to_string();
    let other = app.page(Method::GET, &format!("/{}/-/settings/deploy", web.full_path), Some(&maintainer), None).await;
    assert!(other.body.contains("Enable a key used elsewhere") && other.body.contains("ci@host"), "{}", other.body);
    let enabled = app
        .page(
            Method::POST,
            &format!("/{}/-/settings/deploy/keys/enable", web.full_path),
            Some(&maintainer),
            Some(&[("key_id", &id)]),
        )
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    let read_only = app
        .page(Method::POST, "/acme/api/-/settings/deploy/keys/update", Some(&maintainer), Some(&[("key_id", &id)]))
        .await;
    assert_eq!(read_only.status, StatusCode::SEE_OTHER);
    let keys = app
        .api(Method::GET, &format!("/api/v4/projects/{}/deploy_keys", api.id), Some(&maintainer.token), None)
        .await
        .json();
    assert_eq!(keys[0]["can_push"], false);
    let removed = app
        .page(Method::POST, "/acme/api/-/settings/deploy/keys/disable", Some(&maintainer), Some(&[("key_id", &id)]))
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app.page(Method::GET, page, Some(&maintainer), None).await.body.contains("No deploy keys."));

    // A token is shown once, on the page the form's redirect leads to.
    let no_scope =
        app.page(Method::POST, "/acme/api/-/settings/deploy/tokens", Some(&maintainer), Some(&[("name", "ci")])).await;
    assert_eq!(no_scope.status, StatusCode::BAD_REQUEST);
    assert!(no_scope.body.contains("Scopes can&#39;t be blank: choose at least one"), "{}", no_scope.body);
    let made = app
        .page(
            Method::POST,
            "/acme/api/-/settings/deploy/tokens",
            Some(&maintainer),
            Some(&[("name", "ci"), ("username", "ci-bot"), ("scopes", "read_repository"), ("scopes", "read_registry")]),
        )
        .await;
    let made = app.follow(made, &maintainer).await;
    assert!(made.body.contains("gldt-") && made.body.contains("ci-bot"), "{}", made.body);
    let again = app.page(Method::GET, page, Some(&maintainer), None).await;
    assert!(!again.body.contains("gldt-") && again.body.contains("read_repository, read_registry"), "{}", again.body);

    // The group's page: Maintainers read, Owners create.
    let group_page = "/acme/-/settings/deploy";
    let seen = app.page(Method::GET, group_page, Some(&maintainer), None).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains("New deploy token"), "Maintainers do not get the form");
    let refused = app
        .page(
            Method::POST,
            "/acme/-/settings/deploy/tokens",
            Some(&maintainer),
            Some(&[("name", "x"), ("scopes", "read_repository")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let made = app
        .page(
            Method::POST,
            "/acme/-/settings/deploy/tokens",
            Some(&owner),
            Some(&[("name", "fleet"), ("scopes", "read_repository")]),
        )
        .await;
    let made = app.follow(made, &owner).await;
    assert!(made.body.contains("gldt-") && made.body.contains("gitlab+deploy-token-"), "{}", made.body);
    assert!(app.page(Method::GET, group_page, Some(&owner), None).await.body.contains("fleet"));
}
