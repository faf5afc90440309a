//! What lets several servers share one PostgreSQL database: signals between them (`NOTIFY` on
//! one channel, heard by every server's listener) and the leadership of periodic work (a
//! session advisory lock, held by one server's connection and released by PostgreSQL when that
//! server dies). On SQLite there is one server: signals go nowhere and it always leads.

use sqlx::Connection;
use sqlx::postgres::PgListener;

use crate::{Backend, Db, DbResult};

/// The channel every server listens on.
const CHANNEL: &str = "gantry_signals";

/// PostgreSQL refuses `NOTIFY` payloads of 8000 bytes or more; signals are far shorter.
const MAX_SIGNAL: usize = 7999;

/// The advisory lock key of the periodic work's leader (distinct from the migration lock's).
const LEADER_LOCK: i64 = 7_345_022;

impl Db {
    /// Tells every server listening on this database (itself included) `signal`; nothing on
    /// SQLite.
    pub async fn signal(&self, signal: &str) -> DbResult<()> {
        if self.backend() == Backend::Sqlite || signal.len() > MAX_SIGNAL {
            return Ok(());
        }
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(signal).execute(self.pool()).await?;
        Ok(())
    }

    /// A listener for the signals of every server; `None` on SQLite, where there are none.
    pub async fn listen(&self) -> DbResult<Option<SignalListener>> {
        if self.backend() == Backend::Sqlite {
            return Ok(None);
        }
        let mut listener = PgListener::connect(self.url()).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(SignalListener(listener)))
    }

    /// Becomes the leader of periodic work if no other server is: `None` while another one
    /// is. On SQLite, always the leader.
    pub async fn try_lead(&self) -> DbResult<Option<Leadership>> {
        if self.backend() == Backend::Sqlite {
            return Ok(Some(Leadership(None)));
        }
        // A connection of its own, out of the pool: the lock lives as long as it does.
        let mut conn = sqlx::postgres::PgConnection::connect(self.url()).await?;
        let (locked,): (bool,) =
            sqlx::query_as("SELECT pg_try_advisory_lock($1)").bind(LEADER_LOCK).fetch_one(&mut conn).await?;
        Ok(locked.then_some(Leadership(Some(conn))))
    }
}

/// Signals from every server, as they arrive.
#[derive(Debug)]
pub struct SignalListener(PgListener);

impl SignalListener {
    /// The next signal; `None` when the connection was lost (and is being made again), so
    /// signals sent meanwhile may be missed.
    pub async fn next(&mut self) -> DbResult<Option<String>> {
        Ok(self.0.try_recv().await?.map(|notification| notification.payload().to_owned()))
    }
}

/// The leadership of periodic work, held until dropped or until its connection is lost.
#[derive(Debug)]
pub struct Leadership(Option<sqlx::postgres::PgConnection>);

impl Leadership {
    /// Whether this server still leads (its connection, and so its lock, is alive).
    pub async fn still_held(&mut self) -> bool {
        match &mut self.0 {
            None => true,
            Some(conn) => conn.ping().await.is_ok(),
        }
    }
}
