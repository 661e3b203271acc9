//! The one task per server that does what falls due ([`crate::timers`]): a socket whose token
//! lapsed without a refresh gets `error:unauthorized` `{code: "token_expired"}` and is
//! disconnected; a typing indicator not refreshed clears itself (`TypingService::expire`). The
//! same task polls revocations ([`crate::revocation`]).

use std::{sync::Arc, time::Duration};

use chat_domain::Timestamp;
use chat_protocol::{ErrorCode, ErrorPayload, events::outbound, time};
use socketioxide::{SocketIo, adapter::Adapter, extract::SocketRef};

use crate::{
    state::SocketState,
    timers::{Due, lapses_at},
    user::SocketUser,
};

/// Does what falls due on `io`'s sockets, as it falls due. Runs until aborted.
pub(crate) fn spawn_watcher<A: Adapter>(
    io: SocketIo<A>,
    state: SocketState,
) -> tokio::task::JoinHandle<()> {
    let revocations = crate::revocation::watch(io.clone(), state.clone());
    let due = async move {
        let timers = state.timers.clone();
        loop {
            let now = state.clock.now();
            match timers.next() {
                None => timers.changed.notified().await,
                Some(at) if at > now => {
                    let ms = u64::try_from(at.millis_since(now)).unwrap_or(0);
                    tokio::select! {
                        () = timers.changed.notified() => {}
                        () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    }
                }
                Some(_) => {
                    for due in timers.take_due(now) {
                        match due {
                            Due::Token(sid) => {
                                if let Some(s) = io.get_socket(sid) {
                                    expire(&s, &state, now);
                                }
                            }
                            Due::Typing(key) => state.services.typing.expire(key).await,
                        }
                    }
                }
            }
        }
    };
    tokio::spawn(async move {
        tokio::join!(due, revocations);
    })
}

fn expire<A: Adapter>(s: &SocketRef<A>, state: &SocketState, now: Timestamp) {
    let Some(user) = s.extensions.get::<Arc<SocketUser<A>>>() else {
        return;
    };
    // Refreshed since it was listed: listed again at the new instant.
    if lapses_at(user.expires_at()) > now || !s.connected() {
        return;
    }
    let out = ErrorPayload::token_expired(time::format(state.clock.now()));
    let _ = s.emit(outbound::error(ErrorCode::Unauthorized), &out);
    let _ = s.clone().disconnect();
}
