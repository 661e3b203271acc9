//! In-process adapters for a single node (no `CHAT_REDIS_URL`): live sessions and resume points,
//! presence, rate limits, plus the real clock and id generator.
//!
//! Every store keeps its state behind `std::sync::Mutex`es that are never held across an
//! `await` (the port methods do not await at all), so the futures they return finish at once.
//!
//! # Layout
//! - [`MemorySessionStore`]: sockets by id and by user; resume points with a TTL.
//! - [`MemoryPresenceStore`]: per-connection statuses, aggregated per user, sharded by user.
//! - [`MemoryRateLimiter`]: a sliding-window log per key, sharded by key.
//! - [`SystemClock`], [`UuidV7Ids`]: real time and time-ordered ids.
//! - `shards`: the sharded map the presence store and the rate limiter share.

mod presence;
mod rate_limit;
mod session;
mod shards;
mod system;

pub use crate::{
    presence::MemoryPresenceStore,
    rate_limit::MemoryRateLimiter,
    session::MemorySessionStore,
    system::{SystemClock, UuidV7Ids},
};
