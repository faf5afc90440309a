//! Project and group access tokens: the API (list, get, create, rotate, revoke), the bot user
//! behind each (a member of its project or group only, with the token's role and no more), git
//! over HTTP with one, personal-token rotation, and the settings pages.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use gantry_core::Actor;
use gantry_core::manage::groups::NewGroup;
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_types::{AccessLevel, Visibility};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

fn message(response: &TestResponse) -> String {
    let body = response.json();
    body["message"].as_str().or(body["error"].as_str()).map_or_else(|| body["message"].to_string(), str::to_owned)
}

/// A private group `acme` owned by `owner` with a project `acme/api` (a README on `main`), and
/// a Maintainer and a Developer of the group.
struct Fixture {
    app: TestApp,
    root: crate::support::TestUser,
    owner: crate::support::TestUser,
    maintainer: crate::support::TestUser,
    dev: crate::support::TestUser,
    stranger: crate::support::TestUser,
    group: i64,
    project: i64,
}

async fn fixture() -> Fixture {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let owner = app.user("owner").await;
    let maintainer = app.user("maintainer").await;
    let dev = app.user("dev").await;
    let stranger = app.user("stranger").await;
    let owner_actor = Actor::User(owner.user.clone());
    let manage = app.core.manage();
    let group = NewGroup {
        name: "Acme".into(),
        path: "acme".into(),
        visibility: Some(Visibility::Private),
        ..NewGroup::default()
    };
    let group = manage.create_group(&owner_actor, &group).await.unwrap();
    let project = NewProjectInput {
        name: "API".into(),
        namespace: Some(group.id),
        initialize_with_readme: true,
        ..NewProjectInput::default()
    };
    let project = manage.create_project(&owner_actor, &project).await.unwrap();
    for (who, level) in [(&maintainer, AccessLevel::Maintainer), (&dev, AccessLevel::Developer)] {
        manage.add_member(&owner_actor, MemberTarget::Group(&group), who.user.id, level, None).await.unwrap();
    }
    Fixture { app, root, owner, maintainer, dev, stranger, group: group.id.0, project: project.id.0 }
}

