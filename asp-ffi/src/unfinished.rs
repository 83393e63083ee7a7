//! What the interface already names but the bindings do not carry yet: audio (no channel yet)
//! and the clipboard (the channel exists in `asp`, the bindings do not reach it yet). Every
//! entry point that would use them fails with these errors rather than accepting a callback
//! it never calls.

use crate::error::AspError;

pub(crate) fn audio() -> AspError {
    AspError::Unsupported { reason: "the audio channel is not implemented yet".into() }
}

pub(crate) fn clipboard() -> AspError {
    AspError::Unsupported { reason: "the clipboard is not available through the bindings yet".into() }
}
