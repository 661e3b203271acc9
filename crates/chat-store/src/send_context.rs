//! What a send checks ([`SendContext`]), read at one version.

use chat_domain::{ConversationId, RepoError, ports::SendContext};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, IsolationLevel, TransactionOptions, TransactionTrait,
};

use crate::{
    entities::{blocks, conversations, mutes},
    error::repo_err,
    mapping::{self, ParticipantRow},
    select::{conversation_blocks, participants_of},
    sql::{finish, retry_busy, stmt},
};

/// The rows of a send context, as read in one snapshot.
struct Rows {
    conversation: conversations::Model,
    participants: Vec<ParticipantRow>,
    blocks: Vec<blocks::Model>,
    mutes: Vec<mutes::Model>,
}

/// The conversation, its participants (names included), its blocks, its participants' mutes
/// and its context version, all from one snapshot: a read-only `REPEATABLE READ` transaction on
/// PostgreSQL, a read transaction on SQLite (its snapshot starts at the first read). The
/// version is read first, so even a weaker isolation could only label newer data with an
/// older version, which an append conditioned on it refuses. `None`: no such conversation.
pub(crate) async fn fetch(
    db: &DatabaseConnection,
    id: ConversationId,
) -> Result<Option<SendContext>, RepoError> {
    let options = if db.get_database_backend() == DbBackend::Postgres {
        TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..TransactionOptions::default()
        }
    } else {
        TransactionOptions::default()
    };
    let rows = retry_busy(|| async {
        let txn = db.begin_with_options(options).await?;
        let result = read(&txn, id).await;
        finish(txn, result).await
    })
    .await
    .map_err(repo_err)?;
    let Some(rows) = rows else {
        return Ok(None);
    };
    Ok(Some(SendContext {
        version: mapping::to_version(rows.conversation.context_version)?,
        conversation: mapping::conversation(rows.conversation, rows.participants)?,
        blocks: mapping::all(rows.blocks, mapping::block)?,
        mutes: mapping::all(rows.mutes, mapping::mute)?,
    }))
}

async fn read<C: ConnectionTrait>(txn: &C, id: ConversationId) -> Result<Option<Rows>, DbErr> {
    let Some(conversation) = conversations::Entity::find_by_id(id.get()).one(txn).await? else {
        return Ok(None);
    };
    let participants = participants_of(txn, &[conversation.id]).await?;
    let blocks = conversation_blocks(txn, id).await?;
    let backend = txn.get_database_backend();
    let mutes_sql = "SELECT * FROM mutes WHERE conversation_id = ? ORDER BY muted_at, user_id";
    let mutes = mutes::Model::find_by_statement(stmt(backend, mutes_sql, vec![id.get().into()]))
        .all(txn)
        .await?;
    Ok(Some(Rows {
        conversation,
        participants,
        blocks,
        mutes,
    }))
}

/// The current context version of a conversation; `None` when it does not exist.
pub(crate) async fn current_version<C: ConnectionTrait>(
    conn: &C,
    id: ConversationId,
) -> Result<Option<i64>, DbErr> {
    #[derive(Debug, FromQueryResult)]
    struct VersionRow {
        context_version: i64,
    }
    let sql = "SELECT context_version FROM conversations WHERE id = ?";
    let row = VersionRow::find_by_statement(stmt(
        conn.get_database_backend(),
        sql,
        vec![id.get().into()],
    ))
    .one(conn)
    .await?;
    Ok(row.map(|r| r.context_version))
}
