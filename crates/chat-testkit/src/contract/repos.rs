//! The repository contracts: what the docs of [`UserRepository`], [`ConversationRepository`],
//! [`MessageRepository`], [`BlockRepository`], [`MuteRepository`] and [`GroupRepository`]
//! promise, checked against one storage backend's [`Repositories`]. Every check uses fresh
//! random ids, so suites may share a backend (and run while others use it).
//!
//! [`UserRepository`]: chat_domain::ports::UserRepository
//! [`ConversationRepository`]: chat_domain::ports::ConversationRepository
//! [`MessageRepository`]: chat_domain::ports::MessageRepository
//! [`BlockRepository`]: chat_domain::ports::BlockRepository
//! [`MuteRepository`]: chat_domain::ports::MuteRepository
//! [`GroupRepository`]: chat_domain::ports::GroupRepository

mod blocks;
mod chat_list;
mod checked_append;
mod checked_concurrency;
mod concurrency;
mod conversations;
mod fixtures;
mod groups;
mod history;
mod messages;
mod mutes;
mod read_markers;
mod send_context;
mod users;

use super::Repositories;

pub use self::concurrency::append_concurrency_contract;

/// Users: created once, named when a name is given.
pub async fn user_repository_contract(r: &Repositories) {
    users::run(r).await;
}

/// Conversations, participants, read markers, unread counts and the chat list.
pub async fn conversation_repository_contract(r: &Repositories) {
    conversations::run(r).await;
    read_markers::run(r).await;
    chat_list::run(r).await;
}

/// Appends (sequences, duplicates, conflicts), reads by id, history pages, read targets,
/// pending messages and client sequences.
pub async fn message_repository_contract(r: &Repositories) {
    messages::run(r).await;
    history::run(r).await;
}

/// What a send checks: the send context, every write that moves its version, and appends
/// conditioned on it (`append_if_current`), alone and under concurrency.
pub async fn send_context_contract(r: &Repositories) {
    send_context::run(r).await;
    checked_append::run(r).await;
    checked_concurrency::run(r).await;
}

/// Blocks: idempotent, per conversation and direction, listed and lifted.
pub async fn block_repository_contract(r: &Repositories) {
    blocks::run(r).await;
}

/// Mutes: replaced, expiring, listed and lifted.
pub async fn mute_repository_contract(r: &Repositories) {
    mutes::run(r).await;
}

/// Groups, membership windows and the change log: creation and request-id replays, applies
/// conditioned on the version and numbered gap-free (concurrent ones too), windows, the member
/// list's order, and the changes each member may see.
pub async fn group_repository_contract(r: &Repositories) {
    groups::run(r).await;
}

/// Every repository contract, the concurrency ones included.
pub async fn run_repository_contracts(r: &Repositories) {
    user_repository_contract(r).await;
    conversation_repository_contract(r).await;
    message_repository_contract(r).await;
    block_repository_contract(r).await;
    mute_repository_contract(r).await;
    append_concurrency_contract(r).await;
    send_context_contract(r).await;
    group_repository_contract(r).await;
}
