//! Group commit on PostgreSQL: appends that arrive while earlier ones are being written share
//! the next statement (one round trip, one transaction, one WAL flush).
//!
//! Callers queue their message; whoever finds a free writer slot spawns a writer, which takes
//! everything queued (at most one message per conversation and [`MAX_BATCH`] in all; the rest
//! waits for the next statement, in arrival order) and writes it. Nothing waits on a timer:
//! with no other append in flight a message is written at once, alone; under load, batches
//! grow with the time a statement takes. [`WRITERS`] statements may be in flight at once, on
//! the connection pool given (the gateway gives a pool of one connection of its own).
//! Every caller is answered only after its statement finished: stored (committed), or to be
//! appended again on its own.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, Mutex},
};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use uuid::Uuid;

use super::{
    Attempt,
    postgres::{self, Row},
};

/// At most this many messages per statement.
const MAX_BATCH: usize = 128;
/// At most this many statements in flight at once (per node). One: measured with `chat-bench
/// throughput`, a second writer halves the batches and costs more CPU per message than the
/// overlap gains (at 4,000 msg/s, ack p99 14 ms with one against 39-57 ms with two). Nodes
/// write concurrently, which the statement's ordered row locks allow.
const WRITERS: usize = 1;

/// The answer to one queued message.
#[derive(Debug)]
pub(super) enum Reply {
    /// The statement's outcome for this message.
    Done(Result<Attempt, DbErr>),
    /// Not stored by the batch (a resend, a stale version, a missing conversation, or the
    /// batch failed): append it again on its own.
    Alone,
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
        }
    }

    /// Queues `row` and waits for its statement.
    pub(super) async fn append(self: &Arc<Self>, row: Row) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.lock().push_back(Queued { row, reply });
        if let Ok(slot) = self.writers.clone().try_acquire_owned() {
            tokio::spawn(self.clone().write(slot));
        }
        // A writer that went away without answering (it panicked) leaves the caller to
        // append on its own.
        answer.await.unwrap_or(Reply::Alone)
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

    /// Writes statements until the queue is empty, then frees the slot.
    async fn write(self: Arc<Self>, mut slot: OwnedSemaphorePermit) {
        loop {
            let batch = self.take();
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

    async fn statement(&self, mut batch: Vec<Queued>) {
        if batch.len() == 1
            && let Some(one) = batch.pop()
        {
            let outcome = postgres::attempt(&self.db, &one.row).await;
            let _ = one.reply.send(Reply::Done(outcome));
            return;
        }
        let rows: Vec<&Row> = batch.iter().map(|q| &q.row).collect();
        let stored = match postgres::stored(&self.db, &rows, true).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::debug!(error = %error, size = batch.len(), "a group commit failed; its messages are appended one by one");
                Vec::new()
            }
        };
        let mut stored: std::collections::HashMap<Uuid, Attempt> = stored.into_iter().collect();
        for q in batch {
            let reply = match stored.remove(&q.row.id) {
                Some(attempt) => Reply::Done(Ok(attempt)),
                None => Reply::Alone,
            };
            let _ = q.reply.send(reply);
        }
    }
}
