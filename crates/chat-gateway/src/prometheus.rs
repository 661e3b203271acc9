//! `/metrics`: the Prometheus recorder, a `# HELP` for every series, and the figures the
//! gateway reads at each scrape: the process (`process_*`), the build (`chat_build_info`) and
//! the database pool (`chat_db_pool_connections`).

use std::sync::{Arc, OnceLock};

use chat_store::DatabaseConnection;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::DbBackend;

/// The installed recorder and the process collector.
struct Exporter {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static EXPORTER: OnceLock<Option<Exporter>> = OnceLock::new();

/// The process's recorder, installed on first use (the recorder is global); `None` if another
/// recorder was installed first.
fn exporter() -> Option<&'static Exporter> {
    EXPORTER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
                ])
                .ok()?
                .install_recorder()
                .ok()?;
            let process = metrics_process::Collector::default();
            process.describe();
            describe();
            metrics::gauge!("chat_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(Exporter { handle, process })
        })
        .as_ref()
}

/// `# HELP` of the series this crate records and of chat-socketio's (`chat_socket_*`,
/// `chat_messages_persisted_total`); chat-http describes its own (`http_*`).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "chat_build_info",
        "Always 1; the gateway's version is its label"
    );
    describe_gauge!(
        "chat_db_pool_connections",
        "Connections of the database pool by state (in_use, idle); the append writer's own connection on PostgreSQL is not counted"
    );
    describe_gauge!(
        "chat_socket_connected",
        "Socket.IO connections open on this node"
    );
    describe_counter!(
        "chat_socket_events_total",
        "Socket.IO events answered, by event and outcome (ok or the error code)"
    );
    describe_histogram!(
        "chat_socket_ack_latency_seconds",
        Unit::Seconds,
        "Time from receiving a Socket.IO event to its ack, by event"
    );
    describe_counter!(
        "chat_messages_persisted_total",
        "Messages committed (resends of a stored message not counted)"
    );
}

/// Sets `chat_db_pool_connections` from the pool's own counts.
fn record_pool(db: &DatabaseConnection) {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    metrics::gauge!("chat_db_pool_connections", "state" => "in_use").set(f64::from(size - idle));
    metrics::gauge!("chat_db_pool_connections", "state" => "idle").set(f64::from(idle));
}

/// What `GET /metrics` serves: every metric in the Prometheus text format, the process and
/// pool figures read at that moment (empty if another recorder was installed first).
#[must_use]
pub fn renderer(db: DatabaseConnection) -> chat_http::MetricsRenderer {
    let exporter = exporter();
    Arc::new(move || {
        let Some(exporter) = exporter else {
            return String::new();
        };
        exporter.process.collect();
        record_pool(&db);
        exporter.handle.run_upkeep();
        exporter.handle.render()
    })
}
