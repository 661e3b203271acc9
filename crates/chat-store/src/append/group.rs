//! Group commit on PostgreSQL: appends that arrive while earlier ones are being written share
//! the next statement (one round trip, one transaction, one WAL flush).
//!
//! Callers queue their message; whoever finds a free writer slot spawns a writer, which takes
//! everything queued (at most one message per conversation and [`MAX_BATCH`] in all; the rest
//! waits for the next statement, in arrival order) and writes it. At low rates a message is
//! written at once, alone, and batches grow only with the time a statement takes. Once
//! appends arrive at [`GATHER_RATE`] or faster (estimated from the batches themselves), each
//! statement first gathers for at most [`GATHER`] (or until [`GATHER_TARGET`] are queued): a
//! statement's fixed cost (executor start-up, commit, WAL flush) is most of its PostgreSQL CPU
//! at a few messages (measured: ~230 µs of execution for one message, ~600 µs for eight), so
//! under load a millisecond of waiting buys several times the throughput. [`WRITERS`]
//! statements may be in flight at once, on the connection pool given (the gateway gives a pool
//! of one connection of its own).
//! Every caller is answered only after its statement finished: stored (committed), or to be
//! appended again on its own. On SQLite there is no batch: appends take turns, one at a time
//! per node ([`GroupCommit::sqlite_turn`]).
//!
//! Under faults (protocol 4.6: `unavailable` within 3 s, issue 21) the writer fails fast:
//! - a statement that fails with an outage (connection lost, pool timeout, `lock_timeout`,
//!   `statement_timeout`) answers its whole batch `unavailable`, and so does everything queued
//!   behind it, instead of appending each message again on its own (which paid a second
//!   acquire timeout per message); only a per-row failure (a constraint, a deadlock) sends the
//!   batch's messages one by one;
//! - while the last statement failed that way, one statement at a time probes the database:
//!   appends that arrive while it is in flight are refused at once, not queued behind it;
//! - at most [`MAX_QUEUED`] messages wait; more are refused;
//! - no caller waits longer than [`WAIT_LIMIT`] for its statement (a backstop: the server's
//!   lock and statement timeouts and the pool's acquire timeout answer first). A message
//!   still queued then is dropped from the queue; one already in a statement may still
//!   commit after its caller was answered `unavailable`, which a resend (same message id)
//!   recognises as a duplicate.

