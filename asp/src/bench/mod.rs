//! The end-to-end bench: streams a source through the real pipelines and the user-space network
//! emulator (asp-transport's relay), keeps the source and what the client showed frame for
//! frame as Y4M, scores them with VMAF, and measures the same source through baselines: the
//! FFmpeg CLI's libx264 at the bitrate ASP used, carried by SRT and by plain TCP over the same
//! emulated link ([`crate::baseline`]). `asp bench` runs a matrix of these and plots them.

pub mod network;
pub mod plot;
pub mod record;
pub mod score;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use asp_codec::synth::SourceKind;
use asp_codec::{Preset, VideoCodec};
use asp_transport::select::Carrier;
use serde::Serialize;

use crate::baseline::{self, BaselineCarrier, CarriageReport};
use crate::client::ClientConfig;
use crate::loopback::{LinkEmulation, Loopback, LoopbackOptions};
use crate::metrics::LatencyHistogram;
use crate::proto::input::InputEvent;
use crate::report::{Report, VmafFigures};
use crate::server::ServerConfig;
use crate::sink::y4m::Y4mSink;
use crate::sink::{DecodedFrame, FrameSink};
use crate::source::synth::SynthSource;
use crate::source::y4m::Y4mSource;
use crate::source::{FrameSource, InputInjector};
use network::NetworkProfile;
use record::RecordingSource;

/// What to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenchSource {
    /// A synthetic scene (answers input, so click-to-photon is measured).
    Synth(SourceKind),
    /// A recording (played once; its frame rate is the capture rate).
    Y4m(PathBuf),
}

impl BenchSource {
    /// Name in reports.
    #[must_use]
    pub fn name(&self) -> String {
        match self {
            Self::Synth(kind) => kind.name().into(),
            Self::Y4m(p) => p.file_stem().map_or_else(|| "y4m".into(), |s| s.to_string_lossy().into_owned()),
        }
    }
}

/// One run of the matrix.
#[derive(Debug, Clone)]
pub struct CaseSpec {
    /// What to stream.
    pub source: BenchSource,
    /// Through which network.
    pub network: NetworkProfile,
    /// Over which carrier.
    pub carrier: Carrier,
    /// Synthetic picture size.
    pub size: (u32, u32),
    /// Capture rate.
    pub fps: u32,
    /// Seconds to stream.
    pub seconds: f64,
    /// Codec.
    pub codec: VideoCodec,
    /// Encoder preset.
    pub preset: Preset,
    /// Seed of the scene and the relay.
    pub seed: u64,
}

impl CaseSpec {
    /// `scene-network-carrier`, for file names.
    #[must_use]
    pub fn slug(&self) -> String {
        let carrier = self.carrier.name();
        format!("{}-{}-{carrier}", self.source.name(), self.network.name).replace(['/', ' '], "_")
    }
}

/// What every case shares.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Where each case's files go (a folder per case).
    pub out_dir: PathBuf,
    /// Keep the Y4M files (source and decoded) instead of deleting them after scoring.
    pub keep_y4m: bool,
    /// Score with VMAF.
    pub vmaf: bool,
    /// Also run the FFmpeg CLI, SRT and TCP baselines.
    pub baselines: bool,
    /// VMAF worker threads.
    pub vmaf_threads: u32,
    /// Input events (click press + release) per second at the client.
    pub clicks_per_second: u32,
}

