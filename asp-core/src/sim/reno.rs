//! A TCP-like bulk flow with NewReno congestion control, in virtual time: the competing
//! traffic of RFC 8867 §5.6. Slow start, congestion avoidance, one window halving per round
//! trip of losses (detected by three later acknowledgements), and a retransmission timeout.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::time::Timestamp;

/// Segment size on the wire, bytes.
pub const SEGMENT: usize = 1200;

/// Sender and receiver state of one flow.
#[derive(Debug)]
pub struct Reno {
    cwnd: f64,
    ssthresh: f64,
    next_seq: u64,
    /// Segments in flight: sequence -> send time.
    outstanding: BTreeMap<u64, Timestamp>,
    /// Losses at or beyond this sequence start a new recovery episode.
    recovery_point: u64,
    srtt: Option<Duration>,
    /// Distinct segments the receiver got.
    delivered: u64,
    received: crate::range_set::RangeSet,
}

impl Default for Reno {
    fn default() -> Self {
        Reno {
            cwnd: 2.0,
            ssthresh: f64::INFINITY,
            next_seq: 0,
            outstanding: BTreeMap::new(),
            recovery_point: 0,
            srtt: None,
            delivered: 0,
            received: crate::range_set::RangeSet::default(),
        }
    }
}

impl Reno {
    /// Segments the window lets out now; returns their sequence numbers.
    pub fn poll_send(&mut self, now: Timestamp) -> Vec<u64> {
        self.check_timeout(now);
        let mut out = Vec::new();
        while (self.outstanding.len() as f64) < self.cwnd.floor().max(1.0) {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.outstanding.insert(seq, now);
            out.push(seq);
        }
        out
    }

    fn rto(&self) -> Duration {
        self.srtt.map_or(Duration::from_secs(1), |s| (2 * s).max(Duration::from_millis(200)))
    }

    /// When the retransmission timer fires, if anything is in flight.
    pub fn timeout_at(&self) -> Option<Timestamp> {
        self.outstanding.values().min().map(|t| *t + self.rto())
    }

    fn check_timeout(&mut self, now: Timestamp) {
        if self.timeout_at().is_some_and(|t| now >= t) {
            self.ssthresh = (self.cwnd / 2.0).max(2.0);
            self.cwnd = 1.0;
            self.outstanding.clear();
            self.recovery_point = self.next_seq;
        }
    }

    /// The receiver got segment `seq`: returns the acknowledgement to send back (the segment
    /// number itself: a selective acknowledgement).
    pub fn on_segment(&mut self, seq: u64) -> u64 {
        if !self.received.contains(seq) {
            self.received.insert(seq, seq);
            self.received.truncate_low(1024);
            self.delivered += 1;
        }
        seq
    }

    /// The sender got the acknowledgement of `seq`.
    pub fn on_ack(&mut self, now: Timestamp, seq: u64) {
        let Some(sent) = self.outstanding.remove(&seq) else { return };
        let sample = now.saturating_since(sent);
        self.srtt = Some(self.srtt.map_or(sample, |s| (7 * s + sample) / 8));
        if self.cwnd < self.ssthresh {
            self.cwnd += 1.0;
        } else {
            self.cwnd += 1.0 / self.cwnd;
        }
        // Three later segments acknowledged: the earlier ones are lost.
        let lost: Vec<u64> = self.outstanding.range(..seq.saturating_sub(2)).map(|(s, _)| *s).collect();
        if lost.is_empty() {
            return;
        }
        if lost[0] >= self.recovery_point {
            self.ssthresh = (self.cwnd / 2.0).max(2.0);
            self.cwnd = self.ssthresh;
            self.recovery_point = self.next_seq;
        }
        for s in lost {
            // Retransmitted as new segments: only distinct deliveries count.
            self.outstanding.remove(&s);
        }
    }

    /// Distinct segments delivered so far.
    #[must_use]
    pub fn delivered_bytes(&self) -> u64 {
        self.delivered * SEGMENT as u64
    }
}
