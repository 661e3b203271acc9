//! `messages`: the committed messages, numbered per conversation.

use sea_orm_migration::prelude::*;

use crate::{
    columns::{timestamp_ms, uuid_col},
    m20261125_000001_create_users::Users,
    m20261125_000002_create_conversations::Conversations,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    SenderId,
    SenderDeviceId,
    ClientSequence,
    ServerSequence,
    Content,
    ClientTimestamp,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .if_not_exists()
                    // The client's messageId: the idempotency key.
                    .col(uuid_col(Messages::Id).primary_key())
                    .col(uuid_col(Messages::ConversationId))
                    .col(uuid_col(Messages::SenderId))
                    .col(ColumnDef::new(Messages::SenderDeviceId).text().not_null())
                    .col(
                        ColumnDef::new(Messages::ClientSequence)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Messages::ServerSequence)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Messages::Content).text().not_null())
                    .col(
                        ColumnDef::new(Messages::ClientTimestamp)
                            .big_integer()
                            .null(),
                    )
                    .col(timestamp_ms(backend, Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_conversation")
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_sender")
                            .from(Messages::Table, Messages::SenderId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One order per conversation; also serves history paging, unread counts and resume.
        manager
            .create_index(
                Index::create()
                    .name("uq_messages_conversation_sequence")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::ServerSequence)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // A sender device's client sequence is used once per conversation (NULLs are distinct).
        manager
            .create_index(
                Index::create()
                    .name("uq_messages_sender_device_client_sequence")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::SenderId)
                    .col(Messages::SenderDeviceId)
                    .col(Messages::ClientSequence)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // History `from`/`to` filters and reads up to an instant.
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_conversation_created_at")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).if_exists().to_owned())
            .await
    }
}
