//! Messages: validated content, what a send asks to store, what was stored, and the
//! idempotency rule that decides between "created", "duplicate" and "conflict".

use crate::{
    ids::{ConversationId, DeviceId, MessageId, UserId},
    sequence::{ClientSequence, ServerSequence},
    time::Timestamp,
    user::DisplayName,
};

/// Limits on message content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentPolicy {
    /// Longest content after trimming, in Unicode scalar values (`CHAT_MAX_MESSAGE_CHARS`).
    pub max_chars: usize,
}

impl Default for ContentPolicy {
    fn default() -> Self {
        Self { max_chars: 4000 }
    }
}

/// Why message content was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewMessageContentError {
    /// Empty or only whitespace.
    #[error("content is empty")]
    Empty,
    /// Longer than the policy allows.
    #[error("content has {actual} characters, more than {max}")]
    TooLong {
        /// The policy's limit.
        max: usize,
        /// The trimmed content's length.
        actual: usize,
    },
    /// Contains a control character other than `\n` and `\t`.
    #[error("content contains control characters")]
    ControlCharacter,
}

/// The text of a message: trimmed, non-empty, at most the policy's length, and free of control
/// characters except line feed and tab.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageContent(String);

impl MessageContent {
    /// Validates and trims message content.
    ///
    /// # Errors
    /// [`NewMessageContentError`] naming the broken rule.
    pub fn new(raw: &str, policy: &ContentPolicy) -> Result<Self, NewMessageContentError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(NewMessageContentError::Empty);
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(NewMessageContentError::ControlCharacter);
        }
        let actual = text.chars().count();
        if actual > policy.max_chars {
            return Err(NewMessageContentError::TooLong {
                max: policy.max_chars,
                actual,
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// Content read back from storage, which validated it on the way in.
    #[must_use]
    pub fn from_trusted(stored: String) -> Self {
        Self(stored)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message a sender asks to store. The server sequence is assigned by the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The client's id for it (idempotency key).
    pub id: MessageId,
    /// Where.
    pub conversation_id: ConversationId,
    /// Who, from the token.
    pub sender_id: UserId,
    /// From which device.
    pub sender_device_id: DeviceId,
    /// The device's own numbering, when given.
    pub client_sequence: Option<ClientSequence>,
    /// The text.
    pub content: MessageContent,
    /// The client's clock, when given (informational).
    pub client_timestamp: Option<Timestamp>,
    /// When the server accepted it.
    pub created_at: Timestamp,
}

/// A committed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The client's id for it.
    pub id: MessageId,
    /// Where.
    pub conversation_id: ConversationId,
    /// Who sent it.
    pub sender_id: UserId,
    /// The sender's display name at read time, when known.
    pub sender_name: Option<DisplayName>,
    /// From which device.
    pub sender_device_id: DeviceId,
    /// The device's numbering, when it gave one.
    pub client_sequence: Option<ClientSequence>,
    /// The one true order of the conversation.
    pub server_sequence: ServerSequence,
    /// The text.
    pub content: MessageContent,
    /// When it was committed (also `persistedAt`).
    pub created_at: Timestamp,
}

/// The result of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Stored now, with a fresh server sequence.
    Created(StoredMessage),
    /// The same sender already stored this id in this conversation: the original.
    Duplicate(StoredMessage),
}

impl AppendOutcome {
    /// The stored message, whichever the outcome.
    #[must_use]
    pub fn message(&self) -> &StoredMessage {
        match self {
            Self::Created(m) | Self::Duplicate(m) => m,
        }
    }

    /// Whether this was a resend of a stored message.
    #[must_use]
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate(_))
    }
}

/// What an existing row means for a new message that collided with it on a unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collision {
    /// Same id, same sender, same conversation: a resend. Answer with the original.
    Duplicate,
    /// Same id used by another sender or in another conversation, or the same client sequence
    /// already used with another id.
    Conflict,
}

/// The idempotency rule. `existing` is the row that holds the key the new message collided on
/// (its message id, or its sender device's client sequence).
#[must_use]
pub fn classify_collision(existing: &StoredMessage, new: &NewMessage) -> Collision {
    if existing.id == new.id
        && existing.sender_id == new.sender_id
        && existing.conversation_id == new.conversation_id
    {
        Collision::Duplicate
    } else {
        Collision::Conflict
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn policy() -> ContentPolicy {
        ContentPolicy { max_chars: 10 }
    }

    #[test]
    fn content_rules_as_a_table() {
        use NewMessageContentError::*;
        let cases: &[(&str, Result<&str, NewMessageContentError>)] = &[
            ("hello", Ok("hello")),
            ("  hello \n", Ok("hello")),
            ("a\nb\tc", Ok("a\nb\tc")),
            ("", Err(Empty)),
            ("   \n\t ", Err(Empty)),
            ("a\u{0}b", Err(ControlCharacter)),
            ("a\rb", Err(ControlCharacter)),
            ("a\u{1b}[31m", Err(ControlCharacter)),
            ("a\u{7f}", Err(ControlCharacter)),
            ("0123456789", Ok("0123456789")),
            ("ééééééééé\u{e9}", Ok("éééééééééé")),
            (
                "01234567890",
                Err(TooLong {
                    max: 10,
                    actual: 11,
                }),
            ),
            ("  0123456789  ", Ok("0123456789")),
        ];
        for (raw, want) in cases {
            let got = MessageContent::new(raw, &policy());
            assert_eq!(
                got.as_ref().map(MessageContent::as_str),
                want.as_ref().map(|s| *s),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn length_counts_unicode_scalar_values_not_bytes() {
        let emoji = "😀".repeat(10);
        assert!(MessageContent::new(&emoji, &policy()).is_ok());
        assert!(MessageContent::new(&"😀".repeat(11), &policy()).is_err());
    }

    fn stored(id: u128, sender: u128, conv: u128) -> StoredMessage {
        StoredMessage {
            id: MessageId::new(Uuid::from_u128(id)),
            conversation_id: ConversationId::new(Uuid::from_u128(conv)),
            sender_id: UserId::new(Uuid::from_u128(sender)),
            sender_name: None,
            sender_device_id: DeviceId::new("d").unwrap(),
            client_sequence: None,
            server_sequence: ServerSequence::new(1),
            content: MessageContent::from_trusted("x".into()),
            created_at: Timestamp::EPOCH,
        }
    }

    fn new(id: u128, sender: u128, conv: u128) -> NewMessage {
        NewMessage {
            id: MessageId::new(Uuid::from_u128(id)),
            conversation_id: ConversationId::new(Uuid::from_u128(conv)),
            sender_id: UserId::new(Uuid::from_u128(sender)),
            sender_device_id: DeviceId::new("d").unwrap(),
            client_sequence: None,
            content: MessageContent::from_trusted("x".into()),
            client_timestamp: None,
            created_at: Timestamp::EPOCH,
        }
    }

    #[test]
    fn collisions_are_duplicates_only_for_the_same_sender_and_conversation() {
        let cases = [
            (new(1, 10, 100), Collision::Duplicate),
            (new(1, 11, 100), Collision::Conflict),
            (new(1, 10, 101), Collision::Conflict),
            (new(2, 10, 100), Collision::Conflict),
        ];
        let existing = stored(1, 10, 100);
        for (n, want) in cases {
            assert_eq!(classify_collision(&existing, &n), want, "{n:?}");
        }
    }
}
