//! The client events but `message:send` (see `send`), each registered through [`on`]: payload
//! → domain values → service → ack and emits. A handler here is the few lines that differ.

use std::{sync::Arc, time::Instant};

use chat_domain::service::{MarkRead, RefreshError, TypingKey, UnblockOutcome};
use chat_protocol::{
    ANSWER_DEADLINE, ErrorCode, Failure, FailureContext,
    events::{inbound, outbound},
    inbound::{
        AuthRefresh, BlockUser, ConversationRef, MessageRead, MuteConversation, PresenceUpdate,
        SocketPing,
    },
    past_deadline,
    payload::{AuthAck, BlockResult, MuteResult, Pong, PresenceAck, ReadAck, TypingAck},
    time,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, Event, Extension, SocketRef, State},
};

use crate::{
    reply::{Answering, Payload, answer},
    send::on_send,
    state::SocketState,
    timers::Due,
    user::SocketUser,
};

/// What a handler runs with.
struct Cx<A: Adapter> {
    socket: SocketRef<A>,
    state: SocketState,
    me: Arc<SocketUser<A>>,
}

/// Whether an event may come without a payload.
#[derive(Debug, Clone, Copy)]
enum Body {
    Required,
    /// A missing or unreadable payload stands for `{}`.
    Optional,
}

/// Registers every client event's handler on a socket.
pub(crate) fn register<A: Adapter>(s: &SocketRef<A>) {
    s.on(inbound::MESSAGE_SEND, on_send);
    on(s, inbound::MESSAGE_READ, Body::Required, read::<A>);
    on(s, inbound::TYPING_START, Body::Required, typing_start::<A>);
    on(s, inbound::TYPING_STOP, Body::Required, typing_stop::<A>);
    on(s, inbound::PRESENCE_UPDATE, Body::Required, presence::<A>);
    on(s, inbound::BLOCK_USER, Body::Required, block::<A>);
    on(s, inbound::UNBLOCK_USER, Body::Required, unblock::<A>);
    on(s, inbound::MUTE_CONVERSATION, Body::Required, mute::<A>);
    on(s, inbound::UNMUTE_CONVERSATION, Body::Required, unmute::<A>);
    on(s, inbound::SOCKET_PING, Body::Optional, ping::<A>);
    on(s, inbound::AUTH, Body::Required, auth::<A>);
    s.on_fallback(unknown::<A>);
}

/// Any other event: with an ack, `validation` ("unknown event"), so that every event that
/// carries an ack gets exactly one answer.
async fn unknown<A: Adapter>(
    s: SocketRef<A>,
    Event(name): Event,
    ack: AckSender<A>,
    State(state): State<SocketState>,
) {
    let failure = Failure::validation(format!("unknown event {name:?}"));
    let event = Answering {
        name: &name,
        label: "unknown",
    };
    let result: Result<(), Failure> = Err(failure);
    answer(
        &s,
        ack,
        event,
        &FailureContext::default(),
        result,
        Instant::now(),
        state.clock.now(),
    );
}

