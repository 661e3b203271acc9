//! What falls due on this node, in time order: sockets whose token lapses, and typing indicators
//! that clear by themselves. One task per server ([`crate::expiry`]) waits for the earliest
//! instant, instead of one sleeping task per socket or per `typing:start`.

use std::{
    collections::BTreeMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use chat_domain::{Timestamp, ports::TOKEN_LEEWAY_SECS, service::TypingKey};
use socketioxide::socket::Sid;
use tokio::sync::Notify;

/// One thing to do at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Due {
    /// Check a socket's token: disconnect it unless it was refreshed or it left.
    Token(Sid),
    /// Clear a user's typing indicator unless it was refreshed (from any of the user's
    /// sockets) or stopped.
    Typing(TypingKey),
}

/// When a token stops being accepted: its expiry plus the same leeway as verification (a
/// token accepted at the handshake is not expired here).
pub(crate) fn lapses_at(expires_at: Timestamp) -> Timestamp {
    let leeway_ms = i64::try_from(TOKEN_LEEWAY_SECS.saturating_mul(1_000)).unwrap_or(i64::MAX);
    expires_at.plus_millis(leeway_ms)
}

/// What is due, by instant.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    due: Mutex<BTreeMap<Timestamp, Vec<Due>>>,
    /// Woken when a new earliest instant is listed.
    pub(crate) changed: Notify,
}

impl Timers {
    fn due(&self) -> MutexGuard<'_, BTreeMap<Timestamp, Vec<Due>>> {
        self.due.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lists `what` at `at`.
    pub(crate) fn watch(&self, at: Timestamp, what: Due) {
        let first = {
            let mut due = self.due();
            due.entry(at).or_default().push(what);
            due.first_key_value().is_some_and(|(first, _)| *first == at)
        };
        if first {
            self.changed.notify_one();
        }
    }

    /// Unlists `what` at `at`.
    pub(crate) fn forget(&self, at: Timestamp, what: &Due) {
        let mut due = self.due();
        if let Some(list) = due.get_mut(&at) {
            list.retain(|d| d != what);
            if list.is_empty() {
                due.remove(&at);
            }
        }
    }

    /// Lists a socket to be checked when a token expiring at `expires_at` lapses.
    pub(crate) fn watch_token(&self, sid: Sid, expires_at: Timestamp) {
        self.watch(lapses_at(expires_at), Due::Token(sid));
    }

    /// Unlists a socket for a token expiring at `expires_at` (refreshed, or the socket left).
    pub(crate) fn forget_token(&self, sid: Sid, expires_at: Timestamp) {
        self.forget(lapses_at(expires_at), &Due::Token(sid));
    }

    /// The earliest listed instant.
    pub(crate) fn next(&self) -> Option<Timestamp> {
        self.due().first_key_value().map(|(at, _)| *at)
    }

    /// Unlists and returns what is due at or before `now`, in time order.
    pub(crate) fn take_due(&self, now: Timestamp) -> Vec<Due> {
        let mut due = self.due();
        let mut taken = Vec::new();
        while let Some(entry) = due.first_entry() {
            if *entry.key() > now {
                break;
            }
            taken.extend(entry.remove());
        }
        taken
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.due().values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{ConversationId, UserId};

    use super::*;

    #[test]
    fn due_sockets_come_out_in_order_and_once() {
        let timers = Timers::default();
        let (a, b, c) = (Sid::new(), Sid::new(), Sid::new());
        timers.watch_token(a, Timestamp::from_millis(5_000));
        timers.watch_token(b, Timestamp::from_millis(1_000));
        timers.watch_token(c, Timestamp::from_millis(9_000));
        assert_eq!(
            timers.next(),
            Some(lapses_at(Timestamp::from_millis(1_000)))
        );
        let now = lapses_at(Timestamp::from_millis(5_000));
        assert_eq!(timers.take_due(now), vec![Due::Token(b), Due::Token(a)]);
        assert!(timers.take_due(now).is_empty());
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn a_refresh_moves_the_socket() {
        let timers = Timers::default();
        let a = Sid::new();
        timers.watch_token(a, Timestamp::from_millis(1_000));
        timers.forget_token(a, Timestamp::from_millis(1_000));
        timers.watch_token(a, Timestamp::from_millis(60_000));
        assert!(
            timers
                .take_due(lapses_at(Timestamp::from_millis(1_000)))
                .is_empty()
        );
        assert_eq!(timers.len(), 1);
        timers.forget_token(a, Timestamp::from_millis(60_000));
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn typing_and_tokens_share_one_timeline() {
        let timers = Timers::default();
        let key = TypingKey {
            conversation_id: ConversationId::new(uuid::Uuid::from_u128(1)),
            user_id: UserId::new(uuid::Uuid::from_u128(2)),
        };
        let sid = Sid::new();
        timers.watch(Timestamp::from_millis(3_000), Due::Typing(key.clone()));
        timers.watch_token(sid, Timestamp::from_millis(0));
        let due = timers.take_due(Timestamp::from_millis(i64::MAX));
        assert_eq!(due.len(), 2);
        assert!(due.contains(&Due::Typing(key)));
    }
}
