//! API parameters are read as GitLab reads them: the query string and the body (JSON, a form or
//! a multipart form) merged, the body winning; numbers and booleans may come as text.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::TestApp;

fn request(token: &str, uri: &str, content_type: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut builder = Request::builder().method(Method::POST).uri(uri).header("PRIVATE-TOKEN", token);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::from(body)).unwrap()
}

fn multipart(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str("--XyZ--\r\n");
    body.into_bytes()
}

#[tokio::test]
async fn the_same_create_through_query_json_form_and_multipart_gives_the_same_project() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let ways = [
        // python-gitlab's way: parameters in the query, an empty JSON object as the body.
        request(
            &ada.token,
            "/api/v4/projects?name=by-query&visibility=internal",
            Some("application/json"),
            b"{}".to_vec(),
        ),
        request(
            &ada.token,
            "/api/v4/projects",
            Some("application/json"),
            json!({"name": "by-json", "visibility": "internal"}).to_string().into_bytes(),
        ),
        request(
            &ada.token,
            "/api/v4/projects",
            Some("application/x-www-form-urlencoded"),
            b"name=by-form&visibility=internal".to_vec(),
        ),
        request(
            &ada.token,
            "/api/v4/projects",
            Some("multipart/form-data; boundary=XyZ"),
            multipart(&[("name", "by-multipart"), ("visibility", "internal")]),
        ),
    ];
    for (way, name) in ways.into_iter().zip(["by-query", "by-json", "by-form", "by-multipart"]) {
        let created = app.send(way).await;
        assert_eq!(created.status, StatusCode::CREATED, "{name}: {}", created.body);
        let project = created.json();
        assert_eq!((project["name"].as_str(), project["path"].as_str()), (Some(name), Some(name)));
        assert_eq!(project["visibility"], "internal", "{name}");
    }
    // The body wins over the query.
    let both = app
        .send(request(
            &ada.token,
            "/api/v4/projects?name=from-query&visibility=public",
            Some("application/json"),
            json!({"name": "from-body"}).to_string().into_bytes(),
        ))
        .await;
    assert_eq!(both.status, StatusCode::CREATED, "{}", both.body);
    assert_eq!((both.json()["name"].as_str(), both.json()["visibility"].as_str()), (Some("from-body"), Some("public")));
}

#[tokio::test]
async fn numbers_and_booleans_may_be_text_and_wrong_types_are_named() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let group =
        app.api(Method::POST, "/api/v4/groups", Some(&ada.token), Some(json!({"name": "acme", "path": "acme"}))).await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let members = "/api/v4/groups/acme/members";
    // A role as text, as python-gitlab's CLI sends it.
    let text = json!({"user_id": bob.user.id.0.to_string(), "access_level": "30"});
    let added = app.api(Method::POST, members, Some(&ada.token), Some(text)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.json()["access_level"], 30);
    let wrong = json!({"user_id": bob.user.id.0, "access_level": "developer"});
    let refused = app.api(Method::PUT, &format!("{members}/{}", bob.user.id.0), Some(&ada.token), Some(wrong)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["message"], "access_level is invalid");
    let unchanged = app.api(Method::GET, &format!("{members}/{}", bob.user.id.0), Some(&ada.token), None).await;
    assert_eq!(unchanged.json()["access_level"], 30, "a refused change changes nothing");
    let not_json = app.send(request(&ada.token, members, Some("application/json"), b"[1, 2]".to_vec())).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(not_json.json()["message"].as_str().unwrap().contains("object"), "{}", not_json.body);
}

#[tokio::test]
async fn unknown_api_routes_and_methods_answer_json() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let missing = app.api(Method::GET, "/api/v4/no/such/route", Some(&ada.token), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json(), json!({"error": "404 Not Found"}));
    let wrong_method = app.api(Method::PATCH, "/api/v4/projects", Some(&ada.token), Some(json!({}))).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json(), json!({"error": "405 Method Not Allowed"}));
    let page = app.page(Method::GET, "/no-such-user", None, None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<html") || page.body.contains("<!DOCTYPE"), "pages stay HTML");
}

#[tokio::test]
async fn the_instance_tells_its_version_to_signed_in_users() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let version = app.api(Method::GET, "/api/v4/version", Some(&ada.token), None).await;
    assert_eq!(version.status, StatusCode::OK);
    let version = version.json();
    assert!(version["version"].as_str().unwrap().ends_with("-gantry"), "{version}");
    assert!(version["revision"].as_str().unwrap().starts_with("gantry-"), "{version}");
    let metadata = app.api(Method::GET, "/api/v4/metadata", Some(&ada.token), None).await.json();
    assert_eq!(metadata["version"], version["version"]);
    assert_eq!(metadata["kas"]["enabled"], false);
    let anonymous = app.api(Method::GET, "/api/v4/version", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn administrators_act_as_others_with_sudo_and_nobody_else_does() {
    let app = TestApp::new().await;
    // The first user is the administrator.
    let _ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let scopes = |list: &str| gantry_types::TokenScopes::parse_list(list).unwrap();
    let sudo =
        app.core.manage().create_token_as_operator("ada", "sudo", &scopes("api,sudo"), None).await.unwrap().secret;
    let as_user = |token: &str, who: &str| {
        Request::builder()
            .method(Method::GET)
            .uri("/api/v4/user")
            .header("PRIVATE-TOKEN", token)
            .header("Sudo", who)
            .body(Body::empty())
            .unwrap()
    };
    for who in ["bob", &bob.user.id.0.to_string()] {
        let acted = app.send(as_user(&sudo, who)).await;
        assert_eq!(acted.status, StatusCode::OK, "{}", acted.body);
        assert_eq!(acted.json()["username"], "bob");
    }
    let by_parameter = app.api(Method::GET, "/api/v4/user?sudo=bob", Some(&sudo), None).await;
    assert_eq!(by_parameter.json()["username"], "bob");
    let nobody = app.send(as_user(&sudo, "nobody")).await;
    assert_eq!((nobody.status, nobody.json()["message"].as_str()), (StatusCode::NOT_FOUND, Some("404 User Not Found")));
    // An administrator's token without the scope, and a user's token, may not.
    let plain = app.core.manage().create_token_as_operator("ada", "plain", &scopes("api"), None).await.unwrap().secret;
    assert_eq!(app.send(as_user(&plain, "bob")).await.status, StatusCode::FORBIDDEN);
    let refused = app.send(as_user(&bob.token, "ada")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.json()["message"].as_str().unwrap().contains("Must be admin"));
    // Only administrators' tokens may hold sudo.
    let denied = app.core.manage().create_token_as_operator("bob", "sneaky", &scopes("api,sudo"), None).await;
    assert!(denied.is_err(), "a user's token with the sudo scope");
}
