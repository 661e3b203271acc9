//! HS256 tokens against the claim rules of the contract (section 2): `exp`, `nbf`, `iat`,
//! `sub`, `name`, and malformed or forged tokens.

mod common;

use chat_domain::{
    ids::UserId,
    ports::{TokenError, TokenVerifier},
};
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

#[test]
fn valid_hs256_token_yields_its_claims() {
    let exp = now() + 600;
    let token = hs256(&json!({ "sub": user().to_string(), "exp": exp, "name": " Ada " }));
    let verified = hs256_verifier().verify(&token).unwrap();
    assert_eq!(verified.user_id, UserId::new(user()));
    assert_eq!(verified.name.unwrap().as_str(), "Ada");
    assert_eq!(verified.expires_at.millis(), exp * 1000);
}

#[test]
fn hs256_claim_rules() {
    let sub = user().to_string();
    let n = now();
    let ok = Ok(UserId::new(user()));
    let cases: Vec<(&str, Value, Result<UserId, TokenError>)> = vec![
        ("valid", json!({"sub": sub, "exp": n + 60}), ok),
        ("missing exp", json!({"sub": sub}), Err(TokenError::Invalid)),
        (
            "string exp",
            json!({"sub": sub, "exp": (n + 60).to_string()}),
            Err(TokenError::Invalid),
        ),
        (
            "null exp",
            json!({"sub": sub, "exp": null}),
            Err(TokenError::Invalid),
        ),
        (
            "fractional exp",
            json!({"sub": sub, "exp": (n + 60) as f64 + 0.5}),
            ok,
        ),
        (
            "expired 10 s ago (leeway)",
            json!({"sub": sub, "exp": n - 10}),
            ok,
        ),
        (
            "expired 31 s ago",
            json!({"sub": sub, "exp": n - 31}),
            Err(TokenError::Expired),
        ),
        (
            "expired an hour ago",
            json!({"sub": sub, "exp": n - 3600}),
            Err(TokenError::Expired),
        ),
        (
            "nbf 60 s ahead",
            json!({"sub": sub, "exp": n + 600, "nbf": n + 60}),
            Err(TokenError::Invalid),
        ),
        (
            "nbf 10 s ahead (leeway)",
            json!({"sub": sub, "exp": n + 600, "nbf": n + 10}),
            ok,
        ),
        (
            "nbf past",
            json!({"sub": sub, "exp": n + 600, "nbf": n - 60}),
            ok,
        ),
        (
            "string nbf",
            json!({"sub": sub, "exp": n + 600, "nbf": "0"}),
            Err(TokenError::Invalid),
        ),
        (
            "iat 60 s ahead",
            json!({"sub": sub, "exp": n + 600, "iat": n + 60}),
            Err(TokenError::Invalid),
        ),
        (
            "iat past",
            json!({"sub": sub, "exp": n + 600, "iat": n - 60}),
            ok,
        ),
        (
            "string iat",
            json!({"sub": sub, "exp": n + 600, "iat": "yesterday"}),
            Err(TokenError::Invalid),
        ),
        (
            "non-UUID sub",
            json!({"sub": "alice", "exp": n + 60}),
            Err(TokenError::Invalid),
        ),
        (
            "padded sub",
            json!({"sub": format!(" {sub}"), "exp": n + 60}),
            Err(TokenError::Invalid),
        ),
        (
            "numeric sub",
            json!({"sub": 42, "exp": n + 60}),
            Err(TokenError::Invalid),
        ),
        (
            "missing sub",
            json!({"exp": n + 60}),
            Err(TokenError::Invalid),
        ),
        (
            "aud with none configured",
            json!({"sub": sub, "exp": n + 60, "aud": "other"}),
            ok,
        ),
        (
            "iss with none configured",
            json!({"sub": sub, "exp": n + 60, "iss": "other"}),
            ok,
        ),
    ];
    let verifier = hs256_verifier();
    for (name, claims, expected) in cases {
        assert_eq!(outcome(&verifier, &hs256(&claims)), expected, "{name}");
    }
}

#[test]
fn unusable_name_is_ignored_not_refused() {
    let verifier = hs256_verifier();
    let long = "x".repeat(101);
    for name in [
        json!(""),
        json!("  "),
        json!("a\u{7}b"),
        json!(long),
        json!(7),
        json!(null),
    ] {
        let token = hs256(&json!({"sub": user().to_string(), "exp": now() + 60, "name": name}));
        let verified = verifier.verify(&token).unwrap();
        assert_eq!(verified.name, None, "{name}");
    }
}

#[test]
fn malformed_and_forged_tokens_are_invalid() {
    let verifier = hs256_verifier();
    let claims = valid_claims();
    let payload = hs256(&claims).split('.').nth(1).unwrap().to_owned();
    // {"alg":"none","typ":"JWT"} and {"alg":"None"}, base64url.
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    let none_capital = "eyJhbGciOiJOb25lIn0";
    let cases: Vec<(&str, String, TokenError)> = vec![
        ("empty", String::new(), TokenError::Missing),
        ("blank", "  ".to_owned(), TokenError::Missing),
        ("garbage", "not-a-jwt".to_owned(), TokenError::Invalid),
        ("two parts", "a.b".to_owned(), TokenError::Invalid),
        (
            "oversized",
            "a".repeat(chat_auth::MAX_TOKEN_BYTES + 1),
            TokenError::Invalid,
        ),
        (
            "wrong secret",
            hs(Algorithm::HS256, b"another-secret", &claims),
            TokenError::Invalid,
        ),
        (
            "alg none, no signature",
            format!("{none_header}.{payload}."),
            TokenError::Invalid,
        ),
        (
            "alg none, junk signature",
            format!("{none_header}.{payload}.c2ln"),
            TokenError::Invalid,
        ),
        (
            "alg None",
            format!("{none_capital}.{payload}."),
            TokenError::Invalid,
        ),
        (
            "HS384",
            hs(Algorithm::HS384, SECRET.as_bytes(), &claims),
            TokenError::Invalid,
        ),
        (
            "HS512",
            hs(Algorithm::HS512, SECRET.as_bytes(), &claims),
            TokenError::Invalid,
        ),
        (
            "expired and wrong secret",
            hs(
                Algorithm::HS256,
                b"another-secret",
                &json!({"sub": user().to_string(), "exp": 1}),
            ),
            TokenError::Invalid,
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(outcome(&verifier, &token), Err(expected), "{name}");
    }
}
