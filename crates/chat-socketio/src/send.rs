//! `message:send`: a queue per socket, so that messages one socket sends commit in the order
//! sent although socketioxide runs each event as its own task.
//!
//! The [`QueuedSend`] extractor runs synchronously, in arrival order, when socketioxide reads the
//! packet (before it spawns the handler): it puts the payload and the ack into the socket's
//! queue. One task per socket takes them in that order and commits one at a time. Messages with
//! `clientSequence` go through a [`ReorderBuffer`] per conversation first: one that arrives early
//! waits (at most 5 s and 64 messages) for the missing one. No lock is shared between sockets.

use std::{collections::HashMap, convert::Infallible, sync::Arc, time::Instant};

use chat_domain::{
    ConversationId, DeviceId, Timestamp, UserId,
    ordering::{Offer, ReorderBuffer, ReorderPolicy},
    service::SendMessage,
};
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef, State},
    handler::{FromMessageParts, Value as RawValue},
    socket::Socket,
};
use tokio::sync::mpsc;

use chat_protocol::{
    ANSWER_DEADLINE, ErrorCode, Failure, FailureContext,
    events::{inbound::MESSAGE_SEND, outbound},
    inbound::{self, MessageSend, SendFields},
    past_deadline,
    payload::MessageDelivered,
};

use crate::{
    metrics,
    reply::{answer, read_payload},
    state::SocketState,
    user::{SendJob, SendQueue, SocketUser},
};

/// The socket's send queue; the first call starts the task that commits it.
fn queue<'a, A: Adapter>(
    user: &'a SocketUser<A>,
    socket: &Arc<Socket<A>>,
    state: &SocketState,
) -> &'a SendQueue<A> {
    user.sends.get_or_init(|| {
        let (sends, queue) = mpsc::unbounded_channel();
        let socket = SocketRef::from(socket.clone());
        tokio::spawn(SendActor::new(socket, state.clone(), user).run(queue));
        sends
    })
}

/// Enqueues the event in arrival order; the handler itself has nothing left to do.
#[derive(Debug)]
pub(crate) struct QueuedSend;

impl<A: Adapter> FromMessageParts<A> for QueuedSend {
    type Error = Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut RawValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        let received = Instant::now();
        let payload = read_payload(s, v, ack_id);
        let ack = match AckSender::from_message_parts(s, v, ack_id) {
            Ok(ack) => ack,
            Err(never) => match never {},
        };
        let state = State::<SocketState>::from_message_parts(s, v, ack_id).ok();
        let user = s.extensions.get::<Arc<SocketUser<A>>>();
        let refused = match (state, user) {
            (Some(State(state)), Some(user)) => match state.drain.begin() {
                Some(in_flight) => {
                    let job = Box::new(SendJob {
                        payload,
                        ack,
                        received,
                        _in_flight: in_flight,
                    });
                    match queue(&user, s, &state).send(job) {
                        Ok(()) => return Ok(Self),
                        Err(mpsc::error::SendError(job)) => {
                            Some((job.ack, "the socket is closing"))
                        }
                    }
                }
                None => Some((ack, "the server is shutting down, retry")),
            },
            _ => Some((ack, "the socket is not ready")),
        };
        if let Some((ack, why)) = refused {
            let _ = ack.send(&Failure::unavailable(why).ack());
        }
        Ok(Self)
    }
}

/// The handler: everything happened in the extractor.
pub(crate) async fn on_send(_: QueuedSend) {}

struct Pending<A: Adapter> {
    fields: SendFields,
    job: SendJob<A>,
    /// When the reorder buffer let it go, if it held it: its answer deadline counts from then
    /// (the contract allows the hold, up to 5 s, on top of the 3 s).
    released: Option<Instant>,
}

/// After a send of this socket was answered `unavailable`, a queued send that has already
/// waited this long behind it is answered `unavailable` at once instead of trying the
/// database again (protocol 4.6: within 3 s of the request): each try under an outage costs
/// up to the pool's acquire timeout, and sends pipelined on one socket would pay it one after
/// another. A send that waited less still tries (it may be the one that finds the database
/// back).
const FAILING_QUEUE_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

/// The per-socket task that commits queued sends in order.
struct SendActor<A: Adapter> {
    socket: SocketRef<A>,
    state: SocketState,
    user_id: UserId,
    device_id: DeviceId,
    streams: HashMap<ConversationId, ReorderBuffer<Pending<A>>>,
    /// The last commit was answered `unavailable`.
    failing: bool,
}

impl<A: Adapter> SendActor<A> {
    fn new(socket: SocketRef<A>, state: SocketState, user: &SocketUser<A>) -> Self {
        Self {
            socket,
            state,
            user_id: user.user_id,
            device_id: user.device_id.clone(),
            streams: HashMap::new(),
            failing: false,
        }
    }

    /// Runs until the socket's queue closes, then commits whatever still waits, in order.
    async fn run(mut self, mut queue: mpsc::UnboundedReceiver<Box<SendJob<A>>>) {
        loop {
            let wait = self.next_deadline().map(|d| {
                let ms = d.millis_since(self.state.clock.now()).max(0);
                std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
            });
            tokio::select! {
                job = queue.recv() => match job {
                    Some(job) => self.accept(*job).await,
                    None => break,
                },
                () = sleep(wait), if wait.is_some() => {
                    let now = self.state.clock.now();
                    self.release_expired(now).await;
                }
            }
        }
        self.release_expired(Timestamp::from_millis(i64::MAX)).await;
    }

