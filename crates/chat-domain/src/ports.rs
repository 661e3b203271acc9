//! The ports: what the domain needs from the outside world. Adapters implement them; services
//! hold them as `Arc<dyn Port>`. Every method is one atomic business operation; transactions
//! stay inside the adapter.
//!
//! # Errors
//! Every fallible method MUST return [`RepoError::Unavailable`] when its backing service is down,
//! busy or timed out (the same call may succeed later: a pool timeout, a lost connection, a
//! lock held too long) and [`RepoError::Internal`] for anything else that went wrong (a bug,
//! data that does not decode). [`RepoError::NotFound`] and [`RepoError::Conflict`] are returned
//! only where a method's `# Errors` says so: something absent is otherwise an `Ok` answer
//! (`None`, an empty list), and services rely on that.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::{
    block::Block,
    change::{Change, ChangeSequence, GroupEvent},
    conversation::{ChatListPage, Conversation, Created, OneToOnePair, Participant},
    error::RepoError,
    events::{Audience, ServerEvent},
    group::GroupTitle,
    ids::{ConversationId, DeviceId, MessageId, SocketId, UserId},
    membership::Windows,
    message::{AppendOutcome, NewMessage, StoredMessage},
    mute::Mute,
    paging::{HistoryQuery, PageLimit},
    presence::{PresenceChange, PresenceStatus},
    rate_limit::{Quota, RateDecision, RateLimitKey},
    read_marker::{MarkerAdvance, ReadTarget},
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
    ///
    /// # Errors
    /// Outages and failures only (see [the module](self#errors)): a known user is updated, never a
    /// `Conflict`.
    async fn upsert_user(
        &self,
        id: UserId,
        name: Option<DisplayName>,
        now: Timestamp,
    ) -> Result<(), RepoError>;

    /// Voids every token of `id` issued at or before `at` (contract section 2, revocation),
    /// creating the user if missing. The point only moves forward: an older `at` changes
    /// nothing.
    ///
    /// # Errors
    /// Outages and failures only.
    async fn revoke_tokens(&self, id: UserId, at: Timestamp) -> Result<(), RepoError>;

    /// The user's revocation point: tokens issued at or before it are void. `None`: never
    /// revoked (or unknown user).
    ///
    /// # Errors
    /// Outages and failures only.
    async fn revoked_at(&self, id: UserId) -> Result<Option<Timestamp>, RepoError>;

    /// Up to `limit` revocation points later than `after` (every one when `None`), oldest
    /// first: what a node polls to disconnect the live sockets of revoked users.
    ///
    /// # Errors
    /// Outages and failures only.
    async fn revocations_after(
        &self,
        after: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Revocation>, RepoError>;
}

/// A user's tokens issued at or before `at` are void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// Whose.
    pub user_id: UserId,
    /// The point.
    pub at: Timestamp,
}

impl Revocation {
    /// Whether a token issued at `issued_at` is void under this revocation. `iat` has second
    /// precision, so a token issued in the very second of the revocation is void too (a new
    /// token needs an `iat` at least one second later); one without `iat` cannot show it was
    /// issued afterwards and is void.
    #[must_use]
    pub fn voids(&self, issued_at: Option<Timestamp>) -> bool {
        issued_at.is_none_or(|iat| iat.millis() / 1_000 <= self.at.millis() / 1_000)
    }
}

