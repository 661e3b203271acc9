//! Socket.IO rooms across nodes: the constructor of socketioxide's Redis adapter (fred
//! driver), built from the same [`RedisConfig`] as the pool. The adapter carries room emits,
//! joins and leaves to every node over sharded pub/sub (Redis ≥ 7.0, RESP3).

use fred::interfaces::{EventInterface as _, PubsubInterface as _};
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr, drivers::fred::FredDriver};

use crate::{
    config::{RedisConfig, builder},
    error::RedisStoreError,
};

/// Pub/sub messages a node can fall behind by before any is dropped.
const SUBSCRIBER_BUFFER: usize = 65_536;

/// The adapter constructor socketioxide builds each namespace's adapter from.
pub type RoomsAdapter = RedisAdapterCtr<FredDriver>;

/// Connects the adapter's subscriber client (its own connection, resubscribing after a
/// reconnect) and builds the constructor. Channels are prefixed with the key prefix, so
/// deployments sharing a server do not hear each other.
///
/// # Errors
/// [`RedisStoreError::Config`] for a bad URL, [`RedisStoreError::Connect`] when the server is
/// unreachable.
pub async fn rooms_adapter(config: &RedisConfig) -> Result<RoomsAdapter, RedisStoreError> {
    let mut builder = builder(config)?;
    // fred hands pub/sub messages to the adapter over a broadcast channel (default 32): a
    // burst longer than that is dropped ("lagged"), i.e. room emits lost on this node.
    builder.with_performance_config(|p| p.broadcast_channel_capacity = SUBSCRIBER_BUFFER);
    let subscriber = builder
        .build_subscriber_client()
        .map_err(|e| RedisStoreError::Config(e.to_string()))?;
    // The driver subscribes once; without this task a reconnect (a Redis restart) would leave
    // this node deaf to the other nodes' room emits. (fred's own `manage_subscriptions` sends
    // an empty PSUBSCRIBE first, which Redis refuses, and stops before the shard channels.)
    let resubscriber = subscriber.clone();
    tokio::spawn(async move {
        let mut reconnects = resubscriber.reconnect_rx();
        while reconnects.recv().await.is_ok() {
            for channel in resubscriber.tracked_shard_channels() {
                if let Err(error) = resubscriber.ssubscribe(channel.to_string()).await {
                    tracing::warn!(%error, "resubscribing a rooms channel after a reconnect failed");
                }
            }
            tracing::info!("rooms channels resubscribed after a redis reconnect");
        }
    });
    let adapter_config = RedisAdapterConfig::new()
        .with_prefix(format!("{}:socket.io", config.key_prefix))
        .with_request_timeout(
            config
                .command_timeout
                .max(std::time::Duration::from_secs(1)),
        );
    // `new_with_fred_config` initialises the client itself.
    let adapter = RedisAdapterCtr::new_with_fred_config(subscriber, adapter_config)
        .await
        .map_err(RedisStoreError::Connect)?;
    tracing::info!("socket.io rooms span every node over redis");
    Ok(adapter)
}
