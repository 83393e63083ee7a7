//! The client's stall detector. A stall is a picture that should have changed and did not:
//! no new frame for [`STALL_AFTER_US`] while the server says it is sending (its last frame was
//! flagged active, or display messages keep arriving without becoming pictures), or an input
//! event whose effect has not shown after [`STALL_AFTER_US`] plus a round trip. Each stall is
//! reported once, when it is noticed; the next can only start after a picture has been shown.

use std::collections::VecDeque;

use asp_core::wire::control::StallKind;

/// How long a picture may stand still while it should be changing.
pub const STALL_AFTER_US: u64 = 200_000;
/// Input events remembered while unanswered.
const MAX_PENDING: usize = 4096;

/// A stall the detector noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// Which kind.
    pub kind: StallKind,
    /// How long the picture has stood still (or the input waited), µs.
    pub duration_us: u64,
}

/// Watches shown frames, display activity and input; all times are the client's, in µs.
#[derive(Debug, Clone, Default)]
pub struct StallDetector {
    last_shown_us: Option<u64>,
    source_active: bool,
    arrived_since_shown: bool,
    pending_inputs: VecDeque<(u64, u64)>,
    reported: bool,
    /// Newest input already reported unanswered: each input is reported once.
    reported_input: u64,
    stalls: u64,
}

impl StallDetector {
    /// A detector with nothing seen.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A picture was shown; `active` is its header's flag, `answered_input` its newest answered
    /// input.
    pub fn on_shown(&mut self, now_us: u64, active: bool, answered_input: u64) {
        self.last_shown_us = Some(now_us);
        self.source_active = active;
        self.arrived_since_shown = false;
        self.reported = false;
        while self.pending_inputs.front().is_some_and(|(seq, _)| *seq <= answered_input) {
            self.pending_inputs.pop_front();
        }
    }

    /// A display message (or news of a dropped one) arrived.
    pub fn on_display_activity(&mut self) {
        self.arrived_since_shown = true;
    }

    /// An input event left.
    pub fn on_input_sent(&mut self, seq: u64, now_us: u64) {
        if self.pending_inputs.len() == MAX_PENDING {
            self.pending_inputs.pop_front();
        }
        self.pending_inputs.push_back((seq, now_us));
    }

    /// Stalls reported so far.
    #[must_use]
    pub fn stalls(&self) -> u64 {
        self.stalls
    }

    /// Checks for a stall; `rtt_us` is the current round trip. Returns a stall once per
    /// episode.
    pub fn poll(&mut self, now_us: u64, rtt_us: u64) -> Option<Stall> {
        if self.reported {
            return None;
        }
        let shown = self.last_shown_us?;
        let still = now_us.saturating_sub(shown);
        let stall = if still > STALL_AFTER_US && (self.source_active || self.arrived_since_shown) {
            Some(Stall { kind: StallKind::NoFrames, duration_us: still })
        } else {
            let reported_input = self.reported_input;
            let late =
                self.pending_inputs.iter().rev().find(|(seq, sent)| {
                    *seq > reported_input && now_us.saturating_sub(*sent) > STALL_AFTER_US + rtt_us
                });
            late.copied().map(|(seq, sent)| {
                self.reported_input = seq;
                Stall { kind: StallKind::InputUnanswered, duration_us: now_us.saturating_sub(sent) }
            })
        };
        if stall.is_some() {
            self.reported = true;
            self.stalls += 1;
        }
        stall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;

    #[test]
    fn a_still_active_picture_is_one_stall() {
        let mut d = StallDetector::new();
        d.on_shown(0, true, 0);
        assert_eq!(d.poll(150 * MS, 0), None);
        assert_eq!(d.poll(250 * MS, 0), Some(Stall { kind: StallKind::NoFrames, duration_us: 250 * MS }));
        assert_eq!(d.poll(400 * MS, 0), None, "one report per episode");
        d.on_shown(500 * MS, true, 0);
        assert_eq!(d.poll(600 * MS, 0), None);
        assert_eq!(d.poll(701 * MS, 0).map(|s| s.kind), Some(StallKind::NoFrames));
        assert_eq!(d.stalls(), 2);
    }

    #[test]
    fn an_idle_screen_is_not_a_stall_but_arrivals_without_pictures_are() {
        let mut d = StallDetector::new();
        d.on_shown(0, false, 0);
        assert_eq!(d.poll(10_000 * MS, 0), None);
        d.on_display_activity();
        assert_eq!(d.poll(10_001 * MS, 0).map(|s| s.kind), Some(StallKind::NoFrames));
    }

    #[test]
    fn unanswered_input_is_a_stall_after_a_round_trip_more() {
        let mut d = StallDetector::new();
        d.on_shown(0, false, 0);
        d.on_input_sent(1, 10 * MS);
        d.on_input_sent(2, 20 * MS);
        d.on_shown(30 * MS, false, 1);
        assert_eq!(d.poll(250 * MS, 40 * MS), None);
        let s = d.poll(261 * MS, 40 * MS).unwrap();
        assert_eq!((s.kind, s.duration_us), (StallKind::InputUnanswered, 241 * MS));
        d.on_shown(300 * MS, false, 2);
        assert_eq!(d.poll(10_000 * MS, 40 * MS), None);
    }

    #[test]
    fn an_input_that_is_never_answered_is_reported_once() {
        let mut d = StallDetector::new();
        d.on_shown(0, true, 0);
        d.on_input_sent(1, 0);
        d.on_shown(100 * MS, true, 0);
        assert_eq!(d.poll(300 * MS, 0).map(|s| s.kind), Some(StallKind::InputUnanswered));
        for t in 1..20 {
            d.on_shown((300 + t * 16) * MS, true, 0);
            assert_eq!(d.poll((301 + t * 16) * MS, 0), None, "pictures keep coming: no new stall");
        }
        d.on_input_sent(2, 700 * MS);
        d.on_shown(940 * MS, true, 0);
        assert_eq!(d.poll(950 * MS, 0).map(|s| s.kind), Some(StallKind::InputUnanswered), "a new input, a new report");
        assert_eq!(d.stalls(), 2);
    }
}
