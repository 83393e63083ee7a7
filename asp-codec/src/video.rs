//! The video codec traits, their configuration and their errors.
//!
//! Encoders are driven one frame at a time and make (at most) one packet per frame: a screen
//! stream never waits for future frames. Everything a rate controller changes while streaming
//! (bitrate, frame rate, a keyframe) is a method call between two frames, never a reopen.

use crate::frame::{EncodedVideo, VideoFrame, YuvFormat};

/// A video compression format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VideoCodec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    Hevc,
    /// AV1.
    Av1,
}

/// Speed / efficiency trade-off of a software encoder, named as x264 and x265 name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Fastest, largest output.
    Ultrafast,
    /// x264 `superfast`.
    Superfast,
    /// x264 `veryfast`: the default for real-time screen streaming on a few cores.
    Veryfast,
    /// x264 `faster`.
    Faster,
    /// x264 `fast`.
    Fast,
    /// x264 `medium`.
    Medium,
}

impl Preset {
    /// Every preset, fastest first.
    pub const ALL: [Self; 6] =
        [Self::Ultrafast, Self::Superfast, Self::Veryfast, Self::Faster, Self::Fast, Self::Medium];

    /// The name x264 and x265 use.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ultrafast => "ultrafast",
            Self::Superfast => "superfast",
            Self::Veryfast => "veryfast",
            Self::Faster => "faster",
            Self::Fast => "fast",
            Self::Medium => "medium",
        }
    }
}

/// How the encoder lets a decoder (re)start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    /// Only the first frame and requested frames are keyframes (`interval: None`), or also
    /// every `interval` frames.
    Keyframes {
        /// Frames between periodic keyframes, if any.
        interval: Option<u32>,
    },
    /// Periodic intra refresh: a column of intra blocks sweeps the picture over `period`
    /// frames, so no single frame carries a whole keyframe's bits. A requested keyframe is
    /// still a full IDR picture (FFmpeg's wrappers cannot start a refresh wave on demand).
    IntraRefresh {
        /// Frames for one sweep across the picture.
        period: u32,
    },
}

/// Everything needed to open a video encoder; checked once, at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoEncoderConfig {
    /// Compression format.
    pub codec: VideoCodec,
    /// Picture width in pixels (even, 16..=8192).
    pub width: u32,
    /// Picture height in pixels (even, 16..=8192).
    pub height: u32,
    /// Layout of the frames passed in; I444 selects H.264 High 4:4:4 / HEVC Main 4:4:4.
    pub format: YuvFormat,
    /// Target bitrate in bits per second.
    pub bitrate_bps: u32,
    /// Nominal frame rate in frames per second.
    pub frame_rate: u32,
    /// Speed preset.
    pub preset: Preset,
    /// Keyframes or intra refresh.
    pub refresh: RefreshMode,
    /// How the bits are spent.
    pub rate: RateControl,
    /// Burst budget for the first picture and requested keyframes, in frame times of bits
    /// (0 or 1: none). See [`RateControl`].
    pub keyframe_burst_frames: u32,
    /// Encoder threads (0: let the encoder choose).
    pub threads: u32,
}

/// How an encoder spends its bitrate (screen-content rate control).
///
/// Whatever the mode, inter frames live under a VBV buffer of one frame time of bits at the
/// target, so no inter frame takes longer than a frame time to send. The keyframe burst
/// (`VideoEncoderConfig::keyframe_burst_frames = n`) lets the first picture, and each
/// requested keyframe, together with the frames of the next 200 ms that refine it, use up to
/// about `n` frame times of bits, so that the picture is sharp early instead of being coded
/// at the worst quantiser and refined over the next seconds; the sender paces it out. It is
/// done with x264's initial VBV fullness: the encoder opens with an `n`-frame buffer, full,
/// and shrinks it to one frame after the window; in capped-quality mode the window is also
/// coded 8 CRF steps better. A requested keyframe reopens the encoder to get a full buffer
/// again (a keyframe discards all state anyway, and the decoder sees an ordinary IDR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateControl {
    /// Spend the target: x264 ABR with max rate = target (what video and 3D want).
    Cbr,
    /// Spend what quality `crf` needs, never more than the target (x264 / x265 CRF under the
    /// same one-frame VBV cap). Text reaches its quality at a fraction of the target, so this
    /// is what office content wants.
    CappedQuality {
        /// Constant rate factor (0..=51; 18-23 is near-transparent for screen content).
        crf: u8,
    },
}

