//! The FFmpeg backend (through `ffmpeg-next` 9, built against the system FFmpeg: 5.1 on
//! Debian bookworm): libx264 / libx265 / NVENC encoders, H.264 / HEVC / AV1 (libdav1d)
//! decoders, and runtime probing of hardware encoders.

mod decoder;
mod encoder;
mod frames;
pub mod hw;
mod options;

use std::sync::Once;

pub use decoder::FfmpegVideoDecoder;
pub use encoder::FfmpegVideoEncoder;
pub use options::EncoderKind;

/// Initialises FFmpeg once per process and quiets its logging to errors only (x264 and x265
/// otherwise print a banner per encoder).
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // `init` only registers devices and cannot fail on FFmpeg >= 4; ignore the result.
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Error);
    });
}
