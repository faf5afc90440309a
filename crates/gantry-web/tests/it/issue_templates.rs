//! Issue templates from the repository, as GitLab reads them: `.gitlab/issue_templates/*.md`
//! (and `.gantry/issue_templates/`, which wins on a shared name) on the default branch, listed
//! and read through the project templates API, offered by the new issue form, `Default` filling
//! the description unasked; a Guest who may not read the code still gets them.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn issue_templates_come_from_the_default_branch_and_fill_the_new_issue_form() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let (project, _) = app.project_with_file(&owner, "Tracker", "README.md", b"hello\n").await;
    let id = project.id.0;
    let private = app
        .api(Method::PUT, &format!("/api/v4/projects/{id}"), Some(&owner.token), Some(json!({"visibility": "private"})))
        .await;
    assert_eq!(private.status, StatusCode::OK, "{}", private.body);
    let member = json!({"user_id": guest.user.id.0, "access_level": 10});
    let added =
        app.api(Method::POST, &format!("/api/v4/projects/{id}/members"), Some(&owner.token), Some(member)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);

    let templates = format!("/api/v4/projects/{id}/templates/issues");
    let none = app.api(Method::GET, &templates, Some(&guest.token), None).await;
    assert_eq!((none.status, none.json()), (StatusCode::OK, json!([])));

    let actions = json!([
        {"action": "create", "file_path": ".gitlab/issue_templates/Bug.md", "content": "## Steps\n\n1. "},
        {"action": "create", "file_path": ".gitlab/issue_templates/Default.md", "content": "Describe the **goal**."},
        {"action": "create", "file_path": ".gitlab/issue_templates/notes.txt", "content": "not a template"},
        {"action": "create", "file_path": ".gantry/issue_templates/Feature request.md", "content": "As a user"},
        {"action": "create", "file_path": ".gantry/issue_templates/Bug.md", "content": "## What broke\n"},
    ]);
    let body = json!({"branch": "main", "commit_message": "Issue templates", "actions": actions});
    let committed = app
        .api(Method::POST, &format!("/api/v4/projects/{id}/repository/commits"), Some(&owner.token), Some(body))
        .await;
    assert_eq!(committed.status, StatusCode::CREATED, "{}", committed.body);

    let listed = app.api(Method::GET, &templates, Some(&guest.token), None).await;
    assert_eq!(
        listed.json(),
        json!([
            {"key": "Bug", "name": "Bug"},
            {"key": "Default", "name": "Default"},
            {"key": "Feature request", "name": "Feature request"}
        ])
    );
    let bug = app.api(Method::GET, &format!("{templates}/Bug"), Some(&guest.token), None).await;
    assert_eq!(bug.json(), json!({"name": "Bug", "content": "## What broke\n"}), "Gantry's folder wins");
    let spaced = app.api(Method::GET, &format!("{templates}/Feature%20request"), Some(&guest.token), None).await;
    assert_eq!(spaced.json()["content"], "As a user");
    let missing = app.api(Method::GET, &format!("{templates}/Nope"), Some(&guest.token), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let stranger = app.user("stranger").await;
    let hidden = app.api(Method::GET, &templates, Some(&stranger.token), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "a private project's templates are its members'");

    // The form: Default unasked, another by choice, none when asked, a clear error for a typo.
    let form = app.page(Method::GET, "/owner/tracker/-/issues/new", Some(&guest), None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(">Describe the **goal**.</textarea>"), "{}", form.body);
    assert!(form.body.contains("<option value=\"Feature request\">Feature request</option>"), "{}", form.body);
    let chosen = app.page(Method::GET, "/owner/tracker/-/issues/new?issuable_template=Bug", Some(&guest), None).await;
    assert!(chosen.body.contains(">## What broke\n</textarea>"), "{}", chosen.body);
    assert!(chosen.body.contains("<option value=\"Bug\" selected>Bug</option>"), "{}", chosen.body);
    let blank = app.page(Method::GET, "/owner/tracker/-/issues/new?issuable_template=", Some(&guest), None).await;
    assert!(blank.body.contains("rows=\"10\"></textarea>"), "no template: {}", blank.body);
    let typo = app.page(Method::GET, "/owner/tracker/-/issues/new?issuable_template=Bgu", Some(&guest), None).await;
    assert_eq!(typo.status, StatusCode::NOT_FOUND);
    assert!(typo.body.contains("There is no issue template called Bgu."), "{}", typo.body);
}
