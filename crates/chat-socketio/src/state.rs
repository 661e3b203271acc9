//! What every handler shares, and what each socket carries.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, OnceLock, PoisonError,
        atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use chat_domain::{
    ContentPolicy, ConversationId, DeviceId, ServerSequence, SocketId, Timestamp, UserId,
    ports::Clock, service::Services,
};
use socketioxide::{adapter::Adapter, extract::SocketRef, socket::Socket};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

use crate::{
    expiry::Expiries,
    send::{SendActor, SendJob},
};

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
    /// When each socket's token lapses (one watcher task per server, see `expiry`).
    pub(crate) expiries: Arc<Expiries>,
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
            expiries: Arc::new(Expiries::default()),
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
///
/// Kept small: an idle socket holds it for its whole life. No task runs for an idle socket
/// (the send queue's starts at the first `message:send`, token expiry is watched by one task
/// per server), and no channel is allocated for it.
#[derive(Debug)]
pub(crate) struct SocketUser<A: Adapter> {
    pub(crate) user_id: UserId,
    pub(crate) device_id: DeviceId,
    pub(crate) socket_id: SocketId,
    /// What the handshake said the client has seen; taken by the connect handler.
    pub(crate) last_sequences: Mutex<BTreeMap<ConversationId, ServerSequence>>,
    /// The token's expiry (epoch milliseconds); a refresh moves it.
    expires_at: AtomicI64,
    /// Set once the session is registered (`connected`/`reconnected` sent).
    registered: AtomicBool,
    registered_changed: Notify,
    /// This socket's send queue, with the task that commits it, from the first `message:send`.
    /// Boxed jobs: the channel allocates its slots 32 at a time (3.6 KiB per socket unboxed).
    sends: OnceLock<mpsc::UnboundedSender<Box<SendJob<A>>>>,
}

impl<A: Adapter> SocketUser<A> {
    pub(crate) fn new(
        user_id: UserId,
        device_id: DeviceId,
        socket_id: SocketId,
        last_sequences: BTreeMap<ConversationId, ServerSequence>,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            user_id,
            device_id,
            socket_id,
            last_sequences: Mutex::new(last_sequences),
            expires_at: AtomicI64::new(expires_at.millis()),
            registered: AtomicBool::new(false),
            registered_changed: Notify::new(),
            sends: OnceLock::new(),
        }
    }

    /// The handshake's `lastSequences`, once.
    pub(crate) fn take_last_sequences(&self) -> BTreeMap<ConversationId, ServerSequence> {
        std::mem::take(
            &mut *self
                .last_sequences
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// When the socket's token expires.
    pub(crate) fn expires_at(&self) -> Timestamp {
        Timestamp::from_millis(self.expires_at.load(Ordering::Acquire))
    }

    /// Moves the token's expiry (a refresh); returns the previous one.
    pub(crate) fn set_expires_at(&self, at: Timestamp) -> Timestamp {
        Timestamp::from_millis(self.expires_at.swap(at.millis(), Ordering::AcqRel))
    }

    /// Whether the session is registered.
    pub(crate) fn is_registered(&self) -> bool {
        self.registered.load(Ordering::Acquire)
    }

    /// Marks the session registered (or given up on).
    pub(crate) fn set_registered(&self) {
        self.registered.store(true, Ordering::Release);
        self.registered_changed.notify_waiters();
    }

    /// Waits until the session is registered.
    pub(crate) async fn registration(&self) {
        loop {
            // Created before the check: a `notify_waiters` in between still wakes it.
            let changed = self.registered_changed.notified();
            if self.is_registered() {
                return;
            }
            changed.await;
        }
    }

    /// The socket's send queue; the first call starts the task that commits it.
    pub(crate) fn sends(
        &self,
        socket: &Arc<Socket<A>>,
        state: &SocketState,
    ) -> &mpsc::UnboundedSender<Box<SendJob<A>>> {
        self.sends.get_or_init(|| {
            let (sends, queue) = mpsc::unbounded_channel();
            let socket = SocketRef::from(socket.clone());
            tokio::spawn(SendActor::new(socket, state.clone(), self).run(queue));
            sends
        })
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
