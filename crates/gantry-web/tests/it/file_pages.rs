//! Changing files from the browser: edit, rename, new file, upload, new folder and delete
//! pages, each a commit by the visitor checked as a push; a stale edit, a protected branch and
//! bad names or uploads refused with the visitor's text kept and nothing committed.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, TestUser, multipart};

/// The file's bytes at `reference`, or `None` when it is not there.
async fn raw(app: &TestApp, user: &TestUser, reference_and_path: &str) -> Option<String> {
    let answer = app.page(Method::GET, &format!("/ada/site/-/raw/{reference_and_path}"), Some(user), None).await;
    (answer.status == StatusCode::OK).then_some(answer.body)
}

/// The newest commit of `main` as the API shows it.
async fn head(app: &TestApp, user: &TestUser, project: i64) -> serde_json::Value {
    let url = format!("/api/v4/projects/{project}/repository/commits/main");
    app.api(Method::GET, &url, Some(&user.token), None).await.json()
}

/// A page seen by the browser of `session` that also holds `cookie` (`name=value`).
async fn with_cookie(app: &TestApp, path: &str, session: &str, cookie: &str) -> crate::support::TestResponse {
    let request = axum::http::Request::get(path)
        .header("cookie", format!("gantry_session={session}; {cookie}"))
        .body(axum::body::Body::empty())
        .unwrap();
    app.send(request).await
}

/// The value of the hidden `last_commit_sha` field of a page.
fn last_commit_sha(page: &str) -> String {
    let marker = "name=\"last_commit_sha\" value=\"";
    let start = page.find(marker).expect("the form carries the file's last commit") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Ada's project `site` with `README.md`, and `path` committed over the API; the project and
/// the second commit.
async fn site_with(app: &TestApp, ada: &TestUser, path: &str, content: &str) -> (gantry_core::ProjectRow, String) {
    let (project, _) = app.project_with_file(ada, "site", "README.md", b"# Site\n").await;
    let url = format!("/api/v4/projects/{}/repository/files/{}", project.id.0, path.replace('/', "%2F"));
    let body = json!({"branch": "main", "content": content, "commit_message": "Add it"});
    let created = app.api(Method::POST, &url, Some(&ada.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let sha = head(app, ada, project.id.0).await["id"].as_str().unwrap().to_owned();
    (project, sha)
}

#[tokio::test]
async fn a_file_is_edited_previewed_renamed_and_deleted_from_its_page() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, first) = app.project_with_file(&ada, "site", "README.md", b"# Site\n").await;
    let blob = app.page(Method::GET, "/ada/site/-/blob/main/README.md", Some(&ada), None).await;
    assert!(blob.body.contains("href=\"/ada/site/-/edit/main/README.md\""), "{}", blob.body);
    assert!(blob.body.contains("href=\"/ada/site/-/delete/main/README.md\""));

    let form = app.page(Method::GET, "/ada/site/-/edit/main/README.md", Some(&ada), None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("# Site"));
    assert_eq!(last_commit_sha(&form.body), first);

    // Preview renders the markdown and commits nothing.
    let fields = |content: &'static str, sha: &str| {
        vec![
            ("file_path", "README.md".to_owned()),
            ("content", content.to_owned()),
            ("commit_message", "Say more".to_owned()),
            ("branch_name", "main".to_owned()),
            ("last_commit_sha", sha.to_owned()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let ada = &ada;
        async move {
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.page(Method::POST, "/ada/site/-/edit/main/README.md", Some(ada), Some(&borrowed)).await
        }
    };
    let mut previewing = fields("# Site\r\n\r\n**bold**\r\n", &first);
    previewing.push(("preview", "1".to_owned()));
    let preview = post(previewing).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.body.contains("<strong>bold</strong>"), "{}", preview.body);
    assert_eq!(raw(&app, &ada, "main/README.md").await.as_deref(), Some("# Site\n"));

    // The browser's CRLF line ends become the file's LF; the commit is Ada's.
    let saved = post(fields("# Site\r\nMore\r\n", &first)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.header("location"), "/ada/site/-/blob/main/README.md");
    // The page it lands on says so, once (the flash cookie goes with the redirect).
    let flash = saved.header("set-cookie").split(';').next().unwrap().to_owned();
    assert!(flash.starts_with("gantry_flash="), "{flash}");
    let landed = with_cookie(&app, "/ada/site/-/blob/main/README.md", &ada.session, &flash).await;
    assert!(landed.body.contains("Your changes were committed to main."), "{}", landed.body);
    assert!(landed.header("set-cookie").starts_with("gantry_flash=;"), "shown once: {:?}", landed.headers);
    let (_, other_session) = app.core.manage().sign_in("ada", crate::support::PASSWORD, "127.0.0.1").await.unwrap();
    let elsewhere = with_cookie(&app, "/ada/site/-/blob/main/README.md", &other_session, &flash).await;
    assert!(!elsewhere.body.contains("Your changes were committed"), "another session cannot open it");
    assert_eq!(raw(&app, &ada, "main/README.md").await.as_deref(), Some("# Site\nMore\n"));
    let commit = head(&app, &ada, project.id.0).await;
    assert_eq!((commit["title"].as_str(), commit["author_name"].as_str()), (Some("Say more"), Some("ada Tester")));

    // An edit opened before that commit is stale: refused, the text kept, nothing committed.
    let stale = post(fields("lost words?", &first)).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
    assert!(stale.body.contains("changed since you started editing"), "{}", stale.body);
    assert!(stale.body.contains("lost words?"), "the visitor's text is kept");
    assert_eq!(raw(&app, &ada, "main/README.md").await.as_deref(), Some("# Site\nMore\n"));

    // A new path moves the file, with its new text.
    let now = head(&app, &ada, project.id.0).await["id"].as_str().unwrap().to_owned();
    let mut moving = fields("# Docs\n", &now);
    moving[0].1 = "docs/README.md".to_owned();
    let moved = post(moving).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.header("location"), "/ada/site/-/blob/main/docs/README.md");
    assert_eq!(raw(&app, &ada, "main/README.md").await, None);
    assert_eq!(raw(&app, &ada, "main/docs/README.md").await.as_deref(), Some("# Docs\n"));

    // Delete asks first, then commits the removal and lands on the folder.
    let ask = app.page(Method::GET, "/ada/site/-/delete/main/docs/README.md", Some(&ada), None).await;
    assert_eq!(ask.status, StatusCode::OK);
    let sha = last_commit_sha(&ask.body);
    let fields = [("commit_message", "Remove docs"), ("branch_name", "main"), ("last_commit_sha", sha.as_str())];
    let deleted = app.page(Method::POST, "/ada/site/-/delete/main/docs/README.md", Some(&ada), Some(&fields)).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert_eq!(deleted.header("location"), "/ada/site/-/tree/main/docs");
    assert_eq!(raw(&app, &ada, "main/docs/README.md").await, None);
}

