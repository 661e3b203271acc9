//! Presence: per connection (device socket) statuses aggregated into one per user.

/// A user's presence (aggregate) or one connection's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresenceStatus {
    /// At least one connected device is online.
    Online,
    /// Every connected device said away.
    Away,
    /// No device is connected.
    Offline,
}

/// A status a client may set with `presence:update`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status must be \"online\" or \"away\"")]
pub struct InvalidPresenceStatus;

impl PresenceStatus {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    /// Parses any of the three wire names.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "online" => Some(Self::Online),
            "away" => Some(Self::Away),
            "offline" => Some(Self::Offline),
            _ => None,
        }
    }

    /// Parses what a client may set: `online` or `away`.
    ///
    /// # Errors
    /// [`InvalidPresenceStatus`] for anything else, `offline` included.
    pub fn parse_settable(raw: &str) -> Result<Self, InvalidPresenceStatus> {
        match raw {
            "online" => Ok(Self::Online),
            "away" => Ok(Self::Away),
            _ => Err(InvalidPresenceStatus),
        }
    }
}

/// The aggregation rule over the statuses of a user's live connections.
#[must_use]
pub fn aggregate(connections: impl IntoIterator<Item = PresenceStatus>) -> PresenceStatus {
    let mut any = false;
    for status in connections {
        match status {
            PresenceStatus::Online => return PresenceStatus::Online,
            PresenceStatus::Away => any = true,
            PresenceStatus::Offline => {}
        }
    }
    if any {
        PresenceStatus::Away
    } else {
        PresenceStatus::Offline
    }
}

/// A user's aggregate before and after one change of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceChange {
    /// Before.
    pub before: PresenceStatus,
    /// After.
    pub after: PresenceStatus,
}

impl PresenceChange {
    /// The new aggregate, when it changed (then and only then `presence:changed` goes out).
    #[must_use]
    pub fn changed(self) -> Option<PresenceStatus> {
        (self.before != self.after).then_some(self.after)
    }
}

#[cfg(test)]
mod tests {
    use super::{PresenceStatus::*, *};

    #[test]
    fn aggregation_as_a_table() {
        let cases: [(&[PresenceStatus], PresenceStatus); 7] = [
            (&[], Offline),
            (&[Online], Online),
            (&[Away], Away),
            (&[Away, Away], Away),
            (&[Away, Online], Online),
            (&[Online, Away], Online),
            (&[Offline, Away], Away),
        ];
        for (conns, want) in cases {
            assert_eq!(aggregate(conns.iter().copied()), want, "{conns:?}");
        }
    }

    #[test]
    fn only_changes_of_the_aggregate_are_announced() {
        let cases = [
            (Offline, Online, Some(Online)),
            (Online, Online, None),
            (Online, Away, Some(Away)),
            (Away, Offline, Some(Offline)),
        ];
        for (before, after, want) in cases {
            assert_eq!(PresenceChange { before, after }.changed(), want);
        }
    }

    #[test]
    fn clients_may_set_online_or_away_only() {
        assert_eq!(PresenceStatus::parse_settable("online"), Ok(Online));
        assert_eq!(PresenceStatus::parse_settable("away"), Ok(Away));
        assert!(PresenceStatus::parse_settable("offline").is_err());
        assert!(PresenceStatus::parse_settable("Online").is_err());
        for s in [Online, Away, Offline] {
            assert_eq!(PresenceStatus::parse(s.as_str()), Some(s));
        }
    }
}
