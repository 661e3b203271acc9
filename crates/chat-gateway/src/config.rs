//! Settings: the contract's section 1, read from the environment and an optional TOML file
//! (`CHAT_CONFIG`), validated once at start. A bad value stops start-up with one line naming the
//! variable; so does a name the gateway does not know ([`VARIABLES`] is the one list: the
//! defaults, `--help` and that check all come from it).

use std::{borrow::Cow, collections::BTreeMap, net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;

/// The development secret, accepted only on a loopback bind.
pub const DEV_SECRET: &str = "dev-secret-change-me";

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The variable (or variables, or file key), as the environment or the file spells it.
    pub variable: Cow<'static, str>,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(variable: impl Into<Cow<'static, str>>, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.into(),
        problem: problem.into(),
    }
}

/// One variable of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// Its name in the environment; in the file, the same or lowercase without `CHAT_`.
    pub name: &'static str,
    /// Its default, as written in the environment (`None`: unset).
    pub default: Option<&'static str>,
    /// What it does, in one line.
    pub meaning: &'static str,
}

const fn var(name: &'static str, default: Option<&'static str>, meaning: &'static str) -> Variable {
    Variable {
        name,
        default,
        meaning,
    }
}

/// Every variable the gateway reads, with its default: the one table behind the defaults,
/// `chat-gateway --help` and the refusal of unknown names.
pub const VARIABLES: &[Variable] = &[
    var(
        "CHAT_CONFIG",
        None,
        "path of a TOML file with any of these settings (keys as here, or lowercase without CHAT_); the environment wins",
    ),
    var(
        "CHAT_BIND",
        Some("127.0.0.1:3000"),
        "address for HTTP, Socket.IO (/socket.io/) and the web client (/)",
    ),
    var(
        "CHAT_DATABASE_URL",
        Some("sqlite://chat.db?mode=rwc"),
        "sqlite:… (embedded) or postgres://… (production)",
    ),
    var(
        "CHAT_DATABASE_MAX_CONNECTIONS",
        Some("10"),
        "database pool size (on PostgreSQL one more connection writes the appends)",
    ),
    var(
        "CHAT_DATABASE_ACQUIRE_TIMEOUT_MS",
        Some("1500"),
        "how long a request waits for a database connection before answering unavailable",
    ),
    var(
        "CHAT_REDIS_URL",
        None,
        "redis://… : sessions, presence, rate limits and Socket.IO rooms in Redis, shared by every node",
    ),
    var(
        "CHAT_REDIS_POOL_SIZE",
        Some("4"),
        "Redis connections for sessions, presence and rate limits",
    ),
    var(
        "CHAT_REDIS_KEY_PREFIX",
        Some("chat"),
        "prefix of every Redis key and channel",
    ),
    var(
        "CHAT_PRESENCE_LEASE_MS",
        Some("30000"),
        "a crashed node's users show offline within about this and a third",
    ),
    var(
        "CHAT_PING_INTERVAL_MS",
        Some("25000"),
        "Engine.IO heartbeat interval",
    ),
    var(
        "CHAT_PING_TIMEOUT_MS",
        Some("20000"),
        "how long a heartbeat waits for its pong",
    ),
    var(
        "CHAT_JWT_SECRET",
        Some(DEV_SECRET),
        "HS256 key, at least 16 bytes; the default is refused unless CHAT_BIND is loopback",
    ),
    var(
        "CHAT_JWT_PUBLIC_KEY_FILE",
        None,
        "PEM public key (RS256, ES256 or EdDSA, as CHAT_JWT_ALGORITHM says) instead of the secret",
    ),
    var(
        "CHAT_JWT_ALGORITHM",
        Some("HS256"),
        "the one accepted algorithm: HS256, RS256, ES256 or EdDSA",
    ),
    var(
        "CHAT_JWT_ISSUER",
        None,
        "when set, a token's iss must match",
    ),
    var(
        "CHAT_JWT_AUDIENCE",
        None,
        "when set, a token's aud must match",
    ),
    var(
        "CHAT_RATE_LIMIT_MESSAGE_SEND",
        Some("10"),
        "message:send per user per minute",
    ),
    var(
        "CHAT_RATE_LIMIT_MESSAGE_READ",
        Some("60"),
        "message:read per user per minute",
    ),
    var(
        "CHAT_RATE_LIMIT_TYPING",
        Some("30"),
        "typing:start per user per minute (typing:stop is never limited)",
    ),
    var(
        "CHAT_RATE_LIMIT_BLOCK",
        Some("5"),
        "block per user per minute (unblock is never limited)",
    ),
    var(
        "CHAT_RATE_LIMIT_MUTE",
        Some("5"),
        "mute per user per minute (unmute is never limited)",
    ),
    var(
        "CHAT_MAX_MESSAGE_CHARS",
        Some("4000"),
        "longest message content",
    ),
    var(
        "CHAT_MAX_WS_MESSAGE_BYTES",
        Some("65536"),
        "largest WebSocket message or HTTP body",
    ),
    var(
        "CHAT_TYPING_TIMEOUT_MS",
        Some("3000"),
        "typing indicator auto-clear",
    ),
    var(
        "CHAT_RESUME_WINDOW_SECS",
        Some("1800"),
        "how long after a disconnect a device resumes",
    ),
    var(
        "CHAT_CORS_ORIGINS",
        None,
        "comma-separated allowed origins; unset: same origin only",
    ),
    var(
        "CHAT_LOG_FORMAT",
        Some("text"),
        "text, or json for one JSON object per line",
    ),
    var(
        "RUST_LOG",
        Some("info"),
        "log filter (the libraries that handle the wire stay at info or less)",
    ),
];