/// Conversations, their participants and the participants' read markers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait ConversationRepository: Send + Sync {
    /// Returns the one-to-one conversation of `pair`, creating it (with `new_id`, both users'
    /// rows and both participants, joined at `now`) when there is none. Two concurrent calls
    /// for one pair yield one conversation.
    ///
    /// # Errors
    /// MUST return `RepoError::Conflict` when `new_id` is already the id of another conversation
    /// (the pair's own conversation is returned as `Created::Existing`, not refused).
    async fn find_or_create_one_to_one(
        &self,
        pair: OneToOnePair,
        new_id: ConversationId,
        now: Timestamp,
    ) -> Result<(Conversation, Created), RepoError>;

    /// The conversation with its participants (names included), if it exists.
    ///
    /// # Errors
    /// Outages and failures only: an unknown conversation is `Ok(None)`.
    async fn find_conversation(
        &self,
        id: ConversationId,
    ) -> Result<Option<Conversation>, RepoError>;

    /// What a send checks, read at one version; `None` when the conversation does not exist.
    ///
    /// # Errors
    /// Outages and failures only: an unknown conversation is `Ok(None)`.
    async fn fetch_send_context(
        &self,
        id: ConversationId,
    ) -> Result<Option<SendContext>, RepoError>;

    /// Every conversation `user` is an active participant of, with its newest sequence.
    ///
    /// # Errors
    /// Outages and failures only: a user with none (or unknown) gets an empty list.
    async fn list_conversation_heads(
        &self,
        user: UserId,
    ) -> Result<Vec<ConversationHead>, RepoError>;

    /// A page of `user`'s chat list, newest activity first. `now` decides which mutes are in
    /// force. Presence is not the repository's business; the service adds it.
    ///
    /// # Errors
    /// Outages and failures only: a user with none (or unknown) gets an empty page.
    async fn list_chat_list(
        &self,
        user: UserId,
        limit: PageLimit,
        offset: u64,
        now: Timestamp,
    ) -> Result<ChatListPage, RepoError>;

    /// Moves `user`'s read marker in `conversation` forward to `proposed` (clamped to the
    /// conversation's newest sequence), atomically: a concurrent older proposal never moves it
    /// back. Returns the resulting marker (moved or not) with the unread count after that very
    /// marker, read in the same atomic step: under concurrent reads, never the count of a
    /// marker another read moved to.
    ///
    /// # Errors
    /// MUST return `RepoError::NotFound` when `user` is not a participant of `conversation` or the
    /// conversation does not exist (the read service answers "not a participant").
    async fn advance_read_marker(
        &self,
        conversation: ConversationId,
        user: UserId,
        proposed: ServerSequence,
        now: Timestamp,
    ) -> Result<MarkerAdvance, RepoError>;

    /// Messages others sent in `conversation` after `user`'s marker.
    ///
    /// # Errors
    /// Outages and failures only. For a user who is not an active participant the answer is not
    /// pinned down (the SQL store answers 0, the testkit fake `NotFound`): callers ask only for
    /// participants.
    async fn unread_count(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<u64, RepoError>;

    /// `unread_count` of every conversation `user` is an active participant of (zeros included).
    ///
    /// # Errors
    /// Outages and failures only: a user with none gets an empty list.
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
    ///
    /// # Errors
    /// Outages and failures only: an unknown id is `Ok(None)`.
    async fn find_message(&self, id: MessageId) -> Result<Option<StoredMessage>, RepoError>;

    /// A page of a conversation's history.
    ///
    /// # Errors
    /// Outages and failures only: an unknown conversation, or a page past the end, is an empty
    /// page. Whether the caller may read it is the service's check, not the repository's.
    async fn list_history(
        &self,
        conversation: ConversationId,
        query: HistoryQuery,
    ) -> Result<HistoryPage, RepoError>;

    /// The furthest sequence a read target names in `conversation`: its explicit sequence, the
    /// newest message at or before its instant, the newest of its message ids (ids of other
    /// conversations are ignored). `None` when it names no message.
    ///
    /// # Errors
    /// Outages and failures only: a target naming nothing (unknown ids, an instant before the first
    /// message) is `Ok(None)`.
    async fn resolve_read_target(
        &self,
        conversation: ConversationId,
        target: ReadTarget,
    ) -> Result<Option<ServerSequence>, RepoError>;

    /// Messages after each cursor, ordered by (conversation, sequence), at most `limit`, and
    /// whether more exist.
    ///
    /// # Errors
    /// Outages and failures only: no cursors, or nothing after them, is an empty page.
    async fn list_pending(
        &self,
        cursors: Vec<(ConversationId, ServerSequence)>,
        limit: u32,
    ) -> Result<HistoryPage, RepoError>;

    /// For each of `conversations`, the first sequence of a message created after `instant`
    /// (conversations with none are left out). Resume uses it to owe a device everything that
    /// may have been emitted into a connection already dead.
    ///
    /// # Errors
    /// Outages and failures only.
    async fn first_sequences_after(
        &self,
        conversations: Vec<ConversationId>,
        instant: Timestamp,
    ) -> Result<Vec<(ConversationId, ServerSequence)>, RepoError>;

    /// The newest client sequence `sender` committed from `device` in `conversation`.
    ///
    /// # Errors
    /// Outages and failures only: no numbered message from that device is `Ok(None)`.
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
    ///
    /// # Errors
    /// A standing block is returned, never a `Conflict`. A store that keeps referential integrity
    /// returns `RepoError::NotFound` when the conversation or either user does not exist (the SQL
    /// stores do, by foreign key; the testkit fake does not check): the block service checks the
    /// conversation and both participants first. `RepoError::Unavailable` also when the block kept
    /// being lifted by concurrent unblocks while it was stored.
    async fn insert_block(&self, block: Block) -> Result<Block, RepoError>;

    /// The blocks standing in a conversation.
    ///
    /// # Errors
    /// Outages and failures only: none (or an unknown conversation) is an empty list.
    async fn list_conversation_blocks(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Block>, RepoError>;

    /// The blocks `user` made, in every conversation, oldest first.
    ///
    /// # Errors
    /// Outages and failures only: none is an empty list.
    async fn list_user_blocks(&self, user: UserId) -> Result<Vec<Block>, RepoError>;

    /// The blocks `user` made or is subject to.
    ///
    /// # Errors
    /// Outages and failures only: none is an empty list.
    async fn list_blocks_involving(&self, user: UserId) -> Result<Vec<Block>, RepoError>;

    /// Lifts the block; returns it when it stood (then the conversation's [`ContextVersion`]
    /// moves).
    ///
    /// # Errors
    /// Outages and failures only: no such block is `Ok(None)`, not `NotFound`.
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
    ///
    /// # Errors
    /// An earlier mute is replaced, never a `Conflict`. A store that keeps referential integrity
    /// returns `RepoError::NotFound` when the conversation or the user does not exist (the SQL
    /// stores do, by foreign key; the testkit fake does not check): the mute service checks that
    /// the user is a participant first.
    async fn upsert_mute(&self, mute: Mute) -> Result<Mute, RepoError>;

    /// The user's mute of a conversation, expired or not.
    ///
    /// # Errors
    /// Outages and failures only: no mute is `Ok(None)`.
    async fn find_mute(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<Option<Mute>, RepoError>;

    /// The user's mutes in force at `now`, oldest first.
    ///
    /// # Errors
    /// Outages and failures only: none is an empty list.
    async fn list_user_mutes(&self, user: UserId, now: Timestamp) -> Result<Vec<Mute>, RepoError>;

    /// Lifts the mute; returns it when there was one (then the conversation's
    /// [`ContextVersion`] moves).
    ///
    /// # Errors
    /// Outages and failures only: no mute is `Ok(None)`, not `NotFound`.
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
    /// Records a live socket; a socket recorded again replaces its earlier record (and leaves
    /// the earlier user's sockets when the user differs).
    ///
    /// # Errors
    /// Outages and failures only (see [the module](self#errors)).
    async fn insert_session(&self, session: SocketSession) -> Result<(), RepoError>;

    /// The live sockets of a user.
    ///
    /// # Errors
    /// Outages and failures only: none is an empty list.
    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SocketSession>, RepoError>;

    /// Forgets a socket; returns it when it was known.
    ///
    /// # Errors
    /// Outages and failures only: an unknown socket is `Ok(None)`.
    async fn delete_session(&self, socket: SocketId) -> Result<Option<SocketSession>, RepoError>;

    /// Records where a device stood when it left, kept for `ttl_ms`; replaces an earlier one.
    /// A `ttl_ms` of zero or less keeps nothing (the earlier one is gone too).
    ///
    /// # Errors
    /// Outages and failures only.
    async fn insert_resume_point(&self, point: ResumePoint, ttl_ms: i64) -> Result<(), RepoError>;

    /// Takes (returns and forgets) a device's resume point, if one is kept.
    ///
    /// # Errors
    /// Outages and failures only: no point (or an expired one) is `Ok(None)`.
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
    ///
    /// # Errors
    /// Outages and failures only (see [the module](self#errors)).
    async fn set_connection_status(
        &self,
        user: UserId,
        socket: SocketId,
        status: PresenceStatus,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError>;

    /// Removes one connection; returns the aggregate before and after, atomically, and records
    /// `now` as last seen when the user goes offline.
    ///
    /// # Errors
    /// Outages and failures only: an unknown connection changes nothing (before and after are
    /// equal), it is not `NotFound`.
    async fn remove_connection(
        &self,
        user: UserId,
        socket: SocketId,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError>;

    /// The aggregate presence of each user asked for (unknown users are `Offline`).
    ///
    /// # Errors
    /// Outages and failures only.
    async fn fetch_presence(
        &self,
        users: Vec<UserId>,
    ) -> Result<BTreeMap<UserId, PresenceStatus>, RepoError>;

    /// Extends the lease of a live connection (stores shared by several nodes count a
    /// connection only while its node renews it). `false` when the connection is unknown or its
    /// lease lapsed: set its status again. A store of one process has no leases: always `true`.
    ///
    /// # Errors
    /// Outages and failures only: an unknown or lapsed connection is `Ok(false)`.
    async fn renew_connection(&self, user: UserId, socket: SocketId) -> Result<bool, RepoError> {
        let _ = (user, socket);
        Ok(true)
    }

    /// Drops the connections whose lease lapsed (their node stopped renewing them: it crashed
    /// or lost the store) and returns each user whose aggregate that changed, so that the
    /// change is announced once, by whichever node swept it. A store of one process has no
    /// leases: always empty.
    ///
    /// # Errors
    /// Outages and failures only.
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
    ///
    /// # Errors
    /// Outages and failures only: an action over the quota is `Ok(RateDecision::Limited)`, never an
    /// error.
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
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the event could not be handed to the transport (it
    /// is not running yet or any more, or the broadcast failed). A socket of the audience that
    /// cannot take it (closing, its send buffer full) is not an error: that socket recovers the
    /// event through resume. Services log a failure and carry on (best effort).
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError>;

    /// Puts every live socket of `user` into the conversation's room (on every node).
    ///
    /// # Errors
    /// MUST return `RepoError::Unavailable` when the membership could not be changed (the transport
    /// is not running, or the change could not reach every node). A user with no live socket is no
    /// error.
    async fn join_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError>;

    /// Takes every live socket of `user` out of the conversation's room (on every node).
    ///
    /// # Errors
    /// As [`Self::join_conversation`].
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
    /// `iat`, when present.
    pub issued_at: Option<Timestamp>,
}

/// How far past `exp` (or before `nbf`) a token is still accepted: the contract's 30 s.
pub const TOKEN_LEEWAY_SECS: u64 = 30;

/// Why a token was refused. The texts are prose for logs; each transport spells its own wire
/// code for each variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token was given.
    #[error("no token was given")]
    Missing,
    /// Bad signature, algorithm, claims or format.
    #[error("the token is invalid")]
    Invalid,
    /// Past its `exp` (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// Issued before the user's tokens were revoked.
    #[error("the token was revoked")]
    Revoked,
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

/// A group to create (contract 7.1): the creator becomes its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    /// Its id.
    pub id: ConversationId,
    /// Who creates it (the owner).
    pub creator: UserId,
    /// Its title.
    pub title: GroupTitle,
    /// The other first members (the creator and repeats already left out).
    pub members: Vec<UserId>,
    /// The creator's idempotency key.
    pub request_id: Option<Uuid>,
    /// When.
    pub now: Timestamp,
}

/// A group as its membership rules see it, read at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// The conversation with everyone who ever joined (roles, names, `left_at`).
    pub conversation: Conversation,
    /// The version it was read at (membership changes move it, as they move what a send checks).
    pub version: ContextVersion,
    /// Its newest change.
    pub last_change: ChangeSequence,
}

/// The result of membership changes conditioned on a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupApplied {
    /// Committed, in order, each with its change sequence.
    Done(Vec<Change>),
    /// The group changed since it was read: nothing was stored. Read it again, check again.
    StaleContext,
}

/// A page of a group's current members, owner first, then by `joined_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPage {
    /// The members on this page (names and roles; presence is the service's).
    pub items: Vec<Participant>,
    /// How many members the group has.
    pub total: u64,
}

/// A page of the change log, as one member may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    /// Ascending by change sequence.
    pub items: Vec<Change>,
    /// Whether more changes the member may see follow.
    pub has_more: bool,
    /// The newest change the member may know of (the end of their last window once removed).
    pub last_change: ChangeSequence,
}

