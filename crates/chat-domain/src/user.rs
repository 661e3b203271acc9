//! Users and their display names.

use crate::{ids::UserId, time::Timestamp};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Why a display name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewDisplayNameError {
    /// Empty after trimming.
    #[error("name is empty")]
    Empty,
    /// Longer than [`MAX_DISPLAY_NAME_CHARS`].
    #[error("name is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Contains a control character.
    #[error("name contains control characters")]
    ControlCharacter,
}

/// Whether `c` is an invisible formatting character a name could use to look like another one:
/// the bidirectional overrides, embeddings, isolates and marks (U+202E turns "Ada" into "adA"),
/// zero-width spaces and joiners of words, the soft hyphen, the byte-order mark. Zero-width
/// (non-)joiners (U+200C, U+200D) stay: emoji sequences and several scripts need them.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// A user's display name: trimmed, 1..=100 characters, no control characters, invisible
/// formatting characters (bidirectional controls and the like) removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates and trims a display name.
    ///
    /// # Errors
    /// [`NewDisplayNameError`] naming the broken rule.
    pub fn new(raw: &str) -> Result<Self, NewDisplayNameError> {
        let visible: String = raw.chars().filter(|c| !is_invisible_format(*c)).collect();
        let name = visible.trim();
        if name.is_empty() {
            return Err(NewDisplayNameError::Empty);
        }
        if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
            return Err(NewDisplayNameError::TooLong {
                max: MAX_DISPLAY_NAME_CHARS,
            });
        }
        if name.chars().any(char::is_control) {
            return Err(NewDisplayNameError::ControlCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user row: created the first time a user id is seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Who.
    pub id: UserId,
    /// Display name, if any token or profile gave one.
    pub name: Option<DisplayName>,
    /// When the user was first seen.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_validated() {
        let cases: [(&str, Result<&str, NewDisplayNameError>); 10] = [
            // name spoofing: bidi overrides and isolates, zero-width spaces are removed
            ("Ad\u{202E}a", Ok("Ada")),
            ("\u{2066}Ada\u{2069} ", Ok("Ada")),
            ("\u{200B}\u{FEFF}", Err(NewDisplayNameError::Empty)),
            // emoji sequences keep their joiners
            (
                "\u{1F469}\u{200D}\u{1F4BB}",
                Ok("\u{1F469}\u{200D}\u{1F4BB}"),
            ),
            ("Ada", Ok("Ada")),
            ("  Ada Lovelace ", Ok("Ada Lovelace")),
            ("", Err(NewDisplayNameError::Empty)),
            ("   ", Err(NewDisplayNameError::Empty)),
            ("A\nB", Err(NewDisplayNameError::ControlCharacter)),
            ("A\u{0}", Err(NewDisplayNameError::ControlCharacter)),
        ];
        for (raw, want) in cases {
            let got = DisplayName::new(raw);
            assert_eq!(
                got.as_ref().map(DisplayName::as_str),
                want.as_ref().map(|s| *s),
                "{raw:?}"
            );
        }
        assert!(matches!(
            DisplayName::new(&"n".repeat(101)),
            Err(NewDisplayNameError::TooLong { max: 100 })
        ));
    }
}
