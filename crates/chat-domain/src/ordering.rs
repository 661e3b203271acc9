//! Ordering of sends, as pure state machines that the socket adapter drives.
//!
//! - [`SendOrder`]: messages one socket sends to one conversation commit in the order sent,
//!   although the transport runs each event as its own task. An adapter that handles sends
//!   concurrently takes a ticket when the event arrives and commits when its ticket is served.
//!   (The Socket.IO adapter gets the same guarantee more simply: a FIFO queue per socket, filled
//!   in arrival order and drained one send at a time.)
//! - [`ReorderBuffer`]: with `clientSequence`, messages of one sender device in one conversation
//!   commit in that order. One that arrives early is held (at most `max_wait_ms` and `max_held`
//!   messages) for the missing one, then released anyway.

use std::collections::BTreeMap;

use crate::{sequence::ClientSequence, time::Timestamp};

/// A place in a socket's send queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// First come, first committed, per socket and conversation.
#[derive(Debug, Default)]
pub struct SendOrder {
    issued: u64,
    serving: u64,
}

impl SendOrder {
    /// An empty queue.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Called when an event arrives, in arrival order.
    pub fn take_ticket(&mut self) -> Ticket {
        let t = Ticket(self.issued);
        self.issued += 1;
        t
    }

    /// Whether `ticket` may commit now.
    #[must_use]
    pub fn is_turn(&self, ticket: Ticket) -> bool {
        ticket.0 == self.serving
    }

    /// The ticket being served is done (committed or refused); the next may go.
    pub fn finish(&mut self, ticket: Ticket) {
        if ticket.0 == self.serving {
            self.serving += 1;
        }
    }

    /// Whether every ticket issued has been served.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.issued == self.serving
    }
}

/// Bounds of the reorder buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReorderPolicy {
    /// How long an early message waits for the missing one.
    pub max_wait_ms: i64,
    /// How many messages may wait at once.
    pub max_held: usize,
}

impl Default for ReorderPolicy {
    fn default() -> Self {
        Self {
            max_wait_ms: 5_000,
            max_held: 64,
        }
    }
}

/// What to do with an offered message.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer<T> {
    /// Commit these now, in this order (the offered one among them).
    Release(Vec<T>),
    /// The offered message waits for an earlier one; see [`ReorderBuffer::next_deadline`].
    Held,
}

#[derive(Debug)]
struct HeldItem<T> {
    item: T,
    deadline: Timestamp,
}

/// Orders one sender device's messages in one conversation by `clientSequence`.
#[derive(Debug)]
pub struct ReorderBuffer<T> {
    policy: ReorderPolicy,
    /// The client sequence expected next.
    next: u64,
    held: BTreeMap<u64, HeldItem<T>>,
}

impl<T> ReorderBuffer<T> {
    /// A buffer that knows the last committed client sequence of the stream, if any. A stream
    /// with nothing committed starts at 1 (a 0 passes straight through).
    #[must_use]
    pub fn new(last_committed: Option<ClientSequence>, policy: ReorderPolicy) -> Self {
        Self {
            policy,
            next: last_committed.map_or(1, |s| s.get().saturating_add(1)),
            held: BTreeMap::new(),
        }
    }

    /// Offers a message with its client sequence at `now`.
    pub fn offer(&mut self, seq: ClientSequence, item: T, now: Timestamp) -> Offer<T> {
        let seq = seq.get();
        if seq < self.next {
            // Late (its gap was given up) or already committed: the store decides its fate.
            return Offer::Release(vec![item]);
        }
        if seq == self.next {
            self.next = seq.saturating_add(1);
            let mut out = vec![item];
            out.extend(self.release_contiguous());
            return Offer::Release(out);
        }
        if self.held.contains_key(&seq) {
            // A second message with a held sequence: the store will refuse or recognise it;
            // holding it would lose the first.
            return Offer::Release(vec![item]);
        }
        self.held.insert(
            seq,
            HeldItem {
                item,
                deadline: now.plus_millis(self.policy.max_wait_ms),
            },
        );
        if self.held.len() > self.policy.max_held {
            Offer::Release(self.release_up_to(u64::MAX))
        } else {
            Offer::Held
        }
    }

    /// Gives up on gaps whose wait has passed at `now`: releases, in order, every held message
    /// up to the last expired one, and the contiguous run after it.
    pub fn expire(&mut self, now: Timestamp) -> Vec<T> {
        let last_expired = self
            .held
            .iter()
            .filter(|(_, h)| h.deadline <= now)
            .map(|(&seq, _)| seq)
            .max();
        match last_expired {
            Some(seq) => self.release_up_to(seq),
            None => Vec::new(),
        }
    }

