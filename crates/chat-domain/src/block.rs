//! Blocks: per conversation, in either direction, and the rules that follow from them.

use crate::{
    conversation::{NotParticipant, Participant, ensure_active_participant},
    ids::{ConversationId, UserId},
    time::Timestamp,
};

/// `blocker` blocked `blocked` in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Where.
    pub conversation_id: ConversationId,
    /// Who blocked.
    pub blocker_id: UserId,
    /// Who is blocked.
    pub blocked_id: UserId,
    /// Since when.
    pub blocked_at: Timestamp,
}

/// Which side of a block the acting user is on (the contract's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSide {
    /// Someone blocked the acting user (`user_blocked`).
    UserBlocked,
    /// The acting user blocked someone (`you_blocked`).
    YouBlocked,
}

impl std::fmt::Display for BlockSide {
    /// Prose, for messages and logs (the wire word is [`Self::as_str`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UserBlocked => "another participant has blocked you",
            Self::YouBlocked => "you have blocked another participant",
        })
    }
}

impl BlockSide {
    /// The contract's `reason` string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UserBlocked => "user_blocked",
            Self::YouBlocked => "you_blocked",
        }
    }
}

/// The block rule for sending and typing: refused while any block involving `user` stands in
/// the conversation. Being blocked wins over having blocked when both hold.
///
/// # Errors
/// The [`BlockSide`] of `user`.
pub fn ensure_not_blocked(user: UserId, blocks: &[Block]) -> Result<(), BlockSide> {
    if blocks.iter().any(|b| b.blocked_id == user) {
        return Err(BlockSide::UserBlocked);
    }
    if blocks.iter().any(|b| b.blocker_id == user) {
        return Err(BlockSide::YouBlocked);
    }
    Ok(())
}

/// Why a block or unblock request is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockTargetError {
    /// The acting user is not an active participant.
    #[error(transparent)]
    NotParticipant(#[from] NotParticipant),
    /// The target is the acting user.
    #[error("you cannot block yourself")]
    SelfBlock,
    /// The target is not another participant of the conversation.
    #[error("blockedUserId is not a participant of this conversation")]
    TargetNotParticipant,
}

/// The block-target rule: both users are participants and they differ.
///
/// # Errors
/// [`BlockTargetError`] naming the broken rule.
pub fn ensure_block_target(
    actor: UserId,
    target: UserId,
    participants: &[Participant],
) -> Result<(), BlockTargetError> {
    ensure_active_participant(actor, participants)?;
    if actor == target {
        return Err(BlockTargetError::SelfBlock);
    }
    if !participants.iter().any(|p| p.user_id == target) {
        return Err(BlockTargetError::TargetNotParticipant);
    }
    Ok(())
}

/// Whether `user` has to be kept out of the conversation's room: they are blocked by someone.
#[must_use]
pub fn is_kept_out(user: UserId, blocks: &[Block]) -> bool {
    blocks.iter().any(|b| b.blocked_id == user)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::sequence::ServerSequence;

    fn user(n: u128) -> UserId {
        UserId::new(Uuid::from_u128(n))
    }

    fn block(by: u128, of: u128) -> Block {
        Block {
            conversation_id: ConversationId::new(Uuid::from_u128(99)),
            blocker_id: user(by),
            blocked_id: user(of),
            blocked_at: Timestamp::EPOCH,
        }
    }

    #[test]
    fn block_rule_as_a_table() {
        let cases: [(&[Block], u128, Result<(), BlockSide>); 6] = [
            (&[], 1, Ok(())),
            (&[block(1, 2)], 1, Err(BlockSide::YouBlocked)),
            (&[block(1, 2)], 2, Err(BlockSide::UserBlocked)),
            (&[block(1, 2)], 3, Ok(())),
            (&[block(1, 2), block(2, 1)], 1, Err(BlockSide::UserBlocked)),
            (&[block(1, 2), block(2, 1)], 2, Err(BlockSide::UserBlocked)),
        ];
        for (blocks, who, want) in cases {
            assert_eq!(
                ensure_not_blocked(user(who), blocks),
                want,
                "user {who} {blocks:?}"
            );
        }
    }

    #[test]
    fn reasons_are_the_contract_strings() {
        assert_eq!(BlockSide::UserBlocked.as_str(), "user_blocked");
        assert_eq!(BlockSide::YouBlocked.as_str(), "you_blocked");
    }

    fn participant(n: u128) -> Participant {
        Participant {
            user_id: user(n),
            name: None,
            role: crate::group::Role::Member,
            joined_at: Timestamp::EPOCH,
            left_at: None,
            last_read_sequence: ServerSequence::ZERO,
            last_read_at: None,
        }
    }

    #[test]
    fn block_target_rule_as_a_table() {
        let ps = [participant(1), participant(2)];
        let cases = [
            (1, 2, Ok(())),
            (2, 1, Ok(())),
            (1, 1, Err(BlockTargetError::SelfBlock)),
            (1, 3, Err(BlockTargetError::TargetNotParticipant)),
            (3, 1, Err(BlockTargetError::NotParticipant(NotParticipant))),
        ];
        for (actor, target, want) in cases {
            assert_eq!(ensure_block_target(user(actor), user(target), &ps), want);
        }
    }

    #[test]
    fn only_the_blocked_side_is_kept_out_of_the_room() {
        let blocks = [block(1, 2)];
        assert!(is_kept_out(user(2), &blocks));
        assert!(!is_kept_out(user(1), &blocks));
    }
}
