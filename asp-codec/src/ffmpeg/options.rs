//! The latency tuning of each FFmpeg encoder, as the option dictionary passed at open.
//!
//! Every encoder here is set for screen streaming: no B-frames and no look-ahead, so each
//! frame in gives its packet out at once; a VBV buffer of one frame's bits, so an inter frame
//! never takes more than a frame time to send at the target rate; no scene-cut keyframes (a
//! scroll must not cost a keyframe); keyframes only when asked for, or periodic intra refresh.

use ffmpeg_next::Dictionary;

use crate::frame::YuvFormat;
use crate::video::{RateControl, RefreshMode, VideoCodec, VideoEncoderConfig};

/// An FFmpeg encoder this crate knows how to tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncoderKind {
    /// libx264 (software H.264).
    X264,
    /// libx265 (software HEVC).
    X265,
    /// NVIDIA NVENC (`h264_nvenc`, `hevc_nvenc`).
    Nvenc,
}

impl EncoderKind {
    /// FFmpeg's encoder name for `codec`, if this kind makes it.
    #[must_use]
    pub fn ffmpeg_name(self, codec: VideoCodec) -> Option<&'static str> {
        match (self, codec) {
            (Self::X264, VideoCodec::H264) => Some("libx264"),
            (Self::X265, VideoCodec::Hevc) => Some("libx265"),
            (Self::Nvenc, VideoCodec::H264) => Some("h264_nvenc"),
            (Self::Nvenc, VideoCodec::Hevc) => Some("hevc_nvenc"),
            _ => None,
        }
    }

    /// Whether the kind runs on a GPU.
    #[must_use]
    pub fn hardware(self) -> bool {
        self == Self::Nvenc
    }

    /// The software encoder for `codec`, if one is built.
    #[must_use]
    pub fn software_for(codec: VideoCodec) -> Option<Self> {
        match codec {
            VideoCodec::H264 => Some(Self::X264),
            VideoCodec::Hevc => Some(Self::X265),
            VideoCodec::Av1 => None,
        }
    }
}

/// How much lower (better) the CRF of a burst keyframe is than the stream's: the burst is
/// there to make the first picture sharp, and a keyframe at the stream's CRF comes out well
/// under the quality that the following inter frames refine the picture to (measured on the
/// xterm recording: 32 dB at CRF 23 against 41.6 dB after refinement).
pub(crate) const KEYFRAME_CRF_BOOST: u8 = 8;

/// VBV buffer of one frame at `bitrate_bps` and `frame_rate`, in bits.
pub(crate) fn one_frame_vbv(bitrate_bps: u32, frame_rate: u32) -> u32 {
    (bitrate_bps / frame_rate.max(1)).max(1_000)
}

/// The option dictionary for `kind` opening `config`.
pub(crate) fn dictionary(kind: EncoderKind, config: &VideoEncoderConfig) -> Dictionary<'static> {
    let mut d = Dictionary::new();
    let keyint = match config.refresh {
        RefreshMode::Keyframes { interval: Some(i) } => i.to_string(),
        RefreshMode::IntraRefresh { period } => period.to_string(),
        RefreshMode::Keyframes { interval: None } => String::new(),
    };
    let refresh = matches!(config.refresh, RefreshMode::IntraRefresh { .. });
    let i444 = config.format == YuvFormat::I444;
    let burst = config.keyframe_burst_frames > 1;
    if let RateControl::CappedQuality { crf } = config.rate {
        match kind {
            // CRF under the VBV cap that the codec context carries (max rate, buffer).
            EncoderKind::X264 | EncoderKind::X265 => {
                // A burst keyframe opens the stream: it gets the better CRF, restored after it.
                let first = if burst { crf.saturating_sub(KEYFRAME_CRF_BOOST) } else { crf };
                d.set("crf", &first.to_string());
            }
            // NVENC's equivalent: VBR at a constant quality, capped by max rate.
            EncoderKind::Nvenc => d.set("cq", &crf.to_string()),
        }
    }
    match kind {
        EncoderKind::X264 => {
            d.set("preset", config.preset.name());
            d.set("tune", "zerolatency");
            d.set("profile", if i444 { "high444" } else { "high" });
            // A requested keyframe is an IDR, so a decoder that lost its reference can restart.
            d.set("forced-idr", "1");
            let keyint = if keyint.is_empty() { "infinite".to_string() } else { keyint };
            let mut params =
                format!("keyint={keyint}:min-keyint=1:scenecut=0:bframes=0:rc-lookahead=0:sync-lookahead=0");
            if refresh {
                params.push_str(":intra-refresh=1");
            }
            if burst {
                // Start with the (burst-sized) buffer full, so the first picture may use it.
                params.push_str(":vbv-init=1.0");
            }
            d.set("x264-params", &params);
        }
        EncoderKind::X265 => {
            d.set("preset", config.preset.name());
            d.set("tune", "zerolatency");
            d.set("profile", if i444 { "main444-8" } else { "main" });
            d.set("forced-idr", "1");
            let keyint = if keyint.is_empty() { "-1".to_string() } else { keyint };
            let mut params = format!(
                "log-level=error:keyint={keyint}:min-keyint=1:open-gop=0:scenecut=0:bframes=0:rc-lookahead=0:repeat-headers=1"
            );
            if refresh {
                params.push_str(":intra-refresh=1");
            }
            d.set("x265-params", &params);
        }
        EncoderKind::Nvenc => {
            d.set("preset", "p1");
            d.set("tune", "ull");
            d.set("zerolatency", "1");
            d.set("delay", "0");
            let capped = matches!(config.rate, RateControl::CappedQuality { .. });
            d.set("rc", if capped { "vbr" } else { "cbr" });
            d.set("forced-idr", "1");
            let profile = match (config.codec, i444) {
                (VideoCodec::Hevc, true) => "rext",
                (VideoCodec::Hevc, false) => "main",
                (_, true) => "high444p",
                (_, false) => "high",
            };
            d.set("profile", profile);
            if refresh {
                d.set("intra-refresh", "1");
            }
        }
    }
    d
}
