//! The OpenAPI 3.1 document: its info, the bearer security scheme, the shared schemas and the
//! reusable problem responses. The paths come from the `#[utoipa::path]` of each handler, as the
//! router registers them (`routes::api`).

use utoipa::{
    IntoResponses, Modify, OpenApi, ToResponse,
    openapi::{
        RefOr, Required, Schema,
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

use crate::error::{ErrorCode, Problem};

/// The name of the bearer security scheme the authenticated routes require.
pub const BEARER: &str = "bearer";

/// `400`: a malformed body, path or query, or a value the rules refuse.
#[derive(Debug, ToResponse)]
#[response(
    description = "`validation`: a bad or missing field, malformed JSON, a wrong content type, a non-UUID id or an out-of-range query parameter",
    content_type = "application/problem+json"
)]
pub struct BadRequest(pub Problem);

/// `400` of `POST /conversations/{id}/block` and `/unblock`: the rules of [`BadRequest`], and
/// the one the schema cannot say (contract 4.5).
#[derive(Debug, ToResponse)]
#[response(
    description = "`validation`: a bad or missing field, malformed JSON, a wrong content type or a non-UUID id; or `blockedUserId` is yourself or not a participant of this conversation",
    content_type = "application/problem+json"
)]
pub struct BlockBadRequest(pub Problem);

/// `401`: no token, or a bad or expired one.
#[derive(Debug, ToResponse)]
#[response(
    description = "`unauthorized`: missing, malformed, invalid or expired bearer token",
    content_type = "application/problem+json"
)]
pub struct Unauthorized(pub Problem);

/// `403`: the caller is not a participant (or there is no such conversation).
#[derive(Debug, ToResponse)]
#[response(
    description = "`not_participant`: not a participant of this conversation (also for unknown ids)",
    content_type = "application/problem+json"
)]
pub struct Forbidden(pub Problem);

/// `413`: the body is larger than the server accepts.
#[derive(Debug, ToResponse)]
#[response(
    description = "`validation`: the request body is too large",
    content_type = "application/problem+json"
)]
pub struct PayloadTooLarge(pub Problem);

/// `429`: over the quota.
#[derive(Debug, ToResponse)]
#[response(
    description = "`rate_limit_exceeded`: retry after `retryAfter` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds until the request may be retried"))
)]
pub struct TooManyRequests(pub Problem);

/// `500`: anything else.
#[derive(Debug, ToResponse)]
#[response(
    description = "`failed`: an internal error",
    content_type = "application/problem+json"
)]
pub struct InternalError(pub Problem);

/// `503`: storage is down.
#[derive(Debug, ToResponse)]
#[response(
    description = "`unavailable`: storage is unreachable; the same request may be retried",
    content_type = "application/problem+json"
)]
pub struct ServiceUnavailable(pub Problem);

