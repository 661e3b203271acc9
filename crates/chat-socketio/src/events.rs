//! One thin handler per client event (but `message:send`, see `send`): payload → domain values
//! → service → ack and emits.

use std::{sync::Arc, time::Instant};

use chat_domain::service::{MarkRead, TypingKey, UnblockOutcome};
use serde::Serialize;
use serde_json::Value;
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, Extension, SocketRef, State},
};

use crate::{
    dto::{
        self, AuthIn, BlockIn, BlockOut, ConversationIn, MuteIn, MuteOut, PingIn, PresenceIn,
        ReadAckOut, ReadIn,
    },
    error::Failure,
    names::{inbound, outbound},
    reply::{Context, Payload, answer},
    send::on_send,
    state::{SocketState, SocketUser},
    wire_time,
};

type Me<A> = Extension<Arc<SocketUser<A>>>;

/// Registers every client event's handler on a socket.
pub(crate) fn register<A: Adapter>(s: &SocketRef<A>) {
    s.on(inbound::MESSAGE_SEND, on_send);
    s.on(inbound::MESSAGE_READ, on_read::<A>);
    s.on(inbound::TYPING_START, on_typing_start::<A>);
    s.on(inbound::TYPING_STOP, on_typing_stop::<A>);
    s.on(inbound::PRESENCE_UPDATE, on_presence::<A>);
    s.on(inbound::BLOCK_USER, on_block::<A>);
    s.on(inbound::UNBLOCK_USER, on_unblock::<A>);
    s.on(inbound::MUTE_CONVERSATION, on_mute::<A>);
    s.on(inbound::UNMUTE_CONVERSATION, on_unmute::<A>);
    s.on(inbound::SOCKET_PING, on_ping::<A>);
    s.on(inbound::AUTH, on_auth::<A>);
}

/// Validates the payload as `T`, runs `f`, answers.
async fn handle<A, T, R, F, Fut>(
    s: SocketRef<A>,
    ack: AckSender<A>,
    state: &SocketState,
    event: &'static str,
    payload: Result<Value, Failure>,
    f: F,
) where
    A: Adapter,
    T: serde::de::DeserializeOwned,
    R: Serialize,
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Result<R, Failure>>,
{
    let started = Instant::now();
    let context = Context::of(&payload);
    let result = match payload.and_then(dto::parse::<T>) {
        Ok(input) => f(input).await,
        Err(failure) => Err(failure),
    };
    answer(&s, ack, event, &context, result, started, state.clock.now());
}

async fn on_read<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::MESSAGE_READ,
        payload,
        async |p: ReadIn| {
            let (conversation_id, target) = p.validate()?;
            let read = MarkRead {
                user_id: me.user_id,
                conversation_id,
                target,
            };
            let done = state.services.reads.mark_read(read).await?;
            Ok(ReadAckOut::from(&done))
        },
    )
    .await;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypingAckOut {
    conversation_id: String,
    is_typing: bool,
}

fn typing_key<A: Adapter>(me: &SocketUser<A>, p: ConversationIn) -> Result<TypingKey, Failure> {
    Ok(TypingKey {
        conversation_id: p.validate()?,
        user_id: me.user_id,
        socket_id: me.socket_id.clone(),
    })
}

async fn on_typing_start<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::TYPING_START,
        payload,
        async |p: ConversationIn| {
            let key = typing_key(&me, p)?;
            let done = state.services.typing.start(key.clone()).await?;
            if let Some(at) = done.expires_at {
                let typing = state.services.typing.clone();
                let wait = at.millis_since(state.clock.now()).max(0);
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(wait.unsigned_abs())).await;
                    typing.expire(key).await;
                });
            }
            Ok(TypingAckOut {
                conversation_id: done.conversation_id.to_string(),
                is_typing: true,
            })
        },
    )
    .await;
}