    fn next_deadline(&self) -> Option<Timestamp> {
        self.streams
            .values()
            .filter_map(ReorderBuffer::next_deadline)
            .min()
    }

    async fn release_expired(&mut self, now: Timestamp) {
        let mut released = Vec::new();
        for buffer in self.streams.values_mut() {
            released.extend(buffer.expire(now));
        }
        let now = Instant::now();
        for mut pending in released {
            pending.released = Some(now);
            self.commit(pending).await;
        }
    }

    async fn accept(&mut self, job: SendJob<A>) {
        if self.failing && job.received.elapsed() >= FAILING_QUEUE_LIMIT {
            let refused = Failure::unavailable("storage is unavailable; retry the request later");
            return self.answer(job, Err(refused));
        }
        let fields = match &job.payload {
            Ok(v) => inbound::parse::<MessageSend>(v.clone())
                .and_then(|p| p.validate(&self.state.content)),
            Err(f) => Err(f.clone()),
        };
        let fields = match fields {
            Ok(fields) => fields,
            Err(failure) => return self.answer(job, Err(failure)),
        };
        let Some(seq) = fields.client_sequence else {
            return self
                .commit(Pending {
                    fields,
                    job,
                    released: None,
                })
                .await;
        };
        let conversation = fields.conversation_id;
        if !self.streams.contains_key(&conversation) {
            // Within the job's answer deadline too: a database that does not answer makes this
            // job `unavailable` (the stream is read again with the next one), never a socket
            // whose sends all wait.
            let budget = ANSWER_DEADLINE.saturating_sub(job.received.elapsed());
            let read = tokio::time::timeout(
                budget,
                self.state.services.messaging.last_client_sequence(
                    conversation,
                    self.user_id,
                    self.device_id.clone(),
                ),
            )
            .await;
            let last = match read {
                Ok(Ok(last)) => last,
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "reading the last client sequence failed");
                    return self.answer(job, Err(Failure::from(error)));
                }
                Err(_) => {
                    tracing::warn!("reading the last client sequence outlived the deadline");
                    return self.answer(job, Err(past_deadline()));
                }
            };
            self.streams.insert(
                conversation,
                ReorderBuffer::new(last, ReorderPolicy::default()),
            );
        }
        let now = self.state.clock.now();
        let offer = match self.streams.get_mut(&conversation) {
            Some(buffer) => buffer.offer(
                seq,
                Pending {
                    fields,
                    job,
                    released: None,
                },
                now,
            ),
            None => return,
        };
        if let Offer::Release(ready) = offer {
            let now = Instant::now();
            for mut pending in ready {
                pending.released = Some(now);
                self.commit(pending).await;
            }
        }
    }

    async fn commit(
        &mut self,
        Pending {
            fields,
            job,
            released,
        }: Pending<A>,
    ) {
        let cmd = SendMessage {
            sender_id: self.user_id,
            device_id: self.device_id.clone(),
            conversation_id: fields.conversation_id,
            message_id: fields.message_id,
            content: fields.content,
            client_sequence: fields.client_sequence,
            client_timestamp: fields.client_timestamp,
        };
        // The answer is due within the deadline of the job's arrival (contract 4.6): a job that
        // waited it out behind slower ones is refused without trying, and a send still running
        // at the deadline is dropped. A drop cannot half-commit: the commit is the writer's,
        // which finishes it or not; a retry of the same messageId is then a replay that
        // broadcasts again. (Unlike other events, a send is not left running in the
        // background: the next send of this socket must not overtake it.)
        let budget = ANSWER_DEADLINE.saturating_sub(released.unwrap_or(job.received).elapsed());
        let sent = if budget.is_zero() {
            None
        } else {
            tokio::time::timeout(budget, self.state.services.messaging.send(cmd))
                .await
                .ok()
        };
        let result = match sent {
            Some(result) => {
                if let Ok(delivery) = &result
                    && !delivery.duplicate
                {
                    metrics::message_persisted();
                }
                result
                    .map(|d| MessageDelivered::from(&d))
                    .map_err(Failure::from)
            }
            None => {
                tracing::warn!(
                    deadline_ms = ANSWER_DEADLINE.as_millis(),
                    "a send outlived its deadline: answered unavailable"
                );
                Err(past_deadline())
            }
        };
        self.failing = matches!(&result, Err(f) if f.code == ErrorCode::Unavailable);
        if let Ok(delivered) = &result {
            // To this socket only, which this task holds: no room emit (with Redis rooms that
            // would be a round trip through Redis per message).
            let _ = self.socket.emit(outbound::MESSAGE_DELIVERED, delivered);
        }
        self.answer(job, result);
    }

    fn answer(&self, job: SendJob<A>, result: Result<MessageDelivered, Failure>) {
        let context = FailureContext::of(job.payload.as_ref().ok());
        answer(
            &self.socket,
            job.ack,
            MESSAGE_SEND,
            &context,
            result,
            job.received,
            self.state.clock.now(),
        );
    }
}

async fn sleep(wait: Option<std::time::Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
