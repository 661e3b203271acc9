//! Token verification on any input: a verified token or a token error, never a panic. Half of
//! the inputs are signed with the verifier's secret first (a header and claims of the fuzzer's
//! choice with a valid signature), so that the claims checks are reached too.
#![no_main]

use std::sync::OnceLock;

use chat_auth::{AuthConfig, JwtTokenVerifier};
use chat_domain::ports::TokenVerifier;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret-0123456789-0123456789";

fn verifier() -> &'static JwtTokenVerifier {
    static V: OnceLock<JwtTokenVerifier> = OnceLock::new();
    V.get_or_init(|| {
        JwtTokenVerifier::new(AuthConfig::hs256(SECRET.to_owned().into()))
            .expect("an HS256 verifier")
    })
}

/// `header.claims`, each base64url of the fuzzer's bytes, signed with [`SECRET`].
fn signed(data: &[u8]) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use hmac::{Hmac, Mac};
    let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (header, claims) = data.split_at(cut);
    let body = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(body.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{body}.{sig}")
}

fuzz_target!(|data: &[u8]| {
    let token = match data.split_first() {
        Some((0, rest)) => signed(rest),
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let _ = verifier().verify(&token);
});
