//! A minimal Socket.IO v5 client over engine.io v4, WebSocket transport only: exactly what the
//! load generator needs and nothing more (no polling, no binary attachments, no namespaces but
//! `/`, no reconnection logic: the scenarios reconnect on purpose).
//!
//! Frames (engine.io packet type, then the Socket.IO packet type, then an optional ack id):
//! `0{..}` open, `2`/`3` ping/pong, `40{auth}` CONNECT `/`, `40{"sid"}` CONNECT ok,
//! `44{"message"}` CONNECT_ERROR, `42["event",payload]` EVENT, `42<id>[..]` EVENT asking for an
//! ack, `43<id>[..]` ACK, `41` / `1` disconnect / close.
//!
//! One tokio task per connection ([`Session::spawn`]) answers pings, writes the frames the
//! scenario asks for ([`Command`]) and reports what the scenario measures ([`Observation`]),
//! each stamped with the [`Instant`] its frame was read.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use futures::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use tokio::{
    net::{TcpSocket, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};

/// The origin of the nanosecond offsets carried in message contents (`bench <nanos>`), so the
/// receiving connection can tell when the message was meant to be sent.
#[must_use]
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The content of a benchmark message meant to be sent at `intended`.
#[must_use]
pub fn content_for(intended: Instant) -> String {
    let nanos = intended.saturating_duration_since(epoch()).as_nanos();
    format!("bench {nanos}")
}

/// The intended send time a benchmark message content carries.
#[must_use]
pub fn intended_of(content: &str) -> Option<Instant> {
    let nanos: u64 = content.strip_prefix("bench ")?.parse().ok()?;
    epoch().checked_add(Duration::from_nanos(nanos))
}

/// Where a server is: its socket address and the URLs built from it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The resolved address.
    pub addr: SocketAddr,
    /// `host:port` as given (the `Host` header).
    pub authority: String,
    /// `ws://host:port/socket.io/?EIO=4&transport=websocket`.
    pub ws_url: String,
    /// `http://host:port` (no trailing slash).
    pub base_url: String,
}

/// A URL the tool cannot use.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not `http://host:port` or `ws://host:port`.
    #[error("{0:?}: expected http://host:port or ws://host:port (TLS is not supported)")]
    Unsupported(String),
    /// The host does not resolve.
    #[error("{url:?} does not resolve: {source}")]
    Resolve {
        /// The URL.
        url: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Endpoint {
    /// Parses and resolves `http://host:port` (or `ws://`; a path is ignored).
    ///
    /// # Errors
    /// An unsupported scheme, or a host that does not resolve.
    pub async fn resolve(url: &str) -> Result<Self, EndpointError> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .ok_or_else(|| EndpointError::Unsupported(url.to_owned()))?;
        let authority = rest.split('/').next().unwrap_or_default().to_owned();
        if authority.is_empty() {
            return Err(EndpointError::Unsupported(url.to_owned()));
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            authority.clone()
        } else {
            format!("{authority}:80")
        };
        let addr = tokio::net::lookup_host(&with_port)
            .await
            .map_err(|source| EndpointError::Resolve {
                url: url.to_owned(),
                source,
            })?
            .next()
            .ok_or_else(|| EndpointError::Resolve {
                url: url.to_owned(),
                source: std::io::Error::other("no address"),
            })?;
        Ok(Self {
            addr,
            ws_url: format!("ws://{authority}/socket.io/?EIO=4&transport=websocket"),
            base_url: format!("http://{authority}"),
            authority,
        })
    }
}

/// Opens a TCP connection to `addr`, from `source` (any port) when given.
///
/// # Errors
/// Binding or connecting failed.
pub async fn tcp_connect(addr: SocketAddr, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// How to open one connection.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The server.
    pub endpoint: Arc<Endpoint>,
    /// The bearer token (`auth.token`).
    pub token: Arc<str>,
    /// `auth.deviceId`.
    pub device_id: Arc<str>,
    /// The local address to connect from.
    pub source_ip: Option<IpAddr>,
    /// Deadline for the whole handshake, up to the `connected` / `reconnected` greeting.
    pub timeout: Duration,
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP connect (or bind) failed.
    #[error("tcp: {0}")]
    Tcp(#[from] std::io::Error),
    /// The WebSocket upgrade failed.
    #[error("websocket: {0}")]
    WebSocket(String),
    /// The server refused the Socket.IO CONNECT (the message is the contract's code).
    #[error("refused: {0}")]
    Refused(String),
    /// The server said something the client did not expect, or closed.
    #[error("protocol: {0}")]
    Protocol(String),
    /// No greeting before the deadline.
    #[error("timed out")]
    Timeout,
}

impl ConnectError {
    /// A short label to count errors by.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Self::Tcp(e) => format!("tcp:{:?}", e.kind()),
            Self::WebSocket(_) => "websocket".to_owned(),
            Self::Refused(code) => format!("refused:{code}"),
            Self::Protocol(_) => "protocol".to_owned(),
            Self::Timeout => "timeout".to_owned(),
        }
    }
}

