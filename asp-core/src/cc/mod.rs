//! Rate control: from transport-wide feedback to a target rate that drives pacing and the
//! encoder's bitrate.
//!
//! Ideas taken, and from where:
//! * GCC (draft-ietf-rmcat-gcc): arrival groups, the trendline delay-gradient detector with an
//!   adaptive threshold, and the AIMD controller (multiplicative increase far from the last
//!   congestion point, additive near it, decrease to a share of the received rate on overuse);
//!   its loss-based controller (reduce above 10 % loss, hold between 2 and 10 %).
//! * SCReAM / NADA: judge loss together with queuing delay. Loss that comes while the queue is
//!   empty is random (a lossy radio link), is answered with FEC, and does not lower the rate;
//!   loss with a standing queue is congestion, and does.
//!
//! [`NetworkClass`] names what the controller believes about the path; it is exposed in the
//! statistics and chooses the strategy (FEC overhead, reaction to loss).

mod feedback;
mod trendline;

use std::collections::VecDeque;
use std::time::Duration;

use feedback::PacketResult;
pub(crate) use feedback::{FeedbackRecorder, SendHistory};
use trendline::Trendline;
pub(crate) use trendline::Usage;

use crate::time::Timestamp;
use crate::wire::frame::FeedbackFrame;

/// What the rate controller believes about the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NetworkClass {
    /// Not enough feedback yet.
    #[default]
    Unknown,
    /// A local network: RTT of a few milliseconds, no loss, no queue.
    Lan,
    /// A wide-area path without a standing bottleneck queue or notable loss.
    Wan,
    /// Loss without queue growth (radio links): answered with FEC, not a lower rate.
    LossyWireless,
    /// A bottleneck whose queue fills when we push: answered with a lower rate.
    ShapedBottleneck,
}

/// Limits of the rate controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateControlConfig {
    /// Never below this, bits per second.
    pub min_bps: u64,
    /// Never above this, bits per second.
    pub max_bps: u64,
}

impl Default for RateControlConfig {
    fn default() -> Self {
        RateControlConfig { min_bps: 100_000, max_bps: 1_000_000_000 }
    }
}

/// The controller's view, for statistics and for the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateEstimate {
    /// The rate to send at (pacing, and the encoder's budget), bits per second.
    pub target_bps: u64,
    /// What the delay-based controller allows.
    pub delay_based_bps: u64,
    /// What the loss-based controller allows.
    pub loss_based_bps: u64,
    /// What the receiver got over the last half second.
    pub received_bps: u64,
    /// Packets lost over the last second, as a fraction.
    pub loss: f64,
    /// Of which lost while the queue was empty (random loss), as a fraction of all packets.
    pub random_loss: f64,
    /// Current queuing delay: one-way delay above its minimum.
    pub queue_delay: Duration,
    /// The delay detector's modified trend (ms of delay growth, scaled).
    pub trend: f64,
    /// The path's class.
    pub class: NetworkClass,
    /// Share of a media frame's packets worth sending again as FEC repair, for this loss.
    pub fec_overhead: f64,
    /// What the encoder may produce: the target less FEC repair and packet headers.
    pub media_bps: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aimd {
    Hold,
    Increase,
}

