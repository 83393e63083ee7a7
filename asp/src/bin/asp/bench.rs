//! `asp bench`: scenes × network profiles × carriers through the network emulator, scored with
//! VMAF, with the FFmpeg CLI / SRT / TCP baselines beside them; a JSON report and SVG plots.

use std::io::Write;
use std::path::PathBuf;

use asp::bench::network::NetworkProfile;
use asp::bench::{self, BenchOptions, BenchSource, CaseOutcome, CaseSpec};
use serde_json::json;

use crate::args::{CarrierArg, Scene, StreamArgs};

/// `asp bench` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Synthetic scenes to run (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Scene::Office])]
    scenes: Vec<Scene>,
    /// Stream this Y4M recording instead of synthetic scenes.
    #[arg(long)]
    source: Option<PathBuf>,
    /// Network profiles: lan, wan-40ms, lossy-5pct, 3mbit, variable, or a JSON file.
    #[arg(long, value_delimiter = ',', default_values_t = ["lan".to_owned(), "wan-40ms".to_owned(), "lossy-5pct".to_owned()])]
    networks: Vec<String>,
    /// Carriers.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [CarrierArg::Quic, CarrierArg::Tcp])]
    carriers: Vec<CarrierArg>,
    /// Seconds per case.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[command(flatten)]
    stream: StreamArgs,
    /// Output folder: report.json, plots, and a folder per case.
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
    /// Keep what the client showed, frame for frame (one picture per captured frame), as Y4M
    /// at PATH (with several cases, PATH-<case>.y4m); the source as captured stays in each
    /// case's folder as source.y4m, so both can be scored with other tools.
    #[arg(long, value_name = "PATH.y4m")]
    save_decoded: Option<PathBuf>,
    /// Skip VMAF scoring.
    #[arg(long)]
    no_vmaf: bool,
    /// Skip the FFmpeg CLI / SRT / TCP baselines.
    #[arg(long)]
    no_baselines: bool,
    /// VMAF worker threads.
    #[arg(long, default_value_t = 2)]
    vmaf_threads: u32,
    /// Clicks (press and release) per second at the client, for click-to-photon: 0 (none, an
    /// untouched screen), 1, 2 or 4 (others round to those; the bench ticks 4 times a second).
    #[arg(long, default_value_t = 2)]
    clicks_per_second: u32,
    /// Seed of scenes and relays.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn cases(args: &BenchArgs) -> Result<Vec<CaseSpec>, String> {
    let sources: Vec<BenchSource> = match &args.source {
        Some(p) => vec![BenchSource::Y4m(p.clone())],
        None => args.scenes.iter().map(|s| BenchSource::Synth(s.kind())).collect(),
    };
    let networks = args.networks.iter().map(|n| NetworkProfile::named(n)).collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for source in &sources {
        for network in &networks {
            for carrier in &args.carriers {
                out.push(CaseSpec {
                    source: source.clone(),
                    network: network.clone(),
                    carrier: carrier.carrier(),
                    size: args.stream.size,
                    fps: args.stream.fps,
                    seconds: args.seconds,
                    codec: args.stream.codec.codec(),
                    preset: args.stream.preset.preset(),
                    seed: args.seed,
                });
            }
        }
    }
    Ok(out)
}

/// Where `--save-decoded PATH` puts a case's pictures.
fn saved_path(path: &std::path::Path, slug: &str, cases: usize) -> PathBuf {
    if cases == 1 {
        return path.to_owned();
    }
    let stem = path.file_stem().map_or_else(|| "decoded".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}-{slug}.y4m"))
}

fn progress_line(index: usize, total: usize, slug: &str, started: &asp::clock::Clock, what: &str) {
    let done = index as f64 / total as f64;
    let width = 24;
    let filled = (done * f64::from(width)) as usize;
    let bar: String = (0..width as usize).map(|i| if i < filled { '#' } else { '.' }).collect();
    let mut err = std::io::stderr().lock();
    let _ =
        write!(err, "\r\x1b[2K[{bar}] {}/{total} {:5.0} s  {slug}: {what}", index + 1, started.now_us() as f64 / 1e6);
    let _ = err.flush();
}

