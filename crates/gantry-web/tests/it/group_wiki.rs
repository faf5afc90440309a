//! A group's wiki, as a project's: GitLab's group wikis API (create, list, read, move, delete,
//! attach), the group's rights (Guests read, Developers write, outsiders see nothing), the
//! pages under `/{group}/-/wikis`, search within the group and across the instance, and the
//! wiki's repository gone with its group.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser, multipart};

async fn call(
    app: &TestApp,
    user: Option<&TestUser>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let answer = app.api(method, path, user.map(|u| u.token.as_str()), body).await;
    let json =
        if answer.body.is_empty() { Value::Null } else { serde_json::from_str(&answer.body).unwrap_or(Value::Null) };
    (answer.status, json)
}

/// A private group `handbook` of `owner`, with `members` at their access levels.
async fn group(app: &TestApp, owner: &TestUser, members: &[(&TestUser, i64)]) -> i64 {
    let body = json!({"name": "Handbook", "path": "handbook", "visibility": "private"});
    let (status, group) = call(app, Some(owner), Method::POST, "/api/v4/groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let id = group["id"].as_i64().unwrap();
    for (user, level) in members {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        let (status, _) =
            call(app, Some(owner), Method::POST, &format!("/api/v4/groups/{id}/members"), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    id
}

#[tokio::test]
async fn group_wiki_pages_are_written_read_moved_attached_and_deleted_through_the_api() {
    let app = TestApp::new().await;
    let (owner, developer, guest, outsider) =
        (app.user("owner").await, app.user("dev").await, app.user("guest").await, app.user("outsider").await);
    let id = group(&app, &owner, &[(&developer, 30), (&guest, 10)]).await;
    let wikis = format!("/api/v4/groups/{id}/wikis");

    let (status, listed) = call(&app, Some(&guest), Method::GET, &wikis, None).await;
    assert_eq!((status, listed), (StatusCode::OK, json!([])), "a new group wiki has no pages");
    // As python-gitlab's test_group_wikis: create in a folder, then change content and title.
    let body = json!({"title": "title/subtitle", "content": "test content"});
    let (status, page) = call(&app, Some(&developer), Method::POST, &wikis, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(
        page,
        json!({"format": "markdown", "slug": "title/subtitle", "title": "subtitle", "encoding": "UTF-8", "content": "test content"})
    );
    let (status, read) = call(&app, Some(&guest), Method::GET, &format!("{wikis}/title%2Fsubtitle"), None).await;
    assert_eq!((status, read["content"].as_str()), (StatusCode::OK, Some("test content")));
    let (_, listed) = call(&app, Some(&guest), Method::GET, &format!("{wikis}?with_content=true"), None).await;
    assert_eq!(listed[0]["content"], "test content");

    let change = json!({"content": "update content", "title": "subtitle"});
    let (status, moved) =
        call(&app, Some(&developer), Method::PUT, &format!("{wikis}/title%2Fsubtitle"), Some(change)).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!((moved["slug"].as_str(), moved["content"].as_str()), (Some("subtitle"), Some("update content")));

    // The group's rights: Guests read and never write; outsiders do not see the wiki at all.
    let body = json!({"title": "guest", "content": "x"});
    let (status, _) = call(&app, Some(&guest), Method::POST, &wikis, Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, Some(&guest), Method::DELETE, &format!("{wikis}/subtitle"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (method, path) in [(Method::GET, wikis.clone()), (Method::GET, format!("{wikis}/subtitle"))] {
        assert_eq!(call(&app, Some(&outsider), method.clone(), &path, None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(&app, None, method, &path, None).await.0, StatusCode::NOT_FOUND);
    }

    // As python-gitlab's test_group_wiki_file_upload.
    let upload = multipart(&[], &[("file", "test.txt", b"testing contents")]);
    let request = axum::http::Request::post(format!("{wikis}/attachments"))
        .header("PRIVATE-TOKEN", &developer.token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(upload))
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let uploaded = answer.json();
    let path = uploaded["file_path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("uploads/") && path.ends_with("/test.txt"), "{path}");
    assert_eq!(uploaded["link"], json!({"url": path, "markdown": format!("[test.txt]({path})")}));
    let served = app.page(Method::GET, &format!("/handbook/-/wikis/{path}"), Some(&guest), None).await;
    assert_eq!((served.status, served.body.as_str()), (StatusCode::OK, "testing contents"));
    assert_eq!(served.header("x-content-type-options"), "nosniff");

    let (status, _) = call(&app, Some(&developer), Method::DELETE, &format!("{wikis}/subtitle"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(call(&app, Some(&guest), Method::GET, &wikis, None).await.1, json!([]));
}

#[tokio::test]
async fn the_group_wiki_pages_write_and_show_pages_in_the_group_frame() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    group(&app, &owner, &[(&guest, 10)]).await;
    let base = "/handbook/-/wikis";
    let token = app.csrf_token(Some(&owner));

    let group_page = app.page(Method::GET, "/handbook", Some(&guest), None).await;
    assert!(group_page.body.contains(&format!("href=\"{base}\"")), "the group links its wiki: {}", group_page.body);
    let empty = app.page(Method::GET, base, Some(&owner), None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("This wiki has no pages yet"), "{}", empty.body);
    assert!(empty.body.contains("/handbook.wiki.git"), "the clone URL is the group's: {}", empty.body);

    let content = "# Onboarding\n\nRead [the rules](rules) first.\n\n<img src=x onerror=alert(1)>\n";
    let created = app
        .multipart_page(
            &format!("{base}/-/new"),
            &owner,
            multipart(&[("authenticity_token", &token), ("title", "home"), ("content", content)], &[]),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.header("location"), format!("{base}/home"));
    let shown = app.page(Method::GET, base, Some(&guest), None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains(">Onboarding<"), "{}", shown.body);
    assert!(shown.body.contains(&format!("href=\"{base}/rules\"")), "links lead into the group's wiki: {}", shown.body);
    assert!(!shown.body.contains("onerror"), "{}", shown.body);
    assert!(shown.body.contains("Handbook"), "framed as the group's: {}", shown.body);
    assert!(!shown.body.contains(&format!("{base}/home/-/edit")), "a Guest is offered no edit");

    // Guests may not write, whatever they post; the history shows who wrote what.
    let refused = app
        .multipart_page(
            &format!("{base}/-/new"),
            &guest,
            multipart(&[("authenticity_token", &app.csrf_token(Some(&guest))), ("title", "x"), ("content", "y")], &[]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let history = app.page(Method::GET, &format!("{base}/home/-/history"), Some(&guest), None).await;
    assert!(history.body.contains("owner created page: home"), "{}", history.body);
    let outsider = app.user("outsider").await;
    assert_eq!(app.page(Method::GET, base, Some(&outsider), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn group_wiki_pages_are_searched_for_those_who_see_the_group_and_go_with_it() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let outsider = app.user("outsider").await;
    let id = group(&app, &owner, &[]).await;
    let body = json!({"title": "Release checklist", "content": "Tag the release.\nAnnounce the zeppelin.\n"});
    let (status, _) = call(&app, Some(&owner), Method::POST, &format!("/api/v4/groups/{id}/wikis"), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);

    for path in [
        format!("/api/v4/groups/{id}/search?scope=wiki_blobs&search=zeppelin"),
        "/api/v4/search?scope=wiki_blobs&search=zeppelin".to_owned(),
    ] {
        let (status, found) = call(&app, Some(&owner), Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found.as_array().map(Vec::len), Some(1), "{path}: {found}");
        assert_eq!(found[0]["path"], "Release-checklist.md");
        assert_eq!((found[0]["group_id"].as_i64(), &found[0]["project_id"]), (Some(id), &Value::Null));
        let (_, hidden) = call(&app, Some(&outsider), Method::GET, &path, None).await;
        assert!(hidden.as_array().is_none_or(Vec::is_empty), "an outsider finds nothing: {hidden}");
    }
    let page = app.page(Method::GET, "/search?search=zeppelin&scope=wiki_blobs", Some(&owner), None).await;
    assert!(page.body.contains("/handbook/-/wikis/Release-checklist"), "{}", page.body);

    let repository = app.core.repos().path(gantry_git::RepoId::GroupWiki(gantry_types::NamespaceId(id)));
    assert!(repository.join("HEAD").is_file(), "{}", repository.display());
    let (status, _) = call(&app, Some(&owner), Method::DELETE, &format!("/api/v4/groups/{id}"), None).await;
    assert!(status.is_success(), "{status}");
    // GitLab deletes a group later; here at once, or once its deletion has run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while repository.exists() {
        assert!(std::time::Instant::now() < deadline, "the group's wiki outlived it");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
