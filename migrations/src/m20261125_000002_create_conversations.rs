//! `conversations`: the conversation, its sequence counter and, for one-to-one conversations,
//! the unique key of the pair.

use sea_orm_migration::prelude::*;

use crate::columns::{counter, timestamp_ms, timestamp_ms_null, uuid_col};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Conversations {
    Table,
    Id,
    Kind,
    DirectKey,
    CreatedAt,
    LastSequence,
    LastMessageAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .if_not_exists()
                    .col(uuid_col(Conversations::Id).primary_key())
                    .col(ColumnDef::new(Conversations::Kind).text().not_null())
                    // `OneToOnePair::key()`: one conversation per pair.
                    .col(
                        ColumnDef::new(Conversations::DirectKey)
                            .text()
                            .null()
                            .unique_key(),
                    )
                    .col(timestamp_ms(backend, Conversations::CreatedAt))
                    .col(counter(Conversations::LastSequence))
                    .col(timestamp_ms_null(backend, Conversations::LastMessageAt))
                    .to_owned(),
            )
            .await?;
        // The chat list orders by newest activity.
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_last_message_at")
                    .table(Conversations::Table)
                    .col(Conversations::LastMessageAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Conversations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
