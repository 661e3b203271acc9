//! Helpers shared by the integration tests: test keys, token builders, a table-friendly outcome.

#![allow(dead_code, reason = "each test binary uses a different subset")]
#![expect(clippy::unwrap_used, reason = "test helpers")]

use chat_auth::{AuthConfig, JwtTokenVerifier};
use chat_domain::{
    ids::UserId,
    ports::{TokenError, TokenVerifier},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

pub const SECRET: &str = "test-secret-of-reasonable-length";
pub const RSA_PRIVATE: &[u8] = include_bytes!("../keys/rsa_private.pem");
pub const RSA_PUBLIC: &[u8] = include_bytes!("../keys/rsa_public.pem");
pub const EC_PRIVATE: &[u8] = include_bytes!("../keys/ec_private.pem");
pub const EC_PUBLIC: &[u8] = include_bytes!("../keys/ec_public.pem");
pub const ED_PRIVATE: &[u8] = include_bytes!("../keys/ed25519_private.pem");
pub const ED_PUBLIC: &[u8] = include_bytes!("../keys/ed25519_public.pem");

pub fn now() -> i64 {
    i64::try_from(get_current_timestamp()).unwrap()
}

pub fn user() -> Uuid {
    Uuid::parse_str("0195f3a2-7b1c-7d4e-8f00-0123456789ab").unwrap()
}

pub fn hs256_verifier() -> JwtTokenVerifier {
    JwtTokenVerifier::new(AuthConfig::hs256(SecretString::from(SECRET))).unwrap()
}

pub fn hs(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

pub fn hs256(claims: &Value) -> String {
    hs(Algorithm::HS256, SECRET.as_bytes(), claims)
}

pub fn valid_claims() -> Value {
    json!({ "sub": user().to_string(), "exp": now() + 600, "name": "Ada" })
}

/// The result, with the verified user id only (enough to compare in tables).
pub fn outcome(verifier: &JwtTokenVerifier, token: &str) -> Result<UserId, TokenError> {
    verifier.verify(token).map(|v| v.user_id)
}

pub fn asymmetric(alg: Algorithm, private: &[u8]) -> String {
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(private),
        Algorithm::ES256 => EncodingKey::from_ec_pem(private),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(private),
        other => panic!("not an asymmetric test algorithm: {other:?}"),
    }
    .unwrap();
    encode(&Header::new(alg), &valid_claims(), &key).unwrap()
}
