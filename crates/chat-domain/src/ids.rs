//! Identifiers: UUID newtypes for users, conversations and messages, plus device and socket ids.

use std::fmt;

use uuid::Uuid;

/// A string that should have been a UUID and was not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is not a UUID")]
pub struct ParseIdError {
    /// Which kind of id was being parsed (`userId`, `conversationId`, ...).
    pub field: &'static str,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            #[must_use]
            pub const fn new(id: Uuid) -> Self {
                Self(id)
            }

            /// Parses the hyphenated (or any RFC 9562) text form.
            ///
            /// # Errors
            /// [`ParseIdError`] when `raw` is not a UUID.
            pub fn parse(raw: &str) -> Result<Self, ParseIdError> {
                Uuid::parse_str(raw.trim())
                    .map(Self)
                    .map_err(|_| ParseIdError { field: $field })
            }

            /// The UUID inside.
            #[must_use]
            pub const fn get(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

uuid_id!(
    /// A user, as named by the `sub` claim of their token.
    UserId,
    "userId"
);
uuid_id!(
    /// A conversation.
    ConversationId,
    "conversationId"
);
uuid_id!(
    /// A message; chosen by the client, which makes sends idempotent.
    MessageId,
    "messageId"
);

/// Longest accepted device id, in characters.
pub const MAX_DEVICE_ID_CHARS: usize = 128;

/// Why a device id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewDeviceIdError {
    /// Empty or only whitespace.
    #[error("deviceId is empty")]
    Empty,
    /// Longer than [`MAX_DEVICE_ID_CHARS`].
    #[error("deviceId is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Contains whitespace or control characters.
    #[error("deviceId contains whitespace or control characters")]
    InvalidCharacter,
}

/// One device of a user (a browser profile, a phone). Chosen by the client or made by the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates a client-chosen device id: 1..=128 characters, no whitespace or control ones.
    ///
    /// # Errors
    /// [`NewDeviceIdError`] naming the broken rule.
    pub fn new(raw: &str) -> Result<Self, NewDeviceIdError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(NewDeviceIdError::Empty);
        }
        if raw.chars().count() > MAX_DEVICE_ID_CHARS {
            return Err(NewDeviceIdError::TooLong {
                max: MAX_DEVICE_ID_CHARS,
            });
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(NewDeviceIdError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// A device id made by the server from a fresh UUID.
    #[must_use]
    pub fn generated(id: Uuid) -> Self {
        Self(id.hyphenated().to_string())
    }

    /// The text form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One live connection (a Socket.IO socket id). Opaque to the domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(String);

impl SocketId {
    /// Wraps the transport's socket id.
    #[must_use]
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The text form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_uuids_and_refuse_anything_else() {
        let cases = [
            ("7f1d9c52-3e1f-4c1e-9f3a-2b0a7f5a9d11", true),
            (" 7f1d9c52-3e1f-4c1e-9f3a-2b0a7f5a9d11 ", true),
            ("7F1D9C52-3E1F-4C1E-9F3A-2B0A7F5A9D11", true),
            ("", false),
            ("not-a-uuid", false),
            ("7f1d9c52-3e1f-4c1e-9f3a-2b0a7f5a9d1", false),
            ("12345", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(UserId::parse(raw).is_ok(), ok, "{raw:?}");
            assert_eq!(ConversationId::parse(raw).is_ok(), ok, "{raw:?}");
            assert_eq!(MessageId::parse(raw).is_ok(), ok, "{raw:?}");
        }
    }

    #[test]
    fn parse_error_names_the_field() {
        assert_eq!(
            MessageId::parse("x").unwrap_err().to_string(),
            "messageId is not a UUID"
        );
    }

    #[test]
    fn display_is_lowercase_hyphenated() {
        let id = UserId::parse("7F1D9C52-3E1F-4C1E-9F3A-2B0A7F5A9D11").unwrap();
        assert_eq!(id.to_string(), "7f1d9c52-3e1f-4c1e-9f3a-2b0a7f5a9d11");
    }

    #[test]
    fn device_ids_are_validated() {
        assert_eq!(DeviceId::new("web-laptop").unwrap().as_str(), "web-laptop");
        assert_eq!(DeviceId::new("  "), Err(NewDeviceIdError::Empty));
        assert_eq!(
            DeviceId::new("a b"),
            Err(NewDeviceIdError::InvalidCharacter)
        );
        assert_eq!(
            DeviceId::new("a\u{7}b"),
            Err(NewDeviceIdError::InvalidCharacter)
        );
        assert!(matches!(
            DeviceId::new(&"x".repeat(129)),
            Err(NewDeviceIdError::TooLong { max: 128 })
        ));
        assert!(DeviceId::new(&"x".repeat(128)).is_ok());
    }
}
