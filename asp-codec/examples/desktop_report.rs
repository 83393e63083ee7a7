//! Screen-content rate control on real desktop recordings, beside the FFmpeg CLI's x264.
//!
//! ```sh
//! scripts/record-desktop-clips.sh /tmp/clips 6
//! cargo run -p asp-codec --profile bench --example desktop_report -- /tmp/clips/*.y4m
//! ```
//!
//! For each 4:2:0 Y4M clip, at 1 Mbit/s and 30 fps, H.264 `veryfast`:
//!
//! - **cli**: `ffmpeg -c:v libx264 -tune zerolatency -b:v 1M -maxrate 1M -bufsize 33k -bf 0
//!   -g 100000 -x264-params scenecut=0` (zero latency, a one-frame VBV, one keyframe): the
//!   issue's baseline; every frame is encoded.
//! - **ours**: this crate's encoder in three settings. A frame identical to the previous one
//!   is not encoded at all (damage detection at frame level: the whole frame compared), and
//!   the receiver keeps showing the previous picture.
//!
//! Figures: time until the decoded picture is sharp (per-frame luma PSNR within 1 dB of the
//! mean of the last second), mean bitrate, mean Y / U / V PSNR, frames skipped.
#![allow(missing_docs, clippy::print_stdout)]

use std::io::{BufReader, Read};
use std::process::{Command, Stdio};

use asp_codec::ffmpeg::{FfmpegVideoDecoder, FfmpegVideoEncoder};
use asp_codec::quality::{Psnr3, psnr_planes};
use asp_codec::skip::SkipGate;
use asp_codec::y4m::Y4mReader;
use asp_codec::{
    RateControl, VideoCodec, VideoDecoder, VideoEncoder, VideoEncoderConfig, VideoFrame, YuvFormat, YuvImage,
};

const BITRATE: u32 = 1_000_000;
const FPS: u32 = 30;

