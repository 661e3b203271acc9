//! Instants on the wire: RFC 3339 UTC with milliseconds (`2026-01-27T10:30:01.234Z`).

use chat_domain::Timestamp;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Formats an instant as the contract's `*At` string.
#[must_use]
pub fn format(ts: Timestamp) -> String {
    let nanos = i128::from(ts.millis()) * 1_000_000;
    match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// Parses an RFC 3339 instant (any offset), truncated to milliseconds.
///
/// # Errors
/// The message to give back when `raw` is not RFC 3339.
pub fn parse(raw: &str, field: &str) -> Result<Timestamp, String> {
    let t = OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| format!("{field} is not an RFC 3339 date-time"))?;
    let millis = t.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis)
        .map(Timestamp::from_millis)
        .map_err(|_| format!("{field} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        assert_eq!(
            format(Timestamp::from_millis(1_769_509_801_234)),
            "2026-01-27T10:30:01.234Z"
        );
        assert_eq!(format(Timestamp::EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn parses_offsets_and_refuses_junk() {
        assert_eq!(
            parse("2026-01-27T10:30:01.234Z", "x").unwrap().millis(),
            1_769_509_801_234
        );
        assert_eq!(
            parse("2026-01-27T11:30:01.234+01:00", "x")
                .unwrap()
                .millis(),
            1_769_509_801_234
        );
        assert!(
            parse("yesterday", "lastReadAt")
                .unwrap_err()
                .contains("lastReadAt")
        );
        assert!(parse("2026-01-27", "x").is_err());
    }
}
