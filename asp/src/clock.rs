//! The facade's clock: microseconds since a process-local epoch. This is where the pipelines
//! read wall-clock time (asp-core takes time as an argument and never reads it).
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

/// A monotonic clock counting µs from its creation.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock starting now.
    #[must_use]
    pub fn new() -> Self {
        Self { epoch: Instant::now() }
    }

    /// µs since the epoch.
    #[must_use]
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Sleeps until `at_us` on this clock (returns at once if that has passed).
    pub fn sleep_until(&self, at_us: u64) {
        let now = self.now_us();
        if at_us > now {
            std::thread::sleep(Duration::from_micros(at_us - now));
        }
    }
}
