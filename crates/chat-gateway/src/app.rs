//! All the wiring: one place that knows every adapter.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{Router, http::HeaderValue, serve::ListenerExt as _};
use chat_auth::{AuthConfig, HsTokenIssuer, JwtAlgorithm, JwtTokenVerifier, VerificationKey};
use chat_domain::ports::{PresenceStore, RateLimiter, SessionStore};
use chat_domain::{
    ContentPolicy,
    group::GroupPolicy,
    ports::Clock,
    rate_limit::{Quota, RateLimitPolicy},
    service::{Policies, Ports, ResumeMargin, ResumeWindow, Services},
    typing::TypingPolicy,
};
use chat_http::{DependencyStatus, HttpConfig, HttpState, Readiness};
use chat_memory::{
    MemoryPresenceStore, MemoryRateLimiter, MemorySessionStore, SystemClock, UuidV7Ids,
};
use chat_redis::{
    Pool, RedisConfig, RedisPresenceStore, RedisRateLimiter, RedisSessionStore, RoomsDriver,
    RoomsGap, RoomsGaps,
};
use chat_socketio::{Rooms, SocketConfig, SocketIoEventPublisher, SocketServer, SocketState};
use chat_store::{
    DatabaseConnection, SqlBlockRepository, SqlConversationRepository, SqlMessageRepository,
    SqlMuteRepository, SqlUserRepository, StoreConfig,
};
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;

use crate::{config::Settings, prometheus, telemetry, web};

/// How long a shutdown waits for accepted sends to be answered.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// How long a shutdown waits for sockets to close, then for HTTP requests to finish.
const CLOSE_LIMIT: Duration = Duration::from_secs(10);

/// A built gateway, bound to its address, not yet serving.
pub struct App {
    listener: TcpListener,
    router: Router,
    server: SocketServer,
    sockets: SocketState,
    /// Renews this node's presence leases and sweeps crashed nodes' (with Redis).
    presence_every: Option<Duration>,
    /// When this node may have missed room emits from the other nodes (with Redis).
    gaps: Option<RoomsGaps>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// The pool's settings from the configuration.
fn store_config(settings: &Settings) -> StoreConfig {
    StoreConfig {
        max_connections: settings.database_max_connections,
        acquire_timeout: settings.database_acquire_timeout,
        ..StoreConfig::new(settings.database_url.clone())
    }
}

/// Opens the database and applies migrations.
///
/// # Errors
/// When the database cannot be reached or migrated.
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = chat_store::connect(&store_config(settings))
        .await
        .context("CHAT_DATABASE_URL: cannot open the database")?;
    chat_store::migrate(&db)
        .await
        .context("CHAT_DATABASE_URL: cannot apply migrations")?;
    Ok(db)
}

/// On PostgreSQL, one more connection for the append writer (group commit), beside the pool.
///
/// # Errors
/// When the database cannot be reached.
async fn open_writer(settings: &Settings) -> anyhow::Result<Option<DatabaseConnection>> {
    let cfg = StoreConfig {
        max_connections: 1,
        ..store_config(settings)
    };
    if cfg.is_sqlite() {
        return Ok(None);
    }
    let writer = chat_store::connect(&cfg)
        .await
        .context("CHAT_DATABASE_URL: cannot open the append writer's connection")?;
    Ok(Some(writer))
}

fn verifier(settings: &Settings) -> anyhow::Result<JwtTokenVerifier> {
    let jwt = &settings.jwt;
    let algorithm: JwtAlgorithm = jwt
        .algorithm
        .parse()
        .map_err(|e| anyhow::anyhow!("CHAT_JWT_ALGORITHM: {e}"))?;
    let key = match &jwt.public_key_file {
        Some(path) => VerificationKey::PublicKeyPem(std::fs::read(path).with_context(|| {
            format!("CHAT_JWT_PUBLIC_KEY_FILE: cannot read {}", path.display())
        })?),
        None => VerificationKey::Secret(jwt.secret.expose_secret().into()),
    };
    let config = AuthConfig {
        key,
        algorithm,
        issuer: jwt.issuer.clone(),
        audience: jwt.audience.clone(),
    };
    JwtTokenVerifier::new(config).map_err(|e| anyhow::anyhow!("CHAT_JWT_PUBLIC_KEY_FILE: {e}"))
}

fn policies(settings: &Settings) -> Policies {
    let r = settings.rate_limits;
    Policies {
        content: ContentPolicy {
            max_chars: settings.max_message_chars,
        },
        rate: RateLimitPolicy {
            message_send: Quota::per_minute(r.message_send),
            message_read: Quota::per_minute(r.message_read),
            typing: Quota::per_minute(r.typing),
            block: Quota::per_minute(r.block),
            mute: Quota::per_minute(r.mute),
            // Groups are not served yet (issue 15): their settings come with their routes.
            group_admin: RateLimitPolicy::default().group_admin,
        },
        groups: GroupPolicy::default(),
        typing: TypingPolicy {
            timeout_ms: i64::try_from(settings.typing_timeout.as_millis()).unwrap_or(i64::MAX),
            throttle_ms: 1_000,
        },
        resume_window: ResumeWindow(
            i64::try_from(settings.resume_window.as_millis()).unwrap_or(i64::MAX),
        ),
        resume_margin: ResumeMargin::for_heartbeat(
            i64::try_from((settings.ping_interval + settings.ping_timeout).as_millis())
                .unwrap_or(i64::MAX),
        ),
    }
}

