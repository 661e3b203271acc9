//! Query strings of the REST routes.

use serde::Deserialize;
use utoipa::IntoParams;

/// The largest `offset` a page may skip. Deeper history pages by `beforeSequence`, which costs
/// the same at any depth; no realistic chat list is longer.
pub const MAX_OFFSET: u64 = 100_000;

/// `GET /conversations/{id}/messages` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct HistoryParams {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Without `beforeSequence`/`afterSequence`: how many of the newest to skip, 0..=100000
    /// (default 0). A non-zero `offset` with either of them is `400 validation`.
    #[param(minimum = 0, maximum = 100_000)]
    pub offset: Option<u64>,
    /// Page back: the newest `limit` messages before this sequence (at most 2^63 - 1). Not
    /// with `afterSequence`: both together are `400 validation`.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    pub before_sequence: Option<u64>,
    /// Catch up: the first `limit` messages after this sequence (at most 2^63 - 1). Not with
    /// `beforeSequence`: both together are `400 validation`.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    pub after_sequence: Option<u64>,
    /// Only messages at or after this instant (RFC 3339); not after `to`.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Only messages at or before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// `GET /conversations/chat-list` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChatListParams {
    /// Page size, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// How many to skip, 0..=100000 (default 0).
    #[param(minimum = 0, maximum = 100_000)]
    pub offset: Option<u64>,
}
