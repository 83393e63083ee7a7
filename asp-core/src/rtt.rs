//! Round-trip time estimation as in RFC 9002 §5: latest, minimum, smoothed and variation.

use std::time::Duration;

/// RTT estimates of one session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RttEstimator {
    latest: Duration,
    smoothed: Option<Duration>,
    var: Duration,
    min: Duration,
    initial: Duration,
}

impl RttEstimator {
    pub(crate) fn new(initial: Duration) -> Self {
        RttEstimator { latest: initial, smoothed: None, var: initial / 2, min: initial, initial }
    }

    /// Feeds one sample: the time from sending a packet to receiving its acknowledgement, and
    /// the delay the peer says it held the acknowledgement.
    pub(crate) fn update(&mut self, sample: Duration, ack_delay: Duration) {
        self.latest = sample;
        if self.smoothed.is_none() {
            self.min = sample;
            self.smoothed = Some(sample);
            self.var = sample / 2;
            return;
        }
        self.min = self.min.min(sample);
        // Only subtract the peer's delay when the result stays above the minimum (RFC 9002).
        let adjusted = if sample >= self.min + ack_delay { sample - ack_delay } else { sample };
        let smoothed = self.smoothed.unwrap_or(adjusted);
        let diff = smoothed.abs_diff(adjusted);
        self.var = (3 * self.var + diff) / 4;
        self.smoothed = Some((7 * smoothed + adjusted) / 8);
    }

    /// Smoothed RTT, or the configured initial RTT before the first sample.
    pub(crate) fn get(&self) -> Duration {
        self.smoothed.unwrap_or(self.initial)
    }

    pub(crate) fn min(&self) -> Duration {
        self.min
    }

    pub(crate) fn latest(&self) -> Duration {
        self.latest
    }

    pub(crate) fn var(&self) -> Duration {
        self.var
    }

    /// Probe timeout before back-off: smoothed + max(4 * var, 1 ms) + the peer's ack delay.
    pub(crate) fn pto_base(&self, max_ack_delay: Duration) -> Duration {
        self.get() + (4 * self.var).max(Duration::from_millis(1)) + max_ack_delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_to_a_steady_path() {
        let mut rtt = RttEstimator::new(Duration::from_millis(100));
        rtt.update(Duration::from_millis(30), Duration::ZERO);
        for _ in 0..100 {
            rtt.update(Duration::from_millis(40), Duration::from_millis(2));
        }
        // The peer's ack delay is taken off samples that stay above the minimum.
        assert!(rtt.get().abs_diff(Duration::from_millis(38)) < Duration::from_millis(1), "{:?}", rtt.get());
        assert_eq!(rtt.min(), Duration::from_millis(30));
        // A sample that would fall below the minimum keeps its ack delay.
        let mut rtt = RttEstimator::new(Duration::from_millis(100));
        for _ in 0..100 {
            rtt.update(Duration::from_millis(40), Duration::from_millis(2));
        }
        assert_eq!(rtt.get(), Duration::from_millis(40));
    }
}
