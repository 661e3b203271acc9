//! `conversations.context_version`: the version of what a send checks in a conversation
//! (participants, their names, blocks, mutes). Every change to those increments it in the same
//! transaction; an append conditioned on it commits only while it is unchanged.

use sea_orm_migration::prelude::*;

use crate::{columns::counter, m20261125_000002_create_conversations::Conversations};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Added {
    ContextVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Additive: existing rows start at version 0 (a constant default, valid on SQLite).
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(counter(Added::ContextVersion))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite has `DROP COLUMN` since 3.35 (the bundled one is newer).
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Added::ContextVersion)
                    .to_owned(),
            )
            .await
    }
}
