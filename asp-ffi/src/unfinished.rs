//! The channels the interface already names but the SDK does not carry yet (audio,
//! clipboard: the issue "The remaining virtual channels end to end"). Every entry point that
//! would use them fails with these errors rather than accepting a callback it never calls.

use crate::error::AspError;

pub(crate) fn audio() -> AspError {
    AspError::Unsupported { reason: "the audio channel is not implemented yet".into() }
}

pub(crate) fn clipboard() -> AspError {
    AspError::Unsupported { reason: "the clipboard channel is not implemented yet".into() }
}
