//! Users, their tokens, and many connections at once: minting, creating conversations over
//! REST, connecting with bounded concurrency (or all at once, in a storm) and retrying.

use std::{
    collections::BTreeMap,
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chat_auth::HsTokenIssuer;
use chat_domain::ids::UserId;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{Semaphore, mpsc},
    task::JoinSet,
};
use uuid::Uuid;

use crate::{
    hist::{HistogramData, Latencies, Summary},
    rest,
    sio::{self, ConnectOptions, Endpoint, Handle, Observation},
};

/// What every scenario needs: how to mint tokens and how to connect.
#[derive(Debug, Clone)]
pub struct Ctx {
    issuer: Arc<HsTokenIssuer>,
    /// Token lifetime, seconds.
    pub token_ttl_secs: u64,
    /// Local addresses to spread connections over (empty: the kernel's choice).
    pub source_ips: Vec<IpAddr>,
    /// Handshakes in flight at once when connecting a fleet (not in a storm).
    pub connect_concurrency: usize,
    /// Deadline of one handshake.
    pub connect_timeout: Duration,
    /// A short random tag naming this run's users.
    pub run_tag: String,
}

impl Ctx {
    /// A context minting HS256 tokens with `secret`.
    #[must_use]
    pub fn new(secret: &str) -> Self {
        Self {
            issuer: Arc::new(HsTokenIssuer::new(&SecretString::from(secret.to_owned()))),
            token_ttl_secs: 6 * 3600,
            source_ips: Vec::new(),
            connect_concurrency: 256,
            connect_timeout: Duration::from_secs(20),
            run_tag: Uuid::new_v4().simple().to_string()[..8].to_owned(),
        }
    }

    /// A fresh user with a token.
    ///
    /// # Errors
    /// Signing failed.
    pub fn mint(&self, name: &str) -> anyhow::Result<User> {
        let id = Uuid::new_v4();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let token = self
            .issuer
            .issue(UserId::new(id), Some(name), self.token_ttl_secs, now)
            .context("minting a token")?;
        Ok(User {
            id: id.to_string().into(),
            token: token.into(),
            device_id: format!("bench-{}", &id.simple().to_string()[..12]).into(),
        })
    }

    /// The source address of the `n`th connection.
    #[must_use]
    pub fn source_ip(&self, n: usize) -> Option<IpAddr> {
        (!self.source_ips.is_empty()).then(|| self.source_ips[n % self.source_ips.len()])
    }

    /// A client of `user` on `endpoint`, numbered `conn`.
    #[must_use]
    pub fn client(&self, user: User, endpoint: &Arc<Endpoint>, conn: u32) -> Client {
        Client {
            options: ConnectOptions {
                endpoint: endpoint.clone(),
                token: user.token.clone(),
                device_id: user.device_id.clone(),
                source_ip: self.source_ip(conn as usize),
                timeout: self.connect_timeout,
            },
            user,
            conn,
            handle: None,
        }
    }
}

/// A user of the run.
#[derive(Debug, Clone)]
pub struct User {
    /// The user id (`sub`).
    pub id: Arc<str>,
    /// Its bearer token.
    pub token: Arc<str>,
    /// Its one device.
    pub device_id: Arc<str>,
}

/// One simulated device: a user, where it connects, and its running connection.
#[derive(Debug)]
pub struct Client {
    /// The user.
    pub user: User,
    /// How it connects.
    pub options: ConnectOptions,
    /// Its number (in observations).
    pub conn: u32,
    /// The running connection.
    pub handle: Option<Handle>,
}

impl Client {
    /// Drops the connection at once, if any.
    pub fn drop_connection(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.drop_now();
        }
    }
}

/// How a batch of connects went.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectData {
    /// Clients that tried.
    pub attempted: u64,
    /// Clients connected in the end.
    pub connected: u64,
    /// Of those, greeted with `reconnected` (a resumed session).
    pub resumed: u64,
    /// Failed attempts by reason (retried until the deadline).
    pub attempt_errors: BTreeMap<String, u64>,
    /// Clients that never connected before the deadline.
    pub failed: u64,
    /// Handshake times (or, in a storm, times since the drop) of the connected clients.
    pub times: HistogramData,
    /// Wall time of the whole batch, seconds.
    pub wall_s: f64,
}

