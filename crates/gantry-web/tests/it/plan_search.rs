//! Full-text search of Plan: issues, comments, epics and wiki pages through `/api/v4/search`
//! (the instance's, a group's, a project's) and the search page; words, prefixes and phrases
//! alike on both databases; the index following every write (edits, deletes, wiki saves);
//! confidential issues and epics and private projects only for those who may see them; and
//! whatever is typed never reaching the engines' query syntax.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn call(app: &TestApp, user: Option<&TestUser>, method: Method, path: &str, body: Option<Value>) -> Value {
    let answer = app.api(method, path, user.map(|u| u.token.as_str()), body).await;
    assert!(answer.status.is_success(), "{path}: {} {}", answer.status, answer.body);
    if answer.body.is_empty() { Value::Null } else { answer.json() }
}

/// What a search finds, by one field of each hit.
async fn found(app: &TestApp, user: Option<&TestUser>, path: &str, field: &str) -> Vec<String> {
    let answer = app.api(Method::GET, path, user.map(|u| u.token.as_str()), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    let mut values: Vec<String> = answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| match &hit[field] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect();
    values.sort();
    values
}

fn query(text: &str) -> String {
    serde_urlencoded::to_string([("search", text)]).unwrap()
}

/// A public group `team` owned by `ada` with `rita` as a Reporter; a public project `team/api`
/// and a private one `team/vault`, with issues, comments, epics and a wiki page about deploys.
struct World {
    app: TestApp,
    ada: TestUser,
    rita: TestUser,
    outsider: TestUser,
    group: i64,
    api: i64,
}

async fn world() -> World {
    let app = TestApp::new().await;
    let (ada, rita, outsider) = (app.user("ada").await, app.user("rita").await, app.user("outsider").await);
    let body = json!({"name": "team", "path": "team", "visibility": "public"});
    let group = call(&app, Some(&ada), Method::POST, "/api/v4/groups", Some(body)).await["id"].as_i64().unwrap();
    let body = json!({"user_id": rita.user.id.0, "access_level": 20});
    call(&app, Some(&ada), Method::POST, &format!("/api/v4/groups/{group}/members"), Some(body)).await;
    let mut ids = Vec::new();
    for (name, visibility) in [("api", "public"), ("vault", "private")] {
        let body = json!({"name": name, "visibility": visibility, "namespace_id": group});
        ids.push(call(&app, Some(&ada), Method::POST, "/api/v4/projects", Some(body)).await["id"].as_i64().unwrap());
    }
    let (api, vault) = (ids[0], ids[1]);
    let issues = [
        (api, "Deploy pipeline fails on Tuesday", "The runner crashes while deploying.\nSee the logs.", false),
        (api, "Rotate the deploy secret", "Confidential: the old key leaked.", true),
        (vault, "Deploy keys of the vault", "Private project.", false),
        (api, "Unrelated chore", "Nothing to see.", false),
    ];
    for (project, title, description, confidential) in issues {
        let body = json!({"title": title, "description": description, "confidential": confidential});
        call(&app, Some(&ada), Method::POST, &format!("/api/v4/projects/{project}/issues"), Some(body)).await;
    }
    let comment = json!({"body": "The deployment works again after a restart."});
    call(&app, Some(&ada), Method::POST, &format!("/api/v4/projects/{api}/issues/1/notes"), Some(comment)).await;
    let comment = json!({"body": "Deployment of the new secret is done."});
    call(&app, Some(&ada), Method::POST, &format!("/api/v4/projects/{api}/issues/2/notes"), Some(comment)).await;
    // A system note ("added ~deployment label" and the like) is never a search hit.
    let labels = json!({"labels": "deployment"});
    call(&app, Some(&ada), Method::PUT, &format!("/api/v4/projects/{api}/issues/3"), Some(labels)).await;
    for (title, confidential) in [("Deploy everywhere", false), ("Deploy the confidential plan", true)] {
        let body = json!({"title": title, "confidential": confidential, "description": "Roll out deployments."});
        call(&app, Some(&ada), Method::POST, &format!("/api/v4/groups/{group}/epics"), Some(body)).await;
    }
    let page = json!({"title": "Runbook", "content": "# Runbook\n\nSteps:\n\n1. Check the queue.\n2. Deploy the service.\n3. Watch."});
    call(&app, Some(&ada), Method::POST, &format!("/api/v4/projects/{api}/wikis"), Some(page)).await;
    World { app, ada, rita, outsider, group, api }
}

#[tokio::test]
async fn search_finds_issues_comments_epics_and_wiki_pages_the_viewer_may_see() {
    let World { app, ada, rita, outsider, group, api } = world().await;
    let deploy = query("deploy");

    // Someone outside the group sees the public project's open issue only, signed in or not.
    let public_issue = vec!["Deploy pipeline fails on Tuesday".to_owned()];
    for user in [Some(&outsider), None] {
        assert_eq!(found(&app, user, &format!("/api/v4/search?scope=issues&{deploy}"), "title").await, public_issue);
        assert_eq!(
            found(&app, user, &format!("/api/v4/search?scope=notes&{deploy}"), "body").await,
            ["The deployment works again after a restart."]
        );
        assert_eq!(
            found(&app, user, &format!("/api/v4/groups/{group}/search?scope=epics&{deploy}"), "title").await,
            ["Deploy everywhere"]
        );
    }
    // A Reporter of the group sees the confidential issue, the private project's, their
    // comments and the confidential epic.
    assert_eq!(
        found(&app, Some(&rita), &format!("/api/v4/search?scope=issues&{deploy}"), "title").await,
        ["Deploy keys of the vault", "Deploy pipeline fails on Tuesday", "Rotate the deploy secret"]
    );
    assert_eq!(found(&app, Some(&rita), &format!("/api/v4/search?scope=notes&{deploy}"), "body").await.len(), 2);
    assert_eq!(
        found(&app, Some(&rita), &format!("/api/v4/search?scope=epics&{deploy}"), "title").await,
        ["Deploy everywhere", "Deploy the confidential plan"]
    );

    // Words, prefixes of three characters or more, and phrases in quotes.
    let titles = |text: &str| {
        let path = format!("/api/v4/projects/{api}/search?scope=issues&{}", query(text));
        let app = &app;
        let ada = &ada;
        async move { found(app, Some(ada), &path, "title").await }
    };
    assert_eq!(titles("crash").await, public_issue, "a prefix of a word in the description");
    assert_eq!(titles("TUESDAY pipe").await, public_issue, "every word, ignoring case");
    assert_eq!(titles("\"pipeline fails\"").await, public_issue);
    assert!(titles("\"fails pipeline\"").await.is_empty(), "a phrase keeps its order");
    assert!(titles("de").await.is_empty(), "two letters match a whole word only");
    assert!(titles("' OR 1=1 --").await.is_empty());
    assert!(titles("NEAR(deploy pipeline) OR *").await.is_empty());
    assert!(titles("!!!").await.is_empty());
    // The issue lists' `search` is the same search.
    assert_eq!(
        found(&app, Some(&ada), &format!("/api/v4/projects/{api}/issues?search=crashes"), "title").await,
        public_issue
    );

    // Wiki pages, in GitLab's `wiki_blobs` shape.
    let answer = app.api(Method::GET, &format!("/api/v4/search?scope=wiki_blobs&{deploy}"), None, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let pages = answer.json();
    assert_eq!(pages.as_array().unwrap().len(), 1, "{pages}");
    assert_eq!(pages[0]["path"], "Runbook.md");
    assert_eq!(pages[0]["basename"], "Runbook");
    assert_eq!(pages[0]["ref"], "main");
    assert_eq!(pages[0]["project_id"], api);
    assert_eq!(pages[0]["startline"], 4);
    assert_eq!(pages[0]["data"], "\n1. Check the queue.\n2. Deploy the service.\n3. Watch.\n");
}

#[tokio::test]
async fn the_index_follows_every_change() {
    let World { app, ada, api, .. } = world().await;
    let titles = |text: &'static str| {
        let path = format!("/api/v4/search?scope=issues&{}", query(text));
        let (app, ada) = (&app, &ada);
        async move { found(app, Some(ada), &path, "title").await }
    };
    let body = json!({"title": "Chore: renew certificates", "description": "Before Friday."});
    call(&app, Some(&ada), Method::PUT, &format!("/api/v4/projects/{api}/issues/3"), Some(body)).await;
    assert_eq!(titles("certificates").await, ["Chore: renew certificates"]);
    assert!(titles("unrelated").await.is_empty(), "the old title is forgotten");
    call(&app, Some(&ada), Method::DELETE, &format!("/api/v4/projects/{api}/issues/3"), None).await;
    assert!(titles("certificates").await.is_empty(), "a deleted issue is forgotten");

    let notes = |text: &'static str| {
        let path = format!("/api/v4/projects/{api}/search?scope=notes&{}", query(text));
        let (app, ada) = (&app, &ada);
        async move { found(app, Some(ada), &path, "body").await }
    };
    let note = call(&app, Some(&ada), Method::GET, &format!("/api/v4/projects/{api}/issues/1/notes"), None).await;
    let note_id = note.as_array().unwrap().iter().find(|n| n["system"] == false).unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v4/projects/{api}/issues/1/notes/{note_id}");
    call(&app, Some(&ada), Method::PUT, &path, Some(json!({"body": "Fixed by pinning the runner image."}))).await;
    assert_eq!(notes("pinning").await, ["Fixed by pinning the runner image."]);
    assert!(notes("restart").await.is_empty());

    let wiki = |text: &'static str| {
        let path = format!("/api/v4/projects/{api}/search?scope=wiki_blobs&{}", query(text));
        let (app, ada) = (&app, &ada);
        async move { found(app, Some(ada), &path, "path").await }
    };
    let page = json!({"content": "Roll back with the previous tag.", "title": "Operations/Runbook"});
    call(&app, Some(&ada), Method::PUT, &format!("/api/v4/projects/{api}/wikis/Runbook"), Some(page)).await;
    assert_eq!(wiki("roll").await, ["Operations/Runbook.md"], "a moved page is found at its new path");
    assert!(wiki("deploy").await.is_empty(), "the old text is forgotten");
    call(&app, Some(&ada), Method::DELETE, &format!("/api/v4/projects/{api}/wikis/Operations%2FRunbook"), None).await;
    assert!(wiki("roll").await.is_empty(), "a deleted page is forgotten");
}

