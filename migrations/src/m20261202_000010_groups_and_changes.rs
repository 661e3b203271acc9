//! Groups and the per-conversation change log (contract sections 7 and 9).
//!
//! - `conversations` gain `title`, `created_by` and `request_id` (a creator's idempotency key,
//!   unique per creator), `last_change_sequence` (the change log's counter, as `last_sequence`
//!   is the messages') and `closed_at` (a group its last member left);
//! - `participants` gain `role` (`owner`, `admin`, `member`; existing rows are members);
//! - `messages` gain `change_sequence` (the change that committed them);
//! - `memberships`: each stretch of a user's membership (a window), from the change that added
//!   them (and the first message they see) to the change that removed them (and the last);
//! - `conversation_changes`: the log, one row per change. A change about a message names it
//!   (`message_id`) instead of copying it, so erasing a message's content erases it from every
//!   change; a membership or title change keeps its event as JSON text (`data`).
//!
//! Existing conversations are filled in: change 1 is their creation (with everyone who joined
//! them), each message `n` becomes change `n + 1`, and every active participant gets a window
//! open from change 1. The run is one transaction on both databases; nothing existing is
//! rewritten except the new columns, so `down` only drops what `up` added.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

use crate::columns::{counter, timestamp_ms, timestamp_ms_null, uuid_col};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    Title,
    CreatedBy,
    RequestId,
    LastChangeSequence,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Participants {
    Table,
    Role,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    ChangeSequence,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    ConversationId,
    UserId,
    FromChange,
    UntilChange,
    FromSequence,
    UntilSequence,
}

#[derive(DeriveIden)]
enum ConversationChanges {
    Table,
    ConversationId,
    ChangeSequence,
    Kind,
    At,
    MessageId,
    Data,
}

const UQ_REQUEST: &str = "uq_conversations_creator_request";
const UQ_MESSAGE_CHANGE: &str = "uq_messages_conversation_change";
const IDX_MEMBERSHIPS_USER: &str = "idx_memberships_user_id";

/// A user id as hyphenated text inside SQLite SQL (sqlx stores a uuid there as a 16-byte blob;
/// text is kept as it is).
fn sqlite_uuid_text(col: &str) -> String {
    let h = format!("lower(hex({col}))");
    format!(
        "CASE WHEN typeof({col}) = 'blob' THEN substr({h}, 1, 8) || '-' || substr({h}, 9, 4) \
         || '-' || substr({h}, 13, 4) || '-' || substr({h}, 17, 4) || '-' || substr({h}, 21) \
         ELSE {col} END"
    )
}

/// Change 1 of every existing conversation: its creation, with everyone who joined it (oldest
/// first), as the JSON the store writes for `GroupEvent::Created`.
fn backfill_created(backend: DbBackend) -> String {
    let members = if backend == DbBackend::Postgres {
        "COALESCE((SELECT json_agg(p.user_id ORDER BY p.joined_at, p.user_id) FROM participants p \
         WHERE p.conversation_id = c.id), '[]'::json)"
            .to_owned()
    } else {
        format!(
            "json(COALESCE((SELECT json_group_array({} ORDER BY p.joined_at, p.user_id) \
             FROM participants p WHERE p.conversation_id = c.id), '[]'))",
            sqlite_uuid_text("p.user_id")
        )
    };
    let (object, text) = if backend == DbBackend::Postgres {
        ("json_build_object", "::text")
    } else {
        ("json_object", "")
    };
    format!(
        "INSERT INTO conversation_changes (conversation_id, change_sequence, kind, at, message_id, data) \
         SELECT c.id, 1, 'conversation', c.created_at, NULL, \
         {object}('type', 'created', 'kind', c.kind, 'title', NULL, 'created_by', NULL, \
         'member_ids', {members}){text} FROM conversations c"
    )
}

/// The rest of the fill, valid on both databases.
const BACKFILL: [&str; 4] = [
    "UPDATE messages SET change_sequence = server_sequence + 1",
    "INSERT INTO conversation_changes (conversation_id, change_sequence, kind, at, message_id, data) \
     SELECT conversation_id, server_sequence + 1, 'message', created_at, id, NULL FROM messages",
    "UPDATE conversations SET last_change_sequence = (SELECT COUNT(*) FROM conversation_changes ch \
     WHERE ch.conversation_id = conversations.id)",
    "INSERT INTO memberships (conversation_id, user_id, from_change, until_change, from_sequence, until_sequence) \
     SELECT conversation_id, user_id, 1, NULL, 1, NULL FROM participants WHERE left_at IS NULL",
];

