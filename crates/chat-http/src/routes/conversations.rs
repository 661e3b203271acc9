//! `POST /conversations/create/one-to-one`, `GET /conversations/chat-list`,
//! `GET /conversations/{id}/messages`.

use axum::{Json, extract::State, http::StatusCode};
use chat_domain::{
    HistoryAnchor, HistoryQuery, PageLimit, ServerSequence, UserId, conversation::Created,
};

use chat_protocol::{
    inbound::CreateOneToOne,
    inbound::bounded_sequence,
    payload::{ChatList, ChatListItem, Conversation, History},
    time::parse_optional,
};

use crate::{
    auth::AuthUser,
    dto::{ChatListParams, HistoryParams, MAX_OFFSET},
    error::ApiError,
    extract::{ApiQuery, ConversationPath, JsonBody},
    state::HttpState,
};

/// Opens (or finds) your one-to-one conversation with another user.
#[utoipa::path(
    post,
    path = "/conversations/create/one-to-one",
    tag = "conversations",
    request_body = CreateOneToOne,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Conversation),
        (status = 200, description = "It already existed", body = Conversation),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        crate::openapi::Authenticated,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id))]
pub async fn create_one_to_one(
    State(state): State<HttpState>,
    user: AuthUser,
    JsonBody(body): JsonBody<CreateOneToOne>,
) -> Result<(StatusCode, Json<Conversation>), ApiError> {
    let other = UserId::new(body.participant_id);
    let (conversation, created) = state
        .services
        .conversations
        .create_one_to_one(user.user_id, other)
        .await?;
    let status = match created {
        Created::New => StatusCode::CREATED,
        Created::Existing => StatusCode::OK,
    };
    Ok((status, Json(Conversation::from(&conversation))))
}

/// A page of your conversations, newest activity first.
#[utoipa::path(
    get,
    path = "/conversations/chat-list",
    tag = "conversations",
    params(ChatListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the chat list", body = ChatList),
        (status = 400, response = crate::openapi::BadRequest),
        crate::openapi::Authenticated,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id))]
pub async fn chat_list(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiQuery(params): ApiQuery<ChatListParams>,
) -> Result<Json<ChatList>, ApiError> {
    let limit = match params.limit {
        Some(n) => PageLimit::new(n, PageLimit::CHAT_LIST_MAX)
            .map_err(|e| ApiError::validation(e.to_string()))?,
        None => PageLimit::CHAT_LIST_DEFAULT,
    };
    let offset = bounded_offset(params.offset)?;
    let list = state
        .services
        .conversations
        .chat_list(user.user_id, limit, offset)
        .await?;
    Ok(Json(ChatList {
        items: list.items.into_iter().map(ChatListItem::from).collect(),
        total: list.total,
        limit: limit.get(),
        offset,
    }))
}

/// `offset` (default 0) when at most [`MAX_OFFSET`], else `validation`.
fn bounded_offset(offset: Option<u64>) -> Result<u64, ApiError> {
    match offset {
        Some(n) if n > MAX_OFFSET => Err(ApiError::validation(format!(
            "offset must be at most {MAX_OFFSET}"
        ))),
        n => Ok(n.unwrap_or(0)),
    }
}

/// A sequence of the query when the store can hold it (at most 2^63 - 1), else `validation`.
fn query_sequence(n: Option<u64>, field: &str) -> Result<Option<u64>, ApiError> {
    n.map(|n| bounded_sequence(n, field))
        .transpose()
        .map_err(ApiError::from)
}

/// Turns the history query string into a domain query.
fn history_query(params: &HistoryParams) -> Result<HistoryQuery, ApiError> {
    let limit = match params.limit {
        Some(n) => PageLimit::new(n, PageLimit::HISTORY_MAX)
            .map_err(|e| ApiError::validation(e.to_string()))?,
        None => PageLimit::HISTORY_DEFAULT,
    };
    let offset = bounded_offset(params.offset)?;
    let before = query_sequence(params.before_sequence, "beforeSequence")?;
    let after = query_sequence(params.after_sequence, "afterSequence")?;
    let anchor = match (before, after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "give beforeSequence or afterSequence, not both",
            ));
        }
        (Some(_), None) | (None, Some(_)) if offset > 0 => {
            return Err(ApiError::validation(
                "offset cannot be combined with beforeSequence or afterSequence",
            ));
        }
        (Some(n), None) => HistoryAnchor::Before(ServerSequence::new(n)),
        (None, Some(n)) => HistoryAnchor::After(ServerSequence::new(n)),
        (None, None) => HistoryAnchor::Newest { offset },
    };
    let invalid = |e: chat_protocol::time::InvalidDateTime| ApiError::validation(e.to_string());
    let from = parse_optional(params.from.as_deref(), "from").map_err(invalid)?;
    let to = parse_optional(params.to.as_deref(), "to").map_err(invalid)?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::validation("from must not be after to"));
    }
    Ok(HistoryQuery {
        limit,
        anchor,
        from,
        to,
    })
}

/// A page of a conversation's messages, ascending by `serverSequence`. Without
/// `beforeSequence`/`afterSequence`: the newest `limit` (after skipping the newest `offset`).
#[utoipa::path(
    get,
    path = "/conversations/{id}/messages",
    tag = "conversations",
    params(("id" = uuid::Uuid, Path, description = "The conversation"), HistoryParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of history", body = History),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::Authenticated,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id, conversation.id = %conversation.0))]
pub async fn messages(
    State(state): State<HttpState>,
    user: AuthUser,
    conversation: ConversationPath,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> Result<Json<History>, ApiError> {
    let query = history_query(&params)?;
    let view = state
        .services
        .conversations
        .history(user.user_id, conversation.0, query)
        .await?;
    Ok(Json(History::from(view)))
}
