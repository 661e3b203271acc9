//! Live sockets (by socket, and a set per user) and the resume points of devices that left.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chat_domain::{
    error::RepoError,
    ids::{ConversationId, DeviceId, SocketId, UserId},
    ports::{SessionStore, SocketSession},
    resume::ResumePoint,
    sequence::ServerSequence,
    time::Timestamp,
};
use fred::{
    prelude::{Expiration, KeysInterface, Pool, SetsInterface},
    types::Value,
};
use serde::{Deserialize, Serialize};

use crate::{
    config::{RedisConfig, millis},
    error::{corrupt, repo_error},
    keys::Keys,
    pipeline_results,
};

/// The Redis [`SessionStore`], shared by every node. A session is a JSON string under its
/// socket's key with the session TTL (so a crashed node's sockets lapse) and a member of its
/// user's socket set; deleting takes it with `GETDEL`, so it is returned once. A resume point
/// is a JSON string per (user, device) with the given TTL, taken with `GETDEL`.
#[derive(Debug, Clone)]
pub struct RedisSessionStore {
    pool: Pool,
    keys: Keys,
    session_ttl_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionRecord {
    socket: String,
    user: String,
    device: String,
    connected_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ResumeRecord {
    user: String,
    device: String,
    disconnected_at: i64,
    sequences: Vec<(String, u64)>,
}

impl SessionRecord {
    fn of(s: &SocketSession) -> Self {
        Self {
            socket: s.socket_id.as_str().to_owned(),
            user: s.user_id.to_string(),
            device: s.device_id.as_str().to_owned(),
            connected_at: s.connected_at.millis(),
        }
    }

    fn decode(key: &str, json: &str) -> Result<SocketSession, RepoError> {
        let r: Self = serde_json::from_str(json).map_err(|e| corrupt(key, e))?;
        Ok(SocketSession {
            socket_id: SocketId::new(r.socket),
            user_id: UserId::parse(&r.user).map_err(|e| corrupt(key, e))?,
            device_id: DeviceId::new(&r.device).map_err(|e| corrupt(key, e))?,
            connected_at: Timestamp::from_millis(r.connected_at),
        })
    }
}

impl ResumeRecord {
    fn of(p: &ResumePoint) -> Self {
        Self {
            user: p.user_id.to_string(),
            device: p.device_id.as_str().to_owned(),
            disconnected_at: p.disconnected_at.millis(),
            sequences: p
                .sequences
                .iter()
                .map(|(c, s)| (c.to_string(), s.get()))
                .collect(),
        }
    }

    fn decode(key: &str, json: &str) -> Result<ResumePoint, RepoError> {
        let r: Self = serde_json::from_str(json).map_err(|e| corrupt(key, e))?;
        let sequences = r
            .sequences
            .iter()
            .map(|(c, s)| Ok((ConversationId::parse(c)?, ServerSequence::new(*s))))
            .collect::<Result<BTreeMap<_, _>, chat_domain::ids::ParseIdError>>()
            .map_err(|e| corrupt(key, e))?;
        Ok(ResumePoint {
            user_id: UserId::parse(&r.user).map_err(|e| corrupt(key, e))?,
            device_id: DeviceId::new(&r.device).map_err(|e| corrupt(key, e))?,
            disconnected_at: Timestamp::from_millis(r.disconnected_at),
            sequences,
        })
    }
}

fn encode(key: &str, value: &impl Serialize) -> Result<String, RepoError> {
    serde_json::to_string(value).map_err(|e| corrupt(key, e))
}

impl RedisSessionStore {
    /// A store over `pool` with the prefix and session TTL of `config`.
    #[must_use]
    pub fn new(pool: Pool, config: &RedisConfig) -> Self {
        Self {
            pool,
            keys: Keys::new(&config.key_prefix),
            session_ttl_ms: millis(config.session_ttl),
        }
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn insert_session(&self, session: SocketSession) -> Result<(), RepoError> {
        let key = self.keys.socket(&session.socket_id);
        let sockets = self.keys.user_sockets(session.user_id);
        let json = encode(&key, &SessionRecord::of(&session))?;
        let ttl = Expiration::PX(self.session_ttl_ms);
        let socket = session.socket_id.as_str();
        let p = self.pool.next().pipeline();
        // SET … GET returns the replaced session, so a socket inserted again leaves its old user.
        let _: () = p
            .set(&key, json, Some(ttl), None, true)
            .await
            .map_err(repo_error)?;
        let _: () = p.sadd(&sockets, socket).await.map_err(repo_error)?;
        let _: () = p
            .pexpire(&sockets, self.session_ttl_ms, None)
            .await
            .map_err(repo_error)?;
        let replies = pipeline_results(&p).await?.into_iter().next();
        let replaced: Option<String> = replies
            .unwrap_or(Value::Null)
            .convert()
            .map_err(repo_error)?;
        if let Some(old) = replaced {
            let old = SessionRecord::decode(&key, &old)?;
            if old.user_id != session.user_id {
                let old_sockets = self.keys.user_sockets(old.user_id);
                let _: i64 = self
                    .pool
                    .srem(old_sockets, socket)
                    .await
                    .map_err(repo_error)?;
            }
        }
        Ok(())
    }

    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SocketSession>, RepoError> {
        let sockets_key = self.keys.user_sockets(user);
        let sockets: Vec<String> = self.pool.smembers(&sockets_key).await.map_err(repo_error)?;
        if sockets.is_empty() {
            return Ok(Vec::new());
        }
        // One GET per socket (their keys may sit in different cluster slots), pipelined.
        let p = self.pool.next().pipeline();
        for socket in &sockets {
            let _: () = p
                .get(self.keys.socket(&SocketId::new(socket.as_str())))
                .await
                .map_err(repo_error)?;
        }
        let mut live = Vec::with_capacity(sockets.len());
        let mut stale = Vec::new();
        for (socket, value) in sockets.into_iter().zip(pipeline_results(&p).await?) {
            let key = self.keys.socket(&SocketId::new(socket.as_str()));
            match value {
                Value::Null => stale.push(socket),
                value => {
                    let json: String = value.convert().map_err(repo_error)?;
                    let session = SessionRecord::decode(&key, &json)?;
                    if session.user_id == user {
                        live.push(session);
                    } else {
                        stale.push(socket);
                    }
                }
            }
        }
        if !stale.is_empty() {
            // Sessions that lapsed (a crashed node) or moved: drop them from the set.
            let _: i64 = self
                .pool
                .srem(&sockets_key, stale)
                .await
                .map_err(repo_error)?;
        }
        Ok(live)
    }

    async fn delete_session(&self, socket: SocketId) -> Result<Option<SocketSession>, RepoError> {
        let key = self.keys.socket(&socket);
        let taken: Option<String> = self.pool.getdel(&key).await.map_err(repo_error)?;
        let Some(json) = taken else {
            return Ok(None);
        };
        let session = SessionRecord::decode(&key, &json)?;
        let sockets = self.keys.user_sockets(session.user_id);
        let _: i64 = self
            .pool
            .srem(sockets, socket.as_str())
            .await
            .map_err(repo_error)?;
        Ok(Some(session))
    }

    async fn insert_resume_point(&self, point: ResumePoint, ttl_ms: i64) -> Result<(), RepoError> {
        let key = self.keys.resume_point(point.user_id, &point.device_id);
        if ttl_ms <= 0 {
            // Kept for no time at all: it replaces the earlier one and is gone at once.
            let _: i64 = self.pool.del(&key).await.map_err(repo_error)?;
            return Ok(());
        }
        let json = encode(&key, &ResumeRecord::of(&point))?;
        let ttl = Some(Expiration::PX(ttl_ms));
        let _: () = self
            .pool
            .set(&key, json, ttl, None, false)
            .await
            .map_err(repo_error)?;
        Ok(())
    }

    async fn take_resume_point(
        &self,
        user: UserId,
        device: DeviceId,
    ) -> Result<Option<ResumePoint>, RepoError> {
        let key = self.keys.resume_point(user, &device);
        let taken: Option<String> = self.pool.getdel(&key).await.map_err(repo_error)?;
        taken
            .map(|json| ResumeRecord::decode(&key, &json))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_json() {
        let user = UserId::new(uuid::Uuid::from_u128(3));
        let point = ResumePoint {
            user_id: user,
            device_id: DeviceId::new("phone").unwrap(),
            disconnected_at: Timestamp::from_millis(42),
            sequences: BTreeMap::from([(
                ConversationId::new(uuid::Uuid::from_u128(9)),
                ServerSequence::new(5),
            )]),
        };
        let json = encode("k", &ResumeRecord::of(&point)).unwrap();
        assert_eq!(ResumeRecord::decode("k", &json).unwrap(), point);

        let session = SocketSession {
            socket_id: SocketId::new("s1"),
            user_id: user,
            device_id: DeviceId::new("phone").unwrap(),
            connected_at: Timestamp::from_millis(7),
        };
        let json = encode("k", &SessionRecord::of(&session)).unwrap();
        assert_eq!(SessionRecord::decode("k", &json).unwrap(), session);
        assert!(matches!(
            SessionRecord::decode("k", "{}"),
            Err(RepoError::Internal(_))
        ));
    }
}
