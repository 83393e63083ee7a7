//! The peer's clock as seen from here: media deadlines arrive in the sender's clock and are
//! turned into local time with the smallest observed (arrival - send timestamp) offset, less
//! half the minimum RTT (the path's base one-way delay, assuming a symmetric path).

use std::time::Duration;

use crate::time::{Timestamp, duration_micros};

/// How much earlier than the mapped deadline the receiver gives up on a frame.
pub(crate) const DEADLINE_MARGIN: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PeerClock {
    /// Smallest (local arrival - remote send), microseconds; includes the base one-way delay.
    min_delta: Option<i64>,
}

impl PeerClock {
    pub(crate) fn observe(&mut self, now: Timestamp, remote_micros: u64) {
        let delta = (now.as_micros() as i64).wrapping_sub(remote_micros as i64);
        self.min_delta = Some(self.min_delta.map_or(delta, |m| m.min(delta)));
    }

    /// A remote deadline in local time, or `None` before the first timestamp. It errs early by
    /// a margin: the mapping is an estimate (path asymmetry, packet sizes), and a deadline
    /// honoured a little early is kept, one honoured late is broken.
    pub(crate) fn to_local(self, remote_micros: u64, min_rtt: Duration) -> Option<Timestamp> {
        let offset = self
            .min_delta?
            .saturating_sub((duration_micros(min_rtt) / 2) as i64)
            .saturating_sub(duration_micros(DEADLINE_MARGIN) as i64);
        let local = (remote_micros as i64).saturating_add(offset);
        Some(Timestamp::from_micros(local.max(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_remote_deadlines_with_base_delay_removed() {
        let mut c = PeerClock::default();
        // Remote clock runs 1 s ahead; one-way delay 20 ms, then 25 ms (queueing).
        c.observe(Timestamp::from_millis(20), 1_000_000);
        c.observe(Timestamp::from_millis(125), 1_100_000);
        let local = c.to_local(1_200_000, Duration::from_millis(40)).unwrap();
        assert_eq!(local, Timestamp::from_millis(200) - DEADLINE_MARGIN);
    }
}
