//! `participants.unread_count`: the messages others sent after the participant's read marker,
//! kept on the row instead of counted on every send. An append increments it for every other
//! active participant in the same statement as the insert; moving the marker subtracts the
//! messages it passes. Existing rows are filled by counting once.

use sea_orm_migration::prelude::*;

use crate::columns::counter;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Participants {
    Table,
    UnreadCount,
}

/// Valid on both databases: unaliased, so SQLite accepts the correlated subquery.
const BACKFILL: &str = "UPDATE participants SET unread_count = (SELECT COUNT(*) FROM messages m \
    WHERE m.conversation_id = participants.conversation_id \
    AND m.server_sequence > participants.last_read_sequence \
    AND m.sender_id <> participants.user_id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .add_column(counter(Participants::UnreadCount))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(BACKFILL)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Participants::Table)
                    .drop_column(Participants::UnreadCount)
                    .to_owned(),
            )
            .await
    }
}
