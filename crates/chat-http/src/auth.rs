//! The authenticated caller: `Authorization: Bearer <token>`, verified by the session service
//! (which records the user the first time it is seen).

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header, request::Parts},
};
use chat_domain::{DisplayName, UserId, service::Principal};

use crate::{error::ApiError, state::HttpState};

/// The user a request acts for. Rejects with `401 unauthorized` when the token is missing,
/// malformed, invalid or expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// Who, from the token's `sub`.
    pub user_id: UserId,
    /// The display name from the token, if any.
    pub name: Option<DisplayName>,
}

impl From<Principal> for AuthUser {
    fn from(p: Principal) -> Self {
        Self {
            user_id: p.user_id,
            name: p.name,
        }
    }
}

/// The token of a bearer `Authorization` header: `Ok(None)` without the header, an error when
/// it is there but not a bearer credential.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || ApiError::unauthorized("the Authorization header must be `Bearer <token>`");
    let value = value.to_str().map_err(|_| malformed())?.trim();
    let (scheme, token) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    Ok(Some(token.trim()))
}

impl FromRequestParts<HttpState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        let principal = state.services.sessions.authenticate(token).await?;
        Ok(principal.into())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: Option<&'static str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(v) = value {
            map.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn bearer_credentials_are_read_and_others_refused() {
        let cases = [
            (None, Ok(None)),
            (Some("Bearer abc"), Ok(Some("abc"))),
            (Some("bearer  abc "), Ok(Some("abc"))),
            (Some("Bearer"), Err(())),
            (Some("Basic dXNlcjpwdw=="), Err(())),
            (Some("abc"), Err(())),
        ];
        for (value, want) in cases {
            let map = headers(value);
            let got = bearer_token(&map).map_err(|_| ());
            assert_eq!(got, want, "{value:?}");
        }
    }
}
