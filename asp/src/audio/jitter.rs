//! The receiver's adaptive jitter buffer.
//!
//! Packets go in as they arrive ([`JitterBuffer::insert`]): in any order, duplicated, late,
//! keyed by their frame sequence number. The audio device pulls one frame per tick
//! ([`JitterBuffer::pop`], every 20 ms of its own clock), and gets the next frame's packet, or
//! word that it is missing so that the decoder conceals it: from the next packet's in-band FEC
//! when [`JitterBuffer::peek_next`] has it, by loss concealment otherwise.
//!
//! **Delay.** A packet's *transit* is its arrival time minus its capture time (two clocks:
//! the offset between them is unknown and does not matter). The smallest transit over the last
//! [`window`](JitterConfig::window) arrivals is the fastest path through the network; a
//! packet's *deviation* is how much slower it was. The *target* delay is a high percentile of
//! the deviations ([`percentile_permille`](JitterConfig::percentile_permille)), clamped to
//! [`min_delay_us`](JitterConfig::min_delay_us)..=[`max_delay_us`](JitterConfig::max_delay_us):
//! a packet is on time when its deviation is within the delay the playout keeps, so about
//! that share of packets is. Until a few packets have arrived the target is
//! [`initial_delay_us`](JitterConfig::initial_delay_us).
//!
//! **Adaptation.** Frame `s` is played `delay` after `capture(s) + fastest transit`. Playout
//! starts when the first packet has waited the target. From then on, at each tick: if the
//! delay is below the target, the tick plays a concealed frame without consuming a sequence
//! number ([`Playout::Stretch`], the delay grows by a frame); if it is more than a frame and a
//! half above, the next frame is skipped (the delay shrinks by a frame). Between the two it
//! plays frames in order, so a steady network sees no adaptation at all, and the delay stays
//! within `[target, target + 1.5 frames]`.
//!
//! **Bounds.** At most [`capacity`](JitterConfig::capacity) packets are held, all within
//! `capacity` frames after the next one to play; a packet outside that window is a *stray*
//! and dropped, and three strays in a row (the sender restarted its sequence) start the buffer
//! afresh. Memory is fixed by the configuration, whatever arrives.
//!
//! Time is always passed in (µs on the receiver's clock), never read.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Arrivals before the target follows the measured jitter rather than the initial delay.
const WARMUP: usize = 20;
/// Strays in a row that make the buffer start afresh.
const STRAYS_TO_RESYNC: u32 = 3;

/// How the buffer adapts. [`Default`]: 20 ms frames, 10..=200 ms, 40 ms to start, the 98th
/// percentile of the last 250 arrivals (5 s), at most 32 packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Duration of one frame, µs: the playout tick (2 500..=120 000).
    pub frame_us: u64,
    /// Smallest target delay, µs.
    pub min_delay_us: u64,
    /// Largest target delay, µs (at most 2 s).
    pub max_delay_us: u64,
    /// Target until the first 20 arrivals have been measured, µs (within min..=max).
    pub initial_delay_us: u64,
    /// Which percentile of the deviations the target covers, per mille (500..=1000).
    pub percentile_permille: u16,
    /// Arrivals the statistics cover (1..=10 000).
    pub window: usize,
    /// Most packets held, and the span of sequence numbers accepted ahead of the next frame
    /// (at least `max_delay_us / frame_us + 3`, at most 1024).
    pub capacity: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            frame_us: 20_000,
            min_delay_us: 10_000,
            max_delay_us: 200_000,
            initial_delay_us: 40_000,
            percentile_permille: 980,
            window: 250,
            capacity: 32,
        }
    }
}

/// A [`JitterConfig`] field out of its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("jitter buffer {field} = {actual} is outside {min}..={max}")]
pub struct InvalidJitterConfig {
    /// The field.
    pub field: &'static str,
    /// Its value.
    pub actual: u64,
    /// Smallest allowed.
    pub min: u64,
    /// Largest allowed.
    pub max: u64,
}

