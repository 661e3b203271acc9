//! Presence: every connection's status, aggregated per user.

use std::collections::{BTreeMap, HashMap};

use chat_domain::{
    error::RepoError,
    ids::{SocketId, UserId},
    ports::PresenceStore,
    presence::{PresenceChange, PresenceStatus, aggregate},
    time::Timestamp,
};

use crate::shards::Shards;

/// The in-process [`PresenceStore`]. Users are sharded by id; each change reads the aggregate,
/// applies itself and reads the aggregate again under its user's shard lock, so concurrent
/// changes of one user see each other's results (the before/after pairs chain up).
#[derive(Debug)]
pub struct MemoryPresenceStore {
    shards: Shards<PresenceShard>,
}

#[derive(Debug, Default)]
struct PresenceShard {
    /// The live connections of each user with at least one.
    connections: HashMap<UserId, HashMap<SocketId, PresenceStatus>>,
    /// When each user last went offline (one instant per user ever seen).
    last_seen: HashMap<UserId, Timestamp>,
}

impl PresenceShard {
    fn aggregate_of(&self, user: UserId) -> PresenceStatus {
        self.connections
            .get(&user)
            .map_or(PresenceStatus::Offline, |conns| {
                aggregate(conns.values().copied())
            })
    }

    /// Applies `change` to `user`'s connections and returns the aggregate before and after.
    fn change(
        &mut self,
        user: UserId,
        now: Timestamp,
        change: impl FnOnce(&mut HashMap<SocketId, PresenceStatus>),
    ) -> PresenceChange {
        let before = self.aggregate_of(user);
        let conns = self.connections.entry(user).or_default();
        change(conns);
        if conns.is_empty() {
            self.connections.remove(&user);
        }
        let after = self.aggregate_of(user);
        if after == PresenceStatus::Offline && before != PresenceStatus::Offline {
            self.last_seen.insert(user, now);
        }
        PresenceChange { before, after }
    }
}

impl MemoryPresenceStore {
    /// An empty store with the default number of shards.
    #[must_use]
    pub fn new() -> Self {
        Self::with_shards(Shards::<PresenceShard>::default_count())
    }

    /// An empty store with `count` shards (at least one).
    #[must_use]
    pub fn with_shards(count: usize) -> Self {
        Self {
            shards: Shards::new(count),
        }
    }

    /// When `user` last went offline, if they ever did since this store started.
    #[must_use]
    pub fn last_seen(&self, user: UserId) -> Option<Timestamp> {
        self.shards.lock(&user).last_seen.get(&user).copied()
    }
}

impl Default for MemoryPresenceStore {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl PresenceStore for MemoryPresenceStore {
    async fn set_connection_status(
        &self,
        user: UserId,
        socket: SocketId,
        status: PresenceStatus,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        let mut shard = self.shards.lock(&user);
        Ok(shard.change(user, now, |conns| {
            conns.insert(socket, status);
        }))
    }

    async fn remove_connection(
        &self,
        user: UserId,
        socket: SocketId,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        let mut shard = self.shards.lock(&user);
        Ok(shard.change(user, now, |conns| {
            conns.remove(&socket);
        }))
    }

    async fn fetch_presence(
        &self,
        users: Vec<UserId>,
    ) -> Result<BTreeMap<UserId, PresenceStatus>, RepoError> {
        Ok(users
            .into_iter()
            .map(|user| (user, self.shards.lock(&user).aggregate_of(user)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[tokio::test]
    async fn last_connection_leaving_records_last_seen() {
        let store = MemoryPresenceStore::with_shards(2);
        let user = UserId::new(Uuid::new_v4());
        let (s1, s2) = (SocketId::new("s1"), SocketId::new("s2"));
        store
            .set_connection_status(user, s1.clone(), PresenceStatus::Online, at(1))
            .await
            .unwrap();
        store
            .set_connection_status(user, s2.clone(), PresenceStatus::Away, at(2))
            .await
            .unwrap();
        store.remove_connection(user, s1, at(3)).await.unwrap();
        assert_eq!(store.last_seen(user), None, "still connected on s2");
        store.remove_connection(user, s2, at(4)).await.unwrap();
        assert_eq!(store.last_seen(user), Some(at(4)));
    }

    #[tokio::test]
    async fn users_without_connections_hold_no_connection_entry() {
        let store = MemoryPresenceStore::with_shards(1);
        let user = UserId::new(Uuid::new_v4());
        let socket = SocketId::new("s");
        store
            .set_connection_status(user, socket.clone(), PresenceStatus::Online, at(1))
            .await
            .unwrap();
        store
            .remove_connection(user, socket.clone(), at(2))
            .await
            .unwrap();
        let unknown = store.remove_connection(user, socket, at(3)).await.unwrap();
        assert_eq!(unknown.changed(), None);
        assert!(store.shards.lock_index(0).connections.is_empty());
        assert_eq!(
            store.last_seen(user),
            Some(at(2)),
            "a no-op removal keeps last seen"
        );
    }
}
