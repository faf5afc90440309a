//! Quick actions, time tracking and task lists: commands in a comment or a new issue's
//! description change the issue and leave the rest as text, commands the commenter may not use
//! are left undone, an unreadable one refuses the whole comment with nothing stored, the time
//! tracking routes keep GitLab's shape, and a description's task boxes are ticked from its
//! page unless the description changed since it was shown.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn setup(app: &TestApp) -> (TestUser, TestUser, TestUser, String) {
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let guest = app.user("guest").await;
    let made = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(json!({"name": "Quick"}))).await;
    let id = made.json()["id"].as_i64().unwrap();
    for (user, level) in [(&ada, 30), (&guest, 10)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        app.api(Method::POST, &format!("/api/v4/projects/{id}/members"), Some(&owner.token), Some(body)).await;
    }
    let issues = format!("/api/v4/projects/{id}/issues");
    let opened = app.api(Method::POST, &issues, Some(&owner.token), Some(json!({"title": "Tune it"}))).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    (owner, ada, guest, format!("{issues}/1"))
}

async fn note_bodies(app: &TestApp, user: &TestUser, issue: &str) -> Vec<String> {
    let notes = app.api(Method::GET, &format!("{issue}/notes?sort=asc"), Some(&user.token), None).await;
    notes.json().as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_owned()).collect()
}

async fn comment(app: &TestApp, user: &TestUser, issue: &str, body: &str) -> (StatusCode, Value) {
    let made = app.api(Method::POST, &format!("{issue}/notes"), Some(&user.token), Some(json!({"body": body}))).await;
    let json = serde_json::from_str(&made.body).unwrap_or(Value::Null);
    (made.status, json)
}

#[tokio::test]
async fn a_comments_commands_change_the_issue_and_its_words_stay() {
    let app = TestApp::new().await;
    let (owner, ada, guest, issue) = setup(&app).await;

    let text = "/label ~bug ~\"needs review\"\n/assign @ada me\n/estimate 1d 2h\n/spend 30m\n/due 2026-12-31\n/weight 5\nLooks good.";
    let (status, note) = comment(&app, &owner, &issue, text).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["body"], "Looks good.");
    let now = app.api(Method::GET, &issue, Some(&owner.token), None).await.json();
    let mut labels: Vec<&str> = now["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    labels.sort();
    assert_eq!(labels, vec!["bug", "needs review"]);
    let mut assignees: Vec<&str> =
        now["assignees"].as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assignees.sort();
    assert_eq!(assignees, vec!["ada", "owner"]);
    assert_eq!((now["due_date"].as_str(), now["weight"].as_i64()), (Some("2026-12-31"), Some(5)));
    assert_eq!(
        now["time_stats"],
        json!({"time_estimate": 36000, "total_time_spent": 1800, "human_time_estimate": "1d 2h", "human_total_time_spent": "30m"})
    );
    let notes = note_bodies(&app, &owner, &issue).await;
    for expected in ["changed time estimate to 1d 2h", "added 30m of time spent", "Looks good."] {
        assert!(notes.iter().any(|n| n == expected), "{expected} in {notes:?}");
    }

    // Commands alone leave no comment: 202 with what they did.
    let before = note_bodies(&app, &owner, &issue).await.len();
    let (status, done) = comment(&app, &owner, &issue, "/close").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{done}");
    assert_eq!(done["summary"], json!(["Closed this issue."]));
    assert_eq!(app.api(Method::GET, &issue, Some(&owner.token), None).await.json()["state"], "closed");
    assert_eq!(note_bodies(&app, &owner, &issue).await.len(), before + 1, "only the system note 'closed'");

    // A Guest's commands they may not use are left undone; the comment stays.
    let (status, note) = comment(&app, &guest, &issue, "/reopen\n/label ~wontfix\nMe too.").await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(note["body"], "Me too.");
    let now = app.api(Method::GET, &issue, Some(&owner.token), None).await.json();
    assert_eq!(now["state"], "closed");
    assert!(!now["labels"].as_array().unwrap().iter().any(|l| l == "wontfix"));

    // An unreadable command or an unknown user refuses the whole comment, storing nothing.
    let before = note_bodies(&app, &owner, &issue).await;
    for (text, words) in
        [("/weight heavy\nkept?", "/weight needs a whole number"), ("/assign @nobody\nkept?", "nobody")]
    {
        let (status, error) = comment(&app, &ada, &issue, text).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert!(error.to_string().contains(words), "{error}");
    }
    assert_eq!(note_bodies(&app, &owner, &issue).await, before);

    // A milestone by its title, and out of it again.
    let project = issue.trim_end_matches("/issues/1");
    let v1 =
        app.api(Method::POST, &format!("{project}/milestones"), Some(&owner.token), Some(json!({"title": "v1"}))).await;
    assert_eq!(v1.status, StatusCode::CREATED, "{}", v1.body);
    let (status, done) = comment(&app, &owner, &issue, "/milestone %v1").await;
    assert_eq!((status, done["summary"].clone()), (StatusCode::ACCEPTED, json!(["Set the milestone to %v1."])));
    assert_eq!(app.api(Method::GET, &issue, Some(&owner.token), None).await.json()["milestone"]["title"], "v1");
    let (status, error) = comment(&app, &owner, &issue, "/milestone %v9").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error.to_string().contains("there is no milestone %v9 here"), "{error}");
    comment(&app, &owner, &issue, "/remove_milestone").await;
    assert_eq!(app.api(Method::GET, &issue, Some(&owner.token), None).await.json()["milestone"], Value::Null);

    // Quick actions in a new issue's description.
    let issues = issue.trim_end_matches("/1");
    let body = json!({"title": "Mine", "description": "/assign me\n/label ~bug\nThe details."});
    let opened = app.api(Method::POST, issues, Some(&ada.token), Some(body)).await.json();
    assert_eq!(opened["description"], "The details.");
    assert_eq!(opened["assignees"][0]["username"], "ada");
    assert_eq!(opened["labels"], json!(["bug"]));
}

