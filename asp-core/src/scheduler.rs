//! Chooses which channel's data goes into the packet being built: strict priority between
//! classes, weighted fair queuing inside a class, and a guaranteed minimum share for the bulk
//! class so that USB and clipboard never starve behind display.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::channel::PriorityClass;
use crate::send_channel::SendChannel;
use crate::time::Timestamp;

/// Scheduler settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerConfig {
    /// Share of the target rate that the bulk class (3) gets ahead of audio and display
    /// whenever it has data, 0.0..=0.5.
    pub bulk_min_share: f64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig { bulk_min_share: 0.1 }
    }
}

/// See `refill_bulk`.
const BULK_HEADER_MARGIN: f64 = 1.06;

/// Weighted-fair-queuing scale: virtual time advances by bytes * SCALE / weight.
const WFQ_SCALE: u64 = 1000;

#[derive(Debug)]
pub(crate) struct Scheduler {
    pub(crate) channels: BTreeMap<u32, SendChannel>,
    config: SchedulerConfig,
    /// Virtual time of the last channel served, per class.
    class_clock: [u64; PriorityClass::COUNT],
    bulk_tokens: f64,
    bulk_capacity: f64,
    bulk_updated: Timestamp,
}

impl Scheduler {
    pub(crate) fn new(config: SchedulerConfig, mtu: usize, now: Timestamp) -> Self {
        let capacity = 4.0 * mtu as f64;
        Scheduler {
            channels: BTreeMap::new(),
            config,
            class_clock: [0; PriorityClass::COUNT],
            bulk_tokens: capacity,
            bulk_capacity: capacity,
            bulk_updated: now,
        }
    }

    fn refill_bulk(&mut self, now: Timestamp, rate_bps: u64) {
        let elapsed = now.saturating_since(self.bulk_updated);
        self.bulk_updated = now.max(self.bulk_updated);
        // The bucket counts frame bytes; packet headers, timestamps and acknowledgements ride
        // along uncounted, so a little margin keeps bulk's payload at or above its share.
        let earned = elapsed.as_secs_f64() * rate_bps as f64 / 8.0 * self.config.bulk_min_share * BULK_HEADER_MARGIN;
        self.bulk_tokens = (self.bulk_tokens + earned).min(self.bulk_capacity);
    }

    /// The channel to serve next. Class 0 is served ahead of the pacer while `borrow_open`
    /// (it borrows, within a cap); the other classes only when `paced_open`.
    pub(crate) fn pick(&mut self, now: Timestamp, rate_bps: u64, paced_open: bool, borrow_open: bool) -> Option<u32> {
        if borrow_open {
            // Control goes strictly first: a channel's OpenChannel must precede its data.
            if self.channels.get(&0).is_some_and(SendChannel::ready) {
                return Some(0);
            }
            if let Some(id) = self.pick_in_class(0) {
                return Some(id);
            }
        }
        if !paced_open {
            return None;
        }
        self.refill_bulk(now, rate_bps);
        if self.bulk_tokens > 0.0
            && let Some(id) = self.pick_in_class(PriorityClass::BULK.index())
        {
            return Some(id);
        }
        (1..PriorityClass::COUNT).find_map(|class| self.pick_in_class(class))
    }

    fn pick_in_class(&mut self, class: usize) -> Option<u32> {
        let clock = self.class_clock[class];
        let best = self
            .channels
            .values_mut()
            .filter(|c| c.config.class.index() == class && c.ready())
            .map(|c| {
                // A channel back from idle starts at the class clock: no credit for silence.
                c.virtual_time = c.virtual_time.max(clock);
                (c.virtual_time, c.id)
            })
            .min()?;
        self.class_clock[class] = best.0;
        Some(best.1)
    }

    /// Accounts `bytes` sent on channel `id`.
    pub(crate) fn on_sent(&mut self, id: u32, bytes: usize) {
        if let Some(c) = self.channels.get_mut(&id) {
            c.virtual_time += bytes as u64 * WFQ_SCALE / u64::from(c.config.weight.max(1));
            if c.config.class == PriorityClass::BULK {
                self.bulk_tokens -= bytes as f64;
            }
        }
    }

    /// Drops expired media frames in every channel.
    pub(crate) fn expire(&mut self, now: Timestamp, one_way: Duration, rate_bps: u64) {
        // Media classes get what bulk's guarantee leaves, when bulk wants it.
        let bulk_busy = self.channels.values().any(|c| c.config.class == PriorityClass::BULK && c.ready());
        let share = if bulk_busy { 1.0 - self.config.bulk_min_share } else { 1.0 };
        let media_rate = (rate_bps as f64 * share) as u64;
        for c in self.channels.values_mut() {
            c.expire(now, one_way, media_rate);
        }
    }

    /// Whether a class-0 channel has data ready.
    pub(crate) fn class0_ready(&self) -> bool {
        self.channels.values().any(|c| c.config.class.index() == 0 && c.ready())
    }

    /// Whether any channel other than class 0 has data ready.
    pub(crate) fn paced_backlog(&self) -> bool {
        self.channels.values().any(|c| c.config.class.index() > 0 && c.ready())
    }
}
