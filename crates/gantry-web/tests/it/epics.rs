//! Plan's epics through the API and the pages: made, listed with GitLab's filters, changed,
//! closed, reopened and deleted by the roles GitLab names; issues of the group's projects put in
//! them (one epic at most) and listed only as the viewer may see them; child epics without
//! cycles and at most 7 levels; dates fixed or from the issues' milestones; confidential epics
//! only for Reporters; `&3` references; the pages and the roadmap without JavaScript; bad input
//! refused with a sentence.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// A group made through the API by `owner`, with these members; its id.
pub(super) async fn group(
    app: &TestApp,
    owner: &TestUser,
    path: &str,
    visibility: &str,
    members: &[(&TestUser, i64)],
) -> i64 {
    let body = json!({"name": path, "path": path, "visibility": visibility});
    let made = app.api(Method::POST, "/api/v4/groups", Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_i64().unwrap();
    for (user, level) in members {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        let added =
            app.api(Method::POST, &format!("/api/v4/groups/{id}/members"), Some(&owner.token), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    id
}

/// A project made through the API by `owner` in `group`; its id.
async fn project(app: &TestApp, owner: &TestUser, name: &str, visibility: &str, group: i64) -> i64 {
    let body = json!({"name": name, "visibility": visibility, "namespace_id": group});
    let made = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()["id"].as_i64().unwrap()
}

/// Opens an issue through the API; its JSON.
async fn issue(app: &TestApp, user: &TestUser, project: i64, body: Value) -> Value {
    let path = format!("/api/v4/projects/{project}/issues");
    let created = app.api(Method::POST, &path, Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

/// Makes an epic through the API; its JSON.
pub(super) async fn epic(app: &TestApp, user: &TestUser, group: i64, body: Value) -> Value {
    let made = app.api(Method::POST, &format!("/api/v4/groups/{group}/epics"), Some(&user.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()
}

/// The numbers a list of epics or issues gives.
async fn iids(app: &TestApp, user: Option<&TestUser>, path: &str) -> Vec<i64> {
    let listed = app.api(Method::GET, path, user.map(|u| u.token.as_str()), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{path}: {}", listed.body);
    listed.json().as_array().unwrap().iter().map(|item| item["iid"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn epics_are_made_listed_changed_and_deleted_by_the_right_roles() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let stranger = app.user("stranger").await;
    let acme = group(&app, &owner, "acme", "private", &[(&reporter, 20), (&guest, 10)]).await;
    let label = json!({"name": "feature", "color": "#428bca"});
    let made = app.api(Method::POST, &format!("/api/v4/groups/{acme}/labels"), Some(&owner.token), Some(label)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let list = format!("/api/v4/groups/{acme}/epics");

    let first = epic(
        &app,
        &reporter,
        acme,
        json!({"title": "Checkout", "description": "All of &2", "labels": "feature", "start_date_is_fixed": true,
               "start_date_fixed": "2026-01-01", "due_date_fixed": "2026-03-31"}),
    )
    .await;
    assert_eq!((first["iid"].as_i64(), first["group_id"].as_i64()), (Some(1), Some(acme)));
    assert_eq!((first["state"].as_str(), first["labels"].clone()), (Some("opened"), json!(["feature"])));
    assert_eq!((first["start_date"].as_str(), first["due_date"].as_str()), (Some("2026-01-01"), Some("2026-03-31")));
    assert_eq!(first["due_date_is_fixed"], true, "a fixed date given is fixed");
    assert_eq!((first["reference"].as_str(), first["references"]["full"].as_str()), (Some("&1"), Some("acme&1")));
    assert!(first["web_url"].as_str().unwrap().ends_with("/acme/-/epics/1"), "{first}");
    assert_eq!(first["author"]["username"], "reporter");
    let secret = epic(&app, &reporter, acme, json!({"title": "Acquisition", "confidential": true})).await;
    assert_eq!(secret["iid"].as_i64(), Some(2));

    assert_eq!(iids(&app, Some(&reporter), &list).await, [2, 1], "newest first");
    assert_eq!(iids(&app, Some(&guest), &list).await, [1], "confidential epics are for Reporters");
    assert_eq!(app.api(Method::GET, &format!("{list}/2"), Some(&guest.token), None).await.status, 404);
    assert_eq!(app.api(Method::GET, &format!("{list}/1"), Some(&stranger.token), None).await.status, 404);
    assert_eq!(app.api(Method::GET, &list, None, None).await.status, 404);
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?search=CHECK")).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?labels=feature")).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?author_username=owner")).await, Vec::<i64>::new());
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?order_by=title&sort=asc")).await, [2, 1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?confidential=false")).await, [1]);

    // Guests may not write, and are told so before their input is read.
    for (method, path, body) in [
        (Method::POST, list.clone(), json!({})),
        (Method::PUT, format!("{list}/1"), json!({"state_event": "nonsense"})),
        (Method::DELETE, format!("{list}/1"), json!({})),
    ] {
        let refused = app.api(method, &path, Some(&guest.token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.body);
    }
    for (body, words) in [
        (json!({}), "title is missing"),
        (json!({"title": " "}), "title can't be blank"),
        (json!({"title": "x", "labels": "x".repeat(300)}), "too long"),
        (json!({"title": "x", "start_date_fixed": "2026-02-30"}), "start_date_fixed must be a date"),
        (json!({"title": "x", "start_date_fixed": "2026-05-01", "due_date_fixed": "2026-04-01"}), "on or after"),
        (json!({"title": "x", "parent_id": "abc"}), "parent_id is invalid"),
        (json!({"title": "x", "state_event": "explode"}), "state_event does not have a valid value"),
    ] {
        let refused = app.api(Method::POST, &list, Some(&reporter.token), Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert!(refused.body.contains(words), "{body}: {}", refused.body);
    }
    assert_eq!(app.api(Method::GET, &format!("{list}?state=maybe"), Some(&guest.token), None).await.status, 400);
    assert_eq!(app.api(Method::GET, &format!("{list}/x"), Some(&guest.token), None).await.status, 404);

    let one = format!("{list}/1");
    let changed = app
        .api(
            Method::PUT,
            &one,
            Some(&reporter.token),
            Some(json!({"title": "Checkout v2", "remove_labels": "feature"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!((changed.json()["title"].as_str(), changed.json()["labels"].clone()), (Some("Checkout v2"), json!([])));
    assert_eq!(changed.json()["start_date"], "2026-01-01", "what is not sent stays");
    let closed = app.api(Method::PUT, &one, Some(&reporter.token), Some(json!({"state_event": "close"}))).await;
    assert_eq!(closed.json()["state"], "closed", "{}", closed.body);
    assert!(closed.json()["closed_at"].is_string());
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?state=closed")).await, [1]);
    assert_eq!(iids(&app, Some(&owner), &format!("{list}?state=opened")).await, [2]);
    let reopened = app.api(Method::PUT, &one, Some(&reporter.token), Some(json!({"state_event": "reopen"}))).await;
    assert_eq!(reopened.json()["state"], "opened");

    assert_eq!(app.api(Method::DELETE, &one, Some(&reporter.token), None).await.status, 403, "Owners delete");
    assert_eq!(app.api(Method::DELETE, &one, Some(&owner.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, &one, Some(&owner.token), None).await.status, 404);
    let next = epic(&app, &owner, acme, json!({"title": "Next"})).await;
    assert_eq!(next["iid"].as_i64(), Some(3), "numbers are not given twice");
}

#[tokio::test]
async fn an_epic_holds_issues_of_its_group_and_shows_only_those_the_viewer_may_see() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let stranger = app.user("stranger").await;
    let oss = group(&app, &owner, "oss", "public", &[(&reporter, 20)]).await;
    let open_project = project(&app, &owner, "Site", "public", oss).await;
    let hidden_project = project(&app, &owner, "Vault", "private", oss).await;
    let other = group(&app, &owner, "other", "public", &[]).await;
    let elsewhere = project(&app, &owner, "Far", "public", other).await;

    let milestone = json!({"title": "Q1", "start_date": "2026-01-05", "due_date": "2026-03-20"});
    let made =
        app.api(Method::POST, &format!("/api/v4/groups/{oss}/milestones"), Some(&owner.token), Some(milestone)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let milestone = made.json()["id"].as_i64().unwrap();
    let public_bug = issue(&app, &owner, open_project, json!({"title": "Public bug", "milestone_id": milestone})).await;
    let leak = issue(&app, &owner, open_project, json!({"title": "Leaked key", "confidential": true})).await;
    let vault = issue(&app, &owner, hidden_project, json!({"title": "Vault plan", "weight": 3})).await;
    let far = issue(&app, &owner, elsewhere, json!({"title": "Far away"})).await;

    let roadmap = epic(&app, &reporter, oss, json!({"title": "Roadmap"})).await;
    assert_eq!(roadmap["start_date"], Value::Null, "no issues, no dates");
    let base = format!("/api/v4/groups/{oss}/epics/1/issues");
    for item in [&public_bug, &leak, &vault] {
        let added = app.api(Method::POST, &format!("{base}/{}", item["id"]), Some(&reporter.token), None).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        let link = added.json();
        assert_eq!((link["epic"]["iid"].as_i64(), link["issue"]["id"].clone()), (Some(1), item["id"].clone()));
        assert!(link["id"].as_i64().unwrap() > 0);
    }
    let dated = app.api(Method::GET, &format!("/api/v4/groups/{oss}/epics/1"), Some(&owner.token), None).await;
    assert_eq!(dated.json()["start_date"], "2026-01-05", "from the issues' milestones: {}", dated.body);
    assert_eq!(
        (dated.json()["due_date"].as_str(), dated.json()["due_date_is_fixed"].clone()),
        (Some("2026-03-20"), json!(false))
    );

    let all: Vec<String> = {
        let listed = app.api(Method::GET, &base, Some(&owner.token), None).await;
        listed.json().as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(all, ["Public bug", "Leaked key", "Vault plan"]);
    for who in [Some(&stranger), None] {
        let listed = app.api(Method::GET, &base, who.map(|u| u.token.as_str()), None).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(listed.body.contains("Public bug") && !listed.body.contains("Leaked key"), "{}", listed.body);
        assert!(!listed.body.contains("Vault plan"), "a private project's issue never shows: {}", listed.body);
        let page = app.page(Method::GET, "/oss/-/epics/1", who, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Public bug") && !page.body.contains("Vault plan") && !page.body.contains("Leaked"));
        assert!(page.body.contains("0 of 1 issues closed"), "progress counts what the viewer sees: {}", page.body);
    }
    let page = app.page(Method::GET, "/oss/-/epics/1", Some(&owner), None).await;
    assert!(page.body.contains("0 of 3 issues closed") && page.body.contains("weight 0 of 3"), "{}", page.body);
    let listed = app.api(Method::GET, &base, Some(&owner.token), None).await;
    let place = listed.json()[0]["epic_issue_id"].as_i64().unwrap();

    // An issue is in one epic at most; a stranger can't add one they cannot see, nor anyone one
    // from a project outside the group they are no member of, nor a public issue to a
    // confidential epic.
    let second = epic(&app, &reporter, oss, json!({"title": "Second"})).await;
    let moved = app
        .api(
            Method::POST,
            &format!("/api/v4/groups/{oss}/epics/2/issues/{}", public_bug["id"]),
            Some(&reporter.token),
            None,
        )
        .await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    assert_eq!(
        iids(&app, Some(&owner), &format!("/api/v4/groups/{oss}/epics/2/issues")).await,
        [public_bug["iid"].as_i64().unwrap()]
    );
    assert_eq!(iids(&app, Some(&owner), &base).await.len(), 2);
    let refused = app.api(Method::POST, &format!("{base}/{}", far["id"]), Some(&reporter.token), None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("outside the epic's group and you are not a member"), "{}", refused.body);
    // Epics span groups (GitLab's rule): a member of the far project adds its issue.
    let added = app
        .api(Method::POST, &format!("/api/v4/groups/{oss}/epics/2/issues/{}", far["id"]), Some(&owner.token), None)
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let listed =
        app.api(Method::GET, &format!("/api/v4/groups/{oss}/epics/2/issues"), Some(&reporter.token), None).await;
    assert!(listed.body.contains("Far away"), "a public project's issue shows to whoever sees it: {}", listed.body);
    // The group's Reporter takes it out again, no member of its project or not.
    let far_place =
        listed.json().as_array().unwrap().iter().find(|i| i["title"] == "Far away").unwrap()["epic_issue_id"].clone();
    let path = format!("/api/v4/groups/{oss}/epics/2/issues/{far_place}");
    let removed = app.api(Method::DELETE, &path, Some(&reporter.token), None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let refused = app.api(Method::POST, &format!("{base}/{}", vault["id"]), Some(&stranger.token), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let hidden = epic(&app, &reporter, oss, json!({"title": "Hidden", "confidential": true})).await;
    let refused = app
        .api(
            Method::POST,
            &format!("/api/v4/groups/{oss}/epics/{}/issues/{}", hidden["iid"], public_bug["id"]),
            Some(&reporter.token),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(app.api(Method::POST, &format!("{base}/999999"), Some(&reporter.token), None).await.status, 404);
    assert_eq!(second["iid"].as_i64(), Some(2));

    let removed = app.api(Method::DELETE, &format!("{base}/{place}"), Some(&reporter.token), None).await;
    assert_eq!(removed.status, StatusCode::NOT_FOUND, "that place moved to epic 2: {}", removed.body);
    let listed = app.api(Method::GET, &base, Some(&owner.token), None).await;
    let place = listed.json()[0]["epic_issue_id"].as_i64().unwrap();
    let removed = app.api(Method::DELETE, &format!("{base}/{place}"), Some(&reporter.token), None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.json()["issue"]["title"], "Leaked key");
    assert_eq!(iids(&app, Some(&owner), &base).await.len(), 1);

    let refused = app
        .api(
            Method::PUT,
            &format!("/api/v4/groups/{oss}/epics/1"),
            Some(&reporter.token),
            Some(json!({"confidential": true})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "it holds a public issue: {}", refused.body);
    assert!(refused.body.contains("non-confidential issues"), "{}", refused.body);

    // An issue names its epic for who may see it.
    let public_one = format!("/api/v4/projects/{open_project}/issues/1");
    let seen = app.api(Method::GET, &public_one, Some(&stranger.token), None).await.json();
    assert_eq!((seen["epic_iid"].as_i64(), seen["epic"]["title"].as_str()), (Some(2), Some("Second")), "{seen}");
    assert_eq!(seen["epic"]["url"], "/oss/-/epics/2");
    let listed = app.api(Method::GET, &format!("/api/v4/groups/{oss}/issues"), Some(&owner.token), None).await;
    assert!(listed.body.contains("\"epic_iid\":1") && listed.body.contains("\"epic_iid\":null"), "{}", listed.body);
    let path = format!("/api/v4/groups/{oss}/epics/{}/issues/{}", hidden["iid"], leak["id"]);
    let into_hidden = app.api(Method::POST, &path, Some(&reporter.token), None).await;
    assert_eq!(
        into_hidden.status,
        StatusCode::CREATED,
        "a confidential issue fits a confidential epic: {}",
        into_hidden.body
    );
    let seen =
        app.api(Method::GET, &format!("/api/v4/projects/{open_project}/issues/2"), Some(&owner.token), None).await;
    assert_eq!(seen.json()["epic_iid"].as_i64(), hidden["iid"].as_i64());

    // The issue's page names its epic in a system note.
    let notes = app
        .api(Method::GET, &format!("/api/v4/projects/{open_project}/issues/2/notes"), Some(&owner.token), None)
        .await;
    assert!(notes.body.contains("added to epic &1") && notes.body.contains("removed from epic &1"), "{}", notes.body);
}

#[tokio::test]
async fn child_epics_nest_without_cycles_and_at_most_seven_deep() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let acme = group(&app, &owner, "acme", "private", &[(&guest, 10)]).await;
    let made = app
        .api(
            Method::POST,
            "/api/v4/groups",
            Some(&owner.token),
            Some(json!({"name": "sub", "path": "sub", "parent_id": acme})),
        )
        .await;
    let sub = made.json()["id"].as_i64().unwrap();
    let other = group(&app, &owner, "other", "private", &[]).await;
    let list = format!("/api/v4/groups/{acme}/epics");

    let top = epic(&app, &owner, acme, json!({"title": "Top"})).await;
    let child =
        app.api(Method::POST, &format!("{list}/1/epics"), Some(&owner.token), Some(json!({"title": "Child"}))).await;
    assert_eq!(child.status, StatusCode::CREATED, "{}", child.body);
    assert_eq!((child.json()["parent_id"].clone(), child.json()["parent_iid"].as_i64()), (top["id"].clone(), Some(1)));
    let below = epic(&app, &owner, sub, json!({"title": "In a subgroup"})).await;
    let added = app.api(Method::POST, &format!("{list}/1/epics/{}", below["id"]), Some(&owner.token), None).await;
    assert_eq!(added.status, StatusCode::CREATED, "a subgroup's epic may go under: {}", added.body);
    assert_eq!(iids(&app, Some(&guest), &format!("{list}/1/epics")).await, [2, 1]);
    let refused = app.api(Method::POST, &format!("{list}/1/epics/{}", below["id"]), Some(&guest.token), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let everything = app.api(Method::GET, &list, Some(&guest.token), None).await;
    assert!(everything.body.contains("In a subgroup"), "a group's list has its subgroups' epics: {}", everything.body);
    let own = app.api(Method::GET, &format!("{list}?include_descendant_groups=false"), Some(&guest.token), None).await;
    assert!(!own.body.contains("In a subgroup") && own.body.contains("Child"), "{}", own.body);
    let page = app.page(Method::GET, "/acme/-/epics", Some(&guest), None).await;
    assert!(
        page.body.contains("acme/sub&#38;1") && page.body.contains("href=\"/acme/sub/-/epics/1\""),
        "{}",
        page.body
    );

    let cycle = app.api(Method::POST, &format!("{list}/2/epics/{}", top["id"]), Some(&owner.token), None).await;
    assert_eq!(cycle.status, StatusCode::BAD_REQUEST, "{}", cycle.body);
    assert!(cycle.body.contains("ancestor"), "{}", cycle.body);
    let itself =
        app.api(Method::PUT, &format!("{list}/1"), Some(&owner.token), Some(json!({"parent_id": top["id"]}))).await;
    assert_eq!(itself.status, StatusCode::BAD_REQUEST, "{}", itself.body);
    let foreign = epic(&app, &owner, other, json!({"title": "Elsewhere"})).await;
    let refused = app.api(Method::POST, &format!("{list}/1/epics/{}", foreign["id"]), Some(&owner.token), None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "another group's epic: {}", refused.body);
    let up = app
        .api(Method::POST, &format!("/api/v4/groups/{sub}/epics/1/epics/{}", top["id"]), Some(&owner.token), None)
        .await;
    assert_eq!(up.status, StatusCode::BAD_REQUEST, "a parent is never below its child's group: {}", up.body);

    // Top > Child (2) > 3 > 4 > 5 > 6 > 7 is seven levels; an eighth is refused.
    let mut parent = 2;
    for level in 3..=7 {
        let made = app
            .api(
                Method::POST,
                &format!("{list}/{parent}/epics"),
                Some(&owner.token),
                Some(json!({"title": format!("L{level}")})),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "level {level}: {}", made.body);
        parent = made.json()["iid"].as_i64().unwrap();
    }
    let deep = app
        .api(Method::POST, &format!("{list}/{parent}/epics"), Some(&owner.token), Some(json!({"title": "L8"})))
        .await;
    assert_eq!(deep.status, StatusCode::BAD_REQUEST, "{}", deep.body);
    assert!(deep.body.contains("7 levels"), "{}", deep.body);

    let secret = epic(&app, &owner, acme, json!({"title": "Secret", "confidential": true})).await;
    let path = format!("{list}/{}/epics", secret["iid"]);
    let refused = app.api(Method::POST, &path, Some(&owner.token), Some(json!({"title": "Public child"}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("confidential parent"), "{}", refused.body);
    let made =
        app.api(Method::POST, &path, Some(&owner.token), Some(json!({"title": "Hush", "confidential": true}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(iids(&app, Some(&guest), &format!("{list}/{}/epics", 1)).await, [2, 1], "Guests see no secret");

    // A member of the subgroup alone sees its epic, but not its parent in the group above.
    let insider = app.user("insider").await;
    let body = json!({"user_id": insider.user.id.0, "access_level": 30});
    let added = app.api(Method::POST, &format!("/api/v4/groups/{sub}/members"), Some(&owner.token), Some(body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let seen = app.api(Method::GET, &format!("/api/v4/groups/{sub}/epics/1"), Some(&insider.token), None).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!((seen.json()["parent_id"].clone(), seen.json()["parent_iid"].clone()), (Value::Null, Value::Null));
    let seen = app.api(Method::GET, &format!("/api/v4/groups/{sub}/epics/1"), Some(&guest.token), None).await;
    assert_eq!(seen.json()["parent_iid"].as_i64(), Some(1), "who sees the parent sees it");
    let page = app.page(Method::GET, "/acme/sub/-/epics/1", Some(&insider), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("Parent epic"), "{}", page.body);
    let page = app.page(Method::GET, "/acme/sub/-/epics/1", Some(&guest), None).await;
    assert!(page.body.contains("Parent epic") && page.body.contains("href=\"/acme/-/epics/1\""), "{}", page.body);

    let removed = app.api(Method::DELETE, &format!("{list}/1/epics/{}", below["id"]), Some(&owner.token), None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.json()["parent_id"], Value::Null);
    assert_eq!(iids(&app, Some(&owner), &format!("{list}/1/epics")).await, [2]);
}

#[tokio::test]
async fn the_pages_make_and_change_epics_without_javascript() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let acme = group(&app, &owner, "acme", "private", &[(&reporter, 20), (&guest, 10)]).await;
    let web = project(&app, &owner, "Web", "private", acme).await;
    issue(&app, &owner, web, json!({"title": "Login form"})).await;

    let group_page = app.page(Method::GET, "/acme", Some(&guest), None).await;
    assert!(group_page.body.contains("/acme/-/epics"), "the group links its epics");
    let list = app.page(Method::GET, "/acme/-/epics", Some(&guest), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(!list.body.contains("New epic"), "Guests get no form");
    let refused = app.page(Method::POST, "/acme/-/epics", Some(&guest), Some(&[("title", "x")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let bad = app.page(Method::POST, "/acme/-/epics", Some(&reporter), Some(&[("title", "")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("Title can&#39;t be blank."), "{}", bad.body);
    let title = "<script>alert(1)</script> Launch";
    let fields = [
        ("title", title),
        ("description", "Ships with acme/web#1"),
        ("due_date", "2026-06-30"),
        ("start_date", "2026-04-01"),
    ];
    let made = app.page(Method::POST, "/acme/-/epics", Some(&reporter), Some(&fields)).await;
    let shown = app.follow(made, &reporter).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(!shown.body.contains("<script>alert(1)"), "titles are escaped");
    assert!(shown.body.contains("href=\"/acme/web/-/issues/1\""), "references in the description link: {}", shown.body);
    assert!(shown.body.contains("2026-06-30") && shown.body.contains("(fixed)"));

    let added =
        app.page(Method::POST, "/acme/-/epics/1/issues", Some(&reporter), Some(&[("issue", "acme/web#1")])).await;
    let shown = app.follow(added, &reporter).await;
    assert!(shown.body.contains("Login form") && shown.body.contains("0 of 1 issues closed"), "{}", shown.body);
    let bad = app.page(Method::POST, "/acme/-/epics/1/issues", Some(&reporter), Some(&[("issue", "#1")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "a bare number names no project: {}", bad.body);
    let missing =
        app.page(Method::POST, "/acme/-/epics/1/issues", Some(&reporter), Some(&[("issue", "acme/web#99")])).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert!(missing.body.contains("No issue of that reference"), "{}", missing.body);

    let made = app
        .page(Method::POST, "/acme/-/epics", Some(&reporter), Some(&[("title", "Payments"), ("confidential", "1")]))
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let child = app.page(Method::POST, "/acme/-/epics/1/epics", Some(&reporter), Some(&[("epic", "&2")])).await;
    let shown = app.follow(child, &reporter).await;
    assert!(shown.body.contains("Payments"), "{}", shown.body);
    let guest_view = app.page(Method::GET, "/acme/-/epics/1", Some(&guest), None).await;
    assert!(!guest_view.body.contains("Payments"), "a confidential child is hidden from Guests");
    assert_eq!(app.page(Method::GET, "/acme/-/epics/2", Some(&guest), None).await.status, StatusCode::NOT_FOUND);

    // `&1` links in an issue; the confidential `&2` stays text for a Guest.
    let body = json!({"description": "Part of &1 and &2"});
    let changed =
        app.api(Method::PUT, &format!("/api/v4/projects/{web}/issues/1"), Some(&owner.token), Some(body)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let issue_page = app.page(Method::GET, "/acme/web/-/issues/1", Some(&guest), None).await;
    assert!(issue_page.body.contains("href=\"/acme/-/epics/1\""), "{}", issue_page.body);
    assert!(!issue_page.body.contains("href=\"/acme/-/epics/2\""));
    let issue_page = app.page(Method::GET, "/acme/web/-/issues/1", Some(&reporter), None).await;
    assert!(issue_page.body.contains("href=\"/acme/-/epics/2\""));
    assert!(issue_page.body.contains("<h2>Epic</h2>"), "the sidebar names the issue's epic");

    let closed = app.page(Method::POST, "/acme/-/epics/1/close", Some(&reporter), Some(&[])).await;
    let shown = app.follow(closed, &reporter).await;
    assert!(shown.body.contains("Reopen epic"), "{}", shown.body);
    let list = app.page(Method::GET, "/acme/-/epics?state=closed", Some(&guest), None).await;
    assert!(list.body.contains("Launch"), "{}", list.body);
    let reopened = app.page(Method::POST, "/acme/-/epics/1/reopen", Some(&reporter), Some(&[])).await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    let searched = app.page(Method::GET, "/acme/-/epics?search=launch", Some(&guest), None).await;
    assert!(searched.body.contains("Launch"));
    let searched = app.page(Method::GET, "/acme/-/epics?search=nothing-like-it", Some(&guest), None).await;
    assert!(searched.body.contains("No epics here."));

    let saved = app
        .page(
            Method::POST,
            "/acme/-/epics/1/edit",
            Some(&reporter),
            Some(&[("title", "Launch v2"), ("start_date", "2026-07-01"), ("due_date", "2026-06-01")]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::BAD_REQUEST, "the start comes first: {}", saved.body);
    let saved = app
        .page(
            Method::POST,
            "/acme/-/epics/1/edit",
            Some(&reporter),
            Some(&[("title", "Launch v2"), ("due_date", "2026-06-01")]),
        )
        .await;
    let shown = app.follow(saved, &reporter).await;
    assert!(shown.body.contains("Launch v2"));

    let roadmap = app.page(Method::GET, "/acme/-/roadmap", Some(&guest), None).await;
    assert_eq!(roadmap.status, StatusCode::OK, "{}", roadmap.body);
    assert!(roadmap.body.contains("<svg") && roadmap.body.contains("Launch v2") && roadmap.body.contains("2026-06"));
    assert!(!roadmap.body.contains("Payments"), "a Guest's roadmap has no confidential epic");

    let ask = app.page(Method::POST, "/acme/-/epics/1/delete", Some(&reporter), Some(&[])).await;
    assert_eq!(ask.status, StatusCode::FORBIDDEN, "Owners delete");
    let ask = app.page(Method::POST, "/acme/-/epics/1/delete", Some(&owner), Some(&[])).await;
    assert!(ask.body.contains("cannot be undone"));
    let gone = app.page(Method::POST, "/acme/-/epics/1/delete", Some(&owner), Some(&[("confirm", "yes")])).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(app.page(Method::GET, "/acme/-/epics/1", Some(&owner), None).await.status, StatusCode::NOT_FOUND);
}
