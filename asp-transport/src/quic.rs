//! The QUIC carrier: ASP datagrams ride QUIC DATAGRAM frames (RFC 9221) on a quinn
//! connection, which brings TLS 1.3, connection migration and NAT keep-alive.
//!
//! Quinn sends application datagrams before stream data and limits everything by its own
//! congestion window. ASP's engine already paces every packet at its rate controller's target
//! and decides what goes next; a second controller underneath would fight it. So the
//! connection runs [`DeferToEngine`]: a controller whose window is large and fixed, which
//! never shrinks on loss, so that quinn sends what the engine hands it when it hands it.
//! Quinn's own pacer derives its rate from that window and the RTT, which puts it far above
//! any rate the engine uses.
//!
//! Admission: the client opens a unidirectional stream and writes its token on it; a refused
//! client gets an ASP CLOSE of code `UNAUTHORIZED`.
#![allow(clippy::disallowed_methods)] // connection set-up timestamps its epoch

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use asp_core::{Session, SessionConfig};
use bytes::Bytes;
use quinn::congestion::{Controller, ControllerFactory};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use tokio::sync::mpsc;

use crate::driver::{self, Connection, DatagramOut};
use crate::error::{AcceptError, ConnectError, SETUP_TIMEOUT, admit, await_connected, check_token, provider};
use crate::identity::{ServerIdentity, ServerTrust};
use crate::token::{TokenError, TokenKey};

/// ALPN protocol name of ASP over QUIC.
pub const ALPN: &[u8] = b"asp/1";
/// The fixed window of [`DeferToEngine`], bytes.
const DEFERRING_WINDOW: u64 = 64 << 20;
/// Longest token read.
const MAX_TOKEN: usize = 1024;

/// A quinn congestion controller that leaves rate control to the ASP engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeferToEngine;

