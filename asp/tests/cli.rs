//! The `asp` binary end to end: `asp demo` and `asp bench` (through the relay, with VMAF, the
//! FFmpeg CLI / SRT / TCP baselines and the plots), small and short, checking that every report
//! field the issue promises is there and sane.

use std::path::PathBuf;
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("asp-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_asp")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "asp {args:?} failed:\n{text}");
    text
}

fn num(v: &serde_json::Value, path: &str) -> f64 {
    path.split('.').fold(v, |v, k| &v[k]).as_f64().unwrap_or_else(|| panic!("{path} missing in {v}"))
}

#[test]
fn demo_prints_a_summary_and_writes_the_report() {
    let dir = temp_dir("demo");
    let json = dir.join("demo.json");
    let text = run(&["demo", "--seconds", "2", "--size", "320x180", "--fps", "30", "--json", json.to_str().unwrap()]);
    assert!(text.contains("glass-to-glass") && text.contains("click-to-photon"), "{text}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(num(&r, "glass_to_glass_ms.p50") > 0.0);
    assert!(num(&r, "glass_to_glass_ms.p99") >= num(&r, "glass_to_glass_ms.p50"));
    assert!(num(&r, "click_to_photon_ms.count") >= 2.0, "the demo clicks twice a second");
    assert!(num(&r, "fps.mean") > 5.0);
    assert!(num(&r, "frames.shown") > 10.0);
    assert_eq!(r["vmaf"], serde_json::Value::Null, "the demo does not score");
    for key in ["scene", "codec", "carrier", "network"] {
        assert!(r[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {}", r[key]);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bench_scores_plots_and_measures_the_baselines() {
    let dir = temp_dir("bench");
    let text = run(&[
        "bench",
        "--scenes",
        "office",
        "--networks",
        "lossy-5pct",
        "--carriers",
        "quic",
        "--seconds",
        "2",
        "--size",
        "320x180",
        "--fps",
        "30",
        "--vmaf-threads",
        "0",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(text.contains("x264 stream over SRT") && text.contains("x264 stream over TCP"), "{text}");
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(all["failures"].as_array().map(Vec::len), Some(0), "{all}");
    let case = &all["cases"][0];
    let r = &case["report"];
    assert_eq!(r["network"], "lossy-5pct");
    assert_eq!(r["carrier"], "quic");
    assert!(num(r, "glass_to_glass_ms.p50") >= 20.0, "20 ms one way at least");
    let vmaf = num(r, "vmaf.mean");
    assert!((30.0..=100.0).contains(&vmaf), "vmaf {vmaf}");
    assert!(num(r, "vmaf.min") <= vmaf);
    assert!(num(r, "bitrate_kbps.mean") > 0.0);
    let frames = num(r, "frames.sent");
    assert!(frames > 10.0 && num(r, "frames.shown") <= frames);
    assert!(case["vmaf_per_frame"].as_array().is_some_and(|v| v.len() as f64 >= frames));
    let b = &case["baseline"];
    assert!(num(b, "x264_bitrate_kbps") > 0.0);
    // At a tiny size and ASP's low bitrate the CLI's picture can score 0: present and in range.
    assert!((0.0..=100.0).contains(&num(b, "x264_vmaf.mean")));
    assert_eq!(b["errors"].as_array().map(Vec::len), Some(0), "{b}");
    assert!(num(b, "srt.frames_sent") > 10.0 && num(b, "tcp.frames_sent") > 10.0);
    assert!(num(b, "srt.summary.p50_ms") >= 20.0);
    for plot in ["latency_cdf.svg", "bitrate.svg", "vmaf.svg"] {
        let svg = std::fs::read_to_string(dir.join(plot)).unwrap();
        assert!(svg.contains("<svg") && svg.contains("polyline"), "{plot} has no lines");
    }
    assert!(!dir.join("office-lossy-5pct-quic/source.y4m").exists(), "Y4M removed unless --save-decoded");
    let _ = std::fs::remove_dir_all(dir);
}