type Ws = WebSocketStream<TcpStream>;

/// An open, greeted connection not yet handed to its task.
#[derive(Debug)]
pub struct Session {
    ws: Ws,
    /// The server answered `reconnected` (a resumed session) rather than `connected`.
    pub resumed: bool,
}

/// A parsed inbound text frame.
#[derive(Debug, PartialEq, Eq)]
enum Inbound<'a> {
    Open,
    Ping,
    Close,
    Connected,
    ConnectError(&'a str),
    Disconnect,
    /// `name`, the payload text (JSON of the first argument, or empty), ack id asked for.
    Event(&'a str, &'a str, Option<u64>),
    /// ack id, the arguments array text.
    Ack(u64, &'a str),
    Other,
}

fn split_id(s: &str) -> (Option<u64>, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (None, s);
    }
    (s[..digits].parse().ok(), &s[digits..])
}

fn parse(frame: &str) -> Inbound<'_> {
    let mut chars = frame.char_indices();
    match chars.next() {
        Some((_, '0')) => Inbound::Open,
        Some((_, '1')) => Inbound::Close,
        Some((_, '2')) => Inbound::Ping,
        Some((_, '4')) => {
            let rest = &frame[1..];
            let Some(kind) = rest.chars().next() else {
                return Inbound::Other;
            };
            let body = &rest[1..];
            match kind {
                '0' => Inbound::Connected,
                '1' => Inbound::Disconnect,
                '4' => Inbound::ConnectError(body),
                '2' => {
                    let (id, args) = split_id(body);
                    // ["name",payload] or ["name"]
                    let Some(inner) = args.strip_prefix("[\"") else {
                        return Inbound::Other;
                    };
                    let Some(end) = inner.find('"') else {
                        return Inbound::Other;
                    };
                    let name = &inner[..end];
                    let after = &inner[end + 1..];
                    let payload = after
                        .strip_prefix(',')
                        .and_then(|p| p.strip_suffix(']'))
                        .unwrap_or("");
                    Inbound::Event(name, payload, id)
                }
                '3' => match split_id(body) {
                    (Some(id), args) => Inbound::Ack(id, args),
                    (None, _) => Inbound::Other,
                },
                _ => Inbound::Other,
            }
        }
        _ => Inbound::Other,
    }
}

fn auth_frame(token: &str, device_id: &str) -> String {
    let auth = serde_json::json!({ "token": token, "deviceId": device_id });
    format!("40{auth}")
}

/// The `message` of a CONNECT_ERROR (`{"message":"token_invalid"}`).
fn refusal_code(body: &str) -> String {
    #[derive(Deserialize)]
    struct Body {
        message: String,
    }
    serde_json::from_str::<Body>(body).map_or_else(|_| body.to_owned(), |b| b.message)
}

/// Opens a connection and waits for the greeting (`connected` or `reconnected`).
///
/// # Errors
/// See [`ConnectError`].
pub async fn connect(options: &ConnectOptions) -> Result<Session, ConnectError> {
    tokio::time::timeout(options.timeout, handshake(options))
        .await
        .map_err(|_| ConnectError::Timeout)?
}

fn ws_config() -> WebSocketConfig {
    // Small buffers: idle connections are many, frames are small.
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(16 << 20))
}

