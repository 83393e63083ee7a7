//! A server for remote clients: listens for QUIC on a UDP port and for TLS over TCP on the same
//! TCP port, admits clients by token, and runs one [`ServerSession`] per client, each with its
//! own source opened from a [`source::open`](crate::source::open) spec. What `asp serve` and the
//! bindings' `Server` run.
//!
//! The host reports what happens as [`HostEvent`]s (a client came, stalled, left; a client was
//! refused) and keeps figures for every client in [`HostStats`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use asp_core::SessionConfig;
use asp_transport::identity::{Fingerprint, ServerIdentity};
use asp_transport::quic::QuicServer;
use asp_transport::select::Carrier;
use asp_transport::tcp::TcpServer;
use asp_transport::token::{self, TokenKey};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::server::{ServerConfig, ServerSession, ServerStats, StallAlarm};

/// The port servers listen on unless told otherwise (UDP and TCP).
pub const DEFAULT_PORT: u16 = 7420;

/// How the host listens and what it serves.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where to listen: UDP for QUIC and TCP for the fallback, on the same port. Port 0 picks a
    /// free port that is free for both.
    pub listen: SocketAddr,
    /// What each client sees (see [`crate::source::open`]).
    pub source: String,
    /// Picture size of synthetic scenes.
    pub size: (u32, u32),
    /// The pipeline's configuration, for every client.
    pub server: ServerConfig,
    /// The engine's configuration.
    pub session: SessionConfig,
    /// When set, each client's synthetic scene uses this seed, so that every client sees the
    /// same pictures; when absent, client *n* gets seed *n*.
    pub seed: Option<u64>,
    /// Audio each client hears (see [`crate::audio::source::open`]: `tone:HZ`, `wav:PATH`,
    /// `pulse[:SOURCE]` with the `pulse` feature).
    pub audio: Option<String>,
    /// Where each client's microphone goes (see [`crate::audio::sink::open`]: `wav:PATH`,
    /// `pulse[:SINK]` with the `pulse` feature, `discard`); absent: discarded, but still
    /// decoded and measured.
    pub microphone: Option<String>,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            listen: ([0, 0, 0, 0], DEFAULT_PORT).into(),
            source: "synth:office".into(),
            size: (1920, 1080),
            server: ServerConfig::default(),
            session: SessionConfig::default(),
            seed: None,
            audio: None,
            microphone: None,
        }
    }
}

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The source spec is wrong or the source does not open.
    #[error("source: {0}")]
    Source(#[from] crate::source::SourceError),
    /// The audio spec is wrong or its file does not open.
    #[error("audio: {0}")]
    Audio(String),
    /// Binding the sockets failed.
    #[error("cannot listen: {0}")]
    Listen(String),
}

/// Something that happened to the host's clients, in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HostEvent {
    /// A client was admitted and its pipeline started.
    Connected {
        /// The host's number for it (1, 2, ...).
        client: u64,
        /// The name in its token.
        name: String,
        /// How it came.
        carrier: Carrier,
    },
    /// A connection attempt failed (bad token, TLS error, ...).
    Refused {
        /// Why.
        reason: String,
    },
    /// A client's pipeline did not start.
    Failed {
        /// The host's number for it.
        client: u64,
        /// Why.
        error: String,
    },
    /// A client reported a stall.
    Stall {
        /// The host's number for it.
        client: u64,
        /// What it reported.
        alarm: StallAlarm,
    },
    /// A client left (or the host stopped its session).
    Left {
        /// The host's number for it.
        client: u64,
        /// Its pipeline's final figures.
        stats: Box<ServerStats>,
    },
}

/// One client's figures.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    /// The host's number for it.
    pub client: u64,
    /// The name in its token.
    pub name: String,
    /// How it came.
    pub carrier: Carrier,
    /// Whether its session still runs.
    pub active: bool,
    /// Its pipeline's figures (refreshed every [`REFRESH`] while active).
    pub stats: ServerStats,
}

/// The host's figures.
#[derive(Debug, Clone, Default)]
pub struct HostStats {
    /// Clients admitted.
    pub clients_admitted: u64,
    /// Connection attempts refused.
    pub clients_refused: u64,
    /// Clients whose pipeline did not start.
    pub clients_failed: u64,
    /// The active clients and the [`MAX_RECORDS`] newest that left, oldest first.
    pub clients: Vec<ClientRecord>,
}

impl HostStats {
    /// Clients whose session still runs.
    #[must_use]
    pub fn active(&self) -> usize {
        self.clients.iter().filter(|c| c.active).count()
    }
}

/// How often an active client's figures are copied into [`HostStats`].
pub const REFRESH: Duration = Duration::from_millis(200);

