//! Durable background work: a change queues what follows it (a branch made from the web queues
//! its repository's maintenance), the worker runs it, a job that keeps failing is retried and
//! then shown as failed in the admin area, where an administrator retries it. And a push report
//! a server that died for good left behind is recorded, once, by another.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::background::BackgroundSettings;
use gantry_types::ProjectId;
use serde_json::json;

use crate::code::project_with_history;
use crate::support::TestApp;

/// Waits (10 s at most) until `done` holds for the admin's view of the queue.
async fn wait_for_queue(
    app: &TestApp,
    admin: &Actor,
    done: impl Fn(&gantry_core::background::BackgroundQueue) -> bool,
) -> gantry_core::background::BackgroundQueue {
    for _ in 0..200 {
        let queue = app.core.background_queue(admin, 100).await.unwrap();
        if done(&queue) {
            return queue;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the queue did not get there: {:?}", app.core.background_queue(admin, 100).await.unwrap().counts);
}

#[tokio::test]
async fn a_maintenance_that_keeps_failing_is_retried_then_shown_failed_until_an_admin_retries_it() {
    let settings = BackgroundSettings {
        first_retry: Duration::from_millis(20),
        maintenance_quiet: Duration::from_millis(300),
        poll: Duration::from_millis(20),
        ..BackgroundSettings::default()
    };
    let app = TestApp::with_core(|core| core.with_background_settings(settings)).await;
    let admin = app.user("root").await;
    let lead = app.user("lead").await;
    let admin_actor = Actor::User(admin.user.clone());
    project_with_history(&app, &lead).await;
    let project: serde_json::Value =
        app.api(Method::GET, "/api/v4/projects/lead%2Fsite", Some(&lead.token), None).await.json();
    let repository = app.core.repos().path(ProjectId(project["id"].as_i64().unwrap()));

    let _worker = app.background_worker();
    let body = json!({"branch": "topic", "ref": "main"});
    let created =
        app.api(Method::POST, "/api/v4/projects/lead%2Fsite/repository/branches", Some(&lead.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // Before its maintenance (queued for after a quiet period), the repository breaks: git
    // cannot read its configuration, and each attempt fails.
    let config = std::fs::read_to_string(repository.join("config")).unwrap();
    std::fs::write(repository.join("config"), "[core\nbroken").unwrap();

    let queue = wait_for_queue(&app, &admin_actor, |queue| queue.counts.failed == 1).await;
    let failed = &queue.failed[0];
    assert_eq!((failed.kind.as_str(), failed.attempts, failed.max_attempts), ("maintain_repository", 3, 3));
    assert!(failed.last_error.as_deref().unwrap_or_default().contains("config"), "{failed:?}");

    let metrics = app.page(Method::GET, "/metrics", None, None).await.body;
    assert!(metrics.contains("gantry_background_jobs{state=\"failed\"} 1"), "{metrics}");
    let page = app.page(Method::GET, "/admin/background_jobs", Some(&admin), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Maintain the repository of project"), "{}", page.body);
    assert!(page.body.contains("3 of 3") && page.body.contains("bad config"), "{}", page.body);
    assert!(page.body.contains(&format!("/admin/background_jobs/{}/retry", failed.id)));
    let hidden = app.page(Method::GET, "/admin/background_jobs", Some(&lead), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "only administrators see the queue");
    let refused =
        app.page(Method::POST, &format!("/admin/background_jobs/{}/retry", failed.id), Some(&lead), Some(&[])).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // Mended, and retried by an administrator: it runs and leaves the queue.
    std::fs::write(repository.join("config"), config).unwrap();
    let retried =
        app.page(Method::POST, &format!("/admin/background_jobs/{}/retry", failed.id), Some(&admin), Some(&[])).await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    wait_for_queue(&app, &admin_actor, |queue| queue.counts == Default::default()).await;
    assert!(repository.join("objects/info/commit-graphs").exists(), "the repository got its commit-graph");
    let again =
        app.page(Method::POST, &format!("/admin/background_jobs/{}/retry", failed.id), Some(&admin), Some(&[])).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("is not failed"), "{}", again.body);
}

#[tokio::test]
async fn a_push_report_of_a_server_gone_for_good_is_recorded_once_by_another() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let lead = app.user("lead").await;
    project_with_history(&app, &lead).await;
    let lookup = gantry_core::manage::groups::Lookup::Path("lead/site".into());
    let (project, _) = app.core.find_project(&Actor::User(admin.user.clone()), &lookup).await.unwrap();
    let scratch = app.core.repos().data_dir().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let report = |name: &str, minutes_ago: u64| {
        let file = scratch.join(format!("push-0badc0de-{}-{}-{name}", project.id, lead.user.id));
        std::fs::write(&file, format!("{} {} refs/heads/orphan-{name}\n", "0".repeat(40), "1".repeat(40))).unwrap();
        let then = std::time::SystemTime::now() - Duration::from_secs(minutes_ago * 60);
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(then).unwrap();
        file
    };
    // Another server's report from 20 minutes ago (that server died), and one from just now
    // (that server may be recording it this moment).
    let orphaned = report("aa", 20);
    let fresh = report("bb", 0);

    let age = Duration::from_secs(15 * 60);
    assert_eq!(app.core.code().record_orphaned_pushes(age).await.unwrap(), 1);
    assert!(!orphaned.exists(), "the orphaned report is recorded and removed");
    assert!(fresh.exists(), "a recent report of another server is left to it");
    let (events, _) = app
        .core
        .code()
        .list_push_events(&Actor::User(admin.user.clone()), &project, gantry_core::Page { offset: 0, limit: 50 })
        .await
        .unwrap();
    let orphans: Vec<&str> =
        events.iter().map(|e| e.ref_name.as_str()).filter(|name| name.starts_with("refs/heads/orphan")).collect();
    assert_eq!(orphans, ["refs/heads/orphan-aa"]);
    assert_eq!(events.iter().find(|e| e.ref_name == "refs/heads/orphan-aa").unwrap().user_id, Some(lead.user.id));
    assert_eq!(app.core.code().record_orphaned_pushes(age).await.unwrap(), 0, "recorded once");
}
