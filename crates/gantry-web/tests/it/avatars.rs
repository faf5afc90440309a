//! Avatars of users, groups, projects and topics: uploaded as files in multipart forms (API and
//! settings pages), served at GitLab's addresses to those who may see their owner, removed by
//! sending `avatar` empty; what is not a small image is refused with nothing changed.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gantry_core::Actor;
use gantry_core::manage::groups::NewGroup;
use gantry_types::Visibility;
use serde_json::Value;

use crate::support::{CSRF, TestApp, TestUser, multipart};

/// A tiny PNG (1×1, transparent).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

async fn api_multipart(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> crate::support::TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("PRIVATE-TOKEN", token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

/// Fetches an avatar by the path of its `avatar_url` as `user` (a browser session) or anonymously.
async fn fetch(app: &TestApp, url: &str, user: Option<&TestUser>) -> crate::support::TestResponse {
    let path = url.split_once("/uploads/").map(|(_, rest)| format!("/uploads/{rest}")).expect("an avatar address");
    app.page(Method::GET, &path, user, None).await
}

#[tokio::test]
async fn a_user_created_with_an_avatar_has_it_served_until_it_is_removed() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let body = multipart(
        &[("username", "foo"), ("email", "foo@example.com"), ("name", "Foo"), ("password", "long enough password")],
        &[("avatar", "avatar.png", PNG)],
    );
    let created = api_multipart(&app, Method::POST, "/api/v4/users", &admin.token, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let user = created.json();
    let url = user["avatar_url"].as_str().expect("an avatar address").to_owned();
    assert!(url.ends_with(&format!("/uploads/-/system/user/avatar/{}/avatar.png", user["id"])), "{url}");

    // Anyone may see a user's avatar, as in GitLab: the bytes as uploaded, typed by content.
    let image = fetch(&app, &url, None).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.bytes, PNG);
    assert_eq!(image.header("content-type"), "image/png");
    let etag = image.header("etag").to_owned();
    let request = Request::builder()
        .uri(format!("/uploads/{}", url.split_once("/uploads/").unwrap().1))
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::NOT_MODIFIED);

    // The listing shows it too; an empty `avatar` removes it.
    let listed = app.api(Method::GET, "/api/v4/users?username=foo", Some(&admin.token), None).await.json();
    assert_eq!(listed[0]["avatar_url"], Value::String(url.clone()));
    let id = user["id"].as_i64().unwrap();
    let removed = api_multipart(
        &app,
        Method::PUT,
        &format!("/api/v4/users/{id}"),
        &admin.token,
        multipart(&[("avatar", "")], &[]),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.json()["avatar_url"], Value::Null);
    assert_eq!(fetch(&app, &url, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn what_is_not_a_small_image_is_refused_and_nothing_changes() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let ada = app.user("ada").await;
    let text = api_multipart(
        &app,
        Method::PUT,
        "/api/v4/user/avatar",
        &ada.token,
        multipart(&[], &[("avatar", "a.png", b"not an image")]),
    )
    .await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST);
    assert!(text.json()["message"].as_str().unwrap().contains("file format is not supported"), "{}", text.body);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let refused = api_multipart(
        &app,
        Method::PUT,
        "/api/v4/user/avatar",
        &ada.token,
        multipart(&[], &[("avatar", "a.svg", svg)]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "SVG can carry scripts: {}", refused.body);
    let big = [PNG, &vec![0u8; 200 * 1024]].concat();
    let too_big = api_multipart(
        &app,
        Method::PUT,
        "/api/v4/user/avatar",
        &ada.token,
        multipart(&[], &[("avatar", "a.png", &big)]),
    )
    .await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
    assert!(too_big.body.contains("too big (should be at most 200 KiB)"), "{}", too_big.body);
    // Text where an image belongs is named, not ignored.
    let named = app
        .api(Method::PUT, "/api/v4/user/avatar", Some(&ada.token), Some(serde_json::json!({"avatar": "x.png"})))
        .await;
    assert_eq!(named.status, StatusCode::BAD_REQUEST);
    assert!(named.body.contains("avatar is invalid"), "{}", named.body);
    // A user created with a bad avatar is not created at all.
    let body = multipart(
        &[("username", "bad"), ("email", "bad@example.com"), ("name", "Bad"), ("password", "long enough password")],
        &[("avatar", "avatar.png", b"GIF8")],
    );
    assert_eq!(
        api_multipart(&app, Method::POST, "/api/v4/users", &admin.token, body).await.status,
        StatusCode::BAD_REQUEST
    );
    let listed = app.api(Method::GET, "/api/v4/users?username=bad", Some(&admin.token), None).await.json();
    assert_eq!(listed, serde_json::json!([]));
    let me = app.api(Method::GET, "/api/v4/user", Some(&ada.token), None).await.json();
    assert_eq!(me["avatar_url"], Value::Null);

    // Once set, the file name is cleaned and ends in the image's real format.
    let set = api_multipart(
        &app,
        Method::PUT,
        "/api/v4/user/avatar",
        &ada.token,
        multipart(&[], &[("avatar", "../My Photo.jpeg", PNG)]),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert!(set.json()["avatar_url"].as_str().unwrap().ends_with("/My_Photo.png"), "{}", set.body);
}

#[tokio::test]
async fn project_and_group_avatars_are_shown_only_to_those_who_see_them() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let (project, _) = app.project_with_file(&owner, "secret", "README.md", b"hi").await;
    let updated = api_multipart(
        &app,
        Method::PUT,
        &format!("/api/v4/projects/{}", project.id.0),
        &owner.token,
        multipart(&[("description", "with a face")], &[("avatar", "logo.png", PNG)]),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let json = updated.json();
    assert_eq!(json["description"], "with a face", "the other fields change too");
    let url = json["avatar_url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&app, &url, Some(&owner)).await.bytes, PNG);
    assert_eq!(fetch(&app, &url, Some(&stranger)).await.status, StatusCode::NOT_FOUND, "a private project's");
    assert_eq!(fetch(&app, &url, None).await.status, StatusCode::NOT_FOUND);
    // Strangers may not set one either, nor learn the project exists.
    let refused = api_multipart(
        &app,
        Method::PUT,
        &format!("/api/v4/projects/{}", project.id.0),
        &stranger.token,
        multipart(&[], &[("avatar", "x.png", PNG)]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    let group = app
        .core
        .manage()
        .create_group(
            &Actor::User(owner.user.clone()),
            &NewGroup {
                name: "Team".into(),
                path: "team".into(),
                visibility: Some(Visibility::Public),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let updated = api_multipart(
        &app,
        Method::PUT,
        &format!("/api/v4/groups/{}", group.id.0),
        &owner.token,
        multipart(&[], &[("avatar", "team.gif", b"GIF89a\x01\0\x01\0\0\0\0;")]),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let url = updated.json()["avatar_url"].as_str().unwrap().to_owned();
    let image = fetch(&app, &url, None).await;
    assert_eq!((image.status, image.header("content-type")), (StatusCode::OK, "image/gif"), "a public group's");
    let removed = app
        .api(
            Method::PUT,
            &format!("/api/v4/groups/{}", group.id.0),
            Some(&owner.token),
            Some(serde_json::json!({"avatar": ""})),
        )
        .await;
    assert_eq!(removed.json()["avatar_url"], Value::Null);
}

#[tokio::test]
async fn administrators_give_topics_avatars() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let ada = app.user("ada").await;
    let created = api_multipart(
        &app,
        Method::POST,
        "/api/v4/topics",
        &admin.token,
        multipart(&[("name", "rust"), ("title", "Rust")], &[("avatar", "rust.png", PNG)]),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let topic = created.json();
    let url = topic["avatar_url"].as_str().unwrap().to_owned();
    assert!(url.contains(&format!("/uploads/-/system/projects/topic/avatar/{}/rust.png", topic["id"])), "{url}");
    assert_eq!(fetch(&app, &url, None).await.bytes, PNG);
    let path = format!("/api/v4/topics/{}", topic["id"]);
    let refused = api_multipart(&app, Method::PUT, &path, &ada.token, multipart(&[("avatar", "")], &[])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let removed = api_multipart(&app, Method::PUT, &path, &admin.token, multipart(&[("avatar", "")], &[])).await;
    assert_eq!((removed.status, &removed.json()["avatar_url"]), (StatusCode::OK, &Value::Null));
}

#[tokio::test]
async fn the_profile_page_uploads_and_removes_an_avatar() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let send = |fields: Vec<(&'static str, String)>, files: &[(&str, &str, &[u8])]| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = multipart(&borrowed, files);
        Request::builder()
            .method(Method::POST)
            .uri("/-/profile/avatar")
            .header("cookie", format!("gantry_csrf={CSRF}; gantry_session={}", ada.session))
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
            .unwrap()
    };
    let token = app.csrf_token(Some(&ada));
    let forged = app.send(send(vec![("authenticity_token", "wrong".into())], &[("avatar", "me.png", PNG)])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let uploaded = app.send(send(vec![("authenticity_token", token.clone())], &[("avatar", "me.png", PNG)])).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let page = app.page(Method::GET, "/-/profile", Some(&ada), None).await;
    let src = format!("/uploads/-/system/user/avatar/{}/me.png", ada.user.id.0);
    assert!(page.body.contains(&src), "the profile shows the avatar");
    assert!(page.body.contains("Remove avatar"));
    let bad = app.send(send(vec![("authenticity_token", token.clone())], &[("avatar", "me.png", b"nope")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("not supported"), "the page says why");
    let removed = app.send(send(vec![("authenticity_token", token), ("remove", "1".into())], &[])).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(!app.page(Method::GET, "/-/profile", Some(&ada), None).await.body.contains(&src));
}

#[tokio::test]
async fn avatars_are_kept_by_the_blob_collector() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let set = api_multipart(
        &app,
        Method::PUT,
        "/api/v4/user/avatar",
        &ada.token,
        multipart(&[], &[("avatar", "a.png", PNG)]),
    )
    .await;
    let url = set.json()["avatar_url"].as_str().unwrap().to_owned();
    app.core.ci().collect_blobs(std::time::Duration::ZERO).await.unwrap();
    assert_eq!(fetch(&app, &url, None).await.bytes, PNG, "an avatar is a record that keeps its blob");
}
