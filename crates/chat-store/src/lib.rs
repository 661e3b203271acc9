//! sea-orm adapters of the domain's repository ports, for PostgreSQL and SQLite.
//!
//! # Layout
//! - [`StoreConfig`], [`connect`], [`migrate`]: opening a pool and bringing the schema up to
//!   date (on PostgreSQL one process at a time, under an advisory lock).
//! - [`SqlUserRepository`], [`SqlConversationRepository`], [`SqlMessageRepository`],
//!   [`SqlBlockRepository`], [`SqlMuteRepository`], [`SqlGroupRepository`]: the ports, each over a
//!   [`DatabaseConnection`] (cheap to clone).
//! - `entities`: crate-private sea-orm entities; `mapping`: the only conversions between rows
//!   and domain types; `sql`: placeholders and write transactions; `select`: the selects
//!   several modules share (messages and participants with names, a conversation's blocks, a
//!   user's active conversations), each spelled once; `error`: [`StoreError`] and the mapping
//!   of database errors to `RepoError`.
//! - `append`: the message write path (its backends `postgres` and `sqlite`, the group commit
//!   `group`, and `attempt`, what they share); `send_context`: what a send checks, read at one
//!   version; `versions`: writes that move a conversation's context version; `unread`: the
//!   unread counts kept on participants' rows; `groups`: groups, membership windows and the
//!   change log (its `create` also writes every new one-to-one's change 1).
//!
//! # Consistency
//! Sequences come from `conversations.last_sequence`, incremented in the same transaction as
//! the message insert (the row lock serialises appends of one conversation on PostgreSQL; on
//! SQLite write transactions begin `IMMEDIATE`). Idempotency and conflicts are recognised from
//! unique constraints, never by checking first (a batch of appends on PostgreSQL leaves out
//! the resends it can see, so that they do not fail the others, and appends them again alone,
//! where the constraints decide). Unread counts are kept on the participant's row: an append
//! increments them in its transaction, a read marker move subtracts what it passes.
//!
//! `conversations.context_version` versions what a send checks (participants' names, blocks,
//! mutes): every write that changes those increments it in the same transaction (on
//! PostgreSQL the same statement). It lives on the conversation's row, so a bump takes the
//! same row lock as an append. An append conditioned on a version (`append_if_current`)
//! checks it under that lock: it either commits before the change, or sees the new version
//! and stores nothing.
//!
//! The change log (`conversation_changes`) is numbered by `conversations.last_change_sequence`
//! the same way: a change takes the next number in the `UPDATE` of the conversation's row that
//! also checks and moves the context version, in the transaction that writes the change, so
//! the numbers are gap-free in commit order. Membership windows (`memberships`) bound what a
//! member reads of the log, in the SQL that reads it.

mod append;
mod blocks;
mod chat_list;
mod config;
mod conversations;
mod entities;
mod error;
mod groups;
mod history;
mod mapping;
mod messages;
mod migrate;
mod mutes;
mod ready;
mod select;
mod send_context;
mod sql;
mod unread;
mod users;
mod versions;

pub use sea_orm::DatabaseConnection;

pub use crate::{
    blocks::SqlBlockRepository,
    config::{StoreConfig, connect},
    conversations::SqlConversationRepository,
    error::StoreError,
    groups::SqlGroupRepository,
    messages::SqlMessageRepository,
    migrate::migrate,
    mutes::SqlMuteRepository,
    ready::can_commit,
    users::SqlUserRepository,
};
