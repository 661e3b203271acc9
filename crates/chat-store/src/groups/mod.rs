//! [`SqlGroupRepository`]: groups, membership windows and the change log of every
//! conversation (contract sections 7 and 9).
//!
//! The change log's counter is `conversations.last_change_sequence`, moved in the same
//! transaction as the change by an `UPDATE` of the conversation's row: the row lock (on
//! PostgreSQL; SQLite's write transactions begin `IMMEDIATE`) orders the changes of one
//! conversation, so their numbers are gap-free in commit order, as `last_sequence` orders
//! messages. Membership changes are conditioned on the context version in that same `UPDATE`
//! (see `apply`). Windows live in `memberships`; `list_changes` reads only through them (see
//! `changes`).
//!
//! - `create`: change 1 and the first windows, written by every new conversation (groups here,
//!   one-to-ones in `conversations`);
//! - `apply`: committing membership and title events;
//! - `changes`: the change log as one member may see it;
//! - `event_json`: the stored form of a `GroupEvent`.

mod apply;
mod changes;
pub(crate) mod create;
mod event_json;

use chat_domain::{
    ConversationId, PageLimit, RepoError, UserId,
    change::{ChangeSequence, GroupEvent},
    conversation::{Conversation, ConversationKind, Created},
    membership::{Window, Windows},
    ports::{
        ChangePage, ContextVersion, GroupApplied, GroupRepository, GroupState, MemberPage, NewGroup,
    },
    time::Timestamp,
};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, IsolationLevel, TransactionOptions, TransactionTrait, Value,
};
use uuid::Uuid;

use self::create::Creation;
use crate::{
    entities::conversations,
    error::repo_err,
    mapping::{self, ParticipantRow},
    select::{PARTICIPANTS, participants_of},
    sql::{begin_write, finish, retry_busy, stmt},
    users,
};

/// Groups, windows and change logs, in `conversations`, `participants`, `memberships` and
/// `conversation_changes`.
#[derive(Debug, Clone)]
pub struct SqlGroupRepository {
    db: DatabaseConnection,
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    n: i64,
}

#[derive(Debug, FromQueryResult)]
struct WindowRow {
    from_change: i64,
    until_change: Option<i64>,
    from_sequence: i64,
    until_sequence: Option<i64>,
}

impl WindowRow {
    fn window(self) -> Result<Window, RepoError> {
        Ok(Window {
            first_sequence: mapping::to_seq(self.from_sequence)?,
            last_sequence: self.until_sequence.map(mapping::to_seq).transpose()?,
            first_change: mapping::to_change(self.from_change)?,
            last_change: self.until_change.map(mapping::to_change).transpose()?,
        })
    }
}

impl SqlGroupRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Inserts the group unless its creator already used its request id; whether it did.
    async fn insert(&self, group: &NewGroup) -> Result<bool, RepoError> {
        let backend = self.db.get_database_backend();
        let now = mapping::time_value(backend, group.now)?;
        let id: Value = group.id.get().into();
        let mut everyone = vec![group.creator];
        everyone.extend(
            group
                .members
                .iter()
                .copied()
                .filter(|m| *m != group.creator),
        );
        let created = GroupEvent::Created {
            kind: ConversationKind::Group,
            title: Some(group.title.clone()),
            created_by: Some(group.creator),
            member_ids: everyone.clone(),
        };
        let creation = Creation::new(backend, group.id, &created, group.now)?;
        let users_sql = users::insert_unnamed(everyone.len());
        // In id order (see `apply`).
        let mut sorted = everyone.clone();
        sorted.sort_unstable();
        let user_values: Vec<Value> = sorted
            .iter()
            .flat_map(|u| [u.get().into(), now.clone()])
            .collect();
        let conv_sql = "INSERT INTO conversations (id, kind, direct_key, created_at, last_sequence, \
                        title, created_by, request_id, last_change_sequence) \
                        VALUES (?, ?, NULL, ?, 0, ?, ?, ?, 1) \
                        ON CONFLICT (created_by, request_id) DO NOTHING";
        let conv_values = vec![
            id.clone(),
            ConversationKind::Group.as_str().into(),
            now.clone(),
            group.title.as_str().into(),
            group.creator.get().into(),
            group.request_id.into(),
        ];
        let rows = vec!["(?, ?, ?, 0, ?)"; everyone.len()].join(", ");
        let part_sql = format!(
            "INSERT INTO participants (conversation_id, user_id, joined_at, last_read_sequence, \
             role) VALUES {rows}"
        );
        let part_values: Vec<Value> = everyone
            .iter()
            .flat_map(|u| {
                let role = if *u == group.creator {
                    chat_domain::group::Role::Owner
                } else {
                    chat_domain::group::Role::Member
                };
                [
                    id.clone(),
                    u.get().into(),
                    now.clone(),
                    role.as_str().into(),
                ]
            })
            .collect();
        retry_busy(|| async {
            let txn = begin_write(&self.db).await?;
            let result = async {
                txn.execute_raw(stmt(backend, &users_sql, user_values.clone()))
                    .await?;
                let inserted = txn
                    .execute_raw(stmt(backend, conv_sql, conv_values.clone()))
                    .await?
                    .rows_affected()
                    == 1;
                if inserted {
                    txn.execute_raw(stmt(backend, &part_sql, part_values.clone()))
                        .await?;
                    creation.write(&txn).await?;
                }
                Ok(inserted)
            }
            .await;
            finish(txn, result).await
        })
        .await
        .map_err(repo_err)
    }

    async fn load(&self, row: conversations::Model) -> Result<Conversation, RepoError> {
        let participants = participants_of(&self.db, &[row.id])
            .await
            .map_err(repo_err)?;
        mapping::conversation(row, participants)
    }

    async fn by_request(
        &self,
        creator: UserId,
        request_id: Uuid,
    ) -> Result<Option<Conversation>, RepoError> {
        let sql = "SELECT * FROM conversations WHERE created_by = ? AND request_id = ?";
        let values = vec![creator.get().into(), request_id.into()];
        let row = conversations::Model::find_by_statement(stmt(
            self.db.get_database_backend(),
            sql,
            values,
        ))
        .one(&self.db)
        .await
        .map_err(repo_err)?;
        match row {
            Some(row) => self.load(row).await.map(Some),
            None => Ok(None),
        }
    }
}

