//! Presence of every connection on every node, aggregated per user in Redis.

use std::{collections::BTreeMap, sync::LazyLock};

use async_trait::async_trait;
use chat_domain::{
    error::RepoError,
    ids::{SocketId, UserId},
    ports::PresenceStore,
    presence::{PresenceChange, PresenceStatus, aggregate},
    time::Timestamp,
};
use fred::{
    cmd,
    prelude::{ClientLike, HashesInterface, KeysInterface, Pool, SortedSetsInterface},
    types::{Value, scripts::Script},
};

use crate::{
    config::{RedisConfig, millis},
    error::{corrupt, repo_error},
    keys::Keys,
    pipeline_results,
};

static CHANGE: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(include_str!("scripts/presence_change.lua")));
static RENEW: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(include_str!("scripts/presence_renew.lua")));
static LEASES_DUE: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(include_str!("scripts/leases_due.lua")));
static LEASES_FORGET: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(include_str!("scripts/leases_forget.lua")));

/// How long a user's presence hash outlives its newest lease, so that a sweep still finds
/// (and announces) a connection whose node died.
const KEEP_AFTER_LEASE_MS: i64 = 10 * 60 * 1_000;

/// Most lapsed connections one sweep handles (the next sweep takes the rest).
const SWEEP_BATCH: i64 = 500;

/// The Redis [`PresenceStore`]: per user, one hash of connection → status and lease expiry,
/// changed by one Lua script that returns the aggregate before and after (atomic). Leases run
/// on the Redis server's clock: a connection whose node stops renewing it (see
/// [`PresenceStore::renew_connection`]) lapses after the lease and no longer counts.
///
/// A lapse is announced once: every lease is also indexed in one sorted set by expiry, which
/// [`PresenceStore::sweep_lapsed`] reads; the sweep drops a user's lapsed connections and
/// returns the change, atomically per user, so of several nodes sweeping only one sees it.
/// Until a lapse is swept (or another change of that user drops it), the aggregate *before* a
/// change still counts it: it is what the others were last told.
#[derive(Debug, Clone)]
pub struct RedisPresenceStore {
    pool: Pool,
    keys: Keys,
    lease_ms: i64,
}

impl RedisPresenceStore {
    /// A store over `pool` with the prefix and presence lease of `config`.
    #[must_use]
    pub fn new(pool: Pool, config: &RedisConfig) -> Self {
        Self {
            pool,
            keys: Keys::new(&config.key_prefix),
            lease_ms: millis(config.presence_lease),
        }
    }

    /// Extends the lease of a live connection by the configured lease; see
    /// [`PresenceStore::renew_connection`].
    ///
    /// # Errors
    /// `RepoError::Unavailable` when Redis is unreachable.
    pub async fn renew(&self, user: UserId, socket: &SocketId) -> Result<bool, RepoError> {
        let key = self.keys.presence(user);
        let args: Vec<Value> = vec![
            socket.as_str().into(),
            self.lease_ms.into(),
            KEEP_AFTER_LEASE_MS.into(),
        ];
        let expiry: i64 = RENEW
            .evalsha_with_reload(self.pool.next(), vec![key], args)
            .await
            .map_err(repo_error)?;
        if expiry == 0 {
            return Ok(false);
        }
        self.index(user, socket, expiry).await?;
        Ok(true)
    }

    /// Records a connection's lease expiry in the sweep's index (`0`: forgets it).
    async fn index(&self, user: UserId, socket: &SocketId, expiry: i64) -> Result<(), RepoError> {
        let member = lease_member(user, socket);
        let key = self.keys.presence_leases();
        if expiry == 0 {
            let _: i64 = self.pool.zrem(key, member).await.map_err(repo_error)?;
        } else {
            #[allow(clippy::cast_precision_loss)] // ms since 1970 fit a double exactly
            let score = expiry as f64;
            let _: i64 = self
                .pool
                .zadd(key, None, None, false, false, (score, member))
                .await
                .map_err(repo_error)?;
        }
        Ok(())
    }

    /// When `user` last went offline, if recorded.
    ///
    /// # Errors
    /// `RepoError::Unavailable` when Redis is unreachable.
    pub async fn last_seen(&self, user: UserId) -> Result<Option<Timestamp>, RepoError> {
        let seen: Option<i64> = self
            .pool
            .get(self.keys.last_seen(user))
            .await
            .map_err(repo_error)?;
        Ok(seen.map(Timestamp::from_millis))
    }

    /// Runs the change script: `status` `None` removes the connection.
    async fn change(
        &self,
        user: UserId,
        socket: &SocketId,
        status: Option<PresenceStatus>,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        let (change, expiry) = self.run_change(user, socket.as_str(), status, now).await?;
        self.index(user, socket, expiry).await?;
        Ok(change)
    }

    /// Sweeps one user: the change script with no connection to set or remove drops the
    /// lapsed ones and returns the change.
    async fn sweep_user(&self, user: UserId, now: Timestamp) -> Result<PresenceChange, RepoError> {
        Ok(self.run_change(user, "", None, now).await?.0)
    }

    /// One run of the change script; the change and the connection's new lease expiry.
    async fn run_change(
        &self,
        user: UserId,
        socket: &str,
        status: Option<PresenceStatus>,
        now: Timestamp,
    ) -> Result<(PresenceChange, i64), RepoError> {
        let key = self.keys.presence(user);
        let keys = vec![key.clone(), self.keys.last_seen(user)];
        let args: Vec<Value> = vec![
            socket.into(),
            status.map_or("", PresenceStatus::as_str).into(),
            self.lease_ms.into(),
            now.millis().into(),
            KEEP_AFTER_LEASE_MS.into(),
        ];
        let reply: Vec<String> = CHANGE
            .evalsha_with_reload(self.pool.next(), keys, args)
            .await
            .map_err(repo_error)?;
        parse_reply(&key, &reply)
    }
}

