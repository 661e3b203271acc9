//! The fake [`UserRepository`].

use chat_domain::{
    error::RepoError,
    ids::UserId,
    ports::UserRepository,
    time::Timestamp,
    user::{DisplayName, User},
};

use super::FakeDb;

/// Users in a [`FakeDb`].
#[derive(Debug, Clone)]
pub struct FakeUserRepository {
    db: FakeDb,
}

impl FakeUserRepository {
    /// Over `db`.
    #[must_use]
    pub fn new(db: FakeDb) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl UserRepository for FakeUserRepository {
    async fn upsert_user(
        &self,
        id: UserId,
        name: Option<DisplayName>,
        now: Timestamp,
    ) -> Result<(), RepoError> {
        let mut state = self.db.open()?;
        let user = state.users.entry(id).or_insert(User {
            id,
            name: None,
            created_at: now,
        });
        if name.is_none() || user.name == name {
            return Ok(());
        }
        user.name = name;
        // Every conversation of the user (left or not) shows the new name.
        let theirs: Vec<_> = state
            .conversations
            .values()
            .filter(|c| c.participant(id).is_some())
            .map(|c| c.id)
            .collect();
        for conversation in theirs {
            state.bump_context(conversation);
        }
        Ok(())
    }
}
