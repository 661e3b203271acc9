//! The one wire vocabulary of the chat gateway (the contract, `docs/protocol.md`): error codes
//! with the one classification of every service error, event names, the payloads both
//! transports carry, and the text form of instants. `chat-socketio` renders it as acks and
//! `error:{code}` events, `chat-http` as JSON answers and problems; neither spells a code, an
//! event name or a payload of its own.
//!
//! # Layout
//! - [`error`]: [`ErrorCode`], [`Failure`] and the failure bodies of the socket side.
//! - [`classify`]: `From<…Error> for Failure` for every service error, and
//!   [`HandshakeRefusal`].
//! - [`events`]: event names.
//! - [`inbound`]: what clients send, checked into domain values.
//! - [`payload`]: what the server sends, built from domain values.
//! - [`time`]: RFC 3339 millisecond instants.
//! - `asyncapi` (feature `openapi`): the AsyncAPI 3 document of the Socket.IO side, generated
//!   from the tables here; `typescript` (feature `typescript`): TypeScript declarations of every
//!   payload.

pub mod classify;
pub mod error;
pub mod events;
pub mod inbound;
pub mod payload;
pub mod time;

#[cfg(feature = "openapi")]
pub mod asyncapi;
#[cfg(feature = "typescript")]
pub mod typescript;

/// How long an inbound adapter lets a request's work run before it answers `unavailable`
/// (contract 4.6: "`unavailable` within 3 s of the request"; the rest of the 3 s is margin for
/// the queue in front of the handler and the way back to the client). The work is not
/// cancelled: it finishes, or fails by its own timeouts, in the background.
pub const ANSWER_DEADLINE: std::time::Duration = std::time::Duration::from_millis(2_500);

/// The failure of a request whose work outlived [`ANSWER_DEADLINE`].
#[must_use]
pub fn past_deadline() -> Failure {
    Failure::unavailable("the service did not answer in time; try again")
}

pub use crate::{
    classify::HandshakeRefusal,
    error::{
        ErrorCode, ErrorPayload, Failure, FailureAck, FailureBody, FailureContext, MessageFailed,
    },
};
