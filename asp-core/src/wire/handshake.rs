//! Handshake messages and the capabilities each end announces (docs/PROTOCOL.md §4).
//!
//! Handshake bodies are bincode (standard configuration: little-endian, variable-length
//! integers) with a hard size limit, so a hostile peer cannot make the decoder allocate more
//! than [`MAX_HANDSHAKE_LEN`] bytes' worth of structure.

use bincode::{Decode, Encode};

/// Largest encoded handshake message; it must fit one datagram.
pub const MAX_HANDSHAKE_LEN: usize = 1100;

/// The bincode configuration every handshake and control message uses, with its limit.
pub(crate) fn config<const LIMIT: usize>()
-> bincode::config::Configuration<bincode::config::LittleEndian, bincode::config::Varint, bincode::config::Limit<LIMIT>>
{
    bincode::config::standard().with_limit::<LIMIT>()
}

/// A video codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[non_exhaustive]
pub enum VideoCodec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    Hevc,
    /// AV1.
    Av1,
}

/// A codec profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[non_exhaustive]
pub enum VideoProfile {
    /// H.264 Constrained Baseline.
    ConstrainedBaseline,
    /// H.264 Main / HEVC Main / AV1 Main.
    Main,
    /// H.264 High.
    High,
    /// H.264 High 4:4:4 Predictive / HEVC Range Extensions / AV1 High.
    High444,
    /// HEVC Main 10.
    Main10,
}

/// Chroma subsampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub enum Chroma {
    /// 4:2:0.
    Yuv420,
    /// 4:4:4, for sharp coloured text.
    Yuv444,
}

/// One way of coding video that an end can encode (server) or decode (client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct VideoCapability {
    /// Codec.
    pub codec: VideoCodec,
    /// Profile.
    pub profile: VideoProfile,
    /// Chroma format.
    pub chroma: Chroma,
    /// Largest width in pixels.
    pub max_width: u16,
    /// Largest height in pixels.
    pub max_height: u16,
    /// Highest frame rate.
    pub max_fps: u16,
    /// Done by a hardware block rather than software.
    pub hardware: bool,
}

/// An audio format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct AudioFormat {
    /// Always Opus in version 1.
    pub codec: AudioCodec,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u8,
}

/// An audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[non_exhaustive]
pub enum AudioCodec {
    /// Opus (RFC 6716).
    Opus,
}

/// Clipboard content types an end can exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode)]
pub struct ClipboardCapability {
    /// UTF-8 text.
    pub text: bool,
    /// Images (PNG).
    pub image: bool,
    /// File lists with contents.
    pub files: bool,
}

/// A monitor of the server, or a display of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct Monitor {
    /// Stable id within the session.
    pub id: u32,
    /// Left edge in the virtual desktop.
    pub x: i32,
    /// Top edge in the virtual desktop.
    pub y: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Refresh rate in millihertz.
    pub refresh_mhz: u32,
    /// The primary monitor.
    pub primary: bool,
}

/// What one end can do. The server lists what it can encode, the client what it can decode.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct Capabilities {
    /// Video coding the end supports, in its order of preference.
    pub video: Vec<VideoCapability>,
    /// Audio formats, in order of preference.
    pub audio: Vec<AudioFormat>,
    /// USB redirection.
    pub usb: bool,
    /// Clipboard types.
    pub clipboard: ClipboardCapability,
    /// Per-application window streaming.
    pub window_streaming: bool,
    /// Monitors (server) or displays (client).
    pub monitors: Vec<Monitor>,
}

/// A handshake message, carried in a HANDSHAKE frame of a long-header packet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum HandshakeMessage {
    /// Client to server: the first packet of a session.
    Hello {
        /// Random per-session value; the server echoes it so the client can tell its own
        /// session's answer from a stale one.
        nonce: u64,
        /// What the client can decode and do.
        capabilities: Capabilities,
    },
    /// Server to client: the session is accepted.
    Welcome {
        /// The client's nonce.
        nonce: u64,
        /// What the server can encode and do.
        capabilities: Capabilities,
    },
}

/// Why a handshake or control body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed body: {0}")]
pub struct BodyError(pub String);

impl HandshakeMessage {
    /// Encodes into bytes.
    ///
    /// # Errors
    /// When the message would exceed [`MAX_HANDSHAKE_LEN`] (too many monitors or codecs).
    pub fn encode(&self) -> Result<Vec<u8>, BodyError> {
        let out = bincode::encode_to_vec(self, config::<MAX_HANDSHAKE_LEN>()).map_err(|e| BodyError(e.to_string()))?;
        if out.len() > MAX_HANDSHAKE_LEN {
            return Err(BodyError(format!("{} bytes exceed the {MAX_HANDSHAKE_LEN}-byte limit", out.len())));
        }
        Ok(out)
    }

    /// Decodes, refusing trailing bytes and anything past the size limit.
    ///
    /// # Errors
    /// [`BodyError`] describes what was wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, BodyError> {
        if bytes.len() > MAX_HANDSHAKE_LEN {
            return Err(BodyError(format!("{} bytes exceed the {MAX_HANDSHAKE_LEN}-byte limit", bytes.len())));
        }
        decode_exact(bytes, config::<MAX_HANDSHAKE_LEN>())
    }
}

/// Decodes a whole body, refusing trailing bytes.
pub(crate) fn decode_exact<T: Decode<()>, C: bincode::config::Config>(bytes: &[u8], cfg: C) -> Result<T, BodyError> {
    let (value, used) = bincode::decode_from_slice(bytes, cfg).map_err(|e| BodyError(e.to_string()))?;
    if used != bytes.len() {
        return Err(BodyError(format!("{} trailing bytes", bytes.len() - used)));
    }
    Ok(value)
}
