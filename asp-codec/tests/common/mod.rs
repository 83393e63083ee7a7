//! Helpers shared by the integration tests: run a synthetic source through an encoder and a
//! decoder and measure what came out.
#![allow(dead_code, unreachable_pub)]

use asp_codec::ffmpeg::{FfmpegVideoDecoder, FfmpegVideoEncoder};
use asp_codec::quality::{Psnr3, psnr_planes};
use asp_codec::synth::{FRAME_RATE, Source, SourceKind};
use asp_codec::{EncodedVideo, VideoDecoder, VideoEncoder, VideoEncoderConfig, VideoFrame, YuvImage, convert};

/// Microseconds between frames at the sources' frame rate.
pub const FRAME_US: i64 = 1_000_000 / FRAME_RATE as i64;

/// The YUV frames of `n` frames of a source.
pub fn frames(kind: SourceKind, config: &VideoEncoderConfig, n: usize, seed: u64) -> Vec<VideoFrame> {
    let mut source = Source::new(kind, config.width, config.height, seed);
    (0..n as u64)
        .map(|i| VideoFrame {
            image: convert::to_yuv(&source.next_frame(), config.format).unwrap(),
            pts_us: i as i64 * FRAME_US,
            frame_id: 1000 + i,
        })
        .collect()
}

/// One frame through the round trip.
pub struct Trip {
    pub packet: EncodedVideo,
    pub decoded: YuvImage,
    pub psnr: Psnr3,
}

/// Encodes `input` with a fresh encoder for `config` and decodes it with FFmpeg's decoder,
/// checking that every frame gives one packet and one picture with its id and timestamp.
pub fn round_trip(config: &VideoEncoderConfig, input: &[VideoFrame]) -> Vec<Trip> {
    let mut enc = FfmpegVideoEncoder::open(config).unwrap();
    let mut dec = FfmpegVideoDecoder::open(config.codec).unwrap();
    input
        .iter()
        .map(|frame| {
            let packet = enc.encode(frame).unwrap().expect("one packet per frame, at once");
            assert_eq!((packet.frame_id, packet.pts_us), (frame.frame_id, frame.pts_us));
            let out = dec.decode(&packet).unwrap().expect("one picture per packet, at once");
            assert_eq!((out.frame_id, out.pts_us), (frame.frame_id, frame.pts_us));
            let psnr = psnr_planes(&frame.image, &out.image).expect("same layout and size");
            Trip { packet, decoded: out.image, psnr }
        })
        .collect()
}

/// Mean of a per-frame figure.
pub fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}
