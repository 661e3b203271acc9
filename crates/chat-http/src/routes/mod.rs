//! The handlers, one module per group of routes, and the OpenAPI router that registers them
//! (one `routes!()` per path: utoipa-axum panics on two paths in one call).

pub(crate) mod blocks;
pub(crate) mod conversations;
pub(crate) mod health;
pub(crate) mod mutes;
pub(crate) mod reads;
pub(crate) mod users;

use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{openapi::ApiDoc, state::HttpState};

/// Every route of contract section 6, with its OpenAPI description.
pub(crate) fn api() -> OpenApiRouter<HttpState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(conversations::create_one_to_one))
        .routes(routes!(conversations::chat_list))
        .routes(routes!(conversations::messages))
        .routes(routes!(reads::mark_read))
        .routes(routes!(blocks::block))
        .routes(routes!(blocks::unblock))
        .routes(routes!(mutes::mute))
        .routes(routes!(mutes::unmute))
        .routes(routes!(users::my_blocks))
        .routes(routes!(users::my_mutes))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(health::openapi_json))
        .routes(routes!(health::asyncapi_json))
}