impl Controller for DeferToEngine {
    fn on_congestion_event(&mut self, _now: Instant, _sent: Instant, _persistent: bool, _lost_bytes: u64) {}
    fn on_mtu_update(&mut self, _new_mtu: u16) {}
    fn window(&self) -> u64 {
        DEFERRING_WINDOW
    }
    fn clone_box(&self) -> Box<dyn Controller> {
        Box::new(*self)
    }
    fn initial_window(&self) -> u64 {
        DEFERRING_WINDOW
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl ControllerFactory for DeferToEngine {
    fn build(self: Arc<Self>, _now: Instant, _current_mtu: u16) -> Box<dyn Controller> {
        Box::new(DeferToEngine)
    }
}

fn transport_config() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.congestion_controller_factory(Arc::new(DeferToEngine))
        // The engine keeps the session alive and times it out; QUIC's idle timeout only
        // backs it up.
        .max_idle_timeout(Some(quinn::VarInt::from_u32(30_000).into()))
        .datagram_receive_buffer_size(Some(4 << 20))
        .datagram_send_buffer_size(4 << 20)
        // Datagrams of a full ASP packet must fit from the first flight.
        .initial_mtu(1400);
    Arc::new(t)
}

/// The sending side: QUIC datagrams.
struct QuicOut(quinn::Connection);

impl DatagramOut for QuicOut {
    async fn send(&mut self, datagram: Bytes) -> std::io::Result<()> {
        match self.0.send_datagram(datagram) {
            Ok(()) => Ok(()),
            // Too large for the path right now: the datagram is lost, as on any datagram
            // carrier, and the engine's loss recovery takes over.
            Err(quinn::SendDatagramError::TooLarge) => Ok(()),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) {
        self.0.close(0u32.into(), b"done");
    }
}

/// Incoming datagrams, handed on as a channel.
fn spawn_datagram_reader(conn: quinn::Connection) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        while let Ok(d) = conn.read_datagram().await {
            if tx.send(d).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// The session MTU for a QUIC connection: what one datagram carries.
fn mtu(conn: &quinn::Connection, config: &SessionConfig) -> usize {
    conn.max_datagram_size().unwrap_or(asp_core::config::MIN_MTU).min(config.mtu).max(asp_core::config::MIN_MTU)
}

/// Accepts ASP clients over QUIC.
#[derive(Debug)]
pub struct QuicServer {
    endpoint: quinn::Endpoint,
    tokens: Arc<TokenKey>,
    config: SessionConfig,
}

impl QuicServer {
    /// Listens on UDP `addr` with this identity.
    ///
    /// # Errors
    /// When the address cannot be bound or the identity is unusable.
    pub fn bind(
        addr: SocketAddr,
        identity: &ServerIdentity,
        tokens: TokenKey,
        config: SessionConfig,
    ) -> Result<Self, AcceptError> {
        config.validate()?;
        let (certs, key) = identity.rustls_parts();
        let mut tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| AcceptError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| AcceptError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let crypto = QuicServerConfig::try_from(tls).map_err(|e| AcceptError::Tls(e.to_string()))?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        server.transport_config(transport_config());
        let endpoint = quinn::Endpoint::server(server, addr)?;
        Ok(QuicServer {
            endpoint,
            tokens: Arc::new(tokens),
            config: SessionConfig { reliable_carrier: false, ..config },
        })
    }

    /// The bound UDP address.
    ///
    /// # Errors
    /// As the socket's.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// The next admitted client, with the name in its token.
    ///
    /// # Errors
    /// For a client that failed its handshake or was refused; keep accepting.
    pub async fn accept(&self) -> Result<(Connection, String), AcceptError> {
        let incoming = self.endpoint.accept().await.ok_or_else(|| AcceptError::Tls("endpoint closed".into()))?;
        let setup = async {
            let conn = incoming.await.map_err(|e| AcceptError::Tls(e.to_string()))?;
            let mut stream = conn.accept_uni().await.map_err(|e| AcceptError::Tls(e.to_string()))?;
            let token = stream.read_to_end(MAX_TOKEN).await.map_err(|_| TokenError::Malformed)?;
            Ok::<_, AcceptError>((conn, token))
        };
        let (conn, token) = tokio::time::timeout(SETUP_TIMEOUT, setup)
            .await
            .map_err(|_| AcceptError::Tls("set-up timed out".into()))??;
        let verdict = check_token(&self.tokens, &token);
        let config = SessionConfig { mtu: mtu(&conn, &self.config), ..self.config.clone() };
        let session = Session::server(config, asp_core::Timestamp::ZERO)?;
        admit(verdict, session, spawn_datagram_reader(conn.clone()), QuicOut(conn))
    }
}

/// Connects to an ASP server over QUIC, trusting it as `trust` says and presenting `token`.
/// Returns once the ASP handshake has completed.
///
/// # Errors
/// As [`crate::tcp::connect`].
pub async fn connect(
    addr: SocketAddr,
    trust: impl Into<ServerTrust>,
    token: &str,
    config: SessionConfig,
) -> Result<Connection, ConnectError> {
    let config = SessionConfig { reliable_carrier: false, ..config };
    config.validate()?;
    let (mut tls, name) = trust.into().client_tls(provider()).map_err(ConnectError::Tls)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| ConnectError::Tls(e.to_string()))?;
    let mut client = quinn::ClientConfig::new(Arc::new(crypto));
    client.transport_config(transport_config());
    let bind: SocketAddr =
        if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().map_err(|_| ConnectError::Tls("bind".into()))?;
    let mut endpoint = quinn::Endpoint::client(bind)?;
    endpoint.set_default_client_config(client);
    let setup = async {
        let connecting = endpoint.connect(addr, &name.to_str()).map_err(|e| ConnectError::Tls(e.to_string()))?;
        let conn = connecting.await.map_err(|e| match e {
            quinn::ConnectionError::TransportError(ref t) if t.to_string().contains("certificate") => {
                ConnectError::CertificateMismatch
            }
            quinn::ConnectionError::TimedOut => ConnectError::Timeout,
            other => ConnectError::Tls(other.to_string()),
        })?;
        let mut stream = conn.open_uni().await.map_err(|e| ConnectError::Tls(e.to_string()))?;
        stream.write_all(token.as_bytes()).await.map_err(|e| ConnectError::Tls(e.to_string()))?;
        stream.finish().map_err(|e| ConnectError::Tls(e.to_string()))?;
        Ok::<_, ConnectError>(conn)
    };
    let conn = tokio::time::timeout(SETUP_TIMEOUT, setup).await.map_err(|_| ConnectError::Timeout)??;
    let session_config = SessionConfig { mtu: mtu(&conn, &config), ..config };
    let session = Session::client(session_config, asp_core::Timestamp::ZERO)?;
    let frames = spawn_datagram_reader(conn.clone());
    await_connected(driver::spawn(session, Instant::now(), frames, QuicOut(conn))).await
}
