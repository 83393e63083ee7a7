//! Media for ASP: video and audio codecs, pixel conversion, damage and scene detection.
//!
//! The server side of a stream runs, per captured frame:
//!
//! 1. [`damage::DamageTracker`] compares the captured BGRA frame with the previous one in tiles;
//!    [`skip::SkipGate`] skips an unchanged frame once the encoder has refined the picture.
//! 2. [`scene::SceneClassifier`] turns the damage history into a scene class (office, video,
//!    3D) with hysteresis, and each class maps to encoder settings.
//! 3. [`convert`] turns BGRA/RGBA into the encoder's YUV layout (I420, I444 or NV12).
//! 4. A [`VideoEncoder`] (here: FFmpeg's libx264 / libx265, tuned for latency, or rav1e with
//!    the `rav1e` feature) makes one packet per frame; its bitrate, frame rate and keyframe
//!    requests change at any frame, and [`RateControl`] spends bits as screen content needs.
//!
//! The client runs a [`VideoDecoder`] and converts back to RGBA. [`negotiate`] picks the codec
//! from what both ends probed; [`audio`] carries Opus. [`synth`] makes deterministic screen
//! content for tests and benches, and [`quality`] measures what a round trip lost, per plane.
//! [`y4m`] reads and writes YUV4MPEG2 files, what external quality tools (FFmpeg, VMAF) take.
//!
//! ```no_run
//! use asp_codec::{ffmpeg::FfmpegVideoEncoder, VideoEncoder, VideoEncoderConfig, VideoCodec};
//! use asp_codec::{convert, synth::{Source, SourceKind}, YuvFormat};
//!
//! let mut source = Source::new(SourceKind::Office, 640, 360, 7);
//! let config = VideoEncoderConfig::new(VideoCodec::H264, 640, 360);
//! let mut encoder = FfmpegVideoEncoder::open(&config)?;
//! for frame_id in 0..30 {
//!     let bgra = source.next_frame();
//!     let yuv = convert::to_yuv(&bgra, YuvFormat::I420)?;
//!     let frame = asp_codec::VideoFrame { image: yuv, pts_us: frame_id as i64 * 33_333, frame_id };
//!     if let Some(packet) = encoder.encode(&frame)? {
//!         // send packet.data with packet.frame_id / packet.keyframe
//!         let _ = packet;
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod audio;
#[cfg(feature = "rav1e")]
pub mod av1;
pub mod bitstream;
pub mod convert;
pub mod damage;
pub mod ffmpeg;
mod frame;
pub mod negotiate;
pub mod quality;
pub mod scene;
pub mod skip;
pub mod synth;
mod video;
pub mod y4m;

pub use frame::{ChannelOrder, EncodedVideo, RgbaImage, VideoFrame, YuvFormat, YuvImage};
pub use video::{
    DecodeError, EncodeError, EncoderInfo, OpenError, Preset, RateControl, ReconfigureError, RefreshMode, VideoCodec,
    VideoDecoder, VideoEncoder, VideoEncoderConfig,
};
