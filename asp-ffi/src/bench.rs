//! `run_bench`: one case of `asp bench` (a source through an emulated network over a carrier,
//! scored), for researchers driving runs from Python or Kotlin. The report comes back as the
//! same JSON `asp bench --json` writes, so a script reads it as a dict.

use std::path::PathBuf;

use asp::bench::network::NetworkProfile;
use asp::bench::{BenchOptions, BenchSource, CaseSpec};
use asp_transport::select::Carrier;

use crate::error::AspError;
use crate::runtime;
use crate::server::{Codec, EncoderPreset};

/// One bench case.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BenchConfig {
    /// `office`, `video`, `3d`, `idle`, or a path to a `.y4m` recording.
    #[uniffi(default = "office")]
    pub source: String,
    /// `lan`, `wan-40ms`, `lossy-5pct`, `3mbit`, `variable`, or a JSON profile file.
    #[uniffi(default = "lan")]
    pub network: String,
    /// `quic` or `tcp`.
    #[uniffi(default = "quic")]
    pub carrier: String,
    /// Picture width of synthetic scenes.
    #[uniffi(default = 1280)]
    pub width: u32,
    /// Picture height of synthetic scenes.
    #[uniffi(default = 720)]
    pub height: u32,
    /// Capture rate.
    #[uniffi(default = 60)]
    pub fps: u32,
    /// Seconds to stream.
    #[uniffi(default = 5.0)]
    pub seconds: f64,
    /// Codec.
    pub codec: Codec,
    /// Encoder preset.
    pub preset: EncoderPreset,
    /// Seed of the scene and the relay.
    #[uniffi(default = 1)]
    pub seed: u64,
    /// Score with VMAF (needs a build with the `vmaf` feature; otherwise the run fails and
    /// says so).
    #[uniffi(default = false)]
    pub vmaf: bool,
    /// Input clicks per second at the client (for click-to-photon).
    #[uniffi(default = 2)]
    pub clicks_per_second: u32,
    /// Folder for the case's files.
    #[uniffi(default = "asp-bench")]
    pub out_dir: String,
}

impl BenchConfig {
    fn spec(&self) -> Result<(CaseSpec, BenchOptions), AspError> {
        let source = match asp_codec::synth::SourceKind::from_name(&self.source) {
            Some(kind) => BenchSource::Synth(kind),
            None if self.source.ends_with(".y4m") => BenchSource::Y4m(PathBuf::from(&self.source)),
            None => return Err(AspError::invalid(format!("source {:?}: a scene name or a .y4m file", self.source))),
        };
        let carrier = match self.carrier.as_str() {
            "quic" => Carrier::Quic,
            "tcp" => Carrier::Tcp,
            other => return Err(AspError::invalid(format!("carrier {other:?}: quic or tcp"))),
        };
        let network = NetworkProfile::named(&self.network).map_err(AspError::invalid)?;
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            return Err(AspError::invalid("seconds must be in (0, 3600]"));
        }
        let spec = CaseSpec {
            source,
            network,
            carrier,
            size: (self.width, self.height),
            fps: self.fps,
            seconds: self.seconds,
            codec: self.codec.codec(),
            preset: self.preset.preset(),
            seed: self.seed,
        };
        let options = BenchOptions {
            out_dir: PathBuf::from(&self.out_dir),
            keep_y4m: false,
            vmaf: self.vmaf,
            baselines: false,
            vmaf_threads: 2,
            clicks_per_second: self.clicks_per_second,
        };
        Ok((spec, options))
    }
}

/// Runs one bench case and returns its report as JSON (the fields `asp bench --json` writes:
/// glass-to-glass and click-to-photon summaries, bitrate, frames, VMAF when asked).
///
/// # Errors
/// [`AspError::InvalidArgument`] for a bad case, [`AspError::Bench`] naming the step that
/// failed.
#[uniffi::export]
pub fn run_bench(config: BenchConfig) -> Result<String, AspError> {
    let (spec, options) = config.spec()?;
    let outcome = runtime::block_on("run_bench", asp::bench::run_case(&spec, &options, &|_| {}))?
        .map_err(|reason| AspError::Bench { reason })?;
    serde_json::to_string(&outcome.report).map_err(|e| AspError::Bench { reason: e.to_string() })
}
