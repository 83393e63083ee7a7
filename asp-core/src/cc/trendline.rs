//! Delay-gradient detection, after GCC (draft-ietf-rmcat-gcc §5): packets are grouped into
//! bursts, the change of one-way delay between consecutive groups is accumulated and smoothed,
//! and the slope of a least-squares line through the recent points says whether a queue is
//! building (overuse), draining (underuse) or neither. The threshold adapts, so that a path with
//! jitter does not look congested and a competing loss-based flow does not starve us.

use std::collections::VecDeque;

use crate::time::Timestamp;

/// What the detector concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
    Normal,
    Overuse,
    Underuse,
}

/// Packets sent within this span form one group.
const GROUP_SPAN_MICROS: u64 = 5_000;
const WINDOW: usize = 20;
const SMOOTHING: f64 = 0.9;
const GAIN: f64 = 4.0;
const K_UP: f64 = 0.0087;
const K_DOWN: f64 = 0.039;
const THRESHOLD_MIN: f64 = 6.0;
const THRESHOLD_MAX: f64 = 600.0;
/// Overuse must last this long (ms) before it is reported.
const OVERUSE_TIME_MS: f64 = 10.0;

#[derive(Debug, Clone, Copy)]
struct Group {
    first_sent: Timestamp,
    last_sent: Timestamp,
    last_arrival: Timestamp,
}

#[derive(Debug)]
pub(crate) struct Trendline {
    current: Option<Group>,
    previous: Option<Group>,
    first_arrival: Option<Timestamp>,
    accumulated: f64,
    smoothed: f64,
    points: VecDeque<(f64, f64)>,
    deltas: u32,
    threshold: f64,
    last_threshold_update: Option<Timestamp>,
    overuse_ms: Option<f64>,
    overuse_count: u32,
    previous_trend: f64,
    usage: Usage,
    /// The latest modified trend, for statistics.
    pub(crate) trend: f64,
}

impl Default for Trendline {
    fn default() -> Self {
        Trendline {
            current: None,
            previous: None,
            first_arrival: None,
            accumulated: 0.0,
            smoothed: 0.0,
            points: VecDeque::with_capacity(WINDOW),
            deltas: 0,
            threshold: 12.5,
            last_threshold_update: None,
            overuse_ms: None,
            overuse_count: 0,
            previous_trend: 0.0,
            usage: Usage::Normal,
            trend: 0.0,
        }
    }
}

impl Trendline {
    pub(crate) fn usage(&self) -> Usage {
        self.usage
    }

    /// Feeds one received packet, in send order.
    pub(crate) fn on_packet(&mut self, sent: Timestamp, arrival: Timestamp) {
        match &mut self.current {
            Some(g) if sent.as_micros().saturating_sub(g.first_sent.as_micros()) <= GROUP_SPAN_MICROS => {
                g.last_sent = g.last_sent.max(sent);
                g.last_arrival = g.last_arrival.max(arrival);
                return;
            }
            _ => {}
        }
        if let (Some(prev), Some(cur)) = (self.previous, self.current) {
            let send_delta = cur.last_sent.as_micros() as f64 - prev.last_sent.as_micros() as f64;
            let arrival_delta = cur.last_arrival.as_micros() as f64 - prev.last_arrival.as_micros() as f64;
            self.on_delta((arrival_delta - send_delta) / 1000.0, arrival_delta / 1000.0, cur.last_arrival);
        }
        self.previous = self.current;
        self.current = Some(Group { first_sent: sent, last_sent: sent, last_arrival: arrival });
    }

