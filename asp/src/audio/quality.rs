//! How faithfully audio crossed: the delay at which a received signal best matches its
//! reference (normalised cross-correlation), and the signal-to-noise ratio once aligned. What
//! the tests and benches measure a link's audio with.

/// Samples compared when aligning (100 ms of 48 kHz mono).
pub const ALIGN_WINDOW: usize = 4800;

/// The lag (0..=`max_lag` samples) at which `received` best matches `reference`, judged over
/// [`ALIGN_WINDOW`] samples from `from`. Slices too short for a lag rule it out.
#[must_use]
pub fn align(reference: &[i16], received: &[i16], from: usize, max_lag: usize) -> usize {
    let Some(r) = reference.get(from..from + ALIGN_WINDOW) else { return 0 };
    let energy_r: f64 = r.iter().map(|&x| f64::from(x).powi(2)).sum();
    let score = |lag: usize| {
        let Some(s) = received.get(from + lag..from + lag + ALIGN_WINDOW) else { return f64::MIN };
        let dot: f64 = r.iter().zip(s).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
        let energy_s: f64 = s.iter().map(|&y| f64::from(y).powi(2)).sum();
        dot / (energy_r * energy_s).sqrt().max(1.0)
    };
    (0..=max_lag).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap_or(0)
}

/// SNR in dB of `received` (shifted by `lag`) against `reference`, over `range` of the
/// reference (clipped to what both hold).
#[must_use]
pub fn snr_db(reference: &[i16], received: &[i16], lag: usize, range: std::ops::Range<usize>) -> f64 {
    let (mut signal, mut noise) = (0.0, 0.0);
    for i in range {
        let (Some(&x), Some(&y)) = (reference.get(i), received.get(i + lag)) else { break };
        let (x, y) = (f64::from(x), f64::from(y));
        signal += x * x;
        noise += (y - x) * (y - x);
    }
    10.0 * (signal / f64::max(noise, 1.0)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_delay_and_scores_noise() {
        let reference: Vec<i16> =
            (0..48_000).map(|i| ((i as f64 * 0.05).sin() * 8000.0 + (i % 7) as f64 * 300.0) as i16).collect();
        let delayed: Vec<i16> = std::iter::repeat_n(0, 333).chain(reference.iter().copied()).collect();
        assert_eq!(align(&reference, &delayed, 10_000, 1000), 333);
        assert!(snr_db(&reference, &delayed, 333, 10_000..40_000) > 90.0);
        let noisy: Vec<i16> =
            delayed.iter().enumerate().map(|(i, &x)| x.saturating_add(if i % 2 == 0 { 800 } else { -800 })).collect();
        let snr = snr_db(&reference, &noisy, 333, 10_000..40_000);
        assert!((10.0..25.0).contains(&snr), "{snr}");
    }
}
