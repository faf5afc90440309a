//! Upgrades: a database made at an older schema, holding data, migrated to the newest one keeps
//! its data and gets what later migrations derive from it (pipeline numbers continue from the
//! highest, never given twice). Runs on SQLite, or on a fresh
//! PostgreSQL database when `GANTRY_TEST_DATABASE_URL` names a PostgreSQL server.

use gantry_db::Db;
use gantry_db::ci::{artifacts, schedules};
use gantry_db::internal_ids::{Numbered, next_internal_id};
use gantry_db::manage::{namespaces, projects};
use gantry_types::{JobId, PipelineId, ProjectId, UserId, Visibility};

mod support;
use support::database_at;

/// A user's project with one pipeline of one job, made with the schema as it stands:
/// `(user, project, pipeline, job)`.
async fn project_with_a_job(db: &Db) -> (UserId, ProjectId, PipelineId, JobId) {
    let mut conn = db.conn().await.unwrap();
    // The account's columns of the first schema: later migrations add columns the current
    // `insert_user` fills.
    let row = sqlx::query(
        "INSERT INTO users (username, username_lower, email, email_lower, name, password_hash, is_admin, state, \
             created_at, updated_at) \
         VALUES ('ada', 'ada', 'ada@example.com', 'ada@example.com', 'Ada', 'x', 0, 'active', 0, 0) RETURNING id",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let user = UserId(sqlx::Row::try_get::<i64, _>(&row, "id").unwrap());
    let namespace = namespaces::insert_namespace(
        &mut conn,
        &namespaces::NewNamespace {
            kind: namespaces::NamespaceKind::User,
            parent_id: None,
            owner_id: Some(user),
            path: "ada",
            full_path: "ada",
            name: "Ada",
            description: "",
            visibility: Visibility::Public,
        },
    )
    .await
    .unwrap();
    let project = projects::insert_project(
        &mut conn,
        &projects::NewProject {
            namespace_id: namespace,
            path: "tests",
            full_path: "ada/tests",
            name: "tests",
            description: "",
            visibility: Visibility::Public,
            default_branch: "main",
            creator_id: user,
        },
    )
    .await
    .unwrap();
    // Written by hand: the pipeline table gains columns in later migrations than these tests
    // start at.
    let pipeline = PipelineId(
        sqlx::query_scalar(
            "INSERT INTO ci_pipelines (project_id, iid, ref_name, is_tag, sha, before_sha, source, status, user_id, \
         created_at, updated_at) VALUES ($1, 1, 'main', 0, $2, $3, 'push', 'success', $4, 0, 0) RETURNING id",
        )
        .bind(project.0)
        .bind("a".repeat(40))
        .bind("0".repeat(40))
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await
        .unwrap(),
    );
    let job = JobId(
        sqlx::query_scalar(
            "INSERT INTO ci_jobs (pipeline_id, project_id, name, stage, stage_idx, status, run_when, allow_failure, \
             definition, attempt, user_id, created_at) \
             VALUES ($1, $2, 'rspec', 'test', 0, 'created', 'on_success', 'false', '{}', 1, $3, 0) RETURNING id",
        )
        .bind(pipeline.0)
        .bind(project.0)
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await
        .unwrap(),
    );
    (user, project, pipeline, job)
}

#[tokio::test]
async fn test_reports_stored_before_the_counts_get_them_from_their_cases() {
    let (_database, db) = database_at(10).await;
    let (_, _, pipeline, job) = project_with_a_job(&db).await;
    let report = r#"{
        "suites": [
            { "name": "unit", "total_time": 1.25, "cases": [
                { "status": "success" }, { "status": "failed" }, { "status": "success" } ] },
            { "name": "slow", "total_time": 0.5, "cases": [ { "status": "skipped" }, { "status": "error" } ] }
        ],
        "errors": ["broken.xml: not XML", "empty.xml: no test suites"]
    }"#;
    let mut conn = db.conn().await.unwrap();
    sqlx::query("INSERT INTO ci_job_test_reports (job_id, report) VALUES ($1, $2)")
        .bind(job.0)
        .bind(report)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);

    db.migrate().await.unwrap();
    let mut conn = db.conn().await.unwrap();
    let counts = artifacts::pipeline_test_counts(&mut conn, pipeline).await.unwrap();
    let expected = artifacts::TestCountsRow {
        total: 5,
        success: 2,
        failed: 1,
        error: 1,
        skipped: 1,
        time_us: 1_750_000,
        suite_error: Some("broken.xml: not XML; empty.xml: no test suites".into()),
    };
    assert_eq!(counts, vec![(job, "rspec".to_owned(), expected)]);
    let reports = artifacts::pipeline_test_reports(&mut conn, pipeline).await.unwrap();
    assert_eq!(reports.len(), 1, "the report itself stays");
}

#[tokio::test]
async fn a_schedules_last_pipeline_survives_the_upgrade() {
    let (_database, db) = database_at(9).await;
    let (user, project, pipeline, _) = project_with_a_job(&db).await;
    let mut conn = db.conn().await.unwrap();
    let schedule = schedules::create_schedule(
        &mut conn,
        project,
        user,
        &schedules::ScheduleFields {
            description: "nightly",
            ref_name: "main",
            cron: "0 1 * * *",
            cron_timezone: "UTC",
            next_run_at: 0,
            active: true,
        },
    )
    .await
    .unwrap();
    // As a schedule's run was recorded before the link moved onto the pipeline alone.
    for (sql, value, id) in [
        ("UPDATE ci_pipeline_schedules SET last_pipeline_id = $1 WHERE id = $2", pipeline.0, schedule.0),
        ("UPDATE ci_pipelines SET schedule_id = $1 WHERE id = $2", schedule.0, pipeline.0),
    ] {
        sqlx::query(sql).bind(value).bind(id).execute(&mut *conn).await.unwrap();
    }
    drop(conn);

    db.migrate().await.unwrap();
    let mut conn = db.conn().await.unwrap();
    let shown = schedules::project_schedules(&mut conn, project, None).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].last_pipeline.as_ref().map(|last| last.id), Some(pipeline));
}

#[tokio::test]
async fn pipeline_numbers_continue_after_the_upgrade_and_are_never_given_twice() {
    let (_database, db) = database_at(28).await;
    let (_, project, _, _) = project_with_a_job(&db).await;
    db.migrate().await.unwrap();
    // Six transactions at once, each holding its number a moment before committing.
    let takers = (0..6).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let number = next_internal_id(&mut tx, project, Numbered::Pipelines).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            tx.commit().await.unwrap();
            number
        })
    });
    let mut numbers = Vec::new();
    for taker in takers {
        numbers.push(taker.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, [2, 3, 4, 5, 6, 7], "after pipeline #1, each its own number");
    // A number taken in a transaction rolled back is given again.
    let mut tx = db.begin().await.unwrap();
    assert_eq!(next_internal_id(&mut tx, project, Numbered::Pipelines).await.unwrap(), 8);
    drop(tx);
    let mut conn = db.conn().await.unwrap();
    assert_eq!(next_internal_id(&mut conn, project, Numbered::Pipelines).await.unwrap(), 8);
}