/// `/health/ready`: the database (can it commit?), and Redis when configured.
struct DependencyReadiness {
    db: DatabaseConnection,
    redis: Option<Pool>,
}

#[async_trait::async_trait]
impl Readiness for DependencyReadiness {
    async fn check(&self) -> Vec<DependencyStatus> {
        // Not a ping: whether an append could commit now (a lock on its tables, a read-only
        // or unreachable server all say `503`), answered within 2 s.
        let database = match chat_store::can_commit(&self.db).await {
            Ok(()) => DependencyStatus::up("database"),
            Err(_) => DependencyStatus::down("database", "cannot commit"),
        };
        let mut statuses = vec![database];
        if let Some(pool) = &self.redis {
            statuses.push(if chat_redis::ping(pool).await {
                DependencyStatus::up("redis")
            } else {
                DependencyStatus::down("redis", "unreachable")
            });
        }
        statuses
    }
}

/// A stall of this process longer than this (it was paused, or starved of CPU) may have cost
/// room emits from the other nodes: its sockets get `sync:hint`.
const STALL_LIMIT: Duration = Duration::from_secs(3);

/// How long after a gap the repair waits for the burst (or the resubscriptions) to settle.
const GAP_SETTLE: Duration = Duration::from_millis(200);

/// Answers each gap in this node's room emits (contract 4.6): `sync:hint` to every socket of
/// the node; after a reconnect to Redis, also this node's presence again at once (a restarted
/// Redis lost every lease). Runs until aborted or the rooms client is gone.
async fn repair_gaps(server: SocketServer, mut gaps: RoomsGaps) {
    while gaps.changed().await.is_ok() {
        tokio::time::sleep(GAP_SETTLE).await;
        let gap = *gaps.borrow_and_update();
        tracing::info!(?gap, "this node may have missed room emits: sync:hint");
        // Both at once: the presence pass may retry for a while if Redis still fails.
        let presence = async {
            if gap == RoomsGap::Resubscribed {
                server.reassert_presence().await;
            }
        };
        tokio::join!(presence, server.resync());
    }
}

/// Where sessions, presence, rate limits and rooms live: in this process, or in Redis for
/// several nodes.
struct Shared {
    sessions: Arc<dyn SessionStore>,
    presence: Arc<dyn PresenceStore>,
    rate_limiter: Arc<dyn RateLimiter>,
    rooms: Rooms<RoomsDriver>,
    gaps: Option<RoomsGaps>,
    redis: Option<Pool>,
}

async fn shared(settings: &Settings) -> anyhow::Result<Shared> {
    let Some(url) = &settings.redis_url else {
        return Ok(Shared {
            sessions: Arc::new(MemorySessionStore::new()),
            presence: Arc::new(MemoryPresenceStore::new()),
            rate_limiter: Arc::new(MemoryRateLimiter::new()),
            rooms: Rooms::Local,
            gaps: None,
            redis: None,
        });
    };
    let config = RedisConfig {
        pool_size: settings.redis_pool_size,
        key_prefix: settings.redis_key_prefix.clone(),
        presence_lease: settings.presence_lease,
        ..RedisConfig::new(url.clone())
    };
    let pool = chat_redis::connect(&config)
        .await
        .context("CHAT_REDIS_URL: cannot connect to Redis")?;
    let (rooms, gaps) = chat_redis::rooms_adapter(&config)
        .await
        .context("CHAT_REDIS_URL: cannot start the Socket.IO rooms adapter (Redis >= 7 with RESP3 is needed)")?;
    Ok(Shared {
        sessions: Arc::new(RedisSessionStore::new(pool.clone(), &config)),
        presence: Arc::new(RedisPresenceStore::new(pool.clone(), &config)),
        rate_limiter: Arc::new(RedisRateLimiter::new(pool.clone(), &config)),
        rooms: Rooms::Redis(rooms),
        gaps: Some(gaps),
        redis: Some(pool),
    })
}

fn cors(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let list = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).context("CHAT_CORS_ORIGINS: not a header value"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(list)
            .allow_methods(tower_http::cors::Any)
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
            ])
            .allow_credentials(false),
    ))
}