/// The problems of every authenticated route: `401`, `500`, `503`.
#[derive(Debug, IntoResponses)]
pub enum Authenticated {
    /// No token, or a bad or expired one.
    #[response(status = 401)]
    Unauthorized(#[ref_response] Unauthorized),
    /// Anything else.
    #[response(status = 500)]
    InternalError(#[ref_response] InternalError),
    /// Storage is down.
    #[response(status = 503)]
    ServiceUnavailable(#[ref_response] ServiceUnavailable),
}

/// The problems of an action on a conversation with a body and a quota (`POST
/// /conversations/{id}/read`, `/block`, `/unblock`, `/mute`): those of [`Authenticated`], and
/// `400`, `403`, `413`, `429`.
#[derive(Debug, IntoResponses)]
pub enum ConversationAction {
    /// A malformed body or path.
    #[response(status = 400)]
    BadRequest(#[ref_response] BadRequest),
    /// No token, or a bad or expired one.
    #[response(status = 401)]
    Unauthorized(#[ref_response] Unauthorized),
    /// Not a participant.
    #[response(status = 403)]
    Forbidden(#[ref_response] Forbidden),
    /// The body is too large.
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    /// Over the quota.
    #[response(status = 429)]
    TooManyRequests(#[ref_response] TooManyRequests),
    /// Anything else.
    #[response(status = 500)]
    InternalError(#[ref_response] InternalError),
    /// Storage is down.
    #[response(status = 503)]
    ServiceUnavailable(#[ref_response] ServiceUnavailable),
}

/// The problems of `POST /conversations/{id}/block` and `/unblock`: those of
/// [`ConversationAction`], with [`BlockBadRequest`] for `400`.
#[derive(Debug, IntoResponses)]
pub enum BlockAction {
    /// A malformed body or path, or a target that is no other participant.
    #[response(status = 400)]
    BadRequest(#[ref_response] BlockBadRequest),
    /// No token, or a bad or expired one.
    #[response(status = 401)]
    Unauthorized(#[ref_response] Unauthorized),
    /// Not a participant.
    #[response(status = 403)]
    Forbidden(#[ref_response] Forbidden),
    /// The body is too large.
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    /// Over the quota.
    #[response(status = 429)]
    TooManyRequests(#[ref_response] TooManyRequests),
    /// Anything else.
    #[response(status = 500)]
    InternalError(#[ref_response] InternalError),
    /// Storage is down.
    #[response(status = 503)]
    ServiceUnavailable(#[ref_response] ServiceUnavailable),
}

/// Adds the bearer (JWT) security scheme.
#[derive(Debug)]
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What the derives cannot say, applied to the whole document once the routes have added their
/// paths and schemas (a [`Modify`] of [`ApiDoc`] runs before they do):
/// - `ReadRequest` needs at least one of its three fields, not `null` (`messageIds` not empty),
///   as `POST /conversations/{id}/read` and `message:read` require (contract 4: "at least
///   one"); a field given as `null` beside another is still accepted;
/// - the body of `POST /conversations/{id}/mute` may be left out (`required: false`);
/// - the public operations (`security(())`, which utoipa writes `[{}]`) say `security: []`,
///   overriding the document's bearer requirement.
pub(crate) fn amend(doc: &mut utoipa::openapi::OpenApi) {
    read_request_needs_a_target(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            if operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()))
            {
                operation.security = Some(Vec::new());
            }
            if path == "/conversations/{id}/mute"
                && let Some(RefOr::T(body)) = operation.request_body.as_mut()
            {
                body.required = Some(Required::False);
            }
        }
    }
}

fn read_request_needs_a_target(doc: &mut utoipa::openapi::OpenApi) {
    let Some(RefOr::T(Schema::Object(schema))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("ReadRequest"))
    else {
        tracing::error!("the ReadRequest schema is not an object: its anyOf is left out");
        return;
    };
    // utoipa's `Object` has no `anyOf` of its own; its extensions are written flattened into
    // the schema, whatever their name.
    schema
        .extensions
        .get_or_insert_with(Default::default)
        .insert(
            "anyOf".to_owned(),
            serde_json::json!([
                {
                    "required": ["lastReadSequence"],
                    "properties": { "lastReadSequence": { "type": "integer" } }
                },
                {
                    "required": ["lastReadAt"],
                    "properties": { "lastReadAt": { "type": "string" } }
                },
                {
                    "required": ["messageIds"],
                    "properties": { "messageIds": { "type": "array", "minItems": 1 } }
                }
            ]),
        );
}

/// The document's fixed parts.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Chat gateway REST API",
        description = "Conversations, history, read markers, blocks and mutes of the real-time chat gateway. Errors are `application/problem+json` with a `code`.",
        version = env!("CARGO_PKG_VERSION"),
    ),
    servers((url = "/", description = "This gateway (the origin that serves this document)")),
    security(("bearer" = [])),
    modifiers(&BearerScheme),
    components(
        schemas(Problem, ErrorCode),
        responses(
            BadRequest,
            BlockBadRequest,
            Unauthorized,
            Forbidden,
            PayloadTooLarge,
            TooManyRequests,
            InternalError,
            ServiceUnavailable
        )
    ),
    tags(
        (name = "conversations", description = "Conversations, the chat list and history"),
        (name = "actions", description = "Read markers, blocks and mutes"),
        (name = "users", description = "Your blocks and mutes"),
        (name = "operations", description = "Health, metrics and this document")
    )
)]
pub struct ApiDoc;
