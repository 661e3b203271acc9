//! The error every port returns.

use std::error::Error as StdError;

/// A boxed error source from an adapter.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A port failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (see each port method for what it means).
    #[error("conflict")]
    Conflict,
    /// The backing service is down or timed out; the same request may succeed later.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else (a bug, corrupt data).
    #[error("storage failed")]
    Internal(#[source] BoxError),
}

impl RepoError {
    /// Wraps an outage.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    /// Wraps anything else.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }
}