#[tokio::test]
async fn new_files_folders_and_uploads_land_in_the_folder_or_on_a_new_branch() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    site_with(&app, &ada, "docs/index.md", "# Docs\n").await;
    let tree = app.page(Method::GET, "/ada/site/-/tree/main/docs", Some(&ada), None).await;
    for link in ["/ada/site/-/new/main/docs", "/ada/site/-/upload/main/docs", "/ada/site/-/new_dir/main/docs"] {
        assert!(tree.body.contains(&format!("href=\"{link}\"")), "{link} in {}", tree.body);
    }
    let form = app.page(Method::GET, "/ada/site/-/new/main/docs", Some(&ada), None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);

    let new_file = |name: &'static str, branch: &'static str| {
        let app = &app;
        let ada = &ada;
        async move {
            let fields =
                [("file_path", name), ("content", "hello\r\n"), ("commit_message", "Add it"), ("branch_name", branch)];
            app.page(Method::POST, "/ada/site/-/new/main/docs", Some(ada), Some(&fields)).await
        }
    };
    let created = new_file("guide/intro.md", "main").await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.header("location"), "/ada/site/-/blob/main/docs/guide/intro.md");
    assert_eq!(raw(&app, &ada, "main/docs/guide/intro.md").await.as_deref(), Some("hello\n"));

    // Another branch name starts a new branch there; a taken one is refused.
    let branched = new_file("notes.txt", "feature/notes").await;
    assert_eq!(branched.header("location"), "/ada/site/-/blob/feature/notes/docs/notes.txt", "{}", branched.body);
    assert!(raw(&app, &ada, "feature/notes/docs/notes.txt").await.is_some());
    assert_eq!(raw(&app, &ada, "main/docs/notes.txt").await, None);
    let taken = new_file("other.txt", "feature/notes").await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(taken.body.contains("A branch named feature/notes already exists"), "{}", taken.body);
    let again = new_file("guide/intro.md", "main").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("A file with this name already exists."), "{}", again.body);

    // A folder holds an empty .gitkeep.
    let fields = [("dir_name", "images"), ("commit_message", "Add images"), ("branch_name", "main")];
    let folder = app.page(Method::POST, "/ada/site/-/new_dir/main/docs", Some(&ada), Some(&fields)).await;
    assert_eq!(folder.header("location"), "/ada/site/-/tree/main/docs/images", "{}", folder.body);
    assert_eq!(raw(&app, &ada, "main/docs/images/.gitkeep").await.as_deref(), Some(""));

    // Two files uploaded in one commit, a path sent by the browser cut to its name.
    let token = app.csrf_token(Some(&ada));
    let fields = [("authenticity_token", token.as_str()), ("commit_message", "Pictures"), ("branch_name", "main")];
    let body =
        multipart(&fields, &[("files", "logo.png", b"\x89PNG\r\n\x1a\n\0"), ("files", "C:\\tmp\\a.txt", b"a\n")]);
    let uploaded = app.multipart_page("/ada/site/-/upload/main/docs/images", &ada, body).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    assert_eq!(uploaded.header("location"), "/ada/site/-/tree/main/docs/images");
    assert!(raw(&app, &ada, "main/docs/images/logo.png").await.is_some());
    assert_eq!(raw(&app, &ada, "main/docs/images/a.txt").await.as_deref(), Some("a\n"));
}

