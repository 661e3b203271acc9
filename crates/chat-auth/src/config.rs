//! The plain configuration of the verifier: which key, which one algorithm, and which `iss` /
//! `aud` are expected. Reading it from the environment is `chat-gateway`'s business.

use std::fmt;

use secrecy::SecretString;

use crate::algorithm::JwtAlgorithm;

/// The key tokens are verified with.
#[derive(Clone)]
pub enum VerificationKey {
    /// The HS256 shared secret.
    Secret(SecretString),
    /// A PEM public key (`-----BEGIN PUBLIC KEY-----`, or PKCS#1 for RSA); the configured
    /// algorithm decides how it is parsed.
    PublicKeyPem(Vec<u8>),
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret([REDACTED])"),
            Self::PublicKeyPem(pem) => write!(f, "PublicKeyPem({} bytes)", pem.len()),
        }
    }
}

/// How the verifier is built.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The key.
    pub key: VerificationKey,
    /// The one accepted algorithm; must agree with the kind of `key`.
    pub algorithm: JwtAlgorithm,
    /// When set, `iss` is required and must equal it.
    pub issuer: Option<String>,
    /// When set, `aud` is required and must contain it. When unset, `aud` is not checked.
    pub audience: Option<String>,
}

impl AuthConfig {
    /// HS256 with `secret`, no issuer or audience check.
    #[must_use]
    pub fn hs256(secret: SecretString) -> Self {
        Self {
            key: VerificationKey::Secret(secret),
            algorithm: JwtAlgorithm::Hs256,
            issuer: None,
            audience: None,
        }
    }

    /// `algorithm` (RS256, ES256 or EdDSA) with the PEM public key `pem`, no issuer or audience
    /// check.
    #[must_use]
    pub fn public_key(algorithm: JwtAlgorithm, pem: Vec<u8>) -> Self {
        Self {
            key: VerificationKey::PublicKeyPem(pem),
            algorithm,
            issuer: None,
            audience: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let cfg = AuthConfig::hs256(SecretString::from("hunter2-secret"));
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