/// Queuing delay below which a loss is taken as random rather than congestive.
const EMPTY_QUEUE: Duration = Duration::from_millis(8);
/// Window of the loss statistics.
const LOSS_WINDOW: Duration = Duration::from_secs(1);
/// On overuse the rate falls to this share of what got through lately (GCC uses 0.85; a
/// little higher keeps more of the link busy, and the standing-queue rule below drains what
/// builds up).
const DECREASE: f64 = 0.95;
/// ... or to this share when far less got through than was sent (the capacity dropped).
const SUDDEN_DECREASE: f64 = 0.85;
/// Multiplicative increase per second far from congestion (GCC's 8 %).
const STEADY_GROWTH: f64 = 1.08;
/// After this many seconds without overuse, growth starts to accelerate ...
const QUIET_BEFORE_ACCELERATING: f64 = 3.0;
/// ... reaching `ACCELERATED_GROWTH` this many seconds later.
const ACCELERATION_SECS: f64 = 4.0;
/// Multiplicative increase per second on a path quiet for long.
const ACCELERATED_GROWTH: f64 = 1.25;
/// Multiplicative increase per second before the first congestion signal.
const STARTUP_GROWTH: f64 = 1.5;
/// Queuing delay treated as congestion even when it has stopped growing.
const STANDING_QUEUE: Duration = Duration::from_millis(60);
/// Window over which a standing queue is judged.
const STANDING_WINDOW: Duration = Duration::from_secs(5);
/// A queue that never drained below this over the window is standing.
const COMPETING_ENTER: Duration = Duration::from_millis(30);
/// Leave competing mode when the queue is this small again.
const COMPETING_EXIT: Duration = Duration::from_millis(10);
/// Window of the received-rate estimate.
const RATE_WINDOW: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub(crate) struct RateController {
    config: RateControlConfig,
    trendline: Trendline,
    history: SendHistory,
    results: Vec<PacketResult>,
    delay_based: f64,
    loss_based: f64,
    target: f64,
    aimd: Aimd,
    last_update: Option<Timestamp>,
    last_decrease: Option<Timestamp>,
    /// Rate right after the last decrease: near it, increase additively.
    congestion_point: Option<f64>,
    last_loss_decrease: Option<Timestamp>,
    /// (arrival, bytes) of recent packets, for the received rate.
    arrivals: VecDeque<(Timestamp, usize)>,
    /// (feedback time, received, lost, lost with an empty queue).
    losses: VecDeque<(Timestamp, u32, u32, u32)>,
    /// Smallest (arrival - sent) seen, microseconds: base delay plus clock offset.
    min_delay: Option<i64>,
    queue_delay: Duration,
    last_overuse: Option<Timestamp>,
    random_loss_ewma: f64,
    /// (time, queuing delay) of recent feedback, for the standing-queue floor.
    queue_samples: VecDeque<(Timestamp, Duration)>,
    /// A loss-based flow (TCP) keeps a standing queue we cannot drain: the delay signal says
    /// nothing about our own rate then, and we compete on loss instead.
    competing: bool,
    estimate: RateEstimate,
}

impl RateController {
    pub(crate) fn new(config: RateControlConfig, start_bps: u64) -> Self {
        let start = start_bps.clamp(config.min_bps, config.max_bps) as f64;
        RateController {
            config,
            trendline: Trendline::default(),
            history: SendHistory::default(),
            results: Vec::new(),
            delay_based: start,
            loss_based: f64::INFINITY,
            target: start,
            aimd: Aimd::Increase,
            last_update: None,
            last_decrease: None,
            congestion_point: None,
            last_loss_decrease: None,
            arrivals: VecDeque::new(),
            losses: VecDeque::new(),
            min_delay: None,
            queue_delay: Duration::ZERO,
            last_overuse: None,
            random_loss_ewma: 0.0,
            queue_samples: VecDeque::new(),
            competing: false,
            estimate: RateEstimate {
                target_bps: start as u64,
                media_bps: media_budget(start, 0.0),
                ..RateEstimate::default()
            },
        }
    }

    pub(crate) fn target_bps(&self) -> u64 {
        self.target as u64
    }

    pub(crate) fn estimate(&self) -> RateEstimate {
        self.estimate
    }

    /// Restarts from a rate the application sets.
    pub(crate) fn reset_to(&mut self, bps: u64) {
        let r = bps.clamp(self.config.min_bps, self.config.max_bps) as f64;
        self.delay_based = r;
        self.target = r;
        self.loss_based = f64::INFINITY;
        self.estimate.target_bps = r as u64;
        self.estimate.media_bps = media_budget(r, self.estimate.fec_overhead);
    }

