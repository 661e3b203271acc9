//! [`SqlConversationRepository`]: conversations, participants and read markers.

use chat_domain::{
    ConversationId, PageLimit, RepoError, ServerSequence, Timestamp, UserId,
    change::GroupEvent,
    conversation::{ChatListPage, Conversation, Created, OneToOnePair},
    ports::{ConversationRepository, SendContext},
    read_marker::{MarkerAdvance, MarkerMove, ReadMarker},
    resume::ConversationHead,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
};
use uuid::Uuid;

use crate::{
    chat_list,
    entities::conversations,
    error::{is_unique_violation, repo_err},
    groups::create::Creation,
    mapping,
    select::{ACTIVE_CONVERSATIONS, participants_of},
    send_context,
    sql::{begin_write, finish, retry_busy, stmt},
    unread::unread_by_conversation,
    users,
};

/// Conversations, participants and read markers, in `conversations` and `participants`.
#[derive(Debug, Clone)]
pub struct SqlConversationRepository {
    db: DatabaseConnection,
}

impl SqlConversationRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Inserts the pair's conversation unless its `direct_key` is taken; whether it did.
    async fn insert_one_to_one(
        &self,
        pair: OneToOnePair,
        id: ConversationId,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        let backend = self.db.get_database_backend();
        let at = now;
        let now = mapping::time_value(backend, now)?;
        let [low, high] = pair.users().map(|u| sea_orm::Value::from(u.get()));
        let users_sql = users::insert_unnamed(2);
        let conv_sql = "INSERT INTO conversations (id, kind, direct_key, created_at, last_sequence, \
                        last_change_sequence) VALUES (?, ?, ?, ?, 0, 1) \
                        ON CONFLICT (direct_key) DO NOTHING";
        // Its change 1, and both users' windows from it.
        let created = GroupEvent::Created {
            kind: chat_domain::ConversationKind::OneToOne,
            title: None,
            created_by: None,
            member_ids: pair.users().to_vec(),
        };
        let creation = Creation::new(backend, id, &created, at)?;
        let part_sql = "INSERT INTO participants (conversation_id, user_id, joined_at, last_read_sequence) \
                        VALUES (?, ?, ?, 0), (?, ?, ?, 0)";
        let kind = chat_domain::ConversationKind::OneToOne.as_str();
        let created = retry_busy(|| async {
            let txn = begin_write(&self.db).await?;
            let result = async {
                let unnamed = vec![low.clone(), now.clone(), high.clone(), now.clone()];
                txn.execute_raw(stmt(backend, &users_sql, unnamed)).await?;
                let conv = vec![id.get().into(), kind.into(), pair.key().into(), now.clone()];
                let inserted = txn
                    .execute_raw(stmt(backend, conv_sql, conv))
                    .await?
                    .rows_affected()
                    == 1;
                if inserted {
                    let parts = vec![
                        id.get().into(),
                        low.clone(),
                        now.clone(),
                        id.get().into(),
                        high.clone(),
                        now.clone(),
                    ];
                    txn.execute_raw(stmt(backend, part_sql, parts)).await?;
                    creation.write(&txn).await?;
                }
                Ok(inserted)
            }
            .await;
            finish(txn, result).await
        })
        .await;
        match created {
            Ok(inserted) => Ok(inserted),
            // `new_id` is already another conversation's id.
            Err(e) if is_unique_violation(&e) => Err(RepoError::Conflict),
            Err(e) => Err(repo_err(e)),
        }
    }

    async fn load(&self, row: conversations::Model) -> Result<Conversation, RepoError> {
        let participants = participants_of(&self.db, &[row.id])
            .await
            .map_err(repo_err)?;
        mapping::conversation(row, participants)
    }
}

#[derive(Debug, FromQueryResult)]
struct MarkerRow {
    last_read_sequence: i64,
    last_read_at: Option<time::OffsetDateTime>,
    /// Of the same row version as the marker.
    unread_count: i64,
}

impl MarkerRow {
    fn advance(self, moved: fn(ReadMarker) -> MarkerMove) -> Result<MarkerAdvance, RepoError> {
        let marker = ReadMarker {
            sequence: mapping::to_seq(self.last_read_sequence)?,
            read_at: self.last_read_at.map(mapping::from_datetime).transpose()?,
        };
        Ok(MarkerAdvance {
            moved: moved(marker),
            unread_count: mapping::to_count(self.unread_count),
        })
    }
}

#[derive(Debug, FromQueryResult)]
struct HeadRow {
    id: Uuid,
    last_sequence: i64,
}

