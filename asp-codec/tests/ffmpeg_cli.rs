//! The bitstreams decode without error in the FFmpeg command-line tool, an independent
//! process with its own demuxer and parser, and the CLI's pictures match ours bit for bit.
//! AV1 goes the other way: the CLI encodes (libaom), our libdav1d decoder decodes.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use asp_codec::ffmpeg::FfmpegVideoDecoder;
use asp_codec::quality::psnr_planes;
use asp_codec::synth::SourceKind;
use asp_codec::{EncodedVideo, VideoCodec, VideoDecoder, VideoEncoderConfig, YuvFormat};
use bytes::Bytes;
use common::{FRAME_US, frames, round_trip};

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asp-codec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the `ffmpeg` CLI with errors only on stderr; returns stderr. Panics if it fails.
fn ffmpeg(args: &[&str]) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg command-line tool is installed (scripts/install-codec-deps.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ffmpeg {args:?} failed: {stderr}");
    stderr
}

fn check_cli_decodes(codec: VideoCodec, format: YuvFormat, demuxer: &str, pix_fmt: &str) {
    let config = VideoEncoderConfig { format, ..VideoEncoderConfig::new(codec, 320, 192) };
    let input = frames(SourceKind::Video, &config, 30, 13);
    let trips = round_trip(&config, &input);
    let stream = temp_path(&format!("{codec:?}-{format:?}.{demuxer}"));
    let mut file = std::fs::File::create(&stream).unwrap();
    for t in &trips {
        file.write_all(&t.packet.data).unwrap();
    }
    drop(file);
    let raw = temp_path(&format!("{codec:?}-{format:?}.yuv"));
    let stderr = ffmpeg(&[
        "-err_detect",
        "explode",
        "-f",
        demuxer,
        "-i",
        path(&stream),
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        path(&raw),
    ]);
    assert!(stderr.is_empty(), "{codec:?}: ffmpeg reported {stderr}");
    let bytes = std::fs::read(&raw).unwrap();
    let frame_len: usize = trips[0].decoded.planes.iter().map(Vec::len).sum();
    assert_eq!(bytes.len(), frame_len * trips.len(), "{codec:?}: the CLI decoded every frame");
    for (i, (t, cli)) in trips.iter().zip(bytes.chunks_exact(frame_len)).enumerate() {
        let ours: Vec<u8> = t.decoded.planes.concat();
        assert!(ours == cli, "{codec:?} frame {i}: the CLI's picture differs from ours");
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn h264_stream_decodes_in_the_cli() {
    check_cli_decodes(VideoCodec::H264, YuvFormat::I420, "h264", "yuv420p");
}

#[test]
fn h264_high_444_stream_decodes_in_the_cli() {
    check_cli_decodes(VideoCodec::H264, YuvFormat::I444, "h264", "yuv444p");
}

#[test]
fn hevc_stream_decodes_in_the_cli() {
    check_cli_decodes(VideoCodec::Hevc, YuvFormat::I420, "hevc", "yuv420p");
}

#[test]
fn av1_from_the_cli_decodes_with_libdav1d() {
    let config = VideoEncoderConfig::new(VideoCodec::Av1, 320, 192);
    let input = frames(SourceKind::Video, &config, 10, 17);
    let raw = temp_path("av1-source.yuv");
    std::fs::write(&raw, input.iter().flat_map(|f| f.image.planes.concat()).collect::<Vec<u8>>()).unwrap();
    // An OBU stream ("low overhead bitstream format"): one temporal unit per frame.
    let obu = temp_path("av1.obu");
    ffmpeg(&[
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        "320x192",
        "-r",
        "30",
        "-i",
        path(&raw),
        "-c:v",
        "libaom-av1",
        "-usage",
        "realtime",
        "-cpu-used",
        "8",
        "-lag-in-frames",
        "0",
        "-b:v",
        "1M",
        "-f",
        "obu",
        path(&obu),
    ]);
    let stream = std::fs::read(&obu).unwrap();
    // Split the OBU stream into temporal units at each temporal delimiter (OBU type 2, size 0:
    // the bytes 0x12 0x00), which libaom writes at the start of every frame.
    let mut units: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut i = 2;
    while i + 1 < stream.len() {
        if stream[i] == 0x12 && stream[i + 1] == 0x00 && is_unit_start(&stream, start, i) {
            units.push(&stream[start..i]);
            start = i;
        }
        i += 1;
    }
    units.push(&stream[start..]);
    assert_eq!(units.len(), input.len(), "one temporal unit per frame");
    let mut dec = FfmpegVideoDecoder::open(VideoCodec::Av1).unwrap();
    let mut decoded = Vec::new();
    for (n, unit) in units.iter().enumerate() {
        let packet = EncodedVideo {
            codec: VideoCodec::Av1,
            data: Bytes::copy_from_slice(unit),
            pts_us: n as i64 * FRAME_US,
            frame_id: n as u64,
            keyframe: n == 0,
        };
        decoded.extend(dec.decode(&packet).unwrap());
    }
    decoded.extend(dec.flush().unwrap());
    assert_eq!(decoded.len(), input.len());
    for (src, out) in input.iter().zip(&decoded) {
        assert_eq!(src.pts_us, out.pts_us);
        let p = psnr_planes(&src.image, &out.image).unwrap();
        assert!(p.c0 > 30.0 && p.min() > 30.0, "AV1 frame {}: {p:?}", out.frame_id);
    }
}

/// Whether the temporal delimiter candidate at `at` is a real OBU boundary: walk the OBUs from
/// the current unit's start and see whether one begins exactly there.
fn is_unit_start(stream: &[u8], from: usize, at: usize) -> bool {
    let mut p = from;
    while p < at {
        let header = stream[p];
        let has_ext = header & 0x04 != 0;
        let mut q = p + 1 + usize::from(has_ext);
        // leb128 size.
        let mut size = 0usize;
        let mut shift = 0;
        loop {
            let Some(&b) = stream.get(q) else {
                return false;
            };
            size |= usize::from(b & 0x7F) << shift;
            q += 1;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        p = q + size;
    }
    p == at
}

#[test]
fn hevc_main_444_stream_decodes_in_the_cli() {
    check_cli_decodes(VideoCodec::Hevc, YuvFormat::I444, "hevc", "yuv444p");
}