/// `CHAT_` variables that belong to this workspace's tests and tools, not to the gateway: left
/// alone. Any other unknown `CHAT_` variable stops start-up.
pub const FOREIGN_PREFIXES: &[&str] = &["CHAT_TEST_", "CHAT_BENCH_"];

fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

/// The closest known variable to a misspelled `name`, if one is close.
fn closest(name: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .map(|v| (strsim::levenshtein(name, v.name), v.name))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

/// The variables, their defaults and meanings, for `--help`.
#[must_use]
pub fn help_text() -> String {
    let mut out = String::from(
        "Configuration (environment variables, or the same keys in the TOML file named by CHAT_CONFIG; the environment wins).\nAn unknown CHAT_ variable or file key stops start-up; CHAT_TEST_* and CHAT_BENCH_* are left alone.\n",
    );
    for v in VARIABLES {
        let default = v.default.unwrap_or("unset");
        out.push_str(&format!(
            "  {} [default: {default}]\n      {}\n",
            v.name, v.meaning
        ));
    }
    out
}

/// The JWT verification settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// `CHAT_JWT_SECRET` (HS256).
    pub secret: SecretString,
    /// Whether the secret is the development default.
    pub dev_secret: bool,
    /// `CHAT_JWT_PUBLIC_KEY_FILE`.
    pub public_key_file: Option<PathBuf>,
    /// `CHAT_JWT_ALGORITHM`.
    pub algorithm: String,
    /// `CHAT_JWT_ISSUER`.
    pub issuer: Option<String>,
    /// `CHAT_JWT_AUDIENCE`.
    pub audience: Option<String>,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (`CHAT_LOG_FORMAT=text`, the default).
    #[default]
    Text,
    /// One JSON object per line (`CHAT_LOG_FORMAT=json`), for log collectors.
    Json,
}

/// The log settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `CHAT_LOG_FORMAT`.
    pub format: LogFormat,
    /// `RUST_LOG`: the tracing filter (default `info`), checked at start.
    pub filter: String,
}

