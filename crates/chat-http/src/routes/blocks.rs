//! `POST /conversations/{id}/block` and `/unblock`: the REST twins of `block:user` /
//! `unblock:user` (same effects, socket emissions included).

use axum::{Json, extract::State};
use chat_domain::service::UnblockOutcome;
use chat_protocol::{inbound::BlockRequest, payload::BlockResult};

use crate::{
    auth::AuthUser,
    error::ApiError,
    extract::{ConversationPath, JsonBody},
    state::HttpState,
};

/// Blocks another participant of the conversation (idempotent).
#[utoipa::path(
    post,
    path = "/conversations/{id}/block",
    tag = "actions",
    params(("id" = uuid::Uuid, Path, description = "The conversation")),
    request_body = BlockRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The block stands", body = BlockResult),
        crate::openapi::BlockAction,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id, conversation.id = %conversation.0))]
pub async fn block(
    State(state): State<HttpState>,
    user: AuthUser,
    conversation: ConversationPath,
    JsonBody(body): JsonBody<BlockRequest>,
) -> Result<Json<BlockResult>, ApiError> {
    let target = body.validate()?;
    let block = state
        .services
        .blocks
        .block(user.user_id, conversation.0, target)
        .await?;
    Ok(Json(BlockResult::new(conversation.0, target, Some(&block))))
}

/// Lifts your block of another participant (idempotent).
#[utoipa::path(
    post,
    path = "/conversations/{id}/unblock",
    tag = "actions",
    params(("id" = uuid::Uuid, Path, description = "The conversation")),
    request_body = BlockRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "No block of yours stands", body = BlockResult),
        crate::openapi::BlockAction,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id, conversation.id = %conversation.0))]
pub async fn unblock(
    State(state): State<HttpState>,
    user: AuthUser,
    conversation: ConversationPath,
    JsonBody(body): JsonBody<BlockRequest>,
) -> Result<Json<BlockResult>, ApiError> {
    let target = body.validate()?;
    // Lifted or not blocked in the first place: either way no block of yours stands.
    let _outcome: UnblockOutcome = state
        .services
        .blocks
        .unblock(user.user_id, conversation.0, target)
        .await?;
    Ok(Json(BlockResult::new(conversation.0, target, None)))
}
