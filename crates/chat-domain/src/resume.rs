//! Resume: what a returning device is owed.
//!
//! When a device disconnects, the gateway records a [`ResumePoint`]: when, and the newest
//! sequence of each of the user's conversations at that moment (taken while the socket is still
//! in its rooms, so that a message committed later is either delivered live or above the
//! snapshot). When the same device returns within the resume window, it is owed every message
//! above its cursor in each conversation. A client that sends `lastSequences` knows better and
//! its numbers win.

use std::collections::BTreeMap;

use crate::{
    ids::{ConversationId, DeviceId, UserId},
    sequence::ServerSequence,
    time::Timestamp,
};

/// Most messages in one `reconnected` payload; more sets `hasMore`.
pub const MAX_PENDING_MESSAGES: u32 = 500;

/// Where a device stood when it went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    /// Whose device.
    pub user_id: UserId,
    /// Which device.
    pub device_id: DeviceId,
    /// When it disconnected.
    pub disconnected_at: Timestamp,
    /// The newest sequence of each conversation of the user at that moment.
    pub sequences: BTreeMap<ConversationId, ServerSequence>,
}

/// Whether a device returning at `now` may resume from `point` (within `window_ms`).
#[must_use]
pub fn within_window(point: &ResumePoint, now: Timestamp, window_ms: i64) -> bool {
    now.millis_since(point.disconnected_at) <= window_ms
}

/// One conversation the returning user is in, with its newest sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationHead {
    /// Which.
    pub conversation_id: ConversationId,
    /// Newest sequence in it.
    pub last_sequence: ServerSequence,
}

/// The resume selection rule: for each conversation, the sequence after which messages are owed.
/// The client's `lastSequences` win; otherwise the recorded point; a conversation absent from
/// both (joined while away) is owed from the start. Conversations with nothing new are left out.
#[must_use]
pub fn resume_cursors(
    heads: &[ConversationHead],
    point: &ResumePoint,
    client: &BTreeMap<ConversationId, ServerSequence>,
) -> Vec<(ConversationId, ServerSequence)> {
    heads
        .iter()
        .filter_map(|h| {
            let after = client
                .get(&h.conversation_id)
                .or_else(|| point.sequences.get(&h.conversation_id))
                .copied()
                .unwrap_or(ServerSequence::ZERO);
            (h.last_sequence > after).then_some((h.conversation_id, after))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn conv(n: u128) -> ConversationId {
        ConversationId::new(Uuid::from_u128(n))
    }

    fn seq(n: u64) -> ServerSequence {
        ServerSequence::new(n)
    }

    fn point(seqs: &[(u128, u64)]) -> ResumePoint {
        ResumePoint {
            user_id: UserId::new(Uuid::from_u128(1)),
            device_id: DeviceId::new("d1").unwrap(),
            disconnected_at: Timestamp::from_millis(1_000),
            sequences: seqs.iter().map(|&(c, s)| (conv(c), seq(s))).collect(),
        }
    }

    fn heads(hs: &[(u128, u64)]) -> Vec<ConversationHead> {
        hs.iter()
            .map(|&(c, s)| ConversationHead {
                conversation_id: conv(c),
                last_sequence: seq(s),
            })
            .collect()
    }

    #[test]
    fn cursors_as_a_table() {
        type Case<'a> = (
            &'a [(u128, u64)],
            &'a [(u128, u64)],
            &'a [(u128, u64)],
            &'a [(u128, u64)],
        );
        // (heads now, recorded point, client lastSequences, expected cursors)
        let cases: [Case; 6] = [
            (&[(1, 5)], &[(1, 5)], &[], &[]),
            (&[(1, 7)], &[(1, 5)], &[], &[(1, 5)]),
            (&[(1, 7)], &[(1, 5)], &[(1, 3)], &[(1, 3)]),
            (&[(1, 7)], &[(1, 5)], &[(1, 7)], &[]),
            (&[(1, 7), (2, 2)], &[(1, 5)], &[], &[(1, 5), (2, 0)]),
            (&[(1, 0)], &[], &[], &[]),
        ];
        for (h, p, c, want) in cases {
            let client = c.iter().map(|&(c, s)| (conv(c), seq(s))).collect();
            let got = resume_cursors(&heads(h), &point(p), &client);
            let want: Vec<_> = want.iter().map(|&(c, s)| (conv(c), seq(s))).collect();
            assert_eq!(got, want, "heads {h:?} point {p:?} client {c:?}");
        }
    }

    #[test]
    fn the_window_is_inclusive() {
        let p = point(&[]);
        assert!(within_window(
            &p,
            Timestamp::from_millis(1_000 + 1_800_000),
            1_800_000
        ));
        assert!(!within_window(
            &p,
            Timestamp::from_millis(1_001 + 1_800_000),
            1_800_000
        ));
    }
}