    pub(crate) fn on_sent(&mut self, pn: u64, now: Timestamp, size: usize) {
        self.history.on_sent(pn, now, size);
    }

    /// Takes one feedback report. `rtt` is the smoothed RTT, `min_rtt` the minimum.
    pub(crate) fn on_feedback(&mut self, now: Timestamp, report: &FeedbackFrame, rtt: Duration, min_rtt: Duration) {
        let mut results = std::mem::take(&mut self.results);
        results.clear();
        self.history.resolve(report, &mut results);
        let (mut received, mut lost, mut random) = (0u32, 0u32, 0u32);
        for r in &results {
            match r.arrival {
                Some(arrival) => {
                    received += 1;
                    self.trendline.on_packet(r.sent, arrival);
                    self.arrivals.push_back((arrival, r.size));
                    // The peer's clock: any value may come, so no arithmetic here may overflow.
                    let delay = (arrival.as_micros() as i64).wrapping_sub(r.sent.as_micros() as i64);
                    let min = *self.min_delay.get_or_insert(delay);
                    self.min_delay = Some(min.min(delay));
                    self.queue_delay = Duration::from_micros(delay.saturating_sub(min.min(delay)).max(0) as u64);
                }
                None => {
                    lost += 1;
                    if self.queue_delay < self.empty_queue() && self.trendline.usage() != Usage::Overuse {
                        random += 1;
                    }
                }
            }
        }
        self.results = results;
        if received + lost == 0 {
            return;
        }
        if let Some(&(latest, _)) = self.arrivals.back() {
            while self.arrivals.front().is_some_and(|(t, _)| *t + RATE_WINDOW < latest) {
                self.arrivals.pop_front();
            }
        }
        self.losses.push_back((now, received, lost, random));
        while self.losses.front().is_some_and(|(t, ..)| *t + LOSS_WINDOW < now) {
            self.losses.pop_front();
        }
        self.update_competing(now);
        let usage = match (self.competing, self.trendline.usage()) {
            (true, _) => Usage::Normal,
            // A standing queue that the gradient no longer sees (it stopped growing) still
            // costs every packet its delay: drain it as if it were growing.
            (false, Usage::Normal) if self.queue_delay > STANDING_QUEUE => Usage::Overuse,
            (false, u) => u,
        };
        if self.trendline.usage() == Usage::Overuse {
            self.last_overuse = Some(now);
        }
        self.update_delay_based(now, usage, rtt);
        self.update_loss_based(now, rtt);
        self.target =
            self.delay_based.min(self.loss_based).clamp(self.config.min_bps as f64, self.config.max_bps as f64);
        self.classify(now, min_rtt);
    }

    /// Queuing delay below which the queue counts as empty: a few milliseconds, plus two
    /// packets' serialization at the received rate (on a slow link one packet ahead of another
    /// is already a "queue").
    fn empty_queue(&self) -> Duration {
        let per_packet = self.received_bps().map_or(0.0, |r| 1200.0 * 8.0 / r.max(1.0));
        EMPTY_QUEUE + Duration::from_secs_f64((2.0 * per_packet).min(0.2))
    }

    fn received_bps(&self) -> Option<f64> {
        self.received_over(RATE_WINDOW)
    }

    /// Received rate over the last `window` of arrivals.
    fn received_over(&self, window: Duration) -> Option<f64> {
        let (last, _) = *self.arrivals.back()?;
        let recent = self.arrivals.iter().rev().take_while(|(t, _)| *t + window >= last);
        let (count, first, bytes) = recent.fold((0usize, last, 0usize), |(n, _, b), (t, size)| (n + 1, *t, b + size));
        let span = last.saturating_since(first).max(Duration::from_millis(50));
        (count >= 5).then(|| bytes as f64 * 8.0 / span.as_secs_f64())
    }

