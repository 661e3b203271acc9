//! Redis adapters (fred 10) of the domain's session, presence and rate-limit ports, for running
//! several gateway nodes against one Redis: every node sees the same sessions, the same
//! aggregate presence and the same rate-limit counts. Redis is never the source of truth for
//! messages.
//!
//! # Layout
//! - [`config`]: [`RedisConfig`] and [`connect`], which builds the one [`Pool`] (RESP3,
//!   reconnecting forever with backoff, connection and command timeouts).
//! - [`keys`]: every key, prefixed, with the user id as the cluster hash tag.
//! - [`session`]: [`RedisSessionStore`] — sessions with a TTL, a socket set per user, resume
//!   points taken with `GETDEL`.
//! - [`presence`]: [`RedisPresenceStore`] — per-connection statuses with leases, changed and
//!   aggregated by one Lua script (`scripts/presence_*.lua`).
//! - [`rate_limit`]: [`RedisRateLimiter`] — the sliding-window log as one Lua script
//!   (`scripts/rate_limit.lua`).
//! - [`rooms`]: [`rooms_adapter`], socketioxide's Redis adapter (over [`RoomsDriver`], its
//!   fred driver reporting what it drops), which makes Socket.IO rooms span every node, and the
//!   watch of [`RoomsGaps`] (when this node may have missed room emits).
//! - [`error`]: [`RedisStoreError`] for connecting; fred errors become
//!   `RepoError::Unavailable` (connection, timeout) or `RepoError::Internal`.
//!
//! Every operation is one round trip except where noted on the adapter (a session insert that
//! moves a socket between users, a session delete, a listing with lapsed sockets).

pub mod config;
pub mod error;
pub mod keys;
pub mod presence;
pub mod rate_limit;
pub mod rooms;
pub mod session;

use chat_domain::error::RepoError;
use fred::{clients::Pipeline, prelude::Client, types::Value};

pub use fred::prelude::Pool;

pub use crate::{
    config::{RedisConfig, connect},
    error::RedisStoreError,
    keys::Keys,
    presence::RedisPresenceStore,
    rate_limit::RedisRateLimiter,
    rooms::{RoomsAdapter, RoomsDriver, RoomsDriverError, RoomsGap, RoomsGaps, rooms_adapter},
    session::RedisSessionStore,
};

/// Whether Redis answers a `PING` (the readiness check).
pub async fn ping(pool: &Pool) -> bool {
    use fred::prelude::ClientLike as _;
    pool.ping::<()>(None).await.is_ok()
}

/// Sends a pipeline and returns each command's reply, failing on the first failed command.
pub(crate) async fn pipeline_results(p: &Pipeline<Client>) -> Result<Vec<Value>, RepoError> {
    p.try_all::<Value>()
        .await
        .into_iter()
        .map(|r| r.map_err(error::repo_error))
        .collect()
}
