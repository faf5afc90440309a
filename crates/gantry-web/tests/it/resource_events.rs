//! An issue's resource events through GitLab's API: labels added and removed, the milestone set
//! and removed, the weight and the state, each a record with who did it; read by those who see
//! the issue, hidden from others; `closed_by` answers a list.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> Value {
    let answer = app.api(method, path, Some(&user.token), body).await;
    assert!(answer.status.is_success(), "{path}: {} {}", answer.status, answer.body);
    answer.json()
}

#[tokio::test]
async fn changes_leave_events_of_each_kind() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let body = json!({"name": "Api", "visibility": "private"});
    let id = call(&app, &owner, Method::POST, "/api/v4/projects", Some(body)).await["id"].as_i64().unwrap();
    let project = format!("/api/v4/projects/{id}");
    for name in ["bug", "ux"] {
        call(&app, &owner, Method::POST, &format!("{project}/labels"), Some(json!({"name": name, "color": "#336699"})))
            .await;
    }
    let milestone =
        call(&app, &owner, Method::POST, &format!("{project}/milestones"), Some(json!({"title": "v1"}))).await;
    let issue = json!({"title": "Slow", "labels": "bug", "milestone_id": milestone["id"], "weight": 2});
    call(&app, &owner, Method::POST, &format!("{project}/issues"), Some(issue)).await;
    let changes = json!({"add_labels": "ux", "remove_labels": "bug", "milestone_id": null, "weight": 5,
                         "state_event": "close"});
    call(&app, &owner, Method::PUT, &format!("{project}/issues/1"), Some(changes)).await;

    let events = |kind: &'static str| {
        let app = &app;
        let owner = &owner;
        let path = format!("{project}/issues/1/resource_{kind}_events");
        async move { call(app, owner, Method::GET, &path, None).await.as_array().unwrap().clone() }
    };
    let labels = events("label").await;
    let seen: Vec<(&str, &str)> =
        labels.iter().map(|e| (e["action"].as_str().unwrap(), e["label"]["name"].as_str().unwrap())).collect();
    assert_eq!(seen, vec![("add", "bug"), ("add", "ux"), ("remove", "bug")]);
    assert_eq!(labels[0]["user"]["username"], "owner");
    assert_eq!(labels[0]["resource_type"], "Issue");
    let milestones = events("milestone").await;
    let seen: Vec<(&str, &str)> =
        milestones.iter().map(|e| (e["action"].as_str().unwrap(), e["milestone"]["title"].as_str().unwrap())).collect();
    assert_eq!(seen, vec![("add", "v1"), ("remove", "v1")]);
    let weights: Vec<i64> = events("weight").await.iter().map(|e| e["weight"].as_i64().unwrap()).collect();
    assert_eq!(weights, vec![2, 5]);
    let states = events("state").await;
    assert_eq!(states.len(), 1);
    assert_eq!(states[0]["state"], "closed");

    // One by id; another kind's id or a stranger finds nothing.
    let first = labels[0]["id"].as_i64().unwrap();
    let one = call(&app, &owner, Method::GET, &format!("{project}/issues/1/resource_label_events/{first}"), None).await;
    assert_eq!(one["label"]["name"], "bug");
    let wrong = app
        .api(Method::GET, &format!("{project}/issues/1/resource_weight_events/{first}"), Some(&owner.token), None)
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND, "{}", wrong.body);
    let hidden =
        app.api(Method::GET, &format!("{project}/issues/1/resource_label_events"), Some(&stranger.token), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);

    // A deleted label leaves its events without it.
    let ux = labels[1]["label"]["id"].as_i64().unwrap();
    let deleted = app.api(Method::DELETE, &format!("{project}/labels/{ux}"), Some(&owner.token), None).await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    assert!(events("label").await[1]["label"].is_null());

    let closed_by = call(&app, &owner, Method::GET, &format!("{project}/issues/1/closed_by"), None).await;
    assert_eq!(closed_by, json!([]));
}
