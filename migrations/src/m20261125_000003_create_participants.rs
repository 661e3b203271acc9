//! `participants`: who is in which conversation, with their read marker.

use sea_orm_migration::prelude::*;

use crate::{
    columns::{counter, timestamp_ms, timestamp_ms_null, uuid_col},
    m20261125_000001_create_users::Users,
    m20261125_000002_create_conversations::Conversations,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Participants {
    Table,
    ConversationId,
    UserId,
    JoinedAt,
    LeftAt,
    LastReadSequence,
    LastReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Participants::Table)
                    .if_not_exists()
                    .col(uuid_col(Participants::ConversationId))
                    .col(uuid_col(Participants::UserId))
                    .col(timestamp_ms(backend, Participants::JoinedAt))
                    .col(timestamp_ms_null(backend, Participants::LeftAt))
                    .col(counter(Participants::LastReadSequence))
                    .col(timestamp_ms_null(backend, Participants::LastReadAt))
                    .primary_key(
                        Index::create()
                            .col(Participants::ConversationId)
                            .col(Participants::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_participants_conversation")
                            .from(Participants::Table, Participants::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_participants_user")
                            .from(Participants::Table, Participants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's conversations: chat list, heads, unread counts.
        manager
            .create_index(
                Index::create()
                    .name("idx_participants_user_id")
                    .table(Participants::Table)
                    .col(Participants::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Participants::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
