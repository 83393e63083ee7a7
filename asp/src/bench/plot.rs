//! The bench's plots, as SVG: glass-to-glass latency CDFs (with the baselines' carriage
//! latency beside them), bitrate against the link's capacity over time, and VMAF per frame.

use std::path::Path;

use plotters::prelude::*;

use super::CaseOutcome;
use crate::metrics::LatencyHistogram;

const SIZE: (u32, u32) = (960, 540);

fn colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    PALETTE[i % PALETTE.len()]
}

fn draw_err<E: std::fmt::Display>(e: E) -> String {
    format!("plot: {e}")
}

type Series = (String, Vec<(f64, f64)>);

fn line_chart(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series]) -> Result<(), String> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x_max, mut y_max) = (1e-9f64, 1e-9f64);
    let mut y_min = f64::MAX;
    for (x, y) in points {
        x_max = x_max.max(*x);
        y_max = y_max.max(*y);
        y_min = y_min.min(*y);
    }
    let y_min = if y_min == f64::MAX { 0.0 } else { y_min.min(0.0) };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max * 1.02, y_min..y_max * 1.05)
        .map_err(draw_err)?;
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(draw_err)?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(draw_err)?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(draw_err)?;
    root.present().map_err(draw_err)
}

/// Writes `latency_cdf.svg`, `bitrate.svg` and `vmaf.svg` into `dir`; returns their paths.
///
/// # Errors
/// When a file cannot be written.
pub fn write_all(dir: &Path, cases: &[CaseOutcome]) -> Result<Vec<std::path::PathBuf>, String> {
    let mut written = Vec::new();
    let mut latency: Vec<Series> = Vec::new();
    let mut bitrate: Vec<Series> = Vec::new();
    let mut vmaf: Vec<Series> = Vec::new();
    for case in cases {
        let name = case.spec.slug();
        latency.push((format!("{name} ASP"), case.glass_to_glass.cdf()));
        bitrate.push((format!("{name} ASP"), case.bitrate.iter().map(|(t, k, _)| (*t, *k)).collect()));
        if case.bitrate.iter().any(|(_, _, c)| c.is_some())
            && !bitrate.iter().any(|(n, _)| n.starts_with(&case.spec.network.name))
        {
            let capacity = case.bitrate.iter().filter_map(|(t, _, c)| c.map(|c| (*t, c))).collect();
            bitrate.push((format!("{} capacity", case.spec.network.name), capacity));
        }
        let fps = f64::from(case.spec.fps.max(1));
        if !case.vmaf_per_frame.is_empty() {
            vmaf.push((
                format!("{name} ASP"),
                case.vmaf_per_frame.iter().enumerate().map(|(i, v)| (i as f64 / fps, *v)).collect(),
            ));
        }
        if let Some(b) = &case.baseline {
            for (label, report) in [("SRT", &b.srt), ("TCP", &b.tcp)] {
                if let Some(r) = report {
                    let mut carriage = LatencyHistogram::new();
                    r.latency_ms.iter().flatten().for_each(|ms| carriage.record(*ms));
                    if carriage.count() > 0 {
                        latency.push((format!("{name} x264 over {label}"), carriage.cdf()));
                    }
                }
            }
            if !b.x264_per_frame.is_empty() {
                let pts = b.x264_per_frame.iter().enumerate().map(|(i, v)| (i as f64 / fps, *v)).collect();
                vmaf.push((format!("{name} FFmpeg CLI x264"), pts));
            }
        }
    }
    let jobs: [(&str, &str, &str, &str, &Vec<Series>); 3] = [
        (
            "latency_cdf.svg",
            "Glass-to-glass latency (ASP) and carriage latency (baselines)",
            "ms",
            "fraction of frames",
            &latency,
        ),
        ("bitrate.svg", "Display bitrate against the link's capacity", "seconds", "kbit/s", &bitrate),
        ("vmaf.svg", "VMAF per frame (what the client showed vs the source)", "seconds", "VMAF", &vmaf),
    ];
    for (file, title, x, y, series) in jobs {
        if series.is_empty() {
            continue;
        }
        let path = dir.join(file);
        line_chart(&path, title, x, y, series)?;
        written.push(path);
    }
    Ok(written)
}