impl Migration {
    async fn add_column(
        manager: &SchemaManager<'_>,
        table: impl IntoIden,
        col: ColumnDef,
    ) -> Result<(), DbErr> {
        let mut col = col;
        manager
            .alter_table(Table::alter().table(table).add_column(&mut col).to_owned())
            .await
    }

    async fn drop_column(
        manager: &SchemaManager<'_>,
        table: impl IntoIden,
        col: impl IntoIden,
    ) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(table).drop_column(col).to_owned())
            .await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The fill must not stop half way, on SQLite either.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        // One change per ALTER (SQLite).
        for col in [
            ColumnDef::new(Conversations::Title).text().null().take(),
            ColumnDef::new(Conversations::CreatedBy)
                .uuid()
                .null()
                .take(),
            ColumnDef::new(Conversations::RequestId)
                .uuid()
                .null()
                .take(),
            counter(Conversations::LastChangeSequence),
            timestamp_ms_null(backend, Conversations::ClosedAt),
        ] {
            Self::add_column(manager, Conversations::Table, col).await?;
        }
        // NULLs are distinct: conversations without a request id never collide.
        manager
            .create_index(
                Index::create()
                    .name(UQ_REQUEST)
                    .table(Conversations::Table)
                    .col(Conversations::CreatedBy)
                    .col(Conversations::RequestId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Self::add_column(
            manager,
            Participants::Table,
            ColumnDef::new(Participants::Role)
                .text()
                .not_null()
                .default("member")
                .take(),
        )
        .await?;
        Self::add_column(
            manager,
            Messages::Table,
            ColumnDef::new(Messages::ChangeSequence)
                .big_integer()
                .null()
                .take(),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .if_not_exists()
                    .col(uuid_col(Memberships::ConversationId))
                    .col(uuid_col(Memberships::UserId))
                    .col(
                        ColumnDef::new(Memberships::FromChange)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Memberships::UntilChange)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Memberships::FromSequence)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Memberships::UntilSequence)
                            .big_integer()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Memberships::ConversationId)
                            .col(Memberships::UserId)
                            .col(Memberships::FromChange),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memberships_conversation")
                            .from(Memberships::Table, Memberships::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memberships_user")
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's memberships across conversations (resume, the chat list).
        manager
            .create_index(
                Index::create()
                    .name(IDX_MEMBERSHIPS_USER)
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationChanges::Table)
                    .if_not_exists()
                    .col(uuid_col(ConversationChanges::ConversationId))
                    .col(
                        ColumnDef::new(ConversationChanges::ChangeSequence)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ConversationChanges::Kind).text().not_null())
                    .col(timestamp_ms(backend, ConversationChanges::At))
                    .col(ColumnDef::new(ConversationChanges::MessageId).uuid().null())
                    .col(ColumnDef::new(ConversationChanges::Data).text().null())
                    .primary_key(
                        Index::create()
                            .col(ConversationChanges::ConversationId)
                            .col(ConversationChanges::ChangeSequence),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversation_changes_conversation")
                            .from(
                                ConversationChanges::Table,
                                ConversationChanges::ConversationId,
                            )
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversation_changes_message")
                            .from(ConversationChanges::Table, ConversationChanges::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(&backfill_created(backend)).await?;
        for sql in BACKFILL {
            conn.execute_unprepared(sql).await?;
        }
        // After the fill: built once instead of updated row by row.
        manager
            .create_index(
                Index::create()
                    .name(UQ_MESSAGE_CHANGE)
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::ChangeSequence)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ConversationChanges::Table.into_iden(),
            Memberships::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        for (name, table) in [
            (UQ_MESSAGE_CHANGE, Messages::Table.into_iden()),
            (UQ_REQUEST, Conversations::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).if_exists().to_owned())
                .await?;
        }
        Self::drop_column(manager, Messages::Table, Messages::ChangeSequence).await?;
        Self::drop_column(manager, Participants::Table, Participants::Role).await?;
        for col in [
            Conversations::ClosedAt,
            Conversations::LastChangeSequence,
            Conversations::RequestId,
            Conversations::CreatedBy,
            Conversations::Title,
        ] {
            Self::drop_column(manager, Conversations::Table, col).await?;
        }
        Ok(())
    }
}
