//! How to reach Redis, and the one place a [`Pool`] is built.

use std::time::Duration;

use fred::{
    prelude::{Builder, ClientLike, Config, Pool, ReconnectPolicy},
    types::RespVersion,
};

use crate::error::RedisStoreError;

/// Where Redis is and how the adapters use it. Plain data; `chat-gateway` fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:pass@]host:port[/db]` (or `rediss://`, `redis-cluster://`, `redis-sentinel://`).
    pub url: String,
    /// Connections in the pool (at least 1).
    pub pool_size: usize,
    /// Prefix of every key, without the trailing colon (`chat`); lets deployments share a server.
    pub key_prefix: String,
    /// Longest wait for a connection to be established.
    pub connect_timeout: Duration,
    /// Longest wait for one command's reply before it fails as unavailable.
    pub command_timeout: Duration,
    /// Longest delay between two reconnection attempts (they back off exponentially up to it).
    pub max_reconnect_delay: Duration,
    /// How long a live socket's session is kept without being deleted (a crashed node's lapse).
    pub session_ttl: Duration,
    /// How long a connection's presence counts without a renewal (see
    /// [`RedisPresenceStore::renew`](crate::RedisPresenceStore::renew)).
    pub presence_lease: Duration,
}

impl RedisConfig {
    /// The defaults for `url`: 4 connections, prefix `chat`, 3 s to connect, 2 s per command,
    /// reconnects backing off to 5 s, 30 min sessions, 60 s presence leases.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 4,
            key_prefix: "chat".to_owned(),
            connect_timeout: Duration::from_secs(3),
            command_timeout: Duration::from_secs(2),
            max_reconnect_delay: Duration::from_secs(5),
            session_ttl: Duration::from_secs(30 * 60),
            presence_lease: Duration::from_secs(60),
        }
    }
}

/// Connects a pool over RESP3 that reconnects forever with exponential backoff. Fails when
/// Redis cannot be reached now (fail fast at start-up); later outages surface per command as
/// `RepoError::Unavailable` while the pool reconnects in the background.
///
/// # Errors
/// [`RedisStoreError::Config`] for a bad URL or pool size, [`RedisStoreError::Connect`] when the
/// server is unreachable or refuses the connection.
pub async fn connect(config: &RedisConfig) -> Result<Pool, RedisStoreError> {
    if config.pool_size == 0 {
        return Err(RedisStoreError::Config(
            "pool_size must be at least 1".into(),
        ));
    }
    let command_timeout = config.command_timeout;
    let pool = builder(config)?
        .with_connection_config(|c| c.internal_command_timeout = command_timeout)
        .with_performance_config(|p| p.default_command_timeout = command_timeout)
        .build_pool(config.pool_size)
        .map_err(|e| RedisStoreError::Config(e.to_string()))?;
    pool.init().await.map_err(RedisStoreError::Connect)?;
    tracing::info!(pool.size = config.pool_size, "connected to redis");
    Ok(pool)
}

/// A fred builder for `config`: RESP3, failing fast at start, the connect timeout, and
/// reconnecting forever (100 ms doubling up to `max_reconnect_delay`). The pool and the rooms
/// adapter's subscriber are both built from it.
pub(crate) fn builder(config: &RedisConfig) -> Result<Builder, RedisStoreError> {
    let mut fred_config =
        Config::from_url(&config.url).map_err(|e| RedisStoreError::Config(e.to_string()))?;
    fred_config.version = RespVersion::RESP3;
    fred_config.fail_fast = true;
    let max_delay = u32::try_from(config.max_reconnect_delay.as_millis()).unwrap_or(u32::MAX);
    let connect_timeout = config.connect_timeout;
    let mut builder = Builder::from_config(fred_config);
    builder
        .with_connection_config(|c| c.connection_timeout = connect_timeout)
        // 0 attempts = retry forever.
        .set_policy(ReconnectPolicy::new_exponential(
            0,
            100,
            max_delay.max(100),
            2,
        ));
    Ok(builder)
}

/// Milliseconds of `d`, saturating, at least 1 (Redis refuses a zero expiry).
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pool_of_zero_connections_is_refused() {
        let config = RedisConfig {
            pool_size: 0,
            ..RedisConfig::new("redis://127.0.0.1:1")
        };
        assert!(matches!(
            connect(&config).await,
            Err(RedisStoreError::Config(_))
        ));
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_at_start() {
        let config = RedisConfig {
            connect_timeout: Duration::from_millis(200),
            ..RedisConfig::new("redis://127.0.0.1:1")
        };
        assert!(matches!(
            connect(&config).await,
            Err(RedisStoreError::Connect(_))
        ));
    }

    #[test]
    fn durations_become_positive_millis() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
    }
}
