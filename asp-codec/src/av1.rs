//! AV1 encoding with rav1e (cargo feature `rav1e`, off by default: rav1e adds minutes to a
//! clean build), in its lowest-latency configuration: speed preset 10, no frame reordering
//! (`low_latency`), one frame of RDO look-ahead (the least rav1e allows), no scene-cut
//! detection, keyframes only on request.
//!
//! Even so rav1e holds frames back: it looks ahead for its keyframe decisions whatever the
//! settings, and was measured here to emit each packet 4 frames after its frame (133 ms at
//! 30 fps). [`VideoEncoder::encode`] returns `None` until then, and [`VideoEncoder::flush`]
//! gives the rest. rav1e cannot change its bitrate or frame rate while open, so
//! those calls answer [`ReconfigureError::Unsupported`]. How fast it is here: see the README
//! and `benches/encode.rs` (run with `--features rav1e`).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use rav1e::color::{
    ChromaSampling, ColorDescription, ColorPrimaries, MatrixCoefficients, PixelRange, TransferCharacteristics,
};
use rav1e::config::{Config, EncoderConfig};
use rav1e::data::{EncoderStatus, FrameType, Rational};
use rav1e::prelude::{FrameParameters, FrameTypeOverride, SceneDetectionSpeed};

use crate::frame::{EncodedVideo, VideoFrame, YuvFormat};
use crate::video::{
    EncodeError, EncoderInfo, OpenError, RateControl, ReconfigureError, RefreshMode, VideoCodec, VideoEncoder,
    VideoEncoderConfig,
};

/// rav1e's fastest speed preset.
const SPEED: u8 = 10;

/// An AV1 encoder on rav1e.
pub struct Rav1eEncoder {
    ctx: rav1e::Context<u8>,
    info: EncoderInfo,
    config: VideoEncoderConfig,
    /// (pts, frame id) of frames sent, in order; rav1e numbers them from 0.
    in_flight: VecDeque<(i64, u64)>,
    /// rav1e's number of the oldest entry in `in_flight`.
    first_frameno: u64,
    force_keyframe: bool,
}