/// Reads every frame of a 4:2:0 Y4M file.
fn read_y4m(path: &str) -> (u32, u32, Vec<YuvImage>) {
    let file = std::fs::File::open(path).expect("clip opens");
    let mut reader = Y4mReader::new(BufReader::new(file)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = *reader.header();
    assert_eq!(header.format, YuvFormat::I420, "{path} is not 4:2:0");
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap_or_else(|e| panic!("{path}: {e}")) {
        frames.push(frame);
    }
    (header.width, header.height, frames)
}

struct Outcome {
    name: String,
    psnr: Vec<Psnr3>,
    bytes: Vec<usize>,
    skipped: usize,
}

impl Outcome {
    fn print(&self) {
        let y: Vec<f64> = self.psnr.iter().map(|p| p.c0).collect();
        let n = y.len();
        let steady = y[n - FPS as usize..].iter().sum::<f64>() / f64::from(FPS);
        let sharp = y.iter().position(|p| *p >= steady - 1.0).unwrap_or(n) as f64 * 1000.0 / f64::from(FPS);
        let kbps = self.bytes.iter().sum::<usize>() as f64 * 8.0 * f64::from(FPS) / n as f64 / 1000.0;
        let mean = |f: fn(&Psnr3) -> f64| self.psnr.iter().map(f).sum::<f64>() / n as f64;
        println!(
            "  {:<28} first {:5.1} dB ({:6} B)  sharp after {:5.0} ms  steady {:5.1} dB  mean Y/U/V {:5.1}/{:5.1}/{:5.1} dB  {:6.0} kbit/s  skipped {}/{}",
            self.name,
            y[0],
            self.bytes[0],
            sharp,
            steady,
            mean(|p| p.c0),
            mean(|p| p.c1),
            mean(|p| p.c2),
            kbps,
            self.skipped,
            n
        );
    }
}

/// Which unchanged frames are skipped.
#[derive(Clone, Copy)]
enum Skipping {
    /// None: every frame is encoded.
    Never,
    /// Every unchanged frame.
    Unchanged,
    /// Unchanged frames once the encoder has converged ([`SkipGate`]).
    Gate,
}

struct Setting {
    name: &'static str,
    rate: RateControl,
    burst: u32,
    skipping: Skipping,
}

fn ours(w: u32, h: u32, frames: &[YuvImage], s: &Setting) -> Outcome {
    let (name, rate, burst, skipping) = (s.name, s.rate, s.burst, s.skipping);
    let config = VideoEncoderConfig {
        bitrate_bps: BITRATE,
        frame_rate: FPS,
        rate,
        keyframe_burst_frames: burst,
        ..VideoEncoderConfig::new(VideoCodec::H264, w, h)
    };
    let mut enc = FfmpegVideoEncoder::open(&config).unwrap();
    let mut dec = FfmpegVideoDecoder::open(VideoCodec::H264).unwrap();
    let mut out = Outcome { name: name.into(), psnr: Vec::new(), bytes: Vec::new(), skipped: 0 };
    let mut shown: Option<YuvImage> = None;
    let mut gate = SkipGate::for_rate(BITRATE, FPS);
    for (i, img) in frames.iter().enumerate() {
        let changed = i == 0 || frames[i - 1] != *img;
        let encode = match skipping {
            Skipping::Never => true,
            Skipping::Unchanged => changed,
            Skipping::Gate => gate.should_encode(changed),
        };
        if encode {
            let frame = VideoFrame { image: img.clone(), pts_us: i as i64 * 33_333, frame_id: i as u64 };
            let p = enc.encode(&frame).unwrap().expect("one packet per frame");
            gate.encoded(changed, p.data.len());
            out.bytes.push(p.data.len());
            shown = Some(dec.decode(&p).unwrap().expect("one picture per packet").image);
        } else {
            // Skipped: nothing encoded or sent; the receiver still shows its last picture.
            out.skipped += 1;
            out.bytes.push(0);
        }
        out.psnr.push(psnr_planes(img, shown.as_ref().unwrap()).unwrap());
    }
    out
}

fn cli(path: &str, w: u32, h: u32, frames: &[YuvImage]) -> Outcome {
    let stream = std::env::temp_dir().join(format!("desktop-report-{}.h264", std::process::id()));
    let bufsize = (BITRATE / FPS).to_string();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-y", "-i", path, "-c:v", "libx264", "-preset", "veryfast"])
        .args(["-tune", "zerolatency", "-b:v", "1M", "-maxrate", "1M", "-bufsize", &bufsize, "-bf", "0"])
        .args(["-g", "100000", "-x264-params", "scenecut=0", "-f", "h264"])
        .arg(&stream)
        .status()
        .unwrap();
    assert!(status.success());
    let sizes = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "packet=size", "-of", "csv=p=0"])
        .arg(&stream)
        .output()
        .unwrap();
    let bytes: Vec<usize> =
        String::from_utf8_lossy(&sizes.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect();
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-i"])
        .arg(&stream)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdout.take().unwrap();
    let mut psnr = Vec::new();
    for src in frames {
        let mut img = YuvImage::black(YuvFormat::I420, w, h);
        for p in &mut img.planes {
            pipe.read_exact(p).unwrap();
        }
        psnr.push(psnr_planes(src, &img).unwrap());
    }
    child.wait().unwrap();
    let _ = std::fs::remove_file(&stream);
    Outcome { name: "FFmpeg CLI x264 (baseline)".into(), psnr, bytes, skipped: 0 }
}

fn main() {
    let crf = RateControl::CappedQuality { crf: 23 };
    let settings = [
        Setting { name: "ours CBR, all frames", rate: RateControl::Cbr, burst: 0, skipping: Skipping::Never },
        Setting { name: "ours CBR, skip unchanged", rate: RateControl::Cbr, burst: 0, skipping: Skipping::Unchanged },
        Setting { name: "ours CBR, burst, gate", rate: RateControl::Cbr, burst: 30, skipping: Skipping::Gate },
        Setting { name: "ours CRF23 cap, skip unchanged", rate: crf, burst: 30, skipping: Skipping::Unchanged },
        Setting { name: "ours CRF23 cap, burst, gate", rate: crf, burst: 30, skipping: Skipping::Gate },
    ];
    for path in std::env::args().skip(1) {
        let (w, h, frames) = read_y4m(&path);
        println!("{path}: {w}x{h}, {} frames, 1 Mbit/s", frames.len());
        cli(&path, w, h, &frames).print();
        for s in &settings {
            ours(w, h, &frames, s).print();
        }
    }
}
