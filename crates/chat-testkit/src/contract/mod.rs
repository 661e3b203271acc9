//! Port contract suites. Each suite uses fresh random ids, so suites may share one adapter.

use std::sync::Arc;

use chat_domain::ports::{
    BlockRepository, ConversationRepository, MessageRepository, MuteRepository, UserRepository,
};

/// The repositories of one storage backend.
#[derive(Clone)]
pub struct Repositories {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Conversations, participants and read markers.
    pub conversations: Arc<dyn ConversationRepository>,
    /// Messages.
    pub messages: Arc<dyn MessageRepository>,
    /// Blocks.
    pub blocks: Arc<dyn BlockRepository>,
    /// Mutes.
    pub mutes: Arc<dyn MuteRepository>,
}

impl std::fmt::Debug for Repositories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repositories")
    }
}
