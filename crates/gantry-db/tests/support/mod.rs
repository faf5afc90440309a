//! A fresh database per test: SQLite in a temporary directory, or a new database on the
//! PostgreSQL server `GANTRY_TEST_DATABASE_URL` names.

use gantry_db::Db;

/// A fresh, empty database; the directory (SQLite) or the database name (PostgreSQL) to drop.
pub struct FreshDatabase {
    url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl FreshDatabase {
    /// Its URL, for a second pool on it (as another server would have).
    #[allow(dead_code)] // used by some of the test files that share this module
    pub fn url(&self) -> &str {
        &self.url
    }

    fn new() -> FreshDatabase {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("GANTRY_TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let name = format!("gantry_dbtest_{}_{}", std::process::id(), unique());
                psql(&base, &format!("CREATE DATABASE {name}"));
                let (prefix, _) = base.rsplit_once('/').expect("postgres URL with a database");
                FreshDatabase { url: format!("{prefix}/{name}"), _dir: dir, postgres: Some((base, name)) }
            }
            _ => FreshDatabase {
                url: format!("sqlite://{}", dir.path().join("gantry.db").display()),
                _dir: dir,
                postgres: None,
            },
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.postgres {
            psql(base, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A fresh database with the migrations up to `version` applied.
pub async fn database_at(version: i64) -> (FreshDatabase, Db) {
    let database = FreshDatabase::new();
    let db = Db::connect(&database.url).await.unwrap();
    db.migrate_to(version).await.unwrap();
    (database, db)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .expect("psql is installed (scripts/test installs it)");
    assert!(status.success(), "psql failed: {sql}");
}
