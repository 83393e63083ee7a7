//! The TLS-over-TCP carrier, for networks that block UDP. ASP datagrams travel length-framed
//! in one TLS 1.3 stream; the engine is told the carrier is reliable and stops retransmitting.
//! Nagle is off and `TCP_NOTSENT_LOWAT` small, so that the kernel holds little unsent data and
//! the engine's scheduler, not the socket buffer, decides what goes next.
//!
//! Admission: right after the TLS handshake the client sends its token as the first frame. A
//! server that refuses it still answers in ASP, with a CLOSE of code `UNAUTHORIZED`, so the
//! client learns why.
#![allow(clippy::disallowed_methods)] // connection set-up timestamps its epoch

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use asp_core::{CloseCode, Event, Session, SessionConfig, SessionError};
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::driver::{self, Connection};
use crate::framing::{read_frame, spawn_reader, write_frame};
use crate::identity::{Fingerprint, PinnedVerifier, ServerIdentity};
use crate::token::{TokenError, TokenKey};

/// Unsent bytes the kernel may hold per socket before a write waits.
const NOTSENT_LOWAT: u32 = 16 * 1024;
/// Time allowed for TCP, TLS and the token.
const SETUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a client could not connect.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The network: refused, unreachable, reset.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// Set-up took longer than allowed.
    #[error("connection set-up timed out")]
    Timeout,
    /// The server's certificate is not the pinned one.
    #[error("the server's certificate does not match the pinned fingerprint")]
    CertificateMismatch,
    /// Another TLS failure.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server refused the token.
    #[error("not admitted: {0}")]
    Unauthorized(String),
    /// The ASP session failed (version, capabilities, ...).
    #[error(transparent)]
    Session(SessionError),
    /// The session configuration is invalid.
    #[error(transparent)]
    Config(#[from] asp_core::InvalidConfig),
}

/// Why an incoming connection was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The network.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// TLS failed or set-up timed out.
    #[error("TLS: {0}")]
    Tls(String),
    /// The client's token was refused (and the client told so).
    #[error("client refused: {0}")]
    Unauthorized(#[from] TokenError),
    /// The session configuration is invalid.
    #[error(transparent)]
    Config(#[from] asp_core::InvalidConfig),
}

fn tune(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    socket2::SockRef::from(stream).set_tcp_notsent_lowat(NOTSENT_LOWAT)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts ASP clients over TLS on TCP.
pub struct TcpServer {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tokens: Arc<TokenKey>,
    config: SessionConfig,
}

impl std::fmt::Debug for TcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpServer").field("listener", &self.listener).finish_non_exhaustive()
    }
}

impl TcpServer {
    /// Listens on `addr` with this identity, admitting clients whose token `tokens` verifies.
    ///
    /// # Errors
    /// When the address cannot be bound or the identity is unusable.
    pub async fn bind(
        addr: SocketAddr,
        identity: &ServerIdentity,
        tokens: TokenKey,
        config: SessionConfig,
    ) -> Result<Self, AcceptError> {
        config.validate()?;
        let (certs, key) = identity.rustls_parts();
        let tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| AcceptError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| AcceptError::Tls(e.to_string()))?;
        Ok(TcpServer {
            listener: TcpListener::bind(addr).await?,
            acceptor: TlsAcceptor::from(Arc::new(tls)),
            tokens: Arc::new(tokens),
            config: SessionConfig { reliable_carrier: true, ..config },
        })
    }

    /// The bound address.
    ///
    /// # Errors
    /// As the socket's.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next admitted client, with the name in its token.
    ///
    /// # Errors
    /// For a client that failed TLS or was refused; keep accepting.
    pub async fn accept(&self) -> Result<(Connection, String), AcceptError> {
        let (tcp, _) = self.listener.accept().await?;
        tune(&tcp)?;
        let setup = async {
            let mut tls = self.acceptor.accept(tcp).await.map_err(|e| AcceptError::Tls(e.to_string()))?;
            let token =
                read_frame(&mut tls).await?.ok_or_else(|| AcceptError::Tls("closed before its token".into()))?;
            Ok::<_, AcceptError>((tls, token))
        };
        let (tls, token) = tokio::time::timeout(SETUP_TIMEOUT, setup)
            .await
            .map_err(|_| AcceptError::Tls("set-up timed out".into()))??;
        let verdict = std::str::from_utf8(&token)
            .map_err(|_| TokenError::Malformed)
            .and_then(|t| self.tokens.verify(t, unix_now()));
        let epoch = Instant::now();
        let mut session = Session::server(self.config.clone(), asp_core::Timestamp::ZERO)?;
        let (reader, writer) = tokio::io::split(tls);
        match verdict {
            Ok(client) => Ok((driver::spawn(session, epoch, spawn_reader(reader), writer), client)),
            Err(e) => {
                // Answer in ASP so the client can tell a refusal from a network failure.
                session.close(asp_core::Timestamp::ZERO, CloseCode::UNAUTHORIZED, &e.to_string());
                let mut conn = driver::spawn(session, epoch, spawn_reader(reader), writer);
                tokio::spawn(async move { while conn.next_event().await.is_some() {} });
                Err(AcceptError::Unauthorized(e))
            }
        }
    }
}

/// Connects to an ASP server over TLS on TCP, pinning its certificate's fingerprint and
/// presenting `token`. Returns once the ASP handshake has completed.
///
/// # Errors
/// [`ConnectError`] tells a network failure, a certificate mismatch, a refused token and a
/// failed ASP handshake apart.
pub async fn connect(
    addr: SocketAddr,
    pin: Fingerprint,
    token: &str,
    config: SessionConfig,
) -> Result<Connection, ConnectError> {
    let config = SessionConfig { reliable_carrier: true, ..config };
    config.validate()?;
    let provider = provider();
    let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| ConnectError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedVerifier { pin, provider }))
        .with_no_client_auth();
    let setup = async {
        let tcp = TcpStream::connect(addr).await?;
        tune(&tcp)?;
        let name = ServerName::try_from("asp.invalid").map_err(|e| ConnectError::Tls(e.to_string()))?;
        let mut stream = TlsConnector::from(Arc::new(tls)).connect(name, tcp).await.map_err(|e| {
            let rustls_error = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
            match rustls_error {
                Some(rustls::Error::InvalidCertificate(_)) => ConnectError::CertificateMismatch,
                _ => ConnectError::Tls(e.to_string()),
            }
        })?;
        write_frame(&mut stream, token.as_bytes()).await?;
        Ok::<_, ConnectError>(stream)
    };
    let stream = tokio::time::timeout(SETUP_TIMEOUT, setup).await.map_err(|_| ConnectError::Timeout)??;
    let session = Session::client(config, asp_core::Timestamp::ZERO)?;
    let (reader, writer) = tokio::io::split(stream);
    let mut conn = driver::spawn(session, Instant::now(), spawn_reader(reader), writer);
    match tokio::time::timeout(SETUP_TIMEOUT, conn.next_event()).await {
        Ok(Some(Event::Connected(_))) => Ok(conn),
        Ok(Some(Event::Closed(SessionError::ClosedByPeer { code: CloseCode::UNAUTHORIZED, reason }))) => {
            Err(ConnectError::Unauthorized(reason))
        }
        Ok(Some(Event::Closed(e))) => Err(ConnectError::Session(e)),
        Ok(Some(_) | None) | Err(_) => Err(ConnectError::Timeout),
    }
}