/// A connection in the lease index.
fn lease_member(user: UserId, socket: &SocketId) -> String {
    format!("{user} {}", socket.as_str())
}

/// `{before, after, ms}` from a presence script.
fn parse_reply(key: &str, reply: &[String]) -> Result<(PresenceChange, i64), RepoError> {
    let bad = || corrupt(key, format!("script replied {reply:?}"));
    let status = |i: usize| {
        reply
            .get(i)
            .and_then(|s| PresenceStatus::parse(s))
            .ok_or_else(bad)
    };
    let ms = reply
        .get(2)
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(bad)?;
    Ok((
        PresenceChange {
            before: status(0)?,
            after: status(1)?,
        },
        ms,
    ))
}

/// The aggregate of one user's hash (`socket → status:expiry`) at server time `now_ms`.
fn aggregate_hash(key: &str, hash: Value, now_ms: i64) -> Result<PresenceStatus, RepoError> {
    if hash.is_null() {
        return Ok(PresenceStatus::Offline);
    }
    let entries: BTreeMap<String, String> = hash.convert().map_err(repo_error)?;
    let mut live = Vec::with_capacity(entries.len());
    for value in entries.values() {
        let (status, expiry) = value
            .split_once(':')
            .and_then(|(s, e)| Some((PresenceStatus::parse(s)?, e.parse::<i64>().ok()?)))
            .ok_or_else(|| corrupt(key, format!("bad connection entry {value:?}")))?;
        if expiry > now_ms {
            live.push(status);
        }
    }
    Ok(aggregate(live))
}

/// The server's clock from a `TIME` reply (`[seconds, microseconds]`), in ms.
fn server_millis(time: Value) -> Result<i64, RepoError> {
    let (secs, micros): (i64, i64) = time.convert().map_err(repo_error)?;
    Ok(secs * 1_000 + micros / 1_000)
}

#[async_trait]
impl PresenceStore for RedisPresenceStore {
    async fn set_connection_status(
        &self,
        user: UserId,
        socket: SocketId,
        status: PresenceStatus,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        self.change(user, &socket, Some(status), now).await
    }

    async fn remove_connection(
        &self,
        user: UserId,
        socket: SocketId,
        now: Timestamp,
    ) -> Result<PresenceChange, RepoError> {
        self.change(user, &socket, None, now).await
    }

    async fn renew_connection(&self, user: UserId, socket: SocketId) -> Result<bool, RepoError> {
        self.renew(user, &socket).await
    }

    async fn sweep_lapsed(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(UserId, PresenceChange)>, RepoError> {
        let index = self.keys.presence_leases();
        let due: Vec<String> = LEASES_DUE
            .evalsha_with_reload(self.pool.next(), vec![index.clone()], vec![SWEEP_BATCH])
            .await
            .map_err(repo_error)?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut users = std::collections::BTreeSet::new();
        for member in &due {
            let user = member
                .split_once(' ')
                .and_then(|(u, _)| u.parse::<uuid::Uuid>().ok())
                .map(UserId::new)
                .ok_or_else(|| corrupt(&index, format!("bad member {member:?}")))?;
            users.insert(user);
        }
        let mut changed = Vec::new();
        for user in users {
            let change = self.sweep_user(user, now).await?;
            if change.changed().is_some() {
                changed.push((user, change));
            }
        }
        let _: i64 = LEASES_FORGET
            .evalsha_with_reload(self.pool.next(), vec![index], due)
            .await
            .map_err(repo_error)?;
        Ok(changed)
    }

    async fn fetch_presence(
        &self,
        users: Vec<UserId>,
    ) -> Result<BTreeMap<UserId, PresenceStatus>, RepoError> {
        if users.is_empty() {
            return Ok(BTreeMap::new());
        }
        // One round trip: the server's clock, then every user's hash (each in its own slot).
        let p = self.pool.next().pipeline();
        let _: () = p
            .custom(cmd!("TIME"), Vec::<Value>::new())
            .await
            .map_err(repo_error)?;
        for &user in &users {
            let _: () = p
                .hgetall(self.keys.presence(user))
                .await
                .map_err(repo_error)?;
        }
        let mut replies = pipeline_results(&p).await?.into_iter();
        let now_ms = server_millis(replies.next().unwrap_or(Value::Null))?;
        users
            .into_iter()
            .zip(replies)
            .map(|(user, hash)| {
                let status = aggregate_hash(&self.keys.presence(user), hash, now_ms)?;
                Ok((user, status))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lapsed_and_missing_entries_do_not_count() {
        let hash = |pairs: &[(&str, &str)]| {
            Value::Map(pairs.iter().copied().collect::<fred::types::Map>())
        };
        let cases = [
            (hash(&[]), PresenceStatus::Offline),
            (hash(&[("a", "away:200")]), PresenceStatus::Away),
            (
                hash(&[("a", "online:100"), ("b", "away:200")]),
                PresenceStatus::Away,
            ),
            (hash(&[("a", "online:101")]), PresenceStatus::Online),
            (Value::Null, PresenceStatus::Offline),
        ];
        for (hash, want) in cases {
            assert_eq!(
                aggregate_hash("k", hash.clone(), 100).unwrap(),
                want,
                "{hash:?}"
            );
        }
        assert!(aggregate_hash("k", hash(&[("a", "gone")]), 0).is_err());
    }
}
