//! The JWT algorithms a verifier may be configured with, by their JWT header names.

use std::{fmt, str::FromStr};

/// The one JWT algorithm a verifier accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret (the default).
    #[default]
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and an RSA public key.
    Rs256,
    /// ECDSA on P-256 with SHA-256 and an EC public key (PKCS#8 / SPKI PEM).
    Es256,
    /// Ed25519 with an Ed25519 public key.
    EdDsa,
}

impl JwtAlgorithm {
    /// The name used in the JWT header and in `CHAT_JWT_ALGORITHM`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Whether this algorithm verifies with a public key (everything but HS256).
    #[must_use]
    pub const fn is_asymmetric(self) -> bool {
        !matches!(self, Self::Hs256)
    }

    pub(crate) const fn to_jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Hs256 => jsonwebtoken::Algorithm::HS256,
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl FromStr for JwtAlgorithm {
    type Err = ParseAlgorithmError;

    /// Accepts exactly `HS256`, `RS256`, `ES256` and `EdDSA` (case-sensitive, as in JWT headers).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "HS256" => Ok(Self::Hs256),
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            "EdDSA" => Ok(Self::EdDsa),
            other => Err(ParseAlgorithmError {
                given: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JWT algorithm name other than `HS256`, `RS256`, `ES256` or `EdDSA`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported JWT algorithm {given:?}: expected HS256, RS256, ES256 or EdDSA")]
pub struct ParseAlgorithmError {
    /// The name that was given.
    pub given: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_parse_exactly() {
        for alg in [
            JwtAlgorithm::Hs256,
            JwtAlgorithm::Rs256,
            JwtAlgorithm::Es256,
            JwtAlgorithm::EdDsa,
        ] {
            assert_eq!(alg.as_str().parse::<JwtAlgorithm>(), Ok(alg));
            assert_eq!(alg.to_string(), alg.as_str());
        }
        for bad in ["", "hs256", "none", "HS384", "EDDSA", " HS256", "PS256"] {
            assert!(bad.parse::<JwtAlgorithm>().is_err(), "{bad:?} accepted");
        }
    }
}
