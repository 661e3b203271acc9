//! What each socket carries (a socket extension): the authenticated identity, its registration,
//! its token's expiry, and its send queue.
//!
//! Kept small: an idle socket holds it for its whole life. No task runs for an idle socket (the
//! send queue's starts at the first `message:send`, expiries are watched by one task per
//! server), and no channel is allocated for it.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex, OnceLock, PoisonError,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::Instant,
};

use chat_domain::{ConversationId, DeviceId, ServerSequence, SocketId, Timestamp, UserId};
use chat_protocol::Failure;
use serde_json::Value;
use socketioxide::{adapter::Adapter, extract::AckSender};
use tokio::sync::{Notify, mpsc};

use crate::drain::InFlight;

/// `issued_at` of a token without `iat`.
const NO_IAT: i64 = i64::MIN;

/// One `message:send`, waiting its turn in the socket's queue.
pub(crate) struct SendJob<A: Adapter> {
    /// The payload, or why there is none.
    pub(crate) payload: Result<Value, Failure>,
    /// Answered once, after the commit or the failure.
    pub(crate) ack: AckSender<A>,
    /// When it arrived (ack latency).
    pub(crate) received: Instant,
    /// Counted until answered.
    pub(crate) _in_flight: InFlight,
}

impl<A: Adapter> std::fmt::Debug for SendJob<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendJob").finish_non_exhaustive()
    }
}

/// A socket's send queue. Boxed jobs: the channel allocates its slots 32 at a time (3.6 KiB per
/// socket unboxed).
pub(crate) type SendQueue<A> = mpsc::UnboundedSender<Box<SendJob<A>>>;

/// The authenticated identity and per-socket machinery.
#[derive(Debug)]
pub(crate) struct SocketUser<A: Adapter> {
    pub(crate) user_id: UserId,
    pub(crate) device_id: DeviceId,
    pub(crate) socket_id: SocketId,
    /// What the handshake said the client has seen; taken by the connect handler.
    last_sequences: Mutex<BTreeMap<ConversationId, ServerSequence>>,
    /// The token's expiry (epoch milliseconds); a refresh moves it.
    expires_at: AtomicI64,
    /// The token's `iat` (epoch milliseconds, [`NO_IAT`] when it had none); a refresh moves it.
    issued_at: AtomicI64,
    /// Set once the session is registered (`connected`/`reconnected` sent).
    registered: AtomicBool,
    registered_changed: Notify,
    /// This socket's send queue, with the task that commits it, from the first `message:send`
    /// (`send::queue`).
    pub(crate) sends: OnceLock<SendQueue<A>>,
}

impl<A: Adapter> SocketUser<A> {
    pub(crate) fn new(
        user_id: UserId,
        device_id: DeviceId,
        socket_id: SocketId,
        last_sequences: BTreeMap<ConversationId, ServerSequence>,
        expires_at: Timestamp,
        issued_at: Option<Timestamp>,
    ) -> Self {
        Self {
            user_id,
            device_id,
            socket_id,
            last_sequences: Mutex::new(last_sequences),
            expires_at: AtomicI64::new(expires_at.millis()),
            issued_at: AtomicI64::new(issued_at.map_or(NO_IAT, Timestamp::millis)),
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

    /// When the socket's token was issued, if it said.
    pub(crate) fn issued_at(&self) -> Option<Timestamp> {
        let ms = self.issued_at.load(Ordering::Acquire);
        (ms != NO_IAT).then(|| Timestamp::from_millis(ms))
    }

    /// A refresh's token issue time.
    pub(crate) fn set_issued_at(&self, at: Option<Timestamp>) {
        self.issued_at
            .store(at.map_or(NO_IAT, Timestamp::millis), Ordering::Release);
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
}
