//! `GET /users/me/blocks` and `GET /users/me/mutes`.

use axum::{Json, extract::State};

use chat_protocol::payload::{BlockEntry, MuteEntry};

use crate::{auth::AuthUser, error::ApiError, state::HttpState};

/// The blocks you made, in every conversation.
#[utoipa::path(
    get,
    path = "/users/me/blocks",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your blocks", body = [BlockEntry]),
        crate::openapi::Authenticated,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id))]
pub async fn my_blocks(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<Json<Vec<BlockEntry>>, ApiError> {
    let blocks = state
        .services
        .conversations
        .list_blocks(user.user_id)
        .await?;
    Ok(Json(blocks.iter().map(BlockEntry::from).collect()))
}

/// Your mutes in force now.
#[utoipa::path(
    get,
    path = "/users/me/mutes",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Your mutes", body = [MuteEntry]),
        crate::openapi::Authenticated,
    )
)]
#[tracing::instrument(skip_all, fields(user.id = %user.user_id))]
pub async fn my_mutes(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<Json<Vec<MuteEntry>>, ApiError> {
    let mutes = state
        .services
        .conversations
        .list_mutes(user.user_id)
        .await?;
    Ok(Json(mutes.iter().map(MuteEntry::from).collect()))
}
