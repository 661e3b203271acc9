//! Cheaper appends. Every append updates its conversation's row (`last_sequence`,
//! `last_message_at`) and the other participants' rows (`unread_count`). An index on
//! `last_message_at` made each of those conversation updates write a new entry in every index
//! of the table; the chat list orders by `COALESCE(last_message_at, created_at)`, which that
//! index never served, so it goes. With no indexed column changed, PostgreSQL updates both rows
//! in place on their page (HOT), and on PostgreSQL the two tables leave room on each page for
//! that (`fillfactor`; pages written from now on).

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::m20261125_000002_create_conversations::Conversations;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const INDEX: &str = "idx_conversations_last_message_at";

/// PostgreSQL only: the room left on each page for updates in place, by table.
const FILLFACTORS: [(&str, u8); 2] = [("conversations", 50), ("participants", 70)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Conversations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            for (table, percent) in FILLFACTORS {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "ALTER TABLE {table} SET (fillfactor = {percent})"
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for (table, _) in FILLFACTORS {
                manager
                    .get_connection()
                    .execute_unprepared(&format!("ALTER TABLE {table} RESET (fillfactor)"))
                    .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Conversations::Table)
                    .col(Conversations::LastMessageAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
