//! The errors of this crate: configuration and token issuing (an unknown algorithm name is the
//! `algorithm` module's `ParseAlgorithmError`).
//!
//! Token *verification* errors are the domain's [`chat_domain::ports::TokenError`]; the mapping
//! from jsonwebtoken's errors to it lives in the `verify` module.

use chat_domain::user::NewDisplayNameError;

use crate::algorithm::JwtAlgorithm;

/// Why an [`AuthConfig`](crate::AuthConfig) cannot build a verifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// An HS256 secret was given with an asymmetric algorithm.
    #[error("a shared secret cannot verify {algorithm} tokens: give a PEM public key")]
    SecretWithAsymmetricAlgorithm {
        /// The configured algorithm.
        algorithm: JwtAlgorithm,
    },
    /// A public key was given with HS256.
    #[error("HS256 needs a shared secret, not a public key")]
    PublicKeyWithHs256,
    /// The HS256 secret is empty.
    #[error("the HS256 secret is empty")]
    EmptySecret,
    /// The PEM holds a private key; only the public key belongs in the verifier.
    #[error("the PEM holds a private key: give the public key")]
    PrivateKeyGiven,
    /// The PEM could not be read as a public key of the configured algorithm.
    #[error("the PEM is not a valid {algorithm} public key ({reason})")]
    InvalidPublicKey {
        /// The configured algorithm.
        algorithm: JwtAlgorithm,
        /// What the key parser said.
        reason: String,
    },
    /// `issuer` or `audience` is set but empty.
    #[error("the expected `{claim}` is empty")]
    EmptyExpectedClaim {
        /// `iss` or `aud`.
        claim: &'static str,
    },
}

/// Why a token could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The display name is not a valid [`chat_domain::DisplayName`].
    #[error("invalid display name: {0}")]
    InvalidName(#[from] NewDisplayNameError),
    /// `now_secs + ttl_secs` does not fit a JWT NumericDate.
    #[error("the expiry overflows")]
    ExpiryOverflow,
    /// jsonwebtoken failed to sign (should not happen with HS256).
    #[error("signing failed ({reason})")]
    Signing {
        /// What jsonwebtoken said.
        reason: String,
    },
}
