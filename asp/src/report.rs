//! The report `asp demo` and `asp bench` write: one JSON object per run, with the fields
//! every report has (glass-to-glass and click-to-photon latency, bitrate, frame rate, frame
//! counts, VMAF, time to sharp, and what was run) and the pipelines' full counters beside them.

use serde::Serialize;

use crate::client::ClientStats;
use crate::metrics::LatencySummary;
use crate::server::ServerStats;

/// A mean, kbit/s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Bitrate {
    /// Display bits received over the run, per second.
    pub mean: f64,
    /// The same from one second after the first picture on (without the first keyframe and
    /// its refinement burst): what a screen costs once it is up.
    pub after_warm_up: f64,
}

/// A mean, frames per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Fps {
    /// Pictures shown over the run, per second.
    pub mean: f64,
}

/// Frame counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Frames {
    /// Encoded and sent by the server.
    pub sent: u64,
    /// Decoded and shown by the client.
    pub shown: u64,
    /// Dropped by the engine because they could not arrive before their deadline.
    pub late: u64,
    /// Lost or discarded otherwise (network loss, decoder behind or resynchronising).
    pub dropped: u64,
    /// Captured but not encoded: unchanged and already sharp (not a loss).
    pub skipped: u64,
    /// Captured but replaced before the encoder took them (encoder behind).
    pub dropped_behind: u64,
}

/// VMAF of what the client showed against the source, frame for frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct VmafFigures {
    /// Mean over frames.
    pub mean: f64,
    /// Worst frame.
    pub min: f64,
    /// Harmonic mean (what libvmaf's tools print beside the mean).
    pub harmonic_mean: f64,
    /// Mean over the frames after the first second (the start's keyframe refinement left
    /// out); equal to `mean` for runs of a second or less.
    pub mean_after_warm_up: f64,
}

/// One run's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Capture to decoded-and-ready, ms.
    pub glass_to_glass_ms: LatencySummary,
    /// Glass-to-glass without the first second (the start's keyframe burst), ms.
    pub glass_to_glass_after_warm_up_ms: LatencySummary,
    /// Input sent to the first picture showing it, ms.
    pub click_to_photon_ms: LatencySummary,
    /// Display bitrate.
    pub bitrate_kbps: Bitrate,
    /// Pictures shown per second.
    pub fps: Fps,
    /// Frame counts.
    pub frames: Frames,
    /// VMAF, when scored (`null` in `asp demo`).
    pub vmaf: Option<VmafFigures>,
    /// From the first picture until per-frame VMAF reaches 90 and stays there (`null` when not
    /// scored, or when it never settles).
    pub time_to_sharp_ms: Option<f64>,
    /// Scene (synthetic kind, or the source file).
    pub scene: String,
    /// Codec and encoder.
    pub codec: String,
    /// `quic` or `tcp`.
    pub carrier: String,
    /// Network profile.
    pub network: String,
    /// Seconds streamed.
    pub seconds: f64,
    /// Picture size.
    pub resolution: String,
    /// Stalls the client reported (and the server logged).
    pub stalls: u64,
    /// The server's counters.
    pub server: ServerStats,
    /// The client's counters.
    pub client: ClientStats,
}

impl Report {
    /// The latency, rate and frame figures of a run of `seconds`, from both ends' counters;
    /// VMAF and time to sharp are left for the caller.
    #[must_use]
    pub fn from_stats(server: &ServerStats, client: &ClientStats, seconds: f64) -> Self {
        let secs = seconds.max(1e-3);
        Report {
            glass_to_glass_ms: client.glass_to_glass,
            glass_to_glass_after_warm_up_ms: client.glass_to_glass_after_warm_up,
            click_to_photon_ms: client.click_to_photon,
            bitrate_kbps: Bitrate {
                mean: client.video_bytes as f64 * 8.0 / secs / 1000.0,
                after_warm_up: client.video_bytes_after_warm_up as f64 * 8.0
                    / (client.at_s - client.warm_up_end_s).max(1e-3)
                    / 1000.0,
            },
            fps: Fps { mean: client.frames_shown as f64 / secs },
            frames: Frames {
                sent: server.frames_encoded,
                shown: client.frames_shown,
                late: client.frames_late,
                dropped: client.frames_dropped + client.frames_discarded,
                skipped: server.frames_skipped,
                dropped_behind: server.frames_dropped_behind,
            },
            stalls: server.stalls,
            seconds,
            codec: server.encoder.clone().unwrap_or_default(),
            server: server.clone(),
            client: client.clone(),
            ..Report::default()
        }
    }
}
