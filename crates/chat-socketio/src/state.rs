//! What every handler shares, and what each socket carries.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use chat_domain::{
    ContentPolicy, ConversationId, DeviceId, ServerSequence, SocketId, Timestamp, UserId,
    ports::Clock, service::Services,
};
use socketioxide::adapter::Adapter;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::send::SendJob;

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

/// Counts sends accepted and not yet answered, for a graceful shutdown.
#[derive(Debug, Default)]
pub(crate) struct Drain {
    closed: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// One accepted send; answered when dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Drain>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Drain {
    /// Accepts one more send, unless closing.
    pub(crate) fn begin(self: &Arc<Self>) -> Option<InFlight> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if self.closed.load(Ordering::Acquire) {
            drop(InFlight(self.clone()));
            return None;
        }
        Some(InFlight(self.clone()))
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The authenticated identity and per-socket machinery (a socket extension).
#[derive(Debug)]
pub(crate) struct SocketUser<A: Adapter> {
    pub(crate) user_id: UserId,
    pub(crate) device_id: DeviceId,
    pub(crate) socket_id: SocketId,
    pub(crate) rooms: Vec<ConversationId>,
    pub(crate) last_sequences: BTreeMap<ConversationId, ServerSequence>,
    /// The token's expiry; a refresh moves it.
    pub(crate) expires_at: watch::Sender<Timestamp>,
    /// Set once the session is registered (`connected`/`reconnected` sent).
    pub(crate) registered: watch::Sender<bool>,
    /// This socket's send queue. Boxed: the channel allocates its slots 32 at a time, and an
    /// idle socket should hold 32 pointers, not 32 jobs (3.6 KiB per socket, by heaptrack).
    pub(crate) sends: mpsc::UnboundedSender<Box<SendJob<A>>>,
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
