//! The REST-only shapes: query strings and health answers. Every other body, request or
//! answer, is the protocol's (`chat_protocol::{inbound, payload}`), shared with the socket side.

mod health;
mod params;

pub use self::{
    health::{DependencyCheck, Liveness, ReadinessReport},
    params::{ChatListParams, HistoryParams, MAX_OFFSET},
};