/// Records of departed clients kept in [`HostStats::clients`].
pub const MAX_RECORDS: usize = 64;

/// Events kept for a caller that does not read them; older ones are dropped.
const MAX_EVENTS: usize = 1024;

#[derive(Debug, Default)]
struct State {
    stats: HostStats,
    events: VecDeque<HostEvent>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn emit(&self, event: HostEvent) {
        {
            let mut state = self.lock();
            if state.events.len() == MAX_EVENTS {
                state.events.pop_front();
            }
            state.events.push_back(event);
        }
        self.wake.notify_one();
    }

    fn update(&self, client: u64, stats: ServerStats, active: bool) {
        let mut state = self.lock();
        if let Some(record) = state.stats.clients.iter_mut().find(|r| r.client == client) {
            record.stats = stats;
            record.active = active;
        }
        if !active {
            let departed = state.stats.clients.iter().filter(|r| !r.active).count();
            if departed > MAX_RECORDS
                && let Some(oldest) = state.stats.clients.iter().position(|r| !r.active)
            {
                state.stats.clients.remove(oldest);
            }
        }
    }
}

/// A running host. Dropping it stops accepting; [`stop`](Self::stop) also ends the sessions
/// and waits for them.
#[derive(Debug)]
pub struct Host {
    port: u16,
    fingerprint: Fingerprint,
    tokens: TokenKey,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Host {
    /// Binds the sockets and starts accepting. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`HostError::Source`] when the source does not open (checked once before listening, so
    /// that clients are never told to connect to a host that cannot serve them);
    /// [`HostError::Listen`] when the sockets cannot be bound.
    pub async fn start(config: HostConfig, identity: &ServerIdentity, secret: &[u8; 32]) -> Result<Self, HostError> {
        drop(crate::source::open(&config.source, config.size, 0)?);
        if let Some(audio) = &config.audio {
            drop(crate::audio::source::open(audio).map_err(HostError::Audio)?);
        }
        let (quic, tcp) = bind_both(config.listen, identity, secret, &config.session).await?;
        let port = quic.local_addr().map_err(|e| HostError::Listen(e.to_string()))?.port();
        let shared = Arc::new(Shared::default());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(quic, tcp, config, shared.clone(), stopped));
        Ok(Self { port, fingerprint: identity.fingerprint(), tokens: TokenKey::new(secret), shared, stop, task })
    }

    /// The port it listens on, UDP and TCP.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The fingerprint of its certificate, which clients pin.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// A token that admits a client called `name` for `valid_for`.
    #[must_use]
    pub fn issue_token(&self, name: &str, valid_for: Duration) -> String {
        self.tokens.issue(name, token::expiry_after(valid_for))
    }

    /// The figures so far.
    #[must_use]
    pub fn stats(&self) -> HostStats {
        self.shared.lock().stats.clone()
    }

    /// The next event if one is waiting.
    pub fn try_event(&self) -> Option<HostEvent> {
        self.shared.lock().events.pop_front()
    }

    /// The next event; `None` once the host has stopped and every event was read.
    pub async fn next_event(&self) -> Option<HostEvent> {
        loop {
            let notified = self.shared.wake.notified();
            if let Some(e) = self.try_event() {
                return Some(e);
            }
            if self.task.is_finished() {
                return None;
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep(REFRESH) => {}
            }
        }
    }

