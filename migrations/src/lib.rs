//! The database schema of the chat gateway, as sea-orm migrations that run unchanged on
//! PostgreSQL and SQLite.
//!
//! # Layout
//! - [`Migrator`]: every migration, oldest first; run it with `Migrator::up(&db, None)`.
//! - one `mYYYYMMDD_HHMMSS_name.rs` file per migration (sea-orm names a migration after its file).
//! - `columns`: the column shapes shared by the migrations (uuids, millisecond timestamps).
//!
//! # Tables
//! `users`, `conversations` (with the per-conversation `last_sequence` counter and the unique
//! `direct_key` of one-to-one pairs), `participants` (with read markers), `messages` (unique per
//! `(conversation_id, server_sequence)` and per sender device client sequence), `blocks`, `mutes`;
//! `conversations.context_version` (added later) versions what a send checks;
//! `participants.unread_count` (added later) keeps each participant's unread count. Groups and
//! the change log (added later): titles, creators and request ids, roles, `memberships`
//! (windows) and `conversation_changes`; `users.tokens_revoked_at` (added later) is a user's
//! token revocation point.

/// Re-exported so that callers can run [`Migrator`] without naming sea-orm-migration.
pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod columns;
mod m20261125_000001_create_users;
mod m20261125_000002_create_conversations;
mod m20261125_000003_create_participants;
mod m20261125_000004_create_messages;
mod m20261125_000005_create_blocks;
mod m20261125_000006_create_mutes;
mod m20261126_000007_add_context_version;
mod m20261126_000008_add_unread_count;
mod m20261126_000009_hot_conversation_updates;
mod m20261202_000010_groups_and_changes;
mod m20261202_000011_token_revocation;

/// Every migration of the schema, oldest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users::Migration),
            Box::new(m20261125_000002_create_conversations::Migration),
            Box::new(m20261125_000003_create_participants::Migration),
            Box::new(m20261125_000004_create_messages::Migration),
            Box::new(m20261125_000005_create_blocks::Migration),
            Box::new(m20261125_000006_create_mutes::Migration),
            Box::new(m20261126_000007_add_context_version::Migration),
            Box::new(m20261126_000008_add_unread_count::Migration),
            Box::new(m20261126_000009_hot_conversation_updates::Migration),
            Box::new(m20261202_000010_groups_and_changes::Migration),
            Box::new(m20261202_000011_token_revocation::Migration),
        ]
    }
}
