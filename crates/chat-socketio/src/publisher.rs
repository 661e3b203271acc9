//! The `EventPublisher` port over the Socket.IO server: events to rooms, and room membership.
//! With a remote adapter (Redis) both reach every node.

use std::sync::{Arc, OnceLock};

use chat_domain::{
    ConversationId, RepoError, UserId,
    events::{Audience, ServerEvent},
    ports::EventPublisher,
};

use crate::server::Server;

/// Publishes the domain's events through the Socket.IO server, attached once it is built (the
/// services that publish are needed to build it). With Redis rooms, events and room changes
/// reach every node.
#[derive(Default)]
pub struct SocketIoEventPublisher {
    server: OnceLock<Arc<dyn Server>>,
}

impl std::fmt::Debug for SocketIoEventPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoEventPublisher")
            .field("attached", &self.server.get().is_some())
            .finish()
    }
}

impl SocketIoEventPublisher {
    /// A publisher with no server yet ([`crate::mount`] attaches it).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches the server (once; later calls are ignored).
    pub(crate) fn attach(&self, server: Arc<dyn Server>) {
        let _ = self.server.set(server);
    }

    fn server(&self) -> Result<&Arc<dyn Server>, RepoError> {
        self.server
            .get()
            .ok_or_else(|| RepoError::unavailable("the Socket.IO server is not running"))
    }
}

#[async_trait::async_trait]
impl EventPublisher for SocketIoEventPublisher {
    async fn publish(&self, audience: Audience, event: ServerEvent) -> Result<(), RepoError> {
        self.server()?.publish(&audience, &event).await
    }

    async fn join_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        self.server()?.membership(user, conversation, true).await
    }

    async fn leave_conversation(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), RepoError> {
        self.server()?.membership(user, conversation, false).await
    }
}
