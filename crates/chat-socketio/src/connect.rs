//! Connect middleware, connect and disconnect handlers.
//!
//! Everything that can refuse a connection, and every handler registration, happens in the
//! middleware, which socketioxide runs *before* it sends the CONNECT ack: so no event a client
//! sends right after connecting can arrive before its handler exists (socketioxide spawns the
//! connect handler only after the ack). The connect handler then registers the session and
//! sends `connected` or `reconnected`.

use std::{sync::Arc, time::Duration};

use serde_json::Value;

use chat_domain::{
    DeviceId, SocketId,
    service::{ConnectRequest, Departure},
};
use chat_protocol::{
    Failure, HandshakeRefusal,
    events::outbound,
    inbound::HandshakeAuth,
    payload::{Connected, Greeted, Reconnected},
};
use socketioxide::{
    adapter::Adapter,
    extract::{Extension, SocketRef, State, TryData},
    socket::DisconnectReason,
};

use crate::{
    events, metrics,
    names::{conversation_room, device_room, socket_room, user_room},
    state::SocketState,
    user::SocketUser,
};

/// `token` and `deviceId` from the handshake query (`?token=…&deviceId=…`).
fn from_query(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The connect middleware: authenticates, joins the rooms of section 3, registers the handlers.
pub(crate) async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    TryData(auth): TryData<Value>,
    State(state): State<SocketState>,
) -> Result<(), HandshakeRefusal> {
    let headers = &s.req_parts().headers;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !state.origin_allowed(header("origin"), header("host")) {
        return Err(HandshakeRefusal::OriginNotAllowed);
    }
    let Some(_turn) = state.admit().await else {
        tracing::warn!("no turn for a handshake within 10 s: refused unavailable");
        return Err(HandshakeRefusal::Unavailable);
    };
    let auth = HandshakeAuth::from_json(auth.ok())?;
    let last_sequences = auth.sequences()?;
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
        .map_err(|_| HandshakeRefusal::Validation)?;
    let device_id = state.services.sessions.device_id(device);
    let rooms = state
        .services
        .sessions
        .rooms(principal.user_id)
        .await
        .map_err(|error| {
            tracing::warn!(error = %error, "listing rooms at connect failed");
            HandshakeRefusal::Unavailable
        })?;

    // Nothing below can refuse the connection.
    let user = Arc::new(SocketUser::<A>::new(
        principal.user_id,
        device_id,
        SocketId::new(s.id.to_string()),
        last_sequences,
        principal.expires_at,
        principal.issued_at,
    ));
    let mut joined = vec![
        user_room(user.user_id),
        device_room(user.user_id, &user.device_id),
        socket_room(&user.socket_id),
    ];
    joined.extend(rooms.iter().map(|c| conversation_room(*c)));
    s.join(joined);
    s.extensions.insert(user);
    events::register(&s);
    s.on_disconnect(on_disconnect::<A>);
    state.timers.watch_token(s.id, principal.expires_at);
    Ok(())
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
        last_sequences: user.take_last_sequences(),
    };
    // The socket is accepted: without a turn within 10 s it registers anyway.
    let turn = state.admit().await;
    let outcome = state.services.sessions.connect(request).await;
    drop(turn);
    match outcome {
        Ok(outcome) => {
            let who = Greeted {
                user_id: user.user_id,
                device_id: &user.device_id,
                socket_id: &user.socket_id,
            };
            let (unread, now) = (&outcome.unread_counts, outcome.server_time);
            let sent = match outcome.resumed {
                Some(resumed) => s.emit(
                    outbound::RECONNECTED,
                    &Reconnected::new(who, &resumed.pending, resumed.has_more, unread, now),
                ),
                None => s.emit(outbound::CONNECTED, &Connected::new(who, unread, now)),
            };
            if let Err(error) = sent {
                tracing::warn!(error = %error, user.id = %user.user_id, "greeting a socket failed");
            }
            user.set_registered();
        }
        Err(error) => {
            tracing::warn!(error = %error, user.id = %user.user_id, "registering a session failed");
            let failure = Failure::from(error);
            let _ = s.emit(outbound::error(failure.code), &failure.ack());
            user.set_registered();
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
    state.timers.forget_token(s.id, user.expires_at());
    // The session must be registered before it is forgotten, or presence would stay online.
    let _ = tokio::time::timeout(Duration::from_secs(10), user.registration()).await;
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