impl App {
    /// Builds every adapter and the services, and binds the address.
    ///
    /// # Errors
    /// When a dependency cannot be reached, a key cannot be read or the address is taken.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.jwt.dev_secret {
            tracing::warn!(
                "using the development JWT secret: fine on loopback, never in production (set CHAT_JWT_SECRET)"
            );
        }
        let db = open_database(&settings).await?;
        let shared = shared(&settings).await?;
        let tokens = Arc::new(verifier(&settings)?);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let publisher = Arc::new(SocketIoEventPublisher::new());
        let ports = Ports {
            users: Arc::new(SqlUserRepository::new(db.clone())),
            conversations: Arc::new(SqlConversationRepository::new(db.clone())),
            messages: Arc::new(match open_writer(&settings).await? {
                Some(writer) => SqlMessageRepository::with_writer(db.clone(), writer),
                None => SqlMessageRepository::new(db.clone()),
            }),
            blocks: Arc::new(SqlBlockRepository::new(db.clone())),
            mutes: Arc::new(SqlMuteRepository::new(db.clone())),
            sessions: shared.sessions,
            presence: shared.presence,
            rate_limiter: shared.rate_limiter,
            publisher: publisher.clone(),
            tokens,
            clock: clock.clone(),
            ids: Arc::new(UuidV7Ids),
        };
        let policies = policies(&settings);
        let services = Services::new(ports, policies);

        // Half the database pool for connects, a quarter for disconnects; the rest stays for
        // sends.
        let admission = usize::try_from(settings.database_max_connections / 2).unwrap_or(1);
        let sockets = SocketState::new(services.clone(), policies.content, clock)
            .with_allowed_origins(settings.cors_origins.clone())
            .with_admission(admission);
        let socket_config = SocketConfig {
            max_message_bytes: settings.max_ws_message_bytes,
            ping_interval: settings.ping_interval,
            ping_timeout: settings.ping_timeout,
        };

        let metrics = prometheus::renderer(db.clone());
        let presence_every = shared.redis.is_some().then(|| settings.presence_lease / 3);
        let readiness = DependencyReadiness {
            db,
            redis: shared.redis,
        };
        let http = HttpState::new(services, Arc::new(readiness), metrics);
        let http_config = HttpConfig {
            max_body_bytes: settings.max_ws_message_bytes,
        };
        // The web client at `/`; `POST /dev/token` only on the development secret and loopback.
        let dev_tokens = (settings.jwt.dev_secret && settings.bind.ip().is_loopback())
            .then(|| HsTokenIssuer::new(&settings.jwt.secret));
        let router = chat_http::router(http, &http_config).merge(web::router(dev_tokens));
        let (mut router, server) = chat_socketio::mount(
            router,
            socket_config,
            sockets.clone(),
            shared.rooms,
            &publisher,
        )
        .await
        .context("CHAT_REDIS_URL")?;
        if let Some(cors) = cors(&settings.cors_origins)? {
            router = router.layer(cors);
        }
        let router = telemetry::request_logging(router);

        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("CHAT_BIND: cannot listen on {}", settings.bind))?;
        Ok(Self {
            listener,
            router,
            server,
            sockets,
            presence_every,
            gaps: shared.gaps,
        })
    }

    /// The bound address (useful with port 0).
    ///
    /// # Errors
    /// When the socket has no address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes; then refuses new sends, waits (at most 10 s) for the
    /// accepted ones to be committed and acknowledged, closes every socket, and returns once the
    /// in-flight HTTP requests are answered.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            server,
            sockets,
            presence_every,
            gaps,
        } = self;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "chat gateway listening");
        let keeper = presence_every.map(|every| server.keep_presence(every));
        let repair = gaps.map(|gaps| {
            let stalls = server.watch_stalls(STALL_LIMIT);
            (tokio::spawn(repair_gaps(server.clone(), gaps)), stalls)
        });
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let stop = async move {
            shutdown.await;
            tracing::info!("shutting down: draining sends");
            if !sockets.drain(DRAIN_LIMIT).await {
                tracing::warn!("some sends were still in flight after the drain limit");
            }
            if let Some(keeper) = keeper {
                keeper.abort();
            }
            if let Some((gaps, stalls)) = repair {
                gaps.abort();
                stalls.abort();
            }
            if tokio::time::timeout(CLOSE_LIMIT, server.close())
                .await
                .is_err()
            {
                tracing::warn!("closing the sockets took too long");
            }
            tracing::info!("sockets closed");
            let _ = stopped_tx.send(());
        };
        // Nagle's algorithm would hold a second small write (an event right after an ack) until
        // the peer's delayed ACK, up to 40 ms: every socket is latency-bound, so it is off.
        let listener = listener.tap_io(|tcp: &mut tokio::net::TcpStream| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY could not be set");
            }
        });
        let serve = axum::serve(listener, router).with_graceful_shutdown(stop);
        // Once the sockets are closed, in-flight HTTP requests get a bounded time to finish.
        let deadline = async {
            if stopped_rx.await.is_ok() {
                tokio::time::sleep(CLOSE_LIMIT).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = serve => served.context("serving failed"),
            () = deadline => {
                tracing::warn!("connections still open after the shutdown limit; exiting");
                Ok(())
            }
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
