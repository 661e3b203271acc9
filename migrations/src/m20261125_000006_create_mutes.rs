//! `mutes`: a user muted a conversation, until `muted_until` or until unmuted.

use sea_orm_migration::prelude::*;

use crate::{
    columns::{timestamp_ms, timestamp_ms_null, uuid_col},
    m20261125_000001_create_users::Users,
    m20261125_000002_create_conversations::Conversations,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Mutes {
    Table,
    ConversationId,
    UserId,
    MutedAt,
    MutedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Mutes::Table)
                    .if_not_exists()
                    .col(uuid_col(Mutes::ConversationId))
                    .col(uuid_col(Mutes::UserId))
                    .col(timestamp_ms(backend, Mutes::MutedAt))
                    .col(timestamp_ms_null(backend, Mutes::MutedUntil))
                    .primary_key(
                        Index::create()
                            .col(Mutes::ConversationId)
                            .col(Mutes::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mutes_conversation")
                            .from(Mutes::Table, Mutes::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mutes_user")
                            .from(Mutes::Table, Mutes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mutes_user_id")
                    .table(Mutes::Table)
                    .col(Mutes::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Mutes::Table).if_exists().to_owned())
            .await
    }
}
