//! The live one-line status and the summary table at the end of a run.

use std::io::Write;

use asp::client::ClientStats;

/// Turns successive snapshots into per-interval rates.
#[derive(Debug, Default)]
pub(crate) struct StatusLine {
    last: Option<(f64, u64, u64, u64)>,
}

impl StatusLine {
    /// Prints the line for `now_s` seconds, replacing the previous one.
    pub(crate) fn print(&mut self, now_s: f64, client: &ClientStats) {
        let up_bytes = client.session_bytes_sent;
        let (fps, down_kbps, up_kbps) = match self.last {
            Some((t, shown, down, up)) if now_s > t => {
                let dt = now_s - t;
                (
                    (client.frames_shown - shown) as f64 / dt,
                    (client.video_bytes - down) as f64 * 8.0 / dt / 1000.0,
                    up_bytes.saturating_sub(up) as f64 * 8.0 / dt / 1000.0,
                )
            }
            _ => (0.0, 0.0, 0.0),
        };
        self.last = Some((now_s, client.frames_shown, client.video_bytes, up_bytes));
        let g = &client.glass_to_glass;
        let line = format!(
            "{now_s:5.1}s  {fps:5.1} fps  down {down_kbps:7.0} kbit/s  up {up_kbps:5.0} kbit/s  rtt {:5.1} ms  g2g p50 {:5.1} p95 {:5.1} ms  {} {}  stalls {}",
            client.rtt_ms,
            g.p50,
            g.p95,
            if client.scene.is_empty() { "-" } else { &client.scene },
            if client.codec.is_empty() { "-" } else { &client.codec },
            client.stalls,
        );
        let mut out = std::io::stderr().lock();
        let _ = write!(out, "\r\x1b[2K{line}");
        let _ = out.flush();
    }

    /// Ends the live line.
    pub(crate) fn finish(&self) {
        eprintln!();
    }
}

/// The table printed at the end.
pub(crate) fn summary(report: &asp::report::Report) {
    let r = report;
    let rows = [
        ("scene", r.scene.clone()),
        ("codec", r.codec.clone()),
        ("carrier / network", format!("{} / {}", r.carrier, r.network)),
        ("resolution", r.resolution.clone()),
        ("seconds", format!("{:.1}", r.seconds)),
        ("fps (shown)", format!("{:.1}", r.fps.mean)),
        ("bitrate", format!("{:.0} kbit/s", r.bitrate_kbps.mean)),
        (
            "glass-to-glass",
            format!(
                "p50 {:.1}  p95 {:.1}  p99 {:.1} ms ({} frames)",
                r.glass_to_glass_ms.p50, r.glass_to_glass_ms.p95, r.glass_to_glass_ms.p99, r.glass_to_glass_ms.count
            ),
        ),
        (
            "  after 1 s warm-up",
            format!(
                "p50 {:.1}  p95 {:.1}  p99 {:.1} ms ({} frames)",
                r.glass_to_glass_after_warm_up_ms.p50,
                r.glass_to_glass_after_warm_up_ms.p95,
                r.glass_to_glass_after_warm_up_ms.p99,
                r.glass_to_glass_after_warm_up_ms.count
            ),
        ),
        (
            "click-to-photon",
            format!(
                "p50 {:.1}  p95 {:.1} ms ({} inputs)",
                r.click_to_photon_ms.p50, r.click_to_photon_ms.p95, r.click_to_photon_ms.count
            ),
        ),
        (
            "frames",
            format!(
                "sent {}  shown {}  late {}  dropped {}  skipped (unchanged) {}  behind {}",
                r.frames.sent,
                r.frames.shown,
                r.frames.late,
                r.frames.dropped,
                r.frames.skipped,
                r.frames.dropped_behind
            ),
        ),
        (
            "encode / decode",
            format!("{:.2} / {:.2} ms mean", r.server.encode_us_mean / 1e3, r.client.decode_us_mean / 1e3),
        ),
        (
            "vmaf",
            r.vmaf.map_or_else(
                || "not scored (asp bench scores)".into(),
                |v| format!("mean {:.2}  min {:.2}", v.mean, v.min),
            ),
        ),
        ("time to sharp", r.time_to_sharp_ms.map_or_else(|| "-".into(), |t| format!("{t:.0} ms"))),
        ("stalls", r.stalls.to_string()),
    ];
    println!();
    for (name, value) in rows {
        println!("  {name:<20} {value}");
    }
}

/// Logs a stall alarm as one JSON line on standard error: a structured event a log collector
/// can pick up.
pub(crate) fn log_alarm(alarm: &asp::server::StallAlarm) {
    let r = &alarm.report;
    let event = serde_json::json!({
        "alarm": "stall",
        "at_s": alarm.at_us as f64 / 1e6,
        "kind": format!("{:?}", r.kind),
        "duration_ms": r.duration_ms,
        "estimate_kbps": r.estimate_kbps,
        "loss_ppm": r.loss_ppm,
        "queue_ms": r.queue_ms,
        "decoder_state": r.decoder_state,
    });
    eprintln!("\r\x1b[2K{event}");
}
