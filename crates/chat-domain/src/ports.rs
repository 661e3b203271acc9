//! The ports: what the domain needs from the outside world. Adapters implement them; services
//! hold them as `Arc<dyn Port>`. Every method is one atomic business operation; transactions
//! stay inside the adapter.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::{
    block::Block,
    conversation::{ChatListPage, Conversation, Created, OneToOnePair},
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    message::{AppendOutcome, NewMessage, StoredMessage},
    mute::Mute,
    paging::{HistoryQuery, PageLimit},
    presence::{PresenceChange, PresenceStatus},
    rate_limit::{Quota, RateDecision, RateLimitKey},
    read_marker::{MarkerMove, ReadTarget},
    resume::{ConversationHead, ResumePoint},
    sequence::{ClientSequence, ServerSequence},
    time::Timestamp,
    user::DisplayName,
};

/// Users, created the first time their id is seen.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait UserRepository: Send + Sync {
    /// Creates the user if missing; when `name` is given, sets it as the display name. A changed
    /// name moves the [`ContextVersion`] of every conversation of the user.
    async fn upsert_user(
        &self,
        id: UserId,
        name: Option<DisplayName>,
        now: Timestamp,
    ) -> Result<(), RepoError>;
}

/// Conversations, their participants and the participants' read markers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ConversationRepository: Send + Sync {
    /// Returns the one-to-one conversation of `pair`, creating it (with `new_id`, both users'
    /// rows and both participants, joined at `now`) when there is none. Two concurrent calls
    /// for one pair yield one conversation.
    async fn find_or_create_one_to_one(
        &self,
        pair: OneToOnePair,
        new_id: ConversationId,
        now: Timestamp,
    ) -> Result<(Conversation, Created), RepoError>;

    /// The conversation with its participants (names included), if it exists.
    async fn find_conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, RepoError>;

    /// What a send checks, read at one version; `None` when the conversation does not exist.
    async fn fetch_send_context(
        &self,
        id: ConversationId,
    ) -> Result<Option<SendContext>, RepoError>;

    /// Every conversation `user` is an active participant of, with its newest sequence.
    async fn list_conversation_heads(
        &self,
        user: UserId,
    ) -> Result<Vec<ConversationHead>, RepoError>;

    /// A page of `user`'s chat list, newest activity first. `now` decides which mutes are in
    /// force. Presence is not the repository's business; the service adds it.
    async fn list_chat_list(
        &self,
        user: UserId,
        limit: PageLimit,
        offset: u64,
        now: Timestamp,
    ) -> Result<ChatListPage, RepoError>;

    /// Moves `user`'s read marker in `conversation` forward to `proposed` (clamped to the
    /// conversation's newest sequence), atomically: a concurrent older proposal never moves it
    /// back. Returns `RepoError::NotFound` when `user` is not a participant.
    async fn advance_read_marker(
        &self,
        conversation: ConversationId,
        user: UserId,
        proposed: ServerSequence,
        now: Timestamp,
    ) -> Result<MarkerMove, RepoError>;

    /// Messages others sent in `conversation` after `user`'s marker.
    async fn unread_count(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<u64, RepoError>;

    /// `unread_count` of every conversation `user` is an active participant of (zeros included).
    async fn unread_counts(&self, user: UserId) -> Result<Vec<(ConversationId, u64)>, RepoError>;
}

/// The version of what a send checks in a conversation (participants, their names, blocks,
/// mutes). Every change to those moves it; an append conditioned on it refuses to commit when
/// the checks were made on an older state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ContextVersion(pub u64);

/// What a send needs to know about a conversation, read at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendContext {
    /// The conversation with its participants and their names. Read markers may be older than
    /// the version; nothing is decided on them.
    pub conversation: Conversation,
    /// The blocks standing in it.
    pub blocks: Vec<Block>,
    /// The participants' mutes of it, expired or not.
    pub mutes: Vec<Mute>,
    /// The version all of the above was read at.
    pub version: ContextVersion,
}

/// Another participant's state right after an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientState {
    /// Who.
    pub user_id: UserId,
    /// Messages others sent after their marker, the new one included.
    pub unread_count: u64,
    /// Their marker.
    pub last_read_sequence: ServerSequence,
    /// When it last moved.
    pub last_read_at: Option<Timestamp>,
}

