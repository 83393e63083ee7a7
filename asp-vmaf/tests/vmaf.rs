//! VMAF through libvmaf: identical pictures score at the top, degraded ones clearly lower, bad
//! input is an error, Y4M files score as the same pictures pushed, and libvmaf's own `vmaf`
//! command-line tool (and FFmpeg's `libvmaf` filter, where the FFmpeg CLI has it) agree with us.
#![allow(clippy::disallowed_methods)] // the timing printed for the notes reads the wall clock

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use asp_codec::synth::{Source, SourceKind};
use asp_codec::y4m::Y4mWriter;
use asp_codec::{YuvFormat, YuvImage, convert};
use asp_vmaf::{FrameCounts, Vmaf, VmafError, VmafScores, score_y4m};

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asp-vmaf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn frames(kind: SourceKind, width: u32, height: u32, n: usize, format: YuvFormat) -> Vec<YuvImage> {
    let mut source = Source::new(kind, width, height, 7);
    (0..n).map(|_| convert::to_yuv(&source.next_frame(), format).unwrap()).collect()
}

/// Luma blurred with a 3x3 box, then quantised to steps of 8: what a starved encoder leaves.
fn degrade(image: &YuvImage) -> YuvImage {
    let mut out = image.clone();
    let (w, h) = (image.width as usize, image.height as usize);
    let y = &image.planes[0];
    for row in 0..h {
        for col in 0..w {
            let mut sum = 0u32;
            for dy in [-1isize, 0, 1] {
                for dx in [-1isize, 0, 1] {
                    let r = (row as isize + dy).clamp(0, h as isize - 1) as usize;
                    let c = (col as isize + dx).clamp(0, w as isize - 1) as usize;
                    sum += u32::from(y[r * w + c]);
                }
            }
            out.planes[0][row * w + col] = ((sum / 9) as u8 & !7) | 4;
        }
    }
    out
}

fn score(reference: &[YuvImage], distorted: &[YuvImage], threads: u32) -> VmafScores {
    let r = &reference[0];
    let mut vmaf = Vmaf::new(r.width, r.height, r.format, threads).unwrap();
    for (a, b) in reference.iter().zip(distorted) {
        vmaf.push(a, b).unwrap();
    }
    vmaf.finish().unwrap()
}