/// Every setting, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `CHAT_BIND`.
    pub bind: SocketAddr,
    /// `CHAT_DATABASE_URL`.
    pub database_url: String,
    /// `CHAT_DATABASE_MAX_CONNECTIONS`.
    pub database_max_connections: u32,
    /// `CHAT_DATABASE_ACQUIRE_TIMEOUT_MS`.
    pub database_acquire_timeout: Duration,
    /// `CHAT_REDIS_URL`.
    pub redis_url: Option<String>,
    /// `CHAT_REDIS_POOL_SIZE`: connections for sessions, presence and rate limits (the rooms
    /// adapter has its own).
    pub redis_pool_size: usize,
    /// `CHAT_REDIS_KEY_PREFIX`: prefix of every key and channel, so deployments can share one
    /// Redis.
    pub redis_key_prefix: String,
    /// `CHAT_PRESENCE_LEASE_MS`: how long a connection counts as present without its node
    /// renewing it (nodes renew every third of it); a crashed node's users go offline within
    /// about this plus a third.
    pub presence_lease: Duration,
    /// `CHAT_PING_INTERVAL_MS`: Engine.IO heartbeat interval.
    pub ping_interval: Duration,
    /// `CHAT_PING_TIMEOUT_MS`: how long a heartbeat waits for the pong before the connection
    /// counts as dead.
    pub ping_timeout: Duration,
    /// The JWT settings.
    pub jwt: JwtSettings,
    /// `CHAT_RATE_LIMIT_MESSAGE_SEND`, `_MESSAGE_READ`, `_TYPING`, `_BLOCK`, `_MUTE` (per minute).
    pub rate_limits: RateLimits,
    /// `CHAT_MAX_MESSAGE_CHARS`.
    pub max_message_chars: usize,
    /// `CHAT_MAX_WS_MESSAGE_BYTES`.
    pub max_ws_message_bytes: usize,
    /// `CHAT_TYPING_TIMEOUT_MS`.
    pub typing_timeout: Duration,
    /// `CHAT_RESUME_WINDOW_SECS`.
    pub resume_window: Duration,
    /// `CHAT_CORS_ORIGINS` (empty: same origin only).
    pub cors_origins: Vec<String>,
    /// `CHAT_LOG_FORMAT` and `RUST_LOG`.
    pub log: LogSettings,
}

/// Per-minute quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `message:send`.
    pub message_send: u32,
    /// `message:read`.
    pub message_read: u32,
    /// typing.
    pub typing: u32,
    /// block/unblock.
    pub block: u32,
    /// mute/unmute.
    pub mute: u32,
}

/// Where settings come from: the environment first, then the file.
#[derive(Debug, Default)]
pub struct Sources {
    env: BTreeMap<String, String>,
    file: BTreeMap<String, String>,
}