/// Runs the bench.
pub(crate) async fn run(args: BenchArgs) -> Result<(), String> {
    if !(args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err("--seconds must be in (0, 3600]".into());
    }
    let specs = cases(&args)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let options = BenchOptions {
        out_dir: args.out.clone(),
        keep_y4m: args.save_decoded.is_some(),
        vmaf: !args.no_vmaf,
        baselines: !args.no_baselines,
        vmaf_threads: args.vmaf_threads,
        clicks_per_second: args.clicks_per_second,
    };
    let started = asp::clock::Clock::new();
    let mut outcomes: Vec<CaseOutcome> = Vec::new();
    let mut failures = Vec::new();
    // Baselines depend on the source and the network only: run them once per pair.
    let mut baseline_done: Vec<(String, String)> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let slug = spec.slug();
        let key = (spec.source.name(), spec.network.name.clone());
        let case_options =
            BenchOptions { baselines: options.baselines && !baseline_done.contains(&key), ..options.clone() };
        let progress = |what: &str| progress_line(i, specs.len(), &slug, &started, what);
        match bench::run_case(spec, &case_options, &progress).await {
            Ok(outcome) => {
                if case_options.baselines {
                    baseline_done.push(key);
                }
                if let Some(path) = &args.save_decoded {
                    let dest = saved_path(path, &slug, specs.len());
                    let from = args.out.join(&slug).join("decoded.y4m");
                    if let Err(e) = std::fs::rename(&from, &dest).or_else(|_| std::fs::copy(&from, &dest).map(|_| ())) {
                        failures.push(format!("{slug}: saving {}: {e}", dest.display()));
                    }
                }
                outcomes.push(outcome);
            }
            Err(e) => failures.push(format!("{slug}: {e}")),
        }
    }
    eprintln!();
    let plots = bench::plot::write_all(&args.out, &outcomes)?;
    print_table(&outcomes);
    let report = json!({
        "cases": outcomes.iter().map(|o| json!({
            "case": o.spec.slug(),
            "report": o.report,
            "baseline": o.baseline,
            "vmaf_per_frame": o.vmaf_per_frame,
        })).collect::<Vec<_>>(),
        "failures": failures,
        "plots": plots.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    });
    let path = args.out.join("report.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nreport: {}", path.display());
    for p in &plots {
        println!("plot:   {}", p.display());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} case(s) failed:\n  {}", failures.len(), failures.join("\n  ")))
    }
}

fn print_table(outcomes: &[CaseOutcome]) {
    println!(
        "\n{:<30} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>6} {:>7} {:>9} {:>7} {:>8} {:>6}",
        "case",
        "g2g p50",
        "g2g p95",
        "g2g p99",
        "p99 warm",
        "c2p p50",
        "kbit/s",
        "warm kb/s",
        "fps",
        "vmaf",
        "vmaf warm",
        "vmafmin",
        "sharp ms",
        "late"
    );
    for o in outcomes {
        let r = &o.report;
        let (v, vwarm, vmin) = r.vmaf.map_or((f64::NAN, f64::NAN, f64::NAN), |v| (v.mean, v.mean_after_warm_up, v.min));
        println!(
            "{:<30} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9.0} {:>9.0} {:>6.1} {:>7.2} {:>9.2} {:>7.2} {:>8} {:>6}",
            o.spec.slug(),
            r.glass_to_glass_ms.p50,
            r.glass_to_glass_ms.p95,
            r.glass_to_glass_ms.p99,
            r.glass_to_glass_after_warm_up_ms.p99,
            r.click_to_photon_ms.p50,
            r.bitrate_kbps.mean,
            r.bitrate_kbps.after_warm_up,
            r.fps.mean,
            v,
            vwarm,
            vmin,
            r.time_to_sharp_ms.map_or_else(|| "-".into(), |t| format!("{t:.0}")),
            r.frames.late
        );
        if r.stalls > 0 {
            println!("  {} stall(s) reported by the client and logged by the server", r.stalls);
        }
        if let Some(b) = &o.baseline {
            let (bv, bs) = (b.x264_vmaf.map_or(f64::NAN, |v| v.mean), b.x264_time_to_sharp_ms);
            println!(
                "  FFmpeg CLI x264 at ASP's bitrate: {:.0} kbit/s, vmaf {bv:.2}, sharp after {}",
                b.x264_bitrate_kbps,
                bs.map_or_else(|| "never".into(), |t| format!("{t:.0} ms"))
            );
            match (b.x264_kbps_at_vmaf95, b.x264_vmaf_at_vmaf95) {
                (Some(k), Some(v)) => println!(
                    "  FFmpeg CLI x264 reaches VMAF 95 at {k:.0} kbit/s (vmaf {v:.2}); ASP: {:.0} kbit/s at vmaf {:.2}",
                    r.bitrate_kbps.mean,
                    r.vmaf.map_or(f64::NAN, |v| v.mean)
                ),
                _ if b.x264_vmaf.is_some() => {
                    println!("  FFmpeg CLI x264 does not reach VMAF 95 up to 32x ASP's bitrate")
                }
                _ => {}
            }
            for (name, c) in [("SRT", &b.srt), ("TCP", &b.tcp)] {
                if let Some(c) = c {
                    let s = c.summary.as_ref();
                    println!(
                        "  x264 stream over {name}: {}/{} frames, latency p50 {:.1} p95 {:.1} p99 {:.1} ms ({})",
                        c.frames_delivered,
                        c.frames_sent,
                        s.map_or(f64::NAN, |s| s.p50_ms),
                        s.map_or(f64::NAN, |s| s.p95_ms),
                        s.map_or(f64::NAN, |s| s.p99_ms),
                        c.settings
                    );
                }
            }
            for e in &b.errors {
                println!("  baseline error: {e}");
            }
        }
    }
}
