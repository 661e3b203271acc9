//! What every handler shares.

use std::{sync::Arc, time::Duration};

use chat_domain::{ContentPolicy, ports::Clock, service::Services};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{drain::Drain, timers::Timers};

/// Shared by every handler (socketioxide state).
#[derive(Clone)]
pub struct SocketState {
    pub(crate) services: Services,
    pub(crate) content: ContentPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) drain: Arc<Drain>,
    /// Cross-origin pages allowed to connect (`CHAT_CORS_ORIGINS`), besides the same origin.
    pub(crate) allowed_origins: Arc<[String]>,
    /// Connects doing storage work at once (see [`Self::with_admission`]).
    pub(crate) admission: Arc<Semaphore>,
    /// Disconnects doing storage work at once, apart from connects (see
    /// [`Self::with_admission`]).
    pub(crate) departures: Arc<Semaphore>,
    /// What falls due: token lapses and typing clears (one task per server, see `expiry`).
    pub(crate) timers: Arc<Timers>,
}

/// How long a connect waits for admission before it is refused `unavailable`.
const ADMISSION_WAIT: Duration = Duration::from_secs(10);

impl std::fmt::Debug for SocketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketState").finish_non_exhaustive()
    }
}

impl SocketState {
    /// The state the handlers need.
    #[must_use]
    pub fn new(services: Services, content: ContentPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            services,
            content,
            clock,
            drain: Arc::new(Drain::default()),
            allowed_origins: Arc::from(Vec::new()),
            admission: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
            departures: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
            timers: Arc::new(Timers::default()),
        }
    }

    /// Lets at most `concurrent` connects do their storage work at once, and apart from them
    /// at most half as many disconnects (at least one); the others queue (a connect at most
    /// 10 s, then `unavailable`). In a reconnect storm this keeps the database pool for sends,
    /// handshakes queue instead of failing on the pool's acquire timeout, and the clients
    /// coming back do not wait behind the disconnects of their old sockets (which then find
    /// the device back and have less to do).
    #[must_use]
    pub fn with_admission(mut self, concurrent: usize) -> Self {
        self.admission = Arc::new(Semaphore::new(concurrent.max(1)));
        self.departures = Arc::new(Semaphore::new((concurrent / 2).max(1)));
        self
    }

    /// Waits (at most 10 s) for a turn to do connect work; `None` when none came.
    pub(crate) async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(ADMISSION_WAIT, self.admission.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Waits for a turn to do disconnect work (disconnects are never refused).
    pub(crate) async fn depart(&self) -> Option<OwnedSemaphorePermit> {
        self.departures.clone().acquire_owned().await.ok()
    }

    /// Lets pages of these origins (`https://app.example.com`) connect, besides the same origin.
    #[must_use]
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = Arc::from(origins);
        self
    }

    /// Whether a handshake with this `Origin` header (browsers send one; other clients usually
    /// do not) and `Host` header may connect: no origin, the same origin, or an allowed one.
    pub(crate) fn origin_allowed(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let same_origin = host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        });
        same_origin
            || self
                .allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// Stops accepting sends (they get `unavailable`) and waits, at most `limit`, until every
    /// accepted one has been answered. Returns whether all were.
    pub async fn drain(&self, limit: Duration) -> bool {
        self.drain.close();
        tokio::time::timeout(limit, self.drain.idle()).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::service::{Policies, Ports, Services};

    use super::*;

    #[test]
    fn origins_as_a_table() {
        let state = state().with_allowed_origins(vec!["https://app.example.com".to_owned()]);
        let cases = [
            (None, Some("127.0.0.1:3000"), true),
            (Some("http://127.0.0.1:3000"), Some("127.0.0.1:3000"), true),
            (Some("http://LOCALHOST:3000"), Some("localhost:3000"), true),
            (
                Some("https://app.example.com"),
                Some("chat.example.com"),
                true,
            ),
            (
                Some("https://evil.example"),
                Some("chat.example.com"),
                false,
            ),
            (Some("http://127.0.0.1:4000"), Some("127.0.0.1:3000"), false),
            (Some("null"), Some("127.0.0.1:3000"), false),
            (Some("http://127.0.0.1:3000"), None, false),
        ];
        for (origin, host, allowed) in cases {
            assert_eq!(
                state.origin_allowed(origin, host),
                allowed,
                "{origin:?} on {host:?}"
            );
        }
    }

    fn state() -> SocketState {
        use chat_domain::ports::{
            MockBlockRepository, MockClock, MockConversationRepository, MockEventPublisher,
            MockIdGenerator, MockMessageRepository, MockMuteRepository, MockPresenceStore,
            MockRateLimiter, MockSessionStore, MockTokenVerifier, MockUserRepository,
        };
        let clock: Arc<dyn Clock> = Arc::new(MockClock::new());
        let ports = Ports {
            users: Arc::new(MockUserRepository::new()),
            conversations: Arc::new(MockConversationRepository::new()),
            messages: Arc::new(MockMessageRepository::new()),
            blocks: Arc::new(MockBlockRepository::new()),
            mutes: Arc::new(MockMuteRepository::new()),
            sessions: Arc::new(MockSessionStore::new()),
            presence: Arc::new(MockPresenceStore::new()),
            rate_limiter: Arc::new(MockRateLimiter::new()),
            publisher: Arc::new(MockEventPublisher::new()),
            tokens: Arc::new(MockTokenVerifier::new()),
            clock: clock.clone(),
            ids: Arc::new(MockIdGenerator::new()),
        };
        SocketState::new(
            Services::new(ports, Policies::default()),
            ContentPolicy::default(),
            clock,
        )
    }
}