/// Registers `run` for `event`: the payload is parsed as `T`, `run`'s result is the answer.
fn on<A, T, R, F, Fut>(s: &SocketRef<A>, event: &'static str, body: Body, run: F)
where
    A: Adapter,
    T: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    F: FnOnce(Cx<A>, T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Failure>> + Send + 'static,
{
    s.on(
        event,
        move |socket: SocketRef<A>,
              Payload(payload): Payload,
              ack: AckSender<A>,
              State(state): State<SocketState>,
              Extension(me): Extension<Arc<SocketUser<A>>>| async move {
            let started = Instant::now();
            let payload = match body {
                Body::Required => payload,
                Body::Optional => payload.or_else(|_| Ok(Value::Object(serde_json::Map::new()))),
            };
            let context = FailureContext::of(payload.as_ref().ok());
            let clock = state.clock.clone();
            let cx = Cx {
                socket: socket.clone(),
                state,
                me,
            };
            let result = match payload.and_then(chat_protocol::inbound::parse::<T>) {
                Ok(input) => within_deadline(run(cx, input)).await,
                Err(failure) => Err(failure),
            };
            answer(&socket, ack, event, &context, result, started, clock.now());
        },
    );
}

/// Runs `work` in its own task and waits for it at most [`ANSWER_DEADLINE`]; past that the
/// client hears `unavailable` (contract 4.6) while the work finishes, or fails by its own
/// timeouts, in the background: an effect is never left half done by a cancellation.
async fn within_deadline<R: Send + 'static>(
    work: impl Future<Output = Result<R, Failure>> + Send + 'static,
) -> Result<R, Failure> {
    match tokio::time::timeout(ANSWER_DEADLINE, tokio::spawn(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(panicked)) => {
            tracing::error!(error = %panicked, "an event handler panicked");
            Err(Failure::new(ErrorCode::Failed, "internal error"))
        }
        Err(_) => {
            tracing::warn!(
                deadline_ms = ANSWER_DEADLINE.as_millis(),
                "an event outlived its deadline: answered unavailable"
            );
            Err(past_deadline())
        }
    }
}

async fn read<A: Adapter>(cx: Cx<A>, p: MessageRead) -> Result<ReadAck, Failure> {
    let (conversation_id, target) = p.validate()?;
    let read = MarkRead {
        user_id: cx.me.user_id,
        conversation_id,
        target,
    };
    let done = cx.state.services.reads.mark_read(read).await?;
    Ok(ReadAck::from(&done))
}

fn typing_key<A: Adapter>(me: &SocketUser<A>, p: &ConversationRef) -> Result<TypingKey, Failure> {
    Ok(TypingKey {
        conversation_id: p.validate()?,
        user_id: me.user_id,
    })
}

async fn typing_start<A: Adapter>(cx: Cx<A>, p: ConversationRef) -> Result<TypingAck, Failure> {
    let key = typing_key(&cx.me, &p)?;
    let by = cx.me.socket_id.clone();
    let done = cx.state.services.typing.start(key.clone(), by).await?;
    if let Some(at) = done.expires_at {
        cx.state.timers.watch(at, Due::Typing(key));
    }
    Ok(TypingAck {
        conversation_id: done.conversation_id.get(),
        is_typing: true,
    })
}

async fn typing_stop<A: Adapter>(cx: Cx<A>, p: ConversationRef) -> Result<TypingAck, Failure> {
    let done = cx
        .state
        .services
        .typing
        .stop(typing_key(&cx.me, &p)?, cx.me.socket_id.clone())
        .await?;
    Ok(TypingAck {
        conversation_id: done.conversation_id.get(),
        is_typing: false,
    })
}

async fn presence<A: Adapter>(cx: Cx<A>, p: PresenceUpdate) -> Result<PresenceAck, Failure> {
    let status = p.validate()?;
    let me = &cx.me;
    let set = cx
        .state
        .services
        .presence
        .update(me.user_id, me.socket_id.clone(), status)
        .await?;
    Ok(PresenceAck {
        user_id: me.user_id.get(),
        status: set.into(),
    })
}

async fn block<A: Adapter>(cx: Cx<A>, p: BlockUser) -> Result<BlockResult, Failure> {
    let (conversation, target) = p.validate()?;
    let blocks = &cx.state.services.blocks;
    let block = blocks.block(cx.me.user_id, conversation, target).await?;
    Ok(BlockResult::new(conversation, target, Some(&block)))
}

async fn unblock<A: Adapter>(cx: Cx<A>, p: BlockUser) -> Result<BlockResult, Failure> {
    let (conversation, target) = p.validate()?;
    let blocks = &cx.state.services.blocks;
    // Lifted or not blocked in the first place: either way no block of yours stands.
    let _outcome: UnblockOutcome = blocks.unblock(cx.me.user_id, conversation, target).await?;
    Ok(BlockResult::new(conversation, target, None))
}

async fn mute<A: Adapter>(cx: Cx<A>, p: MuteConversation) -> Result<MuteResult, Failure> {
    let (conversation, until) = p.validate()?;
    let mutes = &cx.state.services.mutes;
    let mute = mutes.mute(cx.me.user_id, conversation, until).await?;
    Ok(MuteResult::new(conversation, Some(&mute)))
}

async fn unmute<A: Adapter>(cx: Cx<A>, p: MuteConversation) -> Result<MuteResult, Failure> {
    let (conversation, _) = p.validate()?;
    let mutes = &cx.state.services.mutes;
    mutes.unmute(cx.me.user_id, conversation).await?;
    Ok(MuteResult::new(conversation, None))
}

async fn ping<A: Adapter>(cx: Cx<A>, p: SocketPing) -> Result<Pong, Failure> {
    let pong = Pong {
        client_time: p.client_time.unwrap_or(Value::Null),
        server_time: cx.state.clock.now().millis(),
    };
    let _ = cx.socket.emit(outbound::SOCKET_PONG, &pong);
    Ok(pong)
}

async fn auth<A: Adapter>(cx: Cx<A>, p: AuthRefresh) -> Result<AuthAck, Failure> {
    let Cx { socket, state, me } = cx;
    match state.services.sessions.refresh(me.user_id, &p.token).await {
        Ok(principal) => {
            let before = me.set_expires_at(principal.expires_at);
            me.set_issued_at(principal.issued_at);
            state.timers.forget_token(socket.id, before);
            state.timers.watch_token(socket.id, principal.expires_at);
            Ok(AuthAck {
                user_id: principal.user_id.get(),
                expires_at: time::format(principal.expires_at),
            })
        }
        Err(RefreshError::DifferentUser) => {
            // Answer first, then disconnect.
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                let _ = socket.disconnect();
            });
            Err(RefreshError::DifferentUser.into())
        }
        Err(other) => Err(other.into()),
    }
}