impl JitterConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`InvalidJitterConfig`] names the first field out of range.
    pub fn validate(&self) -> Result<(), InvalidJitterConfig> {
        let check = |field, actual: u64, min: u64, max: u64| {
            if (min..=max).contains(&actual) { Ok(()) } else { Err(InvalidJitterConfig { field, actual, min, max }) }
        };
        check("frame_us", self.frame_us, 2_500, 120_000)?;
        check("max_delay_us", self.max_delay_us, 0, 2_000_000)?;
        check("min_delay_us", self.min_delay_us, 0, self.max_delay_us)?;
        check("initial_delay_us", self.initial_delay_us, self.min_delay_us, self.max_delay_us)?;
        check("percentile_permille", self.percentile_permille.into(), 500, 1000)?;
        check("window", self.window as u64, 1, 10_000)?;
        check("capacity", self.capacity as u64, self.max_delay_us / self.frame_us + 3, 1024)
    }
}

/// What the buffer needs to know of a packet besides its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInfo {
    /// The frame's sequence number (wraps).
    pub seq: u32,
    /// When the frame was captured, µs on the sender's clock.
    pub capture_us: u64,
    /// The sender sent nothing for the frames just before this one (silence).
    pub resume: bool,
}

/// What [`JitterBuffer::insert`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Held until its frame is played.
    Accepted,
    /// A copy of a packet already received: dropped.
    Duplicate,
    /// Its frame was already played or concealed: dropped.
    Late,
    /// Far outside the window of frames the buffer plays next: dropped (three in a row
    /// start the buffer afresh, with the third one accepted).
    Stray,
}

/// What to play at a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Playout<T> {
    /// Playout has not started (nothing received yet, or the first packet is still waiting
    /// out the target delay): play silence. Nothing was lost.
    Waiting,
    /// The next frame: decode it.
    Frame {
        /// Its sequence number.
        seq: u32,
        /// When it was captured, µs on the sender's clock.
        capture_us: u64,
        /// Its packet.
        item: T,
    },
    /// The next frame did not arrive in time: conceal it (using [`JitterBuffer::peek_next`]'s
    /// FEC when there is a next packet).
    Missing {
        /// Its sequence number.
        seq: u32,
        /// The sender sent nothing for it (silence after [`PacketInfo::resume`]), it was not
        /// lost.
        silence: bool,
    },
    /// The delay is below the target: play one concealed frame more, without consuming a
    /// frame.
    Stretch,
}

/// Counters of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets accepted.
    pub received: u64,
    /// Frames played from their packet.
    pub played: u64,
    /// Frames missing at their tick (lost or late), to conceal.
    pub concealed: u64,
    /// Frames missing because the sender sent nothing (silence), also concealed.
    pub silent: u64,
    /// Extra concealed frames played to grow the delay.
    pub stretched: u64,
    /// Frames skipped to shrink the delay (their packet, if held, dropped).
    pub skipped: u64,
    /// Packets dropped because their frame had been played or concealed.
    pub late: u64,
    /// Copies of packets already received.
    pub duplicates: u64,
    /// Packets outside the window.
    pub strays: u64,
    /// Times the buffer started afresh.
    pub resyncs: u64,
    /// Ticks before playout started.
    pub waiting: u64,
    /// Packets held now.
    pub buffered: usize,
    /// Most packets ever held.
    pub max_buffered: usize,
    /// The target delay now, µs.
    pub target_us: u64,
}

/// The adaptive jitter buffer; `T` is the packet (for the receiver, the Opus payload). See
/// the [module documentation](self).
#[derive(Debug)]
pub struct JitterBuffer<T> {
    config: JitterConfig,
    /// Held packets by extended sequence number: capture time and packet.
    slots: BTreeMap<i64, (u64, T)>,
    /// The next frame to play; before playout starts, the lowest held.
    next: Option<i64>,
    playing: bool,
    /// Sequence numbers received, from `next - capacity` on (to tell duplicates from late).
    seen: BTreeSet<i64>,
    /// The newest frame received and its capture time.
    anchor: Option<(i64, u64)>,
    /// Frames concealed after `anchor`: silence, not loss, if the next packet says `resume`.
    concealed_after_anchor: u64,
    /// Frames in this range were not sent.
    silence: Option<(i64, i64)>,
    transits: VecDeque<i64>,
    sorted: Vec<i64>,
    /// Smallest transit in the window, µs.
    base_transit: i64,
    strays_in_a_row: u32,
    stats: JitterStats,
}

