//! Page sizes and history queries.

use crate::{sequence::ServerSequence, time::Timestamp};

/// A page size out of its allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("limit must be between 1 and {max}")]
pub struct PageLimitError {
    /// The largest allowed.
    pub max: u32,
}

/// A validated page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    /// Chat list: 1..=100, default 20.
    pub const CHAT_LIST_MAX: u32 = 100;
    /// Chat list default.
    pub const CHAT_LIST_DEFAULT: Self = Self(20);
    /// History: 1..=200, default 50.
    pub const HISTORY_MAX: u32 = 200;
    /// History default.
    pub const HISTORY_DEFAULT: Self = Self(50);

    /// A page size in `1..=max`.
    ///
    /// # Errors
    /// [`PageLimitError`] when out of range.
    pub fn new(n: i64, max: u32) -> Result<Self, PageLimitError> {
        match u32::try_from(n) {
            Ok(v) if (1..=max).contains(&v) => Ok(Self(v)),
            _ => Err(PageLimitError { max }),
        }
    }

    /// The size.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// Which slice of a conversation's history to read. Results are always ascending by sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    /// How many at most.
    pub limit: PageLimit,
    /// Where to start.
    pub anchor: HistoryAnchor,
    /// Only messages created at or after this.
    pub from: Option<Timestamp>,
    /// Only messages created at or before this.
    pub to: Option<Timestamp>,
}

/// Where a history page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAnchor {
    /// The newest messages, skipping the newest `offset`.
    Newest {
        /// How many of the newest to skip.
        offset: u64,
    },
    /// The newest `limit` messages before this sequence (paging back).
    Before(ServerSequence),
    /// The first `limit` messages after this sequence (catching up).
    After(ServerSequence),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_as_a_table() {
        let cases = [
            (0, false),
            (1, true),
            (100, true),
            (101, false),
            (-1, false),
            (i64::MAX, false),
        ];
        for (n, ok) in cases {
            assert_eq!(
                PageLimit::new(n, PageLimit::CHAT_LIST_MAX).is_ok(),
                ok,
                "{n}"
            );
        }
        assert_eq!(
            PageLimit::new(200, PageLimit::HISTORY_MAX).unwrap().get(),
            200
        );
    }
}
