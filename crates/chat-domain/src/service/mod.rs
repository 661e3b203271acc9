//! Use-case services: each gathers facts through the ports, applies the rules, persists and
//! publishes the outcome. One service per group of operations of the contract, each operation
//! with its own error enum; the inbound adapters map those to protocol codes, once.
//!
//! Each service holds only the ports it uses, named in its constructor (so another backend
//! service can build one over adapters of its own); [`Services::new`] is the one assembler that
//! wires a whole [`Ports`] set into all of them.
//!
//! Publishing is best effort: once an operation has committed, a failed publish is logged and
//! the operation still succeeds (clients recover missed events through resume and REST).

mod block;
mod context_cache;
mod conversation;
mod group;
mod messaging;
mod mute;
mod presence;
mod read;
mod recorded_users;
mod session;
mod typing;

use std::sync::Arc;

pub use self::{
    block::{BlockError, BlockService, UnblockOutcome},
    context_cache::SendContextCache,
    conversation::{
        ChatList, ChatListItem, ConversationService, CreateConversationError, HistoryError,
        HistoryMessage, HistoryView, read_by,
    },
    group::{CreateGroup, GroupError, GroupService, MemberList, MemberView, MembersAdded},
    messaging::{MessagingService, SendMessage, SendMessageError},
    mute::{MuteError, MuteService},
    presence::{PresenceService, PresenceUpdateError},
    read::{MarkRead, MarkReadError, ReadAck, ReadService},
    session::{
        AuthError, ConnectOutcome, ConnectRequest, Departure, Principal, RefreshError,
        ResumedSession, SessionService,
    },
    typing::{TypingAck, TypingError, TypingKey, TypingService},
};
use crate::{
    conversation::{Conversation, ensure_active_participant},
    error::RepoError,
    events::{Audience, ServerEvent},
    group::GroupPolicy,
    ids::{ConversationId, UserId},
    message::ContentPolicy,
    ports::{
        BlockRepository, Clock, ConversationRepository, EventPublisher, IdGenerator,
        MessageRepository, MuteRepository, PresenceStore, RateLimiter, SessionStore, TokenVerifier,
        UserRepository,
    },
    rate_limit::{RateDecision, RateLimitKey, RateLimitPolicy, RateLimitedAction},
    time::Timestamp,
    typing::TypingPolicy,
};

/// Every port: what [`Services::new`] wires into the services, each of which holds only the
/// ports it uses.
#[derive(Clone)]
pub struct Ports {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Conversations, participants, read markers.
    pub conversations: Arc<dyn ConversationRepository>,
    /// Messages.
    pub messages: Arc<dyn MessageRepository>,
    /// Blocks.
    pub blocks: Arc<dyn BlockRepository>,
    /// Mutes.
    pub mutes: Arc<dyn MuteRepository>,
    /// Live sockets and resume points.
    pub sessions: Arc<dyn SessionStore>,
    /// Presence.
    pub presence: Arc<dyn PresenceStore>,
    /// Rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Real-time effects.
    pub publisher: Arc<dyn EventPublisher>,
    /// Token verification.
    pub tokens: Arc<dyn TokenVerifier>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Fresh ids.
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports")
    }
}

/// The tunable rules (the contract's configuration section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policies {
    /// Message content limits.
    pub content: ContentPolicy,
    /// Rate limits per action.
    pub rate: RateLimitPolicy,
    /// Typing timings.
    pub typing: TypingPolicy,
    /// Group sizes (`CHAT_MAX_GROUP_MEMBERS`, `CHAT_GROUP_BROADCAST_MAX_MEMBERS`).
    pub groups: GroupPolicy,
    /// Resume window after a disconnect (`CHAT_RESUME_WINDOW_SECS`), in milliseconds.
    pub resume_window: ResumeWindow,
    /// How far before a disconnect resume goes back without `lastSequences`.
    pub resume_margin: ResumeMargin,
}

/// How long before the server noticed a disconnect a message may have been emitted into a
/// connection that no longer delivered it, in milliseconds. A device resuming without
/// `lastSequences` is owed every message created after the disconnect minus this margin: it
/// may get again a few it had (clients drop repeats by `messageId`), never fewer.
///
/// One margin for every departure, the contract's bound (section 5: ping interval + ping
/// timeout + 2 s): after a heartbeat timeout a dead connection went unnoticed that long; after
/// a goodbye or a closed transport, what the server emitted while the goodbye was on the wire
/// (or into the closing transport) is lost too, and a message created before the goodbye may
/// be emitted well after it (a slow commit, a busy node), so no shorter margin is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeMargin(pub i64);

impl ResumeMargin {
    /// What a disconnect takes to reach the server and be handled, plus the clock skew between
    /// nodes.
    pub const HANDLING_MS: i64 = 2_000;

    /// The margin for a heartbeat that leaves a dead connection unnoticed for `unnoticed_ms`
    /// (ping interval + ping timeout).
    #[must_use]
    pub const fn for_heartbeat(unnoticed_ms: i64) -> Self {
        Self(unnoticed_ms.saturating_add(Self::HANDLING_MS))
    }
}