impl Sources {
    /// The process environment and, when `CHAT_CONFIG` names one, that TOML file.
    ///
    /// # Errors
    /// `CHAT_CONFIG` when the file cannot be read or parsed.
    pub fn from_process() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("CHAT_CONFIG") {
            Some(path) if !path.is_empty() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| bad("CHAT_CONFIG", format!("cannot read {path}: {e}")))?;
                parse_toml(&text)?
            }
            _ => BTreeMap::new(),
        };
        Ok(Self { env, file })
    }

    /// Explicit sources (tests).
    #[must_use]
    pub fn new(env: BTreeMap<String, String>, file: BTreeMap<String, String>) -> Self {
        Self { env, file }
    }

    fn get(&self, key: &str) -> Option<&str> {
        debug_assert!(variable(key).is_some(), "{key} is not in VARIABLES");
        self.env
            .get(key)
            .or_else(|| self.file.get(key))
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// The name a file key stands for: `CHAT_BIND` and `RUST_LOG` as written, `bind` as `CHAT_BIND`.
fn file_key_name(key: &str) -> String {
    if key.starts_with("CHAT_") || key == "RUST_LOG" {
        key.to_owned()
    } else if key.eq_ignore_ascii_case("rust_log") {
        "RUST_LOG".to_owned()
    } else {
        format!("CHAT_{}", key.to_uppercase())
    }
}

/// Reads a TOML file whose keys are the variables' names (`CHAT_BIND = "…"`) or the same in
/// lowercase without the prefix (`bind = "…"`).
///
/// # Errors
/// `CHAT_CONFIG` when the text is not TOML, a key is not a setting (named, with the closest
/// one), a setting is given twice, or a value is not a string, number, boolean or list.
pub fn parse_toml(text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| bad("CHAT_CONFIG", format!("not valid TOML: {e}")))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let name = file_key_name(&key);
        if name == "CHAT_CONFIG" || variable(&name).is_none() {
            let hint = closest(&name)
                .filter(|known| *known != "CHAT_CONFIG")
                .map(|known| {
                    let spelled = if key.starts_with("CHAT_") || known == "RUST_LOG" {
                        known.to_owned()
                    } else {
                        known.trim_start_matches("CHAT_").to_lowercase()
                    };
                    format!(" (did you mean {spelled}?)")
                })
                .unwrap_or_default();
            return Err(bad(
                "CHAT_CONFIG",
                format!("unknown key {key:?}{hint}; chat-gateway --help lists the settings"),
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            other => {
                return Err(bad(
                    "CHAT_CONFIG",
                    format!("{key}: unsupported value {other}"),
                ));
            }
        };
        if out.insert(name.clone(), text).is_some() {
            return Err(bad(
                "CHAT_CONFIG",
                format!("{name} is given twice (as {key:?} and another spelling)"),
            ));
        }
    }
    Ok(out)
}

/// Refuses `CHAT_` variables the gateway does not know (a misspelled one would otherwise be
/// ignored and its default used), except those of [`FOREIGN_PREFIXES`].
fn refuse_unknown(src: &Sources) -> Result<(), ConfigError> {
    let unknown: Vec<&str> = src
        .env
        .keys()
        .map(String::as_str)
        .filter(|name| name.starts_with("CHAT_"))
        .filter(|name| variable(name).is_none())
        .filter(|name| !FOREIGN_PREFIXES.iter().any(|p| name.starts_with(p)))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let hints: Vec<String> = unknown
        .iter()
        .filter_map(|name| closest(name).map(|known| format!("{name}: did you mean {known}?")))
        .collect();
    let hints = if hints.is_empty() {
        String::new()
    } else {
        format!(" ({})", hints.join("; "))
    };
    let what = if unknown.len() == 1 {
        "not a setting of chat-gateway"
    } else {
        "not settings of chat-gateway"
    };
    Err(bad(
        unknown.join(", "),
        format!(
            "{what}{hints}; chat-gateway --help lists the settings (CHAT_TEST_* and CHAT_BENCH_* are left alone)"
        ),
    ))
}

/// The value of `name`: from the environment or the file, else its default.
fn value(src: &Sources, name: &'static str) -> Option<String> {
    optional(src, name).or_else(|| variable(name)?.default.map(str::to_owned))
}

fn number<T>(src: &Sources, variable: &'static str, min: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let raw = value(src, variable).ok_or_else(|| bad(variable, "has no default"))?;
    let value: T = raw
        .trim()
        .parse()
        .map_err(|_| bad(variable, format!("{raw:?} is not a whole number")))?;
    if value < min {
        return Err(bad(
            variable,
            format!("must be at least {min}, got {value}"),
        ));
    }
    Ok(value)
}

fn optional(src: &Sources, variable: &'static str) -> Option<String> {
    src.get(variable).map(|s| s.trim().to_owned())
}

impl Settings {
    /// Reads and validates every setting.
    ///
    /// # Errors
    /// The first bad setting.
    pub fn from_sources(src: &Sources) -> Result<Self, ConfigError> {
        refuse_unknown(src)?;
        let bind_raw = value(src, "CHAT_BIND").unwrap_or_default();
        let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
            bad(
                "CHAT_BIND",
                format!("{bind_raw:?} is not an address like 127.0.0.1:3000"),
            )
        })?;
        let database_url = value(src, "CHAT_DATABASE_URL").unwrap_or_default();
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "CHAT_DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        let redis_url = optional(src, "CHAT_REDIS_URL");
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(bad(
                "CHAT_REDIS_URL",
                "must start with redis:// or rediss://",
            ));
        }
        let redis_key_prefix = value(src, "CHAT_REDIS_KEY_PREFIX").unwrap_or_default();
        if redis_key_prefix.is_empty()
            || !redis_key_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            return Err(bad(
                "CHAT_REDIS_KEY_PREFIX",
                "must be letters, digits, '-', '_', '.' or ':'",
            ));
        }
        let jwt = jwt(src, &bind)?;
        let rate_limits = RateLimits {
            message_send: number(src, "CHAT_RATE_LIMIT_MESSAGE_SEND", 1)?,
            message_read: number(src, "CHAT_RATE_LIMIT_MESSAGE_READ", 1)?,
            typing: number(src, "CHAT_RATE_LIMIT_TYPING", 1)?,
            block: number(src, "CHAT_RATE_LIMIT_BLOCK", 1)?,
            mute: number(src, "CHAT_RATE_LIMIT_MUTE", 1)?,
        };
        let cors_origins: Vec<String> = optional(src, "CHAT_CORS_ORIGINS")
            .map(|raw| {
                raw.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for origin in &cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(bad(
                    "CHAT_CORS_ORIGINS",
                    format!("{origin:?} is not an http(s) origin"),
                ));
            }
        }
        let log = log(src)?;
        Ok(Self {
            bind,
            database_url,
            database_max_connections: number(src, "CHAT_DATABASE_MAX_CONNECTIONS", 1)?,
            database_acquire_timeout: Duration::from_millis(number(
                src,
                "CHAT_DATABASE_ACQUIRE_TIMEOUT_MS",
                1,
            )?),
            redis_url,
            redis_pool_size: number(src, "CHAT_REDIS_POOL_SIZE", 1)?,
            redis_key_prefix,
            presence_lease: Duration::from_millis(number(src, "CHAT_PRESENCE_LEASE_MS", 300)?),
            ping_interval: Duration::from_millis(number(src, "CHAT_PING_INTERVAL_MS", 100)?),
            ping_timeout: Duration::from_millis(number(src, "CHAT_PING_TIMEOUT_MS", 100)?),
            jwt,
            rate_limits,
            max_message_chars: number(src, "CHAT_MAX_MESSAGE_CHARS", 1)?,
            max_ws_message_bytes: number(src, "CHAT_MAX_WS_MESSAGE_BYTES", 1_024)?,
            typing_timeout: Duration::from_millis(number(src, "CHAT_TYPING_TIMEOUT_MS", 100)?),
            resume_window: Duration::from_secs(number(src, "CHAT_RESUME_WINDOW_SECS", 0)?),
            cors_origins,
            log,
        })
    }

    /// Reads the process's settings.
    ///
    /// # Errors
    /// The first bad setting.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_sources(&Sources::from_process()?)
    }
}

