//! The Socket.IO inbound adapter (socketioxide): the connect middleware that authenticates and
//! joins the rooms of the contract's section 3, one thin handler per event of sections 4 and 5,
//! and [`SocketIoEventPublisher`], the domain's `EventPublisher` over the `SocketIo` handle.
//! [`mount`] puts it on an axum router with rooms in this process ([`Rooms::Local`]) or in
//! Redis ([`Rooms::Redis`], every node); [`SocketServer`] closes it and keeps this node's
//! presence leases.
//!
//! # Layout
//! - `names`: room names, spelled once (event names and payloads are `chat-protocol`'s).
//! - `connect`: middleware, connect/disconnect handlers.
//! - `events`: every client event but `message:send`, registered through one helper.
//! - `send`: the per-socket send queue (order, `clientSequence` reordering).
//! - `reply`: payload extraction and the one way an event is answered.
//! - `timers`, `expiry`: what falls due (token lapses, typing clears), done by one task.
//! - `server`: the running server with its rooms adapter erased; `publisher` over it.
//! - `user`, `state`, `drain`: what each socket carries, what handlers share, the send count.
//! - `handshake`: the handshake request copied out of hyper's read buffer; `metrics`.
//!
//! Module dependencies point one way: `names`, `metrics`, `drain`, `timers`, `reply` →
//! `user`, `state` → `send`, `expiry`, `server` → `events`, `publisher` → `connect` → `lib`.

mod connect;
mod drain;
mod events;
mod expiry;
mod handshake;
mod metrics;
pub mod names;
mod publisher;
mod reply;
mod revocation;
mod send;
mod server;
mod state;
mod timers;
mod user;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};

use chat_domain::UserId;
use chat_protocol::payload::SyncHint;
use futures::StreamExt as _;
use socketioxide::{
    ParserConfig, SocketIo, SocketIoBuilder,
    adapter::{Adapter, Emitter, LocalAdapter},
    handler::ConnectHandler,
};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterCtr, drivers::Driver};

use crate::server::Server;
pub use crate::{
    publisher::SocketIoEventPublisher,
    reply::{FailureFrames, render_failure},
    state::SocketState,
};

/// Transport settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketConfig {
    /// Largest WebSocket message (and long-polling payload) accepted; larger closes that
    /// connection (`CHAT_MAX_WS_MESSAGE_BYTES`).
    pub max_message_bytes: usize,
    /// Engine.IO ping interval.
    pub ping_interval: Duration,
    /// Engine.IO ping timeout.
    pub ping_timeout: Duration,
}

impl Default for SocketConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 65_536,
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
        }
    }
}

/// Packets queued for one socket before more are dropped for it.
const SEND_BUFFER_PACKETS: usize = 1_024;

/// Each socket's WebSocket read buffer: chat events are a few hundred bytes.
const WS_READ_BUFFER_BYTES: usize = 1_024;

/// Where Socket.IO rooms live; `D` is the Redis adapter's driver.
pub enum Rooms<D: Driver> {
    /// In this process: one node.
    Local,
    /// In Redis (socketioxide's Redis adapter): room emits, joins and leaves reach every node
    /// sharing it.
    Redis(RedisAdapterCtr<D>),
}

impl<D: Driver> std::fmt::Debug for Rooms<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Local => "Local",
            Self::Redis(_) => "Redis",
        })
    }
}

/// The Redis adapter as socketioxide names it.
type RedisRooms<D> = CustomRedisAdapter<Emitter, D>;

/// The running Socket.IO server, whichever the rooms: what the app needs after wiring.
#[derive(Clone)]
pub struct SocketServer {
    server: Arc<dyn Server>,
    state: SocketState,
    /// The task that does what falls due (token lapses, typing clears).
    expiry: tokio::task::AbortHandle,
}

impl std::fmt::Debug for SocketServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketServer").finish_non_exhaustive()
    }
}

/// Mounting the Socket.IO server failed.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// The Redis adapter could not subscribe to its channels.
    #[error("the redis rooms adapter failed to start: {0}")]
    Rooms(String),
}

