//! What carriers share: their errors, and the steps of session set-up that do not depend on
//! the carrier (waiting for the ASP handshake, refusing a client in ASP terms).
#![allow(clippy::disallowed_methods)] // tokens expire in wall-clock time

use std::sync::Arc;
use std::time::{Duration, Instant};

use asp_core::{CloseCode, Event, Session, SessionError};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::driver::{self, Connection, DatagramOut};
use crate::token::{TokenError, TokenKey};

/// Time allowed for the carrier's set-up, the token, and the ASP handshake.
pub(crate) const SETUP_TIMEOUT: Duration = Duration::from_secs(5);

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

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Waits for the ASP handshake on a fresh client connection.
pub(crate) async fn await_connected(mut conn: Connection) -> Result<Connection, ConnectError> {
    match tokio::time::timeout(SETUP_TIMEOUT, conn.next_event()).await {
        Ok(Some(Event::Connected(_))) => Ok(conn),
        Ok(Some(Event::Closed(SessionError::ClosedByPeer { code: CloseCode::UNAUTHORIZED, reason }))) => {
            Err(ConnectError::Unauthorized(reason))
        }
        Ok(Some(Event::Closed(e))) => Err(ConnectError::Session(e)),
        Ok(Some(_) | None) | Err(_) => Err(ConnectError::Timeout),
    }
}

/// Checks a client's token as it came off the carrier.
pub(crate) fn check_token(tokens: &TokenKey, raw: &[u8]) -> Result<String, TokenError> {
    std::str::from_utf8(raw).map_err(|_| TokenError::Malformed).and_then(|t| tokens.verify(t, crate::token::unix_now()))
}

/// Starts the session of an admitted client, or refuses it in ASP terms.
pub(crate) fn admit<W: DatagramOut>(
    verdict: Result<String, TokenError>,
    session: Session,
    frames: mpsc::Receiver<Bytes>,
    out: W,
) -> Result<(Connection, String), AcceptError> {
    let epoch = Instant::now();
    match verdict {
        Ok(client) => Ok((driver::spawn(session, epoch, frames, out), client)),
        Err(e) => {
            refuse(session, epoch, frames, out, &e);
            Err(AcceptError::Unauthorized(e))
        }
    }
}

/// Refuses a client in ASP terms, so that it can tell a refusal from a network failure: the
/// session answers its Hello with a CLOSE of code `UNAUTHORIZED` and winds down on its own.
fn refuse<W: DatagramOut>(
    mut session: Session,
    epoch: Instant,
    frames: mpsc::Receiver<Bytes>,
    out: W,
    why: &TokenError,
) {
    session.close(asp_core::Timestamp::ZERO, CloseCode::UNAUTHORIZED, &why.to_string());
    let mut conn = driver::spawn(session, epoch, frames, out);
    tokio::spawn(async move { while conn.next_event().await.is_some() {} });
}