/// The FFmpeg CLI baseline on the same source, at ASP's bitrate, and its carriage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BaselineOutcome {
    /// The encoder settings.
    pub x264_settings: String,
    /// Bitrate it produced, kbit/s.
    pub x264_bitrate_kbps: f64,
    /// Its VMAF (decoded without loss).
    pub x264_vmaf: Option<VmafFigures>,
    /// Its time to sharp.
    pub x264_time_to_sharp_ms: Option<f64>,
    /// Its per-frame VMAF.
    #[serde(skip)]
    pub x264_per_frame: Vec<f64>,
    /// The lowest bitrate on a ladder (ASP's bitrate x 2, 4, 8, 16, 32) at which the FFmpeg CLI
    /// reaches mean VMAF 95, kbit/s produced; `None` if none does (or VMAF is off).
    pub x264_kbps_at_vmaf95: Option<f64>,
    /// The VMAF it reached there.
    pub x264_vmaf_at_vmaf95: Option<f64>,
    /// Its stream over SRT through the same emulated link.
    pub srt: Option<CarriageReport>,
    /// Its stream over one TCP connection through the same emulated link.
    pub tcp: Option<CarriageReport>,
    /// What failed.
    pub errors: Vec<String>,
}

/// A case's results.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case.
    pub spec: CaseSpec,
    /// The report (what `--json` writes).
    pub report: Report,
    /// Glass-to-glass distribution.
    pub glass_to_glass: LatencyHistogram,
    /// (seconds, received kbit/s, downstream capacity kbit/s) every 250 ms.
    pub bitrate: Vec<(f64, f64, Option<f64>)>,
    /// Per-frame VMAF (empty when not scored).
    pub vmaf_per_frame: Vec<f64>,
    /// Baselines, when run.
    pub baseline: Option<BaselineOutcome>,
}

/// Removes files when dropped (unless `keep`).
struct RemoveOnDrop {
    paths: Vec<PathBuf>,
    keep: bool,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if !self.keep {
            for p in &self.paths {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// A Y4M sink the bench can still reach after the client has taken it.
#[derive(Debug, Clone)]
struct SharedSink(Arc<Mutex<Y4mSink>>);

impl FrameSink for SharedSink {
    fn show(&mut self, frame: &DecodedFrame) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).show(frame);
    }

    fn finish(&mut self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).finish();
    }
}

type Pipeline = (Box<dyn FrameSource>, Option<Box<dyn InputInjector>>, u32);

fn open_source(spec: &CaseSpec) -> Result<Pipeline, String> {
    match &spec.source {
        BenchSource::Synth(kind) => {
            let (s, i) = SynthSource::new(*kind, spec.size.0, spec.size.1, spec.seed).map_err(|e| e.to_string())?;
            Ok((Box::new(s), Some(Box::new(i)), spec.fps))
        }
        BenchSource::Y4m(path) => {
            let s = Y4mSource::open(path, false).map_err(|e| format!("{}: {e}", path.display()))?;
            let fps = s.frame_rate();
            Ok((Box::new(s), None, fps))
        }
    }
}

