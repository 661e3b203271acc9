//! The configuration loader: a TOML file of the fuzzer's text, and `CHAT_*` variables, give
//! settings or a configuration error, never a panic.
#![no_main]

use std::collections::BTreeMap;

use chat_gateway::config::{Settings, Sources, parse_toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line, when it has `=`, is one environment variable; the rest is the file.
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let mut env = BTreeMap::new();
    let file_text = match first.split_once('=') {
        Some((k, v)) if k.starts_with("CHAT_") => {
            env.insert(k.to_owned(), v.to_owned());
            rest
        }
        _ => &text,
    };
    let Ok(file) = parse_toml(file_text) else {
        return;
    };
    let _ = Settings::from_sources(&Sources::new(env, file));
});
