//! Confidential issues, their comments, confidential epics and the issues of private projects
//! never show to those who may not see them, surface by surface: search (the API's scopes and
//! the page), boards (the API's lists and the pages), epics (lists, an epic's issues, its page,
//! the roadmap), to-dos (a mention in a confidential comment gives none), the issue lists of
//! the API (the caller's, a project's, a group's, a milestone's) and a project's page. Each surface
//! is first shown to hold the item for someone who may see it, so no check passes by looking at
//! an empty page. (E-mails: `e2e/mail.rs`; every other read: the marker check of `sweep.rs`.)

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// In every confidential title, description, comment and epic.
const HIDDEN: &str = "hiddenmarker";
/// In the private project's issue.
const VAULT: &str = "vaultmarker";
/// The word searched for, in all of them too (the search page repeats what was searched).
const WORD: &str = "zephyr";

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> Value {
    let answer = app.api(method, path, Some(&user.token), Some(body)).await;
    assert!(answer.status.is_success(), "{path}: {} {}", answer.status, answer.body);
    answer.json()
}

struct World {
    app: TestApp,
    reporter: TestUser,
    guest: TestUser,
    stranger: TestUser,
    group: i64,
    project: i64,
    board: i64,
    milestone: i64,
    epic_iid: i64,
}

/// A public group `open` with a public project `open/app` holding a confidential issue (a
/// comment on it mentions the Guest) in a public epic, a confidential epic, a board, a
/// milestone; and a private project `open/vault` with an ordinary issue.
async fn world() -> World {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let (reporter, guest, stranger) = (app.user("reporter").await, app.user("guest").await, app.user("stranger").await);
    let body = json!({"name": "open", "path": "open", "visibility": "public"});
    let group = call(&app, &owner, Method::POST, "/api/v4/groups", body).await["id"].as_i64().unwrap();
    for (user, level) in [(&reporter, 20), (&guest, 10)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        call(&app, &owner, Method::POST, &format!("/api/v4/groups/{group}/members"), body).await;
    }
    let body = json!({"name": "app", "visibility": "public", "namespace_id": group});
    let project = call(&app, &owner, Method::POST, "/api/v4/projects", body).await["id"].as_i64().unwrap();
    let body = json!({"name": "vault", "visibility": "private", "namespace_id": group});
    let vault = call(&app, &owner, Method::POST, "/api/v4/projects", body).await["id"].as_i64().unwrap();
    let body = json!({"title": "Release 1"});
    let milestone =
        call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/milestones"), body).await["id"]
            .as_i64()
            .unwrap();
    let label = json!({"name": "doing", "color": "#428bca"});
    let label = call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/labels"), label).await["id"]
        .as_i64()
        .unwrap();
    let issue = json!({
        "title": format!("{HIDDEN} {WORD} title"), "description": format!("{HIDDEN} {WORD} description"),
        "confidential": true, "labels": "doing", "milestone_id": milestone,
    });
    let hidden = call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/issues"), issue).await;
    let note = json!({"body": format!("{HIDDEN} {WORD} comment, cc @guest")});
    call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/issues/1/notes"), note).await;
    let open = json!({"title": "An open issue", "labels": "doing", "milestone_id": milestone});
    call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/issues"), open).await;
    let issue = json!({"title": format!("{VAULT} {WORD} title")});
    call(&app, &owner, Method::POST, &format!("/api/v4/projects/{vault}/issues"), issue).await;
    let epic = json!({"title": "Public epic"});
    let epic_iid =
        call(&app, &owner, Method::POST, &format!("/api/v4/groups/{group}/epics"), epic).await["iid"].as_i64().unwrap();
    let path = format!("/api/v4/groups/{group}/epics/{epic_iid}/issues/{}", hidden["id"]);
    call(&app, &owner, Method::POST, &path, json!({})).await;
    let epic = json!({
        "title": format!("{HIDDEN} {WORD} epic"), "confidential": true,
        "start_date_is_fixed": true, "start_date_fixed": "2026-11-01",
        "due_date_is_fixed": true, "due_date_fixed": "2027-02-01",
    });
    call(&app, &owner, Method::POST, &format!("/api/v4/groups/{group}/epics"), epic).await;
    let board =
        call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/boards"), json!({"name": "Flow"})).await
            ["id"]
            .as_i64()
            .unwrap();
    let path = format!("/api/v4/projects/{project}/boards/{board}/lists");
    call(&app, &owner, Method::POST, &path, json!({"label_id": label})).await;
    World { app, reporter, guest, stranger, group, project, board, milestone, epic_iid }
}

