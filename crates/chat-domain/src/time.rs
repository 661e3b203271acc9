//! Instants, as the domain sees them: Unix epoch milliseconds (the contract's precision).

use std::fmt;

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
}
