//! Port contract suites. Each suite uses fresh random ids, so suites may share one adapter.

pub mod presence;
pub mod rate_limit;
pub mod repos;
pub mod session;

use std::sync::Arc;

use chat_domain::ports::{
    BlockRepository, ConversationRepository, MessageRepository, MuteRepository, UserRepository,
};

pub use self::{
    presence::presence_store_contract,
    rate_limit::rate_limiter_contract,
    repos::{
        append_concurrency_contract, block_repository_contract, conversation_repository_contract,
        message_repository_contract, mute_repository_contract, run_repository_contracts,
        user_repository_contract,
    },
    session::session_store_contract,
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
