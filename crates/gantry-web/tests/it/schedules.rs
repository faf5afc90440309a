//! Pipeline schedules and trigger tokens in process: schedules are checked (cron, time zone,
//! ref), run when due exactly once with their variables and owner, can be played, edited only by
//! their owner, taken over by a Maintainer, and show their variables to their owner and
//! Maintainers only; trigger tokens start pipelines from JSON, forms, multipart forms and the
//! query string, and a wrong token tells nothing. A blocked user's schedules stop and their
//! tokens answer as wrong ones.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gantry_core::Actor;
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_types::{AccessLevel, ScheduleId};
use serde_json::json;

use crate::support::TestApp;

const CI: &[u8] = b"job:\n  script: echo $NIGHTLY\n";

#[tokio::test]
async fn schedules_run_when_due_with_their_variables_and_owner() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let owner = Actor::User(ada.user.clone());
    let (project, _) = app.project_with_file(&ada, "Nightly", ".gitlab-ci.yml", CI).await;
    app.core
        .manage()
        .add_member(&owner, MemberTarget::Project(&project), bob.user.id, AccessLevel::Maintainer, None)
        .await
        .unwrap();
    let base = format!("/api/v4/projects/{}/pipeline_schedules", project.id.0);

    for (body, field) in [
        (json!({"description": "x", "ref": "main", "cron": "0 4 * *"}), "five fields"),
        (json!({"description": "x", "ref": "main", "cron": "0 4 * * *", "cron_timezone": "Mars/Base"}), "time zone"),
        (json!({"description": "x", "ref": "nope", "cron": "0 4 * * *"}), "not a branch or tag"),
        (json!({"ref": "main", "cron": "0 4 * * *"}), "description"),
    ] {
        let refused = app.api(Method::POST, &base, Some(&ada.token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(refused.body.contains(field), "{field}: {}", refused.body);
    }
    let body = json!({"description": "Nightly", "ref": "main", "cron": "0 3 * * *", "cron_timezone": "Europe/Berlin"});
    let created = app.api(Method::POST, &base, Some(&ada.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let schedule = created.json();
    let id = schedule["id"].as_i64().unwrap();
    assert_eq!(schedule["owner"]["username"], "ada");
    assert_eq!(schedule["active"], true);
    assert!(schedule["next_run_at"].as_str().unwrap().contains("T02:00:00"), "03:00 in Berlin: {schedule}");
    let variable = json!({"key": "NIGHTLY", "value": "yes"});
    let added =
        app.api(Method::POST, &format!("{base}/{id}/variables"), Some(&ada.token), Some(variable.clone())).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let twice = app.api(Method::POST, &format!("{base}/{id}/variables"), Some(&ada.token), Some(variable)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // Due: it runs once, as its owner, with its variables, and moves to its next run.
    let mut conn = app.core.db().conn().await.unwrap();
    let row = gantry_db::ci::schedules::get_schedule(&mut conn, ScheduleId(id)).await.unwrap().unwrap();
    assert!(gantry_db::ci::schedules::claim_run(&mut conn, ScheduleId(id), row.next_run_at, 1_000).await.unwrap());
    drop(conn);
    assert_eq!(app.core.ci().run_due_schedules().await.unwrap(), 1);
    assert_eq!(app.core.ci().run_due_schedules().await.unwrap(), 0, "a due run starts once");
    let runs = app.api(Method::GET, &format!("{base}/{id}/pipelines"), Some(&ada.token), None).await.json();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["source"], "schedule");
    let pipeline = runs[0]["id"].as_i64().unwrap();
    let vars = app
        .api(
            Method::GET,
            &format!("/api/v4/projects/{}/pipelines/{pipeline}/variables", project.id.0),
            Some(&ada.token),
            None,
        )
        .await
        .json();
    assert_eq!(vars[0]["key"], "NIGHTLY");
    let shown = app.api(Method::GET, &format!("{base}/{id}"), Some(&ada.token), None).await.json();
    assert_eq!(shown["last_pipeline"]["id"], pipeline);
    assert_eq!(shown["variables"][0]["value"], "yes");
    assert!(shown["next_run_at"].as_str().unwrap() > "2026", "{shown}");

    // Play runs it now; only the owner edits; a Maintainer may take it over.
    let played = app.api(Method::POST, &format!("{base}/{id}/play"), Some(&bob.token), None).await;
    assert_eq!(played.status, StatusCode::CREATED, "{}", played.body);
    let edit = json!({"cron": "0 5 * * *"});
    let not_owner = app.api(Method::PUT, &format!("{base}/{id}"), Some(&bob.token), Some(edit.clone())).await;
    assert_eq!(not_owner.status, StatusCode::FORBIDDEN);
    assert!(not_owner.body.contains("take ownership"), "{}", not_owner.body);
    let taken = app.api(Method::POST, &format!("{base}/{id}/take_ownership"), Some(&bob.token), None).await;
    assert_eq!(taken.json()["owner"]["username"], "bob");
    let edited = app.api(Method::PUT, &format!("{base}/{id}"), Some(&bob.token), Some(edit.clone())).await;
    assert_eq!(edited.json()["cron"], "0 5 * * *");
    let inactive =
        app.api(Method::PUT, &format!("{base}/{id}"), Some(&bob.token), Some(json!({"active": false}))).await;
    assert_eq!(inactive.json()["active"], false);
    let listed = app.api(Method::GET, &format!("{base}?scope=active"), Some(&ada.token), None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 0);

    // The pages: list, new form, create with a variable, edit form.
    let web = format!("/{}/-/pipeline_schedules", project.full_path);
    let list = app.page(Method::GET, &web, Some(&ada), None).await;
    assert!(list.body.contains("Nightly") && list.body.contains("0 5 * * *"), "{}", list.body);
    assert_eq!(app.page(Method::GET, &format!("{web}/new"), Some(&ada), None).await.status, StatusCode::OK);
    let form = [
        ("description", "Weekly"),
        ("ref", "main"),
        ("cron", "0 6 * * 1"),
        ("cron_timezone", "UTC"),
        ("active", "1"),
        ("key", "WEEKLY"),
        ("value", "1"),
        ("key", ""),
        ("value", ""),
    ];
    let made = app.page(Method::POST, &web, Some(&ada), Some(&form)).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let all = app.api(Method::GET, &base, Some(&ada.token), None).await.json();
    let weekly = all.as_array().unwrap().iter().find(|s| s["description"] == "Weekly").unwrap()["id"].as_i64().unwrap();
    let edit_page = app.page(Method::GET, &format!("{web}/{weekly}/edit"), Some(&ada), None).await;
    assert!(edit_page.body.contains("value=\"WEEKLY\""), "{}", edit_page.body);
    let bad = [("description", "Weekly"), ("ref", "main"), ("cron", "every monday"), ("cron_timezone", "UTC")];
    let refused = app.page(Method::POST, &format!("{web}/{weekly}/edit"), Some(&ada), Some(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("five fields"));
    let deleted = app.api(Method::DELETE, &format!("{base}/{weekly}"), Some(&ada.token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

fn trigger_request(uri: &str, content_type: &str, body: String) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn trigger_tokens_start_pipelines_from_every_form_of_request() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    let (project, _) = app.project_with_file(&ada, "Triggered", ".gitlab-ci.yml", CI).await;
    let other = app
        .core
        .manage()
        .create_project(&owner, &NewProjectInput { name: "Other".into(), ..NewProjectInput::default() })
        .await
        .unwrap();
    let triggers = format!("/api/v4/projects/{}/triggers", project.id.0);
    let created =
        app.api(Method::POST, &triggers, Some(&ada.token), Some(json!({"description": "release tool"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let token = created.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("glptt-") && token.len() > 30);
    let listed = app.api(Method::GET, &triggers, Some(&ada.token), None).await.json();
    assert!(!listed[0]["token"].as_str().unwrap().contains(&token[10..]), "the list shows only the start");

    let uri = format!("/api/v4/projects/{}/trigger/pipeline", project.id.0);
    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"ref\"\r\n\r\nmain\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"variables[NIGHTLY]\"\r\n\r\nfrom-curl\r\n--{boundary}--\r\n"
    );
    let requests = [
        trigger_request(
            &uri,
            "application/json",
            json!({"token": token, "ref": "main", "variables": {"NIGHTLY": "json"}}).to_string(),
        ),
        trigger_request(
            &uri,
            "application/x-www-form-urlencoded",
            format!("token={token}&ref=main&variables%5BNIGHTLY%5D=form"),
        ),
        trigger_request(&uri, &format!("multipart/form-data; boundary={boundary}"), multipart),
        trigger_request(&format!("{uri}?token={token}&ref=main"), "text/plain", String::new()),
    ];
    for request in requests {
        let started = app.send(request).await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
        assert_eq!(started.json()["source"], "trigger");
        assert_eq!(started.json()["user"]["username"], "ada", "the pipeline runs as the token's owner");
    }
    let pipelines = app
        .api(
            Method::GET,
            &format!("/api/v4/projects/{}/pipelines?source=trigger", project.id.0),
            Some(&ada.token),
            None,
        )
        .await
        .json();
    assert_eq!(pipelines.as_array().unwrap().len(), 4);
    let newest_multipart = pipelines[1]["id"].as_i64().unwrap();
    let vars = app
        .api(
            Method::GET,
            &format!("/api/v4/projects/{}/pipelines/{newest_multipart}/variables", project.id.0),
            Some(&ada.token),
            None,
        )
        .await
        .json();
    assert_eq!(vars[0]["value"], "from-curl");

    // Wrong tokens, another project's path, a missing ref: nothing is told or started.
    for (uri, body) in [
        (uri.clone(), json!({"token": "glptt-wrong", "ref": "main"})),
        (format!("/api/v4/projects/{}/trigger/pipeline", other.id.0), json!({"token": token, "ref": "main"})),
        (format!("/api/v4/projects/{}/trigger/pipeline", 999_999), json!({"token": token, "ref": "main"})),
    ] {
        let refused = app.api(Method::POST, &uri, None, Some(body)).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{uri}: {}", refused.body);
    }
    let no_ref = app.api(Method::POST, &uri, None, Some(json!({"token": token}))).await;
    assert_eq!(no_ref.status, StatusCode::BAD_REQUEST);

    // The settings page makes and revokes tokens.
    let settings = format!("/{}/-/settings/ci_cd", project.full_path);
    let made =
        app.page(Method::POST, &format!("{settings}/triggers"), Some(&ada), Some(&[("description", "web")])).await;
    let made = app.follow(made, &ada).await;
    assert!(made.body.contains("id=\"new-trigger\"") && made.body.contains("curl -X POST"), "{}", made.body);
    let again = app.page(Method::GET, &settings, Some(&ada), None).await;
    assert!(!again.body.contains("id=\"new-trigger\""), "shown once");
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let revoked = app
        .page(Method::POST, &format!("{settings}/triggers/delete"), Some(&ada), Some(&[("trigger_id", id.as_str())]))
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let gone = app.api(Method::POST, &uri, None, Some(json!({"token": token, "ref": "main"}))).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn schedule_variables_are_shown_to_their_owner_and_maintainers_only() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let dev = app.user("dev").await;
    let max = app.user("max").await;
    let owner = Actor::User(ada.user.clone());
    let (project, _) = app.project_with_file(&ada, "Nightly", ".gitlab-ci.yml", CI).await;
    for (user, level) in [(&dev, AccessLevel::Developer), (&max, AccessLevel::Maintainer)] {
        app.core.manage().add_member(&owner, MemberTarget::Project(&project), user.user.id, level, None).await.unwrap();
    }
    let base = format!("/api/v4/projects/{}/pipeline_schedules", project.id.0);
    let body = json!({"description": "Nightly", "ref": "main", "cron": "0 3 * * *"});
    let id = app.api(Method::POST, &base, Some(&ada.token), Some(body)).await.json()["id"].as_i64().unwrap();
    let secret = json!({"key": "NIGHTLY", "value": "deploy-key-4711"});
    let added = app.api(Method::POST, &format!("{base}/{id}/variables"), Some(&ada.token), Some(secret)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);

    // The API: the owner and Maintainers get the variables, other Developers the schedule only.
    for who in [&ada, &max] {
        let shown = app.api(Method::GET, &format!("{base}/{id}"), Some(&who.token), None).await.json();
        assert_eq!(shown["variables"][0]["value"], "deploy-key-4711", "{shown}");
    }
    let hidden = app.api(Method::GET, &format!("{base}/{id}"), Some(&dev.token), None).await;
    assert_eq!(hidden.status, StatusCode::OK);
    assert_eq!(hidden.json()["description"], "Nightly");
    assert!(hidden.json().get("variables").is_none(), "{}", hidden.body);
    assert!(!hidden.body.contains("deploy-key-4711"));

    // The pages: the edit form shows them to the owner only, and the list never.
    let web = format!("/{}/-/pipeline_schedules", project.full_path);
    let theirs = app.page(Method::GET, &format!("{web}/{id}/edit"), Some(&dev), None).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.body.contains("id=\"variables-hidden\"") && !theirs.body.contains("deploy-key-4711"));
    let mine = app.page(Method::GET, &format!("{web}/{id}/edit"), Some(&ada), None).await;
    assert!(mine.body.contains("deploy-key-4711"), "{}", mine.body);
    assert!(!app.page(Method::GET, &web, Some(&dev), None).await.body.contains("deploy-key-4711"));

    // The scheduled pipeline's variables are the schedule's: the same people see them.
    let played = app.api(Method::POST, &format!("{base}/{id}/play"), Some(&max.token), None).await;
    assert_eq!(played.status, StatusCode::CREATED, "{}", played.body);
    let runs = app.api(Method::GET, &format!("{base}/{id}/pipelines"), Some(&ada.token), None).await.json();
    let pipeline = runs[0]["id"].as_i64().unwrap();
    let variables = format!("/api/v4/projects/{}/pipelines/{pipeline}/variables", project.id.0);
    // A Developer may not act on pipelines of the protected `main`, so sees none of their
    // variables (GitLab's rule), scheduled or not.
    let seen = app.api(Method::GET, &variables, Some(&dev.token), None).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN, "{}", seen.body);
    assert!(!seen.body.contains("deploy-key-4711"));
    for who in [&ada, &max] {
        let seen = app.api(Method::GET, &variables, Some(&who.token), None).await.json();
        assert_eq!(seen[0]["value"], "deploy-key-4711", "{seen}");
    }
}

#[tokio::test]
async fn a_blocked_users_schedules_stop_and_their_trigger_tokens_answer_as_wrong_ones() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let (project, _) = app.project_with_file(&ada, "Nightly", ".gitlab-ci.yml", CI).await;
    let base = format!("/api/v4/projects/{}", project.id.0);
    let body = json!({"description": "Nightly", "ref": "main", "cron": "0 3 * * *"});
    let schedule = app.api(Method::POST, &format!("{base}/pipeline_schedules"), Some(&ada.token), Some(body)).await;
    let schedule = format!("{base}/pipeline_schedules/{}", schedule.json()["id"]);
    let trigger = app.api(Method::POST, &format!("{base}/triggers"), Some(&ada.token), Some(json!({}))).await;
    let token = trigger.json()["token"].as_str().unwrap().to_owned();
    let trigger_uri = format!("{base}/trigger/pipeline");
    let started = app.api(Method::POST, &trigger_uri, None, Some(json!({"token": token, "ref": "main"}))).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);

    // Blocking the owner turns the schedule off; the token then answers as a wrong one does.
    let blocked =
        app.api(Method::POST, &format!("/api/v4/users/{}/block", ada.user.id.0), Some(&root.token), None).await;
    assert!(blocked.status.is_success(), "{}", blocked.body);
    let shown = app.api(Method::GET, &schedule, Some(&root.token), None).await.json();
    assert_eq!(shown["active"], false, "{shown}");
    let refused = app.api(Method::POST, &trigger_uri, None, Some(json!({"token": token, "ref": "main"}))).await;
    let wrong = app.api(Method::POST, &trigger_uri, None, Some(json!({"token": "glptt-wrong", "ref": "main"}))).await;
    assert_eq!((refused.status, &refused.body), (wrong.status, &wrong.body));
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // At run time too: a schedule of a blocked owner turned on again does not run, and is
    // turned off again.
    let active = app.api(Method::PUT, &schedule, Some(&root.token), Some(json!({"active": true}))).await;
    assert_eq!(active.json()["active"], true, "{}", active.body);
    let id = shown["id"].as_i64().unwrap();
    let mut conn = app.core.db().conn().await.unwrap();
    let row = gantry_db::ci::schedules::get_schedule(&mut conn, ScheduleId(id)).await.unwrap().unwrap();
    assert!(gantry_db::ci::schedules::claim_run(&mut conn, ScheduleId(id), row.next_run_at, 1_000).await.unwrap());
    drop(conn);
    assert_eq!(app.core.ci().run_due_schedules().await.unwrap(), 0, "a blocked owner's schedule does not run");
    let shown = app.api(Method::GET, &schedule, Some(&root.token), None).await.json();
    assert_eq!(shown["active"], false, "{shown}");
    let runs = app.api(Method::GET, &format!("{schedule}/pipelines"), Some(&root.token), None).await.json();
    assert_eq!(runs.as_array().unwrap().len(), 0, "{runs}");
}