impl Default for ResumeMargin {
    /// Socket.IO's default heartbeat: 25 s + 20 s.
    fn default() -> Self {
        Self::for_heartbeat(45_000)
    }
}

/// How long after a disconnect the same device resumes, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeWindow(pub i64);

impl Default for ResumeWindow {
    fn default() -> Self {
        Self(1_800_000)
    }
}

/// All services, built over one set of ports and policies.
#[derive(Debug, Clone)]
pub struct Services {
    /// Section 2, 3 and 5: authentication, connect, resume, disconnect.
    pub sessions: Arc<SessionService>,
    /// Section 4.1: sending.
    pub messaging: Arc<MessagingService>,
    /// Section 4.2: read markers.
    pub reads: Arc<ReadService>,
    /// Section 4.3: typing.
    pub typing: Arc<TypingService>,
    /// Section 4.4: presence.
    pub presence: Arc<PresenceService>,
    /// Section 4.5: blocks.
    pub blocks: Arc<BlockService>,
    /// Section 4.5: mutes.
    pub mutes: Arc<MuteService>,
    /// Section 6: conversations, chat list, history, block and mute lists.
    pub conversations: Arc<ConversationService>,
}

impl Services {
    /// Builds every service over `ports` with `policies`: the one place that wires ports into
    /// services. Messaging, blocks and mutes share one [`SendContextCache`]; sessions announce
    /// presence through the presence service.
    #[must_use]
    pub fn new(ports: Ports, policies: Policies) -> Self {
        let Ports {
            users,
            conversations,
            messages,
            blocks,
            mutes,
            sessions,
            presence,
            rate_limiter,
            publisher,
            tokens,
            clock,
            ids,
        } = ports;
        let cache = Arc::new(SendContextCache::default());
        let presence_service = Arc::new(PresenceService::new(
            conversations.clone(),
            blocks.clone(),
            presence.clone(),
            publisher.clone(),
            clock.clone(),
        ));
        Self {
            sessions: Arc::new(SessionService::new(
                users,
                conversations.clone(),
                messages.clone(),
                blocks.clone(),
                sessions,
                tokens,
                clock.clone(),
                ids.clone(),
                policies,
                presence_service.clone(),
            )),
            messaging: Arc::new(MessagingService::new(
                conversations.clone(),
                messages.clone(),
                rate_limiter.clone(),
                publisher.clone(),
                clock.clone(),
                policies,
                cache.clone(),
            )),
            reads: Arc::new(ReadService::new(
                conversations.clone(),
                messages.clone(),
                mutes.clone(),
                rate_limiter.clone(),
                publisher.clone(),
                clock.clone(),
                policies,
            )),
            typing: Arc::new(TypingService::new(
                conversations.clone(),
                blocks.clone(),
                rate_limiter.clone(),
                publisher.clone(),
                clock.clone(),
                policies,
            )),
            presence: presence_service,
            blocks: Arc::new(BlockService::new(
                conversations.clone(),
                blocks.clone(),
                rate_limiter.clone(),
                publisher.clone(),
                clock.clone(),
                policies,
                cache.clone(),
            )),
            mutes: Arc::new(MuteService::new(
                conversations.clone(),
                mutes.clone(),
                rate_limiter,
                publisher.clone(),
                clock.clone(),
                policies,
                cache,
            )),
            conversations: Arc::new(ConversationService::new(
                conversations,
                messages,
                blocks,
                mutes,
                presence,
                publisher,
                clock,
                ids,
            )),
        }
    }
}

/// A rate limit refused the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// Whole seconds until it may be tried again.
    pub retry_after_secs: u64,
}

/// Counts `action` of `user` against its quota in `policy`.
async fn check_rate(
    rate_limiter: &dyn RateLimiter,
    policy: &RateLimitPolicy,
    user: UserId,
    action: RateLimitedAction,
    now: Timestamp,
) -> Result<Result<(), RateLimited>, RepoError> {
    let key = RateLimitKey {
        user_id: user,
        action,
    };
    match rate_limiter.check(key, policy.quota(action), now).await? {
        RateDecision::Allowed => Ok(Ok(())),
        RateDecision::Limited { retry_after_secs } => Ok(Err(RateLimited { retry_after_secs })),
    }
}

/// The conversation `id` when `user` is an active participant of it; `None` otherwise (an
/// unknown conversation included: its existence is not revealed).
async fn participant_conversation(
    conversations: &dyn ConversationRepository,
    user: UserId,
    id: ConversationId,
) -> Result<Option<Conversation>, RepoError> {
    let found = conversations.find_conversation(id).await?;
    Ok(found.filter(|c| ensure_active_participant(user, &c.participants).is_ok()))
}

/// Publishes, logging a failure instead of returning it: the operation has committed.
async fn publish(publisher: &dyn EventPublisher, audience: Audience, event: ServerEvent) {
    if let Err(error) = publisher.publish(audience, event).await {
        tracing::warn!(error = %error, "publishing an event failed");
    }
}

#[cfg(test)]
mod tests;
