//! [`JwtTokenVerifier`]: the jsonwebtoken adapter of the [`TokenVerifier`] port.
//!
//! The key and the [`Validation`] are built once, in [`JwtTokenVerifier::new`]. Only the
//! configured algorithm is accepted, so `alg: none` and algorithm confusion fail before any
//! signature check. Tokens are never logged.

use std::fmt;

use chat_domain::{
    ids::UserId,
    ports::{TokenError, TokenVerifier, VerifiedToken},
    time::Timestamp,
    user::DisplayName,
};
use jsonwebtoken::{DecodingKey, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Number, Value};
use uuid::Uuid;

use crate::{
    algorithm::JwtAlgorithm,
    config::{AuthConfig, VerificationKey},
    error::AuthConfigError,
};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (jsonwebtoken's default is 60).
pub const LEEWAY_SECS: u64 = chat_domain::ports::TOKEN_LEEWAY_SECS;

/// Longest token accepted, in bytes; longer ones are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Verifies JWTs with one key and one algorithm.
pub struct JwtTokenVerifier {
    key: DecodingKey,
    validation: Validation,
    algorithm: JwtAlgorithm,
}

/// The claims this crate reads; `exp`, `nbf`, `iss` and `aud` are checked by jsonwebtoken.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: Number,
    #[serde(default)]
    iat: Option<Number>,
    #[serde(default)]
    name: Option<Value>,
}

impl JwtTokenVerifier {
    /// Builds the decoding key and the validation rules from `cfg`.
    ///
    /// # Errors
    /// [`AuthConfigError`] when the key does not suit the algorithm, the secret is empty, the
    /// PEM is not a public key of that algorithm, or an expected `iss`/`aud` is empty.
    pub fn new(cfg: AuthConfig) -> Result<Self, AuthConfigError> {
        let algorithm = cfg.algorithm;
        let key = decoding_key(&cfg.key, algorithm)?;

        let mut validation = Validation::new(algorithm.to_jwt());
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &cfg.issuer {
            if issuer.is_empty() {
                return Err(AuthConfigError::EmptyExpectedClaim { claim: "iss" });
            }
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &cfg.audience {
            Some(audience) if audience.is_empty() => {
                return Err(AuthConfigError::EmptyExpectedClaim { claim: "aud" });
            }
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // "When set, aud must match": with no audience configured, a token's `aud` is not
            // our business (jsonwebtoken would otherwise refuse any token that carries one).
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);

        Ok(Self {
            key,
            validation,
            algorithm,
        })
    }

    /// The one algorithm this verifier accepts.
    #[must_use]
    pub const fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }
}

fn decoding_key(
    key: &VerificationKey,
    algorithm: JwtAlgorithm,
) -> Result<DecodingKey, AuthConfigError> {
    let pem = match (key, algorithm) {
        (VerificationKey::Secret(secret), JwtAlgorithm::Hs256) => {
            let bytes = secret.expose_secret().as_bytes();
            if bytes.is_empty() {
                return Err(AuthConfigError::EmptySecret);
            }
            return Ok(DecodingKey::from_secret(bytes));
        }
        (VerificationKey::Secret(_), algorithm) => {
            return Err(AuthConfigError::SecretWithAsymmetricAlgorithm { algorithm });
        }
        (VerificationKey::PublicKeyPem(_), JwtAlgorithm::Hs256) => {
            return Err(AuthConfigError::PublicKeyWithHs256);
        }
        (VerificationKey::PublicKeyPem(pem), _) => pem,
    };
    if contains(pem, b"PRIVATE KEY-----") {
        return Err(AuthConfigError::PrivateKeyGiven);
    }
    let parsed = match algorithm {
        JwtAlgorithm::Rs256 => DecodingKey::from_rsa_pem(pem),
        JwtAlgorithm::Es256 => DecodingKey::from_ec_pem(pem),
        // HS256 with a PEM was refused above.
        JwtAlgorithm::EdDsa | JwtAlgorithm::Hs256 => DecodingKey::from_ed_pem(pem),
    };
    parsed.map_err(|e| AuthConfigError::InvalidPublicKey {
        algorithm,
        reason: e.to_string(),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl TokenVerifier for JwtTokenVerifier {
    fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?
            .claims;

        // Strict: no trimming, so " <uuid>" is not a user id.
        let user_id = Uuid::parse_str(&claims.sub)
            .map(UserId::new)
            .map_err(|_| TokenError::Invalid)?;
        let expires_at = numeric_date_millis(&claims.exp).ok_or(TokenError::Invalid)?;
        let mut issued_at = None;
        if let Some(iat) = &claims.iat {
            let iat = numeric_date_millis(iat).ok_or(TokenError::Invalid)?;
            issued_at = Some(iat);
            let latest_secs = jsonwebtoken::get_current_timestamp().saturating_add(LEEWAY_SECS);
            let latest = i64::try_from(latest_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            if iat.millis() > latest {
                // Issued in the future, beyond the leeway.
                return Err(TokenError::Invalid);
            }
        }
        // An unusable name is ignored, not a reason to refuse the token.
        let name = match &claims.name {
            Some(Value::String(raw)) => DisplayName::new(raw).ok(),
            _ => None,
        };
        Ok(VerifiedToken {
            user_id,
            name,
            expires_at,
            issued_at,
        })
    }
}

/// A JWT NumericDate (seconds, possibly fractional) as epoch milliseconds; `None` when it is
/// negative or out of range.
fn numeric_date_millis(n: &Number) -> Option<Timestamp> {
    let millis = match n.as_u64() {
        Some(secs) => i64::try_from(secs.checked_mul(1000)?).ok()?,
        None => {
            let secs = n.as_f64()?;
            if !secs.is_finite() || secs < 0.0 || secs * 1000.0 >= i64::MAX as f64 {
                return None;
            }
            // In range (checked above); sub-millisecond precision is dropped.
            (secs * 1000.0).floor() as i64
        }
    };
    Some(Timestamp::from_millis(millis))
}

impl fmt::Debug for JwtTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtTokenVerifier")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .finish_non_exhaustive()
    }
}
