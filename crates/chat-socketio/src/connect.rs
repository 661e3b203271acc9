//! Connect middleware, connect and disconnect handlers, and token expiry.
//!
//! Everything that can refuse a connection, and every handler registration, happens in the
//! middleware, which socketioxide runs *before* it sends the CONNECT ack: so no event a client
//! sends right after connecting can arrive before its handler exists (socketioxide spawns the
//! connect handler only after the ack). The connect handler then registers the session and
//! sends `connected` or `reconnected`.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chat_domain::{
    ConversationId, DeviceId, ServerSequence, SocketId,
    ports::{TOKEN_LEEWAY_SECS, TokenError},
    service::{AuthError, ConnectRequest, Departure},
};
use serde::Serialize;
use socketioxide::{
    adapter::Adapter,
    extract::{Extension, SocketRef, State, TryData},
    socket::DisconnectReason,
};
use tokio::sync::{mpsc, watch};

use crate::{
    dto::{HandshakeAuth, ReceivedOut, unread_map},
    events, metrics,
    names::{conversation_room, device_room, outbound, socket_room, user_room},
    send::SendActor,
    state::{SocketState, SocketUser},
    wire_time,
};

/// Why a handshake was refused: the `connect_error` message is the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnectRefusal {
    /// No token.
    #[error("token_missing")]
    TokenMissing,
    /// A bad token.
    #[error("token_invalid")]
    TokenInvalid,
    /// An expired token.
    #[error("token_expired")]
    TokenExpired,
    /// A bad `deviceId` or `lastSequences`.
    #[error("validation")]
    Validation,
    /// Storage is down.
    #[error("unavailable")]
    Unavailable,
    /// A page of another origin, not in `CHAT_CORS_ORIGINS`.
    #[error("origin_not_allowed")]
    OriginNotAllowed,
}

impl From<AuthError> for ConnectRefusal {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Token(TokenError::Missing) => Self::TokenMissing,
            AuthError::Token(TokenError::Expired) => Self::TokenExpired,
            AuthError::Token(TokenError::Invalid) => Self::TokenInvalid,
            AuthError::Repo(error) => {
                tracing::warn!(error = %error, "recording the user at connect failed");
                Self::Unavailable
            }
        }
    }
}

/// `token` and `deviceId` from the handshake query (`?token=…&deviceId=…`).
fn from_query(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn last_sequences(
    raw: Option<BTreeMap<String, u64>>,
) -> Result<BTreeMap<ConversationId, ServerSequence>, ConnectRefusal> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|(c, n)| {
            ConversationId::parse(&c)
                .map(|c| (c, ServerSequence::new(n)))
                .map_err(|_| ConnectRefusal::Validation)
        })
        .collect()
}

