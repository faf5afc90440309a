//! Discussions of an issue through GitLab's API: comments stand alone, threads gather replies
//! (a comment replied to becomes one), threads are resolved and reopened by who may edit the
//! issue or started them, a reply reopens a resolved thread, and a thread's notes are edited and
//! deleted by their author only.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let answer = app.api(method, path, Some(&user.token), body).await;
    let json = if answer.body.is_empty() { Value::Null } else { answer.json() };
    (answer.status, json)
}

#[tokio::test]
async fn threads_gather_replies_and_are_resolved() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let body = json!({"name": "Api", "visibility": "private"});
    let (_, created) = call(&app, &owner, Method::POST, "/api/v4/projects", Some(body)).await;
    let project = format!("/api/v4/projects/{}", created["id"]);
    let body = json!({"user_id": guest.user.id.0, "access_level": 10});
    call(&app, &owner, Method::POST, &format!("{project}/members"), Some(body)).await;
    call(&app, &owner, Method::POST, &format!("{project}/issues"), Some(json!({"title": "Slow"}))).await;
    let discussions = format!("{project}/issues/1/discussions");

    let (_, comment) =
        call(&app, &owner, Method::POST, &format!("{project}/issues/1/notes"), Some(json!({"body": "a comment"})))
            .await;
    let (status, thread) =
        call(&app, &guest, Method::POST, &discussions, Some(json!({"body": "Discussion body"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{thread}");
    assert_eq!(thread["individual_note"], false);
    assert_eq!(thread["notes"][0]["type"], "DiscussionNote");
    assert_eq!(thread["notes"][0]["resolvable"], true);
    assert_eq!(thread["notes"][0]["resolved"], false);
    let thread_id = thread["id"].as_str().unwrap().to_owned();

    let (status, reply) = call(
        &app,
        &owner,
        Method::POST,
        &format!("{discussions}/{thread_id}/notes"),
        Some(json!({"body": "first note"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let (_, listed) = call(&app, &owner, Method::GET, &discussions, None).await;
    let shape: Vec<(bool, usize)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["individual_note"].as_bool().unwrap(), d["notes"].as_array().unwrap().len()))
        .collect();
    assert_eq!(shape, vec![(true, 1), (false, 2)], "{listed}");

    // The author edits a reply; another may not.
    let reply_path = format!("{discussions}/{thread_id}/notes/{}", reply["id"]);
    let (status, edited) = call(&app, &owner, Method::PUT, &reply_path, Some(json!({"body": "updated body"}))).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let (status, _) = call(&app, &guest, Method::PUT, &reply_path, Some(json!({"body": "mine now"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, got) = call(&app, &guest, Method::GET, &reply_path, None).await;
    assert_eq!((status, got["body"].as_str()), (StatusCode::OK, Some("updated body")));
    let (_, one) = call(&app, &owner, Method::GET, &format!("{discussions}/{thread_id}"), None).await;
    assert_eq!(one["notes"].as_array().unwrap().last().unwrap()["body"], "updated body");

    // Resolve: the Guest started it, so may; a reply reopens it.
    let (status, resolved) =
        call(&app, &guest, Method::PUT, &format!("{discussions}/{thread_id}"), Some(json!({"resolved": true}))).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert!(resolved["notes"].as_array().unwrap().iter().all(|n| n["resolved"] == true), "{resolved}");
    call(&app, &owner, Method::POST, &format!("{discussions}/{thread_id}/notes"), Some(json!({"body": "not yet"})))
        .await;
    let (_, reopened) = call(&app, &owner, Method::GET, &format!("{discussions}/{thread_id}"), None).await;
    assert!(reopened["notes"].as_array().unwrap().iter().all(|n| n["resolved"] == false), "{reopened}");

    // A comment is not a thread until replied to; then it is.
    let comment_discussion = listed[0]["id"].as_str().unwrap();
    let (status, refused) = call(
        &app,
        &owner,
        Method::PUT,
        &format!("{discussions}/{comment_discussion}"),
        Some(json!({"resolved": true})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    call(
        &app,
        &guest,
        Method::POST,
        &format!("{discussions}/{comment_discussion}/notes"),
        Some(json!({"body": "replying"})),
    )
    .await;
    let (_, now) = call(&app, &owner, Method::GET, &format!("{discussions}/{comment_discussion}"), None).await;
    assert_eq!(now["individual_note"], false);
    assert_eq!(now["notes"][0]["id"], comment["id"]);
    // The Guest did not start it and may not edit the issue: no resolving.
    let (status, _) = call(
        &app,
        &guest,
        Method::PUT,
        &format!("{discussions}/{comment_discussion}"),
        Some(json!({"resolved": true})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Deleting a thread's note; a note of another discussion is not found through this one.
    let (status, _) = call(&app, &owner, Method::DELETE, &reply_path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let wrong = format!("{discussions}/{comment_discussion}/notes/{}", thread["notes"][0]["id"]);
    let (status, _) = call(&app, &guest, Method::DELETE, &wrong, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, &owner, Method::GET, &format!("{discussions}/nosuch"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The page: a thread started from the comment form, replied to and resolved.
    let page = "/owner/api/-/issues/1";
    let fields = [("body", "Shall we cache it?"), ("thread", "yes")];
    let started = app.page(Method::POST, &format!("{page}/notes"), Some(&guest), Some(&fields)).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let (_, listed) = call(&app, &owner, Method::GET, &discussions, None).await;
    let newest = listed.as_array().unwrap().last().unwrap().clone();
    assert_eq!(newest["individual_note"], false);
    let id = newest["id"].as_str().unwrap();
    let replied = app
        .page(Method::POST, &format!("{page}/discussions/{id}/reply"), Some(&owner), Some(&[("body", "Yes.")]))
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);
    let resolved = app
        .page(Method::POST, &format!("{page}/discussions/{id}/resolve"), Some(&owner), Some(&[("resolved", "yes")]))
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.body);
    let shown = app.page(Method::GET, page, Some(&guest), None).await;
    assert!(shown.body.contains("class=\"note reply\""), "{}", shown.body);
    assert!(shown.body.contains("Thread resolved.") && shown.body.contains("Reopen thread"), "{}", shown.body);
    let refused =
        app.page(Method::POST, &format!("{page}/discussions/nosuch/reply"), Some(&owner), Some(&[("body", "x")])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}