/// Runs one case: streams, scores, and (with `options.baselines`) measures the baselines.
/// `progress` hears what is happening.
///
/// # Errors
/// A message naming the step that failed.
pub async fn run_case(spec: &CaseSpec, options: &BenchOptions, progress: &dyn Fn(&str)) -> Result<CaseOutcome, String> {
    let dir = options.out_dir.join(spec.slug());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (reference_path, decoded_path) = (dir.join("source.y4m"), dir.join("decoded.y4m"));
    // Two full-size Y4M files (1.9 GB each for 10 s of 1080p60): gone however the case ends,
    // unless asked to keep them.
    let _cleanup = RemoveOnDrop { paths: vec![reference_path.clone(), decoded_path.clone()], keep: options.keep_y4m };
    let (source, injector, fps) = open_source(spec)?;
    let answers_input = injector.is_some();
    let (width, height) = source.size();
    let (source, recording) = RecordingSource::new(source, &reference_path, fps)?;
    let sink = SharedSink(Arc::new(Mutex::new(Y4mSink::new(&decoded_path, fps, true))));
    let server_config =
        ServerConfig { codec: spec.codec, preset: spec.preset, frame_rate: fps, ..ServerConfig::default() };
    let link = LinkEmulation { up: spec.network.up.clone(), down: spec.network.down.clone(), seed: spec.seed };
    let loopback_options = LoopbackOptions { carrier: spec.carrier, link: Some(link), ..LoopbackOptions::default() };
    progress("connecting");
    let pair = Loopback::start(
        Box::new(source),
        injector,
        Box::new(sink.clone()),
        server_config,
        ClientConfig::default(),
        loopback_options,
    )
    .await
    .map_err(|e| e.to_string())?;
    let clock = crate::clock::Clock::new();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut bitrate = Vec::new();
    let (mut last_bytes, mut ticks) = (0u64, 0u64);
    let click_every = (4 / options.clicks_per_second.clamp(1, 4)).max(1);
    let end_us = (spec.seconds * 1e6) as u64;
    while clock.now_us() < end_us {
        tick.tick().await;
        ticks += 1;
        // A recording does not answer input: clicking at it would only report stalls.
        if answers_input && options.clicks_per_second > 0 && ticks % u64::from(click_every) == 0 {
            let _ = pair.client.send_input(InputEvent::Button { button: 1, down: true });
            let _ = pair.client.send_input(InputEvent::Button { button: 1, down: false });
        }
        let stats = pair.client.stats();
        let t = clock.now_us() as f64 / 1e6;
        let capacity = spec.network.capacity_at(Duration::from_secs_f64(t)).map(|b| b as f64 / 1000.0);
        bitrate.push((t, (stats.video_bytes - last_bytes) as f64 * 8.0 / 0.25 / 1000.0, capacity));
        last_bytes = stats.video_bytes;
        progress(&format!("streaming {t:4.1}/{:.0} s  {} frames shown", spec.seconds, stats.frames_shown));
        if pair.server.stats().source_ended || pair.server.is_finished() {
            break;
        }
    }
    if pair.server.stats().source_ended {
        // The file ended: let the last frames in flight arrive before stopping.
        let deadline = clock.now_us() + 2_000_000;
        while clock.now_us() < deadline && pair.client.stats().last_frame_id < pair.server.stats().last_frame_id {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let seconds = clock.now_us() as f64 / 1e6;
    let (glass_to_glass, _) = pair.client.histograms();
    let (server, client) = pair.stop().await;
    let reference_frames = recording.wait()?;
    {
        let mut s = sink.0.lock().unwrap_or_else(PoisonError::into_inner);
        s.pad_to(reference_frames);
        if let Some(e) = s.error() {
            return Err(format!("writing {}: {e}", decoded_path.display()));
        }
    }
    let mut report = Report::from_stats(&server, &client, seconds);
    report.scene = spec.source.name();
    report.codec = format!("{} ({})", server.encoder.clone().unwrap_or_default(), client.codec);
    report.carrier = spec.carrier.name().into();
    report.network = spec.network.name.clone();
    report.resolution = format!("{width}x{height}");
    let mut vmaf_per_frame = Vec::new();
    if options.vmaf {
        progress(&format!("scoring {reference_frames} frames with VMAF"));
        let scored = score::score(&reference_path, &decoded_path, fps, options.vmaf_threads)?;
        report.vmaf = Some(scored.figures);
        report.time_to_sharp_ms = scored.time_to_sharp_ms;
        vmaf_per_frame = scored.per_frame;
    }
    let baseline = if options.baselines {
        Some(run_baselines(spec, options, &reference_path, &dir, fps, report.bitrate_kbps.mean, progress).await)
    } else {
        None
    };
    Ok(CaseOutcome { spec: spec.clone(), report, glass_to_glass, bitrate, vmaf_per_frame, baseline })
}

async fn run_baselines(
    spec: &CaseSpec,
    options: &BenchOptions,
    reference: &Path,
    dir: &Path,
    fps: u32,
    asp_kbps: f64,
    progress: &dyn Fn(&str),
) -> BaselineOutcome {
    let mut out = BaselineOutcome::default();
    progress(&format!("FFmpeg CLI x264 at {asp_kbps:.0} kbit/s"));
    let kbps = (asp_kbps.round() as u32).max(50);
    let reference = reference.to_owned();
    let work = dir.to_owned();
    let encoded = tokio::task::spawn_blocking(move || baseline::encode_x264(&reference, kbps, fps, &work)).await;
    let encoded = match encoded {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => {
            out.errors.push(format!("x264: {e}"));
            return out;
        }
        Err(e) => {
            out.errors.push(format!("x264: {e}"));
            return out;
        }
    };
    out.x264_settings.clone_from(&encoded.settings);
    out.x264_bitrate_kbps = encoded.bitrate_kbps;
    if options.vmaf {
        progress("scoring the x264 baseline with VMAF");
        match score::score(&dir.join("source.y4m"), &encoded.decoded_y4m, fps, options.vmaf_threads) {
            Ok(s) => {
                out.x264_vmaf = Some(s.figures);
                out.x264_time_to_sharp_ms = s.time_to_sharp_ms;
                out.x264_per_frame = s.per_frame;
            }
            Err(e) => out.errors.push(format!("x264 VMAF: {e}")),
        }
    }
    for (carrier, name) in [(BaselineCarrier::Srt, "SRT"), (BaselineCarrier::Tcp, "TCP")] {
        progress(&format!("carrying the x264 stream over {name}"));
        match baseline::carry(&encoded.frames, fps, carrier, spec.network.down.clone(), spec.seed).await {
            Ok(r) if carrier == BaselineCarrier::Srt => out.srt = Some(r),
            Ok(r) => out.tcp = Some(r),
            Err(e) => out.errors.push(format!("{name}: {e}")),
        }
    }
    if !options.keep_y4m {
        let _ = std::fs::remove_file(&encoded.decoded_y4m);
        let _ = std::fs::remove_file(&encoded.stream_path);
    }
    if options.vmaf {
        vmaf95_ladder(&mut out, dir, fps, kbps, options, progress).await;
    }
    out
}

/// Finds the FFmpeg CLI's bitrate for mean VMAF 95 on a doubling ladder from ASP's bitrate.
async fn vmaf95_ladder(
    out: &mut BaselineOutcome,
    dir: &Path,
    fps: u32,
    asp_kbps: u32,
    options: &BenchOptions,
    progress: &dyn Fn(&str),
) {
    if out.x264_vmaf.is_some_and(|v| v.mean >= 95.0) {
        out.x264_kbps_at_vmaf95 = Some(out.x264_bitrate_kbps);
        out.x264_vmaf_at_vmaf95 = out.x264_vmaf.map(|v| v.mean);
        return;
    }
    let reference = dir.join("source.y4m");
    for factor in [2u32, 4, 8, 16, 32] {
        let kbps = asp_kbps.saturating_mul(factor);
        progress(&format!("FFmpeg CLI x264 at {kbps} kbit/s (looking for VMAF 95)"));
        let work = dir.join(format!("ladder-{factor}"));
        if let Err(e) = std::fs::create_dir_all(&work) {
            out.errors.push(format!("ladder: {e}"));
            return;
        }
        let (r, w) = (reference.clone(), work.clone());
        let encoded = match tokio::task::spawn_blocking(move || baseline::encode_x264(&r, kbps, fps, &w)).await {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => {
                out.errors.push(format!("ladder x{factor}: {e}"));
                return;
            }
            Err(e) => {
                out.errors.push(format!("ladder x{factor}: {e}"));
                return;
            }
        };
        let scored = score::score(&reference, &encoded.decoded_y4m, fps, options.vmaf_threads);
        let _ = std::fs::remove_dir_all(&work);
        match scored {
            Ok(s) if s.figures.mean >= 95.0 => {
                out.x264_kbps_at_vmaf95 = Some(encoded.bitrate_kbps);
                out.x264_vmaf_at_vmaf95 = Some(s.figures.mean);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                out.errors.push(format!("ladder x{factor} VMAF: {e}"));
                return;
            }
        }
    }
}
