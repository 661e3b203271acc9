//! The Socket.IO inbound adapter (socketioxide): the connect middleware that authenticates and
//! joins the rooms of the contract's section 3, one thin handler per event of sections 4 and 5,
//! and [`SocketIoEventPublisher`], the domain's `EventPublisher` over the `SocketIo` handle.
//!
//! # Layout
//! - `names`: event and room names, spelled once.
//! - `connect`: middleware, connect/disconnect handlers, token expiry.
//! - `send`: the per-socket send queue (order, `clientSequence` reordering).
//! - `events`: the other events' handlers.
//! - `reply`: payload extraction and the one way an event is answered.
//! - `dto`, `wire_time`: payloads in and out.
//! - `error`: the mapping from service errors to the contract's codes.
//! - `publisher`, `metrics`, `state`.

mod connect;
mod dto;
mod error;
mod events;
mod metrics;
pub mod names;
mod publisher;
mod reply;
mod send;
mod state;
mod wire_time;

use std::time::Duration;

use socketioxide::{
    ParserConfig, SocketIo, adapter::LocalAdapter, handler::ConnectHandler, layer::SocketIoLayer,
};

pub use crate::{
    connect::ConnectRefusal,
    error::{ErrorCode, Failure},
    publisher::SocketIoEventPublisher,
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

/// Builds the Socket.IO layer and server for a single node (in-process rooms), with the
/// handlers registered on the `/` namespace.
#[must_use]
pub fn local_layer(config: SocketConfig, state: SocketState) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .max_payload(u64::try_from(config.max_message_bytes).unwrap_or(u64::MAX))
        .ws_max_message_size(config.max_message_bytes)
        // The frame limit too: tungstenite reads a whole frame before the message limit applies.
        .ws_max_frame_size(config.max_message_bytes)
        .with_parser(ParserConfig::common().max_incoming_binary_buf_size(config.max_message_bytes))
        .ping_interval(config.ping_interval)
        .ping_timeout(config.ping_timeout)
        .with_state(state)
        .build_layer();
    io.ns(
        names::NAMESPACE,
        connect::on_connect::<LocalAdapter>.with(connect::authenticate::<LocalAdapter>),
    );
    (layer, io)
}
