//! Time-driven behaviour: loss detection and probe timeouts (RFC 9002 style), keep-alive, idle
//! and handshake timeouts, media reassembly deadlines, and the choice of the next wake-up.

use std::time::Duration;

use super::{Role, Session, State, TimeoutReason};
use crate::error::SessionError;
use crate::time::Timestamp;

/// Packets with this many later packets acknowledged are lost (RFC 9002 kPacketThreshold).
const PACKET_THRESHOLD: u64 = 3;
/// Packets tracked in flight at most; past it the oldest are declared lost, which bounds the
/// memory a peer that never acknowledges can cost.
const MAX_SENT_TRACKED: usize = 32_768;

impl Session {
    pub(super) fn on_timeout(&mut self, now: Timestamp) {
        match self.state {
            State::Closed => return,
            State::Closing { until } => {
                if now >= until {
                    self.state = State::Closed;
                }
                return;
            }
            State::Handshaking => {
                if now >= self.created + self.config.handshake_timeout {
                    self.end(SessionError::HandshakeTimeout);
                    return;
                }
            }
            State::Established => {
                if now >= self.last_received + self.config.idle_timeout {
                    self.end(SessionError::IdleTimeout);
                    return;
                }
                if !self.config.reliable_carrier {
                    if self.loss_time.is_some_and(|t| t <= now) {
                        self.detect_lost(now);
                    } else if self.pto_time().is_some_and(|t| t <= now) {
                        self.pto_count += 1;
                        self.probe_pending = true;
                        self.stats.probe_timeouts += 1;
                    }
                }
            }
        }
        self.expire_partials(now);
    }

    fn expire_partials(&mut self, now: Timestamp) {
        let due: Vec<u32> =
            self.recv.iter().filter(|(_, r)| r.next_deadline().is_some_and(|d| now > d)).map(|(id, _)| *id).collect();
        for id in due {
            self.on_channel(id, |recv, stats, out| recv.expire(now, stats, out));
        }
    }

    fn pto_time(&self) -> Option<Timestamp> {
        if self.ack_eliciting_in_flight == 0 || self.state != State::Established {
            return None;
        }
        let base = self.rtt.pto_base(self.config.max_ack_delay);
        Some(self.last_ack_eliciting_sent + base * (1u32 << self.pto_count.min(8)))
    }

    /// Declares lost what the acknowledgements so far show lost (RFC 9002 §6.1).
    pub(super) fn detect_lost(&mut self, now: Timestamp) {
        self.loss_time = None;
        let Some(largest_acked) = self.largest_acked else { return };
        if self.config.reliable_carrier {
            return;
        }
        let loss_delay = (self.rtt.get().max(self.rtt.latest()) * 9 / 8).max(Duration::from_millis(1));
        let lost_before = now.saturating_sub(loss_delay);
        let mut lost = Vec::new();
        for (&pn, packet) in self.sent.range(..largest_acked) {
            if packet.time <= lost_before || largest_acked >= pn + PACKET_THRESHOLD {
                lost.push(pn);
            } else {
                let at = packet.time + loss_delay;
                self.loss_time = Some(self.loss_time.map_or(at, |t| t.min(at)));
            }
        }
        for pn in lost {
            self.declare_lost(pn);
        }
    }

    fn declare_lost(&mut self, pn: u64) {
        let Some(packet) = self.sent.remove(&pn) else { return };
        self.stats.packets_lost += 1;
        if packet.ack_eliciting {
            self.ack_eliciting_in_flight -= 1;
        }
        for f in packet.fragments {
            if let (Some(retx), Some(c)) = (f.retx, self.scheduler.channels.get_mut(&f.channel)) {
                c.on_lost(retx);
            }
        }
    }

    /// Keeps the in-flight record bounded when the peer stops acknowledging.
    pub(super) fn limit_in_flight(&mut self) {
        while self.sent.len() > MAX_SENT_TRACKED {
            let Some((&oldest, _)) = self.sent.first_key_value() else { break };
            self.declare_lost(oldest);
        }
    }

    /// The next time the session needs to be woken, and why.
    pub(super) fn next_timeout(&mut self, now: Timestamp) -> Timestamp {
        let mut best = (Timestamp::MAX, TimeoutReason::Nothing);
        let mut consider = |t: Timestamp, reason| {
            if t < best.0 {
                best = (t, reason);
            }
        };
        match self.state {
            State::Closed => {}
            State::Closing { until } => consider(until, TimeoutReason::Closing),
            State::Handshaking => {
                consider(self.created + self.config.handshake_timeout, TimeoutReason::Handshake);
                if let (Role::Client, Some(t)) = (self.role, self.hello_next) {
                    consider(t, TimeoutReason::Handshake);
                }
            }
            State::Established => {
                consider(self.last_received + self.config.idle_timeout, TimeoutReason::Idle);
                consider(self.last_ack_eliciting_sent + self.config.keep_alive, TimeoutReason::KeepAlive);
                if let Some(t) = self.ack_deadline {
                    consider(t, TimeoutReason::Ack);
                }
                if let Some(t) = self.feedback.due_at() {
                    consider(t.max(now), TimeoutReason::Feedback);
                }
                if !self.config.reliable_carrier {
                    match (self.loss_time, self.pto_time()) {
                        (Some(t), _) => consider(t, TimeoutReason::LossDetection),
                        (None, Some(t)) => consider(t, TimeoutReason::Probe),
                        (None, None) => {}
                    }
                }
                if self.scheduler.paced_backlog() {
                    consider(self.pacer.next_send_time().max(now + Duration::from_micros(1)), TimeoutReason::Pacing);
                }
                if self.scheduler.class0_ready() {
                    let t = self.pacer.next_borrow_time(self.max_borrow());
                    consider(t.max(now + Duration::from_micros(1)), TimeoutReason::Pacing);
                }
                for r in self.recv.values() {
                    if let Some(d) = r.next_deadline() {
                        consider(d + Duration::from_micros(1), TimeoutReason::Reassembly);
                    }
                }
            }
        }
        self.last_timeout_reason = best.1;
        best.0
    }
}