async fn handshake(options: &ConnectOptions) -> Result<Session, ConnectError> {
    let stream = tcp_connect(options.endpoint.addr, options.source_ip).await?;
    let (mut ws, _) =
        client_async_with_config(options.endpoint.ws_url.as_str(), stream, Some(ws_config()))
            .await
            .map_err(|e| ConnectError::WebSocket(e.to_string()))?;
    let mut sent_auth = false;
    let mut connected = false;
    loop {
        let message = match ws.next().await {
            Some(Ok(message)) => message,
            Some(Err(e)) => return Err(ConnectError::Protocol(e.to_string())),
            None => return Err(ConnectError::Protocol("closed during handshake".into())),
        };
        let Message::Text(text) = message else {
            if let Message::Close(frame) = message {
                return Err(ConnectError::Protocol(format!("closed: {frame:?}")));
            }
            continue;
        };
        match parse(text.as_str()) {
            Inbound::Open if !sent_auth => {
                send(&mut ws, auth_frame(&options.token, &options.device_id)).await?;
                sent_auth = true;
            }
            Inbound::Ping => send(&mut ws, "3".to_owned()).await?,
            Inbound::Connected => connected = true,
            Inbound::ConnectError(body) => return Err(ConnectError::Refused(refusal_code(body))),
            Inbound::Event("connected", _, _) if connected => {
                return Ok(Session { ws, resumed: false });
            }
            Inbound::Event("reconnected", _, _) if connected => {
                return Ok(Session { ws, resumed: true });
            }
            Inbound::Event(name, _, _) if name.starts_with("error") => {
                return Err(ConnectError::Refused(name.to_owned()));
            }
            Inbound::Close | Inbound::Disconnect => {
                return Err(ConnectError::Protocol("server closed the session".into()));
            }
            _ => {}
        }
    }
}

async fn send(ws: &mut Ws, frame: String) -> Result<(), ConnectError> {
    ws.send(Message::text(frame))
        .await
        .map_err(|e| ConnectError::Protocol(e.to_string()))
}

/// What the scenario asks a connection to do.
#[derive(Debug)]
pub enum Command {
    /// Emit `message:send` with an ack; `payload` is the JSON object.
    Send {
        /// When the message was meant to be sent (latency is measured from here).
        intended: Instant,
        /// The payload.
        payload: String,
    },
    /// Drop the connection at once (no close handshake): a network drop as the server sees it.
    Drop,
}

/// What a connection reports.
#[derive(Debug, Clone)]
pub enum Observation {
    /// The ack of a `message:send`.
    Ack {
        /// Which connection.
        conn: u32,
        /// The intended send time of the message.
        intended: Instant,
        /// When the ack frame was read.
        at: Instant,
        /// The error code of a failure ack.
        error: Option<String>,
    },
    /// A `message:received` from another user.
    Received {
        /// Which connection.
        conn: u32,
        /// The intended send time the content carries.
        intended: Instant,
        /// When the frame was read.
        at: Instant,
    },
    /// The connection ended without being asked to.
    Closed {
        /// Which connection.
        conn: u32,
        /// Why.
        reason: String,
    },
}

/// The handle of a running connection.
#[derive(Debug)]
pub struct Handle {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl Handle {
    /// Asks the connection to emit `message:send`; false when it has ended.
    pub fn send(&self, intended: Instant, payload: String) -> bool {
        self.commands
            .send(Command::Send { intended, payload })
            .is_ok()
    }

    /// A sender of commands, to use from another task.
    #[must_use]
    pub fn commands(&self) -> mpsc::UnboundedSender<Command> {
        self.commands.clone()
    }

    /// Drops the connection at once.
    pub fn drop_now(self) {
        self.task.abort();
    }

