//! JWT authentication for the chat gateway: the jsonwebtoken adapter of the domain's
//! [`TokenVerifier`](chat_domain::ports::TokenVerifier) port, and an HS256 issuer for development.
//!
//! This is the one crate that uses jsonwebtoken, so it is where its crypto backend is chosen: the
//! workspace enables exactly `rust_crypto` (with none or two backends jsonwebtoken panics on the
//! first use). Tokens are never logged.
//!
//! The rules (contract, section 2): only the configured algorithm is accepted (`none` and
//! algorithm confusion are refused); `exp` is required and must be a number; `nbf` and `iat` are
//! honoured when present; the leeway is [`LEEWAY_SECS`]; `sub` is required and must be a UUID;
//! `iss` / `aud` are checked only when configured; an unusable `name` is ignored. An expired
//! token is [`TokenError::Expired`](chat_domain::ports::TokenError::Expired), an empty one
//! `Missing`, anything else `Invalid`.
//!
//! # Layout
//! - [`algorithm`]: [`JwtAlgorithm`] and its [`ParseAlgorithmError`].
//! - [`config`]: [`AuthConfig`], [`VerificationKey`] — plain config, no environment reading.
//! - [`verify`]: [`JwtTokenVerifier`], key and validation built once, error mapping.
//! - [`issue`]: [`HsTokenIssuer`], HS256 tokens `{sub, exp, iat, name?}`.
//! - [`error`]: [`AuthConfigError`], [`IssueError`].
//!
//! Test-only keys for RS256, ES256 and EdDSA live in `tests/keys/`.

pub mod algorithm;
pub mod config;
pub mod error;
pub mod issue;
pub mod verify;

pub use crate::{
    algorithm::{JwtAlgorithm, ParseAlgorithmError},
    config::{AuthConfig, VerificationKey},
    error::{AuthConfigError, IssueError},
    issue::HsTokenIssuer,
    verify::{JwtTokenVerifier, LEEWAY_SECS, MAX_TOKEN_BYTES},
};
