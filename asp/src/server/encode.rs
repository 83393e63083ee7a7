//! The encode thread: damage, scene, skip gate, conversion and encoding, one picture at a
//! time, always the newest one the capture thread left.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;

use asp_codec::damage::DamageTracker;
use asp_codec::ffmpeg::FfmpegVideoEncoder;
use asp_codec::scene::{SceneClassifier, SceneSettings};
use asp_codec::skip::SkipGate;
use asp_codec::{RateControl, VideoEncoder, VideoEncoderConfig, VideoFrame, YuvFormat, YuvImage, convert};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::{RawFrame, ServerConfig, Shared};
use crate::mailbox::Mailbox;
use crate::proto::display::{FrameHeader, scene_name};

/// Side of a damage tile, in pixels.
const DAMAGE_TILE: u32 = 32;
/// A bitrate change smaller than this share is not worth telling the encoder.
const BITRATE_STEP: f64 = 0.05;

/// Least time between two requested keyframes, µs.
const KEYFRAME_MIN_INTERVAL_US: u64 = 500_000;

/// How long the keyframe burst may take to send at the target rate.
const KEYFRAME_BURST: Duration = Duration::from_millis(150);

/// The keyframe burst, in frame times of bits, that fits [`KEYFRAME_BURST`].
fn burst_frames(frame_rate: u32) -> u32 {
    let frames = u128::from(frame_rate) * KEYFRAME_BURST.as_millis() / 1000;
    u32::try_from(frames).unwrap_or(60).clamp(2, 60)
}

/// Encoder threads when the configuration leaves it open. Each x264 thread codes a slice of
/// every frame under its share of a one-frame VBV: past a few slices, quality per bit drops
/// (16 slices of a 1080p frame undershot the bitrate by a factor of six on a 16-core host), so
/// a few threads, and a core left for capture and the session.
fn auto_threads() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u32::try_from(cores.saturating_sub(1)).unwrap_or(1).clamp(1, 4)
}

/// An encoded display frame on its way to the session.
#[derive(Debug)]
pub(super) struct Outgoing {
    pub(super) message: Bytes,
    pub(super) keyframe: bool,
}

/// What the encoder needs to remember of a picture until its packet comes out.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    id: u64,
    capture_us: u64,
    changed: bool,
    /// The input this picture answers: see [`State::answer`].
    answers: u64,
}

struct Encoder {
    encoder: FfmpegVideoEncoder,
    settings: SceneSettings,
    bitrate: u32,
    frame: VideoFrame,
}

struct State<'a> {
    config: &'a ServerConfig,
    damage: DamageTracker,
    classifier: SceneClassifier,
    gate: SkipGate,
    encoder: Option<Encoder>,
    in_flight: VecDeque<InFlight>,
    answered: u64,
    /// (capture µs, input applied) of recent captures, oldest first.
    recent_inputs: VecDeque<(u64, u64)>,
    encode_us_total: u64,
    last_keyframe_us: u64,
}

/// Encodes what the mailbox holds until it closes or the session stops.
pub(super) fn run(mailbox: &Mailbox<RawFrame>, out: &mpsc::Sender<Outgoing>, shared: &Shared, config: &ServerConfig) {
    let mut state = State::new(config);
    while !shared.stopped() {
        let Some(raw) = mailbox.take(Duration::from_millis(50)) else {
            if mailbox.is_closed() {
                break;
            }
            continue;
        };
        match state.process(raw, shared) {
            Ok(Some(outgoing)) => {
                if out.blocking_send(outgoing).is_err() {
                    break;
                }
            }
            Ok(None) => {}
            Err(e) => {
                shared.stats().pipeline_errors.push(format!("encode: {e}"));
                break;
            }
        }
    }
}

impl<'a> State<'a> {
    fn new(config: &'a ServerConfig) -> Self {
        State {
            config,
            damage: DamageTracker::new(DAMAGE_TILE),
            classifier: SceneClassifier::new(),
            gate: SkipGate::for_rate(config.start_bitrate_bps, config.frame_rate),
            encoder: None,
            in_flight: VecDeque::new(),
            answered: 0,
            recent_inputs: VecDeque::new(),
            encode_us_total: 0,
            last_keyframe_us: 0,
        }
    }

