//! Latency distributions with a fixed memory cost, whatever the session's length.

/// Resolution of the histogram, in milliseconds.
const BUCKET_MS: f64 = 0.1;
/// Buckets: 0.1 ms steps up to 5 s; anything longer lands in the last one.
const BUCKETS: usize = 50_000;

/// A histogram of latencies in milliseconds, 0.1 ms resolution up to 5 s (longer values are
/// counted in the last bucket and still reach the mean and the maximum exactly).
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    counts: Vec<u32>,
    total: u64,
    sum_ms: f64,
    max_ms: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

/// The usual summary of a latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

impl LatencyHistogram {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        Self { counts: vec![0; BUCKETS], total: 0, sum_ms: 0.0, max_ms: 0.0 }
    }

    /// Adds one sample (negative values, from clock estimation error, count as 0).
    pub fn record(&mut self, ms: f64) {
        let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
        let bucket = ((ms / BUCKET_MS) as usize).min(BUCKETS - 1);
        self.counts[bucket] = self.counts[bucket].saturating_add(1);
        self.total += 1;
        self.sum_ms += ms;
        self.max_ms = self.max_ms.max(ms);
    }

    /// Number of samples.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value below which a fraction `q` (0..=1) of samples lie (the upper edge of that
    /// bucket, capped at the maximum seen); 0 when empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= rank {
                return if i == BUCKETS - 1 { self.max_ms } else { ((i + 1) as f64 * BUCKET_MS).min(self.max_ms) };
            }
        }
        self.max_ms
    }

    /// Points of the cumulative distribution (value in ms, fraction at or below), one per
    /// non-empty bucket: what a CDF plot draws.
    #[must_use]
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        let mut seen = 0u64;
        let mut points = Vec::new();
        for (i, c) in self.counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            seen += u64::from(*c);
            points.push((((i + 1) as f64 * BUCKET_MS).min(self.max_ms), seen as f64 / self.total as f64));
        }
        points
    }

    /// Mean, percentiles and maximum.
    #[must_use]
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.total,
            mean: if self.total == 0 { 0.0 } else { self.sum_ms / self.total as f64 },
            p50: self.quantile(0.5),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
            max: self.max_ms,
        }
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
        self.sum_ms += other.sum_ms;
        self.max_ms = self.max_ms.max(other.max_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_a_sorted_list_within_a_bucket() {
        let mut h = LatencyHistogram::new();
        let mut samples: Vec<f64> = (0..1000).map(|i| f64::from((i * 7919) % 1000) * 0.37).collect();
        for s in &samples {
            h.record(*s);
        }
        samples.sort_by(f64::total_cmp);
        for q in [0.5, 0.95, 0.99] {
            let exact = samples[(q * 1000.0) as usize - 1];
            assert!((h.quantile(q) - exact).abs() <= BUCKET_MS + 1e-9, "q{q}: {} vs {exact}", h.quantile(q));
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert!((s.mean - samples.iter().sum::<f64>() / 1000.0).abs() < 1e-9);
        assert_eq!(s.max, samples[999]);
        assert_eq!(h.cdf().last().map(|p| p.1), Some(1.0));
    }

    #[test]
    fn extremes_do_not_break_it() {
        let mut h = LatencyHistogram::new();
        assert_eq!(h.summary(), LatencySummary::default());
        h.record(-3.0);
        h.record(f64::NAN);
        h.record(1e9);
        assert_eq!(h.count(), 3);
        assert_eq!(h.quantile(0.5), BUCKET_MS.min(h.summary().max));
        assert_eq!(h.quantile(1.0), 1e9);
    }
}
