//! RFC 8867 test cases in virtual time, plus random and burst loss, with the figures each one
//! is judged by, as a table, as JSON (`--json PATH`), and as an SVG plot per scenario
//! (`--plots DIR`, by default `PATH-plots/` beside the JSON: capacity against each ASP flow's
//! target rate over time).
//!
//! ```text
//! cargo run --release -p asp-transport --example rmcat -- --json rmcat.json --plots plots/
//! cargo run --release -p asp-transport --example rmcat -- --scenario docs/scenarios/wireless-vs-tcp.json
//! ```
//!
//! `--scenario FILE` (repeatable) runs scenarios written in the profile format of
//! docs/SCENARIOS.md instead of the built-in list.
//!
//! ```text
//! ```

use std::fmt::Write as _;

use asp_core::sim::library::rfc8867;
use asp_core::sim::{SharedReport, SharedScenario};
use asp_transport::profile::ScenarioSpec;

/// Seconds after each capacity change until the target is back under the new capacity
/// (drops) or within 80 % of it (rises).
fn reconvergence(s: &SharedScenario, r: &SharedReport) -> Vec<f64> {
    let Some(asp) = r.flows.iter().find(|f| f.kind == "Asp") else { return Vec::new() };
    s.capacity
        .iter()
        .map(|&(at, cap)| {
            let from = at.as_secs() as usize;
            let previous = r.capacity_trace.get(from.saturating_sub(1)).copied().unwrap_or(cap);
            let ok = |t: u64| if cap < previous { t <= cap } else { t as f64 >= 0.8 * cap as f64 };
            asp.target_trace.iter().skip(from).position(|t| ok(*t)).map_or(f64::INFINITY, |p| p as f64)
        })
        .collect()
}

fn jain(xs: &[f64]) -> f64 {
    let (sum, sq) = xs.iter().fold((0.0, 0.0), |(a, b), x| (a + x, b + x * x));
    if sq == 0.0 { 0.0 } else { sum * sum / (xs.len() as f64 * sq) }
}

