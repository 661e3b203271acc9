//! Extractors whose every rejection is a `validation` problem (axum's own answer in plain text):
//! JSON bodies, query strings and the conversation id of the path.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
};
use chat_domain::ConversationId;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body. The content type must be `application/json` (or `…+json`).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// A JSON request body that may be left out: an empty body stands for `T::default()`.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub T);

/// A query string.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

/// The `{id}` of a `/conversations/{id}/…` path.
#[derive(Debug, Clone, Copy)]
pub struct ConversationPath(pub ConversationId);

fn is_json(parts_headers: &axum::http::HeaderMap) -> bool {
    parts_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

fn body_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::validation(format!(
            "the request body could not be read: {}",
            rejection.body_text()
        ))
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_data() {
            "has a bad or missing field"
        } else {
            "is not valid JSON"
        };
        ApiError::validation(format!("the request body {what}: {e}"))
    })
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<(bool, Bytes), ApiError> {
    let json = is_json(req.headers());
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|r| body_error(&r))?;
    Ok((json, bytes))
}

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (json, bytes) = read_body(req, state).await?;
        if !json {
            return Err(ApiError::validation(
                "the content type must be application/json",
            ));
        }
        parse_json(&bytes).map(Self)
    }
}

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (json, bytes) = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        if !json {
            return Err(ApiError::validation(
                "the content type must be application/json",
            ));
        }
        parse_json(&bytes).map(Self)
    }
}

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|r| ApiError::validation(r.body_text()))
    }
}

impl<S> FromRequestParts<S> for ConversationPath
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::validation(r.body_text()))?;
        ConversationId::parse(&raw)
            .map(Self)
            .map_err(|e| ApiError::validation(format!("the path's {e}")))
    }
}
