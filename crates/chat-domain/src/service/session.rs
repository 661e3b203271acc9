//! Authentication, connect, resume and disconnect (contract sections 2, 3 and 5).
//!
//! A connect is two steps, so that no message falls between the live room and the resume set:
//! the adapter asks [`SessionService::rooms`] which rooms the socket joins, joins them, and only
//! then calls [`SessionService::connect`], which reads what the device is owed. A message
//! committed in between reaches the socket live, and maybe in `pendingMessages` too; clients
//! tell the two apart by `messageId`.
//!
//! A disconnect is noticed after the fact: messages emitted shortly before may have gone into a
//! connection that no longer delivered them. So the resume point is lowered by a margin
//! ([`super::ResumeMargin`]): without `lastSequences`, a resuming device is owed everything
//! created since shortly before it was noticed gone, some of which it may already have.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use super::{Policies, presence::PresenceService, recorded_users::RecordedUsers};
use crate::{
    block::is_kept_out,
    error::RepoError,
    ids::{ConversationId, DeviceId, SocketId, UserId},
    message::StoredMessage,
    ports::{
        BlockRepository, Clock, ConversationRepository, IdGenerator, MessageRepository, Revocation,
        SessionStore, SocketSession, TokenError, TokenVerifier, UserRepository, VerifiedToken,
    },
    resume::{MAX_PENDING_MESSAGES, ResumePoint, resume_cursors, within_window},
    sequence::ServerSequence,
    time::Timestamp,
    user::DisplayName,
};

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub user_id: UserId,
    /// Display name from the token, if any.
    pub name: Option<DisplayName>,
    /// When the token expires.
    pub expires_at: Timestamp,
    /// When the token was issued (`iat`), if it says.
    pub issued_at: Option<Timestamp>,
}

impl From<VerifiedToken> for Principal {
    fn from(t: VerifiedToken) -> Self {
        Self {
            user_id: t.user_id,
            name: t.name,
            expires_at: t.expires_at,
            issued_at: t.issued_at,
        }
    }
}

/// Why authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token was missing, invalid or expired.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Recording the user failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Why a token refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The new token was invalid or expired.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The new token names another user; the socket must be disconnected.
    #[error("the token belongs to another user")]
    DifferentUser,
    /// Recording the user failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// A socket that has joined its rooms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Who.
    pub user_id: UserId,
    /// Which device (from [`SessionService::device_id`]).
    pub device_id: DeviceId,
    /// Which socket.
    pub socket_id: SocketId,
    /// The client's own cursors (`auth.lastSequences`), if it sent them.
    pub last_sequences: BTreeMap<ConversationId, ServerSequence>,
}

/// What a resuming device is owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumedSession {
    /// Messages committed while it was away, by (conversation, sequence); at most 500.
    pub pending: Vec<StoredMessage>,
    /// Whether more are owed than `pending` holds (the client then pages history).
    pub has_more: bool,
}

/// The answer to a connect (`connected` or `reconnected`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOutcome {
    /// Unread count of every conversation of the user.
    pub unread_counts: Vec<(ConversationId, u64)>,
    /// `Some` when the device resumed within the window.
    pub resumed: Option<ResumedSession>,
    /// The server's clock.
    pub server_time: Timestamp,
}

/// Sessions.
pub struct SessionService {
    users: Arc<dyn UserRepository>,
    conversations: Arc<dyn ConversationRepository>,
    messages: Arc<dyn MessageRepository>,
    blocks: Arc<dyn BlockRepository>,
    sessions: Arc<dyn SessionStore>,
    tokens: Arc<dyn TokenVerifier>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    policies: Policies,
    presence: Arc<PresenceService>,
    /// Users this process recorded, with the name it recorded: a token naming the same needs
    /// no write (every connect and REST call authenticates).
    recorded: RecordedUsers,
}

impl std::fmt::Debug for SessionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("policies", &self.policies)
            .finish_non_exhaustive()
    }
}

