//! How a session ends: close codes on the wire and the error the application sees.

/// A close reason code, carried in the CLOSE frame (docs/PROTOCOL.md §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u64);

impl CloseCode {
    /// Normal end of session.
    pub const NORMAL: CloseCode = CloseCode(0);
    /// The peer broke the protocol.
    pub const PROTOCOL_VIOLATION: CloseCode = CloseCode(1);
    /// No common wire version.
    pub const VERSION_MISMATCH: CloseCode = CloseCode(2);
    /// Capabilities do not intersect (no common codec, ...).
    pub const CAPABILITY_MISMATCH: CloseCode = CloseCode(3);
    /// The server has no room for another session.
    pub const SERVER_BUSY: CloseCode = CloseCode(4);
    /// Admission refused (token, policy).
    pub const UNAUTHORIZED: CloseCode = CloseCode(5);
    /// An internal error at the closing end.
    pub const INTERNAL: CloseCode = CloseCode(6);
    /// The user or application ended the session.
    pub const USER: CloseCode = CloseCode(7);
    /// First code free for applications.
    pub const APPLICATION_MIN: CloseCode = CloseCode(0x1000);
}

/// Why a session ended. Delivered once, as [`crate::Event::Closed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The two ends share no wire version.
    #[error("no common protocol version: we speak {ours:?}, the peer speaks {theirs:?}")]
    VersionMismatch {
        /// Versions this end speaks.
        ours: Vec<u32>,
        /// Versions the peer listed.
        theirs: Vec<u32>,
    },
    /// The capabilities do not intersect.
    #[error("capabilities do not match: {0}")]
    CapabilityMismatch(String),
    /// The handshake did not complete in time.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// Nothing was heard from the peer for the idle timeout.
    #[error("idle timeout: nothing received from the peer")]
    IdleTimeout,
    /// The peer closed the session.
    #[error("closed by peer (code {}): {reason}", code.0)]
    ClosedByPeer {
        /// Its code.
        code: CloseCode,
        /// Its words.
        reason: String,
    },
    /// This end closed the session.
    #[error("closed locally (code {}): {reason}", code.0)]
    ClosedLocally {
        /// The code sent.
        code: CloseCode,
        /// The words sent.
        reason: String,
    },
}