impl std::fmt::Debug for Rav1eEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rav1eEncoder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Rav1eEncoder {
    /// Opens rav1e for `config` (codec AV1, layout I420 or I444, keyframes on request or
    /// every `interval` frames, CBR).
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidConfig`] / [`OpenError::Unsupported`] for what rav1e cannot do
    /// here (NV12 input, intra refresh, capped quality, a keyframe burst).
    pub fn open(config: &VideoEncoderConfig) -> Result<Self, OpenError> {
        config.validate()?;
        if config.codec != VideoCodec::Av1 {
            return Err(OpenError::Unsupported("rav1e encodes AV1 only"));
        }
        let chroma_sampling = match config.format {
            YuvFormat::I420 => ChromaSampling::Cs420,
            YuvFormat::I444 => ChromaSampling::Cs444,
            YuvFormat::Nv12 => return Err(OpenError::Unsupported("rav1e takes planar input only")),
        };
        let max_key_frame_interval = match config.refresh {
            RefreshMode::Keyframes { interval: Some(i) } => u64::from(i),
            // rav1e's largest (its rate control works in i32 frame counts).
            RefreshMode::Keyframes { interval: None } => i32::MAX as u64 / 3,
            RefreshMode::IntraRefresh { .. } => {
                return Err(OpenError::Unsupported("rav1e has no periodic intra refresh"));
            }
        };
        if config.rate != RateControl::Cbr || config.keyframe_burst_frames > 1 {
            return Err(OpenError::Unsupported(
                "rav1e here runs its bitrate mode only (no capped quality, no keyframe burst)",
            ));
        }
        let mut enc = EncoderConfig::with_speed_preset(SPEED);
        enc.width = config.width as usize;
        enc.height = config.height as usize;
        enc.time_base = Rational::new(1, u64::from(config.frame_rate));
        enc.chroma_sampling = chroma_sampling;
        enc.pixel_range = PixelRange::Limited;
        enc.color_description = Some(ColorDescription {
            color_primaries: ColorPrimaries::BT709,
            transfer_characteristics: TransferCharacteristics::BT709,
            matrix_coefficients: MatrixCoefficients::BT709,
        });
        enc.low_latency = true;
        enc.min_key_frame_interval = 0;
        enc.max_key_frame_interval = max_key_frame_interval;
        enc.bitrate = config.bitrate_bps as i32;
        enc.speed_settings.rdo_lookahead_frames = 1;
        // No scene-cut keyframes (a scroll must not cost a keyframe), as for x264.
        enc.speed_settings.scene_detection_mode = SceneDetectionSpeed::None;
        let ctx = Config::new()
            .with_encoder_config(enc)
            .with_threads(config.threads as usize)
            .new_context::<u8>()
            .map_err(|e| OpenError::Rav1e(e.to_string()))?;
        Ok(Self {
            ctx,
            info: EncoderInfo { name: "rav1e".into(), codec: VideoCodec::Av1, hardware: false, format: config.format },
            config: config.clone(),
            in_flight: VecDeque::new(),
            first_frameno: 0,
            force_keyframe: false,
        })
    }
}

impl VideoEncoder for Rav1eEncoder {
    fn encode(&mut self, frame: &VideoFrame) -> Result<Option<EncodedVideo>, EncodeError> {
        self.config.check_frame(frame)?;
        let img = &frame.image;
        let mut f = self.ctx.new_frame();
        for (i, plane) in f.planes.iter_mut().enumerate() {
            plane.copy_from_raw_u8(&img.planes[i], img.plane_width(i), 1);
        }
        let params = std::mem::take(&mut self.force_keyframe)
            .then(|| FrameParameters { frame_type_override: FrameTypeOverride::Key, ..Default::default() });
        self.in_flight.push_back((frame.pts_us, frame.frame_id));
        self.ctx.send_frame((Arc::new(f), params)).map_err(|e| EncodeError::Rav1e(e.to_string()))?;
        // rav1e may report `Encoded` (a frame done but not yet shown) before a packet: ask
        // again until it has a packet or needs more input.
        loop {
            match self.ctx.receive_packet() {
                Err(EncoderStatus::Encoded) => {}
                other => {
                    return match other {
                        Ok(p) => self.ctx_packet_back(p),
                        Err(EncoderStatus::NeedMoreData | EncoderStatus::LimitReached) => Ok(None),
                        Err(e) => Err(EncodeError::Rav1e(e.to_string())),
                    };
                }
            }
        }
    }

    fn request_keyframe(&mut self) {
        self.force_keyframe = true;
    }

    fn set_bitrate(&mut self, _bitrate_bps: u32) -> Result<(), ReconfigureError> {
        Err(ReconfigureError::Unsupported { field: "bitrate", encoder: "rav1e".into() })
    }

    fn set_frame_rate(&mut self, _frame_rate: u32) -> Result<(), ReconfigureError> {
        Err(ReconfigureError::Unsupported { field: "frame rate", encoder: "rav1e".into() })
    }

    fn flush(&mut self) -> Result<Vec<EncodedVideo>, EncodeError> {
        self.ctx.flush();
        let mut out = Vec::new();
        loop {
            match self.ctx.receive_packet() {
                Err(EncoderStatus::Encoded) => {}
                Err(EncoderStatus::LimitReached | EncoderStatus::NeedMoreData) => return Ok(out),
                Err(e) => return Err(EncodeError::Rav1e(e.to_string())),
                Ok(p) => out.extend(self.ctx_packet_back(p)?),
            }
        }
    }

    fn info(&self) -> &EncoderInfo {
        &self.info
    }
}

impl Rav1eEncoder {
    /// Turns rav1e's packet into ours, with the id and timestamp of its source frame.
    fn ctx_packet_back(&mut self, p: rav1e::data::Packet<u8>) -> Result<Option<EncodedVideo>, EncodeError> {
        // Frames leave in order (no reordering): drop entries of frames before this one.
        let skip = p.input_frameno.saturating_sub(self.first_frameno);
        for _ in 0..skip {
            self.in_flight.pop_front();
        }
        self.first_frameno = p.input_frameno + 1;
        let (pts_us, frame_id) = self.in_flight.pop_front().unwrap_or_default();
        Ok(Some(EncodedVideo {
            codec: VideoCodec::Av1,
            data: Bytes::from(p.data),
            pts_us,
            frame_id,
            keyframe: p.frame_type == FrameType::KEY,
        }))
    }
}