async fn on_typing_stop<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::TYPING_STOP,
        payload,
        async |p: ConversationIn| {
            let done = state.services.typing.stop(typing_key(&me, p)?).await?;
            Ok(TypingAckOut {
                conversation_id: done.conversation_id.to_string(),
                is_typing: false,
            })
        },
    )
    .await;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PresenceAckOut {
    user_id: String,
    status: &'static str,
}

async fn on_presence<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::PRESENCE_UPDATE,
        payload,
        async |p: PresenceIn| {
            let status = p.validate()?;
            let set = state
                .services
                .presence
                .update(me.user_id, me.socket_id.clone(), status)
                .await?;
            Ok(PresenceAckOut {
                user_id: me.user_id.to_string(),
                status: set.as_str(),
            })
        },
    )
    .await;
}

async fn on_block<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::BLOCK_USER,
        payload,
        async |p: BlockIn| {
            let (conversation, target) = p.validate()?;
            let block = state
                .services
                .blocks
                .block(me.user_id, conversation, target)
                .await?;
            Ok(BlockOut::ack(conversation, target, Some(block.blocked_at)))
        },
    )
    .await;
}

async fn on_unblock<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::UNBLOCK_USER,
        payload,
        async |p: BlockIn| {
            let (conversation, target) = p.validate()?;
            let outcome = state
                .services
                .blocks
                .unblock(me.user_id, conversation, target)
                .await?;
            let at = match outcome {
                UnblockOutcome::Lifted(b) => Some(b.blocked_at),
                UnblockOutcome::NotBlocked => None,
            };
            Ok(BlockOut::ack(conversation, target, at))
        },
    )
    .await;
}

async fn on_mute<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::MUTE_CONVERSATION,
        payload,
        async |p: MuteIn| {
            let (conversation, until) = p.validate()?;
            let mute = state
                .services
                .mutes
                .mute(me.user_id, conversation, until)
                .await?;
            Ok(MuteOut::new(true, conversation, Some(&mute)))
        },
    )
    .await;
}

async fn on_unmute<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    handle(
        s,
        ack,
        &state,
        inbound::UNMUTE_CONVERSATION,
        payload,
        async |p: MuteIn| {
            let (conversation, _) = p.validate()?;
            state
                .services
                .mutes
                .unmute(me.user_id, conversation)
                .await?;
            Ok(MuteOut::new(true, conversation, None))
        },
    )
    .await;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PongOut {
    client_time: Value,
    server_time: i64,
}

async fn on_ping<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
) {
    // An empty ping (no payload at all) is fine: clientTime is optional.
    let payload = payload.or_else(|_| Ok(Value::Object(serde_json::Map::new())));
    let socket = s.clone();
    handle(
        s,
        ack,
        &state,
        inbound::SOCKET_PING,
        payload,
        async |p: PingIn| {
            let pong = PongOut {
                client_time: p.client_time.unwrap_or(Value::Null),
                server_time: state.clock.now().millis(),
            };
            let _ = socket.emit(outbound::SOCKET_PONG, &pong);
            Ok(pong)
        },
    )
    .await;
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthAckOut {
    user_id: String,
    expires_at: String,
}

async fn on_auth<A: Adapter>(
    s: SocketRef<A>,
    Payload(payload): Payload,
    ack: AckSender<A>,
    State(state): State<SocketState>,
    Extension(me): Me<A>,
) {
    let socket = s.clone();
    handle(s, ack, &state, inbound::AUTH, payload, async |p: AuthIn| {
        match state.services.sessions.refresh(me.user_id, &p.token).await {
            Ok(principal) => {
                let before = me.set_expires_at(principal.expires_at);
                state.expiries.forget(socket.id, before);
                state.expiries.watch(socket.id, principal.expires_at);
                Ok(AuthAckOut {
                    user_id: principal.user_id.to_string(),
                    expires_at: wire_time::format(principal.expires_at),
                })
            }
            Err(chat_domain::service::RefreshError::DifferentUser) => {
                let failure = Failure::from(chat_domain::service::RefreshError::DifferentUser);
                // Answer first, then disconnect.
                let socket = socket.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    let _ = socket.disconnect();
                });
                Err(failure)
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
}
