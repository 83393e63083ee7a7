//! The one error type of the bindings: uniffi hands it to Kotlin, Swift and Python as a typed
//! exception, and the C ABI turns it into an [`AspStatus`](crate::c_api::AspStatus) code plus
//! the thread's last-error message.

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum AspError {
    /// An argument or configuration value is out of range or malformed.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// The client could not connect (address, certificate, token, network).
    #[error("connect failed: {reason}")]
    Connect {
        /// Why.
        reason: String,
    },
    /// The server could not start (source, sockets).
    #[error("server failed: {reason}")]
    Server {
        /// Why.
        reason: String,
    },
    /// The session has ended or the handle was stopped.
    #[error("the session has ended")]
    Ended,
    /// The feature exists in the interface but is not built yet.
    #[error("not supported: {reason}")]
    Unsupported {
        /// What, and where it is tracked.
        reason: String,
    },
    /// A blocking call was made from one of this SDK's callbacks, where it would deadlock.
    #[error("not allowed from a callback: {reason}")]
    WrongThread {
        /// Which call.
        reason: String,
    },
    /// Something inside the SDK failed (a thread or runtime could not start).
    #[error("internal error: {reason}")]
    Internal {
        /// What.
        reason: String,
    },
    /// A bench run failed.
    #[error("bench failed: {reason}")]
    Bench {
        /// The step that failed.
        reason: String,
    },
}

impl AspError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument { reason: message.into() }
    }
}