#[tokio::test]
async fn bad_names_uploads_and_targets_are_refused_and_nothing_is_committed() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, first) = site_with(&app, &ada, "docs/guide.md", "# Guide\n").await;
    let unchanged = || async { head(&app, &ada, project.id.0).await["id"].as_str().unwrap().to_owned() };

    for (name, why) in [
        ("../evil.txt", "is not a valid file path"),
        ("a\0b", "is not a valid file path"),
        ("/etc/passwd", "cannot start with a slash"),
        ("guide.md/inside.txt", "Cannot make docs/guide.md/inside.txt: docs/guide.md is a file."),
        ("", "Name the new file."),
    ] {
        let fields = [("file_path", name), ("content", "x"), ("commit_message", "Try"), ("branch_name", "main")];
        let refused = app.page(Method::POST, "/ada/site/-/new/main/docs", Some(&ada), Some(&fields)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name:?}: {}", refused.body);
        assert!(refused.body.contains(why), "{name:?}: {}", refused.body);
        assert!(refused.body.contains("value=\"Try\"") || refused.body.contains(">Try</textarea>"));
    }
    let fields = [("file_path", "x.txt"), ("content", "x"), ("commit_message", " "), ("branch_name", "main")];
    let unsaid = app.page(Method::POST, "/ada/site/-/new/main/docs", Some(&ada), Some(&fields)).await;
    assert!(unsaid.body.contains("Write a commit message."), "{}", unsaid.body);

    // An upload into a file, and one over the limit.
    let token = app.csrf_token(Some(&ada));
    let fields = [("authenticity_token", token.as_str()), ("commit_message", "Up"), ("branch_name", "main")];
    let into_file = multipart(&fields, &[("files", "a.txt", b"a")]);
    let refused = app.multipart_page("/ada/site/-/upload/main/docs/guide.md", &ada, into_file).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("docs/guide.md is a file"), "{}", refused.body);
    // The limit is 10 MiB, all files together.
    let huge = vec![0u8; (10 << 20) + 1];
    let too_large = multipart(&fields, &[("files", "big.bin", &huge)]);
    let refused = app.multipart_page("/ada/site/-/upload/main/docs", &ada, too_large).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", refused.body);
    assert!(refused.body.contains("nothing was committed"), "{}", refused.body);
    let forged = multipart(&[("authenticity_token", "forged")], &[("files", "a.txt", b"a")]);
    assert_eq!(app.multipart_page("/ada/site/-/upload/main/docs", &ada, forged).await.status, StatusCode::FORBIDDEN);

    // Editing a binary file, or a folder, is refused with why.
    let png = multipart(&fields, &[("files", "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0")]);
    assert_eq!(app.multipart_page("/ada/site/-/upload/main/docs", &ada, png).await.status, StatusCode::SEE_OTHER);
    let binary = app.page(Method::GET, "/ada/site/-/edit/main/docs/logo.png", Some(&ada), None).await;
    assert_eq!(binary.status, StatusCode::BAD_REQUEST);
    assert!(binary.body.contains("is binary: it cannot be edited here."), "{}", binary.body);
    let folder = app.page(Method::GET, "/ada/site/-/edit/main/docs", Some(&ada), None).await;
    assert!(folder.body.contains("docs is a folder, not a file."), "{}", folder.body);

    let after_png = unchanged().await;
    assert_ne!(after_png, first, "only the picture was committed");
    let history = format!("/api/v4/projects/{}/repository/commits?ref_name=main", project.id.0);
    assert_eq!(app.api(Method::GET, &history, Some(&ada.token), None).await.json().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_developer_is_sent_to_a_new_branch_where_the_protected_one_refuses_them() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let dev = app.user("dev").await;
    let reporter = app.user("rita").await;
    let (project, first) = app.project_with_file(&ada, "site", "README.md", b"hi\n").await;
    let members = format!("/api/v4/projects/{}/members", project.id.0);
    for (user, level) in [(&dev, 30), (&reporter, 20)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        assert_eq!(app.api(Method::POST, &members, Some(&ada.token), Some(body)).await.status, StatusCode::CREATED);
    }
    let form = app.page(Method::GET, "/ada/site/-/edit/main/README.md", Some(&dev), None).await;
    assert!(form.body.contains("value=\"dev-patch-1\""), "{}", form.body);
    assert!(form.body.contains("You cannot commit to main directly"), "{}", form.body);

    let edit = |branch: &'static str| {
        let (app, dev, first) = (&app, &dev, first.clone());
        async move {
            let fields = [
                ("file_path", "README.md"),
                ("content", "changed by dev\n"),
                ("commit_message", "Dev's change"),
                ("branch_name", branch),
                ("last_commit_sha", first.as_str()),
            ];
            app.page(Method::POST, "/ada/site/-/edit/main/README.md", Some(dev), Some(&fields)).await
        }
    };
    let refused = edit("main").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("changed by dev"), "the text is kept");
    let policy = "You are not allowed to push code to the protected branch &#39;main&#39;.";
    assert!(refused.body.contains(policy), "the push policy's words: {}", refused.body);
    let saved = edit("dev-patch-1").await;
    assert_eq!(saved.header("location"), "/ada/site/-/blob/dev-patch-1/README.md", "{}", saved.body);

    // Reporters get no edit links and no edit page.
    let blob = app.page(Method::GET, "/ada/site/-/blob/main/README.md", Some(&reporter), None).await;
    assert!(!blob.body.contains("/-/edit/"), "{}", blob.body);
    let page = app.page(Method::GET, "/ada/site/-/edit/main/README.md", Some(&reporter), None).await;
    assert!(page.status.is_client_error(), "{}", page.status);
}

