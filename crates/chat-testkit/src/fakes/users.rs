//! The fake [`UserRepository`].

use chat_domain::{
    error::RepoError,
    ids::UserId,
    ports::{Revocation, UserRepository},
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

    async fn revoke_tokens(&self, id: UserId, at: Timestamp) -> Result<(), RepoError> {
        let mut state = self.db.open()?;
        state.users.entry(id).or_insert(User {
            id,
            name: None,
            created_at: at,
        });
        let point = state.revocations.entry(id).or_insert(at);
        *point = (*point).max(at);
        Ok(())
    }

    async fn revoked_at(&self, id: UserId) -> Result<Option<Timestamp>, RepoError> {
        Ok(self.db.open()?.revocations.get(&id).copied())
    }

    async fn revocations_after(
        &self,
        after: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Revocation>, RepoError> {
        let state = self.db.open()?;
        let mut out: Vec<Revocation> = state
            .revocations
            .iter()
            .filter(|(_, at)| after.is_none_or(|a| **at > a))
            .map(|(user_id, at)| Revocation {
                user_id: *user_id,
                at: *at,
            })
            .collect();
        out.sort_by_key(|r| (r.at, r.user_id));
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(out)
    }
}
