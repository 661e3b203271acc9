//! Authentication, connect, resume and disconnect (contract sections 2, 3 and 5).
//!
//! A connect is two steps, so that no message falls between the live room and the resume set:
//! the adapter asks [`SessionService::rooms`] which rooms the socket joins, joins them, and only
//! then calls [`SessionService::connect`], which reads what the device is owed. A message
//! committed in between reaches the socket live, and maybe in `pendingMessages` too; clients
//! tell the two apart by `messageId`.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use super::{Policies, Ports, presence::PresenceService};
use crate::{
    block::is_kept_out,
    error::RepoError,
    ids::{ConversationId, DeviceId, SocketId, UserId},
    message::StoredMessage,
    ports::{SocketSession, TokenError, VerifiedToken},
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
}

impl From<VerifiedToken> for Principal {
    fn from(t: VerifiedToken) -> Self {
        Self {
            user_id: t.user_id,
            name: t.name,
            expires_at: t.expires_at,
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
#[derive(Debug)]
pub struct SessionService {
    ports: Arc<Ports>,
    policies: Policies,
    presence: Arc<PresenceService>,
}

impl SessionService {
    pub(super) fn new(
        ports: Arc<Ports>,
        policies: Policies,
        presence: Arc<PresenceService>,
    ) -> Self {
        Self {
            ports,
            policies,
            presence,
        }
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
        self.ports
            .users
            .upsert_user(
                verified.user_id,
                verified.name.clone(),
                self.ports.clock.now(),
            )
            .await?;
        Ok(verified.into())
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
        if verified.name.is_some() {
            self.ports
                .users
                .upsert_user(
                    verified.user_id,
                    verified.name.clone(),
                    self.ports.clock.now(),
                )
                .await?;
        }
        Ok(verified.into())
    }

    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.ports.tokens.verify(token)
    }

    /// The device id of a connecting socket: the client's, or a fresh one.
    #[must_use]
    pub fn device_id(&self, given: Option<DeviceId>) -> DeviceId {
        given.unwrap_or_else(|| DeviceId::generated(self.ports.ids.new_uuid()))
    }

    /// The conversation rooms a socket of `user` joins: every conversation where they are an
    /// active participant and not blocked.
    ///
    /// # Errors
    /// The repositories'.
    pub async fn rooms(&self, user: UserId) -> Result<Vec<ConversationId>, RepoError> {
        let heads = self
            .ports
            .conversations
            .list_conversation_heads(user)
            .await?;
        let blocks = self.ports.blocks.list_blocks_involving(user).await?;
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
    /// window; marks it online (publishing `presence:changed` when the user's aggregate
    /// changes).
    ///
    /// # Errors
    /// The ports'.
    #[tracing::instrument(skip_all, fields(user.id = %req.user_id, device.id = %req.device_id))]
    pub async fn connect(&self, req: ConnectRequest) -> Result<ConnectOutcome, RepoError> {
        let ports = &*self.ports;
        let now = ports.clock.now();
        ports
            .sessions
            .insert_session(SocketSession {
                socket_id: req.socket_id.clone(),
                user_id: req.user_id,
                device_id: req.device_id.clone(),
                connected_at: now,
            })
            .await?;
        let resumed = match ports
            .sessions
            .take_resume_point(req.user_id, req.device_id.clone())
            .await?
        {
            Some(point) if within_window(&point, now, self.policies.resume_window.0) => {
                Some(self.pending(&req, &point).await?)
            }
            _ => None,
        };
        let unread_counts = ports.conversations.unread_counts(req.user_id).await?;
        self.presence.connected(req.user_id, req.socket_id).await?;
        Ok(ConnectOutcome {
            unread_counts,
            resumed,
            server_time: now,
        })
    }

    async fn pending(
        &self,
        req: &ConnectRequest,
        point: &ResumePoint,
    ) -> Result<ResumedSession, RepoError> {
        let heads = self
            .ports
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
            .ports
            .messages
            .list_pending(cursors, MAX_PENDING_MESSAGES)
            .await?;
        Ok(ResumedSession {
            pending: page.items,
            has_more: page.has_more,
        })
    }

    /// A socket left. Call while it is still in its rooms: records the device's resume point
    /// (the newest sequence of each of its conversations), forgets the session and updates
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
    ) -> Result<(), RepoError> {
        let ports = &*self.ports;
        let now = ports.clock.now();
        let heads = ports.conversations.list_conversation_heads(user).await?;
        let point = ResumePoint {
            user_id: user,
            device_id: device,
            disconnected_at: now,
            sequences: heads
                .into_iter()
                .map(|h| (h.conversation_id, h.last_sequence))
                .collect(),
        };
        ports
            .sessions
            .insert_resume_point(point, self.policies.resume_window.0)
            .await?;
        ports.sessions.delete_session(socket.clone()).await?;
        self.presence.disconnected(user, socket).await
    }
}