impl VideoEncoderConfig {
    /// Checks that a frame has the format and size the encoder was opened for.
    ///
    /// # Errors
    /// [`EncodeError::FrameMismatch`] naming both.
    pub fn check_frame(&self, frame: &VideoFrame) -> Result<(), EncodeError> {
        let img = &frame.image;
        if (img.format, img.width, img.height) == (self.format, self.width, self.height) {
            return Ok(());
        }
        Err(EncodeError::FrameMismatch {
            expected_format: self.format,
            expected_width: self.width,
            expected_height: self.height,
            actual_format: img.format,
            actual_width: img.width,
            actual_height: img.height,
        })
    }

    /// 4:2:0 at 2 Mbit/s and 30 frames per second, `veryfast`, keyframes only on request.
    #[must_use]
    pub fn new(codec: VideoCodec, width: u32, height: u32) -> Self {
        Self {
            codec,
            width,
            height,
            format: YuvFormat::I420,
            bitrate_bps: 2_000_000,
            frame_rate: 30,
            preset: Preset::Veryfast,
            refresh: RefreshMode::Keyframes { interval: None },
            rate: RateControl::Cbr,
            keyframe_burst_frames: 0,
            threads: 0,
        }
    }

    /// Checks every field against its range.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), OpenError> {
        let check = |field: &'static str, actual: u64, min: u64, max: u64| {
            if (min..=max).contains(&actual) {
                Ok(())
            } else {
                Err(OpenError::InvalidConfig { field, actual, min, max })
            }
        };
        check("width", self.width.into(), 16, 8192)?;
        check("height", self.height.into(), 16, 8192)?;
        check("width parity", (self.width % 2).into(), 0, 0)?;
        check("height parity", (self.height % 2).into(), 0, 0)?;
        check("bitrate_bps", self.bitrate_bps.into(), 10_000, 500_000_000)?;
        check("frame_rate", self.frame_rate.into(), 1, 240)?;
        check("threads", self.threads.into(), 0, 64)?;
        check("keyframe_burst_frames", self.keyframe_burst_frames.into(), 0, 60)?;
        if let RateControl::CappedQuality { crf } = self.rate {
            check("crf", crf.into(), 0, 51)?;
        }
        match self.refresh {
            RefreshMode::Keyframes { interval: Some(i) } => check("interval", i.into(), 1, 100_000),
            RefreshMode::IntraRefresh { period } => check("period", period.into(), 2, 1_000),
            RefreshMode::Keyframes { interval: None } => Ok(()),
        }
    }
}

/// What describes an opened encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderInfo {
    /// The implementation's name (FFmpeg's encoder name, such as `libx264` or `h264_nvenc`).
    pub name: String,
    /// Compression format.
    pub codec: VideoCodec,
    /// Whether it runs on a GPU / media engine.
    pub hardware: bool,
    /// Frame layout it takes.
    pub format: YuvFormat,
}

/// A video encoder fed one frame at a time.
pub trait VideoEncoder {
    /// Compresses `frame`. `Ok(None)` means the encoder holds the frame and has no packet yet
    /// (a normal outcome for hardware encoders with a pipeline; the software encoders here
    /// always return a packet per frame).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the frame does not match the configuration or the encoder fails.
    fn encode(&mut self, frame: &VideoFrame) -> Result<Option<EncodedVideo>, EncodeError>;

    /// Makes the next frame passed to [`encode`](Self::encode) a keyframe (IDR).
    fn request_keyframe(&mut self);

