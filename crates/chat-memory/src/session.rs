//! Live sockets (by socket and by user) and the resume points of devices that left.

use std::{
    collections::{BTreeSet, HashMap},
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use chat_domain::{
    error::RepoError,
    ids::{DeviceId, SocketId, UserId},
    ports::{Clock, SessionStore, SocketSession},
    resume::ResumePoint,
    time::Timestamp,
};

use crate::system::SystemClock;

/// Fewest inserts between two sweeps of expired resume points.
const MIN_INSERTS_PER_SWEEP: usize = 64;

/// The in-process [`SessionStore`]. Sockets sit behind one lock, resume points behind another;
/// connects and disconnects are not a hot path. Expired resume points are never returned and
/// are purged lazily: when taken, and by a sweep every so many inserts (amortised O(1)).
pub struct MemorySessionStore {
    clock: Arc<dyn Clock>,
    sockets: Mutex<Sockets>,
    resume: Mutex<ResumePoints>,
}

#[derive(Default)]
struct Sockets {
    by_socket: HashMap<SocketId, SocketSession>,
    by_user: HashMap<UserId, BTreeSet<SocketId>>,
}

#[derive(Default)]
struct ResumePoints {
    kept: HashMap<(UserId, DeviceId), Kept>,
    inserts_since_sweep: usize,
    held_after_sweep: usize,
}

struct Kept {
    point: ResumePoint,
    expires_at: Timestamp,
}

impl MemorySessionStore {
    /// An empty store whose resume-point TTLs run on the system clock.
    #[must_use]
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose resume-point TTLs run on `clock`.
    #[must_use]
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            sockets: Mutex::default(),
            resume: Mutex::default(),
        }
    }

    fn sockets(&self) -> MutexGuard<'_, Sockets> {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn resume(&self) -> MutexGuard<'_, ResumePoints> {
        self.resume.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many resume points are held, expired ones not yet purged included.
    #[cfg(test)]
    fn held_resume_points(&self) -> usize {
        self.resume().kept.len()
    }
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionStore").finish_non_exhaustive()
    }
}

impl Sockets {
    fn remove(&mut self, socket: &SocketId) -> Option<SocketSession> {
        let session = self.by_socket.remove(socket)?;
        if let Some(sockets) = self.by_user.get_mut(&session.user_id) {
            sockets.remove(socket);
            if sockets.is_empty() {
                self.by_user.remove(&session.user_id);
            }
        }
        Some(session)
    }
}

#[async_trait::async_trait]
impl SessionStore for MemorySessionStore {
    async fn insert_session(&self, session: SocketSession) -> Result<(), RepoError> {
        let mut sockets = self.sockets();
        sockets.remove(&session.socket_id);
        sockets
            .by_user
            .entry(session.user_id)
            .or_default()
            .insert(session.socket_id.clone());
        sockets.by_socket.insert(session.socket_id.clone(), session);
        Ok(())
    }

    async fn list_user_sessions(&self, user: UserId) -> Result<Vec<SocketSession>, RepoError> {
        let sockets = self.sockets();
        let ids = sockets.by_user.get(&user).into_iter().flatten();
        Ok(ids
            .filter_map(|id| sockets.by_socket.get(id).cloned())
            .collect())
    }

    async fn delete_session(&self, socket: SocketId) -> Result<Option<SocketSession>, RepoError> {
        Ok(self.sockets().remove(&socket))
    }

    async fn insert_resume_point(&self, point: ResumePoint, ttl_ms: i64) -> Result<(), RepoError> {
        let now = self.clock.now();
        let key = (point.user_id, point.device_id.clone());
        let mut resume = self.resume();
        if ttl_ms <= 0 {
            // Kept for no time at all: it replaces the earlier one and is gone at once.
            resume.kept.remove(&key);
            return Ok(());
        }
        let expires_at = now.plus_millis(ttl_ms);
        resume.kept.insert(key, Kept { point, expires_at });
        resume.inserts_since_sweep += 1;
        // Sweeping after as many inserts as were held after the last sweep keeps the cost
        // amortised O(1) and the memory within about twice the live points.
        if resume.inserts_since_sweep >= resume.held_after_sweep.max(MIN_INSERTS_PER_SWEEP) {
            resume.kept.retain(|_, kept| kept.expires_at > now);
            resume.inserts_since_sweep = 0;
            resume.held_after_sweep = resume.kept.len();
        }
        Ok(())
    }

    async fn take_resume_point(
        &self,
        user: UserId,
        device: DeviceId,
    ) -> Result<Option<ResumePoint>, RepoError> {
        let now = self.clock.now();
        let kept = self.resume().kept.remove(&(user, device));
        Ok(kept
            .filter(|kept| kept.expires_at > now)
            .map(|kept| kept.point))
    }
}

#[cfg(test)]
mod tests {
    use chat_testkit::fakes::ManualClock;
    use uuid::Uuid;

    use super::*;

    fn point(user: UserId, device: &str) -> ResumePoint {
        ResumePoint {
            user_id: user,
            device_id: DeviceId::new(device).unwrap(),
            disconnected_at: Timestamp::EPOCH,
            sequences: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_resume_point_is_kept_until_its_ttl_and_not_a_millisecond_longer() {
        let clock = ManualClock::at(Timestamp::from_millis(1_000));
        let store = MemorySessionStore::with_clock(Arc::new(clock.clone()));
        let user = UserId::new(Uuid::new_v4());
        let device = DeviceId::new("d").unwrap();

        store
            .insert_resume_point(point(user, "d"), 500)
            .await
            .unwrap();
        clock.advance(499);
        assert!(
            store
                .take_resume_point(user, device.clone())
                .await
                .unwrap()
                .is_some()
        );

        store
            .insert_resume_point(point(user, "d"), 500)
            .await
            .unwrap();
        clock.advance(500);
        assert_eq!(store.take_resume_point(user, device).await.unwrap(), None);
        assert_eq!(
            store.held_resume_points(),
            0,
            "taking purges the expired point"
        );
    }

    #[tokio::test]
    async fn expired_resume_points_are_swept_by_later_inserts() {
        let clock = ManualClock::at(Timestamp::from_millis(0));
        let store = MemorySessionStore::with_clock(Arc::new(clock.clone()));
        for _ in 0..MIN_INSERTS_PER_SWEEP {
            let user = UserId::new(Uuid::new_v4());
            store
                .insert_resume_point(point(user, "d"), 10)
                .await
                .unwrap();
        }
        clock.advance(10);
        for _ in 0..MIN_INSERTS_PER_SWEEP {
            let user = UserId::new(Uuid::new_v4());
            store
                .insert_resume_point(point(user, "d"), 1_000)
                .await
                .unwrap();
        }
        assert!(
            store.held_resume_points() <= MIN_INSERTS_PER_SWEEP * 3 / 2,
            "{} held",
            store.held_resume_points()
        );
    }

    #[tokio::test]
    async fn a_socket_inserted_again_moves_to_its_new_user() {
        let store = MemorySessionStore::new();
        let (a, b) = (UserId::new(Uuid::new_v4()), UserId::new(Uuid::new_v4()));
        let session = |user| SocketSession {
            socket_id: SocketId::new("s1"),
            user_id: user,
            device_id: DeviceId::new("d").unwrap(),
            connected_at: Timestamp::EPOCH,
        };
        store.insert_session(session(a)).await.unwrap();
        store.insert_session(session(b)).await.unwrap();
        assert!(store.list_user_sessions(a).await.unwrap().is_empty());
        assert_eq!(store.list_user_sessions(b).await.unwrap(), vec![session(b)]);
    }
}