fn builder(config: SocketConfig, state: SocketState) -> SocketIoBuilder {
    SocketIo::builder()
        .max_payload(u64::try_from(config.max_message_bytes).unwrap_or(u64::MAX))
        .ws_max_message_size(config.max_message_bytes)
        // The frame limit too: tungstenite reads a whole frame before the message limit applies.
        .ws_max_frame_size(config.max_message_bytes)
        // Allocated up front for every socket (default 4 KiB); a larger frame grows it as needed.
        .ws_read_buffer_size(WS_READ_BUFFER_BYTES)
        .with_parser(ParserConfig::common().max_incoming_binary_buf_size(config.max_message_bytes))
        .ping_interval(config.ping_interval)
        .ping_timeout(config.ping_timeout)
        // Packets queued per socket before more are dropped for it (default 128): a burst
        // into a busy conversation must not drop `message:received` for a slow reader.
        .max_buffer_size(SEND_BUFFER_PACKETS)
        .with_state(state)
}

/// Starts the expiry task of `io`, whose namespace is registered; from here on the adapter is
/// erased.
fn start<A: Adapter>(
    io: SocketIo<A>,
    state: &SocketState,
) -> (Arc<dyn Server>, tokio::task::AbortHandle) {
    let expiry = expiry::spawn_watcher(io.clone(), state.clone()).abort_handle();
    (Arc::new(io), expiry)
}

/// Mounts the Socket.IO server on `router` (path `/socket.io/`), with the handlers on the `/`
/// namespace, and attaches `publisher` to it.
///
/// # Errors
/// [`MountError`] when the Redis adapter cannot start.
pub async fn mount<D: Driver>(
    router: axum::Router,
    config: SocketConfig,
    state: SocketState,
    rooms: Rooms<D>,
    publisher: &SocketIoEventPublisher,
) -> Result<(axum::Router, SocketServer), MountError> {
    let built = builder(config, state.clone());
    let (router, (server, expiry)) = match rooms {
        Rooms::Local => {
            let (layer, io) = built.build_layer();
            let handlers = connect::on_connect::<LocalAdapter>;
            io.ns(names::NAMESPACE, handlers.with(connect::authenticate));
            (router.layer(layer), start(io, &state))
        }
        Rooms::Redis(adapter) => {
            let (layer, io) = built.with_adapter::<RedisRooms<D>>(adapter).build_layer();
            // With a remote adapter the namespace exists once its channels are subscribed.
            let handlers = connect::on_connect::<RedisRooms<D>>;
            io.ns(names::NAMESPACE, handlers.with(connect::authenticate))
                .await
                .map_err(|e| MountError::Rooms(e.to_string()))?;
            (router.layer(layer), start(io, &state))
        }
    };
    // Outside socketioxide's layer: it sees the request with its own copies of the URI and headers.
    let router = router.layer(axum::middleware::map_request(
        handshake::detach_from_read_buffer,
    ));
    publisher.attach(server.clone());
    Ok((
        router,
        SocketServer {
            server,
            state,
            expiry,
        },
    ))
}

impl SocketServer {
    /// Closes every socket of this node (their disconnect handlers run).
    pub async fn close(&self) {
        self.server.close().await;
        self.expiry.abort();
    }

