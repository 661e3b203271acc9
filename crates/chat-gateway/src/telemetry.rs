//! Logs and metrics.
//!
//! # What never reaches the log
//! Tokens and message contents, at every level. Two places could print them:
//! - the HTTP request span: it records the path and the query with every value but those of a
//!   few known-harmless keys redacted ([`redact_query`]), so `?token=…` on a Socket.IO
//!   handshake never shows;
//! - the libraries that handle the wire: socketioxide prints the handshake `auth` and every
//!   packet at debug (`auth: …`, `received message: …`, `Packet: …`) and trace (its parser),
//!   engineioxide every packet at debug (`sending packet`, `emitting eio msg`) and trace
//!   (polling `sending data`), tungstenite every frame at trace. Their targets are capped at
//!   info whatever `RUST_LOG` asks ([`WIRE_TARGETS`]): a filter, not a redacting layer, because
//!   a filter cannot miss a line a future version adds, where a redactor would have to know
//!   every format.

use std::sync::OnceLock;

use axum::http::Request;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::Span;
use tracing_subscriber::{
    EnvFilter,
    filter::{LevelFilter, Targets},
    layer::SubscriberExt as _,
    util::SubscriberInitExt as _,
};

/// Targets whose debug and trace lines print what crosses the wire (handshake `auth`, packets,
/// frames, rejected bodies), with the most verbose level they may log at. Prefixes: `socketioxide`
/// covers `socketioxide_core`, `socketioxide_redis` and the parser crates, `engineioxide`
/// `engineioxide_core`, `hyper` `hyper_util`.
pub const WIRE_TARGETS: &[(&str, LevelFilter)] = &[
    ("socketioxide", LevelFilter::INFO),
    ("engineioxide", LevelFilter::INFO),
    ("tungstenite", LevelFilter::INFO),
    ("tokio_tungstenite", LevelFilter::INFO),
    ("hyper", LevelFilter::INFO),
    ("axum::rejection", LevelFilter::DEBUG),
];

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), with the wire libraries capped
/// ([`WIRE_TARGETS`]).
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let cap = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(WIRE_TARGETS.iter().copied());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(cap)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .try_init();
}

/// Query keys whose values are kept in the request span: Engine.IO's own and the REST paging
/// parameters. Every other value is a possible secret (`token`, and Engine.IO's `sid`, which
/// lets whoever holds it poll as that session).
const HARMLESS_QUERY_KEYS: &[&str] = &[
    "EIO",
    "transport",
    "t",
    "b64",
    "j",
    "limit",
    "offset",
    "beforeSequence",
    "afterSequence",
    "from",
    "to",
];

/// The query with every value but those of [`HARMLESS_QUERY_KEYS`] replaced by `[redacted]`
/// (keys are compared percent-decoded, as the handlers read them); a pair whose key is not a
/// plain name is redacted whole.
#[must_use]
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let raw_key = pair.split_once('=').map_or(pair, |(k, _)| k);
            let key = form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            if pair.is_empty() || HARMLESS_QUERY_KEYS.contains(&key.as_str()) {
                pair.to_owned()
            } else if !raw_key.is_empty()
                && raw_key.len() <= 32
                && raw_key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                format!("{raw_key}=[redacted]")
            } else {
                "[redacted]".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The span of one HTTP request: method, path and redacted query ([`redact_query`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let uri = request.uri();
        let span = tracing::info_span!(
            "request",
            http.method = %request.method(),
            http.path = %uri.path(),
            http.query = tracing::field::Empty,
        );
        if let Some(query) = uri.query() {
            span.record("http.query", tracing::field::display(redact_query(query)));
        }
        span
    }
}

/// The request tracing layer: one span per request ([`RequestSpan`]).
#[must_use]
pub fn trace_layer()
-> tower_http::trace::TraceLayer<tower_http::trace::HttpMakeClassifier, RequestSpan> {
    tower_http::trace::TraceLayer::new_for_http().make_span_with(RequestSpan)
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use (the recorder is global). `None`
/// if another recorder was installed first. Upkeep runs at each render ([`render`]).
pub fn prometheus() -> Option<PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
                ])
                .ok()?
                .install_recorder()
                .ok()?;
            Some(handle)
        })
        .clone()
}

/// The Prometheus text of every metric.
#[must_use]
pub fn render(handle: &PrometheusHandle) -> String {
    handle.run_upkeep();
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_the_query_are_redacted_and_engine_io_keys_kept() {
        let cases = [
            (
                "EIO=4&transport=websocket&token=eyJ.a.b",
                "EIO=4&transport=websocket&token=[redacted]",
            ),
            ("token=eyJ.a.b&EIO=4", "token=[redacted]&EIO=4"),
            // the handlers decode keys: an encoded `token` is a token too
            ("tok%65n=eyJ.a.b", "[redacted]"),
            ("EIO=4&deviceId=d&Token=x", "EIO=4&deviceId=[redacted]&Token=[redacted]"),
            (
                "EIO=4&transport=polling&sid=abc",
                "EIO=4&transport=polling&sid=[redacted]",
            ),
            ("limit=20&beforeSequence=9", "limit=20&beforeSequence=9"),
            // a bare value, or a key that is no plain name, goes whole
            ("eyJ.a.b", "[redacted]"),
            ("a%20b=secret", "[redacted]"),
            ("", ""),
        ];
        for (query, expected) in cases {
            assert_eq!(redact_query(query), expected, "{query}");
        }
    }
}
