//! [`VideoEncoder`] over an FFmpeg encoder (libx264, libx265 or NVENC).
#![allow(unsafe_code)]

use std::collections::VecDeque;

use bytes::Bytes;
use ffmpeg_next::codec::{self, threading};
use ffmpeg_next::util::frame::Video as AvFrame;
use ffmpeg_next::{Packet, Rational, color, encoder, picture};

use super::frames::{copy_into_frame, pixel};
use super::options::{EncoderKind, dictionary, one_frame_vbv};
use crate::frame::{EncodedVideo, VideoFrame};
use crate::video::{
    EncodeError, EncoderInfo, OpenError, RateControl, ReconfigureError, VideoEncoder, VideoEncoderConfig,
};

/// Frames in a keyframe burst window: the keyframe and the next frames, which refine it, share
/// the burst budget and the better CRF for 200 ms at 30 fps; then the stream's settings return.
const BURST_WINDOW_FRAMES: u32 = 6;

/// Time base of every timestamp handed to FFmpeg: microseconds, as the frames carry them.
const MICROS: Rational = Rational(1, 1_000_000);

/// An FFmpeg video encoder tuned for latency (see the `options` module for the settings, and
/// [`crate::RateControl`] for the keyframe burst).
pub struct FfmpegVideoEncoder {
    enc: encoder::video::Encoder,
    kind: EncoderKind,
    info: EncoderInfo,
    /// The configuration, with bitrate and frame rate as last set.
    config: VideoEncoderConfig,
    frame: AvFrame,
    /// (pts, frame id) of frames sent and not yet returned as packets, oldest first.
    in_flight: VecDeque<(i64, u64)>,
    /// Packets drained from FFmpeg but not yet returned (only if one frame gives two).
    ready: VecDeque<EncodedVideo>,
    force_keyframe: bool,
    /// Frames left in the keyframe burst window (the keyframe and the frames that refine it
    /// get the burst buffer and the better CRF); at 0 the stream's own settings are back.
    burst_left: u32,
    /// The stream's own buffer and CRF have to be restored when `burst_left` reaches 0.
    burst_pending_restore: bool,
    /// Frame rate the encoder was opened with; x264's rate control budgets for it.
    opened_frame_rate: u32,
}

impl std::fmt::Debug for FfmpegVideoEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegVideoEncoder")
            .field("info", &self.info)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Opens FFmpeg's encoder for `kind` and `config`, with a VBV buffer of `vbv_frames` frames.
fn open_context(
    kind: EncoderKind,
    config: &VideoEncoderConfig,
    vbv_frames: u32,
) -> Result<encoder::video::Encoder, OpenError> {
    let name =
        kind.ffmpeg_name(config.codec).ok_or(OpenError::Unsupported("this encoder kind does not make this codec"))?;
    let codec = encoder::find_by_name(name).ok_or_else(|| OpenError::NotAvailable(name.into()))?;
    let ffmpeg_err = |source| OpenError::Ffmpeg { name: name.into(), source };
    let mut enc = codec::context::Context::new_with_codec(codec).encoder().video().map_err(ffmpeg_err)?;
    enc.set_width(config.width);
    enc.set_height(config.height);
    enc.set_format(pixel(config.format));
    enc.set_time_base(MICROS);
    enc.set_frame_rate(Some(Rational(config.frame_rate as i32, 1)));
    enc.set_max_b_frames(0);
    // Periodic keyframes come from the options; FFmpeg's default GOP of 12 must not apply.
    enc.set_gop(i32::MAX as u32);
    enc.set_colorspace(color::Space::BT709);
    enc.set_color_range(color::Range::MPEG);
    enc.set_color_primaries(color::Primaries::BT709);
    enc.set_color_transfer_characteristic(color::TransferCharacteristic::BT709);
    enc.set_threading(threading::Config {
        kind: threading::Type::Slice,
        count: config.threads as usize,
        ..Default::default()
    });
    set_rate(&mut enc, config.bitrate_bps, config.frame_rate, config.frame_rate, vbv_frames);
    enc.open_as_with(codec, dictionary(kind, config)).map_err(ffmpeg_err)
}

impl FfmpegVideoEncoder {
    /// Opens the software encoder for `config.codec` (libx264 or libx265).
    ///
    /// # Errors
    ///
    /// [`OpenError`] if the configuration is invalid, the codec has no software encoder here
    /// (AV1 is not built yet), or FFmpeg refuses to open it.
    pub fn open(config: &VideoEncoderConfig) -> Result<Self, OpenError> {
        let kind = EncoderKind::software_for(config.codec).ok_or(OpenError::Unsupported(
            "FFmpeg AV1 encoding is not wired; use asp_codec::av1::Rav1eEncoder (feature rav1e)",
        ))?;
        Self::open_kind(kind, config)
    }