/// The connect middleware: authenticates, joins the rooms of section 3, registers the handlers.
pub(crate) async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    TryData(auth): TryData<HandshakeAuth>,
    State(state): State<SocketState>,
) -> Result<(), ConnectRefusal> {
    let headers = &s.req_parts().headers;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !state.origin_allowed(header("origin"), header("host")) {
        return Err(ConnectRefusal::OriginNotAllowed);
    }
    let Some(_turn) = state.admit().await else {
        tracing::warn!("no turn for a handshake within 10 s: refused unavailable");
        return Err(ConnectRefusal::Unavailable);
    };
    let auth = auth.unwrap_or_default();
    let query = s.req_parts().uri.query().map(str::to_owned);
    let token = auth
        .token
        .filter(|t| !t.is_empty())
        .or_else(|| from_query(query.as_deref(), "token"));
    let principal = state
        .services
        .sessions
        .authenticate(token.as_deref())
        .await?;
    let device = auth
        .device_id
        .or_else(|| from_query(query.as_deref(), "deviceId"))
        .map(|raw| DeviceId::new(&raw))
        .transpose()
        .map_err(|_| ConnectRefusal::Validation)?;
    let device_id = state.services.sessions.device_id(device);
    let last_sequences = last_sequences(auth.last_sequences)?;
    let rooms = state
        .services
        .sessions
        .rooms(principal.user_id)
        .await
        .map_err(|error| {
            tracing::warn!(error = %error, "listing rooms at connect failed");
            ConnectRefusal::Unavailable
        })?;

    // Nothing below can refuse the connection.
    let (sends, queue) = mpsc::unbounded_channel();
    let user = Arc::new(SocketUser {
        user_id: principal.user_id,
        device_id,
        socket_id: SocketId::new(s.id.to_string()),
        rooms,
        last_sequences,
        expires_at: watch::Sender::new(principal.expires_at),
        registered: watch::Sender::new(false),
        sends,
    });
    let mut joined = vec![
        user_room(user.user_id),
        device_room(user.user_id, &user.device_id),
        socket_room(&user.socket_id),
    ];
    joined.extend(user.rooms.iter().map(|c| conversation_room(*c)));
    s.join(joined);
    s.extensions.insert(user.clone());
    events::register(&s);
    s.on_disconnect(on_disconnect::<A>);
    tokio::spawn(SendActor::new(s.clone(), state.clone(), &user).run(queue));
    tokio::spawn(expire_token(s.clone(), state, user.expires_at.subscribe()));
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectedOut {
    user_id: String,
    device_id: String,
    socket_id: String,
    resumed: bool,
    unread_counts: BTreeMap<String, u64>,
    server_time: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReconnectedOut {
    status: &'static str,
    user_id: String,
    device_id: String,
    socket_id: String,
    pending_messages: Vec<ReceivedOut>,
    unread_counts: BTreeMap<String, u64>,
    has_more: bool,
    server_time: i64,
}

/// The connect handler: registers the session (resume included) and greets the socket.
pub(crate) async fn on_connect<A: Adapter>(
    s: SocketRef<A>,
    Extension(user): Extension<Arc<SocketUser<A>>>,
    State(state): State<SocketState>,
) {
    metrics::socket_connected(1.0);
    let request = ConnectRequest {
        user_id: user.user_id,
        device_id: user.device_id.clone(),
        socket_id: user.socket_id.clone(),
        last_sequences: user.last_sequences.clone(),
    };
    // The socket is accepted: without a turn within 10 s it registers anyway.
    let turn = state.admit().await;
    let outcome = state.services.sessions.connect(request).await;
    drop(turn);
    match outcome {
        Ok(outcome) => {
            let unread_counts = unread_map(&outcome.unread_counts);
            let sent = match outcome.resumed {
                Some(resumed) => s.emit(
                    outbound::RECONNECTED,
                    &ReconnectedOut {
                        status: "resumed",
                        user_id: user.user_id.to_string(),
                        device_id: user.device_id.to_string(),
                        socket_id: user.socket_id.to_string(),
                        pending_messages: resumed.pending.iter().map(ReceivedOut::from).collect(),
                        unread_counts,
                        has_more: resumed.has_more,
                        server_time: outcome.server_time.millis(),
                    },
                ),
                None => s.emit(
                    outbound::CONNECTED,
                    &ConnectedOut {
                        user_id: user.user_id.to_string(),
                        device_id: user.device_id.to_string(),
                        socket_id: user.socket_id.to_string(),
                        resumed: false,
                        unread_counts,
                        server_time: outcome.server_time.millis(),
                    },
                ),
            };
            if let Err(error) = sent {
                tracing::warn!(error = %error, user.id = %user.user_id, "greeting a socket failed");
            }
            user.registered.send_replace(true);
        }
        Err(error) => {
            tracing::warn!(error = %error, user.id = %user.user_id, "registering a session failed");
            let failure = crate::error::Failure::from(error);
            let _ = s.emit(outbound::error(failure.code.as_str()), &failure.ack());
            user.registered.send_replace(true);
            let _ = s.disconnect();
        }
    }
}

async fn on_disconnect<A: Adapter>(
    s: SocketRef<A>,
    State(state): State<SocketState>,
    reason: DisconnectReason,
) {
    let left_at = state.clock.now();
    let Some(user) = s.extensions.remove::<Arc<SocketUser<A>>>() else {
        return;
    };
    metrics::socket_connected(-1.0);
    tracing::debug!(user.id = %user.user_id, ?reason, "socket left");
    // The session must be registered before it is forgotten, or presence would stay online.
    let mut registered = user.registered.subscribe();
    let _ = tokio::time::timeout(Duration::from_secs(10), registered.wait_for(|r| *r)).await;
    state.services.typing.clear_socket(&user.socket_id).await;
    let _turn = state.depart().await;
    // A heartbeat timeout or a transport error is noticed late: the connection may have been
    // dead for a while, so resume goes back further.
    let departure = match reason {
        DisconnectReason::ClientNSDisconnect
        | DisconnectReason::ServerNSDisconnect
        | DisconnectReason::ClosingServer => Departure::Deliberate,
        DisconnectReason::TransportClose => Departure::Closed,
        _ => Departure::Abrupt,
    };
    if let Err(error) = state
        .services
        .sessions
        .disconnect(
            user.user_id,
            user.device_id.clone(),
            user.socket_id.clone(),
            departure,
            left_at,
        )
        .await
    {
        tracing::warn!(error = %error, user.id = %user.user_id, "recording a disconnect failed");
    }
}

#[derive(Serialize)]
struct ExpiredOut {
    code: &'static str,
    message: &'static str,
    event: &'static str,
    timestamp: String,
}

/// Disconnects the socket when its token expires (past the leeway) without a refresh.
async fn expire_token<A: Adapter>(
    s: SocketRef<A>,
    state: SocketState,
    mut expiry: watch::Receiver<chat_domain::Timestamp>,
) {
    // The same leeway as verification: a token accepted at the handshake is not expired here.
    let leeway_ms = i64::try_from(TOKEN_LEEWAY_SECS * 1_000).unwrap_or(i64::MAX);
    loop {
        let at = expiry.borrow_and_update().plus_millis(leeway_ms);
        let ms = at.millis_since(state.clock.now()).max(0);
        let wait = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
        tokio::select! {
            changed = expiry.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep(wait) => {
                if !s.connected() {
                    return;
                }
                let out = ExpiredOut {
                    code: "token_expired",
                    message: "the token expired",
                    event: crate::names::inbound::AUTH,
                    timestamp: wire_time::format(state.clock.now()),
                };
                let _ = s.emit(outbound::error("unauthorized"), &out);
                let _ = s.disconnect();
                return;
            }
        }
    }
}
