//! Carrier selection as a real client does it: QUIC first; if UDP gets no answer within
//! [`QUIC_GRACE`], TCP as well, and whichever completes first wins. A definite answer over
//! QUIC (a refused token, a wrong certificate) is final: falling back would not change it.

use std::net::SocketAddr;
use std::time::Duration;

use asp_core::SessionConfig;

use crate::driver::Connection;
use crate::error::ConnectError;
use crate::identity::ServerTrust;
use crate::{quic, tcp};

/// How long QUIC has alone before TCP is tried beside it.
pub const QUIC_GRACE: Duration = Duration::from_millis(300);

/// Which carrier a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// QUIC datagrams over UDP.
    Quic,
    /// TLS over TCP.
    Tcp,
}

impl Carrier {
    /// `quic` or `tcp`, as reports and command lines spell it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Quic => "quic",
            Self::Tcp => "tcp",
        }
    }
}

/// A server's addresses: UDP for QUIC, TCP for the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerAddrs {
    /// QUIC (UDP).
    pub quic: SocketAddr,
    /// TLS over TCP.
    pub tcp: SocketAddr,
}

fn definite(e: &ConnectError) -> bool {
    matches!(
        e,
        ConnectError::CertificateMismatch
            | ConnectError::Unauthorized(_)
            | ConnectError::Session(_)
            | ConnectError::Config(_)
    )
}

/// Connects over QUIC, or over TCP when UDP does not answer.
///
/// # Errors
/// QUIC's definite refusal, or TCP's error when both failed.
pub async fn connect(
    addrs: ServerAddrs,
    trust: impl Into<ServerTrust>,
    token: &str,
    config: SessionConfig,
) -> Result<(Connection, Carrier), ConnectError> {
    let trust = trust.into();
    let quic = quic::connect(addrs.quic, trust.clone(), token, config.clone());
    tokio::pin!(quic);
    tokio::select! {
        result = &mut quic => match result {
            Ok(conn) => return Ok((conn, Carrier::Quic)),
            Err(e) if definite(&e) => return Err(e),
            Err(_) => {}
        },
        () = tokio::time::sleep(QUIC_GRACE) => {}
    }
    let tcp = tcp::connect(addrs.tcp, trust, token, config);
    tokio::pin!(tcp);
    tokio::select! {
        result = &mut quic => match result {
            Ok(conn) => Ok((conn, Carrier::Quic)),
            Err(e) if definite(&e) => Err(e),
            Err(_) => tcp.await.map(|c| (c, Carrier::Tcp)),
        },
        result = &mut tcp => result.map(|c| (c, Carrier::Tcp)),
    }
}
