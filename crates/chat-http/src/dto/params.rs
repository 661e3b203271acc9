//! Query strings of the REST routes.

use serde::Deserialize;
use utoipa::IntoParams;

/// `GET /conversations/{id}/messages` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct HistoryParams {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Without `beforeSequence`/`afterSequence`: how many of the newest to skip (default 0).
    pub offset: Option<u64>,
    /// Page back: the newest `limit` messages before this sequence.
    pub before_sequence: Option<u64>,
    /// Catch up: the first `limit` messages after this sequence.
    pub after_sequence: Option<u64>,
    /// Only messages at or after this instant (RFC 3339).
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
    /// How many to skip (default 0).
    pub offset: Option<u64>,
}