    /// Whether the task has ended (the connection closed).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

#[derive(Deserialize)]
struct AckArg {
    error: Option<AckError>,
}

#[derive(Deserialize)]
struct AckError {
    code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReceivedArg<'a> {
    #[serde(borrow)]
    sender_id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    content: std::borrow::Cow<'a, str>,
}

fn ack_error(args: &str) -> Option<String> {
    match serde_json::from_str::<Vec<AckArg>>(args) {
        Ok(list) => list
            .into_iter()
            .next()
            .and_then(|a| a.error)
            .map(|e| e.code),
        Err(_) => Some("unparsable_ack".to_owned()),
    }
}

impl Session {
    /// Runs the connection in its own task. `user_id` is the connection's user (its own
    /// messages echoed back are not reported); `observer` gets acks, receipts and closes.
    #[must_use]
    pub fn spawn(
        self,
        conn: u32,
        user_id: Arc<str>,
        observer: Option<mpsc::UnboundedSender<Observation>>,
    ) -> Handle {
        let (commands, queue) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(self.ws, conn, user_id, observer, queue));
        Handle { commands, task }
    }
}

async fn run(
    mut ws: Ws,
    conn: u32,
    user_id: Arc<str>,
    observer: Option<mpsc::UnboundedSender<Observation>>,
    mut queue: mpsc::UnboundedReceiver<Command>,
) {
    let mut next_id: u64 = 0;
    let mut pending: HashMap<u64, Instant> = HashMap::new();
    let report = |o: Observation| {
        if let Some(observer) = &observer {
            let _ = observer.send(o);
        }
    };
    let reason = loop {
        tokio::select! {
            command = queue.recv() => match command {
                Some(Command::Send { intended, payload }) => {
                    next_id += 1;
                    pending.insert(next_id, intended);
                    let frame = format!("42{next_id}[\"message:send\",{payload}]");
                    if let Err(e) = ws.send(Message::text(frame)).await {
                        break format!("write: {e}");
                    }
                }
                Some(Command::Drop) | None => return,
            },
            message = ws.next() => {
                let at = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => break format!("closed by server: {frame:?}"),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => break format!("read: {e}"),
                    None => break "closed".to_owned(),
                };
                match parse(text.as_str()) {
                    Inbound::Ping => {
                        if let Err(e) = ws.send(Message::text("3")).await {
                            break format!("write: {e}");
                        }
                    }
                    Inbound::Ack(id, args) => {
                        if let Some(intended) = pending.remove(&id) {
                            report(Observation::Ack { conn, intended, at, error: ack_error(args) });
                        }
                    }
                    Inbound::Event("message:received", payload, _) => {
                        if let Ok(m) = serde_json::from_str::<ReceivedArg<'_>>(payload)
                            && *m.sender_id != *user_id
                            && let Some(intended) = intended_of(&m.content)
                        {
                            report(Observation::Received { conn, intended, at });
                        }
                    }
                    Inbound::Event(_, _, Some(id)) => {
                        // The server asks for an ack: answer it, empty.
                        if let Err(e) = ws.send(Message::text(format!("43{id}[]"))).await {
                            break format!("write: {e}");
                        }
                    }
                    Inbound::Close | Inbound::Disconnect => break "server disconnect".to_owned(),
                    _ => {}
                }
            }
        }
    };
    report(Observation::Closed { conn, reason });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_parsed_by_type() {
        assert_eq!(parse("0{\"sid\":\"x\"}"), Inbound::Open);
        assert_eq!(parse("2"), Inbound::Ping);
        assert_eq!(parse("40{\"sid\":\"a\"}"), Inbound::Connected);
        assert_eq!(
            parse("44{\"message\":\"token_invalid\"}"),
            Inbound::ConnectError("{\"message\":\"token_invalid\"}")
        );
        assert_eq!(
            parse("42[\"connected\",{\"a\":1}]"),
            Inbound::Event("connected", "{\"a\":1}", None)
        );
        assert_eq!(
            parse("4217[\"question\",1]"),
            Inbound::Event("question", "1", Some(17))
        );
        assert_eq!(parse("42[\"bare\"]"), Inbound::Event("bare", "", None));
        assert_eq!(parse("4312[{\"ok\":1}]"), Inbound::Ack(12, "[{\"ok\":1}]"));
        assert_eq!(parse("41"), Inbound::Disconnect);
    }

    #[test]
    fn failure_acks_carry_their_code() {
        assert_eq!(
            ack_error("[{\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"x\"}}]"),
            Some("rate_limit_exceeded".to_owned())
        );
        assert_eq!(
            ack_error("[{\"messageId\":\"m\",\"status\":\"delivered\"}]"),
            None
        );
    }

    #[test]
    fn contents_carry_the_intended_time() {
        let t = epoch() + Duration::from_micros(1234);
        let back = intended_of(&content_for(t)).unwrap();
        assert_eq!(back, t);
        assert_eq!(intended_of("hello"), None);
    }

    #[test]
    fn refusal_codes_are_read_from_the_message() {
        assert_eq!(
            refusal_code("{\"message\":\"token_expired\"}"),
            "token_expired"
        );
    }
}
