//! The issue list's bulk edit: Reporters tick issues and close them, label them, put them in a
//! milestone and assign them at once, each change with its system notes; Guests get no boxes
//! and are refused; a form that asks nothing, or names nobody real, changes nothing and says so.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn reporters_change_the_ticked_issues_at_once() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let rita = app.user("rita").await;
    let gus = app.user("gus").await;
    let made = app
        .api(
            Method::POST,
            "/api/v4/projects",
            Some(&owner.token),
            Some(json!({"name": "Bulk", "visibility": "private"})),
        )
        .await;
    let id = made.json()["id"].as_i64().unwrap();
    for (user, level) in [(&rita, 20), (&gus, 10)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        let added =
            app.api(Method::POST, &format!("/api/v4/projects/{id}/members"), Some(&owner.token), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED);
    }
    let api = |path: &str| format!("/api/v4/projects/{id}{path}");
    for name in ["bug", "docs"] {
        app.api(Method::POST, &api("/labels"), Some(&owner.token), Some(json!({"name": name}))).await;
    }
    let milestone = app.api(Method::POST, &api("/milestones"), Some(&owner.token), Some(json!({"title": "v1"}))).await;
    let milestone = milestone.json()["id"].as_i64().unwrap();
    for (title, labels) in [("One", "docs"), ("Two", ""), ("Three", "docs")] {
        let body = json!({"title": title, "labels": labels});
        assert_eq!(
            app.api(Method::POST, &api("/issues"), Some(&owner.token), Some(body)).await.status,
            StatusCode::CREATED
        );
    }

    let list = app.page(Method::GET, "/owner/bulk/-/issues", Some(&rita), None).await;
    assert!(
        list.body.contains("form=\"bulk-edit\"") && list.body.contains("Update the ticked issues"),
        "{}",
        list.body
    );
    let guest_list = app.page(Method::GET, "/owner/bulk/-/issues", Some(&gus), None).await;
    assert!(!guest_list.body.contains("bulk-edit"), "a Guest gets no bulk edit");

    let milestone = milestone.to_string();
    let fields = [
        ("iids", "1"),
        ("iids", "2"),
        ("state_event", "close"),
        ("add_label", "bug"),
        ("remove_label", "docs"),
        ("milestone_id", milestone.as_str()),
        ("assignee", "@rita"),
        ("return_to", "/owner/bulk/-/issues?state=opened&sort=title_asc"),
    ];
    let done = app.page(Method::POST, "/owner/bulk/-/issues/bulk_update", Some(&rita), Some(&fields)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), "/owner/bulk/-/issues?state=opened&sort=title_asc");
    let page = app.follow(done, &rita).await;
    assert!(page.body.contains("2 issues were updated."), "{}", page.body);
    for iid in [1, 2] {
        let issue: Value = app.api(Method::GET, &api(&format!("/issues/{iid}")), Some(&rita.token), None).await.json();
        assert_eq!(issue["state"], "closed");
        assert_eq!(issue["labels"], json!(["bug"]));
        assert_eq!(issue["milestone"]["title"], "v1");
        assert_eq!(issue["assignees"][0]["username"], "rita");
    }
    let three: Value = app.api(Method::GET, &api("/issues/3"), Some(&rita.token), None).await.json();
    assert_eq!((three["state"].clone(), three["labels"].clone()), (json!("opened"), json!(["docs"])), "untouched");
    let notes: Value = app.api(Method::GET, &api("/issues/1/notes"), Some(&rita.token), None).await.json();
    assert!(notes.to_string().contains("closed") && notes.to_string().contains("added ~"), "system notes: {notes}");

    // Refusals: a Guest; nothing ticked; nothing asked; nobody by that name; elsewhere to go.
    let refused = app
        .page(
            Method::POST,
            "/owner/bulk/-/issues/bulk_update",
            Some(&gus),
            Some(&[("iids", "3"), ("state_event", "close")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for (fields, says) in [
        (vec![("state_event", "close")], "Nothing was changed: Issues none chosen"),
        (vec![("iids", "3")], "Nothing was changed: Change is missing"),
        (vec![("iids", "3"), ("assignee", "nobody-here")], "Nothing was changed:"),
        (vec![("iids", "3"), ("state_event", "close"), ("return_to", "https://evil.example/")], "1 issue was updated."),
    ] {
        let done = app.page(Method::POST, "/owner/bulk/-/issues/bulk_update", Some(&rita), Some(&fields)).await;
        assert_eq!(done.header("location"), "/owner/bulk/-/issues", "back to the list only");
        let page = app.follow(done, &rita).await;
        assert!(page.body.contains(says), "{says}: {}", page.body);
    }
    let three: Value = app.api(Method::GET, &api("/issues/3"), Some(&rita.token), None).await.json();
    assert_eq!((three["state"].clone(), three["assignees"].clone()), (json!("closed"), json!([])));
}
