//! The offset between the server's clock and the client's, from `TimeProbe` / `TimeEcho`
//! control messages (docs/PROTOCOL.md §6): NTP's estimate, keeping the sample with the
//! smallest round trip among the last few, since queueing only ever adds delay.

use std::collections::VecDeque;

/// Samples kept.
const WINDOW: usize = 16;

/// One probe's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    rtt_us: u64,
    offset_us: i64,
}

/// Estimates `server clock - client clock`.
#[derive(Debug, Clone, Default)]
pub struct ClockSync {
    samples: VecDeque<Sample>,
}

impl ClockSync {
    /// No estimate yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes an echo: the probe left at `probe_us` and came back at `now_us` (client clock),
    /// and the server stamped it `server_us`. Echoes from the future are ignored.
    pub fn on_echo(&mut self, probe_us: u64, server_us: u64, now_us: u64) {
        let Some(rtt_us) = now_us.checked_sub(probe_us) else { return };
        let midpoint = i128::from(probe_us) + i128::from(rtt_us / 2);
        let offset = i128::from(server_us) - midpoint;
        let Ok(offset_us) = i64::try_from(offset) else { return };
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample { rtt_us, offset_us });
    }

    /// `server clock - client clock` in µs, and the estimate's error bound (half the round
    /// trip of the sample used); `None` before the first echo.
    #[must_use]
    pub fn offset(&self) -> Option<(i64, u64)> {
        self.samples.iter().min_by_key(|s| s.rtt_us).map(|s| (s.offset_us, s.rtt_us / 2))
    }

    /// A client instant in µs, on the server's clock.
    #[must_use]
    pub fn to_server(&self, client_us: u64) -> Option<u64> {
        let (offset, _) = self.offset()?;
        u64::try_from(i128::from(client_us) + i128::from(offset)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_offset_through_asymmetric_queueing() {
        // The server's clock is 5 s ahead; the path is 10 ms each way, plus queueing on some
        // probes.
        let offset = 5_000_000i64;
        let mut sync = ClockSync::new();
        for (i, queued) in [30_000u64, 0, 12_000, 45_000].into_iter().enumerate() {
            let t0 = 1_000_000 * i as u64;
            let server = (t0 as i64 + 10_000 + queued as i64 + offset) as u64;
            let t2 = t0 + 20_000 + queued;
            sync.on_echo(t0, server, t2);
        }
        assert_eq!(sync.offset(), Some((offset, 10_000)));
        assert_eq!(sync.to_server(1_000), Some(5_001_000));
    }

    #[test]
    fn ignores_nonsense() {
        let mut sync = ClockSync::new();
        sync.on_echo(100, 5, 50);
        assert_eq!(sync.offset(), None);
        sync.on_echo(0, u64::MAX, 10);
        assert_eq!(sync.offset(), None);
    }
}
