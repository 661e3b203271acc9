//! Mutes: per user per conversation, with an optional expiry. A mute silences notifications
//! only; messages and unread counts still flow.

use crate::{
    ids::{ConversationId, UserId},
    time::Timestamp,
};

/// `user_id` muted a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mute {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
    /// Since when.
    pub muted_at: Timestamp,
    /// Until when; `None` is until unmuted.
    pub muted_until: Option<Timestamp>,
}

impl Mute {
    /// Whether the mute is in force at `now`.
    #[must_use]
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.muted_until.is_none_or(|until| now < until)
    }
}

/// A mute whose end is not after its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("mutedUntil must be in the future")]
pub struct MuteUntilInPast;

/// The mute rule: `mutedUntil`, when given, lies after `now`.
///
/// # Errors
/// [`MuteUntilInPast`] otherwise.
pub fn ensure_mute_until(
    now: Timestamp,
    muted_until: Option<Timestamp>,
) -> Result<(), MuteUntilInPast> {
    match muted_until {
        Some(until) if until <= now => Err(MuteUntilInPast),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn mute(until: Option<i64>) -> Mute {
        Mute {
            conversation_id: ConversationId::new(Uuid::from_u128(1)),
            user_id: UserId::new(Uuid::from_u128(2)),
            muted_at: Timestamp::from_millis(0),
            muted_until: until.map(Timestamp::from_millis),
        }
    }

    #[test]
    fn mute_expiry_as_a_table() {
        let cases = [
            (None, 10, true),
            (Some(100), 10, true),
            (Some(100), 100, false),
            (Some(100), 150, false),
        ];
        for (until, now, active) in cases {
            assert_eq!(
                mute(until).is_active(Timestamp::from_millis(now)),
                active,
                "{until:?} at {now}"
            );
        }
    }

    #[test]
    fn muted_until_must_be_in_the_future() {
        let now = Timestamp::from_millis(100);
        assert_eq!(ensure_mute_until(now, None), Ok(()));
        assert_eq!(
            ensure_mute_until(now, Some(Timestamp::from_millis(101))),
            Ok(())
        );
        assert_eq!(ensure_mute_until(now, Some(now)), Err(MuteUntilInPast));
        assert_eq!(
            ensure_mute_until(now, Some(Timestamp::from_millis(1))),
            Err(MuteUntilInPast)
        );
    }
}
