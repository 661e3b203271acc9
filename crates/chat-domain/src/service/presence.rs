//! `presence:update` and the presence effects of connect and disconnect (contract 4.4).

use std::{collections::BTreeSet, sync::Arc};

use super::publish;
use crate::{
    error::RepoError,
    events::{Audience, ServerEvent},
    ids::{ConversationId, SocketId, UserId},
    ports::{BlockRepository, Clock, ConversationRepository, EventPublisher, PresenceStore},
    presence::{PresenceChange, PresenceStatus},
    time::Timestamp,
};

/// Why a presence update failed.
#[derive(Debug, thiserror::Error)]
pub enum PresenceUpdateError {
    /// The presence store failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Presence.
pub struct PresenceService {
    conversations: Arc<dyn ConversationRepository>,
    blocks: Arc<dyn BlockRepository>,
    presence: Arc<dyn PresenceStore>,
    publisher: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PresenceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresenceService").finish_non_exhaustive()
    }
}

impl PresenceService {
    /// A presence service over these ports.
    #[must_use]
    pub fn new(
        conversations: Arc<dyn ConversationRepository>,
        blocks: Arc<dyn BlockRepository>,
        presence: Arc<dyn PresenceStore>,
        publisher: Arc<dyn EventPublisher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            conversations,
            blocks,
            presence,
            publisher,
            clock,
        }
    }

    /// `presence:update` from one socket. Publishes `presence:changed` only when the user's
    /// aggregate changes. Returns the status set.
    ///
    /// # Errors
    /// [`PresenceUpdateError`].
    #[tracing::instrument(skip_all, fields(user.id = %user))]
    pub async fn update(
        &self,
        user: UserId,
        socket: SocketId,
        status: PresenceStatus,
    ) -> Result<PresenceStatus, PresenceUpdateError> {
        let now = self.clock.now();
        let change = self
            .presence
            .set_connection_status(user, socket, status, now)
            .await?;
        self.announce(user, change, now).await;
        Ok(status)
    }

    /// A socket connected: it counts as online.
    pub(super) async fn connected(&self, user: UserId, socket: SocketId) -> Result<(), RepoError> {
        let now = self.clock.now();
        let change = self
            .presence
            .set_connection_status(user, socket, PresenceStatus::Online, now)
            .await?;
        self.announce(user, change, now).await;
        Ok(())
    }

    /// A socket left.
    pub(super) async fn disconnected(
        &self,
        user: UserId,
        socket: SocketId,
    ) -> Result<(), RepoError> {
        let now = self.clock.now();
        let change = self.presence.remove_connection(user, socket, now).await?;
        self.announce(user, change, now).await;
        Ok(())
    }

    /// Keeps a live connection counted: renews its lease, and sets it online again when the
    /// lease had lapsed (its node lost the store for longer than a lease; others may have seen
    /// the user go offline, so the return is announced) and `still_live()` says the socket is
    /// still there (not mid-disconnect, which would bring a ghost back).
    ///
    /// # Errors
    /// The presence store's.
    pub async fn renew(
        &self,
        user: UserId,
        socket: SocketId,
        still_live: impl FnOnce() -> bool + Send,
    ) -> Result<(), RepoError> {
        if self.presence.renew_connection(user, socket.clone()).await? || !still_live() {
            return Ok(());
        }
        tracing::info!(user.id = %user, "a lapsed connection is set online again");
        self.connected(user, socket).await
    }

    /// Drops connections whose lease lapsed (a crashed node's) and announces each user that
    /// this took offline (or from online to away). Every node runs it now and then; each
    /// change is announced by the one node that swept it. Returns how many users changed.
    ///
    /// # Errors
    /// The presence store's.
    pub async fn sweep(&self) -> Result<usize, RepoError> {
        let now = self.clock.now();
        let changes = self.presence.sweep_lapsed(now).await?;
        let count = changes.len();
        for (user, change) in changes {
            tracing::info!(user.id = %user, "a lapsed connection left: presence changed");
            self.announce(user, change, now).await;
        }
        Ok(count)
    }

    /// `presence:changed` to every conversation the user shares without a block.
    async fn announce(&self, user: UserId, change: PresenceChange, now: Timestamp) {
        let Some(status) = change.changed() else {
            return;
        };
        let rooms = match self.visible_in(user).await {
            Ok(rooms) => rooms,
            Err(error) => {
                tracing::warn!(error = %error, "listing rooms for a presence change failed");
                return;
            }
        };
        for conversation in rooms {
            publish(
                &*self.publisher,
                Audience::Conversation(conversation),
                ServerEvent::PresenceChanged {
                    user_id: user,
                    status,
                    last_seen_at: now,
                },
            )
            .await;
        }
    }

    /// The conversations where `user`'s presence is visible: those without a block.
    pub(super) async fn visible_in(&self, user: UserId) -> Result<Vec<ConversationId>, RepoError> {
        let heads = self.conversations.list_conversation_heads(user).await?;
        let blocked: BTreeSet<ConversationId> = self
            .blocks
            .list_blocks_involving(user)
            .await?
            .into_iter()
            .map(|b| b.conversation_id)
            .collect();
        Ok(heads
            .into_iter()
            .map(|h| h.conversation_id)
            .filter(|c| !blocked.contains(c))
            .collect())
    }
}
