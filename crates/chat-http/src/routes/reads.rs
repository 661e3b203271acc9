//! `POST /conversations/{id}/read`: the REST twin of `message:read` (same effects).

use axum::{Json, extract::State};
use chat_domain::service::MarkRead;
use chat_protocol::{inbound::ReadRequest, payload::ReadAck};

use crate::{
    auth::AuthUser,
    error::ApiError,
    extract::{ConversationPath, JsonBody},
    state::HttpState,
};

/// Moves your read marker forward (never back: an older target is acknowledged and changes
/// nothing), and tells your devices and the conversation.
#[utoipa::path(
    post,
    path = "/conversations/{id}/read",
    tag = "actions",
    params(("id" = uuid::Uuid, Path, description = "The conversation")),
    request_body = ReadRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your marker after the read", body = ReadAck),
        crate::openapi::ConversationAction,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id, conversation.id = %conversation.0))]
pub async fn mark_read(
    State(state): State<HttpState>,
    user: AuthUser,
    conversation: ConversationPath,
    JsonBody(body): JsonBody<ReadRequest>,
) -> Result<Json<ReadAck>, ApiError> {
    let target = body.validate()?;
    let ack = state
        .services
        .reads
        .mark_read(MarkRead {
            user_id: user.user_id,
            conversation_id: conversation.0,
            target,
        })
        .await?;
    Ok(Json(ReadAck::from(&ack)))
}