    /// Enters competing mode when the queue never drained below `COMPETING_ENTER` over the last
    /// `STANDING_WINDOW` (a buffer-filling flow shares the bottleneck), and leaves it when the
    /// queue gets close to empty again.
    fn update_competing(&mut self, now: Timestamp) {
        self.queue_samples.push_back((now, self.queue_delay));
        while self.queue_samples.front().is_some_and(|(t, _)| *t + STANDING_WINDOW < now) {
            self.queue_samples.pop_front();
        }
        let full = self
            .queue_samples
            .front()
            .is_some_and(|(t, _)| now.saturating_since(*t) >= STANDING_WINDOW - Duration::from_millis(200));
        let floor = self.queue_samples.iter().map(|(_, q)| *q).min().unwrap_or_default();
        if !self.competing && full && floor > COMPETING_ENTER {
            self.competing = true;
        } else if self.competing && self.queue_delay < COMPETING_EXIT {
            self.competing = false;
        }
    }

    fn update_delay_based(&mut self, now: Timestamp, usage: Usage, rtt: Duration) {
        let elapsed = self.last_update.map_or(Duration::ZERO, |t| now.saturating_since(t)).min(Duration::from_secs(1));
        self.last_update = Some(now);
        let received = self.received_bps();
        let before = self.delay_based;
        match usage {
            Usage::Overuse => {
                // At most one decrease per round trip: the first one's effect takes that long.
                if self.last_decrease.is_none_or(|t| now.saturating_since(t) > rtt) {
                    // What got through lately: a short window, so that a sudden drop of
                    // capacity is seen as such and not averaged with the time before it.
                    let recent = self.received_over(Duration::from_millis(200)).or(received);
                    let base = recent.unwrap_or(self.delay_based).min(self.delay_based);
                    // Far less got through than we send: the capacity dropped. Cut as deep as
                    // GCC so the queue drains fast; otherwise trim lightly.
                    let sudden = recent.is_some_and(|r| r < 0.8 * self.delay_based);
                    self.delay_based = if sudden { SUDDEN_DECREASE } else { DECREASE } * base;
                    self.congestion_point = Some(self.delay_based);
                    self.last_decrease = Some(now);
                }
                self.aimd = Aimd::Hold;
            }
            Usage::Underuse => self.aimd = Aimd::Hold,
            Usage::Normal => {
                if self.aimd == Aimd::Hold {
                    self.aimd = Aimd::Increase;
                } else {
                    // Past the last congestion point without a queue: capacity has grown, and
                    // the old point no longer says where the limit is.
                    if self.congestion_point.is_some_and(|c| self.delay_based > 1.1 * c) {
                        self.congestion_point = None;
                    }
                    let secs = elapsed.as_secs_f64();
                    match self.congestion_point {
                        // Near the point where the queue grew last: about one packet more per
                        // response time (GCC's additive increase).
                        Some(_) => {
                            let response = (rtt + Duration::from_millis(100)).as_secs_f64();
                            self.delay_based += 1200.0 * 8.0 / response * secs;
                        }
                        // Before the first congestion the path is unknown: probe faster.
                        None if self.last_decrease.is_none() => self.delay_based *= STARTUP_GROWTH.powf(secs),
                        // Far from the last congestion and quiet for a while: capacity has
                        // probably grown; speed up (GCC's fixed 8 % takes 12 s to find a link
                        // that went from 1 to 2.5 Mbit/s).
                        None => {
                            let quiet = self.last_overuse.map_or(Duration::MAX, |t| now.saturating_since(t));
                            let ramp =
                                ((quiet.as_secs_f64() - QUIET_BEFORE_ACCELERATING) / ACCELERATION_SECS).clamp(0.0, 1.0);
                            self.delay_based *=
                                (STEADY_GROWTH + (ACCELERATED_GROWTH - STEADY_GROWTH) * ramp).powf(secs);
                        }
                    }
                }
            }
        }
        // Do not grow far past what the sender actually gets through (an application that
        // sends little proves nothing about more); but never cut for that reason alone.
        if let Some(r) = received
            && self.delay_based > before
        {
            self.delay_based = self.delay_based.min((1.5 * r + 10_000.0).max(before));
        }
        self.delay_based = self.delay_based.clamp(self.config.min_bps as f64, self.config.max_bps as f64);
    }