    /// Opens the first encoder in `kinds` that opens, for example `[Nvenc, X264]`: hardware
    /// when a device answers, software otherwise.
    ///
    /// # Errors
    ///
    /// The last [`OpenError`] if none opens.
    pub fn open_first(kinds: &[EncoderKind], config: &VideoEncoderConfig) -> Result<Self, OpenError> {
        let mut last = OpenError::Unsupported("no encoder kinds given");
        for &kind in kinds {
            match Self::open_kind(kind, config) {
                Ok(enc) => return Ok(enc),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Opens encoder `kind` for `config`.
    ///
    /// # Errors
    ///
    /// As [`FfmpegVideoEncoder::open`]; a hardware kind fails with [`OpenError::Ffmpeg`] when
    /// no device answers. libx265 refuses a keyframe burst: shrinking the buffer after the
    /// keyframe needs a reconfiguration that FFmpeg 5.1's wrapper lacks.
    pub fn open_kind(kind: EncoderKind, config: &VideoEncoderConfig) -> Result<Self, OpenError> {
        config.validate()?;
        super::init();
        let burst = config.keyframe_burst_frames > 1;
        if burst && kind == EncoderKind::X265 {
            return Err(OpenError::Unsupported(
                "libx265 cannot shrink its VBV after a keyframe burst (no reconfigure in FFmpeg 5.1)",
            ));
        }
        let enc = open_context(kind, config, config.keyframe_burst_frames.max(1))?;
        let name = kind.ffmpeg_name(config.codec).unwrap_or_default();
        let mut frame = AvFrame::new(pixel(config.format), config.width, config.height);
        frame.set_color_space(color::Space::BT709);
        frame.set_color_range(color::Range::MPEG);
        Ok(Self {
            enc,
            kind,
            info: EncoderInfo {
                name: name.into(),
                codec: config.codec,
                hardware: kind.hardware(),
                format: config.format,
            },
            config: config.clone(),
            frame,
            in_flight: VecDeque::new(),
            ready: VecDeque::new(),
            force_keyframe: false,
            burst_left: if burst { BURST_WINDOW_FRAMES } else { 0 },
            burst_pending_restore: burst,
            opened_frame_rate: config.frame_rate,
        })
    }

    /// The current configuration, with bitrate and frame rate as last set.
    #[must_use]
    pub fn config(&self) -> &VideoEncoderConfig {
        &self.config
    }

    /// Replaces the encoder with a fresh one opened with a full burst buffer, for a requested
    /// keyframe. The old one holds no frames (one packet per frame), but is drained anyway.
    fn reopen_for_burst(&mut self) -> Result<(), EncodeError> {
        let fresh = open_context(self.kind, &self.config, self.config.keyframe_burst_frames)
            .map_err(|e| EncodeError::Reopen(Box::new(e)))?;
        self.flush_into_ready()?;
        self.enc = fresh;
        self.opened_frame_rate = self.config.frame_rate;
        self.burst_left = BURST_WINDOW_FRAMES;
        self.burst_pending_restore = true;
        Ok(())
    }

    fn flush_into_ready(&mut self) -> Result<(), EncodeError> {
        match self.enc.send_eof() {
            Ok(()) | Err(ffmpeg_next::Error::Eof) => {}
            Err(e) => return Err(e.into()),
        }
        self.drain()
    }

    fn drain(&mut self) -> Result<(), EncodeError> {
        let mut packet = Packet::empty();
        loop {
            match self.enc.receive_packet(&mut packet) {
                Ok(()) => {
                    let pts = packet.pts().unwrap_or_default();
                    // Packets leave in frame order (no B-frames), so the oldest in flight is
                    // this packet's frame; entries for frames the encoder dropped are skipped.
                    let mut frame_id = None;
                    while let Some((p, id)) = self.in_flight.pop_front() {
                        if p == pts {
                            frame_id = Some(id);
                            break;
                        }
                    }
                    let data = Bytes::copy_from_slice(packet.data().unwrap_or_default());
                    // FFmpeg's key flag also marks intra-refresh starts; only an IDR counts.
                    let keyframe =
                        crate::bitstream::is_idr(self.config.codec, &data).unwrap_or_else(|| packet.is_key());
                    self.ready.push_back(EncodedVideo {
                        codec: self.config.codec,
                        data,
                        pts_us: pts,
                        frame_id: frame_id.unwrap_or_default(),
                        keyframe,
                    });
                }
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(ffmpeg_next::Error::Other { errno: ffmpeg_next::util::error::EAGAIN }) => {
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sets libx264's CRF on its private context; the wrapper reconfigures x264 with it
    /// before the next frame.
    fn set_crf(&mut self, crf: u8) -> Result<(), EncodeError> {
        let value = std::ffi::CString::new(crf.to_string()).unwrap_or_default();
        // SAFETY: the codec context is valid and opened, so priv_data points to the encoder's
        // private context, whose AVClass declares "crf"; both strings are NUL-terminated and
        // outlive the call.
        let rc = unsafe {
            let ctx = self.enc.as_mut_ptr();
            ffmpeg_next::ffi::av_opt_set((*ctx).priv_data, c"crf".as_ptr(), value.as_ptr(), 0)
        };
        if rc < 0 {
            return Err(ffmpeg_next::Error::from(rc).into());
        }
        Ok(())
    }

    fn apply_rate(&mut self) {
        set_rate(
            &mut self.enc,
            self.config.bitrate_bps,
            self.opened_frame_rate,
            self.config.frame_rate,
            if self.burst_left > 0 { self.config.keyframe_burst_frames } else { 1 },
        );
    }
}

/// Sets bitrate, max rate and a VBV of `vbv_frames` frames on the codec context. x264
/// budgets each frame as bitrate / opened frame rate, so a changed frame rate is applied by
/// scaling the bitrate it is given (`actual_fps` frames a second should each get
/// `bitrate / actual_fps`).
fn set_rate(enc: &mut codec::encoder::Encoder, bitrate_bps: u32, opened_fps: u32, actual_fps: u32, vbv_frames: u32) {
    let scaled = (u64::from(bitrate_bps) * u64::from(opened_fps) / u64::from(actual_fps.max(1))) as usize;
    enc.set_bit_rate(scaled);
    enc.set_max_bit_rate(scaled);
    let vbv = u64::from(one_frame_vbv(bitrate_bps, actual_fps)) * u64::from(vbv_frames.max(1));
    // SAFETY: `enc` owns a valid AVCodecContext; rc_buffer_size is a plain int field that the
    // libx264/libx265/nvenc wrappers read at open and (x264, nvenc) before each frame.
    unsafe {
        (*enc.as_mut_ptr()).rc_buffer_size = vbv.min(i32::MAX as u64) as i32;
    }
}

impl VideoEncoder for FfmpegVideoEncoder {
    fn encode(&mut self, frame: &VideoFrame) -> Result<Option<EncodedVideo>, EncodeError> {
        self.config.check_frame(frame)?;
        let img = &frame.image;
        let mut force = std::mem::take(&mut self.force_keyframe);
        if force && self.config.keyframe_burst_frames > 1 {
            // A fresh encoder starts with an IDR and a full burst buffer.
            self.reopen_for_burst()?;
            force = false;
        }
        // SAFETY: `self.frame` owns a valid, allocated AVFrame. If an encoder still holds a
        // reference to its buffers, av_frame_make_writable gives the frame fresh ones.
        let rc = unsafe { ffmpeg_next::ffi::av_frame_make_writable(self.frame.as_mut_ptr()) };
        if rc < 0 {
            return Err(ffmpeg_next::Error::from(rc).into());
        }
        copy_into_frame(img, &mut self.frame);
        self.frame.set_pts(Some(frame.pts_us));
        self.frame.set_kind(if force { picture::Type::I } else { picture::Type::None });
        self.in_flight.push_back((frame.pts_us, frame.frame_id));
        self.enc.send_frame(&self.frame)?;
        self.drain()?;
        if self.burst_left > 0 {
            self.burst_left -= 1;
        }
        if self.burst_left == 0 && self.burst_pending_restore {
            // The burst window is over: one frame of buffer again, and the stream's own CRF.
            self.burst_pending_restore = false;
            self.apply_rate();
            if let RateControl::CappedQuality { crf } = self.config.rate {
                self.set_crf(crf)?;
            }
        }
        Ok(self.ready.pop_front())
    }

    fn request_keyframe(&mut self) {
        self.force_keyframe = true;
    }

    fn set_bitrate(&mut self, bitrate_bps: u32) -> Result<(), ReconfigureError> {
        if !(10_000..=500_000_000).contains(&bitrate_bps) {
            return Err(ReconfigureError::OutOfRange {
                field: "bitrate_bps",
                actual: bitrate_bps.into(),
                min: 10_000,
                max: 500_000_000,
            });
        }
        if self.kind == EncoderKind::X265 {
            // FFmpeg 5.1's libx265 wrapper reads the rate only at open (no x265_encoder_reconfig).
            return Err(ReconfigureError::Unsupported { field: "bitrate", encoder: self.info.name.clone() });
        }
        self.config.bitrate_bps = bitrate_bps;
        self.apply_rate();
        Ok(())
    }

    fn set_frame_rate(&mut self, frame_rate: u32) -> Result<(), ReconfigureError> {
        if !(1..=240).contains(&frame_rate) {
            return Err(ReconfigureError::OutOfRange {
                field: "frame_rate",
                actual: frame_rate.into(),
                min: 1,
                max: 240,
            });
        }
        if self.kind == EncoderKind::X265 {
            return Err(ReconfigureError::Unsupported { field: "frame rate", encoder: self.info.name.clone() });
        }
        self.config.frame_rate = frame_rate;
        self.apply_rate();
        Ok(())
    }

    fn flush(&mut self) -> Result<Vec<EncodedVideo>, EncodeError> {
        self.flush_into_ready()?;
        Ok(self.ready.drain(..).collect())
    }

    fn info(&self) -> &EncoderInfo {
        &self.info
    }
}