    /// Sets a new target bitrate from the next frame on, without a keyframe.
    ///
    /// # Errors
    ///
    /// [`ReconfigureError`] if the value is out of range or the encoder cannot change it.
    fn set_bitrate(&mut self, bitrate_bps: u32) -> Result<(), ReconfigureError>;

    /// Sets the frame rate the rate control budgets for, from the next frame on.
    ///
    /// # Errors
    ///
    /// [`ReconfigureError`] if the value is out of range or the encoder cannot change it.
    fn set_frame_rate(&mut self, frame_rate: u32) -> Result<(), ReconfigureError>;

    /// Drains what the encoder still holds, at the end of a stream.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the encoder fails.
    fn flush(&mut self) -> Result<Vec<EncodedVideo>, EncodeError>;

    /// Describes the encoder.
    fn info(&self) -> &EncoderInfo;
}

/// A video decoder fed one packet at a time.
pub trait VideoDecoder {
    /// Decodes `packet`. `Ok(None)` means no picture is ready yet (normal, for example before
    /// the first keyframe has all its parts).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] if the bitstream is invalid.
    fn decode(&mut self, packet: &EncodedVideo) -> Result<Option<VideoFrame>, DecodeError>;

    /// Drains pictures the decoder still holds, at the end of a stream.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] if the decoder fails.
    fn flush(&mut self) -> Result<Vec<VideoFrame>, DecodeError>;
}

/// Why an encoder did not open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// A configuration field is out of range.
    #[error("invalid {field}: {actual} not in {min}..={max}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// The value given.
        actual: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// This build of FFmpeg has no such encoder or decoder.
    #[error("codec implementation {0} is not available")]
    NotAvailable(String),
    /// The combination is valid but not built here.
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// rav1e refused the configuration.
    #[error("rav1e: {0}")]
    Rav1e(String),
    /// FFmpeg refused to open it (for a hardware encoder: no device).
    #[error("FFmpeg could not open {name}: {source}")]
    Ffmpeg {
        /// The implementation.
        name: String,
        /// FFmpeg's error.
        #[source]
        source: ffmpeg_next::Error,
    },
}

/// Why a frame was not encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The frame's size or layout differs from the encoder's.
    #[error(
        "frame is {actual_format:?} {actual_width}x{actual_height}, encoder takes {expected_format:?} {expected_width}x{expected_height}"
    )]
    FrameMismatch {
        /// Encoder's layout.
        expected_format: YuvFormat,
        /// Encoder's width.
        expected_width: u32,
        /// Encoder's height.
        expected_height: u32,
        /// Frame's layout.
        actual_format: YuvFormat,
        /// Frame's width.
        actual_width: u32,
        /// Frame's height.
        actual_height: u32,
    },
    /// FFmpeg failed.
    #[error(transparent)]
    Ffmpeg(#[from] ffmpeg_next::Error),
    /// rav1e failed.
    #[error("rav1e: {0}")]
    Rav1e(String),
    /// Reopening the encoder for a burst keyframe failed.
    #[error("reopening the encoder for a keyframe failed: {0}")]
    Reopen(#[source] Box<OpenError>),
}

/// Why a bitrate or frame-rate change was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconfigureError {
    /// The value is out of range.
    #[error("{field} {actual} not in {min}..={max}")]
    OutOfRange {
        /// The setting.
        field: &'static str,
        /// The value given.
        actual: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// This encoder cannot change the setting while open.
    #[error("{encoder} cannot change {field} while open")]
    Unsupported {
        /// The setting.
        field: &'static str,
        /// The encoder.
        encoder: String,
    },
}

/// Why a packet was not decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The packet's codec differs from the decoder's.
    #[error("packet is {actual:?}, decoder takes {expected:?}")]
    CodecMismatch {
        /// Decoder's codec.
        expected: VideoCodec,
        /// Packet's codec.
        actual: VideoCodec,
    },
    /// The decoder produced a pixel layout this crate does not carry.
    #[error("decoded pixel format {0} is not supported")]
    UnsupportedPixelFormat(String),
    /// FFmpeg failed (invalid bitstream).
    #[error(transparent)]
    Ffmpeg(#[from] ffmpeg_next::Error),
}