#[tokio::test]
async fn an_empty_project_gets_its_first_files_from_the_browser() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let created = app.api(Method::POST, "/api/v4/projects", Some(&ada.token), Some(json!({"name": "site"}))).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let overview = app.page(Method::GET, "/ada/site", Some(&ada), None).await;
    assert!(overview.body.contains("href=\"/ada/site/-/new/main/?file_path=README.md\""), "{}", overview.body);
    let form = app.page(Method::GET, "/ada/site/-/new/main/?file_path=README.md", Some(&ada), None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("value=\"README.md\""));
    let elsewhere =
        [("file_path", "README.md"), ("content", "# Site"), ("commit_message", "Start"), ("branch_name", "x")];
    let refused = app.page(Method::POST, "/ada/site/-/new/main/", Some(&ada), Some(&elsewhere)).await;
    assert!(refused.body.contains("The repository is empty: its first commit goes to main."), "{}", refused.body);
    let fields =
        [("file_path", "README.md"), ("content", "# Site\n"), ("commit_message", "Start"), ("branch_name", "main")];
    let first = app.page(Method::POST, "/ada/site/-/new/main/", Some(&ada), Some(&fields)).await;
    assert_eq!(first.header("location"), "/ada/site/-/blob/main/README.md", "{}", first.body);
    assert_eq!(raw(&app, &ada, "main/README.md").await.as_deref(), Some("# Site\n"));
}
