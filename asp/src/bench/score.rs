//! Scores what the client showed against the source with Netflix VMAF (libvmaf 2.3.1, model
//! vmaf_v0.6.1, through asp-vmaf), and finds when the picture became sharp.

use std::path::Path;

use crate::report::VmafFigures;

/// Per-frame VMAF from which a picture counts as sharp.
pub const SHARP_VMAF: f64 = 90.0;

/// A scored stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Mean, minimum, harmonic mean.
    pub figures: VmafFigures,
    /// VMAF of each frame, in order.
    pub per_frame: Vec<f64>,
    /// From the first frame until VMAF reaches [`SHARP_VMAF`] and stays there; `None` if it
    /// never settles.
    pub time_to_sharp_ms: Option<f64>,
}

/// The time from the first frame until `per_frame` reaches `threshold` and never drops below
/// it again; `None` when the last frame is below it (or there are no frames).
#[must_use]
pub fn time_to_sharp(per_frame: &[f64], fps: u32, threshold: f64) -> Option<f64> {
    let last_blurry = per_frame.iter().rposition(|v| *v < threshold);
    let first_sharp = match last_blurry {
        None if per_frame.is_empty() => return None,
        None => 0,
        Some(i) if i + 1 == per_frame.len() => return None,
        Some(i) => i + 1,
    };
    Some(first_sharp as f64 * 1000.0 / f64::from(fps.max(1)))
}

/// Scores `distorted` against `reference` (Y4M files of the same size and length).
///
/// # Errors
/// What libvmaf or the files answer, or that this build has no VMAF.
#[cfg(feature = "vmaf")]
pub fn score(reference: &Path, distorted: &Path, fps: u32, threads: u32) -> Result<Scored, String> {
    let scores = asp_vmaf::score_y4m(reference, distorted, threads).map_err(|e| e.to_string())?;
    if let Some(m) = scores.length_mismatch {
        return Err(format!("reference has {} frames, the decoded stream {}", m.reference, m.distorted));
    }
    let warm = &scores.per_frame[(fps as usize).min(scores.per_frame.len().saturating_sub(1))..];
    let mean_after_warm_up = if warm.is_empty() { scores.mean } else { warm.iter().sum::<f64>() / warm.len() as f64 };
    Ok(Scored {
        figures: VmafFigures {
            mean: scores.mean,
            min: scores.min,
            harmonic_mean: scores.harmonic_mean,
            mean_after_warm_up,
        },
        time_to_sharp_ms: time_to_sharp(&scores.per_frame, fps, SHARP_VMAF),
        per_frame: scores.per_frame,
    })
}

/// Scores `distorted` against `reference`: this build has no VMAF (feature `vmaf` off).
///
/// # Errors
/// Always: say so plainly rather than report a made-up score.
#[cfg(not(feature = "vmaf"))]
pub fn score(_reference: &Path, _distorted: &Path, _fps: u32, _threads: u32) -> Result<Scored, String> {
    Err("this build has no VMAF scorer (build asp with the `vmaf` feature)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharp_means_reached_and_kept() {
        assert_eq!(time_to_sharp(&[95.0, 96.0], 60, 90.0), Some(0.0));
        assert_eq!(time_to_sharp(&[40.0, 80.0, 91.0, 85.0, 92.0, 93.0], 10, 90.0), Some(400.0));
        assert_eq!(time_to_sharp(&[95.0, 80.0], 60, 90.0), None);
        assert_eq!(time_to_sharp(&[], 60, 90.0), None);
    }
}