    /// Stops accepting, ends every session and waits for them; returns the final figures.
    pub async fn stop(mut self) -> HostStats {
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
        self.shared.lock().stats.clone()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// QUIC on `listen`, then TLS/TCP on the port QUIC got. With port 0 the UDP port may be taken
/// for TCP; a few tries find one free for both.
async fn bind_both(
    listen: SocketAddr,
    identity: &ServerIdentity,
    secret: &[u8; 32],
    session: &SessionConfig,
) -> Result<(QuicServer, TcpServer), HostError> {
    let tries = if listen.port() == 0 { 8 } else { 1 };
    let mut last = String::new();
    for _ in 0..tries {
        let quic = QuicServer::bind(listen, identity, TokenKey::new(secret), session.clone())
            .map_err(|e| HostError::Listen(e.to_string()))?;
        let port = quic.local_addr().map_err(|e| HostError::Listen(e.to_string()))?.port();
        let tcp_addr = SocketAddr::new(listen.ip(), port);
        match TcpServer::bind(tcp_addr, identity, TokenKey::new(secret), session.clone()).await {
            Ok(tcp) => return Ok((quic, tcp)),
            Err(e) => last = e.to_string(),
        }
    }
    Err(HostError::Listen(format!("no port free for both UDP and TCP: {last}")))
}

async fn accept_loop(
    quic: QuicServer,
    tcp: TcpServer,
    config: HostConfig,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut sessions = JoinSet::new();
    let mut next_client = 0u64;
    loop {
        let accepted = tokio::select! {
            r = quic.accept() => r.map(|(c, who)| (c, who, Carrier::Quic)),
            r = tcp.accept() => r.map(|(c, who)| (c, who, Carrier::Tcp)),
            Some(_) = sessions.join_next(), if !sessions.is_empty() => continue,
            _ = stopped.changed() => break,
        };
        let (connection, name, carrier) = match accepted {
            Ok(a) => a,
            Err(e) => {
                shared.lock().stats.clients_refused += 1;
                shared.emit(HostEvent::Refused { reason: e.to_string() });
                continue;
            }
        };
        next_client += 1;
        let client = next_client;
        let seed = config.seed.unwrap_or(client);
        let started = match crate::source::open(&config.source, config.size, seed) {
            Ok((source, injector)) => {
                ServerSession::start(connection, source, injector, config.server.clone(), Clock::new())
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let started = started.and_then(|mut session| {
            if let Some(spec) = &config.audio {
                let audio = crate::audio::source::open(spec)?;
                session.attach_audio_source(audio).map_err(|e| e.to_string())?;
            }
            let microphone = crate::audio::sink::open(config.microphone.as_deref().unwrap_or("discard"))?;
            session.attach_audio_sink(microphone).map_err(|e| e.to_string())?;
            Ok(session)
        });
        match started {
            Ok(session) => {
                {
                    let mut state = shared.lock();
                    state.stats.clients_admitted += 1;
                    state.stats.clients.push(ClientRecord {
                        client,
                        name: name.clone(),
                        carrier,
                        active: true,
                        stats: session.stats(),
                    });
                }
                shared.emit(HostEvent::Connected { client, name, carrier });
                sessions.spawn(watch_session(client, session, shared.clone(), stopped.clone()));
            }
            Err(error) => {
                shared.lock().stats.clients_failed += 1;
                shared.emit(HostEvent::Failed { client, error });
            }
        }
    }
    while sessions.join_next().await.is_some() {}
}

/// Forwards one client's alarms, refreshes its figures, and stops it when it ends or the host
/// stops.
async fn watch_session(
    client: u64,
    mut session: ServerSession,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    while !session.is_finished() && !*stopped.borrow() {
        tokio::select! {
            Some(alarm) = session.next_alarm() => shared.emit(HostEvent::Stall { client, alarm }),
            () = tokio::time::sleep(REFRESH) => {}
            _ = stopped.changed() => {}
        }
        shared.update(client, session.stats(), true);
    }
    let stats = session.stop().await;
    shared.update(client, stats.clone(), false);
    shared.emit(HostEvent::Left { client, stats: Box::new(stats) });
}

/// A server's keys: its certificate and private key, and the secret its tokens are signed
/// with.
pub type Keys = (ServerIdentity, [u8; 32]);

/// Loads `cert.der`, `key.der` and `token.key` from `dir`, or makes new ones and saves them
/// there (creating `dir`); the flag says whether they are new. Keeping them lets clients keep
/// the fingerprint they pinned and the tokens they were given.
///
/// # Errors
/// A message naming the file that could not be read or written.
pub fn keys_from_dir(dir: &std::path::Path) -> Result<(ServerIdentity, [u8; 32], bool), String> {
    let read = |name: &str| std::fs::read(dir.join(name));
    if let (Ok(cert_der), Ok(key_der), Ok(secret)) = (read("cert.der"), read("key.der"), read("token.key")) {
        let secret: [u8; 32] =
            secret.try_into().map_err(|_| format!("{}: token.key must be 32 bytes", dir.display()))?;
        return Ok((ServerIdentity { cert_der, key_der }, secret, false));
    }
    let (identity, secret) = fresh_keys()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, bytes) in
        [("cert.der", &identity.cert_der[..]), ("key.der", &identity.key_der[..]), ("token.key", &secret[..])]
    {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("{}/{name}: {e}", dir.display()))?;
    }
    Ok((identity, secret, true))
}

/// New keys, kept nowhere (for servers that live as long as their process).
///
/// # Errors
/// A message when the certificate cannot be made or there is no randomness.
pub fn fresh_keys() -> Result<Keys, String> {
    let identity = ServerIdentity::generate(&["localhost"]).map_err(|e| e.to_string())?;
    let secret = token::random_secret().map_err(|_| "no randomness".to_owned())?;
    Ok((identity, secret))
}
