//! The clipboard channel (reliable, ordered, bulk class): a copy made on one side crosses as a
//! `Begin` naming its format and size, then `Chunk`s of at most [`MAX_CHUNK`] bytes; the server
//! answers a copy its policy does not allow with `Refused`. bincode, specified in
//! docs/PROTOCOL.md §11.5.

use bincode::{Decode, Encode};

use crate::clipboard::ClipboardFormat;

/// Largest chunk of content, bytes.
pub const MAX_CHUNK: usize = 64 * 1024;
/// Longest encoded clipboard message.
pub const MAX_CLIPBOARD_MESSAGE_LEN: usize = MAX_CHUNK + 64;

/// The content's kind on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum WireFormat {
    /// UTF-8 text.
    Text,
    /// A PNG image.
    Png,
    /// A `text/uri-list`.
    Files,
}

impl From<ClipboardFormat> for WireFormat {
    fn from(f: ClipboardFormat) -> Self {
        match f {
            ClipboardFormat::Text => Self::Text,
            ClipboardFormat::Png => Self::Png,
            ClipboardFormat::Files => Self::Files,
        }
    }
}

impl From<WireFormat> for ClipboardFormat {
    fn from(f: WireFormat) -> Self {
        match f {
            WireFormat::Text => Self::Text,
            WireFormat::Png => Self::Png,
            WireFormat::Files => Self::Files,
        }
    }
}

/// Why a copy was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum RefusalReason {
    /// The policy does not let copies go this way.
    Direction,
    /// The policy does not allow this kind of content.
    Format,
    /// Larger than the policy allows.
    TooLarge,
    /// The content is not what it claims (text that is not UTF-8, a PNG without its
    /// signature) or the chunks do not add up to the size announced.
    Malformed,
}

/// One message on the clipboard channel.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ClipboardMessage {
    /// A new copy: its id (growing per sender), format and size in bytes. Supersedes any copy
    /// still arriving.
    Begin {
        /// The copy's id.
        id: u64,
        /// What it holds.
        format: WireFormat,
        /// Its size.
        total: u64,
    },
    /// The next bytes of copy `id`.
    Chunk {
        /// The copy's id.
        id: u64,
        /// 1..=[`MAX_CHUNK`] bytes.
        data: Vec<u8>,
    },
    /// The server did not take copy `id` (server to client only).
    Refused {
        /// The copy's id.
        id: u64,
        /// Why.
        reason: RefusalReason,
    },
}

/// Why a clipboard message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClipboardWireError {
    /// Longer than [`MAX_CLIPBOARD_MESSAGE_LEN`].
    #[error("clipboard message of {0} bytes exceeds the {MAX_CLIPBOARD_MESSAGE_LEN}-byte limit")]
    TooLong(usize),
    /// Not a well-formed message.
    #[error("malformed clipboard message: {0}")]
    Malformed(String),
    /// An empty or oversized chunk.
    #[error("clipboard chunk of {0} bytes: must be 1..={MAX_CHUNK}")]
    ChunkSize(usize),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_CLIPBOARD_MESSAGE_LEN>()
}

impl ClipboardMessage {
    /// Encodes the message.
    ///
    /// # Errors
    /// [`ClipboardWireError::ChunkSize`] for a chunk [`decode`](Self::decode) would refuse.
    pub fn encode(&self) -> Result<Vec<u8>, ClipboardWireError> {
        self.validate()?;
        bincode::encode_to_vec(self, config()).map_err(|e| ClipboardWireError::Malformed(e.to_string()))
    }

    /// Decodes one message, refusing trailing bytes and bad chunk sizes.
    ///
    /// # Errors
    /// [`ClipboardWireError`] says what was wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, ClipboardWireError> {
        if bytes.len() > MAX_CLIPBOARD_MESSAGE_LEN {
            return Err(ClipboardWireError::TooLong(bytes.len()));
        }
        let (message, used): (Self, usize) =
            bincode::decode_from_slice(bytes, config()).map_err(|e| ClipboardWireError::Malformed(e.to_string()))?;
        if used != bytes.len() {
            return Err(ClipboardWireError::Malformed(format!("{} trailing bytes", bytes.len() - used)));
        }
        message.validate()?;
        Ok(message)
    }

    fn validate(&self) -> Result<(), ClipboardWireError> {
        match self {
            Self::Chunk { data, .. } if data.is_empty() || data.len() > MAX_CHUNK => {
                Err(ClipboardWireError::ChunkSize(data.len()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        for m in [
            ClipboardMessage::Begin { id: 1, format: WireFormat::Png, total: 1 << 24 },
            ClipboardMessage::Chunk { id: 1, data: vec![9; MAX_CHUNK] },
            ClipboardMessage::Refused { id: 1, reason: RefusalReason::TooLarge },
        ] {
            assert_eq!(ClipboardMessage::decode(&m.encode().unwrap()), Ok(m));
        }
        assert_eq!(ClipboardMessage::Chunk { id: 1, data: vec![] }.encode(), Err(ClipboardWireError::ChunkSize(0)));
        let big = ClipboardMessage::Chunk { id: 1, data: vec![0; MAX_CHUNK + 1] };
        assert_eq!(big.encode(), Err(ClipboardWireError::ChunkSize(MAX_CHUNK + 1)));
        // A chunk length that claims 2 GB is refused before allocating.
        assert!(ClipboardMessage::decode(&[1, 1, 0xfc, 0xff, 0xff, 0xff, 0x7f]).is_err());
    }
}
