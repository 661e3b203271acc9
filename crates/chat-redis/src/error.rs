//! Errors of connecting, and the mapping of fred's errors onto the ports' [`RepoError`].

use chat_domain::error::RepoError;
use fred::error::{Error, ErrorKind};

/// Connecting to Redis failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The configuration was refused (bad URL, pool size of zero).
    #[error("invalid Redis configuration: {0}")]
    Config(String),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to Redis")]
    Connect(#[source] Error),
}

/// Whether `error` is an outage (the same command may succeed later) rather than a bug.
pub(crate) fn is_outage(error: &Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::IO
            | ErrorKind::Timeout
            | ErrorKind::Canceled
            | ErrorKind::Backpressure
            | ErrorKind::Cluster
            | ErrorKind::Routing
            | ErrorKind::Sentinel
            | ErrorKind::Auth
    ) || error.details().starts_with("LOADING")
        || error.details().starts_with("BUSY")
        || error.details().starts_with("TRYAGAIN")
        || error.details().starts_with("CLUSTERDOWN")
        || error.details().starts_with("MASTERDOWN")
}

/// Maps a fred error: outages to [`RepoError::Unavailable`], anything else (a bad reply, a
/// script error, corrupt data) to [`RepoError::Internal`].
pub(crate) fn repo_error(error: Error) -> RepoError {
    if is_outage(&error) {
        tracing::warn!(error = %error, "redis unavailable");
        RepoError::unavailable(error)
    } else {
        RepoError::internal(error)
    }
}

/// Data read from Redis that does not decode: a bug or a foreign writer under our prefix.
#[derive(Debug, thiserror::Error)]
#[error("corrupt value under {key}: {reason}")]
pub(crate) struct CorruptValue {
    pub(crate) key: String,
    pub(crate) reason: String,
}

/// Wraps a decoding failure of the value under `key`.
pub(crate) fn corrupt(key: &str, reason: impl ToString) -> RepoError {
    RepoError::internal(CorruptValue {
        key: key.to_owned(),
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_outages_and_bad_replies_are_not() {
        let cases = [
            (Error::new(ErrorKind::IO, "reset"), true),
            (Error::new(ErrorKind::Timeout, "timed out"), true),
            (Error::new(ErrorKind::Canceled, "canceled"), true),
            (Error::new(ErrorKind::Unknown, "LOADING dataset"), true),
            (Error::new(ErrorKind::Parse, "not an integer"), false),
            (Error::new(ErrorKind::Unknown, "ERR script failed"), false),
        ];
        for (error, outage) in cases {
            assert_eq!(is_outage(&error), outage, "{error:?}");
            let mapped = repo_error(error);
            assert_eq!(matches!(mapped, RepoError::Unavailable(_)), outage);
        }
    }
}