    /// Keeps this node's connections counted in a presence store shared by several nodes:
    /// every `every`, renews the lease of each local socket, then sweeps the connections of
    /// crashed nodes (announcing who went offline). Runs until the task is aborted.
    #[must_use]
    pub fn keep_presence(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let server = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let _ = server.renew_and_sweep().await;
            }
        })
    }

    /// Re-asserts this node's connections in the presence store at once (not at the next
    /// renewal): after the store came back (a Redis restart loses every lease), contacts see
    /// this node's users online again within moments. Retries for a few seconds while the
    /// store still fails. Returns whether a pass succeeded.
    pub async fn reassert_presence(&self) -> bool {
        for attempt in 0..PRESENCE_REASSERT_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(PRESENCE_REASSERT_RETRY).await;
            }
            if self.renew_and_sweep().await {
                return true;
            }
        }
        false
    }

    /// Emits `sync:hint` (contract 4.6) to every registered socket of this node: the newest
    /// sequence of each of its user's conversations, read now. Called when this node may have
    /// missed room emits from the other nodes (its Redis subscription came back, its inbound
    /// queue overflowed, it stalled); a client behind fetches the rest by history. Returns how
    /// many sockets got it.
    pub async fn resync(&self) -> usize {
        let users: BTreeSet<UserId> = self
            .server
            .connections()
            .into_iter()
            .map(|(user, _, _)| user)
            .collect();
        let conversations = &self.state.services.conversations;
        let reads = futures::stream::iter(users)
            .map(|user| async move { (user, conversations.heads(user).await) })
            .buffer_unordered(RENEWALS_IN_FLIGHT);
        let results: Vec<_> = reads.collect().await;
        let mut hints = BTreeMap::new();
        let mut failed = 0_usize;
        for (user, heads) in results {
            match heads {
                Ok(heads) => {
                    hints.insert(user, SyncHint::new(&heads));
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(user.id = %user, %error, "reading heads for sync:hint failed");
                }
            }
        }
        let sent = self.server.hint(&hints);
        tracing::info!(
            sockets = sent,
            users = hints.len(),
            failed,
            "sync:hint sent"
        );
        sent
    }

    /// Watches this process for stalls (it was paused, or starved of CPU) longer than `limit`:
    /// while stalled it read nothing from Redis, so what arrives in one burst afterwards may
    /// have overflowed, and its sockets get `sync:hint` ([`Self::resync`]). Runs until aborted.
    #[must_use]
    pub fn watch_stalls(&self, limit: Duration) -> tokio::task::JoinHandle<()> {
        let server = self.clone();
        tokio::spawn(async move {
            let every = (limit / 4).max(Duration::from_millis(50));
            let mut last = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                let now = Instant::now();
                let gap = now.duration_since(last);
                last = now;
                if gap > limit + every {
                    tracing::warn!(
                        stalled_ms = u64::try_from(gap.as_millis()).unwrap_or(u64::MAX),
                        "this node stalled: its sockets get sync:hint"
                    );
                    // Let the burst that waited in the socket drain first.
                    tokio::time::sleep(STALL_SETTLE).await;
                    server.resync().await;
                    last = Instant::now();
                }
            }
        })
    }

    /// One renewal pass then a sweep; whether every step succeeded.
    async fn renew_and_sweep(&self) -> bool {
        let presence = &self.state.services.presence;
        let connections = self.server.connections();
        let total = connections.len();
        // Many at a time: one node may hold tens of thousands of sockets, and each renewal is a
        // round trip; one pass must end well within a third of the lease.
        let (mut failed, mut first_error) = (0_usize, None);
        let mut pending = connections.into_iter();
        loop {
            let batch: Vec<_> = pending.by_ref().take(RENEWALS_IN_FLIGHT).collect();
            if batch.is_empty() {
                break;
            }
            let renewals = batch
                .into_iter()
                .map(|(user, socket, live)| presence.renew(user, socket, live));
            for result in futures::future::join_all(renewals).await {
                if let Err(error) = result {
                    failed += 1;
                    first_error.get_or_insert_with(|| error.to_string());
                }
            }
        }
        let mut ok = true;
        if let Some(error) = first_error {
            ok = false;
            tracing::warn!(failed, of = total, %error, "renewing presence leases failed");
        }
        if let Err(error) = presence.sweep().await {
            ok = false;
            tracing::warn!(error = %error, "sweeping lapsed presence failed");
        }
        ok
    }
}

/// Presence renewals (and `sync:hint` head reads) in flight at once.
const RENEWALS_IN_FLIGHT: usize = 64;

/// Passes [`SocketServer::reassert_presence`] tries, and the pause between two.
const PRESENCE_REASSERT_ATTEMPTS: u32 = 20;
const PRESENCE_REASSERT_RETRY: Duration = Duration::from_millis(250);

/// How long after a stall the hint waits for the backlog to drain.
const STALL_SETTLE: Duration = Duration::from_millis(300);