async fn create(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let created = app.api(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

#[tokio::test]
async fn project_access_tokens_act_as_a_bot_member_of_the_project() {
    let Fixture { app, root, owner, maintainer, dev, stranger, project, group } = fixture().await;
    let tokens = format!("/api/v4/projects/{project}/access_tokens");
    let m = Some(maintainer.token.as_str());

    for (who, status) in [(&dev, StatusCode::FORBIDDEN), (&stranger, StatusCode::NOT_FOUND)] {
        assert_eq!(app.api(Method::GET, &tokens, Some(&who.token), None).await.status, status);
        let body = json!({"name": "x", "scopes": ["api"]});
        assert_eq!(app.api(Method::POST, &tokens, Some(&who.token), Some(body)).await.status, status);
    }
    assert_eq!(app.api(Method::GET, &tokens, m, None).await.json(), json!([]));

    // python-gitlab's call: a name, scopes and today's date; the role defaults to Maintainer.
    let today = gantry_core::manage::tokens::format_expiry_date(gantry_core::now_millis());
    let bot =
        create(&app, &tokens, &maintainer.token, json!({"name": "bot", "scopes": ["api"], "expires_at": "2999-01-31"}))
            .await;
    assert_eq!(bot["access_level"], 40);
    assert_eq!(bot["scopes"], json!(["api"]));
    assert_eq!(bot["expires_at"], "2999-01-31");
    assert_eq!((bot["active"].clone(), bot["revoked"].clone()), (json!(true), json!(false)));
    let secret = bot["token"].as_str().unwrap().to_owned();
    let id = bot["id"].as_i64().unwrap();
    let bot_user = bot["user_id"].as_i64().unwrap();
    let cli = create(
        &app,
        &tokens,
        &maintainer.token,
        json!({"name": "cli", "scopes": "api,read_repository", "expires_at": today}),
    )
    .await;
    assert_eq!(cli["scopes"], json!(["api", "read_repository"]));

    let listed = app.api(Method::GET, &tokens, m, None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(listed.as_array().unwrap().iter().all(|t| t.get("token").is_none()), "secrets are shown once: {listed}");
    let one = app.api(Method::GET, &format!("{tokens}/{id}"), m, None).await.json();
    assert_eq!((one["name"].clone(), one["access_level"].clone()), (json!("bot"), json!(40)));

    // The bot is a user and a member of the project, with the token's role.
    let me = app.api(Method::GET, "/api/v4/user", Some(&secret), None).await.json();
    assert_eq!(me["id"], bot_user);
    assert_eq!(me["bot"], true);
    assert!(me["username"].as_str().unwrap().starts_with(&format!("project_{project}_bot_")), "{me}");
    let member = app.api(Method::GET, &format!("/api/v4/projects/{project}/members/{bot_user}"), m, None).await;
    assert_eq!(member.json()["access_level"], 40);
    let seen = app.api(Method::GET, &format!("/api/v4/projects/{project}"), Some(&secret), None).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let variable = json!({"key": "DEPLOY", "value": "yes"});
    let made =
        app.api(Method::POST, &format!("/api/v4/projects/{project}/variables"), Some(&secret), Some(variable)).await;
    assert_eq!(made.status, StatusCode::CREATED, "a Maintainer bot manages CI variables: {}", made.body);

    // Nothing beyond the project: not its group, not another project, not a new group.
    assert_eq!(
        app.api(Method::GET, &format!("/api/v4/groups/{group}"), Some(&secret), None).await.status,
        StatusCode::NOT_FOUND
    );
    let (elsewhere, _) = app.project_with_file(&owner, "Elsewhere", "README.md", b"hi").await;
    let private = app.api(Method::GET, &format!("/api/v4/projects/{}", elsewhere.id), Some(&secret), None).await;
    assert_eq!(private.status, StatusCode::NOT_FOUND, "another private project is out of reach");
    let own_group =
        app.api(Method::POST, "/api/v4/groups", Some(&secret), Some(json!({"name": "Bots", "path": "bots"}))).await;
    assert_eq!(own_group.status, StatusCode::FORBIDDEN, "{}", own_group.body);
    let own_token = app
        .api(
            Method::POST,
            "/api/v4/user/personal_access_tokens",
            Some(&secret),
            Some(json!({"name": "more", "scopes": ["api"]})),
        )
        .await;
    assert_eq!(own_token.status, StatusCode::FORBIDDEN, "{}", own_token.body);
    let elsewhere_member = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{}/members", elsewhere.id),
            Some(&owner.token),
            Some(json!({"user_id": bot_user, "access_level": 30})),
        )
        .await;
    assert_eq!(elsewhere_member.status, StatusCode::BAD_REQUEST, "{}", elsewhere_member.body);
    assert!(message(&elsewhere_member).contains("bot"), "{}", elsewhere_member.body);

    // A token's role is at most its creator's; scopes are a bot's; mistakes are named.
    for (body, expected) in [
        (json!({"name": "x", "scopes": ["api"], "access_level": 50}), "access_level Owner is above your own role"),
        (json!({"name": "x", "scopes": ["api"], "access_level": 45}), "access_level does not have a valid value"),
        (json!({"name": "x", "scopes": ["sudo"]}), "scopes does not have a valid value"),
        (json!({"name": "x", "scopes": ["read_user"]}), "scopes does not have a valid value"),
        (json!({"name": "x"}), "scopes can't be blank"),
        (json!({"scopes": ["api"]}), "name"),
        (json!({"name": "x", "scopes": ["api"], "expires_at": "2001-01-01"}), "expires_at must not be in the past"),
    ] {
        let refused = app.api(Method::POST, &tokens, m, Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert!(message(&refused).contains(expected), "{body}: {}", refused.body);
    }
    let owners =
        create(&app, &tokens, &owner.token, json!({"name": "owner-bot", "scopes": ["read_api"], "access_level": 50}))
            .await;
    assert_eq!(owners["access_level"], 50);
    let default_expiry = owners["expires_at"].as_str().unwrap();
    assert!(default_expiry > today.as_str(), "no date: a year ahead, {default_expiry}");

    // Rotating gives a new secret; the old one stops working.
    let rotated = app.api(Method::POST, &format!("{tokens}/{id}/rotate"), m, Some(json!({}))).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let rotated = rotated.json();
    let new_secret = rotated["token"].as_str().unwrap();
    assert_ne!(rotated["id"], id);
    assert_eq!((rotated["user_id"].clone(), rotated["access_level"].clone()), (json!(bot_user), json!(40)));
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&secret), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(new_secret), None).await.status, StatusCode::OK);
    let again = app.api(Method::POST, &format!("{tokens}/{id}/rotate"), m, Some(json!({}))).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a revoked token is not rotated: {}", again.body);
    let inactive = app.api(Method::GET, &format!("{tokens}?state=inactive"), m, None).await.json();
    let names: Vec<&str> = inactive.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cli", "bot"], "expiring today is expired already; the rotated one is revoked");
    assert_eq!(
        app.api(Method::GET, &format!("{tokens}?state=sideways"), m, None).await.status,
        StatusCode::BAD_REQUEST
    );

    // Revoking blocks the bot: its token opens nothing.
    let new_id = rotated["id"].as_i64().unwrap();
    assert_eq!(
        app.api(Method::DELETE, &format!("{tokens}/{new_id}"), Some(&dev.token), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.api(Method::DELETE, &format!("{tokens}/{new_id}"), m, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(new_secret), None).await.status, StatusCode::UNAUTHORIZED);
    let shown = app.api(Method::GET, &format!("{tokens}/{new_id}"), m, None).await.json();
    assert_eq!((shown["revoked"].clone(), shown["active"].clone()), (json!(true), json!(false)));
    let not_ours = format!("/api/v4/projects/{}/access_tokens/{new_id}", elsewhere.id);
    assert_eq!(app.api(Method::GET, &not_ours, Some(&owner.token), None).await.status, StatusCode::NOT_FOUND);

    // Deleting the project deletes its bots.
    let cli_user = cli["user_id"].as_i64().unwrap();
    let deleted = app.api(Method::DELETE, &format!("/api/v4/projects/{project}"), Some(&owner.token), None).await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    let gone = app.api(Method::GET, &format!("/api/v4/users/{cli_user}"), Some(&root.token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "the bot went with its project: {}", gone.body);
}

#[tokio::test]
async fn group_access_tokens_reach_the_group_and_its_projects() {
    let Fixture { app, owner, maintainer, project, group, .. } = fixture().await;
    let tokens = format!("/api/v4/groups/{group}/access_tokens");
    let m = Some(maintainer.token.as_str());
    assert_eq!(app.api(Method::GET, &tokens, m, None).await.status, StatusCode::FORBIDDEN, "Owners only");
    let body = json!({"name": "fleet", "scopes": ["read_repository", "read_api"], "access_level": 20});
    assert_eq!(app.api(Method::POST, &tokens, m, Some(body.clone())).await.status, StatusCode::FORBIDDEN);
    let made = create(&app, &tokens, &owner.token, body).await;
    assert_eq!(made["access_level"], 20);
    let secret = made["token"].as_str().unwrap().to_owned();
    let me = app.api(Method::GET, "/api/v4/user", Some(&secret), None).await.json();
    assert!(me["username"].as_str().unwrap().starts_with(&format!("group_{group}_bot_")), "{me}");

    let seen = app.api(Method::GET, &format!("/api/v4/projects/{project}/repository/tree"), Some(&secret), None).await;
    assert_eq!(seen.status, StatusCode::OK, "a Reporter of the group reads its projects' code: {}", seen.body);
    let write = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{project}/variables"),
            Some(&secret),
            Some(json!({"key": "K", "value": "v"})),
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "read_api cannot write: {}", write.body);

    // git over HTTP: the token is the password, any user name.
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("anything:{secret}"));
    let request = Request::builder()
        .method(Method::GET)
        .uri("/acme/api.git/info/refs?service=git-upload-pack")
        .header("authorization", format!("Basic {credentials}"))
        .body(Body::empty())
        .unwrap();
    let fetched = app.send(request).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.body);
    assert!(fetched.body.contains("refs/heads/main"));

    let listed = app.api(Method::GET, &tokens, Some(&owner.token), None).await.json();
    assert_eq!(listed[0]["name"], "fleet");
    let id = made["id"].as_i64().unwrap();
    let project_view = format!("/api/v4/projects/{project}/access_tokens/{id}");
    assert_eq!(
        app.api(Method::GET, &project_view, Some(&owner.token), None).await.status,
        StatusCode::NOT_FOUND,
        "a group's token is not the project's"
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("{tokens}/{id}"), Some(&owner.token), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&secret), None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn personal_access_tokens_rotate() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let mine = app.api(Method::GET, "/api/v4/personal_access_tokens", Some(&ada.token), None).await.json();
    let id = mine[0]["id"].as_i64().unwrap();
    let path = format!("/api/v4/personal_access_tokens/{id}/rotate");
    assert_eq!(app.api(Method::POST, &path, Some(&bob.token), Some(json!({}))).await.status, StatusCode::NOT_FOUND);
    let rotated = app.api(Method::POST, &path, Some(&ada.token), Some(json!({"expires_at": "2999-12-31"}))).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let rotated = rotated.json();
    assert_eq!(rotated["expires_at"], "2999-12-31");
    assert_eq!(rotated["name"], mine[0]["name"]);
    let secret = rotated["token"].as_str().unwrap();
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&ada.token), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(secret), None).await.json()["username"], "ada");
}

