//! The sea-orm entities: one per table read as rows (`users` is only written, and joined for
//! names), crate-private. Conversions to domain types live in
//! the `mapping` module; no entity leaves this crate.

pub(crate) mod blocks;
pub(crate) mod conversations;
pub(crate) mod messages;
pub(crate) mod mutes;
pub(crate) mod participants;
