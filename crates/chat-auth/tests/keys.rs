//! Algorithms and keys: RS256, ES256 and EdDSA with real (test-only) keys, algorithm confusion,
//! issuer and audience, and configuration errors.

mod common;

use chat_auth::{AuthConfig, AuthConfigError, JwtAlgorithm, JwtTokenVerifier, VerificationKey};
use chat_domain::{ids::UserId, ports::TokenError};
use common::*;
use jsonwebtoken::Algorithm;
use secrecy::SecretString;
use serde_json::{Value, json};

#[test]
fn algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused() {
    let verifier = JwtTokenVerifier::new(AuthConfig::public_key(
        JwtAlgorithm::Rs256,
        RSA_PUBLIC.to_vec(),
    ))
    .unwrap();
    let forged = hs(Algorithm::HS256, RSA_PUBLIC, &valid_claims());
    assert_eq!(outcome(&verifier, &forged), Err(TokenError::Invalid));
}

#[test]
fn asymmetric_algorithms_verify_with_real_keys_and_refuse_the_others() {
    let signed = [
        (
            JwtAlgorithm::Rs256,
            RSA_PUBLIC,
            asymmetric(Algorithm::RS256, RSA_PRIVATE),
        ),
        (
            JwtAlgorithm::Es256,
            EC_PUBLIC,
            asymmetric(Algorithm::ES256, EC_PRIVATE),
        ),
        (
            JwtAlgorithm::EdDsa,
            ED_PUBLIC,
            asymmetric(Algorithm::EdDSA, ED_PRIVATE),
        ),
    ];
    for (alg, public, _) in &signed {
        let verifier =
            JwtTokenVerifier::new(AuthConfig::public_key(*alg, public.to_vec())).unwrap();
        assert_eq!(verifier.algorithm(), *alg);
        for (token_alg, _, token) in &signed {
            let expected = if token_alg == alg {
                Ok(UserId::new(user()))
            } else {
                Err(TokenError::Invalid)
            };
            assert_eq!(
                outcome(&verifier, token),
                expected,
                "{token_alg} token, {alg} verifier"
            );
        }
        let hs_token = hs256(&valid_claims());
        assert_eq!(
            outcome(&verifier, &hs_token),
            Err(TokenError::Invalid),
            "HS256 vs {alg}"
        );
    }
}

#[test]
fn issuer_and_audience_are_checked_when_configured() {
    let mut cfg = AuthConfig::hs256(SecretString::from(SECRET));
    cfg.issuer = Some("https://auth.example".to_owned());
    cfg.audience = Some("chat".to_owned());
    let verifier = JwtTokenVerifier::new(cfg).unwrap();
    let (sub, exp) = (user().to_string(), now() + 60);
    let ok = Ok(UserId::new(user()));
    let cases: Vec<(&str, Value, Result<UserId, TokenError>)> = vec![
        (
            "both match",
            json!({"sub": sub, "exp": exp, "iss": "https://auth.example", "aud": "chat"}),
            ok,
        ),
        (
            "aud list holds ours",
            json!({"sub": sub, "exp": exp, "iss": "https://auth.example", "aud": ["x", "chat"]}),
            ok,
        ),
        (
            "wrong iss",
            json!({"sub": sub, "exp": exp, "iss": "https://evil.example", "aud": "chat"}),
            Err(TokenError::Invalid),
        ),
        (
            "wrong aud",
            json!({"sub": sub, "exp": exp, "iss": "https://auth.example", "aud": "other"}),
            Err(TokenError::Invalid),
        ),
        (
            "missing iss",
            json!({"sub": sub, "exp": exp, "aud": "chat"}),
            Err(TokenError::Invalid),
        ),
        (
            "missing aud",
            json!({"sub": sub, "exp": exp, "iss": "https://auth.example"}),
            Err(TokenError::Invalid),
        ),
    ];
    for (name, claims, expected) in cases {
        assert_eq!(outcome(&verifier, &hs256(&claims)), expected, "{name}");
    }
}

/// The error without the key parser's wording, to compare in a table.
fn shape(e: AuthConfigError) -> AuthConfigError {
    match e {
        AuthConfigError::InvalidPublicKey { algorithm, .. } => AuthConfigError::InvalidPublicKey {
            algorithm,
            reason: String::new(),
        },
        other => other,
    }
}

#[test]
fn mismatched_or_bad_keys_are_config_errors() {
    use AuthConfigError as E;
    use JwtAlgorithm::{EdDsa, Es256, Hs256, Rs256};
    let secret = |s: &str| VerificationKey::Secret(SecretString::from(s));
    let pem = |bytes: &[u8]| VerificationKey::PublicKeyPem(bytes.to_vec());
    let invalid = |algorithm| E::InvalidPublicKey {
        algorithm,
        reason: String::new(),
    };
    let cases = [
        (
            "secret with RS256",
            secret(SECRET),
            Rs256,
            E::SecretWithAsymmetricAlgorithm { algorithm: Rs256 },
        ),
        (
            "secret with EdDSA",
            secret(SECRET),
            EdDsa,
            E::SecretWithAsymmetricAlgorithm { algorithm: EdDsa },
        ),
        (
            "PEM with HS256",
            pem(RSA_PUBLIC),
            Hs256,
            E::PublicKeyWithHs256,
        ),
        ("empty secret", secret(""), Hs256, E::EmptySecret),
        ("garbage PEM", pem(b"not a pem"), Rs256, invalid(Rs256)),
        ("EC key for RS256", pem(EC_PUBLIC), Rs256, invalid(Rs256)),
        ("RSA key for ES256", pem(RSA_PUBLIC), Es256, invalid(Es256)),
        ("RSA key for EdDSA", pem(RSA_PUBLIC), EdDsa, invalid(EdDsa)),
        (
            "Ed25519 key for ES256",
            pem(ED_PUBLIC),
            Es256,
            invalid(Es256),
        ),
        ("private key", pem(RSA_PRIVATE), Rs256, E::PrivateKeyGiven),
        ("EC private key", pem(EC_PRIVATE), Es256, E::PrivateKeyGiven),
    ];
    for (name, key, algorithm, expected) in cases {
        let cfg = AuthConfig {
            key,
            algorithm,
            issuer: None,
            audience: None,
        };
        let err = JwtTokenVerifier::new(cfg).unwrap_err();
        assert_eq!(shape(err), expected, "{name}");
    }

    let mut empty_iss = AuthConfig::hs256(SecretString::from(SECRET));
    empty_iss.issuer = Some(String::new());
    assert_eq!(
        JwtTokenVerifier::new(empty_iss).unwrap_err(),
        E::EmptyExpectedClaim { claim: "iss" }
    );
    let mut empty_aud = AuthConfig::hs256(SecretString::from(SECRET));
    empty_aud.audience = Some(String::new());
    assert_eq!(
        JwtTokenVerifier::new(empty_aud).unwrap_err(),
        E::EmptyExpectedClaim { claim: "aud" }
    );
}

#[test]
fn debug_output_reveals_no_key_material() {
    let verifier = hs256_verifier();
    let shown = format!("{verifier:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("Hs256"), "{shown}");
}

/// jsonwebtoken panics on first use when zero or two crypto backends are enabled (for instance by
/// feature unification across the workspace): fail with a clear message if that ever happens.
#[test]
fn exactly_one_crypto_backend_is_enabled() {
    let result = std::panic::catch_unwind(|| {
        let token = hs256(&valid_claims());
        outcome(&hs256_verifier(), &token)
    });
    assert!(
        matches!(result, Ok(Ok(_))),
        "jsonwebtoken needs exactly one crypto backend (rust_crypto)"
    );
}
