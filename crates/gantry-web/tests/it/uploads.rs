//! Files attached to issues and comments: GitLab's project uploads API, the issue page's upload
//! form, links in Markdown led to the project, and serving that never lets the browser run
//! what was uploaded (its kind told by its first bytes, not its name), for those who see the
//! project's issues only.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser, multipart};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

async fn upload(app: &TestApp, user: &TestUser, project: i64, name: &str, content: &[u8]) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v4/projects/{project}/uploads"))
        .header("PRIVATE-TOKEN", &user.token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart(&[], &[("file", name, content)])))
        .unwrap();
    let answer = app.send(request).await;
    let json = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, json)
}

#[tokio::test]
async fn files_are_uploaded_linked_from_issues_and_served_safely() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let stranger = app.user("stranger").await;
    let body = json!({"name": "Files", "visibility": "private"});
    let id =
        app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await.json()["id"].as_i64().unwrap();
    let member = json!({"user_id": guest.user.id.0, "access_level": 10});
    app.api(Method::POST, &format!("/api/v4/projects/{id}/members"), Some(&owner.token), Some(member)).await;

    // As python-gitlab's own test reads it.
    let (status, text) = upload(&app, &guest, id, "test.txt", b"testing contents").await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let url = text["url"].as_str().unwrap().to_owned();
    assert_eq!(text["alt"], "test.txt");
    assert!(url.starts_with("/uploads/") && url.ends_with("/test.txt"), "{url}");
    assert_eq!(text["markdown"], format!("[test.txt]({url})"));
    assert_eq!(text["full_path"], format!("/owner/files/-{url}"));

    let served = app.page(Method::GET, &format!("/owner/files/-{url}"), Some(&guest), None).await;
    assert_eq!((served.status, served.body.as_str()), (StatusCode::OK, "testing contents"));
    assert_eq!(served.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(served.header("x-content-type-options"), "nosniff");
    assert!(served.header("content-security-policy").contains("sandbox"));
    for who in [Some(&stranger), None] {
        let hidden = app.page(Method::GET, &format!("/owner/files/-{url}"), who, None).await;
        assert_ne!(hidden.status, StatusCode::OK, "a private project's files are its members'");
    }
    let wrong_name = url.replace("test.txt", "other.txt");
    assert_eq!(
        app.page(Method::GET, &format!("/owner/files/-{wrong_name}"), Some(&owner), None).await.status,
        StatusCode::NOT_FOUND
    );

    // An image is told by its bytes: a real one is shown, HTML named .png is downloaded.
    let (_, picture) = upload(&app, &owner, id, "shot.png", PNG).await;
    let shown =
        app.page(Method::GET, &format!("/owner/files/-{}", picture["url"].as_str().unwrap()), Some(&owner), None).await;
    assert_eq!(shown.header("content-type"), "image/png");
    assert_eq!(picture["markdown"], format!("![shot.png]({})", picture["url"].as_str().unwrap()));
    for (name, content) in [
        ("evil.png", &b"<html><script>alert(1)</script>"[..]),
        ("evil.html", b"<script>alert(1)</script>"),
        ("evil.svg", b"<svg onload=alert(1)>"),
    ] {
        let (status, evil) = upload(&app, &owner, id, name, content).await;
        assert_eq!(status, StatusCode::CREATED);
        let served = app
            .page(Method::GET, &format!("/owner/files/-{}", evil["url"].as_str().unwrap()), Some(&owner), None)
            .await;
        assert_eq!(served.header("content-type"), "application/octet-stream", "{name}");
        assert!(served.header("content-disposition").starts_with("attachment"), "{name}");
    }

    // Refusals: no file, a stranger, too large.
    let (status, missing) = upload(&app, &owner, id, "", b"").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{missing}");
    assert_eq!(upload(&app, &stranger, id, "x.txt", b"x").await.0, StatusCode::NOT_FOUND);
    let (status, _) = upload(&app, &owner, id, "big.bin", &vec![1u8; 11 << 20]).await;
    assert!(matches!(status, StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE), "{status}");

    // In an issue, `/uploads/…` leads to the project's files.
    let issue = json!({"title": "Broken", "description": format!("See {}", picture["markdown"].as_str().unwrap())});
    app.api(Method::POST, &format!("/api/v4/projects/{id}/issues"), Some(&owner.token), Some(issue)).await;
    let page = app.page(Method::GET, "/owner/files/-/issues/1", Some(&guest), None).await;
    let expected = format!("src=\"/owner/files/-{}\"", picture["url"].as_str().unwrap());
    assert!(page.body.contains(&expected), "{}", page.body);

    // The issue page's form uploads and says what Markdown shows the file.
    let token = app.csrf_token(Some(&guest));
    let posted = app
        .multipart_page(
            "/owner/files/-/issues/1/uploads",
            &guest,
            multipart(&[("authenticity_token", &token)], &[("file", "log.txt", b"error: boom")]),
        )
        .await;
    assert_eq!(posted.header("location"), "/owner/files/-/issues/1");
    let back = app.follow(posted, &guest).await;
    assert!(back.body.contains("log.txt was uploaded. Put [log.txt](/uploads/"), "{}", back.body);
}