use std::{
    collections::{HashSet, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::{
    sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot},
    time::Instant,
};
use uuid::Uuid;

use crate::error::is_outage;

use super::{
    attempt::Attempt,
    postgres::{self, Row},
};

/// At most this many messages per statement.
const MAX_BATCH: usize = 128;
/// At most this many statements in flight at once (per node). One: measured with `chat-bench
/// throughput`, a second writer halves the batches and costs more CPU per message than the
/// overlap gains (at 4,000 msg/s, ack p99 14 ms with one against 39-57 ms with two). Nodes
/// write concurrently, which the statement's ordered row locks allow.
const WRITERS: usize = 1;
/// Appends per second from which statements gather first. Below it (the 1,000 msg/s of
/// `chat-bench latency`, say) CPU is plentiful and a message is not held back. A rate, not the
/// last batch's size: small batches without gathering would keep the writer from ever
/// starting to gather.
const GATHER_RATE: f64 = 2_000.0;
/// The time over which the rate estimate forgets: a batch's weight in it is
/// `1 - exp(-interval / RATE_MEMORY)`, so that a pause resets it at once.
const RATE_MEMORY: f64 = 0.02;
/// How long a statement under load waits for more messages, at most (tokio's timer rounds it
/// up to its next millisecond tick).
const GATHER: Duration = Duration::from_millis(1);
/// Queued messages that end the gathering early.
const GATHER_TARGET: usize = 16;
/// At most this many messages wait for the writer; an append beyond it is refused
/// `unavailable` (a backed-up writer: more waiting would only answer later, not better).
const MAX_QUEUED: usize = 8 * MAX_BATCH;
/// The longest a caller waits for its statement, queue included.
const WAIT_LIMIT: Duration = Duration::from_millis(2_500);

/// Whether the next statement gathers: appends arrive fast and few are queued yet.
fn gathers(rate: f64, queued: usize) -> bool {
    rate >= GATHER_RATE && queued > 0 && queued < GATHER_TARGET
}

/// The arrival rate of appends, estimated from the batches taken: a batch holds what arrived
/// since the previous one was taken.
#[derive(Debug, Default)]
struct Pace {
    last_take: Option<Instant>,
    /// Appends per second, smoothed.
    rate: f64,
}

impl Pace {
    fn observe(&mut self, taken: usize, at: Instant) {
        if let Some(last) = self.last_take {
            let seconds = at.saturating_duration_since(last).as_secs_f64().max(1e-4);
            #[allow(clippy::cast_precision_loss)] // at most MAX_BATCH
            let sample = taken as f64 / seconds;
            let weight = 1.0 - (-seconds / RATE_MEMORY).exp();
            self.rate += weight * (sample - self.rate);
        }
        self.last_take = Some(at);
    }
}

/// The answer to one queued message.
#[derive(Debug)]
pub(super) enum Reply {
    /// The statement's outcome for this message.
    Done(Result<Attempt, DbErr>),
    /// Not stored by the batch (a resend, a stale version, a missing conversation, or the
    /// batch failed on a row): append it again on its own.
    Alone,
    /// Not written: the database cannot commit now (the statement failed with an outage,
    /// the writer is probing a failing database, the queue is full, or no answer came in
    /// time). The caller answers `unavailable`.
    Refused(&'static str),
}

struct Queued {
    row: Row,
    reply: oneshot::Sender<Reply>,
}

/// The queue and the writer slots of one database.
pub(crate) struct GroupCommit {
    db: DatabaseConnection,
    queue: Mutex<VecDeque<Queued>>,
    writers: Arc<Semaphore>,
    /// The arrival rate, kept by whichever writer runs.
    pace: Mutex<Pace>,
    /// Signalled when the queue reaches [`GATHER_TARGET`].
    gathered: Notify,
    /// The last statement failed with an outage (cleared by the next one that succeeds).
    failing: AtomicBool,
    /// SQLite has one writer at a time, so its appends take turns here (in arrival order),
    /// and only the one whose turn it is holds a pooled connection. Otherwise a burst of sends
    /// each waits for the pool (or, holding a connection, for the database's write lock) and
    /// the pool's acquire timeout answers them `unavailable`.
    sqlite_turns: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            queue: Mutex::new(VecDeque::new()),
            writers: Arc::new(Semaphore::new(WRITERS)),
            pace: Mutex::new(Pace::default()),
            gathered: Notify::new(),
            failing: AtomicBool::new(false),
            sqlite_turns: tokio::sync::Mutex::new(()),
        }
    }

    /// Queues `row` and waits for its statement (at most [`WAIT_LIMIT`]); refused at once
    /// when the queue is full, or when the database is failing and a statement already probes
    /// it.
    pub(super) async fn append(self: &Arc<Self>, row: Row) -> Reply {
        let (reply, answer) = oneshot::channel();
        let queued = {
            let mut queue = self.lock();
            if queue.len() >= MAX_QUEUED {
                return Reply::Refused("too many appends wait for the database");
            }
            if self.failing.load(Ordering::Acquire) && self.writers.available_permits() == 0 {
                return Reply::Refused("the database is failing");
            }
            queue.push_back(Queued { row, reply });
            queue.len()
        };
        if queued == GATHER_TARGET {
            self.gathered.notify_one();
        }
        if let Ok(slot) = self.writers.clone().try_acquire_owned() {
            tokio::spawn(self.clone().write(slot));
        }
        match tokio::time::timeout(WAIT_LIMIT, answer).await {
            Ok(reply) => {
                // A writer that went away without answering (it panicked) leaves the caller
                // to append on its own.
                reply.unwrap_or(Reply::Alone)
            }
            // Dropping `answer` takes the message out of the queue if it is still there.
            Err(_) => Reply::Refused("no answer from the database in time"),
        }
    }

    /// Waits for this node's turn to write an append to SQLite; the turn lasts as long as the
    /// guard.
    pub(super) async fn sqlite_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.sqlite_turns.lock().await
    }

    /// Whether the last write failed because the database could not commit (SQLite: the
    /// write lock was not granted within the busy timeout).
    pub(super) fn failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }

    /// Records whether the last SQLite write failed because the database could not commit.
    pub(super) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next statement's messages: queued ones of distinct conversations, oldest first.
    fn take(&self) -> Vec<Queued> {
        let mut queue = self.lock();
        let mut batch = Vec::new();
        let mut conversations = HashSet::new();
        let mut later = VecDeque::new();
        while batch.len() < MAX_BATCH {
            let Some(q) = queue.pop_front() else { break };
            if q.reply.is_closed() {
                // Its caller stopped waiting (answered `unavailable`): not written.
                continue;
            }
            if conversations.insert(q.row.conversation) {
                batch.push(q);
            } else {
                later.push_back(q);
            }
        }
        // What waits keeps its place ahead of what arrives later.
        while let Some(q) = later.pop_back() {
            queue.push_front(q);
        }
        batch
    }

    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn rate(&self) -> f64 {
        self.pace().rate
    }

    /// Under load, waits a moment for more messages to share the next statement.
    async fn gather(&self) {
        let queued = self.lock().len();
        if gathers(self.rate(), queued) {
            let _ = tokio::time::timeout(GATHER, self.gathered.notified()).await;
        }
    }

    /// Writes statements until the queue is empty, then frees the slot.
    async fn write(self: Arc<Self>, mut slot: OwnedSemaphorePermit) {
        loop {
            self.gather().await;
            let batch = self.take();
            self.pace().observe(batch.len(), Instant::now());
            if batch.is_empty() {
                drop(slot);
                // A message queued after `take` whose caller found no free slot: take a slot
                // again, or leave it to the writer that holds one (it looks again before
                // freeing its slot).
                if self.lock().is_empty() {
                    return;
                }
                match self.writers.clone().try_acquire_owned() {
                    Ok(again) => slot = again,
                    Err(_) => return,
                }
                continue;
            }
            self.statement(batch).await;
        }
    }

    /// Records how the last statement went; after an outage, answers everything still
    /// queued `unavailable` (it would only wait behind a failing database).
    fn settle(&self, error: Option<&DbErr>, size: usize) {
        match error {
            Some(error) if is_outage(error) => {
                if !self.failing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(%error, size, "appends fail: the database cannot commit");
                }
                let refused: Vec<Queued> = self.lock().drain(..).collect();
                for q in refused {
                    let _ = q.reply.send(Reply::Refused("the database is failing"));
                }
            }
            _ => {
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::info!("appends commit again");
                }
            }
        }
    }

    async fn statement(&self, mut batch: Vec<Queued>) {
        if batch.len() == 1
            && let Some(one) = batch.pop()
        {
            let outcome = postgres::attempt(&self.db, &one.row).await;
            self.settle(outcome.as_ref().err(), 1);
            let _ = one.reply.send(Reply::Done(outcome));
            return;
        }
        let rows: Vec<&Row> = batch.iter().map(|q| &q.row).collect();
        let stored = match postgres::stored(&self.db, &rows, true).await {
            Ok(stored) => {
                self.settle(None, batch.len());
                stored
            }
            Err(error) if is_outage(&error) => {
                self.settle(Some(&error), batch.len());
                for q in batch {
                    let _ = q.reply.send(Reply::Refused("the database is failing"));
                }
                return;
            }
            Err(error) => {
                self.settle(Some(&error), batch.len());
                tracing::debug!(error = %error, size = batch.len(), "a group commit failed on a row; its messages are appended one by one");
                Vec::new()
            }
        };
        // By conversation: one message each in a batch, whereas two may share an id.
        let mut stored: std::collections::HashMap<Uuid, Attempt> = stored.into_iter().collect();
        for q in batch {
            let reply = match stored.remove(&q.row.conversation) {
                Some(attempt) => Reply::Done(Ok(attempt)),
                None => Reply::Alone,
            };
            let _ = q.reply.send(reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fast_arrivals_gather() {
        // Light load: written at once.
        assert!(!gathers(0.0, 1));
        assert!(!gathers(1_000.0, 3));
        // Under load, a short queue waits for company; an empty or full one does not.
        assert!(gathers(GATHER_RATE, 1));
        assert!(gathers(10_000.0, GATHER_TARGET - 1));
        assert!(!gathers(10_000.0, 0));
        assert!(!gathers(10_000.0, GATHER_TARGET));
    }

    #[test]
    fn the_rate_follows_the_batches() {
        let start = Instant::now();
        let mut pace = Pace::default();
        // One message every 10 ms: 100 per second, whatever the start.
        for n in 0..40 {
            pace.observe(1, start + Duration::from_millis(10 * n));
        }
        assert!((pace.rate - 100.0).abs() < 1.0, "{}", pace.rate);
        // Then 8 messages every 2 ms (4,000 per second): gathering starts within a few batches.
        let later = start + Duration::from_millis(400);
        for n in 0..10 {
            pace.observe(8, later + Duration::from_millis(2 * n));
        }
        assert!(pace.rate >= GATHER_RATE, "{}", pace.rate);
        // A pause (the writer idle) brings it back down at once.
        pace.observe(1, later + Duration::from_secs(1));
        pace.observe(1, later + Duration::from_secs(2));
        assert!(pace.rate < GATHER_RATE, "{}", pace.rate);
    }
}
