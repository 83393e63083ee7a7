//! Transport-wide feedback: the receiver notes when each packet arrived and reports runs of
//! them (`TRANSPORT_FEEDBACK`); the sender remembers when and how big each packet was, and joins
//! the two into per-packet results for the estimators.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::time::Timestamp;
use crate::wire::frame::{FeedbackFrame, MAX_FEEDBACK_PACKETS};

/// Receiver side: arrivals since the last report.
#[derive(Debug, Default)]
pub(crate) struct FeedbackRecorder {
    /// First packet number the next report covers.
    next_base: Option<u64>,
    arrivals: BTreeMap<u64, Timestamp>,
    last_report: Timestamp,
}

/// A receiver reports every 50 ms, or as soon as 32 packets wait.
const REPORT_INTERVAL: Duration = Duration::from_millis(50);
const REPORT_PACKETS: usize = 32;
/// Most packets in one report: small enough to share a packet with other frames.
const MAX_REPORT: u64 = 256;

impl FeedbackRecorder {
    pub(crate) fn on_packet(&mut self, pn: u64, now: Timestamp) {
        if self.next_base.is_some_and(|b| pn < b) {
            return; // already reported (as lost); a late arrival is not reported twice
        }
        self.next_base.get_or_insert(pn);
        self.arrivals.insert(pn, now);
        if self.arrivals.len() > 4 * MAX_FEEDBACK_PACKETS {
            // The peer has not let us send a report for a long time; keep the newest.
            let keep = self.arrivals.split_off(&(pn.saturating_sub(MAX_FEEDBACK_PACKETS as u64)));
            self.arrivals = keep;
        }
    }

    /// When a report is due, if anything is waiting.
    pub(crate) fn due_at(&self) -> Option<Timestamp> {
        if self.arrivals.is_empty() {
            return None;
        }
        if self.arrivals.len() >= REPORT_PACKETS {
            return Some(self.last_report);
        }
        Some(self.last_report + REPORT_INTERVAL)
    }

    /// The report of everything since the last one.
    pub(crate) fn report(&mut self, now: Timestamp) -> Option<FeedbackFrame> {
        let (&last, _) = self.arrivals.last_key_value()?;
        let mut base = self.next_base.unwrap_or(last);
        base = base.max(last.saturating_sub(MAX_REPORT - 1));
        let arrivals = (base..=last).map(|pn| self.arrivals.get(&pn).map(|t| t.as_micros())).collect();
        self.arrivals.clear();
        self.next_base = Some(last + 1);
        self.last_report = now;
        Some(FeedbackFrame { base, arrivals })
    }
}

/// One packet as the estimators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketResult {
    pub(crate) pn: u64,
    pub(crate) sent: Timestamp,
    pub(crate) size: usize,
    /// Arrival on the receiver's clock, or `None` when lost.
    pub(crate) arrival: Option<Timestamp>,
}

/// Sender side: what was sent, kept long enough to be reported on.
#[derive(Debug, Default)]
pub(crate) struct SendHistory {
    packets: VecDeque<(u64, Timestamp, usize)>,
}

/// How long the sender remembers a packet for feedback.
const HISTORY: Duration = Duration::from_secs(3);

impl SendHistory {
    pub(crate) fn on_sent(&mut self, pn: u64, now: Timestamp, size: usize) {
        self.packets.push_back((pn, now, size));
        while self.packets.front().is_some_and(|p| p.1 + HISTORY < now) {
            self.packets.pop_front();
        }
    }

    /// Joins a report with the history, in packet-number order; entries for packets not in
    /// the history (too old, never sent) are left out.
    pub(crate) fn resolve(&self, report: &FeedbackFrame, out: &mut Vec<PacketResult>) {
        let Some(&(first, _, _)) = self.packets.front() else { return };
        for (i, arrival) in report.arrivals.iter().enumerate() {
            let pn = report.base + i as u64;
            let Some(index) = pn.checked_sub(first) else { continue };
            let Some(&(p, sent, size)) = self.packets.get(index as usize) else { break };
            // Packet numbers are consecutive in the history only if every packet was recorded;
            // check rather than trust.
            if p != pn {
                continue;
            }
            out.push(PacketResult { pn, sent, size, arrival: arrival.map(Timestamp::from_micros) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::Frame;
    use bytes::Bytes;

    #[test]
    fn reports_join_with_the_history_through_the_wire() {
        let mut history = SendHistory::default();
        let mut recorder = FeedbackRecorder::default();
        let mut results = Vec::new();
        for pn in 0..200u64 {
            let sent = Timestamp::from_micros(pn * 1000);
            history.on_sent(pn, sent, 1000);
            if pn % 10 != 3 {
                recorder.on_packet(pn, sent + Duration::from_millis(20));
            }
            if pn % 32 == 31 {
                let report = recorder.report(sent).unwrap();
                let mut wire = Vec::new();
                Frame::Feedback(report).encode(&mut wire);
                let decoded = crate::wire::frame::FrameIter::new(Bytes::from(wire)).next().unwrap().unwrap();
                let Frame::Feedback(report) = decoded else { panic!("not feedback") };
                history.resolve(&report, &mut results);
            }
        }
        assert_eq!(results.len(), 192);
        let lost = results.iter().filter(|r| r.arrival.is_none()).count();
        assert_eq!(lost, 19);
        for r in results.iter().filter(|r| r.arrival.is_some()) {
            assert_eq!(r.arrival.unwrap(), r.sent + Duration::from_millis(20));
        }
    }
}
