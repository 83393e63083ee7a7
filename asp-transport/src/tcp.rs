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
use std::time::Instant;

use asp_core::{Session, SessionConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::driver::{self, Connection, StreamOut};
use crate::error::{AcceptError, ConnectError, admit, await_connected, check_token, provider};
use crate::framing::{read_frame, spawn_reader, write_frame};
use crate::identity::{ServerIdentity, ServerTrust};
use crate::token::TokenKey;

/// Unsent bytes the kernel may hold per socket before a write waits.
const NOTSENT_LOWAT: u32 = 16 * 1024;
use crate::error::SETUP_TIMEOUT;

fn tune(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    socket2::SockRef::from(stream).set_tcp_notsent_lowat(NOTSENT_LOWAT)
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
        let verdict = check_token(&self.tokens, &token);
        let session = Session::server(self.config.clone(), asp_core::Timestamp::ZERO)?;
        let (reader, writer) = tokio::io::split(tls);
        admit(verdict, session, spawn_reader(reader), StreamOut(writer))
    }
}

/// Connects to an ASP server over TLS on TCP, trusting it as `trust` says (a pinned
/// fingerprint converts into it) and presenting `token`. Returns once the ASP handshake has completed.
///
/// # Errors
/// [`ConnectError`] tells a network failure, a certificate mismatch, a refused token and a
/// failed ASP handshake apart.
pub async fn connect(
    addr: SocketAddr,
    trust: impl Into<ServerTrust>,
    token: &str,
    config: SessionConfig,
) -> Result<Connection, ConnectError> {
    let config = SessionConfig { reliable_carrier: true, ..config };
    config.validate()?;
    let (tls, name) = trust.into().client_tls(provider()).map_err(ConnectError::Tls)?;
    let setup = async {
        let tcp = TcpStream::connect(addr).await?;
        tune(&tcp)?;
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
    let conn = driver::spawn(session, Instant::now(), spawn_reader(reader), StreamOut(writer));
    await_connected(conn).await
}