    /// The earliest instant at which [`Self::expire`] will release something.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.held.values().map(|h| h.deadline).min()
    }

    /// How many messages wait.
    #[must_use]
    pub fn held(&self) -> usize {
        self.held.len()
    }

    fn release_up_to(&mut self, last: u64) -> Vec<T> {
        let rest = self.held.split_off(&last.saturating_add(1));
        let released = std::mem::replace(&mut self.held, rest);
        let mut out = Vec::with_capacity(released.len());
        for (seq, h) in released {
            self.next = seq.saturating_add(1);
            out.push(h.item);
        }
        out.extend(self.release_contiguous());
        out
    }

    fn release_contiguous(&mut self) -> Vec<T> {
        let mut out = Vec::new();
        while let Some(h) = self.held.remove(&self.next) {
            out.push(h.item);
            self.next = self.next.saturating_add(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(n: u64) -> ClientSequence {
        ClientSequence::new(n)
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    #[test]
    fn send_order_serves_tickets_in_arrival_order() {
        let mut o = SendOrder::new();
        let a = o.take_ticket();
        let b = o.take_ticket();
        assert!(o.is_turn(a));
        assert!(!o.is_turn(b));
        o.finish(b); // out of turn: ignored
        assert!(o.is_turn(a));
        o.finish(a);
        assert!(o.is_turn(b));
        assert!(!o.is_idle());
        o.finish(b);
        assert!(o.is_idle());
    }

    #[test]
    fn a_fresh_stream_starts_at_one() {
        let mut b = ReorderBuffer::new(None, ReorderPolicy::default());
        assert_eq!(b.offer(cs(3), 3, at(0)), Offer::Held);
        assert_eq!(b.offer(cs(2), 2, at(1)), Offer::Held);
        assert_eq!(b.offer(cs(1), 1, at(2)), Offer::Release(vec![1, 2, 3]));
    }

    #[test]
    fn in_order_messages_pass_straight_through() {
        let mut b = ReorderBuffer::new(None, ReorderPolicy::default());
        for n in 1..=5 {
            assert_eq!(b.offer(cs(n), n, at(0)), Offer::Release(vec![n]));
        }
    }

    #[test]
    fn an_early_message_waits_for_the_missing_one() {
        let mut b = ReorderBuffer::new(Some(cs(0)), ReorderPolicy::default());
        assert_eq!(b.offer(cs(2), 2, at(0)), Offer::Held);
        assert_eq!(b.offer(cs(4), 4, at(10)), Offer::Held);
        assert_eq!(b.offer(cs(1), 1, at(20)), Offer::Release(vec![1, 2]));
        assert_eq!(b.offer(cs(3), 3, at(30)), Offer::Release(vec![3, 4]));
        assert_eq!(b.held(), 0);
    }

    #[test]
    fn after_the_wait_the_gap_is_given_up() {
        let mut b = ReorderBuffer::new(Some(cs(0)), ReorderPolicy::default());
        assert_eq!(b.offer(cs(3), 3, at(0)), Offer::Held);
        assert_eq!(b.offer(cs(4), 4, at(1_000)), Offer::Held);
        assert_eq!(b.offer(cs(6), 6, at(1_000)), Offer::Held);
        assert_eq!(b.next_deadline(), Some(at(5_000)));
        assert_eq!(b.expire(at(4_999)), Vec::<u64>::new());
        assert_eq!(b.expire(at(5_000)), vec![3, 4]);
        assert_eq!(b.next_deadline(), Some(at(6_000)));
        assert_eq!(b.offer(cs(5), 5, at(5_500)), Offer::Release(vec![5, 6]));
        // The missing ones, late: released at once (the store decides their fate).
        assert_eq!(b.offer(cs(1), 1, at(7_000)), Offer::Release(vec![1]));
        assert_eq!(b.offer(cs(7), 7, at(7_000)), Offer::Release(vec![7]));
    }

    #[test]
    fn more_than_max_held_flushes_everything_in_order() {
        let policy = ReorderPolicy {
            max_wait_ms: 5_000,
            max_held: 3,
        };
        let mut b = ReorderBuffer::new(Some(cs(0)), policy);
        for n in [5, 3, 4] {
            assert_eq!(b.offer(cs(n), n, at(0)), Offer::Held);
        }
        assert_eq!(b.offer(cs(7), 7, at(0)), Offer::Release(vec![3, 4, 5, 7]));
        assert_eq!(b.offer(cs(8), 8, at(0)), Offer::Release(vec![8]));
    }

    #[test]
    fn a_known_last_sequence_sets_where_the_stream_resumes() {
        let mut b = ReorderBuffer::new(Some(cs(10)), ReorderPolicy::default());
        assert_eq!(b.offer(cs(12), 12, at(0)), Offer::Held);
        assert_eq!(b.offer(cs(11), 11, at(0)), Offer::Release(vec![11, 12]));
    }

    #[test]
    fn a_repeated_held_sequence_is_not_swallowed() {
        let mut b = ReorderBuffer::new(Some(cs(0)), ReorderPolicy::default());
        assert_eq!(b.offer(cs(2), "first", at(0)), Offer::Held);
        assert_eq!(
            b.offer(cs(2), "again", at(0)),
            Offer::Release(vec!["again"])
        );
        assert_eq!(
            b.offer(cs(1), "one", at(0)),
            Offer::Release(vec!["one", "first"])
        );
    }
}
