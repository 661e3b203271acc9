//! `users.tokens_revoked_at`: the user's revocation point (contract section 2): every token
//! issued at or before it is void. Null: never revoked. Indexed, because every node polls for
//! points newer than the last it saw, to disconnect the revoked users' live sockets.

use sea_orm_migration::prelude::*;

use crate::columns::timestamp_ms_null;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    TokensRevokedAt,
}

const INDEX: &str = "users_tokens_revoked_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_ms_null(backend, Users::TokensRevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Users::Table)
                    .col(Users::TokensRevokedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Users::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::TokensRevokedAt)
                    .to_owned(),
            )
            .await
    }
}
