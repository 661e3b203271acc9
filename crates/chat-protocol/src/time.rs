//! Instants on the wire: RFC 3339 in UTC with exactly millisecond precision and a `Z`
//! (`2026-01-27T10:30:01.234Z`), to and from the domain's [`Timestamp`].

use chat_domain::Timestamp;

/// A string that is not an RFC 3339 date-time (or lies outside years 0000..=9999).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is not an RFC 3339 date-time (like 2026-01-27T10:30:01.234Z)")]
pub struct InvalidDateTime {
    /// The field that held it.
    pub field: &'static str,
}

/// Formats `at` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
#[must_use]
pub fn format(at: Timestamp) -> String {
    at.to_rfc3339()
}

/// Formats an optional instant.
#[must_use]
pub fn format_optional(at: Option<Timestamp>) -> Option<String> {
    at.map(Timestamp::to_rfc3339)
}

/// Parses an RFC 3339 date-time (any offset), truncated to milliseconds.
///
/// # Errors
/// [`InvalidDateTime`] naming `field` when `raw` does not parse or is out of range.
pub fn parse(raw: &str, field: &'static str) -> Result<Timestamp, InvalidDateTime> {
    Timestamp::parse_rfc3339(raw).map_err(|_| InvalidDateTime { field })
}

/// Parses an optional RFC 3339 date-time.
///
/// # Errors
/// [`InvalidDateTime`] as [`parse`].
pub fn parse_optional(
    raw: Option<&str>,
    field: &'static str,
) -> Result<Option<Timestamp>, InvalidDateTime> {
    raw.map(|r| parse(r, field)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_exactly_three_fraction_digits_and_a_z() {
        let cases = [
            (1_769_509_801_234, "2026-01-27T10:30:01.234Z"),
            (1_769_509_801_000, "2026-01-27T10:30:01.000Z"),
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (i64::MAX, "9999-12-31T23:59:59.999Z"),
        ];
        for (millis, want) in cases {
            assert_eq!(format(Timestamp::from_millis(millis)), want, "{millis}");
        }
    }

    #[test]
    fn parses_offsets_and_fractions_into_millis() {
        let cases = [
            ("2026-01-27T10:30:01.234Z", Some(1_769_509_801_234)),
            ("2026-01-27T11:30:01.234+01:00", Some(1_769_509_801_234)),
            ("2026-01-27T10:30:01Z", Some(1_769_509_801_000)),
            ("2026-01-27T10:30:01.2349Z", Some(1_769_509_801_234)),
            ("1969-12-31T23:59:59.9995Z", Some(-1)),
            ("2026-01-27 10:30:01Z", Some(1_769_509_801_000)),
            ("2026-01-27T10:30:01", None),
            ("yesterday", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                parse(raw, "from").ok().map(Timestamp::millis),
                want,
                "{raw}"
            );
        }
    }

    #[test]
    fn errors_name_the_field_and_round_trip() {
        let err = parse("yesterday", "lastReadAt").unwrap_err();
        assert!(err.to_string().starts_with("lastReadAt is not"));
        let at = Timestamp::from_millis(1_769_509_801_234);
        assert_eq!(parse(&format(at), "at"), Ok(at));
        assert_eq!(parse_optional(None, "at"), Ok(None));
    }
}
