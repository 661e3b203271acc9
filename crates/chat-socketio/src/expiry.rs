//! Token expiry: one task per node disconnects the sockets whose token expired (past the
//! leeway) without a refresh, instead of one sleeping task per socket.
//!
//! Each socket is listed once per token it has had, by the instant its token lapses; a refresh
//! lists it again at the new instant and unlists the old one. When an instant passes, the task
//! looks the socket up: gone (it disconnected) or refreshed (its token now lapses later), it is
//! skipped; otherwise it gets `error:unauthorized` `{code: "token_expired"}` and is disconnected.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use chat_domain::{Timestamp, ports::TOKEN_LEEWAY_SECS};
use serde::Serialize;
use socketioxide::{SocketIo, adapter::Adapter, socket::Sid};
use tokio::sync::Notify;

use crate::{
    names::{inbound, outbound},
    state::{SocketState, SocketUser},
    wire_time,
};

/// When a token stops being accepted: its expiry plus the same leeway as verification (a
/// token accepted at the handshake is not expired here).
pub(crate) fn lapses_at(expires_at: Timestamp) -> Timestamp {
    let leeway_ms = i64::try_from(TOKEN_LEEWAY_SECS.saturating_mul(1_000)).unwrap_or(i64::MAX);
    expires_at.plus_millis(leeway_ms)
}

/// The sockets of this node by the instant their token lapses.
#[derive(Debug, Default)]
pub(crate) struct Expiries {
    due: Mutex<BTreeSet<(Timestamp, Sid)>>,
    changed: Notify,
}

impl Expiries {
    /// Lists `sid` to be checked when a token expiring at `expires_at` lapses.
    pub(crate) fn watch(&self, sid: Sid, expires_at: Timestamp) {
        let at = lapses_at(expires_at);
        let first = {
            let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
            due.insert((at, sid));
            due.first() == Some(&(at, sid))
        };
        if first {
            self.changed.notify_one();
        }
    }

    /// Unlists `sid` for a token expiring at `expires_at` (refreshed, or the socket left).
    pub(crate) fn forget(&self, sid: Sid, expires_at: Timestamp) {
        self.due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(lapses_at(expires_at), sid));
    }

    /// The earliest listed instant.
    fn next(&self) -> Option<Timestamp> {
        let due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        due.first().map(|(at, _)| *at)
    }

    /// Unlists and returns the sockets listed at or before `now`.
    fn take_due(&self, now: Timestamp) -> Vec<Sid> {
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken = Vec::new();
        while let Some(&(at, sid)) = due.first() {
            if at > now {
                break;
            }
            due.pop_first();
            taken.push(sid);
        }
        taken
    }

    /// How many sockets are listed (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[derive(Serialize)]
struct ExpiredOut {
    code: &'static str,
    message: &'static str,
    event: &'static str,
    timestamp: String,
}

/// Disconnects the sockets of `io` whose token lapsed, as they lapse. Runs until aborted.
pub(crate) fn spawn_watcher<A: Adapter>(
    io: SocketIo<A>,
    state: SocketState,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let expiries = state.expiries.clone();
        loop {
            let now = state.clock.now();
            match expiries.next() {
                None => expiries.changed.notified().await,
                Some(at) if at > now => {
                    let ms = u64::try_from(at.millis_since(now)).unwrap_or(0);
                    tokio::select! {
                        () = expiries.changed.notified() => {}
                        () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    }
                }
                Some(_) => {
                    for sid in expiries.take_due(now) {
                        if let Some(s) = io.get_socket(sid) {
                            expire(&s, &state, now);
                        }
                    }
                }
            }
        }
    })
}

fn expire<A: Adapter>(
    s: &socketioxide::extract::SocketRef<A>,
    state: &SocketState,
    now: Timestamp,
) {
    let Some(user) = s.extensions.get::<Arc<SocketUser<A>>>() else {
        return;
    };
    // Refreshed since it was listed: listed again at the new instant.
    if lapses_at(user.expires_at()) > now || !s.connected() {
        return;
    }
    let out = ExpiredOut {
        code: "token_expired",
        message: "the token expired",
        event: inbound::AUTH,
        timestamp: wire_time::format(state.clock.now()),
    };
    let _ = s.emit(outbound::error("unauthorized"), &out);
    let _ = s.clone().disconnect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_sockets_come_out_in_order_and_once() {
        let expiries = Expiries::default();
        let (a, b, c) = (Sid::new(), Sid::new(), Sid::new());
        expiries.watch(a, Timestamp::from_millis(5_000));
        expiries.watch(b, Timestamp::from_millis(1_000));
        expiries.watch(c, Timestamp::from_millis(9_000));
        assert_eq!(
            expiries.next(),
            Some(lapses_at(Timestamp::from_millis(1_000)))
        );
        let now = lapses_at(Timestamp::from_millis(5_000));
        assert_eq!(expiries.take_due(now), vec![b, a]);
        assert!(expiries.take_due(now).is_empty());
        assert_eq!(expiries.len(), 1);
    }

    #[test]
    fn a_refresh_moves_the_socket() {
        let expiries = Expiries::default();
        let a = Sid::new();
        expiries.watch(a, Timestamp::from_millis(1_000));
        expiries.forget(a, Timestamp::from_millis(1_000));
        expiries.watch(a, Timestamp::from_millis(60_000));
        assert!(
            expiries
                .take_due(lapses_at(Timestamp::from_millis(1_000)))
                .is_empty()
        );
        assert_eq!(expiries.len(), 1);
        expiries.forget(a, Timestamp::from_millis(60_000));
        assert_eq!(expiries.len(), 0);
    }
}
