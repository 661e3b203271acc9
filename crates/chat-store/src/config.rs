//! Connecting: a plain config struct and [`connect`].

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection,
    sqlx::{
        postgres::PgConnectOptions,
        sqlite::{SqliteConnectOptions, SqliteJournalMode},
    },
};

use crate::error::StoreError;

/// How to reach the database. Only the gateway reads the environment; it fills this in.
#[derive(Clone)]
pub struct StoreConfig {
    /// `postgres://user@host:5432/db`, `sqlite:///path/chat.db?mode=rwc` or `sqlite::memory:`.
    pub url: String,
    /// Largest pool size (forced to 1 for an in-memory SQLite database).
    pub max_connections: u32,
    /// Connections kept open.
    pub min_connections: u32,
    /// How long to wait for a pooled connection before giving up (`RepoError::Unavailable`).
    pub acquire_timeout: Duration,
    /// How long to wait for a new connection.
    pub connect_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock before failing.
    pub sqlite_busy_timeout: Duration,
    /// PostgreSQL only: how long a statement waits for a lock before failing
    /// (`lock_timeout`), so that a table or row locked by someone else answers `unavailable`
    /// instead of holding the request.
    pub lock_timeout: Duration,
    /// PostgreSQL only: how long a statement may run before the server cancels it
    /// (`statement_timeout`).
    pub statement_timeout: Duration,
}

impl StoreConfig {
    /// A config for `url` with the defaults: 10 connections, 5 s acquire and connect
    /// timeouts; a 1 s busy timeout (SQLite), a 1 s lock timeout and a 2 s statement timeout
    /// (PostgreSQL): with the gateway's 1.5 s acquire timeout, a request that meets an outage
    /// or a lock is answered within 3 s (protocol 4.6).
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(1),
            lock_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(2),
        }
    }

    /// Whether the URL names a SQLite database.
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    fn is_sqlite_memory(&self) -> bool {
        self.is_sqlite() && (self.url.contains(":memory:") || self.url.contains("mode=memory"))
    }
}

impl std::fmt::Debug for StoreConfig {
    // The URL may carry a password: only its scheme is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.url.split(':').next().unwrap_or_default();
        f.debug_struct("StoreConfig")
            .field("url", &format_args!("{scheme}:…"))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("sqlite_busy_timeout", &self.sqlite_busy_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// How long a pooled connection may sit idle before it is pinged on its way out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// Opens a connection pool. SQLite databases get WAL journaling and a busy timeout, so that
/// concurrent writers wait for each other (briefly) instead of failing; an in-memory SQLite
/// database is held on exactly one connection (it disappears with its last connection).
/// PostgreSQL sessions start with `lock_timeout` and `statement_timeout` set (in the startup
/// packet, so no extra round trip), so that no statement waits unboundedly on a lock or runs
/// on forever; migrations lift both on their own connection.
///
/// # Errors
/// [`StoreError::Connect`] when the database cannot be reached.
pub async fn connect(cfg: &StoreConfig) -> Result<DatabaseConnection, StoreError> {
    let mut opts = ConnectOptions::new(cfg.url.clone());
    // Never a minimum as large as the pool: when a connection is lost, sqlx's upkeep of the
    // minimum takes a free slot and retries connecting with a backoff that grows up to a
    // minute, holding the slot meanwhile. On a pool of one (the append writer) that slot is
    // the pool: after a database restart every append waited for it and timed out, seconds
    // after the database was back (measured: 4 s; tests/faults.rs, the gateway's db_faults).
    let max = cfg.max_connections.max(1);
    opts.max_connections(max)
        .min_connections(cfg.min_connections.min(max - 1))
        .acquire_timeout(cfg.acquire_timeout)
        .connect_timeout(cfg.connect_timeout)
        // sqlx pings every connection it hands out by default: a second round trip for each
        // query. Only a connection idle this long (the one a restarted server or a proxy may
        // have dropped) is pinged first.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    if cfg.is_sqlite_memory() {
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
    if !cfg.is_sqlite() {
        let lock = cfg.lock_timeout.as_millis().max(1);
        let statement = cfg.statement_timeout.as_millis().max(1);
        opts.map_sqlx_postgres_opts(move |o: PgConnectOptions| {
            o.options([("lock_timeout", lock), ("statement_timeout", statement)])
        });
    }
    if cfg.is_sqlite() {
        let busy = cfg.sqlite_busy_timeout;
        let wal = !cfg.is_sqlite_memory();
        opts.map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
            let o = o.busy_timeout(busy).foreign_keys(true);
            if wal {
                o.journal_mode(SqliteJournalMode::Wal)
            } else {
                o
            }
        });
    }
    Database::connect(opts).await.map_err(StoreError::Connect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_url_credentials() {
        let cfg = StoreConfig::new("postgres://chat:s3cret@db:5432/chat");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres:"));
    }

    #[test]
    fn in_memory_sqlite_urls_are_recognised() {
        for (url, memory) in [
            ("sqlite::memory:", true),
            ("sqlite://file.db?mode=memory", true),
            ("sqlite:///tmp/chat.db?mode=rwc", false),
            ("postgres://h/memory", false),
        ] {
            assert_eq!(StoreConfig::new(url).is_sqlite_memory(), memory, "{url}");
        }
    }
}
