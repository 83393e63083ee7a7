//! Control-channel messages (docs/PROTOCOL.md §5): channel open/close, keyframe requests,
//! statistics and stall reports. Bincode, standard configuration, at most
//! [`MAX_CONTROL_LEN`] bytes.

use bincode::{Decode, Encode};

use super::handshake::{BodyError, config, decode_exact};
use crate::channel::{ChannelConfig, ChannelId};

/// Largest encoded control message.
pub const MAX_CONTROL_LEN: usize = 64 << 10;

/// Why the receiver of a display channel wants a fresh reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
#[non_exhaustive]
pub enum KeyframeReason {
    /// A frame was lost for good.
    FrameLost,
    /// The decoder failed.
    DecoderError,
    /// A new viewer or a resize.
    Resync,
}

/// The receiver's periodic view of a session, sent to the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode)]
pub struct StatsReport {
    /// Smoothed round-trip time, microseconds.
    pub rtt_micros: u32,
    /// Packets lost, parts per million, over the report interval.
    pub loss_ppm: u32,
    /// Received rate, kbit/s.
    pub receive_kbps: u32,
    /// Frames decoded and shown over the interval.
    pub frames_shown: u32,
    /// Frames dropped (late, lost, undecodable) over the interval.
    pub frames_dropped: u32,
    /// Mean decode time, microseconds.
    pub decode_micros: u32,
}

/// What kind of stall the client saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
#[non_exhaustive]
pub enum StallKind {
    /// No new frame while the server said it was sending.
    NoFrames,
    /// An input event left without a visible answer.
    InputUnanswered,
    /// Audio ran dry.
    AudioUnderrun,
}

/// A stall the client noticed, with the context needed to explain it later.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct StallReport {
    /// Kind of stall.
    pub kind: StallKind,
    /// How long it lasted, milliseconds.
    pub duration_ms: u32,
    /// The client's bandwidth estimate, kbit/s.
    pub estimate_kbps: u32,
    /// Loss at the time, parts per million.
    pub loss_ppm: u32,
    /// Queue delay the client measured, milliseconds.
    pub queue_ms: u32,
    /// Free-form decoder state ("waiting for keyframe", "hw decoder reset").
    pub decoder_state: String,
}

/// A message on the control channel.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[non_exhaustive]
pub enum ControlMessage {
    /// The sender opened a channel; the receiver creates its end with the same configuration.
    OpenChannel {
        /// The new channel.
        id: ChannelId,
        /// Its configuration.
        config: ChannelConfig,
    },
    /// The sender will send nothing more on the channel and drops what it receives there.
    CloseChannel {
        /// The channel.
        id: ChannelId,
    },
    /// Ask the display sender for a keyframe or intra refresh.
    KeyframeRequest {
        /// The display channel.
        channel: ChannelId,
        /// Why.
        reason: KeyframeReason,
    },
    /// Periodic statistics.
    StatsReport(StatsReport),
    /// A stall seen by the client.
    StallReport(StallReport),
    /// Asks the peer for its clock, to estimate the offset between the two clocks (as NTP
    /// does: offset = peer time - (probe sent + echo received) / 2).
    TimeProbe {
        /// When the probe left, µs on the sender's clock.
        sent_us: u64,
    },
    /// The answer to a [`ControlMessage::TimeProbe`].
    TimeEcho {
        /// The probe's `sent_us`, returned unchanged.
        probe_us: u64,
        /// When the answer left, µs on the answering end's clock.
        peer_us: u64,
    },
}

impl ControlMessage {
    /// Encodes into bytes.
    ///
    /// # Errors
    /// When the message exceeds [`MAX_CONTROL_LEN`].
    pub fn encode(&self) -> Result<Vec<u8>, BodyError> {
        let out = bincode::encode_to_vec(self, config::<MAX_CONTROL_LEN>()).map_err(|e| BodyError(e.to_string()))?;
        if out.len() > MAX_CONTROL_LEN {
            return Err(BodyError(format!("{} bytes exceed the {MAX_CONTROL_LEN}-byte limit", out.len())));
        }
        Ok(out)
    }

    /// Decodes, refusing trailing bytes and anything past the size limit.
    ///
    /// # Errors
    /// [`BodyError`] describes what was wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, BodyError> {
        if bytes.len() > MAX_CONTROL_LEN {
            return Err(BodyError(format!("{} bytes exceed the {MAX_CONTROL_LEN}-byte limit", bytes.len())));
        }
        decode_exact(bytes, config::<MAX_CONTROL_LEN>())
    }
}