#[tokio::test]
async fn time_is_estimated_and_logged_through_gitlabs_routes() {
    let app = TestApp::new().await;
    let (owner, _ada, guest, issue) = setup(&app).await;
    let post = |path: &'static str, body: Option<Value>| {
        let (app, owner, issue) = (&app, &owner, &issue);
        async move { app.api(Method::POST, &format!("{issue}/{path}"), Some(&owner.token), body).await }
    };
    let set = post("time_estimate", Some(json!({"duration": "3h30m"}))).await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    assert_eq!(set.json()["human_time_estimate"], "3h 30m");
    let spent = post("add_spent_time", Some(json!({"duration": "1h", "summary": "first look"}))).await;
    assert_eq!(spent.json()["total_time_spent"], 3600);
    let too_much = post("add_spent_time", Some(json!({"duration": "-2h"}))).await;
    assert_eq!(too_much.status, StatusCode::BAD_REQUEST);
    assert!(too_much.body.contains("more time than was spent"), "{}", too_much.body);
    let garbage = post("time_estimate", Some(json!({"duration": "soon"}))).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(garbage.body.contains("is not a time"), "{}", garbage.body);
    let stats = app.api(Method::GET, &format!("{issue}/time_stats"), Some(&guest.token), None).await;
    assert_eq!(stats.json()["total_time_spent"], 3600);
    let refused = app
        .api(Method::POST, &format!("{issue}/add_spent_time"), Some(&guest.token), Some(json!({"duration": "1h"})))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(post("reset_spent_time", None).await.json()["total_time_spent"], 0);
    assert_eq!(post("reset_time_estimate", None).await.json()["time_estimate"], 0);
    let notes = note_bodies(&app, &owner, &issue).await;
    assert!(notes.ends_with(&["removed time spent".to_owned(), "removed time estimate".to_owned()]), "{notes:?}");

    // The page's comment form takes them too, and the sidebar shows the time.
    let page = "/owner/quick/-/issues/1";
    let sent = app
        .page(Method::POST, &format!("{page}/notes"), Some(&owner), Some(&[("body", "/spend 1h\n/estimate 2d")]))
        .await;
    let shown = app.follow(sent, &owner).await;
    assert!(shown.body.contains("Added 1h of time spent."), "{}", shown.body);
    assert!(shown.body.contains("Spent: 1h · Estimate: 2d"), "{}", shown.body);
}

#[tokio::test]
async fn task_boxes_are_ticked_from_the_page_in_the_description_it_showed() {
    let app = TestApp::new().await;
    let (owner, _ada, guest, issue) = setup(&app).await;
    let description = "Steps:\n- [ ] write\n```\n- [ ] code, not a task\n```\n- [x] review\n";
    app.api(Method::PUT, &issue, Some(&owner.token), Some(json!({"description": description}))).await;
    let page = "/owner/quick/-/issues/1";
    let shown = app.page(Method::GET, page, Some(&owner), None).await;
    let digest = shown.body.split("data-digest=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(shown.body.contains(&format!("data-tasks=\"{page}/tasks\"")), "{}", shown.body);
    assert!(
        !app.page(Method::GET, page, Some(&guest), None).await.body.contains("data-tasks"),
        "a Guest ticks nothing"
    );

    let tick = [("index", "0"), ("checked", "yes"), ("digest", digest.as_str())];
    let ticked = app.page(Method::POST, &format!("{page}/tasks"), Some(&owner), Some(&tick)).await;
    assert_eq!(ticked.status, StatusCode::SEE_OTHER, "{}", ticked.body);
    let now = app.api(Method::GET, &issue, Some(&owner.token), None).await.json();
    assert_eq!(now["description"], "Steps:\n- [x] write\n```\n- [ ] code, not a task\n```\n- [x] review\n");
    assert_eq!(now["task_completion_status"], json!({"count": 2, "completed_count": 2}));

    // The page's digest is now stale: refused, nothing changed.
    let untick = [("index", "1"), ("checked", "no"), ("digest", digest.as_str())];
    let stale = app.page(Method::POST, &format!("{page}/tasks"), Some(&owner), Some(&untick)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.body.contains("changed since the page was opened"), "{}", stale.body);
    let refused = app.page(Method::POST, &format!("{page}/tasks"), Some(&guest), Some(&untick)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let fresh = gantry_core::plan::tasks::description_digest(now["description"].as_str().unwrap());
    let missing = [("index", "7"), ("checked", "yes"), ("digest", fresh.as_str())];
    let none = app.page(Method::POST, &format!("{page}/tasks"), Some(&owner), Some(&missing)).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(none.body.contains("no task number 8"), "{}", none.body);
}