/// The conversation row and its participants, from one snapshot (as a send context is read:
/// a read-only `REPEATABLE READ` transaction on PostgreSQL, a read transaction on SQLite).
async fn snapshot(
    db: &DatabaseConnection,
    id: ConversationId,
) -> Result<Option<(conversations::Model, Vec<ParticipantRow>)>, DbErr> {
    let options = if db.get_database_backend() == DbBackend::Postgres {
        TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..TransactionOptions::default()
        }
    } else {
        TransactionOptions::default()
    };
    retry_busy(|| async {
        let txn = db.begin_with_options(options).await?;
        let result = async {
            let Some(row) = conversations::Entity::find_by_id(id.get())
                .one(&txn)
                .await?
            else {
                return Ok(None);
            };
            let participants = participants_of(&txn, &[row.id]).await?;
            Ok(Some((row, participants)))
        }
        .await;
        finish(txn, result).await
    })
    .await
}

/// `user`'s windows in `id`, oldest first.
pub(crate) async fn windows<C: ConnectionTrait>(
    conn: &C,
    id: ConversationId,
    user: UserId,
) -> Result<Windows, RepoError> {
    let sql = "SELECT from_change, until_change, from_sequence, until_sequence FROM memberships \
               WHERE conversation_id = ? AND user_id = ? ORDER BY from_change";
    let values = vec![id.get().into(), user.get().into()];
    let rows = WindowRow::find_by_statement(stmt(conn.get_database_backend(), sql, values))
        .all(conn)
        .await
        .map_err(repo_err)?;
    Ok(Windows::new(mapping::all(rows, WindowRow::window)?))
}

#[async_trait::async_trait]
impl GroupRepository for SqlGroupRepository {
    async fn insert_group(&self, group: NewGroup) -> Result<(Conversation, Created), RepoError> {
        let created = if self.insert(&group).await? {
            Created::New
        } else {
            Created::Existing
        };
        let found = match (created, group.request_id) {
            (Created::Existing, Some(request)) => self.by_request(group.creator, request).await?,
            _ => {
                let row = conversations::Entity::find_by_id(group.id.get())
                    .one(&self.db)
                    .await
                    .map_err(repo_err)?;
                match row {
                    Some(row) => Some(self.load(row).await?),
                    None => None,
                }
            }
        };
        let conversation = found.ok_or_else(|| RepoError::internal("new group vanished"))?;
        Ok((conversation, created))
    }

    async fn find_group_by_request(
        &self,
        creator: UserId,
        request_id: Uuid,
    ) -> Result<Option<Conversation>, RepoError> {
        self.by_request(creator, request_id).await
    }

    async fn fetch_group_state(&self, id: ConversationId) -> Result<Option<GroupState>, RepoError> {
        let Some((row, participants)) = snapshot(&self.db, id).await.map_err(repo_err)? else {
            return Ok(None);
        };
        Ok(Some(GroupState {
            version: mapping::to_version(row.context_version)?,
            last_change: mapping::to_change(row.last_change_sequence)?,
            conversation: mapping::conversation(row, participants)?,
        }))
    }

    async fn apply_group_events(
        &self,
        id: ConversationId,
        expected: ContextVersion,
        events: Vec<GroupEvent>,
        now: Timestamp,
    ) -> Result<GroupApplied, RepoError> {
        apply::apply(&self.db, id, expected, events, now).await
    }

    async fn list_members(
        &self,
        id: ConversationId,
        limit: PageLimit,
        offset: u64,
    ) -> Result<MemberPage, RepoError> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "{PARTICIPANTS} WHERE p.conversation_id = ? AND p.left_at IS NULL \
             ORDER BY CASE WHEN p.role = 'owner' THEN 0 ELSE 1 END, p.joined_at, p.user_id \
             LIMIT ? OFFSET ?"
        );
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let values = vec![
            id.get().into(),
            i64::from(limit.get()).into(),
            offset.into(),
        ];
        let rows = ParticipantRow::find_by_statement(stmt(backend, &sql, values))
            .all(&self.db)
            .await
            .map_err(repo_err)?;
        let count = "SELECT COUNT(*) AS n FROM participants \
                     WHERE conversation_id = ? AND left_at IS NULL";
        let total = CountRow::find_by_statement(stmt(backend, count, vec![id.get().into()]))
            .one(&self.db)
            .await
            .map_err(repo_err)?
            .map_or(0, |r| mapping::to_count(r.n));
        Ok(MemberPage {
            items: mapping::all(rows, mapping::participant)?,
            total,
        })
    }

    async fn fetch_windows(&self, id: ConversationId, user: UserId) -> Result<Windows, RepoError> {
        windows(&self.db, id, user).await
    }

    async fn list_changes(
        &self,
        id: ConversationId,
        user: UserId,
        after: ChangeSequence,
        limit: PageLimit,
    ) -> Result<ChangePage, RepoError> {
        changes::page(&self.db, id, user, after, limit).await
    }
}