fn write_y4m(path: &Path, pictures: &[YuvImage]) {
    let p = &pictures[0];
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut writer = Y4mWriter::new(file, p.width, p.height, 30, 1, p.format).unwrap();
    for p in pictures {
        writer.write(p).unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn identical_pictures_score_high_and_degraded_ones_lower() {
    println!("libvmaf {}", asp_vmaf::libvmaf_version());
    for format in [YuvFormat::I420, YuvFormat::I444] {
        let reference = frames(SourceKind::Video, 320, 192, 12, format);
        let same = score(&reference, &reference, 0);
        let degraded: Vec<_> = reference.iter().map(degrade).collect();
        let worse = score(&reference, &degraded, 2);
        println!(
            "{format:?}: identical mean {:.3} min {:.3}; degraded mean {:.3} min {:.3} harmonic {:.3}",
            same.mean, same.min, worse.mean, worse.min, worse.harmonic_mean
        );
        assert_eq!(same.per_frame.len(), 12);
        assert!(same.mean > 97.0 && same.min > 95.0 && same.mean <= 100.0, "{same:?}");
        assert!(worse.mean < same.mean - 15.0, "degraded {:.2} vs identical {:.2}", worse.mean, same.mean);
        assert!(worse.min <= worse.harmonic_mean && worse.harmonic_mean <= worse.mean + 1e-9, "{worse:?}");
        let mean = worse.per_frame.iter().sum::<f64>() / worse.per_frame.len() as f64;
        assert!((mean - worse.mean).abs() < 1e-9);
        assert_eq!(worse.length_mismatch, None);
    }
}

#[test]
fn threads_do_not_change_scores() {
    let reference = frames(SourceKind::ThreeD, 256, 144, 6, YuvFormat::I420);
    let degraded: Vec<_> = reference.iter().map(degrade).collect();
    let one = score(&reference, &degraded, 0);
    let four = score(&reference, &degraded, 4);
    for (a, b) in one.per_frame.iter().zip(&four.per_frame) {
        assert!((a - b).abs() < 1e-9, "{one:?} vs {four:?}");
    }
}

#[test]
fn bad_input_is_an_error() {
    assert!(matches!(Vmaf::new(320, 192, YuvFormat::Nv12, 0), Err(VmafError::UnsupportedFormat(_))));
    for (w, h) in [(321, 192), (320, 191), (32, 192), (320, 0), (20000, 192)] {
        assert!(matches!(Vmaf::new(w, h, YuvFormat::I420, 0), Err(VmafError::BadSize { .. })), "{w}x{h}");
    }
    Vmaf::new(321, 191, YuvFormat::I444, 0).unwrap();
    assert!(matches!(Vmaf::new(320, 192, YuvFormat::I420, 0).unwrap().finish(), Err(VmafError::NoFrames)));

    let mut vmaf = Vmaf::new(320, 192, YuvFormat::I420, 0).unwrap();
    let good = YuvImage::black(YuvFormat::I420, 320, 192);
    let short_plane =
        YuvImage { planes: vec![vec![16; 320 * 192], vec![128; 10], vec![128; 160 * 96]], ..good.clone() };
    let two_planes = YuvImage { planes: vec![vec![16; 320 * 192], vec![128; 160 * 96]], ..good.clone() };
    for (reference, distorted) in [
        (&good, &YuvImage::black(YuvFormat::I420, 320, 180)),
        (&YuvImage::black(YuvFormat::I420, 640, 360), &good),
        (&good, &YuvImage::black(YuvFormat::I444, 320, 192)),
        (&good, &short_plane),
        (&two_planes, &good),
    ] {
        assert!(matches!(vmaf.push(reference, distorted), Err(VmafError::Mismatch { .. })));
    }
    // The refused pairs left the scorer usable.
    vmaf.push(&good, &good).unwrap();
    assert_eq!(vmaf.finish().unwrap().per_frame.len(), 1);

    let missing = score_y4m(Path::new("/nonexistent/ref.y4m"), Path::new("/nonexistent/dist.y4m"), 0);
    assert!(matches!(missing, Err(VmafError::Open { .. })));
    let small = temp_path("small.y4m");
    let large = temp_path("large.y4m");
    write_y4m(&small, &[YuvImage::black(YuvFormat::I420, 128, 96)]);
    write_y4m(&large, &[YuvImage::black(YuvFormat::I420, 160, 96)]);
    assert!(matches!(score_y4m(&small, &large, 0), Err(VmafError::Mismatch { .. })));
    let garbage = temp_path("garbage.y4m");
    std::fs::write(&garbage, b"not a y4m file\n").unwrap();
    assert!(matches!(score_y4m(&small, &garbage, 0), Err(VmafError::Y4m { .. })));
}

#[test]
fn y4m_files_score_like_pushed_pictures_and_report_length_mismatch() {
    let reference = frames(SourceKind::Office, 320, 192, 8, YuvFormat::I420);
    let degraded: Vec<_> = reference.iter().map(degrade).collect();
    let (ref_path, dist_path) = (temp_path("office-ref.y4m"), temp_path("office-dist.y4m"));
    write_y4m(&ref_path, &reference);
    write_y4m(&dist_path, &degraded);
    let from_files = score_y4m(&ref_path, &dist_path, 2).unwrap();
    assert_eq!(from_files, score(&reference, &degraded, 0));

    let short_path = temp_path("office-dist-short.y4m");
    write_y4m(&short_path, &degraded[..5]);
    let short = score_y4m(&ref_path, &short_path, 0).unwrap();
    assert_eq!(short.length_mismatch, Some(FrameCounts { reference: 8, distorted: 5 }));
    assert_eq!(short.per_frame, from_files.per_frame[..5]);
    let swapped = score_y4m(&short_path, &dist_path, 0).unwrap();
    assert_eq!(swapped.length_mismatch, Some(FrameCounts { reference: 5, distorted: 8 }));
}

/// `vmaf`, libvmaf's own command-line tool, which `libvmaf-sys` builds next to the library:
/// `target/<profile>/build/libvmaf-sys-*/out/build/tools/vmaf`, the newest if several.
fn libvmaf_tool() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let build = exe.parent()?.parent()?.join("build");
    std::fs::read_dir(build)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("libvmaf-sys-"))
        .map(|e| e.path().join("out/build/tools/vmaf"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// The pooled mean VMAF in a libvmaf JSON log (`"pooled_metrics": {"vmaf": {"mean": ...}}`),
/// read without a JSON library.
fn pooled_mean(json: &str) -> f64 {
    let pooled = &json[json.find("\"pooled_metrics\"").expect("pooled_metrics in the log")..];
    let vmaf = &pooled[pooled.find("\"vmaf\"").expect("a vmaf entry")..];
    let mean = &vmaf[vmaf.find("\"mean\":").expect("a mean") + 7..];
    let end = mean.find([',', '}']).unwrap();
    mean[..end].trim().parse().unwrap()
}

#[test]
fn libvmaf_tool_and_ffmpeg_agree() {
    let reference = frames(SourceKind::Video, 320, 192, 10, YuvFormat::I420);
    let degraded: Vec<_> = reference.iter().map(degrade).collect();
    let (ref_path, dist_path) = (temp_path("video-ref.y4m"), temp_path("video-dist.y4m"));
    write_y4m(&ref_path, &reference);
    write_y4m(&dist_path, &degraded);
    let ours = score_y4m(&ref_path, &dist_path, 0).unwrap().mean;

    let tool = libvmaf_tool().expect("libvmaf-sys builds the vmaf tool next to libvmaf");
    let log = temp_path("vmaf-tool.json");
    let out = Command::new(&tool)
        .args(["-q", "--json", "-m", "version=vmaf_v0.6.1", "-r"])
        .args([&ref_path, Path::new("-d"), &dist_path, Path::new("-o"), &log])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = pooled_mean(&std::fs::read_to_string(&log).unwrap());
    println!("VMAF of the degraded copy: ours {ours:.4}, libvmaf's vmaf tool {theirs:.4}");
    assert!((ours - theirs).abs() < 0.5, "ours {ours}, vmaf tool {theirs}");

    // FFmpeg's libvmaf filter, if the installed FFmpeg CLI was built with it (Debian's is not).
    let filters = Command::new("ffmpeg").args(["-hide_banner", "-filters"]).output();
    let has_libvmaf = filters.as_ref().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(" libvmaf "));
    if !has_libvmaf {
        println!("ffmpeg: no libvmaf filter in this FFmpeg build; its cross-check is skipped");
        return;
    }
    let log = temp_path("ffmpeg-vmaf.json");
    let filter = format!("libvmaf=log_path={}:log_fmt=json", log.display());
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .args([&dist_path, Path::new("-i"), &ref_path])
        .args(["-lavfi", &filter, "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ffmpeg = pooled_mean(&std::fs::read_to_string(&log).unwrap());
    println!("VMAF of the degraded copy: ours {ours:.4}, ffmpeg {ffmpeg:.4}");
    assert!((ours - ffmpeg).abs() < 0.5, "ours {ours}, ffmpeg {ffmpeg}");
}

/// Not a limit, a figure for the notes: how long 60 pictures of 1280x720 take to score, on as
/// many worker threads as the machine has. (`cargo test` builds libvmaf unoptimised; see the
/// README for `--release` figures.)
#[test]
fn time_to_score_720p() {
    let reference = frames(SourceKind::Video, 1280, 720, 60, YuvFormat::I420);
    let degraded: Vec<_> = reference.iter().map(degrade).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let start = Instant::now();
    let scores = score(&reference, &degraded, threads);
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "60 frames 1280x720, {threads} worker threads: {elapsed:.2} s ({:.1} frames/s), mean VMAF {:.2}",
        60.0 / elapsed,
        scores.mean
    );
    assert_eq!(scores.per_frame.len(), 60);
}
