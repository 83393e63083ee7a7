//! Encode -> decode round trips for each codec on each synthetic source, with PSNR floors.
//!
//! 320x192 at 30 frames per second, 1.5 Mbit/s, `veryfast`, 45 frames (1.5 s). The floors
//! are the mean luma / chroma PSNR that the figures measured here clear with a few dB to
//! spare (measured: see the assertion messages, printed with `--nocapture`); a codec that
//! broke (wrong planes, wrong colours, a lost frame) falls far below them.

mod common;

use asp_codec::synth::SourceKind;
use asp_codec::{RefreshMode, VideoCodec, VideoEncoderConfig, YuvFormat};
use common::{frames, mean, round_trip};

/// (source, luma floor dB, chroma floor dB).
const FLOORS: [(SourceKind, f64, f64); 4] = [
    (SourceKind::Office, 46.0, 45.0),
    (SourceKind::Video, 48.0, 45.0),
    (SourceKind::ThreeD, 31.0, 32.0),
    (SourceKind::Idle, 54.0, 50.0),
];

fn config(codec: VideoCodec) -> VideoEncoderConfig {
    VideoEncoderConfig { bitrate_bps: 1_500_000, ..VideoEncoderConfig::new(codec, 320, 192) }
}

fn check(codec: VideoCodec, format: YuvFormat) {
    for (kind, luma_floor, chroma_floor) in FLOORS {
        let config = VideoEncoderConfig { format, ..config(codec) };
        let input = frames(kind, &config, 45, 21);
        let trips = round_trip(&config, &input);
        let y = mean(trips.iter().map(|t| t.psnr.c0));
        let uv = mean(trips.iter().map(|t| t.psnr.c1.min(t.psnr.c2)));
        let bits: usize = trips.iter().map(|t| t.packet.data.len() * 8).sum();
        println!("{codec:?} {format:?} {kind:?}: Y {y:.1} dB, UV {uv:.1} dB, {:.0} kbit/s", bits as f64 / 1.5 / 1000.0);
        assert!(y > luma_floor, "{codec:?} {kind:?}: mean Y PSNR {y:.2} dB under {luma_floor}");
        assert!(uv > chroma_floor, "{codec:?} {kind:?}: mean UV PSNR {uv:.2} dB under {chroma_floor}");
        assert!(trips[0].packet.keyframe, "the first packet is a keyframe");
        assert!(trips[1..].iter().all(|t| !t.packet.keyframe), "no keyframe unless asked for");
    }
}

#[test]
fn h264_each_source() {
    check(VideoCodec::H264, YuvFormat::I420);
}

#[test]
fn hevc_each_source() {
    check(VideoCodec::Hevc, YuvFormat::I420);
}

#[test]
fn h264_high_444_each_source() {
    check(VideoCodec::H264, YuvFormat::I444);
}

#[test]
fn hevc_main_444_each_source() {
    check(VideoCodec::Hevc, YuvFormat::I444);
}

#[test]
fn requested_keyframe_comes_on_the_next_frame() {
    use asp_codec::VideoEncoder;
    use asp_codec::ffmpeg::FfmpegVideoEncoder;
    for codec in [VideoCodec::H264, VideoCodec::Hevc] {
        let config = config(codec);
        let input = frames(SourceKind::Video, &config, 12, 3);
        let mut enc = FfmpegVideoEncoder::open(&config).unwrap();
        let keys: Vec<bool> = input
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 7 {
                    enc.request_keyframe();
                }
                enc.encode(f).unwrap().unwrap().keyframe
            })
            .collect();
        let want: Vec<bool> = (0..12).map(|i| i == 0 || i == 7).collect();
        assert_eq!(keys, want, "{codec:?}");
    }
}

#[test]
fn intra_refresh_makes_no_keyframes_after_the_first_and_keeps_quality() {
    for codec in [VideoCodec::H264, VideoCodec::Hevc] {
        let config = VideoEncoderConfig { refresh: RefreshMode::IntraRefresh { period: 15 }, ..config(codec) };
        let input = frames(SourceKind::Video, &config, 45, 5);
        let trips = round_trip(&config, &input);
        assert!(trips[1..].iter().all(|t| !t.packet.keyframe), "{codec:?}: intra refresh, not keyframes");
        let y = mean(trips.iter().map(|t| t.psnr.c0));
        assert!(y > 30.0, "{codec:?}: {y:.2}");
        // No frame after the first is much larger than the mean: the refresh is spread out.
        let sizes: Vec<usize> = trips[1..].iter().map(|t| t.packet.data.len()).collect();
        let avg = sizes.iter().sum::<usize>() / sizes.len();
        let max = *sizes.iter().max().unwrap();
        println!(
            "{codec:?} intra refresh: mean {avg} bytes, largest {max} bytes, first {}",
            trips[0].packet.data.len()
        );
        assert!(max < 4 * avg, "{codec:?}: a frame of {max} bytes against a mean of {avg}");
    }
}

/// 4:4:4 against 4:2:0 on coloured text at the same bitrate: the chroma-aware figure.
#[test]
fn yuv444_keeps_coloured_text_that_420_loses() {
    use asp_codec::convert;
    use asp_codec::quality::psnr_rgb;
    use asp_codec::{ChannelOrder, synth::Source};
    let mut rgb_psnr = Vec::new();
    for format in [YuvFormat::I420, YuvFormat::I444] {
        let config = VideoEncoderConfig { format, bitrate_bps: 3_000_000, ..config(VideoCodec::H264) };
        let input = frames(SourceKind::Office, &config, 20, 9);
        let trips = round_trip(&config, &input);
        let mut src = Source::new(SourceKind::Office, 320, 192, 9);
        let figures: Vec<_> = trips
            .iter()
            .map(|t| psnr_rgb(&src.next_frame(), &convert::to_rgba(&t.decoded, ChannelOrder::Bgra).unwrap()))
            .collect();
        let r = mean(figures.iter().map(|p| p.c0));
        let b = mean(figures.iter().map(|p| p.c2));
        println!(
            "office {format:?} at 3 Mbit/s: R {r:.1} dB, G {:.1} dB, B {b:.1} dB",
            mean(figures.iter().map(|p| p.c1))
        );
        rgb_psnr.push(r.min(b));
    }
    assert!(rgb_psnr[1] > rgb_psnr[0] + 3.0, "4:4:4 red/blue {:.1} dB vs 4:2:0 {:.1} dB", rgb_psnr[1], rgb_psnr[0]);
}

#[test]
fn frames_of_the_wrong_size_or_layout_are_refused() {
    use asp_codec::ffmpeg::FfmpegVideoEncoder;
    use asp_codec::{EncodeError, VideoEncoder};
    let config = config(VideoCodec::H264);
    let mut enc = FfmpegVideoEncoder::open(&config).unwrap();
    let other = VideoEncoderConfig { format: YuvFormat::I444, ..config.clone() };
    let frame = frames(SourceKind::Idle, &other, 1, 1).remove(0);
    assert!(matches!(enc.encode(&frame), Err(EncodeError::FrameMismatch { .. })));
}

#[test]
fn invalid_configuration_is_refused_at_open() {
    use asp_codec::OpenError;
    use asp_codec::ffmpeg::FfmpegVideoEncoder;
    let odd = VideoEncoderConfig { width: 321, ..config(VideoCodec::H264) };
    assert!(matches!(FfmpegVideoEncoder::open(&odd), Err(OpenError::InvalidConfig { field: "width parity", .. })));
    let av1 = config(VideoCodec::Av1);
    assert!(matches!(FfmpegVideoEncoder::open(&av1), Err(OpenError::Unsupported(_))));
}