fn log(src: &Sources) -> Result<LogSettings, ConfigError> {
    let format = match value(src, "CHAT_LOG_FORMAT").as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(bad(
                "CHAT_LOG_FORMAT",
                format!("{other:?} is not text or json"),
            ));
        }
    };
    let filter = value(src, "RUST_LOG").unwrap_or_default();
    if let Err(error) = tracing_subscriber::EnvFilter::builder().parse(&filter) {
        return Err(bad(
            "RUST_LOG",
            format!("{filter:?} is not a filter: {error}"),
        ));
    }
    Ok(LogSettings { format, filter })
}

fn jwt(src: &Sources, bind: &SocketAddr) -> Result<JwtSettings, ConfigError> {
    let algorithm = value(src, "CHAT_JWT_ALGORITHM").unwrap_or_default();
    if !["HS256", "RS256", "ES256", "EdDSA"].contains(&algorithm.as_str()) {
        return Err(bad(
            "CHAT_JWT_ALGORITHM",
            format!("{algorithm:?} is not one of HS256, RS256, ES256, EdDSA"),
        ));
    }
    let public_key_file = optional(src, "CHAT_JWT_PUBLIC_KEY_FILE").map(PathBuf::from);
    match (&public_key_file, algorithm.as_str()) {
        (Some(_), "HS256") => {
            return Err(bad(
                "CHAT_JWT_ALGORITHM",
                "a public key needs RS256, ES256 or EdDSA",
            ));
        }
        (None, alg) if alg != "HS256" => {
            return Err(bad(
                "CHAT_JWT_PUBLIC_KEY_FILE",
                format!("{alg} needs a public key file"),
            ));
        }
        _ => {}
    }
    let secret = optional(src, "CHAT_JWT_SECRET");
    let dev_secret = public_key_file.is_none() && secret.as_deref().is_none_or(|s| s == DEV_SECRET);
    if dev_secret && !bind.ip().is_loopback() {
        return Err(bad(
            "CHAT_JWT_SECRET",
            format!(
                "the development secret is refused on {bind}; set a secret of your own (or bind a loopback address)"
            ),
        ));
    }
    if let Some(s) = &secret
        && public_key_file.is_none()
        && s.len() < 16
    {
        return Err(bad("CHAT_JWT_SECRET", "must be at least 16 bytes"));
    }
    Ok(JwtSettings {
        secret: SecretString::from(secret.unwrap_or_else(|| DEV_SECRET.to_owned())),
        dev_secret,
        public_key_file,
        algorithm,
        issuer: optional(src, "CHAT_JWT_ISSUER"),
        audience: optional(src, "CHAT_JWT_AUDIENCE"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(pairs: &[(&str, &str)]) -> Sources {
        Sources::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            BTreeMap::new(),
        )
    }

    #[test]
    fn defaults_are_the_contract_defaults() {
        let s = Settings::from_sources(&sources(&[])).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database_url, "sqlite://chat.db?mode=rwc");
        assert!(s.redis_url.is_none());
        assert!(s.jwt.dev_secret);
        assert_eq!(s.jwt.algorithm, "HS256");
        assert_eq!(
            s.rate_limits,
            RateLimits {
                message_send: 10,
                message_read: 60,
                typing: 30,
                block: 5,
                mute: 5
            }
        );
        assert_eq!(s.max_message_chars, 4_000);
        assert_eq!(s.max_ws_message_bytes, 65_536);
        assert_eq!(s.typing_timeout, Duration::from_millis(3_000));
        assert_eq!(s.resume_window, Duration::from_secs(1_800));
        assert!(s.cors_origins.is_empty());
        assert_eq!(s.log.format, LogFormat::Text);
        assert_eq!(s.log.filter, "info");
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("CHAT_BIND", "nowhere")], "CHAT_BIND"),
            (&[("CHAT_DATABASE_URL", "mysql://x")], "CHAT_DATABASE_URL"),
            (&[("CHAT_REDIS_URL", "http://x")], "CHAT_REDIS_URL"),
            (&[("CHAT_BIND", "0.0.0.0:3000")], "CHAT_JWT_SECRET"),
            (&[("CHAT_JWT_SECRET", "short")], "CHAT_JWT_SECRET"),
            (&[("CHAT_JWT_ALGORITHM", "HS512")], "CHAT_JWT_ALGORITHM"),
            (
                &[("CHAT_JWT_ALGORITHM", "RS256")],
                "CHAT_JWT_PUBLIC_KEY_FILE",
            ),
            (
                &[("CHAT_JWT_PUBLIC_KEY_FILE", "/k.pem")],
                "CHAT_JWT_ALGORITHM",
            ),
            (
                &[("CHAT_RATE_LIMIT_MESSAGE_SEND", "ten")],
                "CHAT_RATE_LIMIT_MESSAGE_SEND",
            ),
            (&[("CHAT_RATE_LIMIT_MUTE", "0")], "CHAT_RATE_LIMIT_MUTE"),
            (
                &[("CHAT_MAX_MESSAGE_CHARS", "-1")],
                "CHAT_MAX_MESSAGE_CHARS",
            ),
            (
                &[("CHAT_MAX_WS_MESSAGE_BYTES", "10")],
                "CHAT_MAX_WS_MESSAGE_BYTES",
            ),
            (
                &[("CHAT_TYPING_TIMEOUT_MS", "1.5")],
                "CHAT_TYPING_TIMEOUT_MS",
            ),
            (
                &[("CHAT_RESUME_WINDOW_SECS", "x")],
                "CHAT_RESUME_WINDOW_SECS",
            ),
            (&[("CHAT_CORS_ORIGINS", "example.com")], "CHAT_CORS_ORIGINS"),
            (&[("CHAT_LOG_FORMAT", "xml")], "CHAT_LOG_FORMAT"),
            (&[("RUST_LOG", "info,[=")], "RUST_LOG"),
        ];
        for (pairs, variable) in cases {
            let err = Settings::from_sources(&sources(pairs)).unwrap_err();
            assert_eq!(err.variable, *variable, "{pairs:?}: {err}");
            assert!(err.to_string().starts_with(variable), "{err}");
        }
    }

    #[test]
    fn a_real_secret_may_bind_anywhere() {
        let s = Settings::from_sources(&sources(&[
            ("CHAT_BIND", "0.0.0.0:8080"),
            ("CHAT_JWT_SECRET", "a-long-enough-production-secret"),
        ]))
        .unwrap();
        assert!(!s.jwt.dev_secret);
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let file = parse_toml("bind = \"127.0.0.1:4000\"\nCHAT_MAX_MESSAGE_CHARS = 10\ncors_origins = [\"http://a\", \"http://b\"]\n").unwrap();
        let env = [("CHAT_BIND".to_owned(), "127.0.0.1:5000".to_owned())]
            .into_iter()
            .collect();
        let s = Settings::from_sources(&Sources::new(env, file)).unwrap();
        assert_eq!(s.bind.port(), 5000);
        assert_eq!(s.max_message_chars, 10);
        assert_eq!(s.cors_origins, vec!["http://a", "http://b"]);
    }

    #[test]
    fn the_log_format_and_filter_come_from_the_environment_or_the_file() {
        let s = Settings::from_sources(&sources(&[
            ("CHAT_LOG_FORMAT", "json"),
            ("RUST_LOG", "debug"),
        ]))
        .unwrap();
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.log.filter, "debug");
        let file = parse_toml("log_format = \"json\"\nRUST_LOG = \"warn\"\n").unwrap();
        let s = Settings::from_sources(&Sources::new(BTreeMap::new(), file)).unwrap();
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.log.filter, "warn");
    }

    #[test]
    fn a_misspelled_variable_stops_start_up_naming_it() {
        let err = Settings::from_sources(&sources(&[("CHAT_DATABSE_URL", "postgres://db/chat")]))
            .unwrap_err();
        assert_eq!(err.variable, "CHAT_DATABSE_URL");
        assert!(
            err.to_string().contains("did you mean CHAT_DATABASE_URL?"),
            "{err}"
        );
        assert!(!err.to_string().contains('\n'), "{err}");

        let err = Settings::from_sources(&sources(&[
            ("CHAT_BIND", "127.0.0.1:3000"),
            ("CHAT_MAX_MESSAGE_CHAR", "10"),
            ("CHAT_SOMETHING_ELSE", "1"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "CHAT_MAX_MESSAGE_CHAR, CHAT_SOMETHING_ELSE");
        assert!(
            err.problem
                .contains("CHAT_MAX_MESSAGE_CHAR: did you mean CHAT_MAX_MESSAGE_CHARS?"),
            "{err}"
        );
    }

    #[test]
    fn test_and_bench_variables_and_other_programs_variables_are_left_alone() {
        let s = Settings::from_sources(&sources(&[
            ("CHAT_TEST_DATABASE_URL", "postgres://x/test"),
            ("CHAT_TEST_REDIS_URL", "redis://x"),
            ("CHAT_BENCH_URL", "http://x"),
            ("CHAT_CONFIG", ""),
            ("PATH", "/usr/bin"),
            ("CHATTY", "1"),
        ]))
        .unwrap();
        assert_eq!(s.database_url, "sqlite://chat.db?mode=rwc");
    }

    #[test]
    fn a_misspelled_file_key_is_named_with_the_closest_setting() {
        let err = parse_toml("databse_url = \"postgres://db/chat\"\n").unwrap_err();
        assert_eq!(err.variable, "CHAT_CONFIG");
        assert!(err.problem.contains("\"databse_url\""), "{err}");
        assert!(err.problem.contains("did you mean database_url?"), "{err}");
        let err = parse_toml("CHAT_DATABSE_URL = \"postgres://db/chat\"\n").unwrap_err();
        assert!(
            err.problem.contains("did you mean CHAT_DATABASE_URL?"),
            "{err}"
        );
        // not a setting the file can give, and twice the same setting
        assert!(parse_toml("config = \"other.toml\"\n").is_err());
        assert!(parse_toml("bind = \"127.0.0.1:1\"\nCHAT_BIND = \"127.0.0.1:2\"\n").is_err());
        // every known key in both spellings is accepted
        for v in VARIABLES.iter().filter(|v| v.name != "CHAT_CONFIG") {
            let lower = v.name.trim_start_matches("CHAT_").to_lowercase();
            for key in [v.name.to_owned(), lower] {
                let file = parse_toml(&format!("{key} = \"x\"\n")).unwrap();
                assert_eq!(file.keys().collect::<Vec<_>>(), [v.name], "{key}");
            }
        }
    }

    #[test]
    fn every_default_is_valid_and_shown_in_the_help() {
        // each default parses (defaults_are_the_contract_defaults checks the values)
        Settings::from_sources(&sources(&[])).unwrap();
        let help = help_text();
        for v in VARIABLES {
            let line = format!("  {} [default: {}]", v.name, v.default.unwrap_or("unset"));
            assert!(help.contains(&line), "{line} missing from\n{help}");
        }
    }

    #[test]
    fn the_readme_table_lists_every_variable_with_its_default() {
        let readme = include_str!("../../../README.md");
        for v in VARIABLES {
            let needle = format!("`{}`", v.name);
            let row = readme
                .lines()
                .find(|l| {
                    l.split('|')
                        .nth(1)
                        .is_some_and(|first| first.contains(&needle))
                })
                .unwrap_or_else(|| panic!("README's table has no row for {}", v.name));
            if let Some(default) = v.default {
                assert!(
                    row.contains(&format!("`{default}`")),
                    "README's row of {} does not say its default {default}: {row}",
                    v.name
                );
            }
        }
    }

    #[test]
    fn a_broken_file_names_chat_config() {
        assert_eq!(parse_toml("bind = ").unwrap_err().variable, "CHAT_CONFIG");
    }
}