#[async_trait::async_trait]
impl ConversationRepository for SqlConversationRepository {
    async fn find_or_create_one_to_one(
        &self,
        pair: OneToOnePair,
        new_id: ConversationId,
        now: Timestamp,
    ) -> Result<(Conversation, Created), RepoError> {
        let created = if self.insert_one_to_one(pair, new_id, now).await? {
            Created::New
        } else {
            Created::Existing
        };
        let row = conversations::Entity::find()
            .filter(conversations::Column::DirectKey.eq(pair.key()))
            .one(&self.db)
            .await
            .map_err(repo_err)?
            .ok_or_else(|| RepoError::internal("one-to-one conversation vanished"))?;
        Ok((self.load(row).await?, created))
    }

    async fn find_conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, RepoError> {
        let row = conversations::Entity::find_by_id(id.get())
            .one(&self.db)
            .await
            .map_err(repo_err)?;
        match row {
            Some(row) => self.load(row).await.map(Some),
            None => Ok(None),
        }
    }

    async fn fetch_send_context(
        &self,
        id: ConversationId,
    ) -> Result<Option<SendContext>, RepoError> {
        send_context::fetch(&self.db, id).await
    }

    async fn list_conversation_heads(
        &self,
        user: UserId,
    ) -> Result<Vec<ConversationHead>, RepoError> {
        let sql = format!("SELECT c.id, c.last_sequence {ACTIVE_CONVERSATIONS} ORDER BY c.id");
        let backend = self.db.get_database_backend();
        let rows = HeadRow::find_by_statement(stmt(backend, &sql, vec![user.get().into()]))
            .all(&self.db)
            .await
            .map_err(repo_err)?;
        mapping::all(rows, |r| {
            Ok(ConversationHead {
                conversation_id: ConversationId::new(r.id),
                last_sequence: mapping::to_seq(r.last_sequence)?,
            })
        })
    }

    async fn list_chat_list(
        &self,
        user: UserId,
        limit: PageLimit,
        offset: u64,
        now: Timestamp,
    ) -> Result<ChatListPage, RepoError> {
        chat_list::page(&self.db, user, limit, offset, now).await
    }

    async fn advance_read_marker(
        &self,
        conversation: ConversationId,
        user: UserId,
        proposed: ServerSequence,
        now: Timestamp,
    ) -> Result<MarkerAdvance, RepoError> {
        let backend = self.db.get_database_backend();
        let proposed = mapping::seq_value(proposed);
        // The proposal clamped to the conversation's newest sequence.
        let clamped = "(SELECT CASE WHEN c.last_sequence < ? THEN c.last_sequence ELSE ? END \
                       FROM conversations c WHERE c.id = participants.conversation_id)";
        // The messages others sent that the move passes: all committed, since the new marker
        // is at most the committed `last_sequence` of the statement's snapshot, so the count
        // subtracted is exact even when a concurrent append incremented the row meanwhile (SET
        // reads the row's newest version; PostgreSQL re-evaluates it after waiting for the
        // lock).
        let passed = format!(
            "(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = participants.conversation_id \
             AND m.server_sequence > participants.last_read_sequence \
             AND m.server_sequence <= {clamped} AND m.sender_id <> participants.user_id)"
        );
        let sql = format!(
            "UPDATE participants SET last_read_sequence = {clamped}, last_read_at = ?, \
             unread_count = unread_count - {passed} \
             WHERE conversation_id = ? AND user_id = ? AND last_read_sequence < {clamped} \
             RETURNING last_read_sequence, last_read_at, unread_count"
        );
        let values = vec![
            proposed.into(),
            proposed.into(),
            mapping::time_value(backend, now)?,
            proposed.into(),
            proposed.into(),
            conversation.get().into(),
            user.get().into(),
            proposed.into(),
            proposed.into(),
        ];
        let moved = retry_busy(|| {
            MarkerRow::find_by_statement(stmt(backend, &sql, values.clone())).one(&self.db)
        })
        .await
        .map_err(repo_err)?;
        // The count comes from the row the marker is on, in the same statement: the count after
        // this very marker, never one of a concurrent read (contract 4.2).
        if let Some(row) = moved {
            return row.advance(MarkerMove::Advanced);
        }
        let current = "SELECT last_read_sequence, last_read_at, unread_count FROM participants \
                       WHERE conversation_id = ? AND user_id = ?";
        let values = vec![conversation.get().into(), user.get().into()];
        MarkerRow::find_by_statement(stmt(backend, current, values))
            .one(&self.db)
            .await
            .map_err(repo_err)?
            .ok_or(RepoError::NotFound)?
            .advance(MarkerMove::Unchanged)
    }

    async fn unread_count(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<u64, RepoError> {
        let within = [conversation.get()];
        let counts = unread_by_conversation(&self.db, user, Some(&within)).await?;
        Ok(counts.first().map_or(0, |&(_, n)| n))
    }

    async fn unread_counts(&self, user: UserId) -> Result<Vec<(ConversationId, u64)>, RepoError> {
        unread_by_conversation(&self.db, user, None).await
    }
}
