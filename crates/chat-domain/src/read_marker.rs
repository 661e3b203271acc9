//! Read markers (only ever forward) and unread counts (derived, never stored).

use crate::{
    ids::{MessageId, UserId},
    sequence::ServerSequence,
    time::Timestamp,
};

/// Where a reader says they have read up to. A request carries at least one of these; the
/// marker moves to the furthest of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadTarget {
    /// An explicit sequence.
    pub sequence: Option<ServerSequence>,
    /// The newest message at or before this instant.
    pub at: Option<Timestamp>,
    /// The newest of these messages.
    pub message_ids: Vec<MessageId>,
}

/// A read request with nothing to read up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("give lastReadSequence, lastReadAt or messageIds")]
pub struct EmptyReadTarget;

impl ReadTarget {
    /// Checks that at least one of the three is given.
    ///
    /// # Errors
    /// [`EmptyReadTarget`] when none is.
    pub fn new(
        sequence: Option<ServerSequence>,
        at: Option<Timestamp>,
        message_ids: Vec<MessageId>,
    ) -> Result<Self, EmptyReadTarget> {
        if sequence.is_none() && at.is_none() && message_ids.is_empty() {
            return Err(EmptyReadTarget);
        }
        Ok(Self {
            sequence,
            at,
            message_ids,
        })
    }
}

/// A participant's read marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMarker {
    /// The newest sequence read (`ZERO`: none).
    pub sequence: ServerSequence,
    /// When the marker last moved.
    pub read_at: Option<Timestamp>,
}

/// The outcome of applying a read to a marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerMove {
    /// The marker moved forward to this one.
    Advanced(ReadMarker),
    /// The proposal was not ahead: the marker stays as it was.
    Unchanged(ReadMarker),
}

impl MarkerMove {
    /// The marker after the move.
    #[must_use]
    pub const fn marker(self) -> ReadMarker {
        match self {
            Self::Advanced(m) | Self::Unchanged(m) => m,
        }
    }
}

/// A read applied to a participant's marker: the move, and the unread count after the marker
/// it left, taken together (never another concurrent read's count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkerAdvance {
    /// Whether and where the marker moved.
    pub moved: MarkerMove,
    /// Messages others sent after [`MarkerAdvance::marker`], as of the move.
    pub unread_count: u64,
}

impl MarkerAdvance {
    /// The marker after the move.
    #[must_use]
    pub const fn marker(self) -> ReadMarker {
        self.moved.marker()
    }
}

/// The forward-only rule. `proposed` is clamped to the conversation's newest sequence: one cannot
/// read what does not exist yet.
#[must_use]
pub fn advance_marker(
    current: ReadMarker,
    proposed: ServerSequence,
    last_sequence: ServerSequence,
    now: Timestamp,
) -> MarkerMove {
    let proposed = proposed.min(last_sequence);
    if proposed > current.sequence {
        MarkerMove::Advanced(ReadMarker {
            sequence: proposed,
            read_at: Some(now),
        })
    } else {
        MarkerMove::Unchanged(current)
    }
}

/// Unread count: messages after the reader's marker that others sent. `messages` yields
/// `(sequence, sender)` for the conversation's messages.
#[must_use]
pub fn unread_count(
    reader: UserId,
    marker: ServerSequence,
    messages: impl IntoIterator<Item = (ServerSequence, UserId)>,
) -> u64 {
    let n = messages
        .into_iter()
        .filter(|&(seq, sender)| seq > marker && sender != reader)
        .count();
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn seq(n: u64) -> ServerSequence {
        ServerSequence::new(n)
    }

    fn marker(n: u64) -> ReadMarker {
        ReadMarker {
            sequence: seq(n),
            read_at: (n > 0).then_some(Timestamp::from_millis(1)),
        }
    }

    #[test]
    fn markers_only_move_forward_as_a_table() {
        let now = Timestamp::from_millis(50);
        // (current, proposed, last in conversation, expected marker sequence, advanced?)
        let cases = [
            (0, 3, 10, 3, true),
            (3, 5, 10, 5, true),
            (5, 3, 10, 5, false),
            (5, 5, 10, 5, false),
            (5, 12, 10, 10, true),
            (10, 12, 10, 10, false),
            (0, 0, 0, 0, false),
            (0, 1, 0, 0, false),
        ];
        for (cur, prop, last, want, advanced) in cases {
            let got = advance_marker(marker(cur), seq(prop), seq(last), now);
            assert_eq!(got.marker().sequence, seq(want), "{cur}->{prop} of {last}");
            assert_eq!(
                matches!(got, MarkerMove::Advanced(_)),
                advanced,
                "{cur}->{prop} of {last}"
            );
            if advanced {
                assert_eq!(got.marker().read_at, Some(now));
            } else {
                assert_eq!(got.marker(), marker(cur));
            }
        }
    }

    #[test]
    fn a_read_target_needs_something_to_read_up_to() {
        assert_eq!(ReadTarget::new(None, None, vec![]), Err(EmptyReadTarget));
        assert!(ReadTarget::new(Some(seq(1)), None, vec![]).is_ok());
        assert!(ReadTarget::new(None, Some(Timestamp::EPOCH), vec![]).is_ok());
        assert!(ReadTarget::new(None, None, vec![MessageId::new(Uuid::nil())]).is_ok());
    }

    #[test]
    fn unread_counts_only_others_messages_after_the_marker() {
        let me = UserId::new(Uuid::from_u128(1));
        let other = UserId::new(Uuid::from_u128(2));
        let msgs = [
            (seq(1), other),
            (seq(2), me),
            (seq(3), other),
            (seq(4), other),
        ];
        let cases = [(0, 3), (1, 2), (2, 2), (3, 1), (4, 0), (9, 0)];
        for (m, want) in cases {
            assert_eq!(unread_count(me, seq(m), msgs), want, "marker {m}");
        }
        assert_eq!(unread_count(other, seq(0), msgs), 1);
    }
}