#[tokio::test]
async fn the_search_page_has_plan_tabs_and_marks_the_words() {
    let World { app, rita, outsider, .. } = world().await;
    let answer = app.page(Method::GET, "/search?search=deploy&scope=issues", Some(&rita), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let html = &answer.body;
    for tab in ["issues", "epics", "notes", "wiki_blobs"] {
        assert!(html.contains(&format!("data-scope=\"{tab}\"")), "no {tab} tab");
    }
    assert!(html.contains("href=\"/team/api/-/issues/1\""), "{html}");
    assert!(html.contains("<mark>Deploy</mark> pipeline fails on Tuesday"), "{html}");
    assert!(html.contains("team/api#2 · opened · confidential"));
    assert!(html.contains("while <mark>deploy</mark>ing."), "the description's line is shown with the word marked");

    let answer = app.page(Method::GET, "/search?search=deploy&scope=issues", Some(&outsider), None).await;
    assert!(!answer.body.contains("Rotate the"), "a confidential title leaked");
    assert!(!answer.body.contains("vault"), "a private project's issue leaked");

    let answer = app.page(Method::GET, "/search?search=deploy&scope=notes", Some(&outsider), None).await;
    assert!(answer.body.contains("/team/api/-/issues/1#note_"), "{}", answer.body);
    assert!(!answer.body.contains("new secret"), "a comment on a confidential issue leaked");
    let answer = app.page(Method::GET, "/search?search=deploy&scope=wiki_blobs", None, None).await;
    assert!(answer.body.contains("href=\"/team/api/-/wikis/Runbook\""), "{}", answer.body);
    assert!(answer.body.contains("<mark>Deploy</mark> the service."));
    let answer = app.page(Method::GET, "/search?search=deploy&scope=epics", Some(&outsider), None).await;
    assert!(answer.body.contains("href=\"/team/-/epics/1\""));
    assert!(!answer.body.contains("confidential plan"), "a confidential epic leaked");
}