/// Groups: creation, membership and the change log of every conversation.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait GroupRepository: Send + Sync {
    /// Creates a group: the conversation (kind group, its title), a user row for every member
    /// not seen before, the creator as owner and the others as members (each with a window
    /// opening at the start), and change 1 (`GroupEvent::Created`), in one transaction. When the
    /// creator already created a group with `request_id`, returns that one, `Created::Existing`.
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn insert_group(&self, group: NewGroup) -> Result<(Conversation, Created), RepoError>;

    /// The group `creator` created with `request_id`, if any.
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn find_group_by_request(
        &self,
        creator: UserId,
        request_id: Uuid,
    ) -> Result<Option<Conversation>, RepoError>;

    /// The conversation (of any kind) with everyone who ever joined it, at one version; `None`
    /// when it does not exist.
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn fetch_group_state(&self, id: ConversationId) -> Result<Option<GroupState>, RepoError>;

    /// Commits `events` in order if the conversation is still at `expected`: each gets the next
    /// change sequence; added members get a user row if new, a participant row (re)activated
    /// with role member, `joined_at` = `now` and a read marker at the newest message, and a
    /// window opening at their change; removed members are marked left and their window
    /// closes at their change; roles and the title are set; the version moves; a group left by
    /// its last member is closed. Nothing is committed when the version moved
    /// (`GroupApplied::StaleContext`).
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn apply_group_events(
        &self,
        id: ConversationId,
        expected: ContextVersion,
        events: Vec<GroupEvent>,
        now: Timestamp,
    ) -> Result<GroupApplied, RepoError>;

    /// A page of the current members, owner first, then by `joined_at` (then id).
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn list_members(
        &self,
        id: ConversationId,
        limit: PageLimit,
        offset: u64,
    ) -> Result<MemberPage, RepoError>;

    /// `user`'s membership windows in the conversation, oldest first (none: never a member).
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn fetch_windows(&self, id: ConversationId, user: UserId) -> Result<Windows, RepoError>;

    /// Up to `limit` changes after `after` that `user` may see (inside their windows; one about
    /// a message only if that message is inside them too), ascending; messages as stored now
    /// (erasure is retroactive).
    ///
    /// # Errors
    /// `Unavailable` / `Internal` only.
    async fn list_changes(
        &self,
        id: ConversationId,
        user: UserId,
        after: ChangeSequence,
        limit: PageLimit,
    ) -> Result<ChangePage, RepoError>;
}
