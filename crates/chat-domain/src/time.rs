//! Instants, as the domain sees them: Unix epoch milliseconds (the contract's precision), and
//! their one text form, RFC 3339 in UTC with milliseconds (`2026-01-27T10:30:01.234Z`).

use std::fmt;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// `0000-01-01T00:00:00.000Z`, the earliest instant with a four-digit year.
const MIN_MILLIS: i64 = -62_167_219_200_000;
/// `9999-12-31T23:59:59.999Z`, the latest instant with a four-digit year.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// A string that is not an RFC 3339 date-time (or lies outside years 0000..=9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 date-time (like 2026-01-27T10:30:01.234Z)")]
pub struct ParseTimestampError;

/// An instant in UTC, in whole milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The epoch itself.
    pub const EPOCH: Self = Self(0);

    /// From Unix epoch milliseconds.
    #[must_use]
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Unix epoch milliseconds.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// This instant plus `millis` (saturating).
    #[must_use]
    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    #[must_use]
    pub const fn millis_since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (clamped to years 0000..=9999).
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        let millis = self.0.clamp(MIN_MILLIS, MAX_MILLIS);
        match OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000) {
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
            // Unreachable after the clamp; the epoch keeps the function total.
            Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
        }
    }

    /// Parses an RFC 3339 date-time (any offset, any fraction), rounding sub-millisecond
    /// fractions down.
    ///
    /// # Errors
    /// [`ParseTimestampError`] when `raw` does not parse or lies outside years 0000..=9999.
    pub fn parse_rfc3339(raw: &str) -> Result<Self, ParseTimestampError> {
        let parsed =
            OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| ParseTimestampError)?;
        let millis = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
        i64::try_from(millis)
            .ok()
            .filter(|m| (MIN_MILLIS..=MAX_MILLIS).contains(m))
            .map(Self)
            .ok_or(ParseTimestampError)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_orders() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(t.plus_millis(500).millis(), 1_500);
        assert_eq!(t.plus_millis(500).millis_since(t), 500);
        assert_eq!(
            Timestamp::from_millis(i64::MAX).plus_millis(1).millis(),
            i64::MAX
        );
        assert!(Timestamp::EPOCH < t);
    }

    #[test]
    fn rfc3339_round_trips_with_milliseconds_and_z() {
        let cases = [
            ("2026-01-27T10:30:01.234Z", 1_769_509_801_234),
            ("2026-01-27T11:30:01.234+01:00", 1_769_509_801_234),
            ("2026-01-27T10:30:01.2349Z", 1_769_509_801_234),
            ("1970-01-01T00:00:00Z", 0),
        ];
        for (raw, millis) in cases {
            assert_eq!(
                Timestamp::parse_rfc3339(raw),
                Ok(Timestamp::from_millis(millis)),
                "{raw}"
            );
        }
        assert_eq!(
            Timestamp::from_millis(1_769_509_801_234).to_rfc3339(),
            "2026-01-27T10:30:01.234Z"
        );
        assert_eq!(Timestamp::EPOCH.to_rfc3339(), "1970-01-01T00:00:00.000Z");
        for bad in ["yesterday", "2026-01-27", "", "2026-13-01T00:00:00Z"] {
            assert_eq!(
                Timestamp::parse_rfc3339(bad),
                Err(ParseTimestampError),
                "{bad}"
            );
        }
    }
}
