//! A project's wiki through GitLab's wikis API and the pages: create, read (at a version too),
//! move by a new title, delete; attachments with safe headers; history and diff; a save made
//! against an old version refused; who may read and who may write; clear refusals of bad
//! titles and formats; Markdown kept harmless and links between pages led into the wiki.

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

/// A private project of `owner`, with `members` at their access levels.
async fn project(app: &TestApp, owner: &TestUser, members: &[(&TestUser, i64)]) -> i64 {
    let body = json!({"name": "Docs", "visibility": "private"});
    let id = call(app, Some(owner), Method::POST, "/api/v4/projects", Some(body)).await.1["id"].as_i64().unwrap();
    for (user, level) in members {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        let (status, _) =
            call(app, Some(owner), Method::POST, &format!("/api/v4/projects/{id}/members"), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    id
}

#[tokio::test]
async fn pages_are_written_read_moved_and_deleted_through_the_api() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let id = project(&app, &owner, &[]).await;
    let wikis = format!("/api/v4/projects/{id}/wikis");

    let (status, listed) = call(&app, Some(&owner), Method::GET, &wikis, None).await;
    assert_eq!((status, listed), (StatusCode::OK, json!([])), "a new wiki has no pages");
    let body = json!({"title": "title/subtitle", "content": "test content"});
    let (status, page) = call(&app, Some(&owner), Method::POST, &wikis, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    assert_eq!(
        page,
        json!({"format": "markdown", "slug": "title/subtitle", "title": "subtitle", "encoding": "UTF-8", "content": "test content"})
    );
    let (_, home) =
        call(&app, Some(&owner), Method::POST, &wikis, Some(json!({"title": "Home Page", "content": "# Hi"}))).await;
    assert_eq!(home["slug"], "Home-Page");

    let (_, listed) = call(&app, Some(&owner), Method::GET, &format!("{wikis}?with_content=1"), None).await;
    let slugs: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["Home-Page", "title/subtitle"]);
    assert_eq!(listed[1]["content"], "test content");
    let (_, listed) = call(&app, Some(&owner), Method::GET, &wikis, None).await;
    assert!(listed[0].get("content").is_none(), "content only when asked for: {listed}");

    let one = format!("{wikis}/title%2Fsubtitle");
    let (status, got) = call(&app, Some(&owner), Method::GET, &one, None).await;
    assert_eq!((status, got["content"].as_str()), (StatusCode::OK, Some("test content")));
    let (_, html) = call(&app, Some(&owner), Method::GET, &format!("{one}?render_html=true"), None).await;
    assert_eq!(html["content"], "<p>test content</p>\n");

    // As python-gitlab saves a page: the changed content and the title, which moves it.
    let (status, moved) =
        call(&app, Some(&owner), Method::PUT, &one, Some(json!({"content": "update content", "title": "subtitle"})))
            .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!((moved["slug"].as_str(), moved["content"].as_str()), (Some("subtitle"), Some("update content")));
    assert_eq!(call(&app, Some(&owner), Method::GET, &one, None).await.0, StatusCode::NOT_FOUND);
    let (status, nothing) = call(&app, Some(&owner), Method::PUT, &format!("{wikis}/subtitle"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{nothing}");

    // An earlier version of the page, by the commit that made it.
    let tip =
        app.core.repos().ref_target(gantry_git::RepoId::Wiki(gantry_types::ProjectId(id)), "refs/heads/main").await;
    let first = app
        .core
        .repos()
        .reader(gantry_git::RepoId::Wiki(gantry_types::ProjectId(id)))
        .unwrap()
        .history(&tip.unwrap().unwrap(), None, 0, 10)
        .unwrap()
        .0
        .last()
        .unwrap()
        .id
        .clone();
    let (status, old) =
        call(&app, Some(&owner), Method::GET, &format!("{wikis}/title%2Fsubtitle?version={first}"), None).await;
    assert_eq!((status, old["content"].as_str()), (StatusCode::OK, Some("test content")), "{old}");
    let (status, _) = call(&app, Some(&owner), Method::GET, &format!("{wikis}/subtitle?version=deadbeef"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = call(&app, Some(&owner), Method::DELETE, &format!("{wikis}/subtitle"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = call(&app, Some(&owner), Method::GET, &wikis, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        call(&app, Some(&owner), Method::DELETE, &format!("{wikis}/subtitle"), None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_titles_formats_and_duplicates_are_refused_with_reasons() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let id = project(&app, &owner, &[]).await;
    let wikis = format!("/api/v4/projects/{id}/wikis");
    for (body, says) in [
        (json!({"content": "x"}), "title"),
        (json!({"title": "   ", "content": "x"}), "can't be blank"),
        (json!({"title": "../etc/passwd", "content": "x"}), "can't be a page or folder name"),
        (json!({"title": "a//b", "content": "x"}), "empty folder name"),
        (json!({"title": "what?", "content": "x"}), "can't contain '?'"),
        (json!({"title": "uploads/x", "content": "x"}), "attachments"),
        (json!({"title": "Page", "content": "x", "format": "rdoc"}), "markdown"),
        (json!({"title": "Page"}), "content is missing"),
        (json!({"title": "Big", "content": "x".repeat(1_100_000)}), "larger than 1 MiB"),
    ] {
        let (status, refusal) = call(&app, Some(&owner), Method::POST, &wikis, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refusal}");
        assert!(refusal.to_string().contains(says), "{body}: {refusal} should say {says}");
    }
    call(&app, Some(&owner), Method::POST, &wikis, Some(json!({"title": "Page", "content": "one"}))).await;
    let (status, twice) =
        call(&app, Some(&owner), Method::POST, &wikis, Some(json!({"title": "Page", "content": "two"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(twice.to_string().contains("Duplicate page"), "{twice}");
    let (_, kept) = call(&app, Some(&owner), Method::GET, &format!("{wikis}/Page"), None).await;
    assert_eq!(kept["content"], "one", "nothing was lost");
}

#[tokio::test]
async fn guests_read_developers_write_and_strangers_see_nothing() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let reporter = app.user("reporter").await;
    let developer = app.user("developer").await;
    let stranger = app.user("stranger").await;
    let id = project(&app, &owner, &[(&guest, 10), (&reporter, 20), (&developer, 30)]).await;
    let wikis = format!("/api/v4/projects/{id}/wikis");
    let page = json!({"title": "Home", "content": "hello"});

    for user in [&guest, &reporter] {
        let (status, refusal) = call(&app, Some(user), Method::POST, &wikis, Some(page.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: {refusal}", user.user.username);
    }
    assert_eq!(call(&app, Some(&developer), Method::POST, &wikis, Some(page.clone())).await.0, StatusCode::CREATED);
    assert_eq!(call(&app, Some(&guest), Method::GET, &format!("{wikis}/Home"), None).await.0, StatusCode::OK);
    assert_eq!(call(&app, Some(&guest), Method::DELETE, &format!("{wikis}/Home"), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, Some(&stranger), Method::GET, &wikis, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, None, Method::GET, &format!("{wikis}/Home"), None).await.0, StatusCode::NOT_FOUND);
    let page = app.page(Method::GET, "/owner/docs/-/wikis/Home", Some(&stranger), None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // The wiki's git repository: a Guest clones, a Reporter may not push, a Developer may.
    let refs = app.git(Method::GET, "/owner/docs.wiki.git/info/refs?service=git-upload-pack", Some(&guest), b"").await;
    assert_eq!(refs.status, StatusCode::OK, "{}", refs.body);
    assert!(refs.body.contains("refs/heads/main"), "{}", refs.body);
    let push =
        app.git(Method::GET, "/owner/docs.wiki.git/info/refs?service=git-receive-pack", Some(&reporter), b"").await;
    assert_eq!(push.status, StatusCode::FORBIDDEN, "{}", push.body);
    let push =
        app.git(Method::GET, "/owner/docs.wiki.git/info/refs?service=git-receive-pack", Some(&developer), b"").await;
    assert_eq!(push.status, StatusCode::OK, "{}", push.body);
    let strange =
        app.git(Method::GET, "/owner/docs.wiki.git/info/refs?service=git-upload-pack", Some(&stranger), b"").await;
    assert_eq!(strange.status, StatusCode::NOT_FOUND);

    // An archived project's wiki is read-only.
    let (status, _) = call(&app, Some(&owner), Method::POST, &format!("/api/v4/projects/{id}/archive"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, refusal) =
        call(&app, Some(&developer), Method::PUT, &format!("{wikis}/Home"), Some(json!({"content": "x"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert!(refusal.to_string().contains("archived"), "{refusal}");
}

#[tokio::test]
async fn attachments_are_uploaded_and_served_so_the_browser_runs_nothing() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let id = project(&app, &owner, &[]).await;
    let body = multipart(&[], &[("file", "test.txt", b"testing contents")]);
    let request = axum::http::Request::post(format!("/api/v4/projects/{id}/wikis/attachments"))
        .header("PRIVATE-TOKEN", &owner.token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(body))
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let uploaded = answer.json();
    let path = uploaded["file_path"].as_str().unwrap().to_owned();
    assert_eq!(uploaded["file_name"], "test.txt");
    assert!(path.starts_with("uploads/") && path.ends_with("/test.txt"), "{path}");
    assert_eq!(uploaded["link"], json!({"url": path, "markdown": format!("[test.txt]({path})")}));
    assert_eq!(uploaded["branch"], "main");

    let served = app.page(Method::GET, &format!("/owner/docs/-/wikis/{path}"), Some(&owner), None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, "testing contents");
    assert_eq!(served.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(served.header("x-content-type-options"), "nosniff");

    // Active content is never rendered here: HTML and SVG come as downloads, sandboxed.
    for (name, content) in [
        ("evil.html", &b"<script>alert(1)</script>"[..]),
        ("evil.svg", &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"[..]),
    ] {
        let attachment = app
            .core
            .plan()
            .upload_wiki_attachment(
                &app.core
                    .project_access(
                        &gantry_core::Actor::User(owner.user.clone()),
                        &gantry_core::manage::groups::Lookup::Id(id),
                    )
                    .await
                    .unwrap(),
                name,
                content,
            )
            .await
            .unwrap();
        let served =
            app.page(Method::GET, &format!("/owner/docs/-/wikis/{}", attachment.file_path), Some(&owner), None).await;
        assert_eq!(served.status, StatusCode::OK, "{name}");
        assert!(
            !served.header("content-type").contains("html") && !served.header("content-type").contains("svg"),
            "{name}"
        );
        assert!(served.header("content-disposition").starts_with("attachment"), "{name}: {:?}", served.headers);
        assert!(served.header("content-security-policy").contains("sandbox"), "{name}");
    }
    let too_big = multipart(&[], &[("file", "big.bin", &vec![0u8; 11 << 20])]);
    let request = axum::http::Request::post(format!("/api/v4/projects/{id}/wikis/attachments"))
        .header("PRIVATE-TOKEN", &owner.token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(too_big))
        .unwrap();
    let answer = app.send(request).await;
    assert!(matches!(answer.status, StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE), "{}", answer.status);
}

#[tokio::test]
async fn the_pages_write_show_and_keep_the_history_of_a_page() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let id = project(&app, &owner, &[]).await;
    let base = "/owner/docs/-/wikis";
    let token = app.csrf_token(Some(&owner));

    let empty = app.page(Method::GET, base, Some(&owner), None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("This wiki has no pages yet"), "{}", empty.body);

    let content = "# Start\n\nSee [install](guides/Install) and ![logo](uploads/ab/logo.png).\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n";
    let created = app
        .multipart_page(
            &format!("{base}/-/new"),
            &owner,
            multipart(&[("authenticity_token", &token), ("title", "home"), ("content", content)], &[]),
        )
        .await;
    assert_eq!(created.header("location"), format!("{base}/home"));
    let shown = app.follow(created, &owner).await;
    assert!(shown.body.contains("The page home was created."), "{}", shown.body);
    assert!(shown.body.contains(&format!("href=\"{base}/guides/Install\"")), "{}", shown.body);
    assert!(shown.body.contains(&format!("src=\"{base}/uploads/ab/logo.png\"")), "{}", shown.body);
    assert!(!shown.body.contains("<script>alert") && !shown.body.contains("javascript:alert"), "{}", shown.body);

    // A link to a page not written yet offers the form; a file attached while saving is linked.
    let missing = app.page(Method::GET, &format!("{base}/guides/Install"), Some(&owner), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("does not exist yet") && missing.body.contains("value=\"guides/Install\""),
        "{}",
        missing.body
    );
    let saved = app
        .multipart_page(
            &format!("{base}/-/new"),
            &owner,
            multipart(
                &[("authenticity_token", &token), ("title", "guides/Install"), ("content", "Run it.")],
                &[("attachment", "shot.png", b"\x89PNG\r\n")],
            ),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, page) =
        call(&app, Some(&owner), Method::GET, &format!("/api/v4/projects/{id}/wikis/guides%2FInstall"), None).await;
    let text = page["content"].as_str().unwrap();
    assert!(text.starts_with("Run it.\n![shot.png](uploads/") && text.ends_with("/shot.png)\n"), "{text}");

    // Edit: the form holds the version it started from; a save against an older one is refused.
    let form = app.page(Method::GET, &format!("{base}/home/-/edit"), Some(&owner), None).await;
    assert_eq!(form.status, StatusCode::OK);
    let started = form.body.split("name=\"last_commit_sha\" value=\"").nth(1).unwrap()[..40].to_owned();
    let edit = |content: &'static str, sha: String| {
        multipart(
            &[
                ("authenticity_token", &token),
                ("title", "home"),
                ("content", content),
                ("last_commit_sha", &sha),
                ("message", "Say more"),
            ],
            &[],
        )
    };
    let first =
        app.multipart_page(&format!("{base}/home/-/edit"), &owner, edit("# Start\n\nMore.\n", started.clone())).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let stale = app.multipart_page(&format!("{base}/home/-/edit"), &owner, edit("# Stale\n", started)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("changed this page while you were editing it"), "{}", stale.body);
    assert!(stale.body.contains("# Stale"), "the refused text is kept in the form");

    let history = app.page(Method::GET, &format!("{base}/home/-/history"), Some(&owner), None).await;
    assert!(history.body.contains("Say more") && history.body.contains("owner created page: home"), "{}", history.body);
    let newest = history.body.split("/-/diff?version_id=").nth(1).unwrap()[..40].to_owned();
    let diff = app.page(Method::GET, &format!("{base}/home/-/diff?version_id={newest}"), Some(&owner), None).await;
    assert_eq!(diff.status, StatusCode::OK);
    assert!(diff.body.contains("More."), "{}", diff.body);

    let pages = app.page(Method::GET, &format!("{base}/-/pages"), Some(&owner), None).await;
    assert!(pages.body.contains(">Install<") && pages.body.contains("guides/"), "{}", pages.body);
    let home = app.page(Method::GET, base, Some(&owner), None).await;
    assert!(home.body.contains("More."), "the wiki opens on its home page");

    // Delete asks first.
    let ask = app.page(Method::POST, &format!("{base}/home/-/delete"), Some(&owner), Some(&[])).await;
    assert_eq!(ask.status, StatusCode::SEE_OTHER);
    assert!(ask.header("location").ends_with("/home/-/delete"));
    let deleted =
        app.page(Method::POST, &format!("{base}/home/-/delete"), Some(&owner), Some(&[("confirm", "yes")])).await;
    let listed = app.follow(deleted, &owner).await;
    assert!(listed.body.contains("The page home was deleted."), "{}", listed.body);
}