impl<T> JitterBuffer<T> {
    /// An empty buffer.
    ///
    /// # Errors
    /// [`InvalidJitterConfig`] if the configuration is out of range.
    pub fn new(config: JitterConfig) -> Result<Self, InvalidJitterConfig> {
        config.validate()?;
        Ok(Self {
            config,
            slots: BTreeMap::new(),
            next: None,
            playing: false,
            seen: BTreeSet::new(),
            anchor: None,
            concealed_after_anchor: 0,
            silence: None,
            transits: VecDeque::with_capacity(config.window),
            sorted: Vec::with_capacity(config.window),
            base_transit: 0,
            strays_in_a_row: 0,
            stats: JitterStats { target_us: config.initial_delay_us, ..JitterStats::default() },
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &JitterConfig {
        &self.config
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> JitterStats {
        JitterStats { buffered: self.slots.len(), ..self.stats }
    }

    /// The target delay now, µs.
    #[must_use]
    pub fn target_us(&self) -> u64 {
        self.stats.target_us
    }

    /// Packets held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Nothing held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The packet of the frame the next tick plays, if it is here: after a
    /// [`Playout::Missing`], the one whose in-band FEC can rebuild the missing frame.
    #[must_use]
    pub fn peek_next(&self) -> Option<&T> {
        self.slots.get(&self.next?).map(|(_, item)| item)
    }

    /// Counts the frame [`pop`](Self::pop) just handed out as concealed rather than played:
    /// its packet did not decode.
    pub fn count_undecodable(&mut self) {
        if self.stats.played > 0 {
            self.stats.played -= 1;
            self.stats.concealed += 1;
        }
    }

    /// The sequence number as a position on an unwrapped line: the one nearest the frames
    /// in play.
    fn extend(&self, seq: u32) -> i64 {
        match self.next.or(self.anchor.map(|(s, _)| s)) {
            None => i64::from(seq),
            Some(reference) => reference + i64::from(seq.wrapping_sub(reference as u32) as i32),
        }
    }

    /// Takes a packet that arrived at `now_us` (receiver's clock).
    pub fn insert(&mut self, info: PacketInfo, item: T, now_us: u64) -> Insert {
        let seq = self.extend(info.seq);
        let transit = (i128::from(now_us) - i128::from(info.capture_us)).clamp(i64::MIN.into(), i64::MAX.into()) as i64;
        let capacity = self.config.capacity as i64;
        let verdict = match self.next {
            _ if self.seen.contains(&seq) => Insert::Duplicate,
            None => Insert::Accepted,
            Some(next) if self.playing && seq < next => {
                if seq >= next - capacity {
                    Insert::Late
                } else {
                    Insert::Stray
                }
            }
            Some(next) if self.playing => {
                if seq < next + capacity {
                    Insert::Accepted
                } else {
                    Insert::Stray
                }
            }
            Some(lowest) => {
                // Not playing yet: keep the span of held packets within the capacity.
                let highest = self.slots.last_key_value().map_or(lowest, |(&s, _)| s);
                if seq.max(highest) - seq.min(lowest) < capacity { Insert::Accepted } else { Insert::Stray }
            }
        };
        if verdict != Insert::Stray {
            self.strays_in_a_row = 0;
        }
        match verdict {
            Insert::Duplicate => self.stats.duplicates += 1,
            Insert::Late => {
                self.stats.late += 1;
                self.seen.insert(seq);
                self.note_transit(transit);
                if self.anchor.is_none_or(|(a, _)| seq > a) {
                    self.anchor = Some((seq, info.capture_us));
                    self.concealed_after_anchor = 0;
                }
            }
            Insert::Stray => {
                self.stats.strays += 1;
                self.strays_in_a_row += 1;
                if self.strays_in_a_row >= STRAYS_TO_RESYNC {
                    self.restart();
                    return self.insert(info, item, now_us);
                }
            }
            Insert::Accepted => self.accept(seq, info, item, transit),
        }
        verdict
    }

    fn accept(&mut self, seq: i64, info: PacketInfo, item: T, transit: i64) {
        self.stats.received += 1;
        self.seen.insert(seq);
        self.slots.insert(seq, (info.capture_us, item));
        self.stats.max_buffered = self.stats.max_buffered.max(self.slots.len());
        self.note_transit(transit);
        if self.anchor.is_none_or(|(a, _)| seq > a) {
            if info.resume {
                // The frames since the newest one received were not sent: those already
                // concealed were silence, and so are those still to come.
                let from = self.anchor.map_or(seq, |(a, _)| a + 1);
                self.silence = Some((from, seq));
                self.stats.concealed = self.stats.concealed.saturating_sub(self.concealed_after_anchor);
                self.stats.silent += self.concealed_after_anchor;
            }
            self.anchor = Some((seq, info.capture_us));
            self.concealed_after_anchor = 0;
        }
        if !self.playing {
            self.next = Some(self.next.map_or(seq, |n| n.min(seq)));
        }
    }

    /// Forgets every packet and statistic (the counters stay): the sender restarted.
    fn restart(&mut self) {
        self.stats.resyncs += 1;
        self.stats.skipped += self.slots.len() as u64;
        self.slots.clear();
        self.next = None;
        self.playing = false;
        self.seen.clear();
        self.anchor = None;
        self.concealed_after_anchor = 0;
        self.silence = None;
        self.transits.clear();
        self.strays_in_a_row = 0;
        self.stats.target_us = self.config.initial_delay_us;
    }

    fn note_transit(&mut self, transit: i64) {
        if self.transits.len() == self.config.window {
            self.transits.pop_front();
        }
        self.transits.push_back(transit);
        self.sorted.clear();
        self.sorted.extend(self.transits.iter().copied());
        self.sorted.sort_unstable();
        self.base_transit = self.sorted[0];
        let n = self.sorted.len();
        if n < WARMUP.min(self.config.window) {
            return;
        }
        let rank = (n * usize::from(self.config.percentile_permille)).div_ceil(1000).clamp(1, n);
        let deviation =
            u64::try_from(i128::from(self.sorted[rank - 1]) - i128::from(self.base_transit)).unwrap_or(u64::MAX);
        self.stats.target_us = deviation.clamp(self.config.min_delay_us, self.config.max_delay_us);
    }

    /// The delay frame `seq` would be played with at `now_us`: how long after its capture plus
    /// the fastest transit.
    fn delay_at(&self, seq: i64, now_us: u64) -> i128 {
        let capture = match (self.slots.get(&seq), self.anchor) {
            (Some(&(capture, _)), _) => i128::from(capture),
            (None, Some((a, capture))) => i128::from(capture) + i128::from(seq - a) * i128::from(self.config.frame_us),
            (None, None) => i128::from(now_us),
        };
        i128::from(now_us) - capture - i128::from(self.base_transit)
    }

    /// What to play at the tick `now_us` (receiver's clock); call it once per frame duration.
    pub fn pop(&mut self, now_us: u64) -> Playout<T> {
        let Some(mut next) = self.next else {
            self.stats.waiting += 1;
            return Playout::Waiting;
        };
        let target = i128::from(self.stats.target_us);
        let delay = self.delay_at(next, now_us);
        if !self.playing {
            if self.slots.is_empty() || delay < target {
                self.stats.waiting += 1;
                return Playout::Waiting;
            }
            self.playing = true;
        } else if delay < target {
            self.stats.stretched += 1;
            return Playout::Stretch;
        } else if delay > target + 3 * i128::from(self.config.frame_us) / 2 {
            self.stats.skipped += 1;
            self.slots.remove(&next);
            next += 1;
        }
        self.next = Some(next + 1);
        let forget_below = next + 1 - self.config.capacity as i64;
        while self.seen.first().is_some_and(|&s| s < forget_below) {
            self.seen.pop_first();
        }
        let seq = next as u32;
        if let Some((capture_us, item)) = self.slots.remove(&next) {
            self.stats.played += 1;
            return Playout::Frame { seq, capture_us, item };
        }
        let silence = self.silence.is_some_and(|(from, to)| (from..to).contains(&next));
        if silence {
            self.stats.silent += 1;
        } else {
            self.stats.concealed += 1;
            if self.anchor.is_none_or(|(a, _)| next > a) {
                self.concealed_after_anchor += 1;
            }
        }
        Playout::Missing { seq, silence }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: u64 = 20_000;

    /// A generator for the tests (xorshift), seeded.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn info(seq: u32, capture_us: u64) -> PacketInfo {
        PacketInfo { seq, capture_us, resume: false }
    }

    fn fixed(delay_us: u64) -> JitterConfig {
        JitterConfig {
            min_delay_us: delay_us,
            max_delay_us: delay_us,
            initial_delay_us: delay_us,
            window: 10_000,
            ..JitterConfig::default()
        }
    }

    /// Events of a simulation: a packet (seq) arriving, or a tick, at a time.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Event {
        // Arrivals sort before ticks at the same instant.
        Arrive(u64, u32),
        Tick(u64),
    }

    impl Event {
        fn at(self) -> (u64, u8) {
            match self {
                Event::Arrive(t, _) => (t, 0),
                Event::Tick(t) => (t, 1),
            }
        }
    }

    /// Model test: with a fixed target and ticks on the playout grid, frame k is played if and
    /// only if one copy of its packet arrived by its tick; every frame comes out exactly once,
    /// in order; the counters match the model's.
    #[test]
    fn matches_a_model_under_loss_reordering_and_duplicates() {
        for seed in 1..=20u64 {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
            let delay = 60_000;
            let base = 10_000;
            let frames = 400u32;
            let first_seq = u32::MAX - 100; // crosses the wrap
            let mut events = Vec::new();
            let mut arrivals: Vec<Vec<u64>> = vec![Vec::new(); frames as usize];
            for k in 0..frames {
                let copies = match rng.below(20) {
                    0 | 1 => 0, // lost
                    2 => 2,     // duplicated
                    _ => 1,
                };
                for _ in 0..copies {
                    // Jitter in 5 ms steps, 0..=80 ms: some packets miss a 60 ms delay.
                    let jitter = if k == 0 { 0 } else { rng.below(17) * 5_000 };
                    let t = u64::from(k) * FRAME + base + jitter;
                    arrivals[k as usize].push(t);
                    events.push(Event::Arrive(t, first_seq.wrapping_add(k)));
                }
            }
            // Frame 0 must arrive for playout to start on the grid in this model.
            if arrivals[0].is_empty() {
                events.push(Event::Arrive(base, first_seq));
                arrivals[0].push(base);
            }
            let tick = |k: u32| base + delay + u64::from(k) * FRAME;
            events.extend((0..frames).map(|k| Event::Tick(tick(k))));
            events.sort_by_key(|e| e.at());

            let mut buf = JitterBuffer::new(fixed(delay)).unwrap();
            let mut out = Vec::new();
            for e in events {
                match e {
                    Event::Arrive(t, seq) => {
                        let k = seq.wrapping_sub(first_seq);
                        let _ = buf.insert(info(seq, u64::from(k) * FRAME), seq, t);
                    }
                    Event::Tick(t) => out.push(buf.pop(t)),
                }
                assert!(buf.len() <= buf.config().capacity);
            }
            let (mut played, mut concealed, mut late, mut duplicates) = (0, 0, 0, 0);
            for (k, playout) in out.into_iter().enumerate() {
                let seq = first_seq.wrapping_add(k as u32);
                let copies = &arrivals[k];
                let on_time = copies.iter().any(|&t| t <= tick(k as u32));
                duplicates += copies.len().saturating_sub(1) as u64;
                late += u64::from(!copies.is_empty() && !on_time);
                if on_time {
                    played += 1;
                    assert_eq!(playout, Playout::Frame { seq, capture_us: k as u64 * FRAME, item: seq }, "seed {seed}");
                } else {
                    concealed += 1;
                    assert_eq!(playout, Playout::Missing { seq, silence: false }, "seed {seed} frame {k}");
                }
            }
            let s = buf.stats();
            assert_eq!(
                (s.played, s.concealed, s.late, s.duplicates),
                (played, concealed, late, duplicates),
                "seed {seed}"
            );
            assert_eq!((s.stretched, s.skipped, s.strays, s.resyncs), (0, 0, 0, 0), "seed {seed}");
            assert!(concealed > 0 && late > 0 && duplicates > 0, "the model covers every case");
        }
    }

    /// A stream through a buffer ticking every 20 ms, 7 ms off the capture grid, over a 5 ms
    /// network plus the jitter each packet is given.
    struct Sim {
        buf: JitterBuffer<u32>,
        t: u64,
        /// Arrival time and frame, sorted.
        pending: VecDeque<(u64, u32)>,
        /// Frame and delay (playout time - capture time) of every frame played.
        delays: Vec<(u32, u64)>,
        /// Every frame played or concealed, in playout order.
        seqs: Vec<u32>,
    }

    impl Sim {
        fn new(config: JitterConfig) -> Self {
            Self {
                buf: JitterBuffer::new(config).unwrap(),
                t: 7_000,
                pending: VecDeque::new(),
                delays: Vec::new(),
                seqs: Vec::new(),
            }
        }

        fn send(&mut self, frames: std::ops::Range<u32>, jitter: impl Fn(u32) -> u64) {
            let mut all: Vec<_> = self.pending.drain(..).collect();
            all.extend(frames.map(|k| (u64::from(k) * FRAME + 5_000 + jitter(k), k)));
            all.sort_unstable();
            self.pending = all.into();
        }

        fn run_until(&mut self, end: u64) {
            while self.t < end {
                while let Some((at, k)) = self.pending.front().copied().filter(|&(at, _)| at <= self.t) {
                    let _ = self.buf.insert(info(k, u64::from(k) * FRAME), k, at);
                    self.pending.pop_front();
                }
                match self.buf.pop(self.t) {
                    Playout::Frame { seq, capture_us, .. } => {
                        self.delays.push((seq, self.t - capture_us));
                        self.seqs.push(seq);
                    }
                    Playout::Missing { seq, .. } => self.seqs.push(seq),
                    Playout::Waiting | Playout::Stretch => {}
                }
                assert!(self.buf.len() <= self.buf.config().capacity);
                self.t += FRAME;
            }
        }

        fn delays_from(&self, first: u32) -> impl Iterator<Item = u64> + '_ {
            self.delays.iter().filter(move |(k, _)| *k >= first).map(|&(_, d)| d)
        }
    }

    #[test]
    fn target_follows_the_jitter_both_ways() {
        let mut sim = Sim::new(JitterConfig::default());
        // The delay (playout - capture) is the network's 5 ms plus the buffer's delay, which
        // stays within [target, target + 1.5 frames].
        let band = |target: u64| 5_000 + target..=5_000 + target + 3 * FRAME / 2;
        // Steady network: the target falls to the floor.
        sim.send(0..500, |_| 0);
        sim.run_until(500 * FRAME);
        assert_eq!(sim.buf.target_us(), 10_000);
        assert!(sim.delays_from(100).all(|d| band(10_000).contains(&d)), "{:?}", &sim.delays[100..110]);
        let s = sim.buf.stats();
        assert_eq!((s.concealed, s.late, s.stretched), (0, 0, 0));
        assert_eq!(s.skipped, 1, "the start-up delay, chosen before any jitter was measured, is trimmed once");

        // Jitter of 0..=60 ms: the target rises to about its 98th percentile, stretching.
        let mut noise = Rng(42);
        let jitters: Vec<u64> = (0..1000).map(|_| noise.below(61) * 1_000).collect();
        sim.send(500..1500, |k| jitters[(k - 500) as usize]);
        sim.run_until(1500 * FRAME);
        let target = sim.buf.target_us();
        assert!((55_000..=60_000).contains(&target), "target {target}");
        let s = sim.buf.stats();
        assert!(s.stretched >= 1, "{s:?}");
        assert!(s.late < 1000 / 20, "few late packets once adapted: {s:?}");
        assert!(sim.delays_from(1000).all(|d| band(target).contains(&d)));

        // Calm again: the window forgets the jitter and the delay comes back down by skipping.
        sim.send(1500..2500, |_| 0);
        sim.run_until(2600 * FRAME);
        assert_eq!(sim.buf.target_us(), 10_000);
        let after = sim.buf.stats();
        assert!(after.skipped > s.skipped, "{after:?}");
        assert!(sim.delays_from(2200).all(|d| band(10_000).contains(&d)));
        // Every frame comes out once, in order, or is counted as skipped.
        assert!(sim.seqs.windows(2).all(|w| w[0] < w[1]));
        let sent = sim.seqs.iter().filter(|&&k| k < 2500).count() as u64;
        assert_eq!(sent + after.skipped, 2500);
    }

    #[test]
    fn missing_frames_point_at_the_next_packet_for_fec() {
        let mut buf = JitterBuffer::new(fixed(40_000)).unwrap();
        for k in [0u32, 2] {
            let _ = buf.insert(info(k, u64::from(k) * FRAME), k, u64::from(k) * FRAME);
        }
        assert_eq!(buf.pop(39_999), Playout::Waiting);
        assert!(matches!(buf.pop(40_000), Playout::Frame { seq: 0, .. }));
        assert_eq!(buf.pop(60_000), Playout::Missing { seq: 1, silence: false });
        assert_eq!(buf.peek_next(), Some(&2));
        assert!(matches!(buf.pop(80_000), Playout::Frame { seq: 2, .. }));
        assert_eq!(buf.peek_next(), None);
    }

    #[test]
    fn silence_after_resume_is_not_counted_as_loss() {
        let mut buf = JitterBuffer::new(fixed(40_000)).unwrap();
        let _ = buf.insert(info(0, 0), 0, 0);
        let _ = buf.insert(info(1, FRAME), 1, FRAME);
        let mut t = 40_000;
        let mut pop = |buf: &mut JitterBuffer<u32>| {
            let p = buf.pop(t);
            t += FRAME;
            p
        };
        assert!(matches!(pop(&mut buf), Playout::Frame { seq: 0, .. }));
        assert!(matches!(pop(&mut buf), Playout::Frame { seq: 1, .. }));
        // Frames 2..10 are not sent (DTX); 2 and 3 are concealed before the sender resumes.
        assert!(matches!(pop(&mut buf), Playout::Missing { seq: 2, silence: false }));
        assert!(matches!(pop(&mut buf), Playout::Missing { seq: 3, silence: false }));
        assert_eq!(buf.stats().concealed, 2);
        let _ = buf.insert(PacketInfo { seq: 10, capture_us: 10 * FRAME, resume: true }, 10, 10 * FRAME);
        assert_eq!((buf.stats().concealed, buf.stats().silent), (0, 2));
        for seq in 4..10 {
            assert_eq!(pop(&mut buf), Playout::Missing { seq, silence: true });
        }
        assert!(matches!(pop(&mut buf), Playout::Frame { seq: 10, .. }));
        assert_eq!(pop(&mut buf), Playout::Missing { seq: 11, silence: false });
        let s = buf.stats();
        assert_eq!((s.played, s.concealed, s.silent), (3, 1, 8));
    }

    #[test]
    fn late_duplicate_and_stray_packets_are_told_apart() {
        let mut buf = JitterBuffer::new(fixed(20_000)).unwrap();
        assert_eq!(buf.insert(info(100, 0), 0, 0), Insert::Accepted);
        assert_eq!(buf.insert(info(100, 0), 0, 1), Insert::Duplicate);
        let _ = buf.pop(20_000);
        let _ = buf.pop(40_000);
        assert_eq!(buf.insert(info(101, FRAME), 0, 40_001), Insert::Late);
        assert_eq!(buf.insert(info(101, FRAME), 0, 40_002), Insert::Duplicate);
        assert_eq!(buf.insert(info(100, 0), 0, 40_003), Insert::Duplicate);
        assert_eq!(buf.insert(info(102 + 32, 0), 0, 40_004), Insert::Stray);
        assert_eq!(buf.insert(info(102 + 31, 0), 0, 40_004), Insert::Accepted);
        assert_eq!(buf.insert(info(102 - 33, 0), 0, 40_004), Insert::Stray);
        let s = buf.stats();
        assert_eq!((s.received, s.late, s.duplicates, s.strays, s.resyncs), (2, 1, 3, 2, 0));
    }

    #[test]
    fn a_restarted_sender_is_followed_after_three_strays() {
        let mut buf = JitterBuffer::new(fixed(20_000)).unwrap();
        let mut t = 0;
        for k in 5000..5010u32 {
            let _ = buf.insert(info(k, t), k, t);
            let _ = buf.pop(t);
            t += FRAME;
        }
        // The sender restarts at 0 with a new clock.
        let verdicts: Vec<Insert> = (0..4u32).map(|k| buf.insert(info(k, u64::from(k) * FRAME), k, t)).collect();
        assert_eq!(verdicts, [Insert::Stray, Insert::Stray, Insert::Accepted, Insert::Accepted]);
        assert_eq!(buf.stats().resyncs, 1);
        // Frame 3 has the fastest transit; frame 2 has waited the 20 ms target beyond it.
        let played: Vec<u32> = (0..3)
            .filter_map(|i| match buf.pop(t + i * FRAME) {
                Playout::Frame { seq, .. } => Some(seq),
                _ => None,
            })
            .collect();
        assert_eq!(played, [2, 3]);
    }

    #[test]
    fn memory_stays_bounded_whatever_arrives() {
        let mut buf = JitterBuffer::new(JitterConfig::default()).unwrap();
        let mut rng = Rng(7);
        let mut t = 0u64;
        for i in 0..50_000 {
            let seq = rng.next() as u32;
            let seq = if i % 3 == 0 { seq } else { seq % 64 };
            let _ = buf.insert(info(seq, rng.next() >> rng.below(64)), (), t);
            if i % 4 == 0 {
                let _ = buf.pop(t);
            }
            t += rng.below(30_000);
            let s = buf.stats();
            assert!(s.buffered <= 32 && buf.seen.len() <= 2 * 32 + 1, "{s:?}");
            assert!((10_000..=200_000).contains(&s.target_us));
        }
    }

    #[test]
    fn configuration_is_checked() {
        assert_eq!(JitterConfig::default().validate(), Ok(()));
        let err = |c: JitterConfig| c.validate().unwrap_err().field;
        assert_eq!(err(JitterConfig { frame_us: 0, ..JitterConfig::default() }), "frame_us");
        assert_eq!(err(JitterConfig { min_delay_us: 300_000, ..JitterConfig::default() }), "min_delay_us");
        assert_eq!(err(JitterConfig { initial_delay_us: 5_000, ..JitterConfig::default() }), "initial_delay_us");
        assert_eq!(err(JitterConfig { percentile_permille: 1001, ..JitterConfig::default() }), "percentile_permille");
        assert_eq!(err(JitterConfig { window: 0, ..JitterConfig::default() }), "window");
        assert_eq!(err(JitterConfig { capacity: 12, ..JitterConfig::default() }), "capacity");
        assert_eq!(JitterConfig { capacity: 13, ..JitterConfig::default() }.validate(), Ok(()));
    }
}
