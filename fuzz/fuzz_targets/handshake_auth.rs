//! The handshake's `auth` object: any JSON gives an `auth` or `validation`, never a panic.
#![no_main]

use chat_protocol::{HandshakeRefusal, inbound::HandshakeAuth};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let raw = serde_json::from_slice::<Value>(data).ok();
    match HandshakeAuth::from_json(raw) {
        Ok(auth) => {
            if let Err(refusal) = auth.sequences() {
                assert_eq!(refusal, HandshakeRefusal::Validation);
            }
        }
        Err(refusal) => assert_eq!(refusal, HandshakeRefusal::Validation),
    }
});
