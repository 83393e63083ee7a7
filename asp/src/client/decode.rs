//! The decode thread: bitstream to picture, latency bookkeeping, then the sink.

use std::sync::mpsc::Receiver;

use asp_codec::ffmpeg::FfmpegVideoDecoder;
use asp_codec::{EncodedVideo, VideoCodec, VideoDecoder};
use asp_core::wire::control::KeyframeReason;
use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use super::Shared;
use crate::proto::display::FrameHeader;
use crate::sink::{DecodedFrame, FrameSink};

/// A display frame handed to the decoder.
#[derive(Debug)]
pub(super) struct Arrived {
    pub(super) header: FrameHeader,
    pub(super) bitstream: Bytes,
}

/// What the decode thread tells the session task.
#[derive(Debug)]
pub(super) enum DecoderNews {
    /// Ask the server for a keyframe.
    NeedKeyframe(KeyframeReason),
}

fn describe(header: &FrameHeader) -> String {
    let codec = match header.codec {
        VideoCodec::H264 => "h264",
        VideoCodec::Hevc => "hevc",
        VideoCodec::Av1 => "av1",
    };
    format!("{codec} {}", if header.yuv444 { "4:4:4" } else { "4:2:0" })
}

/// The decoder state while all is well.
const DECODING: &str = "decoding";

/// Decodes until the queue's sender is gone.
pub(super) fn run(
    frames: &Receiver<Arrived>,
    mut sink: Box<dyn FrameSink>,
    shared: &Shared,
    news: &UnboundedSender<DecoderNews>,
) {
    let mut decoder: Option<(VideoCodec, FfmpegVideoDecoder)> = None;
    while let Ok(Arrived { header, bitstream }) = frames.recv() {
        {
            let mut inner = shared.lock();
            if inner.waiting_for_keyframe && !header.keyframe {
                inner.stats.frames_discarded += 1;
                continue;
            }
        }
        if decoder.as_ref().is_none_or(|(c, _)| *c != header.codec) {
            match FfmpegVideoDecoder::open(header.codec) {
                Ok(d) => decoder = Some((header.codec, d)),
                Err(e) => {
                    shared.lock().stats.decode_errors += 1;
                    shared.lock().decoder_state = format!("cannot open decoder: {e}");
                    continue;
                }
            }
        }
        let Some((_, dec)) = decoder.as_mut() else { continue };
        let started = shared.clock.now_us();
        let packet = EncodedVideo {
            codec: header.codec,
            data: bitstream,
            pts_us: i64::try_from(header.capture_us).unwrap_or(i64::MAX),
            frame_id: header.frame_id,
            keyframe: header.keyframe,
        };
        let picture = match dec.decode(&packet) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(e) => {
                let mut inner = shared.lock();
                inner.stats.decode_errors += 1;
                inner.decoder_state = format!("decoder error, waiting for a keyframe: {e}");
                inner.waiting_for_keyframe = true;
                let _ = news.send(DecoderNews::NeedKeyframe(KeyframeReason::DecoderError));
                continue;
            }
        };
        let ready_us = shared.clock.now_us();
        let glass_to_glass_ms = {
            let mut inner = shared.lock();
            inner.waiting_for_keyframe = false;
            if inner.decoder_state != DECODING {
                inner.decoder_state = DECODING.into();
            }
            inner.decode_us_total += ready_us.saturating_sub(started);
            inner.stats.frames_shown += 1;
            inner.stats.decode_us_mean = inner.decode_us_total as f64 / inner.stats.frames_shown as f64;
            inner.stats.last_frame_id = header.frame_id;
            let scene = crate::proto::display::scene_name(header.scene);
            if inner.stats.scene != scene || header.keyframe {
                inner.stats.scene = scene.to_owned();
                inner.stats.codec = describe(&header);
            }
            inner.stall.on_shown(ready_us, header.active, header.answered_input);
            while inner.pending_inputs.front().is_some_and(|(seq, _)| *seq <= header.answered_input) {
                if let Some((_, sent)) = inner.pending_inputs.pop_front() {
                    inner.click_to_photon.record(ready_us.saturating_sub(sent) as f64 / 1000.0);
                }
            }
            let g2g = inner
                .clock_sync
                .to_server(ready_us)
                .map(|server_now| (server_now as f64 - header.capture_us as f64) / 1000.0);
            let first = *inner.first_ready_us.get_or_insert(ready_us);
            if let Some(ms) = g2g {
                inner.glass_to_glass.record(ms);
                if ready_us.saturating_sub(first) >= super::WARM_UP_US {
                    inner.glass_to_glass_after_warm_up.record(ms);
                }
            }
            g2g
        };
        sink.show(&DecodedFrame { header, image: picture.image, ready_us, glass_to_glass_ms });
    }
    sink.finish();
}
