//! Encode and decode cost per frame: x264 for each preset and x265 at two, at 720p, 1080p
//! and 4K, on the video source (a moving region in a desktop) at 2 / 4 / 12 Mbit/s.
//!
//! Run one size with a filter, for example `cargo bench -p asp-codec --bench encode -- 1080p`;
//! add `--features rav1e` for AV1 (rav1e, speed 10).
#![allow(missing_docs)] // criterion_group! / criterion_main! generate undocumented items

use asp_codec::ffmpeg::{FfmpegVideoDecoder, FfmpegVideoEncoder};
use asp_codec::synth::{Source, SourceKind};
use asp_codec::{
    EncodedVideo, Preset, VideoCodec, VideoDecoder, VideoEncoder, VideoEncoderConfig, VideoFrame, YuvFormat, convert,
};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

/// Frames cycled through per benchmark; enough motion that the encoder never idles.
const FRAMES: usize = 30;

const SIZES: [(&str, u32, u32, u32); 3] =
    [("720p", 1280, 720, 2_000_000), ("1080p", 1920, 1080, 4_000_000), ("4k", 3840, 2160, 12_000_000)];

fn frames(w: u32, h: u32) -> Vec<VideoFrame> {
    let mut s = Source::new(SourceKind::Video, w, h, 1);
    (0..FRAMES as u64)
        .map(|i| VideoFrame {
            image: convert::to_yuv(&s.next_frame(), YuvFormat::I420).unwrap(),
            pts_us: i as i64 * 33_333,
            frame_id: i,
        })
        .collect()
}

fn encode(c: &mut Criterion) {
    for (size, w, h, rate) in SIZES {
        let input = frames(w, h);
        let mut group = c.benchmark_group(format!("encode_{size}"));
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
        let mut cases: Vec<(VideoCodec, Preset)> = Preset::ALL.iter().map(|p| (VideoCodec::H264, *p)).collect();
        cases.extend([(VideoCodec::Hevc, Preset::Ultrafast), (VideoCodec::Hevc, Preset::Veryfast)]);
        for (codec, preset) in cases {
            let config = VideoEncoderConfig { preset, bitrate_bps: rate, ..VideoEncoderConfig::new(codec, w, h) };
            let mut enc = FfmpegVideoEncoder::open(&config).unwrap();
            let mut n = 0u64;
            group.bench_function(format!("{codec:?}/{}", preset.name()), |b| {
                b.iter(|| {
                    let mut f = input[n as usize % FRAMES].clone();
                    f.pts_us = n as i64 * 33_333;
                    n += 1;
                    enc.encode(&f).unwrap()
                });
            });
        }
        #[cfg(feature = "rav1e")]
        {
            let config = VideoEncoderConfig { bitrate_bps: rate, ..VideoEncoderConfig::new(VideoCodec::Av1, w, h) };
            let mut enc = asp_codec::av1::Rav1eEncoder::open(&config).unwrap();
            let mut n = 0u64;
            group.bench_function("Av1/rav1e-speed10", |b| {
                b.iter(|| {
                    let mut f = input[n as usize % FRAMES].clone();
                    f.pts_us = n as i64 * 33_333;
                    n += 1;
                    enc.encode(&f).unwrap()
                });
            });
        }
        group.finish();
    }
}

fn decode(c: &mut Criterion) {
    for (size, w, h, rate) in SIZES {
        let input = frames(w, h);
        let mut group = c.benchmark_group(format!("decode_{size}"));
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
        for codec in [VideoCodec::H264, VideoCodec::Hevc] {
            let config = VideoEncoderConfig { bitrate_bps: rate, ..VideoEncoderConfig::new(codec, w, h) };
            let mut enc = FfmpegVideoEncoder::open(&config).unwrap();
            // A long stream (one keyframe, then inter frames), decoded in a loop; the decoder is
            // reopened at each wrap so every pass starts at the keyframe.
            let packets: Vec<EncodedVideo> = (0..FRAMES * 2)
                .map(|i| {
                    let mut f = input[i % FRAMES].clone();
                    f.pts_us = i as i64 * 33_333;
                    enc.encode(&f).unwrap().unwrap()
                })
                .collect();
            let mut dec = FfmpegVideoDecoder::open(codec).unwrap();
            let mut n = 0;
            group.bench_function(format!("{codec:?}"), |b| {
                b.iter(|| {
                    if n == packets.len() {
                        dec = FfmpegVideoDecoder::open(codec).unwrap();
                        n = 0;
                    }
                    n += 1;
                    dec.decode(&packets[n - 1]).unwrap()
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
