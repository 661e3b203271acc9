//! Instants on the wire: the domain's one text form (`Timestamp::to_rfc3339`), and parsing with
//! the field's name in the message.

use chat_domain::Timestamp;

/// Formats an instant as the contract's `*At` string.
#[must_use]
pub fn format(ts: Timestamp) -> String {
    ts.to_rfc3339()
}

/// Parses an RFC 3339 instant (any offset), truncated to milliseconds.
///
/// # Errors
/// The message to give back when `raw` is not RFC 3339.
pub fn parse(raw: &str, field: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(raw).map_err(|e| format!("{field} is {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_field() {
        assert!(
            parse("yesterday", "lastReadAt")
                .unwrap_err()
                .starts_with("lastReadAt is not")
        );
        assert_eq!(
            parse("2026-01-27T10:30:01.234Z", "x").unwrap().millis(),
            1_769_509_801_234
        );
    }
}
