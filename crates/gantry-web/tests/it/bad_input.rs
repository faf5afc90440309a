//! Bad input gets a clear 4xx and changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::TestApp;

async fn group_count(app: &TestApp, token: &str) -> String {
    app.api(Method::GET, "/api/v4/groups?all_available=true", Some(token), None).await.header("x-total").to_owned()
}

#[tokio::test]
async fn invalid_names_missing_fields_and_duplicates_are_refused() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    for (body, expected) in [
        (json!({"name": "x", "path": "api"}), "reserved"),
        (json!({"name": "x", "path": "-lead"}), "start and end"),
        (json!({"name": "x", "path": "has space"}), "ASCII"),
        (json!({"name": "x", "path": "аcme"}), "non-ASCII"),
        (json!({"name": "x", "path": "repo.git"}), ".git"),
        (json!({"name": "x", "path": "a".repeat(101)}), "too long"),
        (json!({"name": "", "path": ""}), "blank"),
        (json!({"name": "x", "path": "ok", "visibility": "secret"}), "visibility"),
    ] {
        let response = app.api(Method::POST, "/api/v4/groups", t, Some(body.clone())).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body}: {}", response.body);
        assert!(response.json()["message"].as_str().unwrap().contains(expected), "{body}: {}", response.body);
    }
    assert_eq!(group_count(&app, &ada.token).await, "0", "nothing was created");
    app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "Acme"}))).await;
    let duplicate = app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "ACME"}))).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "paths are unique regardless of case");
    let user_clash = app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "x", "path": "ada"}))).await;
    assert_eq!(user_clash.status, StatusCode::CONFLICT, "users and groups share one path space");
    let bad_level =
        app.api(Method::POST, "/api/v4/groups/acme/members", t, Some(json!({"user_id": 1, "access_level": 35}))).await;
    assert_eq!(bad_level.status, StatusCode::BAD_REQUEST);
    assert_eq!(group_count(&app, &ada.token).await, "1");
}

#[tokio::test]
async fn a_group_cannot_become_less_visible_than_what_it_holds() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    app.api(Method::POST, "/api/v4/groups", t, Some(json!({"name": "Acme", "visibility": "public"}))).await;
    let group: serde_json::Value = app.api(Method::GET, "/api/v4/groups/acme", t, None).await.json();
    let project = json!({"name": "Site", "namespace_id": group["id"], "visibility": "public"});
    assert_eq!(app.api(Method::POST, "/api/v4/projects", t, Some(project)).await.status, StatusCode::CREATED);
    let lowered =
        app.api(Method::PUT, "/api/v4/groups/acme", t, Some(json!({"visibility": "private", "name": "Renamed"}))).await;
    assert_eq!(lowered.status, StatusCode::BAD_REQUEST, "{}", lowered.body);
    assert!(lowered.json()["message"].as_str().unwrap().contains("is public"), "{}", lowered.body);
    let group: serde_json::Value = app.api(Method::GET, "/api/v4/groups/acme", t, None).await.json();
    assert_eq!((group["visibility"].as_str(), group["name"].as_str()), (Some("public"), Some("Acme")), "unchanged");
    app.api(Method::PUT, "/api/v4/projects/acme%2Fsite", t, Some(json!({"visibility": "private"}))).await;
    let lowered = app.api(Method::PUT, "/api/v4/groups/acme", t, Some(json!({"visibility": "private"}))).await;
    assert_eq!(lowered.status, StatusCode::OK, "{}", lowered.body);
}

#[tokio::test]
async fn malformed_bodies_wrong_types_and_oversized_requests() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let send = |content_type: &'static str, body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v4/groups")
            .header("PRIVATE-TOKEN", ada.token.clone())
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let malformed = app.send(send("application/json", b"{\"name\": ".to_vec())).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.json()["message"].as_str().unwrap().contains("invalid JSON"));
    let wrong_type = app.send(send("text/plain", b"name=x".to_vec())).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = app.send(send("application/json", vec![b' '; gantry_web::BODY_LIMIT_BYTES + 10])).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(huge.json()["message"].as_str().unwrap().contains("limit"));
    let bad_page = app.api(Method::GET, "/api/v4/projects?page=zero", Some(&ada.token), None).await;
    assert_eq!(bad_page.status, StatusCode::BAD_REQUEST);
    assert_eq!(group_count(&app, &ada.token).await, "0");
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_reason() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let unknown = app.api(Method::GET, "/api/v4/user", Some("gpat-0000"), None).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.header("www-authenticate").contains("Bearer"));
    let scopes = gantry_types::TokenScopes::parse_list("read_repository").unwrap();
    let git_only = app.core.manage().create_token_as_operator("ada", "git", &scopes, None).await.unwrap().secret;
    let under = app.api(Method::GET, "/api/v4/user", Some(&git_only), None).await;
    assert_eq!(under.status, StatusCode::FORBIDDEN);
    let expired = app
        .api(
            Method::POST,
            "/api/v4/user/personal_access_tokens",
            Some(&ada.token),
            Some(json!({"name": "old", "scopes": ["api"], "expires_at": "2001-01-01"})),
        )
        .await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST, "an expiry in the past is refused");
    let bearer = Request::builder()
        .uri("/api/v4/user")
        .header("authorization", format!("Bearer {}", ada.token))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(bearer).await.status, StatusCode::OK);
}

#[tokio::test]
async fn forms_without_a_csrf_token_change_nothing() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let forged = app
        .page(Method::POST, "/groups", Some(&ada), Some(&[("name", "Forged"), ("authenticity_token", "wrong")]))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing_cookie = Request::builder()
        .method(Method::POST)
        .uri("/groups")
        .header("cookie", format!("gantry_session={}", ada.session))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("name=Forged"))
        .unwrap();
    assert_eq!(app.send(missing_cookie).await.status, StatusCode::FORBIDDEN);
    assert_eq!(group_count(&app, &ada.token).await, "0");
}
