//! A simulated one-way link in virtual time: a bottleneck with a rate and a finite drop-tail
//! queue, then propagation delay with jitter, random and burst (Gilbert-Elliott) loss,
//! duplication, reordering and an MTU. Seeded: the same seed drops the same packets.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::time::{Timestamp, duration_micros};

/// Two-state burst loss (Gilbert-Elliott): in the bad state packets are lost with
/// `loss_in_bad`; each packet moves good->bad with `enter_bad` and bad->good with `leave_bad`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstLoss {
    /// Probability per packet of entering the bad state.
    pub enter_bad: f64,
    /// Probability per packet of leaving it.
    pub leave_bad: f64,
    /// Loss probability while bad.
    pub loss_in_bad: f64,
}

impl BurstLoss {
    /// Long-run loss rate.
    #[must_use]
    pub fn mean_loss(&self) -> f64 {
        let bad_share = self.enter_bad / (self.enter_bad + self.leave_bad);
        bad_share * self.loss_in_bad
    }
}

/// What a link does to the packets it carries. The same description drives the real-socket
/// impairment relay of asp-transport.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkProfile {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per packet; order is kept unless
    /// `reorder` says otherwise.
    pub jitter: Duration,
    /// Independent random loss probability.
    pub loss: f64,
    /// Burst loss on top of `loss`.
    pub burst: Option<BurstLoss>,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_delay`, letting later ones pass.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Bottleneck rate, bits per second; `None` for unlimited.
    pub rate_bps: Option<u64>,
    /// Bottleneck queue, bytes; packets that do not fit are dropped.
    pub queue_bytes: usize,
    /// Largest datagram carried; larger ones are dropped.
    pub mtu: usize,
}

impl Default for LinkProfile {
    fn default() -> Self {
        LinkProfile {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(5),
            rate_bps: None,
            queue_bytes: 256 << 10,
            mtu: 1500,
        }
    }
}

impl LinkProfile {
    /// A link with this delay and rate and nothing else.
    #[must_use]
    pub fn with_rate(delay: Duration, rate_bps: u64) -> Self {
        LinkProfile { delay, rate_bps: Some(rate_bps), ..LinkProfile::default() }
    }

    /// Time to serialize `bytes` at the bottleneck.
    #[must_use]
    pub fn serialization(&self, bytes: usize) -> Duration {
        match self.rate_bps {
            Some(rate) => Duration::from_nanos((bytes as u64 * 8).saturating_mul(1_000_000_000) / rate.max(1)),
            None => Duration::ZERO,
        }
    }
}

/// What a link did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams offered.
    pub offered: u64,
    /// Datagrams delivered (duplicates included).
    pub delivered: u64,
    /// Bytes delivered.
    pub delivered_bytes: u64,
    /// Dropped by random or burst loss.
    pub lost: u64,
    /// Dropped because the queue was full.
    pub queue_drops: u64,
    /// Dropped for exceeding the MTU.
    pub mtu_drops: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Held back to reorder.
    pub reordered: u64,
    /// Longest a packet waited in the bottleneck queue.
    pub max_queue_delay: Duration,
}

/// A packet in flight; ordered by arrival time and a counter only, never by its contents.
#[derive(Debug)]
struct InFlight<T>(Timestamp, u64, usize, T);

impl<T> PartialEq for InFlight<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl<T> Eq for InFlight<T> {}
impl<T> PartialOrd for InFlight<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for InFlight<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

/// One direction of a simulated path, carrying datagrams (or, for shared-bottleneck
/// simulations, any item with a size).
#[derive(Debug)]
pub struct Link<T = Bytes> {
    profile: LinkProfile,
    rng: Pcg64Mcg,
    in_flight: BinaryHeap<Reverse<InFlight<T>>>,
    counter: u64,
    busy_until: Timestamp,
    last_arrival: Timestamp,
    burst_bad: bool,
    stats: LinkStats,
    /// Time each packet waited in the bottleneck queue, microseconds, when recording.
    queue_delays: Option<Vec<u32>>,
}

impl Link<Bytes> {
    /// Offers a datagram to the link.
    pub fn send(&mut self, now: Timestamp, datagram: Bytes) {
        let size = datagram.len();
        self.send_sized(now, size, datagram);
    }
}

impl<T: Clone> Link<T> {
    /// A link with a profile and a seed.
    #[must_use]
    pub fn new(profile: LinkProfile, seed: u64) -> Self {
        Link {
            profile,
            rng: Pcg64Mcg::seed_from_u64(seed),
            in_flight: BinaryHeap::new(),
            counter: 0,
            busy_until: Timestamp::ZERO,
            last_arrival: Timestamp::ZERO,
            burst_bad: false,
            stats: LinkStats::default(),
            queue_delays: None,
        }
    }

    /// Starts recording the queuing delay of every packet that enters the queue.
    pub fn record_queue_delays(&mut self) {
        self.queue_delays.get_or_insert_with(Vec::new);
    }

    /// Queuing delays recorded so far, microseconds.
    #[must_use]
    pub fn queue_delays(&self) -> &[u32] {
        self.queue_delays.as_deref().unwrap_or(&[])
    }

    /// Changes the profile; packets already in flight keep their timing.
    pub fn set_profile(&mut self, profile: LinkProfile) {
        self.profile = profile;
    }

    /// The current profile.
    #[must_use]
    pub fn profile(&self) -> &LinkProfile {
        &self.profile
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Bytes waiting in the bottleneck queue at `now`.
    #[must_use]
    pub fn queued_bytes(&self, now: Timestamp) -> usize {
        match self.profile.rate_bps {
            Some(rate) => (duration_micros(self.busy_until.saturating_since(now)) * rate / 8_000_000) as usize,
            None => 0,
        }
    }

    /// Offers an item of `size` bytes to the link.
    pub fn send_sized(&mut self, now: Timestamp, size: usize, item: T) {
        self.stats.offered += 1;
        let p = &self.profile;
        if size > p.mtu {
            self.stats.mtu_drops += 1;
            return;
        }
        if self.queued_bytes(now) + size > p.queue_bytes {
            self.stats.queue_drops += 1;
            return;
        }
        let start = self.busy_until.max(now);
        let done = start + p.serialization(size);
        self.busy_until = done;
        let waited = start.saturating_since(now);
        self.stats.max_queue_delay = self.stats.max_queue_delay.max(waited);
        if let Some(samples) = &mut self.queue_delays {
            samples.push(u32::try_from(waited.as_micros()).unwrap_or(u32::MAX));
        }
        if self.lose() {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.rng.random_bool(self.profile.duplicate.clamp(0.0, 1.0)) { 2 } else { 1 };
        for copy in 0..copies {
            let mut arrival = done + self.profile.delay + self.jitter();
            if self.rng.random_bool(self.profile.reorder.clamp(0.0, 1.0)) {
                arrival += self.profile.reorder_delay;
                self.stats.reordered += 1;
            } else {
                // Jitter alone does not reorder, as on a real queue.
                arrival = arrival.max(self.last_arrival);
                self.last_arrival = arrival;
            }
            if copy == 1 {
                self.stats.duplicated += 1;
            }
            self.counter += 1;
            self.in_flight.push(Reverse(InFlight(arrival, self.counter, size, item.clone())));
        }
    }

    fn lose(&mut self) -> bool {
        if let Some(b) = self.profile.burst {
            let flip = if self.burst_bad { b.leave_bad } else { b.enter_bad };
            if self.rng.random_bool(flip.clamp(0.0, 1.0)) {
                self.burst_bad = !self.burst_bad;
            }
            if self.burst_bad && self.rng.random_bool(b.loss_in_bad.clamp(0.0, 1.0)) {
                return true;
            }
        }
        self.rng.random_bool(self.profile.loss.clamp(0.0, 1.0))
    }

    fn jitter(&mut self) -> Duration {
        let max = duration_micros(self.profile.jitter);
        if max == 0 { Duration::ZERO } else { Duration::from_micros(self.rng.random_range(0..=max)) }
    }

    /// When the next datagram arrives, if any is in flight.
    #[must_use]
    pub fn next_arrival(&self) -> Option<Timestamp> {
        self.in_flight.peek().map(|Reverse(InFlight(t, ..))| *t)
    }

    /// The next item that has arrived by `now`.
    pub fn receive(&mut self, now: Timestamp) -> Option<T> {
        if self.next_arrival()? > now {
            return None;
        }
        let Reverse(InFlight(_, _, size, item)) = self.in_flight.pop()?;
        self.stats.delivered += 1;
        self.stats.delivered_bytes += size as u64;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_delay_shape_arrivals() {
        let mut link = Link::new(LinkProfile::with_rate(Duration::from_millis(10), 8_000_000), 1);
        let now = Timestamp::ZERO;
        for _ in 0..3 {
            link.send(now, Bytes::from(vec![0u8; 1000]));
        }
        // 1000 bytes at 1 byte/us: 1 ms each, then 10 ms of delay.
        let arrivals: Vec<_> = std::iter::from_fn(|| {
            let t = link.next_arrival()?;
            link.receive(t).map(|_| t)
        })
        .collect();
        assert_eq!(arrivals, vec![Timestamp::from_millis(11), Timestamp::from_millis(12), Timestamp::from_millis(13)]);
    }

    #[test]
    fn loss_rates_follow_the_profile() {
        let profile = LinkProfile {
            loss: 0.1,
            burst: Some(BurstLoss { enter_bad: 0.01, leave_bad: 0.2, loss_in_bad: 0.5 }),
            ..LinkProfile::default()
        };
        let expected = 0.1 + 0.9 * profile.burst.unwrap().mean_loss();
        let mut link = Link::new(profile, 7);
        let n = 100_000;
        for i in 0..n {
            link.send(Timestamp::from_micros(i * 100), Bytes::from_static(b"x"));
        }
        let rate = link.stats().lost as f64 / n as f64;
        assert!((rate - expected).abs() < 0.01, "{rate} vs {expected}");
    }

    #[test]
    fn full_queue_drops_tail() {
        let profile = LinkProfile { queue_bytes: 3000, ..LinkProfile::with_rate(Duration::ZERO, 1_000_000) };
        let mut link = Link::new(profile, 1);
        for _ in 0..10 {
            link.send(Timestamp::ZERO, Bytes::from(vec![0u8; 1000]));
        }
        assert_eq!(link.stats().queue_drops, 7);
    }
}