/// The result of an append conditioned on a context version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedAppend {
    /// The version was current: the append happened (or was a resend).
    Done {
        /// Created or duplicate, as [`MessageRepository::append`].
        outcome: AppendOutcome,
        /// For a created message: every other active participant, with unread counts after
        /// it. Empty for a duplicate.
        recipients: Vec<RecipientState>,
    },
    /// The version moved since the context was read: nothing was stored. Read the context
    /// again, check again, retry.
    StaleContext,
}

/// A page of history, ascending by sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// The messages.
    pub items: Vec<StoredMessage>,
    /// Whether more exist in the paging direction.
    pub has_more: bool,
}

/// Messages.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait MessageRepository: Send + Sync {
    /// Appends a message while the conversation's context version is `expected` (otherwise
    /// stores nothing and answers `StaleContext`), assigning the next server sequence of its
    /// conversation in the same transaction as the insert (gap-free under concurrency). A
    /// created message also reports the other active participants' unread counts; its
    /// `sender_name` may be left `None` (the caller knows the participants). On PostgreSQL
    /// this is one statement (one round trip).
    ///
    /// # Errors
    /// MUST return `AppendOutcome::Duplicate` (not an error) with the original when this sender
    /// already stored this message id in this conversation, and `RepoError::Conflict` when the id
    /// was used by another sender or in another conversation, or when the sender device's client
    /// sequence is taken by another id. Recognised from the unique constraints, never by
    /// checking first. `RepoError::NotFound` for an unknown conversation.
    async fn append_if_current(
        &self,
        msg: NewMessage,
        expected: ContextVersion,
    ) -> Result<CheckedAppend, RepoError>;

    /// A message by id.
    async fn find_message(&self, id: MessageId) -> Result<Option<StoredMessage>, RepoError>;

    /// A page of a conversation's history.
    async fn list_history(
        &self,
        conversation: ConversationId,
        query: HistoryQuery,
    ) -> Result<HistoryPage, RepoError>;

    /// The furthest sequence a read target names in `conversation`: its explicit sequence, the
    /// newest message at or before its instant, the newest of its message ids (ids of other
    /// conversations are ignored). `None` when it names no message.
    async fn resolve_read_target(
        &self,
        conversation: ConversationId,
        target: ReadTarget,
    ) -> Result<Option<ServerSequence>, RepoError>;

    /// Messages after each cursor, ordered by (conversation, sequence), at most `limit`, and
    /// whether more exist.
    async fn list_pending(
        &self,
        cursors: Vec<(ConversationId, ServerSequence)>,
        limit: u32,
    ) -> Result<HistoryPage, RepoError>;

    /// For each of `conversations`, the first sequence of a message created after `instant`
    /// (conversations with none are left out). Resume uses it to owe a device everything that
    /// may have been emitted into a connection already dead.
    async fn first_sequences_after(
        &self,
        conversations: Vec<ConversationId>,
        instant: Timestamp,
    ) -> Result<Vec<(ConversationId, ServerSequence)>, RepoError>;

    /// The newest client sequence `sender` committed from `device` in `conversation`.
    async fn last_client_sequence(
        &self,
        conversation: ConversationId,
        sender: UserId,
        device: DeviceId,
    ) -> Result<Option<ClientSequence>, RepoError>;
}

/// Blocks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait BlockRepository: Send + Sync {
    /// Stores the block; when it already stands, returns the existing one unchanged. A new
    /// block moves the conversation's [`ContextVersion`].
    async fn insert_block(&self, block: Block) -> Result<Block, RepoError>;

    /// The blocks standing in a conversation.
    async fn list_conversation_blocks(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Block>, RepoError>;

    /// The blocks `user` made, in every conversation, oldest first.
    async fn list_user_blocks(&self, user: UserId) -> Result<Vec<Block>, RepoError>;

    /// The blocks `user` made or is subject to.
    async fn list_blocks_involving(&self, user: UserId) -> Result<Vec<Block>, RepoError>;

    /// Lifts the block; returns it when it stood (then the conversation's [`ContextVersion`]
    /// moves).
    async fn delete_block(
        &self,
        conversation: ConversationId,
        blocker: UserId,
        blocked: UserId,
    ) -> Result<Option<Block>, RepoError>;
}

/// Mutes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait MuteRepository: Send + Sync {
    /// Stores the mute, replacing any earlier one of the same user and conversation, and moves
    /// the conversation's [`ContextVersion`].
    async fn upsert_mute(&self, mute: Mute) -> Result<Mute, RepoError>;

    /// The user's mute of a conversation, expired or not.
    async fn find_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError>;

    /// The user's mutes in force at `now`, oldest first.
    async fn list_user_mutes(&self, user: UserId, now: Timestamp) -> Result<Vec<Mute>, RepoError>;

    /// Lifts the mute; returns it when there was one (then the conversation's
    /// [`ContextVersion`] moves).
    async fn delete_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError>;
}

