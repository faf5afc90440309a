//! What several servers on one PostgreSQL database need from it: a signal sent through one
//! connection reaches every listener (another server's included), and one server at a time
//! leads the periodic work, until its connection ends. On SQLite (one server) signals go
//! nowhere and the one server always leads.

use gantry_db::Db;

mod support;

#[tokio::test]
async fn signals_reach_every_listener_and_one_server_leads() {
    let (database, db) = support::database_at(i64::MAX).await;
    if db.backend() == gantry_db::Backend::Sqlite {
        assert!(db.listen().await.unwrap().is_none(), "no other server to hear");
        db.signal("ignored").await.unwrap();
        assert!(db.try_lead().await.unwrap().is_some() && db.try_lead().await.unwrap().is_some());
        return;
    }
    // Two servers' pools on one database.
    let other = Db::connect(database.url()).await.unwrap();
    let mut here = db.listen().await.unwrap().expect("a listener");
    let mut there = other.listen().await.unwrap().expect("a listener");
    db.signal("abc q").await.unwrap();
    assert_eq!(there.next().await.unwrap().as_deref(), Some("abc q"), "the other server hears it");
    assert_eq!(here.next().await.unwrap().as_deref(), Some("abc q"), "and so does the sender's listener");

    let mut leader = db.try_lead().await.unwrap().expect("nobody leads yet");
    assert!(other.try_lead().await.unwrap().is_none(), "one leader at a time");
    assert!(leader.still_held().await);
    drop(leader);
    // The lock goes with the connection; PostgreSQL notices the closed connection at once.
    let mut taken = None;
    for _ in 0..100 {
        taken = other.try_lead().await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(taken.is_some(), "another server leads once the leader is gone");
}
