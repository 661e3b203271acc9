//! [`HsTokenIssuer`]: signs HS256 tokens with the shared secret, for the `chat-gateway token`
//! command, the demo page and tests. Production tokens come from the identity provider.

use std::fmt;

use chat_domain::{ids::UserId, user::DisplayName};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::error::IssueError;

/// The latest `exp` whose milliseconds still fit a [`chat_domain::Timestamp`].
const MAX_EXP_SECS: u64 = i64::MAX.unsigned_abs() / 1000;

/// Issues HS256 tokens `{sub, exp, iat, name?}` that [`crate::JwtTokenVerifier`] accepts when
/// configured with the same secret.
pub struct HsTokenIssuer {
    key: EncodingKey,
}

#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    exp: u64,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl HsTokenIssuer {
    /// An issuer signing with `secret`.
    #[must_use]
    pub fn new(secret: &SecretString) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.expose_secret().as_bytes()),
        }
    }

    /// A token for `user`, issued at `now_secs` (Unix seconds) and valid for `ttl_secs`, with
    /// the display name `name` (validated and trimmed like any [`DisplayName`]) when given.
    ///
    /// # Errors
    /// [`IssueError::InvalidName`] for a bad name, [`IssueError::ExpiryOverflow`] when
    /// `now_secs + ttl_secs` overflows, [`IssueError::Signing`] if signing fails.
    pub fn issue(
        &self,
        user: UserId,
        name: Option<&str>,
        ttl_secs: u64,
        now_secs: u64,
    ) -> Result<String, IssueError> {
        let name = name.map(DisplayName::new).transpose()?;
        let exp = now_secs
            .checked_add(ttl_secs)
            .filter(|exp| *exp <= MAX_EXP_SECS)
            .ok_or(IssueError::ExpiryOverflow)?;
        let claims = IssuedClaims {
            sub: user.to_string(),
            exp,
            iat: now_secs,
            name: name.as_ref().map(DisplayName::as_str),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).map_err(|e| {
            IssueError::Signing {
                reason: e.to_string(),
            }
        })
    }
}

impl fmt::Debug for HsTokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsTokenIssuer").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::ports::TokenVerifier;
    use uuid::Uuid;

    use super::*;
    use crate::{AuthConfig, JwtTokenVerifier};

    fn secret() -> SecretString {
        SecretString::from("issuer-test-secret")
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn issued_token_round_trips_through_the_verifier() {
        let user = UserId::new(Uuid::new_v4());
        let now = now();
        let token = HsTokenIssuer::new(&secret())
            .issue(user, Some("  Ada "), 600, now)
            .unwrap();
        let verified = JwtTokenVerifier::new(AuthConfig::hs256(secret()))
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(verified.user_id, user);
        assert_eq!(verified.name.as_ref().map(DisplayName::as_str), Some("Ada"));
        assert_eq!(
            verified.expires_at.millis(),
            i64::try_from((now + 600) * 1000).unwrap()
        );
    }

    #[test]
    fn token_without_name_carries_none() {
        let user = UserId::new(Uuid::new_v4());
        let token = HsTokenIssuer::new(&secret())
            .issue(user, None, 60, now())
            .unwrap();
        let verified = JwtTokenVerifier::new(AuthConfig::hs256(secret()))
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(verified.name, None);
    }

    #[test]
    fn bad_name_and_overflowing_expiry_are_refused() {
        let issuer = HsTokenIssuer::new(&secret());
        let user = UserId::new(Uuid::new_v4());
        assert!(matches!(
            issuer.issue(user, Some("   "), 60, now()),
            Err(IssueError::InvalidName(_))
        ));
        assert_eq!(
            issuer.issue(user, None, u64::MAX, now()),
            Err(IssueError::ExpiryOverflow)
        );
    }
}