impl SessionService {
    /// A session service over these ports. Connects and disconnects update presence through
    /// `presence`.
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per port it uses; each is its own type, so none can be swapped"
    )]
    pub fn new(
        users: Arc<dyn UserRepository>,
        conversations: Arc<dyn ConversationRepository>,
        messages: Arc<dyn MessageRepository>,
        blocks: Arc<dyn BlockRepository>,
        sessions: Arc<dyn SessionStore>,
        tokens: Arc<dyn TokenVerifier>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        policies: Policies,
        presence: Arc<PresenceService>,
    ) -> Self {
        Self {
            users,
            conversations,
            messages,
            blocks,
            sessions,
            tokens,
            clock,
            ids,
            policies,
            presence,
            recorded: RecordedUsers::default(),
        }
    }

    /// Records the user and the name from a token, unless this process already recorded the
    /// same: one write per user and name, not per connect.
    async fn record_user(&self, user: UserId, name: Option<DisplayName>) -> Result<(), RepoError> {
        if self.recorded.covers(user, name.as_ref()) {
            return Ok(());
        }
        self.users
            .upsert_user(user, name.clone(), self.clock.now())
            .await?;
        self.recorded.record(user, name);
        Ok(())
    }

    /// Verifies a token and records the user (creating the row the first time, updating the
    /// display name when the token has one).
    ///
    /// # Errors
    /// [`AuthError`].
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, AuthError> {
        let token = token
            .filter(|t| !t.trim().is_empty())
            .ok_or(TokenError::Missing)?;
        let verified = self.verify(token)?;
        self.ensure_not_revoked(&verified).await?;
        self.record_user(verified.user_id, verified.name.clone())
            .await?;
        Ok(verified.into())
    }

    /// `TokenError::Revoked` when the user's tokens were revoked after this one was issued. Read
    /// on every authentication (one key lookup), so that a revocation holds at once on every
    /// node.
    async fn ensure_not_revoked(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        let Some(at) = self.users.revoked_at(token.user_id).await? else {
            return Ok(());
        };
        let revocation = Revocation {
            user_id: token.user_id,
            at,
        };
        if revocation.voids(token.issued_at) {
            return Err(TokenError::Revoked.into());
        }
        Ok(())
    }

    /// Revocation points later than `after`, oldest first, at most `limit` (for the nodes'
    /// poll that disconnects revoked sockets).
    ///
    /// # Errors
    /// The repository's.
    pub async fn revocations_after(
        &self,
        after: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Revocation>, RepoError> {
        self.users.revocations_after(after, limit).await
    }

    /// `chat-gateway revoke --user`: voids every token of `user` issued up to now.
    ///
    /// # Errors
    /// The repository's.
    pub async fn revoke(&self, user: UserId) -> Result<Revocation, RepoError> {
        let at = self.clock.now();
        self.users.revoke_tokens(user, at).await?;
        Ok(Revocation { user_id: user, at })
    }

    /// The `auth` event: a fresh token for a live socket of `current`.
    ///
    /// # Errors
    /// [`RefreshError`]; `DifferentUser` means the socket must go.
    pub async fn refresh(&self, current: UserId, token: &str) -> Result<Principal, RefreshError> {
        let verified = self.verify(token)?;
        if verified.user_id != current {
            return Err(RefreshError::DifferentUser);
        }
        match self.ensure_not_revoked(&verified).await {
            Ok(()) => {}
            Err(AuthError::Token(e)) => return Err(e.into()),
            Err(AuthError::Repo(e)) => return Err(e.into()),
        }
        if verified.name.is_some() {
            self.record_user(verified.user_id, verified.name.clone())
                .await?;
        }
        Ok(verified.into())
    }

    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.tokens.verify(token)
    }

    /// The device id of a connecting socket: the client's, or a fresh one.
    #[must_use]
    pub fn device_id(&self, given: Option<DeviceId>) -> DeviceId {
        given.unwrap_or_else(|| DeviceId::generated(self.ids.new_uuid()))
    }

    /// The conversation rooms a socket of `user` joins: every conversation where they are an
    /// active participant and not blocked.
    ///
    /// # Errors
    /// The repositories'.
    pub async fn rooms(&self, user: UserId) -> Result<Vec<ConversationId>, RepoError> {
        let heads = self.conversations.list_conversation_heads(user).await?;
        let blocks = self.blocks.list_blocks_involving(user).await?;
        let kept_out: BTreeSet<ConversationId> = blocks
            .iter()
            .filter(|b| is_kept_out(user, std::slice::from_ref(b)))
            .map(|b| b.conversation_id)
            .collect();
        Ok(heads
            .into_iter()
            .map(|h| h.conversation_id)
            .filter(|c| !kept_out.contains(c))
            .collect())
    }

    /// Registers a socket that has joined its rooms; resumes the device when it left within the
    /// window, when it comes back while its old connection still looks alive, or when it says
    /// where it stands (`lastSequences`); marks it online (publishing `presence:changed` when
    /// the user's aggregate changes).
    ///
    /// # Errors
    /// The ports'.
    #[tracing::instrument(skip_all, fields(user.id = %req.user_id, device.id = %req.device_id))]
    pub async fn connect(&self, req: ConnectRequest) -> Result<ConnectOutcome, RepoError> {
        let now = self.clock.now();
        self.sessions
            .insert_session(SocketSession {
                socket_id: req.socket_id.clone(),
                user_id: req.user_id,
                device_id: req.device_id.clone(),
                connected_at: now,
            })
            .await?;
        // Listed before the point is taken: an old socket of this device whose disconnect is
        // being recorded right now is either still listed here, or its point is stored.
        let overlapping = self
            .sessions
            .list_user_sessions(req.user_id)
            .await?
            .iter()
            .any(|s| s.device_id == req.device_id && s.socket_id != req.socket_id);
        let recorded = self
            .sessions
            .take_resume_point(req.user_id, req.device_id.clone())
            .await?
            .filter(|point| within_window(point, now, self.policies.resume_window.0));
        let point = match recorded {
            Some(point) => Some(point),
            // Back before the old connection was noticed dead: it may have swallowed messages
            // for as long as a dead connection goes unnoticed.
            None if overlapping => Some(
                self.resume_point(
                    req.user_id,
                    req.device_id.clone(),
                    now,
                    self.policies.resume_margin.0,
                )
                .await?,
            ),
            // No point kept, but the client knows where it stands: its cursors, and nothing
            // owed in the conversations it did not name.
            None if !req.last_sequences.is_empty() => Some(
                self.resume_point(req.user_id, req.device_id.clone(), now, 0)
                    .await?,
            ),
            None => None,
        };
        let resumed = match point {
            Some(point) => Some(self.pending(&req, &point).await?),
            None => None,
        };
        let unread_counts = self.conversations.unread_counts(req.user_id).await?;
        self.presence.connected(req.user_id, req.socket_id).await?;
        Ok(ConnectOutcome {
            unread_counts,
            resumed,
            server_time: now,
        })
    }

    /// Where a device that leaves at `now` stands: for each of the user's conversations, the
    /// newest sequence, lowered so that every message created in the last `margin_ms` (which
    /// may have gone into a connection already dead) is above it.
    async fn resume_point(
        &self,
        user: UserId,
        device: DeviceId,
        now: Timestamp,
        margin_ms: i64,
    ) -> Result<ResumePoint, RepoError> {
        let heads = self.conversations.list_conversation_heads(user).await?;
        // By creation time, not by the heads read now: a message created after `now` (the
        // moment the departure was handled) is owed even when it committed before this read.
        let recent: BTreeMap<ConversationId, ServerSequence> = self
            .messages
            .first_sequences_after(
                heads.iter().map(|h| h.conversation_id).collect(),
                now.plus_millis(-margin_ms),
            )
            .await?
            .into_iter()
            .collect();
        Ok(ResumePoint {
            user_id: user,
            device_id: device,
            disconnected_at: now,
            sequences: heads
                .into_iter()
                .map(|h| {
                    let cursor = recent
                        .get(&h.conversation_id)
                        .map_or(h.last_sequence, |first| {
                            h.last_sequence
                                .min(ServerSequence::new(first.get().saturating_sub(1)))
                        });
                    (h.conversation_id, cursor)
                })
                .collect(),
        })
    }

    async fn pending(
        &self,
        req: &ConnectRequest,
        point: &ResumePoint,
    ) -> Result<ResumedSession, RepoError> {
        let heads = self
            .conversations
            .list_conversation_heads(req.user_id)
            .await?;
        let cursors = resume_cursors(&heads, point, &req.last_sequences);
        if cursors.is_empty() {
            return Ok(ResumedSession {
                pending: Vec::new(),
                has_more: false,
            });
        }
        let page = self
            .messages
            .list_pending(cursors, MAX_PENDING_MESSAGES)
            .await?;
        Ok(ResumedSession {
            pending: page.items,
            has_more: page.has_more,
        })
    }

    /// A socket left at `left_at`. Records the device's resume point (unless another socket of
    /// the same device is live: its own disconnect will), forgets the session and updates
    /// presence.
    ///
    /// # Errors
    /// The ports'.
    #[tracing::instrument(skip_all, fields(user.id = %user, device.id = %device))]
    pub async fn disconnect(
        &self,
        user: UserId,
        device: DeviceId,
        socket: SocketId,
        departure: Departure,
        left_at: Timestamp,
    ) -> Result<(), RepoError> {
        // When the adapter saw it go: the handler may have waited since (for the session's
        // registration, for a turn), and messages created meanwhile are owed.
        let now = left_at.min(self.clock.now());
        let device_still_here = self
            .sessions
            .list_user_sessions(user)
            .await?
            .iter()
            .any(|s| s.device_id == device && s.socket_id != socket);
        if !device_still_here {
            // The same margin whatever the departure (see `ResumeMargin`): after a goodbye
            // too, messages emitted while it was on the wire are lost to the client.
            tracing::debug!(?departure, "recording the resume point");
            let margin = self.policies.resume_margin.0;
            let point = self.resume_point(user, device, now, margin).await?;
            self.sessions
                .insert_resume_point(point, self.policies.resume_window.0)
                .await?;
        }
        self.sessions.delete_session(socket.clone()).await?;
        self.presence.disconnected(user, socket).await
    }
}

/// How a socket left, as far as the server can tell (logged; the resume margin is the same for
/// all: see [`super::ResumeMargin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// The client said goodbye (or the server closed it). What the server emitted while the
    /// goodbye was on the wire never reached the client.
    Deliberate,
    /// The transport closed without a goodbye (a dropped network, a closed tab, a proxy), and
    /// the server noticed at once: what was emitted shortly before may be lost in flight.
    Closed,
    /// Noticed late (a heartbeat timeout, a transport error): the connection may have been
    /// dead, swallowing messages, for as long as a dead connection goes unnoticed.
    Abrupt,
}