/// What a read answers someone (the API with their token, a page with their session).
async fn read(app: &TestApp, user: Option<&TestUser>, path: &str) -> String {
    let answer = if path.starts_with("/api/") {
        app.api(Method::GET, path, user.map(|u| u.token.as_str()), None).await
    } else {
        app.page(Method::GET, path, user, None).await
    };
    assert!(
        matches!(answer.status, StatusCode::OK | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
        "{path}: {} {}",
        answer.status,
        answer.body
    );
    answer.body
}

/// Each surface holds `marker` for `seer` and for none of `others`.
async fn shown_only_to(
    app: &TestApp,
    surfaces: &[String],
    marker: &str,
    seer: &TestUser,
    others: &[Option<&TestUser>],
) {
    for path in surfaces {
        assert!(
            read(app, Some(seer), path).await.contains(marker),
            "{path} does not show {marker} to {}",
            seer.user.username
        );
        for other in others {
            let who = other.map_or("anonymous", |u| u.user.username.as_str());
            assert!(!read(app, *other, path).await.contains(marker), "{path} shows {marker} to {who}");
        }
    }
}

#[tokio::test]
async fn confidential_and_private_items_never_show_to_those_who_may_not_see_them() {
    let World { app, reporter, guest, stranger, group, project, board, milestone, epic_iid } = world().await;
    let below_reporter = [Some(&guest), Some(&stranger), None];

    // Search: the API's scopes at each level, and the page's tabs.
    let mut search = Vec::new();
    for scope in ["issues", "notes"] {
        search.push(format!("/api/v4/search?scope={scope}&search={WORD}"));
        search.push(format!("/api/v4/groups/{group}/search?scope={scope}&search={WORD}"));
        search.push(format!("/api/v4/projects/{project}/search?scope={scope}&search={WORD}"));
        search.push(format!("/search?search={WORD}&scope={scope}"));
    }
    search.push(format!("/api/v4/groups/{group}/search?scope=epics&search={WORD}"));
    search.push(format!("/search?search={WORD}&scope=epics"));
    shown_only_to(&app, &search, HIDDEN, &reporter, &below_reporter).await;

    // Boards: the board's lists in the API (their issues are read through the issue list of
    // the list's label) and the board page.
    let boards = vec![
        format!("/api/v4/projects/{project}/issues?labels=doing"),
        format!("/open/app/-/boards/{board}"),
        format!("/open/-/boards"),
    ];
    shown_only_to(&app, &boards, HIDDEN, &reporter, &below_reporter).await;

    // Epics: the group's list, the public epic's issues and page, the roadmap.
    let epics = vec![
        format!("/api/v4/groups/{group}/epics"),
        format!("/api/v4/groups/{group}/epics/{epic_iid}/issues"),
        format!("/open/-/epics"),
        format!("/open/-/epics/{epic_iid}"),
        format!("/open/-/roadmap"),
    ];
    shown_only_to(&app, &epics, HIDDEN, &reporter, &below_reporter).await;

    // Issue lists: the caller's, a project's, a group's, a milestone's; the pages.
    let lists = [
        "/api/v4/issues?scope=all".to_owned(),
        format!("/api/v4/projects/{project}/issues"),
        format!("/api/v4/groups/{group}/issues"),
        format!("/api/v4/projects/{project}/milestones/{milestone}/issues"),
        "/open/app/-/issues".to_owned(),
    ];
    let signed_in_lists: Vec<String> = lists.iter().filter(|p| !p.starts_with("/api/v4/issues")).cloned().collect();
    shown_only_to(&app, &signed_in_lists, HIDDEN, &reporter, &below_reporter).await;
    shown_only_to(&app, &lists[..1], HIDDEN, &reporter, &[Some(&guest), Some(&stranger)]).await;

    // The private project's issue: its members (a Guest too) see it, nobody outside.
    let vault: Vec<String> = vec![
        "/api/v4/issues?scope=all".to_owned(),
        format!("/api/v4/groups/{group}/issues"),
        format!("/api/v4/search?scope=issues&search={WORD}"),
        format!("/search?search={WORD}&scope=issues"),
    ];
    shown_only_to(&app, &vault, VAULT, &guest, &[Some(&stranger)]).await;
    shown_only_to(&app, &vault[1..], VAULT, &guest, &[None]).await;

    // To-dos: the mention in a confidential comment gives the Guest none.
    for path in ["/api/v4/todos", "/dashboard/todos"] {
        assert!(!read(&app, Some(&guest), path).await.contains(HIDDEN), "{path} shows the confidential issue");
    }
}
