//! Comments and threads on epics, through GitLab's notes and discussions API (the epic named by
//! its id) and on the epic's page: whoever sees the epic comments, authors change theirs,
//! Reporters resolve threads, outsiders see nothing, and an epic's discussions go with it.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::epics::{epic, group};
use crate::support::TestApp;

#[tokio::test]
async fn epics_are_discussed_through_the_api_and_the_page() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let ada = app.user("ada").await;
    let stranger = app.user("stranger").await;
    let oss = group(&app, &owner, "oss", "public", &[(&reporter, 20)]).await;
    let secret = group(&app, &owner, "secret", "private", &[]).await;
    let made = epic(&app, &reporter, oss, json!({"title": "Roadmap"})).await;
    epic(&app, &owner, oss, json!({"title": "Hidden", "confidential": true})).await;
    let hidden_id =
        app.api(Method::GET, &format!("/api/v4/groups/{oss}/epics/2"), Some(&owner.token), None).await.json()["id"]
            .clone();
    let private = epic(&app, &owner, secret, json!({"title": "Private"})).await;
    // GitLab's notes API names the epic by its id.
    let notes = format!("/api/v4/groups/{oss}/epics/{}/notes", made["id"]);

    let listed = app.api(Method::GET, &notes, None, None).await;
    assert_eq!((listed.status, listed.json()), (StatusCode::OK, json!([])));
    let commented = app.api(Method::POST, &notes, Some(&ada.token), Some(json!({"body": "Count me in, see &1"}))).await;
    assert_eq!(
        commented.status,
        StatusCode::CREATED,
        "anyone signed in who sees the epic comments: {}",
        commented.body
    );
    let note = commented.json();
    assert_eq!((note["noteable_type"].clone(), note["noteable_iid"].clone()), (json!("Epic"), made["iid"].clone()));
    let anonymous = app.api(Method::POST, &notes, None, Some(json!({"body": "hi"}))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let blank = app.api(Method::POST, &notes, Some(&ada.token), Some(json!({"body": "  "}))).await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{}", blank.body);
    for path in [
        format!("/api/v4/groups/{oss}/epics/{hidden_id}/notes"),
        format!("/api/v4/groups/{secret}/epics/{}/notes", private["id"]),
        format!("/api/v4/groups/{oss}/epics/{}/notes", private["id"]),
        format!("/api/v4/groups/{oss}/epics/999999/notes"),
    ] {
        let refused = app.api(Method::GET, &path, Some(&stranger.token), None).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{path}: {}", refused.body);
    }

    // Only the author changes a comment; a Reporter resolves a thread someone else started.
    let one = format!("{notes}/{}", note["id"]);
    let changed = app.api(Method::PUT, &one, Some(&reporter.token), Some(json!({"body": "mine now"}))).await;
    assert_eq!(changed.status, StatusCode::FORBIDDEN);
    let changed =
        app.api(Method::PUT, &one, Some(&ada.token), Some(json!({"body": "Count me in twice, see &1"}))).await;
    assert_eq!((changed.status, changed.json()["body"].clone()), (StatusCode::OK, json!("Count me in twice, see &1")));
    let discussions = format!("/api/v4/groups/{oss}/epics/{}/discussions", made["id"]);
    let thread = app.api(Method::POST, &discussions, Some(&ada.token), Some(json!({"body": "Which quarter?"}))).await;
    assert_eq!(thread.status, StatusCode::CREATED, "{}", thread.body);
    let thread_id = thread.json()["id"].as_str().unwrap().to_owned();
    let reply = app
        .api(
            Method::POST,
            &format!("{discussions}/{thread_id}/notes"),
            Some(&reporter.token),
            Some(json!({"body": "Q3"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let resolved = app
        .api(Method::PUT, &format!("{discussions}/{thread_id}"), Some(&reporter.token), Some(json!({"resolved": true})))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.json()["notes"][1]["resolved"], true);
    let all = app.api(Method::GET, &discussions, Some(&stranger.token), None).await.json();
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    assert_eq!(all[1]["notes"].as_array().unwrap().len(), 2);

    // The page shows them, with the reference as a link, and takes comments and replies.
    let page = app.page(Method::GET, "/oss/-/epics/1", Some(&stranger), None).await;
    assert!(page.body.contains("Count me in twice") && page.body.contains("Thread resolved."), "{}", page.body);
    assert!(page.body.contains("href=\"/oss/-/epics/1\""), "the reference is a link: {}", page.body);
    let posted = app.page(Method::POST, "/oss/-/epics/1/notes", Some(&stranger), Some(&[("body", "Me **too**")])).await;
    let page = app.follow(posted, &stranger).await;
    assert!(
        page.body.contains("Your comment was added.") && page.body.contains("Me <strong>too</strong>"),
        "{}",
        page.body
    );
    let blank = app.page(Method::POST, "/oss/-/epics/1/notes", Some(&stranger), Some(&[("body", "")])).await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    let reopened = app
        .page(
            Method::POST,
            &format!("/oss/-/epics/1/discussions/{thread_id}/resolve"),
            Some(&reporter),
            Some(&[("resolved", "no")]),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    let mine = app.api(Method::GET, &notes, Some(&ada.token), None).await.json();
    let ada_note =
        mine.as_array().unwrap().iter().find(|n| n["body"] == "Count me in twice, see &1").unwrap()["id"].clone();
    let deleted =
        app.page(Method::POST, &format!("/oss/-/epics/1/notes/{ada_note}/delete"), Some(&ada), Some(&[])).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let left = app.api(Method::GET, &notes, Some(&ada.token), None).await.json();
    assert!(!left.to_string().contains("Count me in twice"), "{left}");

    // Deleting the epic deletes its discussions.
    let gone = app.api(Method::DELETE, &format!("/api/v4/groups/{oss}/epics/1"), Some(&owner.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    let listed = app.api(Method::GET, &notes, Some(&owner.token), None).await;
    assert_eq!(listed.status, StatusCode::NOT_FOUND);
}