    fn on_delta(&mut self, delay_ms: f64, arrival_delta_ms: f64, arrival: Timestamp) {
        let first = *self.first_arrival.get_or_insert(arrival);
        self.deltas = self.deltas.saturating_add(1);
        self.accumulated += delay_ms;
        self.smoothed = SMOOTHING * self.smoothed + (1.0 - SMOOTHING) * self.accumulated;
        // Arrival times come from the peer's feedback: they may run backwards (reordering, or
        // a broken peer), so the difference is signed.
        let x = (arrival.as_micros() as i64).wrapping_sub(first.as_micros() as i64) as f64 / 1000.0;
        self.points.push_back((x, self.smoothed));
        if self.points.len() > WINDOW {
            self.points.pop_front();
        }
        if self.points.len() == WINDOW
            && let Some(slope) = slope(&self.points)
        {
            self.trend = f64::from(self.deltas.min(60)) * slope * GAIN;
            self.detect(arrival_delta_ms, arrival);
        }
    }

    fn detect(&mut self, arrival_delta_ms: f64, now: Timestamp) {
        let trend = self.trend;
        if trend > self.threshold {
            let t = match self.overuse_ms {
                None => arrival_delta_ms / 2.0,
                Some(t) => t + arrival_delta_ms,
            };
            self.overuse_ms = Some(t);
            self.overuse_count += 1;
            if t > OVERUSE_TIME_MS && self.overuse_count > 1 && trend >= self.previous_trend {
                self.overuse_ms = Some(0.0);
                self.overuse_count = 0;
                self.usage = Usage::Overuse;
            }
        } else if trend < -self.threshold {
            self.overuse_ms = None;
            self.overuse_count = 0;
            self.usage = Usage::Underuse;
        } else {
            self.overuse_ms = None;
            self.overuse_count = 0;
            self.usage = Usage::Normal;
        }
        self.previous_trend = trend;
        self.adapt_threshold(trend, now);
    }

    fn adapt_threshold(&mut self, trend: f64, now: Timestamp) {
        let last = *self.last_threshold_update.get_or_insert(now);
        // A spike far above the threshold is a jump (a route change), not a trend to follow.
        if trend.abs() > self.threshold + 15.0 {
            self.last_threshold_update = Some(now);
            return;
        }
        let k = if trend.abs() < self.threshold { K_DOWN } else { K_UP };
        let dt_ms = ((now.as_micros().saturating_sub(last.as_micros())) as f64 / 1000.0).min(100.0);
        self.threshold += k * (trend.abs() - self.threshold) * dt_ms;
        self.threshold = self.threshold.clamp(THRESHOLD_MIN, THRESHOLD_MAX);
        self.last_threshold_update = Some(now);
    }
}

/// Least-squares slope of `points`, if they are not all at one x.
fn slope(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) =
        points.iter().fold((0.0, 0.0), |(num, den), (x, y)| (num + (x - mx) * (y - my), den + (x - mx) * (x - mx)));
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut Trendline, packets: u64, gap_us: u64, extra_delay_per_packet_us: u64) -> Vec<Usage> {
        let mut seen = Vec::new();
        for i in 0..packets {
            let sent = Timestamp::from_micros(i * gap_us);
            let arrival = Timestamp::from_micros(i * gap_us + 20_000 + i * extra_delay_per_packet_us);
            t.on_packet(sent, arrival);
            seen.push(t.usage());
        }
        seen
    }

    #[test]
    fn a_steady_path_is_normal() {
        let mut t = Trendline::default();
        let seen = feed(&mut t, 2000, 1000, 0);
        assert!(seen.iter().all(|u| *u == Usage::Normal));
    }

    #[test]
    fn a_growing_queue_is_overuse() {
        let mut t = Trendline::default();
        // Each packet waits 0.2 ms longer than the one before: a queue filling at 20 %.
        let seen = feed(&mut t, 400, 1000, 200);
        assert!(seen.contains(&Usage::Overuse), "trend {}", t.trend);
    }

    #[test]
    fn a_draining_queue_is_underuse() {
        let mut t = Trendline::default();
        for i in 0..300u64 {
            let sent = Timestamp::from_micros(i * 1000);
            let queue = 100_000u64.saturating_sub(i * 300);
            t.on_packet(sent, Timestamp::from_micros(i * 1000 + 20_000 + queue));
        }
        assert_eq!(t.usage(), Usage::Underuse);
    }
}