/// One live socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketSession {
    /// Which socket.
    pub socket_id: SocketId,
    /// Whose.
    pub user_id: UserId,
    /// From which device.
    pub device_id: DeviceId,
    /// Since when.
    pub connected_at: Timestamp,
}

/// Live sockets and the resume points of devices that left.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Records a live socket.
    async fn insert_session(&self, session: SocketSession) -> Result<(), RepoError>;

    /// The live sockets of a user.
    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SocketSession>, RepoError>;

    /// Forgets a socket; returns it when it was known.
    async fn delete_session(&self, socket: SocketId) -> Result<Option<SocketSession>, RepoError>;

    /// Records where a device stood when it left, kept for `ttl_ms`; replaces an earlier one.
    async fn insert_resume_point(&self, point: ResumePoint, ttl_ms: i64) -> Result<(), RepoError>;

    /// Takes (returns and forgets) a device's resume point, if one is kept.
    async fn take_resume_point(
        &self,
        user: UserId,
        device: DeviceId,
    ) -> Result<Option<ResumePoint>, RepoError>;
}

/// Presence of every connection, aggregated per user.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait PresenceStore: Send + Sync {
    /// Sets one connection's status (connecting is setting `Online`); returns the user's
    /// aggregate before and after, atomically.
    async fn set_connection_status(
        &self,
        user: UserId,
        socket: SocketId,
        status: PresenceStatus,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError>;

    /// Removes one connection; returns the aggregate before and after, atomically, and records
    /// `now` as last seen when the user goes offline.
    async fn remove_connection(
        &self,
        user: UserId,
        socket: SocketId,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError>;

    /// The aggregate presence of each user asked for (unknown users are `Offline`).
    async fn fetch_presence(
        &self,
        users: Vec<UserId>,
    ) -> Result<BTreeMap<UserId, PresenceStatus>, RepoError>;

    /// Extends the lease of a live connection (stores shared by several nodes count a
    /// connection only while its node renews it). `false` when the connection is unknown or its
    /// lease lapsed: set its status again. A store of one process has no leases: always `true`.
    async fn renew_connection(&self, user: UserId, socket: SocketId) -> Result<bool, RepoError> {
        let _ = (user, socket);
        Ok(true)
    }

    /// Drops the connections whose lease lapsed (their node stopped renewing them: it crashed
    /// or lost the store) and returns each user whose aggregate that changed, so that the
    /// change is announced once, by whichever node swept it. A store of one process has no
    /// leases: always empty.
    async fn sweep_lapsed(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(UserId, PresenceChange)>, RepoError> {
        let _ = now;
        Ok(Vec::new())
    }
}

/// Counts actions against quotas.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one action of `key` at `now` against `quota`, atomically; a refused action is not
    /// counted.
    async fn check(
        &self,
        key: RateLimitKey,
        quota: Quota,
        now: Timestamp,
    ) -> Result<RateDecision, RepoError>;
}

/// The real-time effects: events to audiences and room membership.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait EventPublisher: Send + Sync {
    /// Sends `event` to `audience` (on every node).
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError>;

    /// Puts every live socket of `user` into the conversation's room (on every node).
    async fn join_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError>;

    /// Takes every live socket of `user` out of the conversation's room (on every node).
    async fn leave_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError>;
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `sub`.
    pub user_id: UserId,
    /// `name`, when present and valid.
    pub name: Option<DisplayName>,
    /// `exp`.
    pub expires_at: Timestamp,
}

/// How far past `exp` (or before `nbf`) a token is still accepted: the contract's 30 s.
pub const TOKEN_LEEWAY_SECS: u64 = 30;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token was given.
    #[error("token_missing")]
    Missing,
    /// Bad signature, algorithm, claims or format.
    #[error("token_invalid")]
    Invalid,
    /// Past its `exp` (beyond the leeway).
    #[error("token_expired")]
    Expired,
}

/// Verifies bearer tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenVerifier: Send + Sync {
    /// Verifies `token` and returns its claims.
    ///
    /// # Errors
    /// [`TokenError`] saying why it was refused.
    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError>;
}

/// The time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Fresh ids.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A fresh UUID (v7 in production, time-ordered).
    fn new_uuid(&self) -> Uuid;
}