fn svg(s: &SharedScenario, r: &SharedReport) -> String {
    let (w, h, pad) = (800.0, 300.0, 40.0);
    let max = r
        .capacity_trace
        .iter()
        .copied()
        .chain(r.flows.iter().flat_map(|f| f.target_trace.iter().copied()))
        .max()
        .unwrap_or(1) as f64
        * 1.1;
    let n = r.capacity_trace.len().max(2) as f64;
    let xy =
        |i: usize, v: u64| (pad + (w - 2.0 * pad) * i as f64 / (n - 1.0), h - pad - (h - 2.0 * pad) * v as f64 / max);
    let line = |vals: &[u64], color: &str| {
        let pts: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let (x, y) = xy(i, *v);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        format!("<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>", pts.join(" "))
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = write!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"{pad}\" y=\"20\">{} — capacity (black) and ASP target rates, 0..{:.1} Mbit/s over {} s</text>",
        s.name,
        max / 1e6,
        s.duration.as_secs()
    );
    let _ =
        write!(out, "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/>", h - pad, w - pad, h - pad);
    out.push_str(&line(&r.capacity_trace, "black"));
    for (f, color) in r.flows.iter().filter(|f| f.kind == "Asp").zip(["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]) {
        out.push_str(&line(&f.target_trace, color));
    }
    out.push_str("</svg>\n");
    out
}

fn main() {
    let mut json_path = None;
    let mut plots = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json_path = args.next(),
            "--plots" => plots = args.next(),
            "--scenario" => files.extend(args.next()),
            other => {
                eprintln!("unknown argument {other:?}; usage: rmcat [--json PATH] [--plots DIR] [--scenario FILE ...]");
                std::process::exit(2);
            }
        }
    }
    // With --json and no --plots, the plots go beside the JSON.
    if plots.is_none()
        && let Some(path) = &json_path
    {
        plots = Some(format!("{}-plots", path.trim_end_matches(".json")));
    }
    let mut json = String::from("[\n");
    println!(
        "{:<28} {:>6} {:>8} {:>8} {:>6} {:>9} {:>8}  flows (steady kbit/s)",
        "scenario", "util", "p50 ms", "p95 ms", "loss", "on time", "gap ms"
    );
    let all: Vec<SharedScenario> = if files.is_empty() {
        rfc8867()
    } else {
        files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).unwrap_or_else(|e| fail(&format!("{f}: {e}")));
                ScenarioSpec::from_json(&text).unwrap_or_else(|e| fail(&format!("{f}: {e}"))).to_scenario()
            })
            .collect()
    };
    for (k, s) in all.iter().enumerate() {
        let r = s.run().expect("valid scenario");
        let asp: Vec<_> = r.flows.iter().filter(|f| f.kind == "Asp").collect();
        let sent: u64 = asp.iter().map(|f| f.frames_sent).sum();
        let on_time: u64 = asp.iter().map(|f| f.frames_on_time).sum();
        let on_time = if sent == 0 { 0.0 } else { on_time as f64 / sent as f64 };
        let gap = asp.iter().map(|f| f.max_gap_ms).fold(0.0, f64::max);
        let flows: Vec<String> = r.flows.iter().map(|f| format!("{} {:.0}", f.name, f.steady_bps / 1e3)).collect();
        let reconv = reconvergence(s, &r);
        let fairness = jain(&asp.iter().map(|f| f.steady_bps).collect::<Vec<_>>());
        println!(
            "{:<28} {:>6.3} {:>8.1} {:>8.1} {:>6.3} {:>9.3} {:>8.0}  {}",
            s.name,
            r.utilization,
            r.added_delay_p50_ms,
            r.added_delay_p95_ms,
            r.loss,
            on_time,
            gap,
            flows.join(", ")
        );
        if !reconv.is_empty() {
            println!("{:<28} reconvergence after each capacity change (s): {reconv:?}", "");
        }
        let flow_json: Vec<String> = r
            .flows
            .iter()
            .map(|f| format!("{{\"name\": \"{}\", \"kind\": \"{}\", \"throughput_kbps\": {:.1}, \"steady_kbps\": {:.1}, \"frames_sent\": {}, \"frames_on_time\": {}, \"max_gap_ms\": {:.1}}}", f.name, f.kind, f.throughput_bps / 1e3, f.steady_bps / 1e3, f.frames_sent, f.frames_on_time, f.max_gap_ms))
            .collect();
        let reconv_json: Vec<String> =
            reconv.iter().map(|v| if v.is_finite() { format!("{v:.1}") } else { "null".into() }).collect();
        let _ = writeln!(
            json,
            "  {{\"name\": \"{}\", \"utilization\": {:.4}, \"added_delay_ms\": {{\"p50\": {:.2}, \"p95\": {:.2}}}, \"loss\": {:.5}, \"frames_on_time\": {:.4}, \"max_gap_ms\": {:.1}, \"reconvergence_s\": [{}], \"jain_fairness\": {:.4}, \"flows\": [{}]}}{}",
            s.name,
            r.utilization,
            r.added_delay_p50_ms,
            r.added_delay_p95_ms,
            r.loss,
            on_time,
            gap,
            reconv_json.join(", "),
            fairness,
            flow_json.join(", "),
            if k + 1 < all.len() { "," } else { "" }
        );
        if let Some(dir) = &plots {
            let _ = std::fs::create_dir_all(dir);
            let file = format!(
                "{dir}/{}.svg",
                s.name.split_whitespace().next().unwrap_or("scenario").replace('.', "_") + &format!("_{k}")
            );
            if let Err(e) = std::fs::write(&file, svg(s, &r)) {
                eprintln!("cannot write {file}: {e}");
            }
        }
    }
    json.push_str("]\n");
    if let Some(path) = json_path {
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("JSON written to {path}");
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}
