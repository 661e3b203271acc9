//! Socket.IO rooms across nodes: the constructor of socketioxide's Redis adapter, built from the
//! same [`RedisConfig`] as the pool. The adapter carries room emits, joins and leaves to every
//! node over sharded pub/sub (Redis ≥ 7.0, RESP3).
//!
//! The driver under it ([`RoomsDriver`]) is socketioxide-redis's fred driver with one
//! difference: it says when this node may have missed room emits from the other nodes
//! ([`RoomsGaps`]): its subscription came back after a reconnect (what was published meanwhile
//! reached nobody here), or a message was dropped because the adapter's queue was full or the
//! client's broadcast channel lagged (a burst after the process was paused). socketioxide-redis
//! only logs those; the gateway answers them with `sync:hint` (contract 4.6).

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use fred::{
    clients::SubscriberClient,
    interfaces::{ClientLike as _, EventInterface as _, PubsubInterface as _},
    types::Message,
};
use socketioxide_redis::{
    RedisAdapterConfig, RedisAdapterCtr,
    drivers::{ChanItem, Driver, MessageStream},
};
use tokio::sync::{broadcast, mpsc, watch};

use crate::{
    config::{RedisConfig, builder},
    error::RedisStoreError,
};

/// Pub/sub messages a node can fall behind by before any is dropped: fred's broadcast channel,
/// and the adapter's queue behind it (socketioxide-redis's default is 1,024; a node paused for
/// a few seconds under load gets more than that in one burst).
const SUBSCRIBER_BUFFER: usize = 65_536;

/// The adapter constructor socketioxide builds each namespace's adapter from.
pub type RoomsAdapter = RedisAdapterCtr<RoomsDriver>;

/// Why this node may have missed room emits from the other nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomsGap {
    /// None yet (the initial value).
    None,
    /// The subscription came back after the connection to Redis was lost.
    Resubscribed,
    /// A message was dropped: the adapter's queue was full, or fred's channel lagged.
    Overflow,
}

/// Watches for [`RoomsGap`]s: `changed()` wakes on each (several close together may be seen
/// as one, the last).
pub type RoomsGaps = watch::Receiver<RoomsGap>;

type Handlers = HashMap<String, mpsc::Sender<ChanItem>>;

/// socketioxide-redis's fred driver (`drivers/fred.rs`, MIT), copied to report what it drops
/// ([`RoomsGap::Overflow`]) instead of only logging it; nothing else differs.
#[derive(Clone)]
pub struct RoomsDriver {
    handlers: Arc<RwLock<Handlers>>,
    conn: SubscriberClient,
}

impl std::fmt::Debug for RoomsDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomsDriver").finish_non_exhaustive()
    }
}

/// The driver's error: fred's.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct RoomsDriverError(#[from] fred::error::Error);

/// Pipes the client's pub/sub messages to the adapter's per-channel queues.
async fn pipe(
    mut rx: broadcast::Receiver<Message>,
    handlers: Arc<RwLock<Handlers>>,
    gaps: watch::Sender<RoomsGap>,
) {
    loop {
        match rx.recv().await {
            Ok(msg) => {
                let chan = msg.channel.to_string();
                let Some(data) = msg.value.into_owned_bytes() else {
                    continue;
                };
                let sender = handlers
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&chan)
                    .cloned();
                match sender {
                    Some(tx) => {
                        if let Err(error) = tx.try_send((chan, data)) {
                            tracing::warn!(%error, "a rooms message was dropped: this node's sockets get sync:hint");
                            gaps.send_replace(RoomsGap::Overflow);
                        }
                    }
                    None => tracing::debug!(chan, "no handler for a rooms channel"),
                }
            }
            // The client is gone (it never closes while it reconnects).
            Err(broadcast::error::RecvError::Closed) => return,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    dropped = n,
                    "rooms messages were dropped (lagged): this node's sockets get sync:hint"
                );
                gaps.send_replace(RoomsGap::Overflow);
            }
        }
    }
}

impl Driver for RoomsDriver {
    type Error = RoomsDriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn.spublish::<u16, _, _>(chan, val).await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        self.conn.clone().ssubscribe(chan.as_str()).await?;
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(chan, tx);
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&chan);
        self.conn.sunsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, num): (String, u16) = self.conn.pubsub_shardnumsub(chan).await?;
        Ok(num)
    }
}

/// Connects the adapter's subscriber client (its own connection, resubscribing after a
/// reconnect) and builds the constructor, with the watch of its gaps. Channels are prefixed
/// with the key prefix, so deployments sharing a server do not hear each other.
///
/// # Errors
/// [`RedisStoreError::Config`] for a bad URL, [`RedisStoreError::Connect`] when the server is
/// unreachable.
pub async fn rooms_adapter(
    config: &RedisConfig,
) -> Result<(RoomsAdapter, RoomsGaps), RedisStoreError> {
    let mut builder = builder(config)?;
    // fred hands pub/sub messages to the driver over a broadcast channel (default 32): a
    // burst longer than that is dropped ("lagged"), i.e. room emits lost on this node.
    builder.with_performance_config(|p| p.broadcast_channel_capacity = SUBSCRIBER_BUFFER);
    let subscriber = builder
        .build_subscriber_client()
        .map_err(|e| RedisStoreError::Config(e.to_string()))?;
    let (gaps, watch) = watch::channel(RoomsGap::None);
    let handlers = Arc::new(RwLock::new(HashMap::new()));
    tokio::spawn(pipe(
        subscriber.message_rx(),
        handlers.clone(),
        gaps.clone(),
    ));
    // The driver subscribes once; without this task a reconnect (a Redis restart) would leave
    // this node deaf to the other nodes' room emits. (fred's own `manage_subscriptions` sends
    // an empty PSUBSCRIBE first, which Redis refuses, and stops before the shard channels.)
    // Once resubscribed, what was published meanwhile reached nobody here: a gap.
    let resubscriber = subscriber.clone();
    tokio::spawn(async move {
        let mut reconnects = resubscriber.reconnect_rx();
        while reconnects.recv().await.is_ok() {
            let mut failed = false;
            for channel in resubscriber.tracked_shard_channels() {
                if let Err(error) = resubscriber.ssubscribe(channel.to_string()).await {
                    failed = true;
                    tracing::warn!(%error, "resubscribing a rooms channel after a reconnect failed");
                }
            }
            if !failed {
                tracing::info!("rooms channels resubscribed after a redis reconnect");
            }
            gaps.send_replace(RoomsGap::Resubscribed);
        }
    });
    subscriber.init().await.map_err(RedisStoreError::Connect)?;
    let driver = RoomsDriver {
        handlers,
        conn: subscriber,
    };
    let adapter_config = RedisAdapterConfig::new()
        .with_prefix(format!("{}:socket.io", config.key_prefix))
        .with_stream_buffer(SUBSCRIBER_BUFFER)
        .with_request_timeout(
            config
                .command_timeout
                .max(std::time::Duration::from_secs(1)),
        );
    let adapter = RedisAdapterCtr::new_with_driver(driver, adapter_config);
    tracing::info!("socket.io rooms span every node over redis");
    Ok((adapter, watch))
}
