//! The pure domain of the chat gateway: value types, the rules of the contract, the ports the
//! outside world implements, and the use-case services that the inbound adapters call.
//!
//! No runtime, database, cache or transport crate is a dependency of this crate; time and ids
//! come through the [`ports::Clock`] and [`ports::IdGenerator`] ports.
//!
//! # Layout
//! - [`ids`], [`time`], [`sequence`], [`user`], [`message`], [`paging`]: validated value types.
//! - [`conversation`], [`block`], [`mute`], [`read_marker`], [`presence`], [`typing`],
//!   [`rate_limit`], [`ordering`], [`resume`]: the rules, as pure functions and state machines.
//! - [`ports`]: repository, session, presence, rate-limit, publisher, token, clock and id ports
//!   (mockall mocks behind the `mocks` feature); [`error`]: the error every port returns.
//! - [`events`]: the real-time effects services publish.
//! - [`service`]: one service per group of operations of the contract, each with its own error
//!   enum.

pub mod block;
pub mod conversation;
pub mod error;
pub mod events;
pub mod ids;
pub mod message;
pub mod mute;
pub mod ordering;
pub mod paging;
pub mod ports;
pub mod presence;
pub mod rate_limit;
pub mod read_marker;
pub mod resume;
pub mod sequence;
pub mod service;
pub mod time;
pub mod typing;
pub mod user;

pub use crate::{
    block::{Block, BlockSide},
    conversation::{Conversation, ConversationKind, OneToOnePair, Participant},
    error::RepoError,
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{AppendOutcome, ContentPolicy, MessageContent, NewMessage, StoredMessage},
    mute::Mute,
    paging::{HistoryAnchor, HistoryQuery, PageLimit},
    presence::PresenceStatus,
    sequence::{ClientSequence, ServerSequence},
    time::Timestamp,
    user::DisplayName,
};
