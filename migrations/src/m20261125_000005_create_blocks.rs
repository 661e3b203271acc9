//! `blocks`: per conversation, `blocker_id` blocked `blocked_id`.

use sea_orm_migration::prelude::*;

use crate::{
    columns::{timestamp_ms, uuid_col},
    m20261125_000001_create_users::Users,
    m20261125_000002_create_conversations::Conversations,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Blocks {
    Table,
    ConversationId,
    BlockerId,
    BlockedId,
    BlockedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Blocks::Table)
                    .if_not_exists()
                    .col(uuid_col(Blocks::ConversationId))
                    .col(uuid_col(Blocks::BlockerId))
                    .col(uuid_col(Blocks::BlockedId))
                    .col(timestamp_ms(backend, Blocks::BlockedAt))
                    .primary_key(
                        Index::create()
                            .col(Blocks::ConversationId)
                            .col(Blocks::BlockerId)
                            .col(Blocks::BlockedId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_blocks_conversation")
                            .from(Blocks::Table, Blocks::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_blocks_blocker")
                            .from(Blocks::Table, Blocks::BlockerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_blocks_blocked")
                            .from(Blocks::Table, Blocks::BlockedId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_blocks_blocker_id", Blocks::BlockerId),
            ("idx_blocks_blocked_id", Blocks::BlockedId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Blocks::Table)
                        .col(col)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Blocks::Table).if_exists().to_owned())
            .await
    }
}
