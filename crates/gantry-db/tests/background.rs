//! The background job queue's promises, on SQLite and PostgreSQL: two workers never hold one
//! job, a dead worker's job is taken again once its lease ran out (or at once by its own
//! restart), failures wait for their retry and end as failed, and queued jobs with one key are
//! one job.

use gantry_db::background::{self, NewBackgroundJob, QueueCounts};
use gantry_db::{Db, now_millis};
use gantry_types::BackgroundStatus;

mod support;

const FAR: i64 = i64::MAX / 2;

async fn queue(db: &Db, payload: &str, dedupe_key: Option<&str>, run_at: i64) {
    let mut conn = db.conn().await.unwrap();
    let job = NewBackgroundJob { kind: "test", payload, dedupe_key, max_attempts: 2, run_at };
    background::enqueue(&mut conn, &job).await.unwrap();
}

async fn claim(db: &Db, worker: &str, lease_until: i64) -> Option<background::ClaimedJob> {
    let mut conn = db.conn().await.unwrap();
    background::claim_next(&mut conn, db.backend(), worker, lease_until).await.unwrap()
}

async fn counts(db: &Db) -> QueueCounts {
    background::counts(&mut db.conn().await.unwrap()).await.unwrap()
}

#[tokio::test]
async fn concurrent_workers_take_different_jobs() {
    let (_database, db) = support::database_at(i64::MAX).await;
    for n in 0..6 {
        queue(&db, &format!("{{\"n\":{n}}}"), None, 0).await;
    }
    let claims = (0..6).map(|n| {
        let db = db.clone();
        tokio::spawn(async move { claim(&db, &format!("worker {n}"), FAR).await.map(|job| job.id) })
    });
    let mut taken = Vec::new();
    for claim in claims {
        taken.extend(claim.await.unwrap());
    }
    taken.sort_unstable();
    taken.dedup();
    assert_eq!(taken.len(), 6, "each worker took its own job: {taken:?}");
    assert_eq!(claim(&db, "late", FAR).await, None);
    assert_eq!(counts(&db).await, QueueCounts { running: 6, ..QueueCounts::default() });
}

#[tokio::test]
async fn a_job_whose_lease_ran_out_is_taken_again_and_only_its_holder_ends_it() {
    let (_database, db) = support::database_at(i64::MAX).await;
    queue(&db, "{}", None, 0).await;
    let first = claim(&db, "host-a #1", now_millis() - 1).await.unwrap();
    assert_eq!(first.attempt, 1);
    let second = claim(&db, "host-b #2", FAR).await.unwrap();
    assert_eq!((second.id, second.attempt), (first.id, 2), "the lapsed job is taken again");
    let mut conn = db.conn().await.unwrap();
    assert!(!background::renew(&mut conn, first.id, "host-a #1", FAR).await.unwrap(), "no longer host-a's");
    background::complete(&mut conn, first.id, "host-a #1").await.unwrap();
    assert_eq!(counts(&db).await.running, 1, "the old holder cannot end it");
    background::complete(&mut conn, first.id, "host-b #2").await.unwrap();
    assert_eq!(counts(&db).await, QueueCounts::default());
}

#[tokio::test]
async fn a_restarted_worker_hands_back_what_it_held_at_once() {
    let (_database, db) = support::database_at(i64::MAX).await;
    queue(&db, "{}", None, 0).await;
    let held = claim(&db, "host-a 127.0.0.1:3000 #41", FAR).await.unwrap();
    assert_eq!(claim(&db, "host-b #7", FAR).await, None);
    let mut conn = db.conn().await.unwrap();
    assert_eq!(background::release_held_by(&mut conn, "host-a 127.0.0.1:30 #").await.unwrap(), 0);
    assert_eq!(background::release_held_by(&mut conn, "host-a 127.0.0.1:3000 #").await.unwrap(), 1);
    assert_eq!(claim(&db, "host-a 127.0.0.1:3000 #42", FAR).await.map(|job| job.id), Some(held.id));
}

#[tokio::test]
async fn failures_wait_for_their_retry_then_end_failed_until_retried_or_discarded() {
    let (_database, db) = support::database_at(i64::MAX).await;
    queue(&db, "{}", None, 0).await;
    let job = claim(&db, "w", FAR).await.unwrap();
    let mut conn = db.conn().await.unwrap();
    background::fail(&mut conn, job.id, "w", "disk full", Some(now_millis() + 500)).await.unwrap();
    assert_eq!(claim(&db, "w", FAR).await, None, "not before its retry time");
    assert_eq!(counts(&db).await, QueueCounts { scheduled: 1, ..QueueCounts::default() });
    // Taken again once its time has come.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let again = loop {
        if let Some(job) = claim(&db, "w", FAR).await {
            break job;
        }
        assert!(std::time::Instant::now() < deadline, "the job never came due");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(again.attempt, 2);
    background::fail(&mut conn, job.id, "w", "disk still full", None).await.unwrap();
    let failed = background::list(&mut conn, BackgroundStatus::Failed, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].attempts, failed[0].last_error.as_deref()), (2, Some("disk still full")));
    assert_eq!(claim(&db, "w", FAR).await, None, "a failed job stays failed");

    assert!(background::retry_failed(&mut conn, job.id).await.unwrap());
    assert!(!background::retry_failed(&mut conn, job.id).await.unwrap(), "it is queued, not failed");
    let retried = claim(&db, "w", FAR).await.unwrap();
    assert_eq!(retried.attempt, 1, "a retried job has its attempts again");
    background::fail(&mut conn, job.id, "w", "no", None).await.unwrap();
    assert!(background::discard_failed(&mut conn, job.id).await.unwrap());
    assert_eq!(counts(&db).await, QueueCounts::default());
}

#[tokio::test]
async fn queued_jobs_with_one_key_are_one_job() {
    let (_database, db) = support::database_at(i64::MAX).await;
    queue(&db, "{\"v\":1}", Some("maintain:1"), FAR).await;
    queue(&db, "{\"v\":2}", Some("maintain:1"), 0).await;
    queue(&db, "{}", Some("maintain:2"), 0).await;
    assert_eq!(counts(&db).await, QueueCounts { ready: 2, ..QueueCounts::default() });
    let first = claim(&db, "w", FAR).await.unwrap();
    assert_eq!(first.payload, "{\"v\":2}", "the later queuing's payload and time win");
    // While it runs, the same key queues a new run (changes made meanwhile need one).
    queue(&db, "{\"v\":3}", Some("maintain:1"), 0).await;
    assert_eq!(counts(&db).await, QueueCounts { ready: 2, running: 1, ..QueueCounts::default() });
}
