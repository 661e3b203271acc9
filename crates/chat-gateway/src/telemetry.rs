//! Logs.
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

use std::time::Duration;

use axum::{
    Router,
    http::{HeaderValue, Request, Response},
};
use tracing::Span;
use tracing_subscriber::{
    EnvFilter,
    filter::{LevelFilter, Targets},
    layer::SubscriberExt as _,
    util::SubscriberInitExt as _,
};

use crate::config::{LogFormat, LogSettings};

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

/// Below info unless `RUST_LOG` names them: sea-orm-migration announces every migration and
/// the status check at info on each start.
const QUIET_TARGETS: &[&str] = &["sea_orm_migration"];

/// Logs to stderr as text or JSON lines ([`LogSettings::format`]), filtered by `RUST_LOG`
/// ([`LogSettings::filter`], already checked), with the wire libraries capped
/// ([`WIRE_TARGETS`]) and [`QUIET_TARGETS`] at warn.
pub fn init_tracing(log: &LogSettings) {
    let mut filter = EnvFilter::try_new(&log.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in QUIET_TARGETS {
        if !log.filter.contains(target)
            && let Ok(directive) = format!("{target}=warn").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    let cap = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(WIRE_TARGETS.iter().copied());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (text, json) = match log.format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            ),
        ),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(cap)
        .with(text)
        .with(json)
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

/// A request id as logged: the one the client or a proxy sent when it is a plain token of at
/// most 64 characters, else `[invalid]` (a log line is no place for arbitrary client text).
fn loggable_request_id(value: Option<&HeaderValue>) -> &str {
    match value.and_then(|v| v.to_str().ok()) {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
        {
            id
        }
        Some(_) => "[invalid]",
        None => "",
    }
}

/// The span of one HTTP request, at info: method, path, redacted query ([`redact_query`]) and
/// request id (`x-request-id`, set by [`request_logging`] before the span is made).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let uri = request.uri();
        let query = uri.query().map(redact_query);
        tracing::info_span!(
            "request",
            http.method = %request.method(),
            http.path = %uri.path(),
            http.query = query.as_ref().map(tracing::field::display),
            request.id = %loggable_request_id(request.headers().get(REQUEST_ID)),
        )
    }
}

/// The access line: one per HTTP request, at info, target `chat_gateway::access` (so
/// `RUST_LOG=info,chat_gateway::access=warn` drops it). Method, path, query and request id
/// are the span's ([`RequestSpan`]); the line adds the status and the latency.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLog;

impl<B> tower_http::trace::OnResponse<B> for AccessLog {
    fn on_response(self, response: &Response<B>, latency: Duration, _: &Span) {
        let latency_ms = (latency.as_secs_f64() * 1e6).round() / 1e3;
        let status = response.status().as_u16();
        tracing::event!(
            target: "chat_gateway::access",
            tracing::Level::INFO,
            http.status = status,
            latency_ms,
            "request served"
        );
    }
}

const REQUEST_ID: &str = "x-request-id";

/// Wraps `router` so that every HTTP request (Socket.IO's included) gets an id (the client's
/// `x-request-id` when it sent one, else a new UUID), echoed in the response's `x-request-id`,
/// a span ([`RequestSpan`]) and one access line ([`AccessLog`]).
pub fn request_logging(router: Router) -> Router {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    // `layer` wraps what is there: the last one added runs first.
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(RequestSpan)
                .on_request(())
                .on_response(AccessLog),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
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
            (
                "EIO=4&deviceId=d&Token=x",
                "EIO=4&deviceId=[redacted]&Token=[redacted]",
            ),
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