    fn open(&self, settings: SceneSettings, bitrate: u32, width: u32, height: u32) -> Result<Encoder, String> {
        let office = matches!(settings.rate, RateControl::CappedQuality { .. });
        let config = VideoEncoderConfig {
            format: settings.format,
            bitrate_bps: bitrate,
            frame_rate: self.config.frame_rate,
            preset: self.config.preset,
            rate: settings.rate,
            // Extra bits for the first picture of text make it sharp at once (motion does not
            // need them; see asp_codec::RateControl), but no more than the link carries in
            // KEYFRAME_BURST: a bigger keyframe would miss its deadline and be dropped.
            keyframe_burst_frames: if office { burst_frames(self.config.frame_rate) } else { 0 },
            threads: if self.config.encoder_threads == 0 { auto_threads() } else { self.config.encoder_threads },
            ..VideoEncoderConfig::new(self.config.codec, width, height)
        };
        let encoder = FfmpegVideoEncoder::open(&config).map_err(|e| e.to_string())?;
        let frame = VideoFrame { image: YuvImage::black(settings.format, width, height), pts_us: 0, frame_id: 0 };
        Ok(Encoder { encoder, settings, bitrate, frame })
    }

    /// The newest input this picture answers: every input applied before it when it changed
    /// (it may show their effect), and, changed or not, every input that had been applied a
    /// whole frame interval before it was taken (the screen had time to react; an input with
    /// nothing to show, such as a key release, is answered that way). A picture that answers
    /// a new input is sent even when unchanged, so the client learns it.
    fn answer(&mut self, raw: &RawFrame, changed: bool) -> u64 {
        let interval = 1_000_000 / u64::from(self.config.frame_rate.max(1));
        let settled = raw.capture_us.saturating_sub(interval);
        let mut answered_by_time = 0;
        while self.recent_inputs.front().is_some_and(|(at, _)| *at <= settled) {
            if let Some((_, applied)) = self.recent_inputs.pop_front() {
                answered_by_time = applied;
            }
        }
        self.recent_inputs.push_back((raw.capture_us, raw.captured.input_applied));
        // The newest settled entry stays, so that it is still known at the next picture.
        if answered_by_time > 0 {
            self.recent_inputs.push_front((settled, answered_by_time));
        }
        if changed { raw.captured.input_applied } else { answered_by_time }
    }

    fn target(&self, shared: &Shared) -> u32 {
        let target = shared.target_bps.load(Ordering::Relaxed);
        u32::try_from(target).unwrap_or(u32::MAX).clamp(50_000, self.config.max_bitrate_bps)
    }

