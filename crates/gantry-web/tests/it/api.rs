//! The v4 API used the way GitLab's clients use it.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn groups_subgroups_projects_members_and_pagination() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let t = Some(ada.token.as_str());

    let me = app.api(Method::GET, "/api/v4/user", t, None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "ada");
    assert_eq!(me.json()["is_admin"], true, "the first account is the administrator");

    let acme = app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "Acme", "path": "acme"}))).await;
    assert_eq!(acme.status, StatusCode::CREATED, "{}", acme.body);
    let acme_id = acme.json()["id"].as_i64().unwrap();
    let platform = app
        .api(
            Method::POST,
            "/api/v4/groups",
            t,
            Some(json!({"name": "Platform", "path": "platform", "parent_id": acme_id})),
        )
        .await;
    assert_eq!(platform.json()["full_path"], "acme/platform");
    let platform_id = platform.json()["id"].as_i64().unwrap();

    for name in ["api", "web", "cli"] {
        let created = app
            .api(Method::POST, "/api/v4/projects", t, Some(json!({"name": name, "namespace_id": platform_id})))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.json()["path_with_namespace"], format!("acme/platform/{name}"));
    }
    let by_path = app.api(Method::GET, "/api/v4/projects/acme%2Fplatform%2Fapi", t, None).await;
    assert_eq!(by_path.status, StatusCode::OK);
    assert_eq!(by_path.json()["http_url_to_repo"], "http://gantry.test/acme/platform/api.git");
    let project_id = by_path.json()["id"].as_i64().unwrap();

    let page1 = app.api(Method::GET, "/api/v4/projects?per_page=2&order_by=name&sort=asc", t, None).await;
    assert_eq!(page1.header("x-total"), "3");
    assert_eq!(page1.header("x-next-page"), "2");
    assert!(page1.header("link").contains("rel=\"next\""));
    assert_eq!(page1.json().as_array().unwrap().len(), 2);
    assert_eq!(page1.json()[0]["name"], "api");
    let page2 = app.api(Method::GET, "/api/v4/projects?per_page=2&page=2&order_by=name&sort=asc", t, None).await;
    assert_eq!(page2.json().as_array().unwrap().len(), 1);
    assert_eq!(page2.header("x-next-page"), "");

    // Bob sees nothing private until he is a member; then he sees through inheritance.
    let hidden = app.api(Method::GET, &format!("/api/v4/projects/{project_id}"), Some(&bob.token), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.json()["message"], "404 Project Not Found");
    let added = app
        .api(
            Method::POST,
            &format!("/api/v4/groups/{acme_id}/members"),
            t,
            Some(json!({"user_id": bob.user.id.0, "access_level": 30})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let seen = app.api(Method::GET, &format!("/api/v4/projects/{project_id}"), Some(&bob.token), None).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.json()["permissions"]["project_access"]["access_level"], 30);
    let all = app.api(Method::GET, &format!("/api/v4/projects/{project_id}/members/all"), t, None).await;
    let names: Vec<String> =
        all.json().as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap().to_owned()).collect();
    assert!(names.contains(&"bob".to_owned()) && names.contains(&"ada".to_owned()), "{names:?}");
    let direct = app.api(Method::GET, &format!("/api/v4/projects/{project_id}/members"), t, None).await;
    assert_eq!(direct.json().as_array().unwrap().len(), 0, "inherited members are not direct members");

    // A Developer may not delete; the Owner may, and the project is gone.
    let refused = app.api(Method::DELETE, &format!("/api/v4/projects/{project_id}"), Some(&bob.token), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let renamed = app
        .api(
            Method::PUT,
            &format!("/api/v4/projects/{project_id}"),
            t,
            Some(json!({"name": "API v2", "path": "api-v2"})),
        )
        .await;
    assert_eq!(renamed.json()["path_with_namespace"], "acme/platform/api-v2");
    let deleted = app.api(Method::DELETE, &format!("/api/v4/projects/{project_id}"), t, None).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let gone = app.api(Method::GET, &format!("/api/v4/projects/{project_id}"), t, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn renaming_a_group_moves_everything_below_it() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let acme = app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "Acme", "path": "acme"}))).await.json();
    let sub =
        app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "Sub", "parent_id": acme["id"]}))).await.json();
    app.api(Method::POST, "/api/v4/projects", t, Some(json!({"name": "Deep", "namespace_id": sub["id"]}))).await;
    let moved =
        app.api(Method::PUT, &format!("/api/v4/groups/{}", acme["id"]), t, Some(json!({"path": "acme-corp"}))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let deep = app.api(Method::GET, "/api/v4/projects/acme-corp%2Fsub%2Fdeep", t, None).await;
    assert_eq!(deep.status, StatusCode::OK, "{}", deep.body);
    let old = app.api(Method::GET, "/api/v4/projects/acme%2Fsub%2Fdeep", t, None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_are_shown_once_scoped_and_revocable() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let created = app
        .api(
            Method::POST,
            "/api/v4/user/personal_access_tokens",
            Some(&ada.token),
            Some(json!({"name": "ro", "scopes": ["read_api"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let read_only = created.json()["token"].as_str().unwrap().to_owned();
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&read_only), None).await.status, StatusCode::OK);
    let write = app.api(Method::POST, "/api/v4/groups", Some(&read_only), Some(json!({"name": "x"}))).await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert!(write.json()["message"].as_str().unwrap().contains("insufficient_scope"));
    let listed = app.api(Method::GET, "/api/v4/personal_access_tokens", Some(&ada.token), None).await;
    assert!(listed.json().as_array().unwrap().iter().all(|t| t.get("token").is_none()), "secrets are never listed");
    let revoked =
        app.api(Method::DELETE, &format!("/api/v4/personal_access_tokens/{id}"), Some(&ada.token), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = app.api(Method::GET, "/api/v4/user", Some(&read_only), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert!(after.json()["message"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn openapi_document_lists_every_api_route() {
    let app = TestApp::new().await;
    let doc = app.api(Method::GET, "/api/v4/openapi.json", None, None).await.json();
    let api_routes = gantry_web::route_table()
        .into_iter()
        .filter(|r| matches!(r.scope, gantry_web::RouteScope::Api | gantry_web::RouteScope::Runner))
        .count();
    let documented: usize = doc["paths"].as_object().unwrap().values().map(|m| m.as_object().unwrap().len()).sum();
    assert_eq!(documented, api_routes);
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn administrators_delete_users_with_their_personal_projects() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let t = Some(root.token.as_str());
    let project = app.api(Method::POST, "/api/v4/projects", Some(&bob.token), Some(json!({"name": "mine"}))).await;
    assert_eq!(project.status, StatusCode::CREATED, "{}", project.body);
    let project_id = project.json()["id"].as_i64().unwrap();
    let group = app
        .api(Method::POST, "/api/v4/groups", Some(&carol.token), Some(json!({"name": "solo", "path": "solo"})))
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);

    let by_user = app.api(Method::DELETE, &format!("/api/v4/users/{}", root.user.id.0), Some(&bob.token), None).await;
    assert_eq!(by_user.status, StatusCode::NOT_FOUND, "only administrators delete users (others see nothing here)");
    let sole = app.api(Method::DELETE, &format!("/api/v4/users/{}", carol.user.id.0), t, None).await;
    assert_eq!(sole.status, StatusCode::CONFLICT, "{}", sole.body);
    assert!(sole.json()["message"].as_str().unwrap().contains("only Owner of solo"), "{}", sole.body);
    let own = app.api(Method::DELETE, &format!("/api/v4/users/{}", root.user.id.0), t, None).await;
    assert_eq!(own.status, StatusCode::CONFLICT);

    let gone = app.api(Method::DELETE, &format!("/api/v4/users/{}", bob.user.id.0), t, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(
        app.api(Method::GET, &format!("/api/v4/users/{}", bob.user.id.0), t, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::GET, &format!("/api/v4/projects/{project_id}"), t, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!app.core.repos().path(gantry_types::ProjectId(project_id)).exists(), "the repository went too");
    let again = app.api(Method::GET, "/api/v4/user", Some(&bob.token), None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "the user's tokens went with them");
    // The username is free again.
    let reused = app
        .api(
            Method::POST,
            "/api/v4/users",
            t,
            Some(json!({"username": "bob", "email": "bob2@example.com", "password": "long enough password", "name": "Bob"})),
        )
        .await;
    assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.body);
    // The admin area's button does the same; a refusal is shown on the page.
    let refused =
        app.page(Method::POST, &format!("/admin/users/{}/delete", carol.user.id.0), Some(&root), Some(&[])).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("only Owner of solo"), "{}", refused.body);
    let reused_id = reused.json()["id"].as_i64().unwrap();
    let deleted = app.page(Method::POST, &format!("/admin/users/{reused_id}/delete"), Some(&root), Some(&[])).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    let listed = app.page(Method::GET, "/admin", Some(&root), None).await;
    assert!(!listed.body.contains("@bob"), "the deleted user is gone from the list");
}

#[tokio::test]
async fn administrators_change_users() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let bob = app.user("bob").await;
    let url = format!("/api/v4/users/{}", bob.user.id.0);
    let t = Some(root.token.as_str());
    let changed = app
        .api(Method::PUT, &url, t, Some(json!({"name": "Robert", "email": "robert@example.com", "admin": "true"})))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let changed = changed.json();
    assert_eq!((changed["name"].as_str(), changed["email"].as_str()), (Some("Robert"), Some("robert@example.com")));
    assert_eq!(changed["is_admin"], true);
    let taken = app.api(Method::PUT, &url, t, Some(json!({"email": root.user.email}))).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let renamed = app.api(Method::PUT, &url, t, Some(json!({"username": "robert"}))).await;
    assert_eq!(renamed.status, StatusCode::BAD_REQUEST, "{}", renamed.body);
    let by_user = app
        .api(
            Method::PUT,
            &format!("/api/v4/users/{}", root.user.id.0),
            Some(&app.user("eve").await.token),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(by_user.status, StatusCode::NOT_FOUND, "only administrators change users");
    // A new password ends the user's sessions (their tokens stay).
    let reset = app.api(Method::PUT, &url, t, Some(json!({"password": "a brand new password"}))).await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(app.page(Method::GET, "/-/profile", Some(&bob), None).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn administrators_add_keys_and_tokens_for_users_and_anyone_lists_their_projects() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let bob = app.user("bob").await;
    let t = Some(root.token.as_str());
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl bob@laptop";
    let added = app
        .api(
            Method::POST,
            &format!("/api/v4/users/{}/keys", bob.user.id.0),
            t,
            Some(json!({"title": "laptop", "key": key})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let own = app.api(Method::GET, "/api/v4/user/keys", Some(&bob.token), None).await.json();
    assert_eq!(own[0]["title"], "laptop", "the key is bob's");
    let token = app
        .api(
            Method::POST,
            &format!("/api/v4/users/{}/personal_access_tokens", bob.user.id.0),
            t,
            Some(json!({"name": "ci", "scopes": ["api"]})),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);
    let secret = token.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&secret), None).await.json()["username"], "bob");
    let by_user = app
        .api(
            Method::POST,
            &format!("/api/v4/users/{}/keys", root.user.id.0),
            Some(&bob.token),
            Some(json!({"title": "x", "key": key})),
        )
        .await;
    assert_eq!(by_user.status, StatusCode::NOT_FOUND, "only administrators add keys for others");

    app.api(Method::POST, "/api/v4/projects", Some(&bob.token), Some(json!({"name": "open", "visibility": "public"})))
        .await;
    app.api(
        Method::POST,
        "/api/v4/projects",
        Some(&bob.token),
        Some(json!({"name": "closed", "visibility": "private"})),
    )
    .await;
    let carol = app.user("carol").await;
    let seen =
        app.api(Method::GET, &format!("/api/v4/users/{}/projects", bob.user.id.0), Some(&carol.token), None).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let names: Vec<String> =
        seen.json().as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["open"], "a private project stays hidden");
    let all = app.api(Method::GET, &format!("/api/v4/users/{}/projects", bob.user.id.0), t, None).await.json();
    assert_eq!(all.as_array().unwrap().len(), 2, "an administrator sees both");
}
