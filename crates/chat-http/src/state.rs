//! What the routes share: the domain services, the readiness probe, the metrics renderer, and
//! the HTTP configuration.

use std::{fmt, sync::Arc};

use chat_domain::service::Services;

/// Renders the process's metrics in the Prometheus text format.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// The state every handler sees.
#[derive(Clone)]
pub struct HttpState {
    /// The use-case services.
    pub services: Services,
    /// Checks the backing services for `GET /health/ready`.
    pub readiness: Arc<dyn Readiness>,
    /// Renders `GET /metrics`.
    pub metrics: MetricsRenderer,
}

impl HttpState {
    /// State over `services`, with `readiness` and a `metrics` renderer.
    #[must_use]
    pub fn new(
        services: Services,
        readiness: Arc<dyn Readiness>,
        metrics: MetricsRenderer,
    ) -> Self {
        Self {
            services,
            readiness,
            metrics,
        }
    }
}

impl fmt::Debug for HttpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpState")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// The HTTP settings the router applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Largest request body accepted (`CHAT_MAX_WS_MESSAGE_BYTES`); larger ones get `413`.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 65_536,
        }
    }
}

/// The state of one backing service (database, Redis, …), as `GET /health/ready` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyStatus {
    /// Its name (`database`, `redis`).
    pub name: String,
    /// Whether it answered.
    pub ok: bool,
    /// Why not, or any other short note. Never a secret: it reaches the client.
    pub detail: Option<String>,
}

impl DependencyStatus {
    /// A dependency that answered.
    #[must_use]
    pub fn up(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: true,
            detail: None,
        }
    }

    /// A dependency that did not, and why.
    #[must_use]
    pub fn down(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: false,
            detail: Some(detail.into()),
        }
    }
}

/// Checks whether the backing services are reachable. The gateway implements it over its
/// database pool and Redis client.
#[async_trait::async_trait]
pub trait Readiness: Send + Sync {
    /// The state of every dependency; the node is ready when all are `ok`.
    async fn check(&self) -> Vec<DependencyStatus>;
}

/// A [`Readiness`] with nothing to check: always ready (single node, in-process adapters).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDependencies;

#[async_trait::async_trait]
impl Readiness for NoDependencies {
    async fn check(&self) -> Vec<DependencyStatus> {
        Vec::new()
    }
}
