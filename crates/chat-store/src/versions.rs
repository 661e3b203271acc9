//! Writes that change what a send checks, each moving `conversations.context_version` of the
//! conversations it touches atomically with the change: on PostgreSQL in the same statement
//! (a data-modifying `WITH`), on SQLite in the same `BEGIN IMMEDIATE` transaction. The bump
//! takes the conversation's row lock, as an append does, so the two are ordered.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use crate::sql::{begin_write, finish, marks, retry_busy, stmt};

/// Which conversations a change moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moves {
    /// The one each changed row names (its `conversation_id`).
    TheirConversation,
    /// Every conversation (active or left) of each changed user (its `id`).
    UsersConversations,
}

const BUMP: &str = "UPDATE conversations SET context_version = context_version + 1 WHERE id IN";

/// The conversations (active or left) of the users listed after it, in parentheses.
const USERS_CONVERSATIONS: &str = "SELECT conversation_id FROM participants WHERE user_id IN";

/// Runs `change`, a statement with `RETURNING`, and moves the version of the conversations
/// its returned rows name ([`Moves`]; `key` reads the conversation or user id of a row), in
/// one atomic step. A change that returns no row moves nothing. Returns the rows. SQLite busy
/// errors are retried.
pub(crate) async fn change_and_bump<M>(
    db: &DatabaseConnection,
    change: &str,
    values: Vec<Value>,
    moves: Moves,
    key: impl Fn(&M) -> Uuid,
) -> Result<Vec<M>, DbErr>
where
    M: FromQueryResult + Send + Sync,
{
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let targets = match moves {
            Moves::TheirConversation => "SELECT conversation_id FROM changed".to_owned(),
            Moves::UsersConversations => format!("{USERS_CONVERSATIONS} (SELECT id FROM changed)"),
        };
        let sql = format!(
            "WITH changed AS ({change}), bumped AS ({BUMP} ({targets})) SELECT * FROM changed"
        );
        return M::find_by_statement(stmt(backend, &sql, values))
            .all(db)
            .await;
    }
    retry_busy(|| async {
        let txn = begin_write(db).await?;
        let result = async {
            let rows = M::find_by_statement(stmt(backend, change, values.clone()))
                .all(&txn)
                .await?;
            if !rows.is_empty() {
                let keys: Vec<Value> = rows.iter().map(|r| key(r).into()).collect();
                let targets = match moves {
                    Moves::TheirConversation => marks(keys.len()),
                    Moves::UsersConversations => {
                        format!("{USERS_CONVERSATIONS} ({})", marks(keys.len()))
                    }
                };
                let bump = format!("{BUMP} ({targets})");
                txn.execute_raw(stmt(backend, &bump, keys)).await?;
            }
            Ok(rows)
        }
        .await;
        finish(txn, result).await
    })
    .await
}
