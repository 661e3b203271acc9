//! `POST /conversations/{id}/mute` and `/unmute`: the REST twins of `mute:conversation` /
//! `unmute:conversation` (same effects, socket emissions included).

use axum::{Json, extract::State};

use chat_protocol::{inbound::MuteRequest, payload::MuteResult};

use crate::{
    auth::AuthUser,
    error::ApiError,
    extract::{ConversationPath, OptionalJsonBody},
    state::HttpState,
};

/// Mutes the conversation's notifications, until `mutedUntil` or until unmuted. Messages and
/// unread counts still flow.
#[utoipa::path(
    post,
    path = "/conversations/{id}/mute",
    tag = "actions",
    params(("id" = uuid::Uuid, Path, description = "The conversation")),
    request_body(
        content = MuteRequest,
        description = "Optional: left out (or `{}`), muted until unmuted"
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The mute in force", body = MuteResult),
        crate::openapi::ConversationAction,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id, conversation.id = %conversation.0))]
pub async fn mute(
    State(state): State<HttpState>,
    user: AuthUser,
    conversation: ConversationPath,
    OptionalJsonBody(body): OptionalJsonBody<MuteRequest>,
) -> Result<Json<MuteResult>, ApiError> {
    let until = body.validate()?;
    let mute = state
        .services
        .mutes
        .mute(user.user_id, conversation.0, until)
        .await?;
    Ok(Json(MuteResult::new(conversation.0, Some(&mute))))
}

/// Lifts your mute of the conversation (idempotent). A body, if any, is ignored.
#[utoipa::path(
    post,
    path = "/conversations/{id}/unmute",
    tag = "actions",
    params(("id" = uuid::Uuid, Path, description = "The conversation")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "No mute of yours stands", body = MuteResult),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 429, response = crate::openapi::TooManyRequests),
        crate::openapi::Authenticated,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id, conversation.id = %conversation.0))]
pub async fn unmute(
    State(state): State<HttpState>,
    user: AuthUser,
    conversation: ConversationPath,
) -> Result<Json<MuteResult>, ApiError> {
    state
        .services
        .mutes
        .unmute(user.user_id, conversation.0)
        .await?;
    Ok(Json(MuteResult::new(conversation.0, None)))
}
