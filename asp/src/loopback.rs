//! A server and a client in one process, over QUIC or TLS/TCP on loopback, optionally through
//! the user-space impairment relay: what `asp demo`, `asp bench` and the tests run.

use std::net::SocketAddr;

use asp_core::SessionConfig;
use asp_transport::identity::ServerIdentity;
use asp_transport::quic::{self, QuicServer};
use asp_transport::relay::{Relay, Schedule};
use asp_transport::select::Carrier;
use asp_transport::tcp::{self, TcpServer};
use asp_transport::token::{self, TokenKey};
use asp_transport::{AcceptError, ConnectError};

use crate::client::{ClientConfig, ClientError, ClientSession};
use crate::clock::Clock;
use crate::server::{ServerConfig, ServerError, ServerSession};
use crate::sink::FrameSink;
use crate::source::{FrameSource, InputInjector};

/// An emulated link between the two ends.
#[derive(Debug, Clone, Default)]
pub struct LinkEmulation {
    /// Client to server.
    pub up: Schedule,
    /// Server to client.
    pub down: Schedule,
    /// Seed of the relay's randomness.
    pub seed: u64,
}

/// How to connect the two ends.
#[derive(Debug, Clone)]
pub struct LoopbackOptions {
    /// QUIC or TLS over TCP.
    pub carrier: Carrier,
    /// Through the relay, or directly.
    pub link: Option<LinkEmulation>,
    /// The engine's configuration (both ends).
    pub session: SessionConfig,
}

impl Default for LoopbackOptions {
    fn default() -> Self {
        Self { carrier: Carrier::Quic, link: None, session: SessionConfig::default() }
    }
}

/// Why the loopback pair could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// Setting up keys or sockets failed.
    #[error("set-up failed: {0}")]
    Setup(String),
    /// The server refused or failed to accept.
    #[error(transparent)]
    Accept(#[from] AcceptError),
    /// The client could not connect.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server pipeline did not start.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The client pipeline did not start.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A running pair. Stop the client first, then the server, or drop both.
#[derive(Debug)]
pub struct Loopback {
    /// The server's pipeline.
    pub server: ServerSession,
    /// The client's pipeline.
    pub client: ClientSession,
    /// Which carrier connects them.
    pub carrier: Carrier,
    relay: Option<Relay>,
}

fn key_and_token() -> Result<(TokenKey, String), LoopbackError> {
    let secret = token::random_secret().map_err(|_| LoopbackError::Setup("no randomness".into()))?;
    let key = TokenKey::new(&secret);
    let token = key.issue("loopback", token::expiry_after(std::time::Duration::from_secs(24 * 3600)));
    Ok((key, token))
}

async fn relay_for(link: &LinkEmulation, carrier: Carrier, upstream: SocketAddr) -> std::io::Result<Relay> {
    let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
    match carrier {
        Carrier::Quic => Relay::udp(listen, upstream, link.up.clone(), link.down.clone(), link.seed).await,
        Carrier::Tcp => Relay::tcp(listen, upstream, link.up.clone(), link.down.clone(), link.seed).await,
    }
}

impl Loopback {
    /// Starts a server streaming `source` and a client showing into `sink`. Both ends use
    /// `clock`, but the client still estimates the offset as it would between two hosts.
    ///
    /// # Errors
    /// [`LoopbackError`] naming the step that failed.
    pub async fn start(
        source: Box<dyn FrameSource>,
        injector: Option<Box<dyn InputInjector>>,
        sink: Box<dyn FrameSink>,
        server_config: ServerConfig,
        client_config: ClientConfig,
        options: LoopbackOptions,
    ) -> Result<Self, LoopbackError> {
        let identity = ServerIdentity::generate(&["localhost"]).map_err(|e| LoopbackError::Setup(e.to_string()))?;
        let (key, token) = key_and_token()?;
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        let config = options.session.clone();
        let clock = Clock::new();
        let (addr, accept) = match options.carrier {
            Carrier::Quic => {
                let server = QuicServer::bind(any, &identity, key, config.clone())?;
                let addr = server.local_addr().map_err(|e| LoopbackError::Setup(e.to_string()))?;
                (addr, tokio::spawn(async move { server.accept().await }))
            }
            Carrier::Tcp => {
                let server = TcpServer::bind(any, &identity, key, config.clone()).await?;
                let addr = server.local_addr().map_err(|e| LoopbackError::Setup(e.to_string()))?;
                (addr, tokio::spawn(async move { server.accept().await }))
            }
        };
        let relay = match &options.link {
            Some(link) => {
                Some(relay_for(link, options.carrier, addr).await.map_err(|e| LoopbackError::Setup(e.to_string()))?)
            }
            None => None,
        };
        let target = relay.as_ref().map_or(addr, Relay::local_addr);
        let client_conn = match options.carrier {
            Carrier::Quic => quic::connect(target, identity.fingerprint(), &token, config).await?,
            Carrier::Tcp => tcp::connect(target, identity.fingerprint(), &token, config).await?,
        };
        let (server_conn, _) = accept.await.map_err(|e| LoopbackError::Setup(e.to_string()))??;
        let client = ClientSession::start(client_conn, sink, client_config, clock).await?;
        let server = ServerSession::start(server_conn, source, injector, server_config, clock).await?;
        Ok(Loopback { server, client, carrier: options.carrier, relay })
    }

    /// Stops both ends (client first) and returns their final figures.
    pub async fn stop(self) -> (crate::server::ServerStats, crate::client::ClientStats) {
        let client = self.client.stop().await;
        let server = self.server.stop().await;
        drop(self.relay);
        (server, client)
    }
}
