//! References in issues and comments: `#1`, `group/project#1`, `@user`, `~label`, `%milestone`
//! and commit ids become links with titles on the issue page, for what the viewer may see only;
//! an issue named elsewhere gets a "mentioned in" note, once, shown only to those who may see
//! where it was named; a comment edited to mention someone gives them a to-do.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn project(app: &TestApp, owner: &TestUser, name: &str, visibility: &str) -> i64 {
    let body = json!({"name": name, "visibility": visibility});
    let created = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

async fn post(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let created = app.api(Method::POST, path, Some(&user.token), Some(body)).await;
    assert!(created.status.is_success(), "{path}: {} {}", created.status, created.body);
    created.json()
}

async fn note_bodies(app: &TestApp, user: &TestUser, project: i64, iid: i64) -> Vec<String> {
    let path = format!("/api/v4/projects/{project}/issues/{iid}/notes?sort=asc");
    let listed = app.api(Method::GET, &path, Some(&user.token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.json().as_array().unwrap().iter().map(|note| note["body"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn references_become_links_for_what_the_viewer_may_see() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let (repository, sha) = app.project_with_file(&owner, "Api", "README.md", b"hello\n").await;
    let api = repository.id.0;
    let secret = project(&app, &owner, "Secret", "private").await;
    post(
        &app,
        &owner,
        &format!("/api/v4/projects/{api}/members"),
        json!({"user_id": ada.user.id.0, "access_level": 20}),
    )
    .await;
    let issues = format!("/api/v4/projects/{api}/issues");
    post(&app, &owner, &issues, json!({"title": "The \"target\" <b>issue</b>"})).await;
    post(&app, &owner, &format!("/api/v4/projects/{secret}/issues"), json!({"title": "Hidden plans"})).await;
    post(&app, &owner, &format!("/api/v4/projects/{api}/labels"), json!({"name": "bug", "color": "#d9534f"})).await;
    post(
        &app,
        &owner,
        &format!("/api/v4/projects/{api}/labels"),
        json!({"name": "priority::high", "color": "#000000"}),
    )
    .await;
    post(&app, &owner, &format!("/api/v4/projects/{api}/milestones"), json!({"title": "v1.0"})).await;
    let short = &sha[..8];
    let description = format!(
        "Blocks #1 and owner/secret#1; ~bug ~priority::high %v1.0 by @ada in {short}.\n\n\
         Not `#1`, nor #99, ~nosuch, @nobody.\n\n[#1](https://example.com)"
    );
    post(&app, &owner, &issues, json!({"title": "Source", "description": description})).await;

    let page = app.page(Method::GET, "/owner/api/-/issues/2", Some(&ada), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    assert!(
        html.contains(
            "<a href=\"/owner/api/-/issues/1\" class=\"ref ref-issue\" \
             title=\"The &quot;target&quot; &lt;b&gt;issue&lt;/b&gt;\">#1</a>"
        ),
        "{html}"
    );
    assert!(
        !html.contains("Hidden plans") && !html.contains("/owner/secret/"),
        "a private project stays plain: {html}"
    );
    assert!(html.contains("owner/secret#1"), "{html}");
    assert!(html.contains("class=\"ref ref-label\""), "{html}");
    assert!(html.contains("style=\"background-color: #d9534f; color: #"), "{html}");
    assert!(html.contains(">priority::high</span></a>"), "{html}");
    assert!(html.contains("class=\"ref ref-milestone\" title=\"v1.0\">%v1.0</a>"), "{html}");
    assert!(html.contains("<a href=\"/ada\" class=\"ref ref-user\" title=\"ada Tester\">@ada</a>"), "{html}");
    assert!(
        html.contains(&format!(
            "<a href=\"/owner/api/-/commit/{sha}\" class=\"ref ref-commit\" title=\"first\"><code>{short}</code></a>"
        )),
        "{html}"
    );
    assert!(html.contains("<code>#1</code>") && html.contains("#99") && html.contains("~nosuch"), "{html}");
    assert_eq!(html.matches("class=\"ref ref-issue\"").count(), 1, "the link's text and code are left: {html}");

    // The owner sees the private project's issue, with its title.
    let page = app.page(Method::GET, "/owner/api/-/issues/2", Some(&owner), None).await;
    assert!(page.body.contains("title=\"Hidden plans\">owner/secret#1</a>"), "{}", page.body);

    // A closed issue says so.
    let closed =
        app.api(Method::PUT, &format!("{issues}/1"), Some(&owner.token), Some(json!({"state_event": "close"}))).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let page = app.page(Method::GET, "/owner/api/-/issues/2", Some(&ada), None).await;
    assert!(page.body.contains(">#1</a> (closed)"), "{}", page.body);

    // Scripts in a reference's title are text.
    post(&app, &owner, &issues, json!({"title": "<img src=x onerror=alert(1)>", "description": "x"})).await;
    let note = post(&app, &owner, &format!("{issues}/2/notes"), json!({"body": "see #3"})).await;
    assert!(note["id"].as_i64().is_some());
    let page = app.page(Method::GET, "/owner/api/-/issues/2", Some(&ada), None).await;
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(page.body.contains("title=\"&lt;img src=x onerror=alert(1)&gt;\">#3</a>"), "{}", page.body);
}

#[tokio::test]
async fn a_named_issue_is_told_once_and_only_those_who_may_see_the_source_see_it() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let api = project(&app, &owner, "Api", "private").await;
    let secret = project(&app, &owner, "Secret", "private").await;
    post(
        &app,
        &owner,
        &format!("/api/v4/projects/{api}/members"),
        json!({"user_id": ada.user.id.0, "access_level": 30}),
    )
    .await;
    let issues = format!("/api/v4/projects/{api}/issues");
    post(&app, &owner, &issues, json!({"title": "Target"})).await;
    post(&app, &owner, &issues, json!({"title": "Same project", "description": "Needs #1, and #1 again"})).await;
    post(
        &app,
        &owner,
        &format!("/api/v4/projects/{secret}/issues"),
        json!({"title": "Private", "description": "Like owner/api#1"}),
    )
    .await;

    let seen_by_owner = note_bodies(&app, &owner, api, 1).await;
    assert_eq!(seen_by_owner, vec!["mentioned in #2", "mentioned in owner/secret#1"]);
    let seen_by_ada = note_bodies(&app, &ada, api, 1).await;
    assert_eq!(seen_by_ada, vec!["mentioned in #2"], "Ada may not see owner/secret");

    // Naming it again (a comment, an edited description) leaves no second note; a comment of
    // another issue does leave one.
    post(&app, &owner, &format!("{issues}/2/notes"), json!({"body": "about #1"})).await;
    let edited = app
        .api(Method::PUT, &format!("{issues}/2"), Some(&owner.token), Some(json!({"description": "Now only #1."})))
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    post(&app, &owner, &issues, json!({"title": "Third"})).await;
    post(&app, &ada, &format!("{issues}/3/notes"), json!({"body": "duplicate of #1?"})).await;
    assert_eq!(note_bodies(&app, &ada, api, 1).await, vec!["mentioned in #2", "mentioned in #3"]);
    // An issue naming itself is not told.
    post(&app, &ada, &format!("{issues}/3/notes"), json!({"body": "this is #3"})).await;
    assert!(!note_bodies(&app, &ada, api, 3).await.iter().any(|body| body.starts_with("mentioned in")));

    // A note one may not see is not found one by one either.
    let listed = app.api(Method::GET, &format!("{issues}/1/notes?sort=asc"), Some(&owner.token), None).await;
    let hidden = listed.json().as_array().unwrap().iter().find(|n| n["body"] == "mentioned in owner/secret#1").unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    let one = app.api(Method::GET, &format!("{issues}/1/notes/{hidden}"), Some(&ada.token), None).await;
    assert_eq!(one.status, StatusCode::NOT_FOUND, "{}", one.body);
}

#[tokio::test]
async fn a_comment_edited_to_mention_someone_gives_them_a_to_do() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let api = project(&app, &owner, "Api", "private").await;
    post(
        &app,
        &owner,
        &format!("/api/v4/projects/{api}/members"),
        json!({"user_id": ada.user.id.0, "access_level": 30}),
    )
    .await;
    let issues = format!("/api/v4/projects/{api}/issues");
    post(&app, &owner, &issues, json!({"title": "Target"})).await;
    let note = post(&app, &owner, &format!("{issues}/1/notes"), json!({"body": "a first thought"})).await;
    let id = note["id"].as_i64().unwrap();
    let todos = |user: &TestUser| {
        let token = user.token.clone();
        let app = &app;
        async move { app.api(Method::GET, "/api/v4/todos", Some(&token), None).await.json().as_array().unwrap().len() }
    };
    assert_eq!(todos(&ada).await, 0);
    let path = format!("{issues}/1/notes/{id}");
    let edited = app.api(Method::PUT, &path, Some(&owner.token), Some(json!({"body": "a first thought, @ada"}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(todos(&ada).await, 1);
    // Editing again, the mention already there: no second to-do.
    let edited = app.api(Method::PUT, &path, Some(&owner.token), Some(json!({"body": "a second thought, @ada"}))).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(todos(&ada).await, 1);
}

/// Waits until `check` holds of the issue's JSON (the background worker reads pushes).
async fn issue_becomes(app: &TestApp, user: &TestUser, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let issue = app.api(Method::GET, path, Some(&user.token), None).await.json();
        if check(&issue) {
            return issue;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the issue at {path} never changed as expected");
}

#[tokio::test]
async fn commits_pushed_mention_issues_and_close_them_on_the_default_branch() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let _worker = app.background_worker();
    let (project, _) = app.project_with_file(&owner, "Api", "README.md", b"# Api\n").await;
    let id = project.id.0;
    for title in ["Crash", "Typo", "Later"] {
        let body = json!({"title": title});
        app.api(Method::POST, &format!("/api/v4/projects/{id}/issues"), Some(&owner.token), Some(body)).await;
    }
    let commit = |branch: &str, message: &str, file: &str| {
        json!({"branch": branch, "start_branch": "main", "commit_message": message,
               "actions": [{"action": "create", "file_path": file, "content": "x"}]})
    };
    // On another branch: mentioned, not closed.
    let made = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{id}/repository/commits"),
            Some(&owner.token),
            Some(commit("topic", "Work on it\n\nFixes #1", "a.txt")),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let sha = made.json()["id"].as_str().unwrap()[..8].to_owned();
    let notes = format!("/api/v4/projects/{id}/issues/1/notes");
    let mentioned = format!("mentioned in commit {sha}");
    issue_becomes(&app, &owner, &notes, |notes| notes.to_string().contains(&mentioned)).await;
    let issue = app.api(Method::GET, &format!("/api/v4/projects/{id}/issues/1"), Some(&owner.token), None).await.json();
    assert_eq!(issue["state"], "opened", "a branch other than the default one closes nothing");

    // On the default branch: the closing list closes both; a plain mention closes nothing.
    let made = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{id}/repository/commits"),
            Some(&owner.token),
            Some(commit("main", "Fix the crash and a typo\n\nCloses #1 and #2, see #3", "b.txt")),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    for iid in [1, 2] {
        let path = format!("/api/v4/projects/{id}/issues/{iid}");
        issue_becomes(&app, &owner, &path, |issue| issue["state"] == "closed").await;
    }
    let path = format!("/api/v4/projects/{id}/issues/3/notes");
    let listed = issue_becomes(&app, &owner, &path, |notes| notes.to_string().contains("mentioned in commit")).await;
    assert_eq!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["body"].as_str().unwrap().starts_with("mentioned in commit"))
            .count(),
        1
    );
    let issue = app.api(Method::GET, &format!("/api/v4/projects/{id}/issues/3"), Some(&owner.token), None).await.json();
    assert_eq!(issue["state"], "opened");
}

#[tokio::test]
async fn the_markdown_api_renders_as_the_pages_do_with_the_references_the_caller_may_follow() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let secret = project(&app, &owner, "Secret", "private").await;
    post(&app, &owner, &format!("/api/v4/projects/{secret}/issues"), json!({"title": "Hidden plan"})).await;

    let plain = app
        .api(Method::POST, "/api/v4/markdown", None, Some(json!({"text": "**foo** <script>alert(1)</script> #1"})))
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    let html = plain.json()["html"].as_str().unwrap().to_owned();
    assert!(html.contains("<strong>foo</strong>") && !html.contains("<script"), "{html}");
    assert!(!html.contains("Hidden plan"), "no project, no reference: {html}");

    let body = json!({"text": "See #1", "gfm": true, "project": "owner/secret"});
    let rendered = app.api(Method::POST, "/api/v4/markdown", Some(&owner.token), Some(body.clone())).await;
    assert_eq!(rendered.status, StatusCode::OK, "{}", rendered.body);
    let html = rendered.json()["html"].as_str().unwrap().to_owned();
    assert!(html.contains("/owner/secret/-/issues/1") && html.contains("Hidden plan"), "{html}");
    let refused = app.api(Method::POST, "/api/v4/markdown", Some(&stranger.token), Some(body)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "a project the caller cannot see: {}", refused.body);
    let missing = app.api(Method::POST, "/api/v4/markdown", Some(&owner.token), Some(json!({"gfm": true}))).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("text is missing"), "{}", missing.body);
}