#[tokio::test]
async fn access_tokens_pages() {
    let Fixture { app, owner, maintainer, dev, .. } = fixture().await;
    let page = "/acme/api/-/settings/access_tokens";
    assert_eq!(app.page(Method::GET, page, Some(&dev), None).await.status, StatusCode::FORBIDDEN);
    let empty = app.page(Method::GET, page, Some(&maintainer), None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("No access tokens."));
    assert!(!empty.body.contains(r#"<option value="50""#), "a Maintainer cannot give Owner");

    let form = [("name", "deployer"), ("access_level", "30"), ("scopes", "read_api"), ("scopes", "read_repository")];
    let created = app.follow(app.page(Method::POST, page, Some(&maintainer), Some(&form)).await, &maintainer).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("Access token created."), "{}", created.body);
    assert!(created.body.contains("gpat-"));
    assert!(created.body.contains("deployer") && created.body.contains("Developer"));

    let refused = app.page(Method::POST, page, Some(&maintainer), Some(&[("name", "nothing")])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("choose at least one"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="nothing""#), "the name is kept");

    let listed =
        app.api(Method::GET, "/api/v4/projects/acme%2Fapi/access_tokens", Some(&maintainer.token), None).await.json();
    let id = listed[0]["id"].to_string();
    let rotated =
        app.page(Method::POST, &format!("{page}/rotate"), Some(&maintainer), Some(&[("token_id", &id)])).await;
    let rotated = app.follow(rotated, &maintainer).await;
    assert!(rotated.body.contains("Access token rotated."));
    // Shown once: the list again shows no secret.
    assert!(!app.page(Method::GET, page, Some(&maintainer), None).await.body.contains("gpat-"));
    let listed = app
        .api(Method::GET, "/api/v4/projects/acme%2Fapi/access_tokens?state=active", Some(&maintainer.token), None)
        .await
        .json();
    let new_id = listed[0]["id"].to_string();
    let revoked =
        app.page(Method::POST, &format!("{page}/revoke"), Some(&maintainer), Some(&[("token_id", &new_id)])).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let after = app.page(Method::GET, page, Some(&maintainer), None).await;
    assert_eq!(after.body.matches(">revoked<").count(), 2, "{}", after.body);

    let group_page = "/acme/-/settings/access_tokens";
    assert_eq!(app.page(Method::GET, group_page, Some(&maintainer), None).await.status, StatusCode::FORBIDDEN);
    let group_view = app.page(Method::GET, group_page, Some(&owner), None).await;
    assert_eq!(group_view.status, StatusCode::OK, "{}", group_view.body);
    assert!(group_view.body.contains("Group access tokens"));
    let made = app
        .page(
            Method::POST,
            group_page,
            Some(&owner),
            Some(&[("name", "fleet"), ("scopes", "api"), ("access_level", "50")]),
        )
        .await;
    let made = app.follow(made, &owner).await;
    assert!(made.body.contains("Owner") && made.body.contains("gpat-"), "{}", made.body);
}
