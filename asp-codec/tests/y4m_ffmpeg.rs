//! A Y4M file written by the FFmpeg command-line tool reads back as the same pictures FFmpeg
//! writes as raw YUV, and a file we write is read by FFmpeg as the pictures we wrote.

use std::path::PathBuf;
use std::process::Command;

use asp_codec::y4m::{Y4mReader, Y4mWriter};
use asp_codec::{YuvFormat, YuvImage};

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asp-codec-y4m-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the `ffmpeg` CLI; panics if it fails.
fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg command-line tool is installed (scripts/install-codec-deps.sh)");
    assert!(out.status.success(), "ffmpeg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn planes_of(raw: &[u8], format: YuvFormat, width: u32, height: u32) -> Vec<YuvImage> {
    let mut image = YuvImage::black(format, width, height);
    let frame: usize = image.planes.iter().map(Vec::len).sum();
    assert_eq!(raw.len() % frame, 0);
    raw.chunks(frame)
        .map(|mut chunk| {
            for plane in &mut image.planes {
                let (head, rest) = chunk.split_at(plane.len());
                plane.copy_from_slice(head);
                chunk = rest;
            }
            image.clone()
        })
        .collect()
}

#[test]
fn y4m_reads_what_ffmpeg_writes() {
    for (pix_fmt, format) in [("yuv420p", YuvFormat::I420), ("yuv444p", YuvFormat::I444)] {
        let y4m = temp_path(&format!("testsrc-{pix_fmt}.y4m"));
        let raw = temp_path(&format!("testsrc-{pix_fmt}.yuv"));
        let src = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "3", "-pix_fmt", pix_fmt];
        ffmpeg(&[&src[..], &[y4m.to_str().unwrap()]].concat());
        ffmpeg(&[&src[..], &["-f", "rawvideo", raw.to_str().unwrap()]].concat());

        let file = std::io::BufReader::new(std::fs::File::open(&y4m).unwrap());
        let mut reader = Y4mReader::new(file).unwrap();
        let h = *reader.header();
        assert_eq!((h.width, h.height, h.fps_num, h.fps_den, h.format), (64, 48, 10, 1, format), "{pix_fmt}");
        let mut pictures = Vec::new();
        while let Some(p) = reader.next_frame().unwrap() {
            pictures.push(p);
        }
        let expected = planes_of(&std::fs::read(&raw).unwrap(), format, 64, 48);
        assert_eq!(expected.len(), 3);
        assert!(pictures == expected, "{pix_fmt}: Y4M pictures differ from FFmpeg's raw output");
    }
}

#[test]
fn y4m_ffmpeg_reads_what_we_write() {
    let (w, h) = (48, 32);
    let pictures: Vec<_> = (0..4u8)
        .map(|k| {
            let mut image = YuvImage::black(YuvFormat::I420, w, h);
            for (p, plane) in image.planes.iter_mut().enumerate() {
                for (i, s) in plane.iter_mut().enumerate() {
                    *s = 16 + ((i * 3 + p * 40 + usize::from(k) * 11) % 200) as u8;
                }
            }
            image
        })
        .collect();
    let y4m = temp_path("ours.y4m");
    let mut writer = Y4mWriter::new(std::fs::File::create(&y4m).unwrap(), w, h, 30, 1, YuvFormat::I420).unwrap();
    for p in &pictures {
        writer.write(p).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    let raw = temp_path("ours.yuv");
    ffmpeg(&["-i", y4m.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "yuv420p", raw.to_str().unwrap()]);
    assert!(planes_of(&std::fs::read(&raw).unwrap(), YuvFormat::I420, w, h) == pictures);
}