    fn process(&mut self, raw: RawFrame, shared: &Shared) -> Result<Option<Outgoing>, String> {
        let started = shared.clock.now_us();
        let image = &raw.captured.image;
        let damage = self.damage.update(image);
        let changed = !damage.is_empty();
        let class = self.config.scene.unwrap_or_else(|| self.classifier.update(&damage));
        let settings = class.settings(self.config.yuv444);
        let bitrate = self.target(shared);
        // Requests soon after a keyframe are held until KEYFRAME_MIN_INTERVAL_US has passed: most
        // were sent for losses that keyframe already repairs, and on a lossy link one
        // keyframe per lost packet would spend the link on keyframes.
        let since_key = started.saturating_sub(self.last_keyframe_us);
        let keyframe = since_key >= KEYFRAME_MIN_INTERVAL_US && shared.keyframe.swap(false, Ordering::Relaxed);

        let reopen = self.encoder.as_ref().is_none_or(|e| {
            e.settings.format != settings.format
                || e.settings.rate != settings.rate
                || (e.frame.image.width, e.frame.image.height) != (image.width, image.height)
        });
        if reopen {
            self.encoder = Some(self.open(settings, bitrate, image.width, image.height)?);
            self.gate = SkipGate::for_rate(bitrate, self.config.frame_rate);
            self.in_flight.clear();
        }
        let answers = self.answer(&raw, changed);
        let Some(enc) = self.encoder.as_mut() else { return Ok(None) };
        let moved = (f64::from(bitrate) - f64::from(enc.bitrate)).abs() / f64::from(enc.bitrate);
        if moved >= BITRATE_STEP && enc.encoder.set_bitrate(bitrate).is_ok() {
            enc.bitrate = bitrate;
            self.gate = SkipGate::for_rate(bitrate, self.config.frame_rate);
        }
        if !reopen && !keyframe && answers <= self.answered && !self.gate.should_encode(changed) {
            let mut stats = shared.stats();
            stats.frames_skipped += 1;
            stats.scene = Some(scene_name(class));
            return Ok(None);
        }
        if keyframe {
            enc.encoder.request_keyframe();
        }
        convert::to_yuv_into(image, &mut enc.frame.image).map_err(|e| e.to_string())?;
        enc.frame.frame_id = raw.id;
        enc.frame.pts_us = i64::try_from(raw.capture_us).unwrap_or(i64::MAX);
        self.in_flight.push_back(InFlight { id: raw.id, capture_us: raw.capture_us, changed, answers });
        let packet = enc.encoder.encode(&enc.frame).map_err(|e| e.to_string())?;
        let Some(packet) = packet else { return Ok(None) };
        while self.in_flight.front().is_some_and(|f| f.id < packet.frame_id) {
            self.in_flight.pop_front();
        }
        let Some(meta) = self.in_flight.pop_front() else { return Ok(None) };
        self.gate.encoded(meta.changed, packet.data.len());
        self.answered = self.answered.max(meta.answers);
        let header = FrameHeader {
            codec: packet.codec,
            keyframe: packet.keyframe,
            active: meta.changed || self.gate.refining(),
            yuv444: enc.settings.format == YuvFormat::I444,
            scene: class,
            width: u16::try_from(image.width).unwrap_or(u16::MAX),
            height: u16::try_from(image.height).unwrap_or(u16::MAX),
            frame_id: meta.id,
            capture_us: meta.capture_us,
            answered_input: self.answered,
        };
        let message = header.encode_with(&packet.data);
        let elapsed = shared.clock.now_us().saturating_sub(started);
        self.encode_us_total += elapsed;
        let mut stats = shared.stats();
        stats.frames_encoded += 1;
        stats.last_frame_id = meta.id;
        stats.keyframes += u64::from(packet.keyframe);
        if packet.keyframe {
            self.last_keyframe_us = started;
        }
        stats.video_bytes += message.len() as u64;
        stats.encode_us_mean = self.encode_us_total as f64 / stats.frames_encoded as f64;
        stats.encoder_bitrate_bps = enc.bitrate;
        stats.scene = Some(scene_name(class));
        if stats.encoder.is_none() || reopen {
            stats.encoder = Some(enc.encoder.info().name.clone());
        }
        Ok(Some(Outgoing { message, keyframe: packet.keyframe }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Captured;
    use asp_codec::{ChannelOrder, RgbaImage};

    fn raw(capture_us: u64, input_applied: u64) -> RawFrame {
        let image = RgbaImage::filled(16, 16, ChannelOrder::Bgra, [0, 0, 0]);
        RawFrame { id: 0, capture_us, captured: Captured { image, input_applied } }
    }

    #[test]
    fn changed_pictures_answer_at_once_unchanged_ones_after_a_frame_interval() {
        let config = ServerConfig { frame_rate: 50, ..ServerConfig::default() }; // 20 ms
        let mut s = State::new(&config);
        assert_eq!(s.answer(&raw(0, 0), false), 0);
        assert_eq!(s.answer(&raw(5_000, 1), false), 0, "input 1 applied 0 ms ago: too early to tell");
        assert_eq!(s.answer(&raw(10_000, 2), true), 2, "a change may show everything applied");
        assert_eq!(s.answer(&raw(20_000, 3), false), 0);
        assert_eq!(s.answer(&raw(26_000, 3), false), 1, "input 1 had a frame interval");
        assert_eq!(s.answer(&raw(31_000, 3), false), 2);
        assert_eq!(s.answer(&raw(41_000, 3), false), 3, "a release with nothing to show is answered");
        assert_eq!(s.answer(&raw(90_000, 3), false), 3, "and stays answered");
        assert!(s.recent_inputs.len() <= 3, "bounded: {:?}", s.recent_inputs);
    }
}
