//! Screen-content rate control on the office source at 1080p and 1 Mbit/s: how soon the
//! decoded picture is sharp after the first frame and after a requested keyframe, and what
//! capped-quality mode spends.
//!
//! "Sharp" is the definition: per-frame luma PSNR within 1 dB of the steady state
//! (the mean over the last second). The synthetic office source (a dense page of small text)
//! stands in for a real desktop recording here. On it, the goal of a sharp picture within
//! 200 ms at 1 Mbit/s is NOT met by any setting tried (about 2 s; see the README): these tests
//! check the mechanisms (the burst is bounded and sharpens the first picture; capped quality
//! stays under its cap), not that goal.

mod common;

use asp_codec::ffmpeg::{FfmpegVideoDecoder, FfmpegVideoEncoder};
use asp_codec::quality::psnr_planes;
use asp_codec::synth::SourceKind;
use asp_codec::{RateControl, VideoCodec, VideoDecoder, VideoEncoder, VideoEncoderConfig};
use common::{FRAME_US, frames, mean};

const FRAMES: usize = 90;

struct Run {
    psnr: Vec<f64>,
    bytes: Vec<usize>,
}

impl Run {
    fn steady(&self) -> f64 {
        mean(self.psnr[FRAMES - 30..].iter().copied())
    }

    /// Milliseconds from frame `from` until the first frame within 1 dB of the steady state.
    fn ms_to_sharp(&self, from: usize) -> i64 {
        let steady = self.steady();
        let i = self.psnr[from..].iter().position(|p| *p >= steady - 1.0).unwrap_or(FRAMES);
        i as i64 * FRAME_US / 1000
    }

    fn kbps(&self, range: std::ops::Range<usize>) -> f64 {
        let n = range.len() as f64;
        self.bytes[range].iter().sum::<usize>() as f64 * 8.0 * 30.0 / n / 1000.0
    }
}

fn run(config: &VideoEncoderConfig, keyframe_at: Option<usize>) -> Run {
    let input = frames(SourceKind::Office, config, FRAMES, 31);
    let mut enc = FfmpegVideoEncoder::open(config).unwrap();
    let mut dec = FfmpegVideoDecoder::open(config.codec).unwrap();
    let mut out = Run { psnr: Vec::new(), bytes: Vec::new() };
    for (i, f) in input.iter().enumerate() {
        if Some(i) == keyframe_at {
            enc.request_keyframe();
        }
        let p = enc.encode(f).unwrap().unwrap();
        assert_eq!(p.keyframe, i == 0 || Some(i) == keyframe_at, "frame {i}");
        let d = dec.decode(&p).unwrap().unwrap();
        assert_eq!(d.frame_id, f.frame_id);
        out.psnr.push(psnr_planes(&f.image, &d.image).unwrap().c0);
        out.bytes.push(p.data.len());
    }
    out
}

fn office_1080p(rate: RateControl, burst: u32) -> VideoEncoderConfig {
    VideoEncoderConfig {
        bitrate_bps: 1_000_000,
        rate,
        keyframe_burst_frames: burst,
        ..VideoEncoderConfig::new(VideoCodec::H264, 1920, 1080)
    }
}

/// One second of bits (30 frame times at 30 fps): what the first picture may spend at once.
const BURST: u32 = 30;

#[test]
fn keyframe_burst_is_bounded_and_sharpens_the_first_picture() {
    let crf = RateControl::CappedQuality { crf: 23 };
    let plain = run(&office_1080p(crf, 0), None);
    let burst = run(&office_1080p(crf, BURST), None);
    for (name, r) in [("one-frame VBV", &plain), ("1 s burst", &burst)] {
        println!(
            "{name}: first frame {:.1} dB ({} kB), steady {:.1} dB, sharp after {} ms, {:.0} kbit/s over the last second",
            r.psnr[0],
            r.bytes[0] / 1000,
            r.steady(),
            r.ms_to_sharp(0),
            r.kbps(FRAMES - 30..FRAMES)
        );
    }
    // Measured: 14.8 dB in 3 kB without the burst, 29.6 dB in 102 kB with it.
    assert!(burst.psnr[0] > plain.psnr[0] + 10.0, "{:.1} vs {:.1}", burst.psnr[0], plain.psnr[0]);
    // The burst window (the keyframe and the 5 frames after it, 200 ms) is bounded by its
    // budget: 30 frame times at 1 Mbit/s = 125 kB.
    let budget = BURST as usize * 1_000_000 / 30 / 8;
    let window: usize = burst.bytes[..6].iter().sum();
    assert!(window <= budget * 11 / 10, "{window} bytes for a {budget}-byte budget");
    // After the window, inter frames are back under the one-frame VBV: no frame takes more
    // than about one frame time (x264 may overshoot a frame by ~10 %).
    let frame_budget = 1_000_000 / 30 / 8;
    let max = *burst.bytes[6..].iter().max().unwrap();
    assert!(max <= frame_budget * 3 / 2, "a frame of {max} bytes after the burst window");
}

#[test]
fn a_requested_keyframe_gets_the_burst_too() {
    let crf = RateControl::CappedQuality { crf: 23 };
    let plain = run(&office_1080p(crf, 0), Some(45));
    let burst = run(&office_1080p(crf, BURST), Some(45));
    println!(
        "keyframe at 1.5 s: one-frame VBV {:.1} dB ({} kB), burst {:.1} dB ({} kB)",
        plain.psnr[45],
        plain.bytes[45] / 1000,
        burst.psnr[45],
        burst.bytes[45] / 1000
    );
    assert!(burst.psnr[45] > plain.psnr[45] + 5.0, "{:.1} vs {:.1}", burst.psnr[45], plain.psnr[45]);
}

#[test]
fn capped_quality_spends_less_than_cbr_on_text_for_more_quality() {
    let cbr = run(&office_1080p(RateControl::Cbr, BURST), None);
    let capped = run(&office_1080p(RateControl::CappedQuality { crf: 23 }, BURST), None);
    let (r_cbr, r_cap) = (cbr.kbps(60..FRAMES), capped.kbps(60..FRAMES));
    println!(
        "office 1080p, 1 Mbit/s target, last second: CBR {r_cbr:.0} kbit/s at {:.1} dB, capped CRF 23 {r_cap:.0} kbit/s at {:.1} dB",
        cbr.steady(),
        capped.steady()
    );
    assert!(r_cap <= 1_100.0, "{r_cap:.0} kbit/s over a 1 Mbit/s cap");
    assert!(r_cap < r_cbr, "capped {r_cap:.0} vs CBR {r_cbr:.0} kbit/s");
    assert!(capped.steady() > cbr.steady() + 3.0, "{:.1} vs {:.1} dB", capped.steady(), cbr.steady());
}

/// The table behind the README's time-to-sharp figures. Not a check: run it with
/// `cargo test -p asp-codec --test screen_rate -- --ignored --nocapture`.
#[test]
#[ignore = "prints the time-to-sharp table; it asserts nothing"]
fn report_time_to_sharp_table() {
    for rate in [RateControl::Cbr, RateControl::CappedQuality { crf: 23 }] {
        for burst in [0, 6, 15, 30] {
            let r = run(&office_1080p(rate, burst), None);
            println!(
                "{rate:?} burst {burst}: first {:.1} dB {} kB; steady {:.1} dB; sharp {} ms; last second {:.0} kbit/s",
                r.psnr[0],
                r.bytes[0] / 1000,
                r.steady(),
                r.ms_to_sharp(0),
                r.kbps(60..90)
            );
        }
    }
}
