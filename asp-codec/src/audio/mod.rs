//! Audio: the codec traits and Opus over the system libopus.
//!
//! Audio travels on an unreliable channel: a lost packet is repaired by the next packet's
//! in-band FEC when it arrives in time, and concealed (PLC) otherwise. In silence the encoder
//! sends nothing (DTX); the receiver conceals the gap with comfort noise.

mod opus_codec;

use bytes::Bytes;

pub use opus_codec::{OpusConfig, OpusDecoder, OpusEncoder, OpusMode};

/// Interleaved 16-bit PCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    /// Samples, channel-interleaved.
    pub samples: Vec<i16>,
    /// 1 or 2.
    pub channels: u8,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Presentation time of the first sample, in microseconds.
    pub pts_us: i64,
    /// The sender's id of this frame.
    pub frame_id: u64,
}

impl AudioFrame {
    /// Samples per channel.
    #[must_use]
    pub fn samples_per_channel(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// One compressed audio frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedAudio {
    /// The Opus packet.
    pub data: Bytes,
    /// Presentation time of the source frame.
    pub pts_us: i64,
    /// Id of the source frame.
    pub frame_id: u64,
}

/// An audio encoder fed one frame (10 or 20 ms) at a time.
pub trait AudioEncoder {
    /// Compresses `frame`. `Ok(None)`: nothing needs sending (silence under DTX).
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the frame has the wrong size or the encoder fails.
    fn encode(&mut self, frame: &AudioFrame) -> Result<Option<EncodedAudio>, AudioError>;

    /// Sets the target bitrate from the next frame on.
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the encoder refuses the value.
    fn set_bitrate(&mut self, bitrate_bps: u32) -> Result<(), AudioError>;

    /// Tells the encoder the loss rate the receiver reports, so it sizes its in-band FEC.
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the encoder refuses the value.
    fn set_expected_loss(&mut self, percent: u8) -> Result<(), AudioError>;
}

/// An audio decoder, with concealment of lost packets.
pub trait AudioDecoder {
    /// Decodes a received packet.
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the packet is invalid.
    fn decode(&mut self, packet: &EncodedAudio) -> Result<AudioFrame, AudioError>;

    /// Makes up the frame of a packet that did not arrive: from `next`'s in-band FEC when the
    /// following packet is at hand, by loss concealment otherwise.
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the decoder fails.
    fn conceal(&mut self, next: Option<&EncodedAudio>, pts_us: i64, frame_id: u64) -> Result<AudioFrame, AudioError>;
}

/// Why an audio operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The configuration is out of range.
    #[error("invalid {field}: {actual}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// The value given.
        actual: u64,
    },
    /// A frame holds the wrong number of samples.
    #[error("frame has {actual} samples, expected {expected}")]
    FrameSize {
        /// Samples expected (all channels).
        expected: usize,
        /// Samples given.
        actual: usize,
    },
    /// libopus failed.
    #[error(transparent)]
    Opus(#[from] opus::Error),
}
