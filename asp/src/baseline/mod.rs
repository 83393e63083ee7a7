//! Baselines that `asp bench` measures next to ASP, on the same source and the same emulated
//! link:
//!
//! - [`ffmpeg_cli::encode_x264`]: the FFmpeg command-line tool's libx264 (zero latency,
//!   one-frame VBV, no B-frames, one IDR then P-frames only) at the bitrate ASP used, split
//!   into per-frame access units, with its decoded output as Y4M for VMAF;
//! - [`carriage::carry`]: those access units sent at the frame rate over SRT
//!   (`srt-live-transmit` from Debian's srt-tools) or over one plain TCP stream, both through
//!   [`asp_transport::relay::Relay`] with the bench's schedule, timing when each frame is
//!   complete at the receiver.
//!
//! The external tools are looked up on `PATH`: `ffmpeg` (Debian package ffmpeg) and
//! `srt-live-transmit` (Debian package srt-tools); `scripts/install-codec-deps.sh` installs both.
//! Their processes are killed when the values holding them are dropped, and every wait on them
//! has a deadline.

use std::time::Duration;

pub mod carriage;
mod chunk;
pub mod ffmpeg_cli;
mod process;

pub use carriage::{BaselineCarrier, CarriageReport, LatencySummary, carry};
pub use ffmpeg_cli::{X264Baseline, encode_x264};

/// Why a baseline could not be measured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// An external tool is not installed.
    #[error(
        "`{program}` was not found on PATH: install the Debian package `{package}` (scripts/install-codec-deps.sh)"
    )]
    ToolMissing {
        /// The program looked for.
        program: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// An external tool could not be started.
    #[error("could not start `{program}`")]
    Spawn {
        /// The program.
        program: &'static str,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// An external tool exited with an error, or reported one on stderr.
    #[error("`{program}` failed ({status}): {stderr}")]
    ToolFailed {
        /// The program.
        program: &'static str,
        /// Its exit status.
        status: String,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    /// Something did not happen within its deadline.
    #[error("timed out after {after:?} waiting for {what}; stderr: {stderr}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        after: Duration,
        /// The end of the relevant tool's stderr, if any.
        stderr: String,
    },
    /// A local file or socket operation failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The encoded or decoded stream is not what it should be.
    #[error("bad stream: {0}")]
    BadStream(String),
    /// An argument is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl BaselineError {
    fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BaselineError {
        let what = what.into();
        move |source| BaselineError::Io { what, source }
    }
}
