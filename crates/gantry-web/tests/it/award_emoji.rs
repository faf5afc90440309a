//! Emoji reactions on issues and comments: through GitLab's API (award, list, get, remove one's
//! own; unknown names and the same reaction twice refused) and the issue page's buttons, which
//! give a reaction or take it back; hidden with the issue from those who may not see it.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let answer = app.api(method, path, Some(&user.token), body).await;
    let json = if answer.body.is_empty() { Value::Null } else { answer.json() };
    (answer.status, json)
}

#[tokio::test]
async fn reactions_are_given_listed_and_taken_back() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let ada = app.user("ada").await;
    let stranger = app.user("stranger").await;
    let (_, created) =
        call(&app, &owner, Method::POST, "/api/v4/projects", Some(json!({"name": "Api", "visibility": "private"})))
            .await;
    let project = format!("/api/v4/projects/{}", created["id"]);
    let body = json!({"user_id": ada.user.id.0, "access_level": 10});
    call(&app, &owner, Method::POST, &format!("{project}/members"), Some(body)).await;
    call(&app, &owner, Method::POST, &format!("{project}/issues"), Some(json!({"title": "Slow"}))).await;
    let (_, note) =
        call(&app, &owner, Method::POST, &format!("{project}/issues/1/notes"), Some(json!({"body": "agreed"}))).await;
    let issue_awards = format!("{project}/issues/1/award_emoji");
    let note_awards = format!("{project}/issues/1/notes/{}/award_emoji", note["id"]);

    let (status, award) = call(&app, &ada, Method::POST, &issue_awards, Some(json!({"name": "+1"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{award}");
    assert_eq!(award["name"], "thumbsup");
    assert_eq!(award["user"]["username"], "ada");
    assert_eq!(award["awardable_type"], "Issue");
    let (status, again) = call(&app, &ada, Method::POST, &issue_awards, Some(json!({"name": "thumbsup"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    let (status, unknown) = call(&app, &ada, Method::POST, &issue_awards, Some(json!({"name": "<b>"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown}");
    assert!(unknown.to_string().contains("not an emoji"), "{unknown}");
    let (status, on_note) = call(&app, &owner, Method::POST, &note_awards, Some(json!({"name": "tractor"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{on_note}");
    assert_eq!(on_note["awardable_type"], "Note");

    let (_, listed) = call(&app, &owner, Method::GET, &issue_awards, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (status, hidden) = call(&app, &stranger, Method::GET, &issue_awards, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{hidden}");
    let one = format!("{issue_awards}/{}", award["id"]);
    let (status, _) = call(&app, &owner, Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::OK);
    // Only who gave it removes it.
    let (status, _) = call(&app, &owner, Method::DELETE, &format!("{note_awards}/{}", on_note["id"]), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = call(&app, &stranger, Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    let (status, _) = call(&app, &ada, Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The page's buttons: give, show with the count, take back.
    let page = "/owner/api/-/issues/1";
    let given = app.page(Method::POST, &format!("{page}/award"), Some(&ada), Some(&[("name", "tada")])).await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    let note_id = note["id"].to_string();
    let fields = [("name", "tada"), ("note_id", note_id.as_str())];
    app.page(Method::POST, &format!("{page}/award"), Some(&owner), Some(&fields)).await;
    let shown = app.page(Method::GET, page, Some(&ada), None).await;
    assert!(
        shown.body.contains("class=\"reaction mine\" title=\":tada: @ada\" aria-pressed=\"true\">🎉 1</button>"),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("class=\"reaction\" title=\":tada: @owner\" aria-pressed=\"false\">🎉 1</button>"),
        "{}",
        shown.body
    );
    app.page(Method::POST, &format!("{page}/award"), Some(&ada), Some(&[("name", "tada")])).await;
    let shown = app.page(Method::GET, page, Some(&ada), None).await;
    assert!(!shown.body.contains(":tada: @ada"), "taken back: {}", shown.body);
    let wrong = app.page(Method::POST, &format!("{page}/award"), Some(&ada), Some(&[("name", "nope")])).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("not an emoji"), "{}", wrong.body);
}
