//! A token-bucket pacer: packets leave at the target rate with at most a small burst, so the
//! queue forms in the scheduler (where priorities apply) rather than in the network.

use std::time::Duration;

use crate::time::Timestamp;

/// Paces bytes at a rate. Tokens may go negative: interactive traffic is never held back by
/// the pacer, it borrows, and the media behind it waits for the debt to be repaid.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    rate_bps: u64,
    burst_bytes: i64,
    tokens: i64,
    updated: Timestamp,
}

impl Pacer {
    pub(crate) fn new(rate_bps: u64, burst_bytes: usize, now: Timestamp) -> Self {
        let burst_bytes = i64::try_from(burst_bytes).unwrap_or(i64::MAX);
        Pacer { rate_bps: rate_bps.max(1), burst_bytes, tokens: burst_bytes, updated: now }
    }

    pub(crate) fn rate_bps(&self) -> u64 {
        self.rate_bps
    }

    pub(crate) fn set_rate(&mut self, rate_bps: u64, now: Timestamp) {
        self.refill(now);
        self.rate_bps = rate_bps.max(1);
    }

    fn refill(&mut self, now: Timestamp) {
        let elapsed = now.saturating_since(self.updated);
        let earned = (elapsed.as_micros() * u128::from(self.rate_bps) / 8_000_000) as i64;
        if earned > 0 {
            self.tokens = self.tokens.saturating_add(earned).min(self.burst_bytes);
            // Keep the remainder of a partial byte by advancing only by the time it bought.
            let used = Duration::from_micros((earned as u64).saturating_mul(8_000_000) / self.rate_bps);
            self.updated = if self.tokens == self.burst_bytes { now } else { self.updated + used };
        }
    }

    /// Whether a packet may leave now.
    pub(crate) fn can_send(&mut self, now: Timestamp) -> bool {
        self.refill(now);
        self.tokens > 0
    }

    /// Whether interactive traffic may still borrow: its debt is capped at `max_debt` bytes,
    /// so that even a flood of class-0 messages cannot push the link past its rate.
    pub(crate) fn can_borrow(&mut self, now: Timestamp, max_debt: usize) -> bool {
        self.refill(now);
        self.tokens > -(max_debt as i64)
    }

    /// When interactive traffic may borrow again.
    pub(crate) fn next_borrow_time(&self, max_debt: usize) -> Timestamp {
        let floor = -(max_debt as i64);
        if self.tokens > floor {
            return self.updated;
        }
        let deficit = (floor + 1 - self.tokens) as u64;
        self.updated + Duration::from_micros(deficit.saturating_mul(8_000_000).div_ceil(self.rate_bps))
    }

    /// Charges a packet that left.
    pub(crate) fn on_sent(&mut self, bytes: usize, now: Timestamp) {
        self.refill(now);
        self.tokens = self.tokens.saturating_sub(bytes as i64);
    }

    /// When the next packet may leave, if not now.
    pub(crate) fn next_send_time(&self) -> Timestamp {
        if self.tokens > 0 {
            return self.updated;
        }
        let deficit = (1 - self.tokens) as u64;
        self.updated + Duration::from_micros(deficit.saturating_mul(8_000_000).div_ceil(self.rate_bps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_run_rate_matches_target() {
        let mut now = Timestamp::ZERO;
        let mut pacer = Pacer::new(10_000_000, 2400, now);
        let mut sent = 0u64;
        while now < Timestamp::from_millis(1000) {
            if pacer.can_send(now) {
                pacer.on_sent(1200, now);
                sent += 1200;
            } else {
                now = pacer.next_send_time();
            }
        }
        let rate = sent * 8;
        assert!((9_900_000..=10_100_000).contains(&rate), "{rate}");
    }

    #[test]
    fn borrowing_delays_what_follows() {
        let now = Timestamp::ZERO;
        let mut pacer = Pacer::new(8_000_000, 1000, now);
        pacer.on_sent(3000, now);
        assert!(!pacer.can_send(now));
        // 2001 bytes of debt at 1 byte/us.
        assert_eq!(pacer.next_send_time(), Timestamp::from_micros(2001));
    }
}