    fn window_loss(&self) -> (f64, f64, u32) {
        let (received, lost, random) =
            self.losses.iter().fold((0u32, 0u32, 0u32), |(a, b, c), (_, r, l, x)| (a + r, b + l, c + x));
        let total = received + lost;
        if total == 0 {
            return (0.0, 0.0, 0);
        }
        (f64::from(lost) / f64::from(total), f64::from(random) / f64::from(total), total)
    }

    fn update_loss_based(&mut self, now: Timestamp, rtt: Duration) {
        let (loss, random, total) = self.window_loss();
        self.random_loss_ewma = 0.9 * self.random_loss_ewma + 0.1 * random;
        if total < 20 {
            return;
        }
        if self.competing {
            // Against a loss-based flow, play by its rules: back off on loss events, once per
            // round trip, as TCP does (a little less deeply, for media's sake).
            if loss > 0.0 && self.last_loss_decrease.is_none_or(|t| now.saturating_since(t) > rtt) {
                self.delay_based *= 0.9;
                self.last_loss_decrease = Some(now);
            }
            self.loss_based = f64::INFINITY;
            return;
        }
        // Random loss is FEC's to answer, unless it is so heavy that it must be congestion too.
        let congestive = if random > 0.2 { loss } else { loss - random };
        if congestive > 0.10 {
            let interval = rtt + Duration::from_millis(300);
            if self.last_loss_decrease.is_none_or(|t| now.saturating_since(t) > interval) {
                let base = self.target.min(self.loss_based);
                self.loss_based = base * (1.0 - 0.5 * congestive);
                self.last_loss_decrease = Some(now);
            }
        } else if congestive < 0.02 {
            self.loss_based = f64::INFINITY;
        }
    }

    fn classify(&mut self, now: Timestamp, min_rtt: Duration) {
        let (loss, random, _) = self.window_loss();
        let recent_congestion = self.last_overuse.is_some_and(|t| now.saturating_since(t) < Duration::from_secs(10))
            || (loss - random) > 0.02;
        let class = if self.random_loss_ewma > 0.005 {
            NetworkClass::LossyWireless
        } else if recent_congestion {
            NetworkClass::ShapedBottleneck
        } else if min_rtt < Duration::from_millis(3) {
            NetworkClass::Lan
        } else {
            NetworkClass::Wan
        };
        self.estimate = RateEstimate {
            target_bps: self.target as u64,
            delay_based_bps: self.delay_based as u64,
            loss_based_bps: if self.loss_based.is_finite() { self.loss_based as u64 } else { u64::MAX },
            received_bps: self.received_bps().unwrap_or(0.0) as u64,
            loss,
            random_loss: random,
            queue_delay: self.queue_delay,
            trend: self.trendline.trend,
            class,
            fec_overhead: fec_overhead(self.random_loss_ewma.max(random)),
            media_bps: 0,
        };
        self.estimate.media_bps = media_budget(self.target, self.estimate.fec_overhead);
    }
}

/// The encoder's share of a sending rate: repair shards and packet headers (about 4 % at
/// 1200-byte packets) come out of the same budget.
pub(crate) fn media_budget(rate_bps: f64, fec_overhead: f64) -> u64 {
    (rate_bps * 0.96 / (1.0 + fec_overhead.max(0.0))) as u64
}

/// Repair share for a random loss rate: enough that a frame of a few dozen packets survives
/// the expected losses plus a margin, capped at half the frame.
fn fec_overhead(random_loss: f64) -> f64 {
    if random_loss < 0.001 { 0.0 } else { (3.0 * random_loss + 0.03).min(0.5) }
}