impl ConnectData {
    /// Adds another shard's batch (wall time: the longest).
    pub fn merge(&mut self, other: &Self) {
        self.attempted += other.attempted;
        self.connected += other.connected;
        self.resumed += other.resumed;
        self.failed += other.failed;
        for (k, v) in &other.attempt_errors {
            *self.attempt_errors.entry(k.clone()).or_default() += v;
        }
        let mut times = Latencies::from_data(&self.times);
        times.merge(&Latencies::from_data(&other.times));
        self.times = times.to_data();
        self.wall_s = self.wall_s.max(other.wall_s);
    }

    /// The summary form.
    #[must_use]
    pub fn result(&self) -> ConnectResult {
        ConnectResult {
            attempted: self.attempted,
            connected: self.connected,
            resumed: self.resumed,
            failed: self.failed,
            attempt_errors: self.attempt_errors.clone(),
            times: Latencies::from_data(&self.times).summary(),
            wall_s: self.wall_s,
        }
    }
}

/// [`ConnectData`] without the histogram.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectResult {
    /// Clients that tried.
    pub attempted: u64,
    /// Clients connected.
    pub connected: u64,
    /// Greeted with `reconnected`.
    pub resumed: u64,
    /// Never connected.
    pub failed: u64,
    /// Failed attempts by reason.
    pub attempt_errors: BTreeMap<String, u64>,
    /// Connect times.
    pub times: Summary,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// How to connect a batch.
#[derive(Debug, Clone, Copy)]
pub struct ConnectPlan {
    /// Handshakes in flight at once.
    pub concurrency: usize,
    /// Stop retrying at this instant.
    pub deadline: Instant,
    /// Measure each client's time from this instant (a storm's drop) instead of from its own
    /// first attempt.
    pub measure_from: Option<Instant>,
    /// Each client waits a random 0..jitter before its first attempt.
    pub jitter: Duration,
}

fn random_below(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX).max(1);
    let r = u64::try_from(Uuid::new_v4().as_u128() >> 64).unwrap_or(0);
    Duration::from_nanos(r % nanos)
}

/// Connects every client in `clients` that is not connected, retrying failed attempts (with a
/// growing, jittered delay) until the plan's deadline. Connected clients report to `observer`.
pub async fn connect_all(
    clients: &mut [Client],
    plan: ConnectPlan,
    observer: Option<&mpsc::UnboundedSender<Observation>>,
) -> ConnectData {
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let mut set = JoinSet::new();
    let mut data = ConnectData::default();
    for (index, client) in clients.iter().enumerate() {
        if client.handle.is_some() {
            continue;
        }
        data.attempted += 1;
        let options = client.options.clone();
        let user_id = client.user.id.clone();
        let conn = client.conn;
        let observer = observer.cloned();
        let gate = gate.clone();
        set.spawn(async move {
            tokio::time::sleep(random_below(plan.jitter)).await;
            let mut errors: Vec<String> = Vec::new();
            let mut delay = Duration::from_millis(100);
            loop {
                let (outcome, attempt_started) = {
                    let _permit = gate.acquire().await;
                    let attempt_started = Instant::now();
                    (sio::connect(&options).await, attempt_started)
                };
                match outcome {
                    Ok(session) => {
                        let took = plan
                            .measure_from
                            .map_or_else(|| attempt_started.elapsed(), |t| t.elapsed());
                        let resumed = session.resumed;
                        let handle = session.spawn(conn, user_id, observer);
                        return (index, Some((handle, took, resumed)), errors);
                    }
                    Err(e) => {
                        errors.push(e.label());
                        let next = Instant::now() + delay + random_below(delay);
                        if next >= plan.deadline {
                            return (index, None, errors);
                        }
                        tokio::time::sleep_until(next.into()).await;
                        delay = (delay * 2).min(Duration::from_secs(2));
                    }
                }
            }
        });
    }
    let mut times = Latencies::new();
    while let Some(joined) = set.join_next().await {
        let Ok((index, outcome, errors)) = joined else {
            data.failed += 1;
            continue;
        };
        for e in errors {
            *data.attempt_errors.entry(e).or_default() += 1;
        }
        match outcome {
            Some((handle, took, resumed)) => {
                data.connected += 1;
                data.resumed += u64::from(resumed);
                times.record(took);
                if let Some(client) = clients.get_mut(index) {
                    client.handle = Some(handle);
                }
            }
            None => data.failed += 1,
        }
    }
    data.times = times.to_data();
    data.wall_s = started.elapsed().as_secs_f64();
    data
}

