//! Plan's iterations through the API: an automatic cadence schedules its iterations from its
//! first day to its upcoming ones, listed by GitLab's states for a group and for the projects
//! below it; a manual cadence holds iterations that never overlap; an issue goes in one (the API,
//! a quick action), leaving a system note and an iteration event, and issue lists filter by it;
//! a cadence that rolls over moves an ended iteration's open issues to the next; a new length
//! re-dates what has not started; Reporters manage, others are refused; bad input gets a
//! sentence.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// Today (UTC) moved by `days`, as `YYYY-MM-DD`.
fn day(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let response = app.api(method, path, Some(&user.token), body).await;
    let json = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, json)
}

async fn made(app: &TestApp, user: &TestUser, path: &str, body: Value) -> Value {
    let (status, json) = call(app, user, Method::POST, path, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {json}");
    json
}

/// A group (or subgroup of `parent`) made by `owner`, with these members; its id.
async fn group(app: &TestApp, owner: &TestUser, path: &str, parent: Option<i64>, members: &[(&TestUser, i64)]) -> i64 {
    let body = json!({"name": path, "path": path, "parent_id": parent, "visibility": "private"});
    let id = made(app, owner, "/api/v4/groups", body).await["id"].as_i64().unwrap();
    for (user, level) in members {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        made(app, owner, &format!("/api/v4/groups/{id}/members"), body).await;
    }
    id
}

/// The iterations a list gives: (title or dates, state).
async fn listed(app: &TestApp, user: &TestUser, path: &str) -> Vec<(String, i64)> {
    let (status, json) = call(app, user, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {json}");
    json.as_array()
        .unwrap()
        .iter()
        .map(|it| {
            let name =
                it["title"].as_str().map_or_else(|| it["start_date"].as_str().unwrap().to_owned(), str::to_owned);
            (name, it["state"].as_i64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn an_automatic_cadence_schedules_its_iterations_and_projects_below_see_them() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let guest = app.user("guest").await;
    let stranger = app.user("stranger").await;
    let top = group(&app, &owner, "team", None, &[(&guest, 10)]).await;
    let sub = group(&app, &owner, "backend", Some(top), &[]).await;
    let project = made(&app, &owner, "/api/v4/projects", json!({"name": "api", "namespace_id": sub})).await;
    let project = project["id"].as_i64().unwrap();

    // Weekly from three weeks ago, two upcoming: three closed, the current one, two upcoming.
    let body = json!({"title": "Weekly", "start_date": day(-21), "duration_in_weeks": 1, "iterations_in_advance": 2});
    let cadence = made(&app, &owner, &format!("/api/v4/groups/{top}/iteration_cadences"), body).await;
    assert_eq!(cadence["automatic"], true);
    assert_eq!(cadence["roll_over"], false);
    let all = listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations?state=all")).await;
    let expected: Vec<(String, i64)> = [(-21, 3), (-14, 3), (-7, 3), (0, 2), (7, 1), (14, 1)]
        .into_iter()
        .map(|(offset, state)| (day(offset), state))
        .collect();
    assert_eq!(all, expected);
    assert_eq!(listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations")).await, expected[3..].to_vec());
    assert_eq!(
        listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations?state=current")).await,
        vec![(day(0), 2)]
    );
    assert_eq!(
        listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations?state=closed")).await,
        expected[..3].to_vec()
    );
    // The subgroup and its project see the group's above, unless told not to.
    assert_eq!(listed(&app, &owner, &format!("/api/v4/groups/{sub}/iterations")).await.len(), 3);
    assert!(listed(&app, &owner, &format!("/api/v4/groups/{sub}/iterations?include_ancestors=false")).await.is_empty());
    assert_eq!(listed(&app, &owner, &format!("/api/v4/projects/{project}/iterations?state=all")).await.len(), 6);
    // GitLab's shape: automatic iterations have no title; the sequence counts from 1.
    let (_, json) = call(&app, &owner, Method::GET, &format!("/api/v4/groups/{top}/iterations?state=all"), None).await;
    assert_eq!(json[0]["sequence"], 1);
    assert_eq!(json[5]["sequence"], 6);
    assert_eq!(json[0]["title"], Value::Null);
    assert_eq!(json[3]["due_date"], day(6));
    assert!(json[0]["web_url"].as_str().unwrap().ends_with(&format!("/team/-/iterations/{}", json[0]["id"])));

    // Guests read; only Reporters manage; strangers do not see a private group's.
    assert_eq!(listed(&app, &guest, &format!("/api/v4/groups/{top}/iterations")).await.len(), 3);
    let body = json!({"title": "Mine", "start_date": day(0)});
    let (status, _) =
        call(&app, &guest, Method::POST, &format!("/api/v4/groups/{top}/iteration_cadences"), Some(body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, &stranger, Method::GET, &format!("/api/v4/groups/{top}/iterations"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bad input gets a sentence.
    for (body, words) in [
        (json!({"start_date": day(0)}), "title can't be blank"),
        (json!({"title": "X"}), "start_date can't be blank"),
        (json!({"title": "X", "start_date": "soon"}), "start_date must be a date"),
        (json!({"title": "X", "start_date": day(0), "duration_in_weeks": 6}), "duration_in_weeks must be from 1 to 4"),
        (json!({"title": "X", "start_date": day(0), "iterations_in_advance": 0}), "iterations_in_advance"),
        (json!({"title": "X", "start_date": "1990-01-01", "duration_in_weeks": 1}), "too far in the past"),
        (json!({"title": "Weekly", "start_date": day(0)}), "already been taken"),
    ] {
        let (status, json) =
            call(&app, &owner, Method::POST, &format!("/api/v4/groups/{top}/iteration_cadences"), Some(body)).await;
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::CONFLICT, "{status} {json}");
        assert!(json.to_string().contains(words), "{words}: {json}");
    }
    let (status, json) =
        call(&app, &owner, Method::GET, &format!("/api/v4/groups/{top}/iterations?state=soon"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");

    // An automatic cadence's iterations are its own to schedule.
    let path = format!("/api/v4/groups/{top}/iteration_cadences/{}/iterations", cadence["id"]);
    let body = json!({"title": "Extra", "start_date": day(40), "due_date": day(45)});
    let (status, json) = call(&app, &owner, Method::POST, &path, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");

    // A new length re-dates what has not started, keeping the current one.
    let path = format!("/api/v4/groups/{top}/iteration_cadences/{}", cadence["id"]);
    let (status, json) = call(&app, &owner, Method::PUT, &path, Some(json!({"duration_in_weeks": 2}))).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let opened = listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations")).await;
    assert_eq!(opened, vec![(day(0), 2), (day(7), 1), (day(21), 1)]);
    let (status, json) = call(&app, &owner, Method::PUT, &path, Some(json!({"start_date": day(1)}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");

    // Deleting the cadence deletes its iterations.
    let (status, _) = call(&app, &owner, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations?state=all")).await.is_empty());
}

#[tokio::test]
async fn issues_go_in_iterations_and_roll_over_when_one_ends() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let top = group(&app, &owner, "crew", None, &[]).await;
    let other = group(&app, &owner, "others", None, &[]).await;
    let project = made(&app, &owner, "/api/v4/projects", json!({"name": "app", "namespace_id": top})).await;
    let project = project["id"].as_i64().unwrap();
    let cadences = format!("/api/v4/groups/{top}/iteration_cadences");
    let body = json!({"title": "Sprints", "start_date": day(-28), "automatic": false, "roll_over": true});
    let cadence = made(&app, &owner, &cadences, body).await;
    let iterations = format!("{cadences}/{}/iterations", cadence["id"]);
    let past =
        made(&app, &owner, &iterations, json!({"title": "Sprint 1", "start_date": day(-28), "due_date": day(-15)}))
            .await;
    let now =
        made(&app, &owner, &iterations, json!({"title": "Sprint 2", "start_date": day(-14), "due_date": day(13)}))
            .await;
    assert_eq!((past["sequence"].as_i64(), now["sequence"].as_i64()), (Some(1), Some(2)));
    // Iterations of a cadence never overlap; dates are checked.
    for body in [
        json!({"title": "Clash", "start_date": day(0), "due_date": day(20)}),
        json!({"title": "Backwards", "start_date": day(40), "due_date": day(30)}),
        json!({"title": "Undated"}),
    ] {
        let (status, json) = call(&app, &owner, Method::POST, &iterations, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    }
    let elsewhere = made(
        &app,
        &owner,
        &format!("/api/v4/groups/{other}/iteration_cadences"),
        json!({"title": "Theirs", "start_date": day(0), "automatic": false}),
    )
    .await;
    let theirs = made(
        &app,
        &owner,
        &format!("/api/v4/groups/{other}/iteration_cadences/{}/iterations", elsewhere["id"]),
        json!({"start_date": day(0), "due_date": day(5)}),
    )
    .await;

    // An issue goes in an iteration of its project's groups, and no other.
    let issues = format!("/api/v4/projects/{project}/issues");
    let first = made(&app, &owner, &issues, json!({"title": "Open work", "iteration_id": past["id"]})).await;
    assert_eq!(first["iteration"]["title"], "Sprint 1");
    assert_eq!(first["iteration"]["state"], 3);
    let second = made(&app, &owner, &issues, json!({"title": "Done work"})).await;
    let path = format!("{issues}/{}", second["iid"]);
    let (status, json) = call(&app, &owner, Method::PUT, &path, Some(json!({"iteration_id": theirs["id"]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(json.to_string().contains("not an iteration of this project's groups"), "{json}");
    let body = json!({"iteration_id": past["id"], "state_event": "close"});
    let (status, json) = call(&app, &owner, Method::PUT, &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["iteration"]["id"], past["id"]);

    // Lists filter by iteration.
    let numbers =
        |json: Value| -> Vec<i64> { json.as_array().unwrap().iter().map(|i| i["iid"].as_i64().unwrap()).collect() };
    let (_, json) =
        call(&app, &owner, Method::GET, &format!("{issues}?iteration_id={}&state=all", past["id"]), None).await;
    assert_eq!(numbers(json), vec![2, 1]);
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}?iteration_id=None&state=all"), None).await;
    assert!(numbers(json).is_empty());
    let (status, _) = call(&app, &owner, Method::GET, &format!("{issues}?iteration_id=soon"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The ended iteration rolls over when someone looks: its open issue moves to Sprint 2,
    // with a system note and an event by nobody; the closed one stays.
    assert_eq!(
        listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations")).await,
        vec![("Sprint 2".to_owned(), 2)]
    );
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}/1"), None).await;
    assert_eq!(json["iteration"]["id"], now["id"]);
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}/2"), None).await;
    assert_eq!(json["iteration"]["id"], past["id"]);
    let (_, events) = call(&app, &owner, Method::GET, &format!("{issues}/1/resource_iteration_events"), None).await;
    let events = events.as_array().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["iteration"]["title"], "Sprint 2");
    assert_eq!(events[1]["action"], "add");
    assert_eq!(events[1]["user"], Value::Null);
    let (_, notes) = call(&app, &owner, Method::GET, &format!("{issues}/1/notes?sort=asc"), None).await;
    let bodies: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert!(bodies.contains(&"changed iteration to **Sprint 2**"), "{bodies:?}");
    // Looking again moves nothing twice.
    listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations")).await;
    let (_, events) = call(&app, &owner, Method::GET, &format!("{issues}/1/resource_iteration_events"), None).await;
    assert_eq!(events.as_array().unwrap().len(), 2);

    // A quick action puts an issue in an iteration by title, or takes it out.
    let body = json!({"body": "/iteration *iteration:\"Sprint 2\""});
    let (status, json) = call(&app, &owner, Method::POST, &format!("{issues}/2/notes"), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{json}");
    assert_eq!(json["summary"][0], "Set the iteration to Sprint 2.");
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}/2"), None).await;
    assert_eq!(json["iteration"]["id"], now["id"]);
    let body = json!({"body": "/iteration *iteration:\"Sprint 9\""});
    let (status, json) = call(&app, &owner, Method::POST, &format!("{issues}/2/notes"), Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(json.to_string().contains("no iteration"), "{json}");
    let body = json!({"body": "/remove_iteration"});
    let (status, _) = call(&app, &owner, Method::POST, &format!("{issues}/2/notes"), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}/2"), None).await;
    assert_eq!(json["iteration"], Value::Null);

    // An iteration deleted: its issues are in none, the others renumbered.
    let (status, _) =
        call(&app, &owner, Method::PUT, &format!("{issues}/1"), Some(json!({"iteration_id": past["id"]}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        call(&app, &owner, Method::DELETE, &format!("/api/v4/groups/{top}/iterations/{}", past["id"]), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}/1"), None).await;
    assert_eq!(json["iteration"], Value::Null);
    let (_, json) =
        call(&app, &owner, Method::GET, &format!("/api/v4/groups/{top}/iterations/{}", now["id"]), None).await;
    assert_eq!(json["sequence"], 1);
}

#[tokio::test]
async fn the_pages_manage_cadences_and_iterations_and_the_sidebar_sets_one() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let reporter = app.user("reporter").await;
    let guest = app.user("guest").await;
    let top = group(&app, &owner, "studio", None, &[(&reporter, 20), (&guest, 10)]).await;
    made(&app, &owner, "/api/v4/projects", json!({"name": "game", "namespace_id": top})).await;
    let base = "/studio/-/cadences";

    // A Reporter makes an automatic cadence and a manual one from the page.
    let page = app.page(Method::GET, base, Some(&reporter), None).await;
    assert!(
        page.body.contains("No iteration cadences yet") && page.body.contains("New iteration cadence"),
        "{}",
        page.body
    );
    let start = day(-3);
    let fields = [
        ("title", "Sprints"),
        ("start_date", start.as_str()),
        ("duration_in_weeks", "2"),
        ("iterations_in_advance", "1"),
        ("automatic", "1"),
        ("description", "Two *weeks* each"),
    ];
    let created = app.page(Method::POST, base, Some(&reporter), Some(&fields)).await;
    let page = app.follow(created, &reporter).await;
    assert!(page.body.contains("Iteration cadence Sprints was created."), "{}", page.body);
    assert!(page.body.contains("Every 2 weeks from") && page.body.contains("<em>weeks</em>"), "{}", page.body);
    assert_eq!(page.body.matches("class=\"badge current\"").count(), 1, "{}", page.body);
    assert_eq!(page.body.matches("class=\"badge upcoming\"").count(), 1, "{}", page.body);
    // Refused with the form kept.
    let refused =
        app.page(Method::POST, base, Some(&reporter), Some(&[("title", "Sprints"), ("start_date", "soon")])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("Start_date must be a date") || refused.body.contains("must be a date"),
        "{}",
        refused.body
    );
    let manual = [
        ("title", "Releases"),
        ("start_date", start.as_str()),
        ("duration_in_weeks", "1"),
        ("iterations_in_advance", "1"),
    ];
    app.page(Method::POST, base, Some(&reporter), Some(&manual)).await;
    let (_, cadences) =
        call(&app, &owner, Method::GET, &format!("/api/v4/groups/{top}/iteration_cadences"), None).await;
    let releases = cadences.as_array().unwrap().iter().find(|c| c["title"] == "Releases").unwrap()["id"].clone();
    assert_eq!(cadences[0]["automatic"], false, "{cadences}");

    // An iteration added by hand; an overlapping one refused on the list, with what was typed.
    let add = format!("{base}/{releases}/iterations");
    let (from, to) = (day(0), day(10));
    let fields = [("title", "Launch"), ("start_date", from.as_str()), ("due_date", to.as_str())];
    let added = app.page(Method::POST, &add, Some(&reporter), Some(&fields)).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let iteration_page = added.header("location").to_owned();
    let page = app.follow(added, &reporter).await;
    assert!(page.body.contains("Iteration Launch was created.") && page.body.contains("Releases"), "{}", page.body);
    let fields = [("title", "Clash"), ("start_date", from.as_str()), ("due_date", to.as_str())];
    let clash = app.page(Method::POST, &add, Some(&reporter), Some(&fields)).await;
    assert_eq!(clash.status, StatusCode::BAD_REQUEST);
    assert!(
        clash.body.contains("overlaps another iteration") && clash.body.contains("value=\"Clash\""),
        "{}",
        clash.body
    );

    // Guests see the pages but not the forms, and may not post.
    let page = app.page(Method::GET, base, Some(&guest), None).await;
    assert!(page.body.contains("Launch") && !page.body.contains("New iteration cadence"), "{}", page.body);
    let denied =
        app.page(Method::POST, base, Some(&guest), Some(&[("title", "Mine"), ("start_date", from.as_str())])).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // The issue sidebar offers the group's iterations; choosing one shows on the iteration's page.
    let opened =
        app.page(Method::POST, "/studio/game/-/issues", Some(&reporter), Some(&[("title", "Boss fight")])).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    let issue = app.page(Method::GET, "/studio/game/-/issues/1", Some(&reporter), None).await;
    assert!(issue.body.contains("name=\"iteration_id\"") && issue.body.contains("Launch (Releases)"), "{}", issue.body);
    let id = iteration_page.rsplit('/').next().unwrap().to_owned();
    let set = app
        .page(Method::POST, "/studio/game/-/issues/1/sidebar", Some(&reporter), Some(&[("iteration_id", id.as_str())]))
        .await;
    let issue = app.follow(set, &reporter).await;
    assert!(issue.body.contains("changed iteration to <strong>Launch</strong>"), "{}", issue.body);
    let page = app.page(Method::GET, &iteration_page, Some(&guest), None).await;
    assert!(page.body.contains("Boss fight") && page.body.contains("0% complete · 1 open, 0 closed"), "{}", page.body);
    // Its burndown: drawn on the server, the numbers in a table too.
    assert!(
        page.body.contains("<svg class=\"burnup-chart\"") && page.body.contains("polyline class=\"remaining\""),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("<td>{}</td><td>1</td><td>0</td><td>1</td>", day(0))), "{}", page.body);
    // The sidebar without the field leaves the iteration alone.
    let kept =
        app.page(Method::POST, "/studio/game/-/issues/1/sidebar", Some(&reporter), Some(&[("weight", "2")])).await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER);
    let (_, json) = call(&app, &owner, Method::GET, "/api/v4/projects/studio%2Fgame/issues/1", None).await;
    assert_eq!(json["iteration"]["title"], "Launch");

    // Edit and delete, each delete after a page that asks.
    let edit = app.page(Method::GET, &format!("{iteration_page}/edit"), Some(&reporter), None).await;
    assert!(edit.body.contains("value=\"Launch\""), "{}", edit.body);
    let saved = app
        .page(
            Method::POST,
            &format!("{iteration_page}/edit"),
            Some(&reporter),
            Some(&[("title", "Liftoff"), ("start_date", from.as_str()), ("due_date", to.as_str())]),
        )
        .await;
    assert!(app.follow(saved, &reporter).await.body.contains("Iteration Liftoff was saved."));
    let ask = app.page(Method::POST, &format!("{iteration_page}/delete"), Some(&reporter), Some(&[])).await;
    assert!(ask.body.contains("Delete iteration Liftoff?"), "{}", ask.body);
    let gone =
        app.page(Method::POST, &format!("{iteration_page}/delete"), Some(&reporter), Some(&[("confirm", "yes")])).await;
    assert!(app.follow(gone, &reporter).await.body.contains("Iteration Liftoff was deleted."));
    assert_eq!(app.page(Method::GET, &iteration_page, Some(&guest), None).await.status, StatusCode::NOT_FOUND);
    let edit = app.page(Method::GET, &format!("{base}/{releases}/edit"), Some(&reporter), None).await;
    assert!(edit.body.contains("value=\"Releases\""), "{}", edit.body);
    let saved = app
        .page(
            Method::POST,
            &format!("{base}/{releases}/edit"),
            Some(&reporter),
            Some(&[
                ("title", "Shipping"),
                ("start_date", start.as_str()),
                ("duration_in_weeks", "1"),
                ("iterations_in_advance", "1"),
                ("roll_over", "1"),
            ]),
        )
        .await;
    assert!(app.follow(saved, &reporter).await.body.contains("open issues roll over"));
    let gone = app
        .page(Method::POST, &format!("{base}/{releases}/delete"), Some(&reporter), Some(&[("confirm", "yes")]))
        .await;
    assert!(app.follow(gone, &reporter).await.body.contains("Iteration cadence Shipping was deleted."));
}

#[tokio::test]
async fn burnups_count_each_day_and_a_transfer_takes_issues_out_of_the_old_groups_iterations() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let top = group(&app, &owner, "works", None, &[]).await;
    let elsewhere = group(&app, &owner, "elsewhere", None, &[]).await;
    let project = made(&app, &owner, "/api/v4/projects", json!({"name": "plant", "namespace_id": top})).await;
    let project = project["id"].as_i64().unwrap();
    let cadences = format!("/api/v4/groups/{top}/iteration_cadences");
    let body = json!({"title": "Manual", "start_date": day(-2), "automatic": false});
    let cadence = made(&app, &owner, &cadences, body).await;
    let iteration = made(
        &app,
        &owner,
        &format!("{cadences}/{}/iterations", cadence["id"]),
        json!({"title": "Now", "start_date": day(-2), "due_date": day(5)}),
    )
    .await;
    let issues = format!("/api/v4/projects/{project}/issues");
    made(&app, &owner, &issues, json!({"title": "Heavy", "weight": 3, "iteration_id": iteration["id"]})).await;
    made(&app, &owner, &issues, json!({"title": "Light", "weight": 2, "iteration_id": iteration["id"]})).await;
    call(&app, &owner, Method::PUT, &format!("{issues}/2"), Some(json!({"state_event": "close"}))).await;
    made(&app, &owner, &issues, json!({"title": "Elsewhere"})).await;

    // Three days so far; the issues joined today.
    let path = format!("/api/v4/groups/{top}/iterations/{}/burnup", iteration["id"]);
    let (status, json) = call(&app, &owner, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let series = json["burnup_time_series"].as_array().unwrap();
    assert_eq!(series.len(), 3, "{json}");
    assert_eq!(series[0]["date"], day(-2));
    assert_eq!((series[0]["scope_count"].as_i64(), series[0]["completed_count"].as_i64()), (Some(0), Some(0)));
    let today = &series[2];
    assert_eq!(today["date"], day(0));
    assert_eq!(
        [&today["scope_count"], &today["scope_weight"], &today["completed_count"], &today["completed_weight"]],
        [&json!(2), &json!(5), &json!(1), &json!(2)]
    );
    assert_eq!(json["stats"]["incomplete"], json!({"count": 1, "weight": 3}));

    // A milestone's burnup needs its dates.
    let milestones = format!("/api/v4/projects/{project}/milestones");
    let undated = made(&app, &owner, &milestones, json!({"title": "Someday"})).await;
    let (status, json) = call(&app, &owner, Method::GET, &format!("{milestones}/{}/burnup", undated["id"]), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert!(json.to_string().contains("start and a due date"), "{json}");
    let dated =
        made(&app, &owner, &milestones, json!({"title": "v1", "start_date": day(-1), "due_date": day(1)})).await;
    call(&app, &owner, Method::PUT, &format!("{issues}/3"), Some(json!({"milestone_id": dated["id"], "weight": 4})))
        .await;
    let (status, json) = call(&app, &owner, Method::GET, &format!("{milestones}/{}/burnup", dated["id"]), None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let series = json["burnup_time_series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{json}");
    assert_eq!((series[1]["scope_count"].as_i64(), series[1]["scope_weight"].as_i64()), (Some(1), Some(4)));
    let page = app.page(Method::GET, "/works/plant/-/milestones/2", Some(&owner), None).await;
    assert!(page.body.contains("Burndown and burnup") && page.body.contains("<td>4 / 0</td>"), "{}", page.body);

    // Roll-over turned on later leaves the past alone.
    let past = made(
        &app,
        &owner,
        &format!("{cadences}/{}/iterations", cadence["id"]),
        json!({"title": "Before", "start_date": day(-9), "due_date": day(-3)}),
    )
    .await;
    call(&app, &owner, Method::PUT, &format!("{issues}/3"), Some(json!({"iteration_id": past["id"]}))).await;
    let (status, _) =
        call(&app, &owner, Method::PUT, &format!("{cadences}/{}", cadence["id"]), Some(json!({"roll_over": true})))
            .await;
    assert_eq!(status, StatusCode::OK);
    listed(&app, &owner, &format!("/api/v4/groups/{top}/iterations")).await;
    let (_, json) = call(&app, &owner, Method::GET, &format!("{issues}/3"), None).await;
    assert_eq!(json["iteration"]["id"], past["id"]);

    // Moved to another group, the project's issues leave the old group's iterations.
    let (status, json) = call(
        &app,
        &owner,
        Method::PUT,
        &format!("/api/v4/projects/{project}/transfer"),
        Some(json!({"namespace": elsewhere})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let (_, json) = call(&app, &owner, Method::GET, &format!("/api/v4/projects/{project}/issues/1"), None).await;
    assert_eq!(json["iteration"], Value::Null);
}
