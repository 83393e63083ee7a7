//! The one error type of the bindings: uniffi hands it to Kotlin, Swift and Python as a typed
//! exception, and the C ABI turns it into an [`AspStatus`](crate::c_api::AspStatus) code plus
//! the thread's last-error message.

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum AspError {
    /// An argument or configuration value is out of range or malformed.
    #[error("invalid argument: {message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// The client could not connect (address, certificate, token, network).
    #[error("connect failed: {message}")]
    Connect {
        /// Why.
        message: String,
    },
    /// The server could not start (source, sockets).
    #[error("server failed: {message}")]
    Server {
        /// Why.
        message: String,
    },
    /// The session has ended or the handle was stopped.
    #[error("the session has ended")]
    Ended,
    /// The feature exists in the interface but is not built yet.
    #[error("not supported: {message}")]
    Unsupported {
        /// What, and where it is tracked.
        message: String,
    },
    /// A blocking call was made from one of this SDK's callbacks, where it would deadlock.
    #[error("not allowed from a callback: {message}")]
    WrongThread {
        /// Which call.
        message: String,
    },
    /// Something inside the SDK failed (a thread or runtime could not start).
    #[error("internal error: {message}")]
    Internal {
        /// What.
        message: String,
    },
    /// A bench run failed.
    #[error("bench failed: {message}")]
    Bench {
        /// The step that failed.
        message: String,
    },
}

impl AspError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument { message: message.into() }
    }
}
