//! Revocation on live sockets (contract section 2): every node polls the revocation points
//! newer than the last it saw, and each of its sockets whose token the point voids gets
//! `error:unauthorized` `{code: "token_revoked"}` and is disconnected, within 5 s of
//! `chat-gateway revoke` on every node. (Handshakes and REST check the point themselves, at
//! once.) A poll of the database rather than a broadcast: the revoking CLI runs without the
//! gateway's Redis too, and the single-node profile has none.

use std::{sync::Arc, time::Duration};

use chat_domain::{Timestamp, ports::Revocation};
use chat_protocol::{ErrorCode, ErrorPayload, events::outbound, time};
use socketioxide::{SocketIo, adapter::Adapter};

use crate::{state::SocketState, user::SocketUser};

/// How often a node looks for new revocation points.
const POLL: Duration = Duration::from_secs(1);

/// How far before this node started it looks first: a revocation recorded while it started.
/// Older ones were checked by every handshake of its sockets.
const LOOK_BACK_MS: i64 = 5_000;

/// Points read per poll.
const PAGE: u32 = 500;

/// Polls until aborted.
pub(crate) async fn watch<A: Adapter>(io: SocketIo<A>, state: SocketState) {
    let mut seen = Timestamp::from_millis(state.clock.now().millis() - LOOK_BACK_MS);
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // From a millisecond before the newest point seen: two points in one millisecond are
        // both read (the repeat is harmless, its sockets are gone).
        let after = Timestamp::from_millis(seen.millis() - 1);
        match state
            .services
            .sessions
            .revocations_after(Some(after), PAGE)
            .await
        {
            Ok(points) => {
                for point in points {
                    seen = seen.max(point.at);
                    disconnect_revoked(&io, &state, &point);
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "reading revocations failed; trying again");
            }
        }
    }
}

fn disconnect_revoked<A: Adapter>(io: &SocketIo<A>, state: &SocketState, point: &Revocation) {
    for s in io.sockets() {
        let Some(user) = s.extensions.get::<Arc<SocketUser<A>>>() else {
            continue;
        };
        if user.user_id != point.user_id || !point.voids(user.issued_at()) {
            continue;
        }
        tracing::info!(user_id = %point.user_id, socket_id = %s.id, "token revoked: disconnecting");
        let out = ErrorPayload::token_revoked(time::format(state.clock.now()));
        let _ = s.emit(outbound::error(ErrorCode::Unauthorized), &out);
        let _ = s.disconnect();
    }
}
