//! The connection pool over SQLite or PostgreSQL, chosen by the URL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions};

use crate::{DbError, DbResult};

/// A connection taken from the pool or a transaction; every query function takes one.
pub type Conn = sqlx::AnyConnection;
/// A transaction; `&mut *tx` is a [`Conn`].
pub type Tx = sqlx::Transaction<'static, Any>;

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database: a pool plus the knowledge of which backend it talks to.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The URL, for the connections that live outside the pool (PostgreSQL's listener).
    url: std::sync::Arc<str>,
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` creates the file; `postgres://…`), without migrating.
    pub async fn connect(url: &str) -> DbResult<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
                let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
                AnyPoolOptions::new()
                    .max_connections(8)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    // A connection to a local file does not go stale: no ping before each use
                    // (a round trip to the connection's thread, on every query).
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; the busy timeout makes a
                            // second process (an admin command) wait instead of failing. (No
                            // `PRAGMA optimize` here: run on a new database it records statistics
                            // of empty tables, and the planner then chose scans over indexes,
                            // which made writing 100,000 comments in one go seven times slower.)
                            sqlx::raw_sql(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                            )
                            .execute(conn)
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
                AnyPoolOptions::new()
                    .max_connections(16)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // Prepared statements are planned for their values each time: the
                            // listings' optional filters (`$n IS NULL OR …`) then fold away and
                            // a rare word and a common one get the plans they need, where a
                            // generic plan, chosen after five runs, fits neither.
                            sqlx::raw_sql("SET plan_cache_mode = force_custom_plan").execute(conn).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Db { pool, backend, url: url.into() })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str) -> DbResult<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reads (or single-statement writes).
    pub async fn conn(&self) -> DbResult<sqlx::pool::PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`) so that two writers queue on the busy timeout instead of deadlocking.
    pub async fn begin(&self) -> DbResult<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        tx.map_err(DbError::classify)
    }

    /// Answers whether the database can run a query now (the readiness check).
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection (at shutdown, so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}