/// A one-to-one conversation between two clients (indices into the client list).
#[derive(Debug, Clone)]
pub struct Pair {
    /// The conversation id.
    pub conversation: Arc<str>,
    /// One side.
    pub a: usize,
    /// The other side.
    pub b: usize,
}

/// Mints `count` pairs of users (side `a` on `endpoint_a`, `b` on `endpoint_b`), creates their
/// conversations over REST (on `endpoint_a`), and appends their clients to `clients`, numbered
/// from `clients.len()`.
///
/// # Errors
/// Minting or a REST call failed.
pub async fn make_pairs(
    ctx: &Ctx,
    count: usize,
    endpoint_a: &Arc<Endpoint>,
    endpoint_b: &Arc<Endpoint>,
    clients: &mut Vec<Client>,
) -> anyhow::Result<Vec<Pair>> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count {
        let a = ctx.mint(&format!("bench {} a{i}", ctx.run_tag))?;
        let b = ctx.mint(&format!("bench {} b{i}", ctx.run_tag))?;
        users.push((a, b));
    }
    let gate = Arc::new(Semaphore::new(16));
    let mut set = JoinSet::new();
    for (i, (a, b)) in users.iter().enumerate() {
        let endpoint = endpoint_a.clone();
        let token = a.token.clone();
        let peer = b.id.clone();
        let gate = gate.clone();
        set.spawn(async move {
            let _permit = gate.acquire().await;
            (i, rest::create_one_to_one(&endpoint, &token, &peer).await)
        });
    }
    let mut conversations: Vec<Option<Arc<str>>> = vec![None; count];
    while let Some(joined) = set.join_next().await {
        let (i, created) = joined.context("a REST task panicked")?;
        let id = created.context("creating a conversation")?;
        if let Some(slot) = conversations.get_mut(i) {
            *slot = Some(id.into());
        }
    }
    let mut pairs = Vec::with_capacity(count);
    for ((a, b), conversation) in users.into_iter().zip(conversations) {
        let conversation = conversation.context("a conversation is missing")?;
        let ia = clients.len();
        let conn_a = u32::try_from(ia).context("too many clients")?;
        clients.push(ctx.client(a, endpoint_a, conn_a));
        let ib = clients.len();
        let conn_b = u32::try_from(ib).context("too many clients")?;
        clients.push(ctx.client(b, endpoint_b, conn_b));
        pairs.push(Pair {
            conversation,
            a: ia,
            b: ib,
        });
    }
    Ok(pairs)
}

/// Mints `count` users without conversations and appends their clients, numbered from
/// `clients.len()`, alternating over `endpoints`.
///
/// # Errors
/// Minting failed.
pub fn make_idle(
    ctx: &Ctx,
    count: usize,
    endpoints: &[Arc<Endpoint>],
    clients: &mut Vec<Client>,
) -> anyhow::Result<()> {
    for i in 0..count {
        let user = ctx.mint(&format!("bench {} idle{i}", ctx.run_tag))?;
        let n = clients.len();
        let endpoint = endpoints
            .get(i % endpoints.len().max(1))
            .context("no endpoint")?;
        clients.push(ctx.client(
            user,
            endpoint,
            u32::try_from(n).context("too many clients")?,
        ));
    }
    Ok(())
}
