//! The receive path: datagram -> header -> frames -> acknowledgements, channel delivery,
//! handshake and close.

use std::time::Duration;

use bytes::Bytes;

use super::{Event, Role, Session, State};
use crate::channel::ChannelId;
use crate::error::{CloseCode, SessionError};
use crate::negotiate::{CapabilityMismatch, Negotiated, negotiate};
use crate::recv_channel::{Delivery, RecvChannel, Refusal};
use crate::stats::{ChannelStats, DropReason};
use crate::time::Timestamp;
use crate::wire::control::{ControlMessage, KeyframeReason};
use crate::wire::frame::{AckFrame, CloseFrame, FeedbackFrame, Fragment, Frame, FrameError, FrameIter, RepairFrame};
use crate::wire::handshake::HandshakeMessage;
use crate::wire::packet::{Header, HeaderError};

/// NACKs waiting to be sent, at most.
const MAX_PENDING_NACKS: usize = 64;

/// Packet-number ranges remembered for acknowledgements and duplicate detection.
const MAX_RECEIVED_RANGES: usize = 256;

/// Why a packet was refused part-way; it is then not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Unexpected,
    UnknownChannel,
    WindowExceeded,
    Malformed,
    BadBody,
}

impl Session {
    pub(super) fn on_datagram(&mut self, now: Timestamp, data: Bytes) {
        self.stats.packets_received += 1;
        self.stats.bytes_received += data.len() as u64;
        if self.state == State::Closed {
            return;
        }
        if data.len() > crate::config::MAX_MTU {
            self.stats.bad_packets.oversized += 1;
            return;
        }
        let mut body = data;
        let header = match Header::decode(&mut body) {
            Ok(h) => h,
            Err(HeaderError::NotAsp(_)) => return self.stats.bad_packets.not_asp += 1,
            Err(HeaderError::BadVersionList(_)) => return self.stats.bad_packets.oversized += 1,
            Err(HeaderError::Truncated(_)) => return self.stats.bad_packets.truncated += 1,
        };
        if let State::Closing { .. } = self.state {
            // Whatever arrives, the peer has not heard our CLOSE yet: say it again (bounded).
            if self.close_repeats > 0 && self.close_frame.is_some() {
                self.close_repeats -= 1;
                self.close_pending = true;
            }
            return;
        }
        match header {
            Header::VersionNegotiation { versions } => self.on_version_negotiation(now, versions),
            Header::Long { version, number } => {
                if !self.config.versions.contains(&version) {
                    if self.role == Role::Server && self.state == State::Handshaking {
                        self.send_version_negotiation = true;
                    }
                    self.stats.bad_packets.wrong_version += 1;
                    return;
                }
                if self.role == Role::Server && self.state == State::Handshaking {
                    self.version = version;
                } else if version != self.version {
                    self.stats.bad_packets.wrong_version += 1;
                    return;
                }
                self.on_packet(now, number, body, true);
            }
            Header::Short { number } => {
                if self.state == State::Handshaking {
                    self.stats.bad_packets.unexpected += 1;
                    return;
                }
                self.on_packet(now, number, body, false);
            }
        }
    }

    fn on_version_negotiation(&mut self, now: Timestamp, theirs: Vec<u32>) {
        if self.role != Role::Client || self.state != State::Handshaking || theirs.contains(&self.version) {
            self.stats.bad_packets.unexpected += 1;
            return;
        }
        match self.config.versions.iter().find(|v| theirs.contains(v)) {
            Some(&v) => {
                self.version = v;
                self.hello_next = Some(now);
            }
            None => {
                let ours = self.config.versions.clone();
                self.end(SessionError::VersionMismatch { ours, theirs });
            }
        }
    }

    fn on_packet(&mut self, now: Timestamp, pn: u64, body: Bytes, long: bool) {
        if self.received.contains(pn)
            || (self.received.len() >= MAX_RECEIVED_RANGES && self.received.min().is_some_and(|m| pn < m))
        {
            self.stats.bad_packets.duplicate += 1;
            return;
        }
        let mut ack_eliciting = false;
        // A frame the session cannot take *yet* (its channel's window is full) leaves the
        // packet unacknowledged, so that the sender repeats it; the other frames are still
        // used. Data for an unknown channel is skipped: a sender waits for its OpenChannel to
        // be acknowledged before sending data, so it can only be for a channel just closed.
        let mut acknowledge = true;
        // A packet is taken whole or not at all: check that every frame parses before any of
        // them has an effect. Parsing twice is cheap (payloads are shared, not copied).
        if let Some(Err(e)) = FrameIter::new(body.clone()).find(Result::is_err) {
            let bad = &mut self.stats.bad_packets;
            match e {
                FrameError::Truncated(_) => bad.truncated += 1,
                FrameError::Oversized { .. } => bad.oversized += 1,
                _ => bad.malformed_frame += 1,
            }
            return;
        }
        for frame in FrameIter::new(body) {
            let Ok(frame) = frame else { return };
            match self.on_frame(now, frame, long) {
                Ok(elicits) => ack_eliciting |= elicits,
                Err(refused) => {
                    let bad = &mut self.stats.bad_packets;
                    match refused {
                        Refused::UnknownChannel => bad.unknown_channel += 1,
                        Refused::WindowExceeded => bad.window_exceeded += 1,
                        Refused::Unexpected => bad.unexpected += 1,
                        Refused::Malformed => bad.malformed_frame += 1,
                        Refused::BadBody => bad.bad_body += 1,
                    }
                    match refused {
                        Refused::UnknownChannel => {}
                        Refused::WindowExceeded => acknowledge = false,
                        Refused::Unexpected | Refused::Malformed | Refused::BadBody => return,
                    }
                }
            }
            if matches!(self.state, State::Closed | State::Closing { .. }) {
                return;
            }
        }
        if !acknowledge {
            self.last_received = now;
            return;
        }
        let in_order = self.received.max().is_none_or(|m| pn == m + 1);
        if self.received.max().is_none_or(|m| pn > m) {
            self.largest_received_at = now;
        }
        self.received.insert(pn, pn);
        self.received.truncate_low(MAX_RECEIVED_RANGES);
        if !long {
            self.feedback.on_packet(pn, now);
        }
        self.last_received = now;
        if ack_eliciting {
            self.ack_eliciting_unacked += 1;
            if !in_order || self.ack_eliciting_unacked >= 2 || long {
                self.ack_now = true;
            } else if self.ack_deadline.is_none() {
                self.ack_deadline = Some(now + self.config.max_ack_delay);
            }
        }
    }

    /// Applies one frame; returns whether it elicits an acknowledgement.
    fn on_frame(&mut self, now: Timestamp, frame: Frame, long: bool) -> Result<bool, Refused> {
        match frame {
            Frame::Padding => Ok(false),
            Frame::Ping => Ok(true),
            Frame::Ack(ack) => {
                self.on_ack(now, &ack)?;
                Ok(false)
            }
            Frame::Close(close) => {
                self.on_peer_close(close);
                Ok(true)
            }
            Frame::Handshake(body) => {
                if !long {
                    return Err(Refused::Unexpected);
                }
                let msg = HandshakeMessage::decode(&body).map_err(|_| Refused::BadBody)?;
                self.on_handshake(now, msg)?;
                Ok(true)
            }
            Frame::Timestamp(remote) => {
                self.peer_clock.observe(now, remote);
                Ok(false)
            }
            Frame::Fragment(f) => {
                if long || self.state != State::Established {
                    return Err(Refused::Unexpected);
                }
                self.on_fragment(now, f)?;
                Ok(true)
            }
            Frame::Dropped { channel, seq, reason } => {
                if long {
                    return Err(Refused::Unexpected);
                }
                let id = u32::try_from(channel).map_err(|_| Refused::UnknownChannel)?;
                // The sender's reason, when it is one this version knows.
                let reason = DropReason::from_code(reason).unwrap_or(DropReason::SenderDropped);
                self.on_channel(id, |recv, stats, out| recv.on_sender_dropped(now, seq, reason, stats, out))
                    .ok_or(Refused::UnknownChannel)?;
                Ok(true)
            }
            Frame::Nack(n) => {
                if long || self.state != State::Established {
                    return Err(Refused::Unexpected);
                }
                let id = u32::try_from(n.channel).map_err(|_| Refused::UnknownChannel)?;
                let (one_way, rate) = (self.rtt.get() / 2, self.pacer.rate_bps());
                match self.scheduler.channels.get_mut(&id) {
                    Some(c) if c.config.mode == crate::DeliveryMode::MediaFrames => {
                        c.on_nack(now, n.seq, &n.ranges, one_way, rate)
                    }
                    Some(_) => {}
                    None => return Err(Refused::UnknownChannel),
                }
                Ok(true)
            }
            Frame::Repair(r) => {
                if long || self.state != State::Established {
                    return Err(Refused::Unexpected);
                }
                self.on_repair(now, r)?;
                Ok(true)
            }
            Frame::Feedback(report) => {
                if long {
                    return Err(Refused::Unexpected);
                }
                self.on_feedback(now, &report);
                Ok(false)
            }
            Frame::Extension { .. } => {
                self.stats.extensions_ignored += 1;
                Ok(false)
            }
        }
    }

    /// A media deadline from the peer's clock, in ours; without a timestamp yet, now.
    fn local_deadline(&self, now: Timestamp, remote: u64) -> Timestamp {
        self.peer_clock.to_local(remote, self.rtt.min()).unwrap_or(now)
    }

    /// Runs `f` on channel `id`'s receiving end and its statistics, then hands what it
    /// delivered to the application. `None` when no such channel is open.
    pub(super) fn on_channel<R>(
        &mut self,
        id: u32,
        f: impl FnOnce(&mut RecvChannel, &mut ChannelStats, &mut Vec<Delivery>) -> R,
    ) -> Option<R> {
        let (Some(recv), Some(send)) = (self.recv.get_mut(&id), self.scheduler.channels.get_mut(&id)) else {
            return None;
        };
        let mut out = std::mem::take(&mut self.deliveries);
        let result = f(recv, &mut send.stats, &mut out);
        self.dispatch(id, &mut out);
        self.deliveries = out;
        Some(result)
    }

    fn on_fragment(&mut self, now: Timestamp, f: Fragment) -> Result<(), Refused> {
        let id = u32::try_from(f.channel).map_err(|_| Refused::UnknownChannel)?;
        let deadline = f.deadline.map(|remote| self.local_deadline(now, remote));
        let (seq, offset) = (f.seq, f.offset);
        let (rtt, nack) = (self.rtt.get(), !self.config.reliable_carrier);
        let (result, nacks) = self
            .on_channel(id, |recv, stats, out| {
                stats.fragments_received += 1;
                let result = recv.on_fragment(now, f, deadline, stats, out);
                let mut nacks = Vec::new();
                if result.is_ok() && nack {
                    recv.nacks(now, seq, offset, rtt, id, &mut nacks);
                    stats.nacks_sent += nacks.len() as u64;
                }
                (result, nacks)
            })
            .ok_or(Refused::UnknownChannel)?;
        for n in nacks {
            if self.pending_nacks.len() < MAX_PENDING_NACKS {
                self.pending_nacks.push_back(n);
            }
        }
        result.map_err(|r| match r {
            Refusal::WindowExceeded => Refused::WindowExceeded,
            Refusal::Malformed => Refused::Malformed,
        })
    }

    fn on_repair(&mut self, now: Timestamp, r: RepairFrame) -> Result<(), Refused> {
        let id = u32::try_from(r.channel).map_err(|_| Refused::UnknownChannel)?;
        let deadline = Some(self.local_deadline(now, r.deadline));
        self.on_channel(id, |recv, stats, out| recv.on_repair(now, r, deadline, stats, out))
            .ok_or(Refused::UnknownChannel)?
            .map_err(|_| Refused::Malformed)
    }

    /// Turns channel deliveries into events (or control handling for channel 0).
    pub(super) fn dispatch(&mut self, id: u32, out: &mut Vec<Delivery>) {
        for d in out.drain(..) {
            match d {
                Delivery::Message { data, .. } if id == 0 => self.on_control(&data),
                Delivery::Message { seq, data } => {
                    self.events.push_back(Event::Message { channel: ChannelId(id), seq, data })
                }
                Delivery::Dropped { seq, reason } => {
                    self.events.push_back(Event::MessageDropped { channel: ChannelId(id), seq, reason });
                    self.request_keyframe(id);
                }
            }
        }
    }

    /// A media frame was lost for good: ask the sender's encoder for a fresh reference, at
    /// most once per round trip (at least 100 ms) per channel, since one refresh answers every
    /// loss before it arrives.
    fn request_keyframe(&mut self, id: u32) {
        let media = self.recv_mode(id) == Some(crate::DeliveryMode::MediaFrames);
        if !media || !self.config.auto_keyframe_requests {
            return;
        }
        let now = self.last_now;
        let spacing = self.rtt.get().max(Duration::from_millis(100));
        if self.keyframe_requested.get(&id).is_some_and(|t| now.saturating_since(*t) < spacing) {
            return;
        }
        self.keyframe_requested.insert(id, now);
        self.stats.keyframe_requests += 1;
        let request = ControlMessage::KeyframeRequest { channel: ChannelId(id), reason: KeyframeReason::FrameLost };
        let _ = self.queue_control(request);
    }

    fn recv_mode(&self, id: u32) -> Option<crate::DeliveryMode> {
        self.scheduler.channels.get(&id).map(|c| c.config.mode)
    }

    fn on_control(&mut self, data: &[u8]) {
        let Ok(msg) = ControlMessage::decode(data) else {
            self.stats.bad_packets.bad_body += 1;
            return;
        };
        match msg {
            ControlMessage::OpenChannel { id, config } => {
                let peer_parity = if self.role == Role::Client { 0 } else { 1 };
                let valid = id.0 != 0
                    && id.0 % 2 == peer_parity
                    && config.validate().is_ok()
                    && config.kind != crate::ChannelKind::Control;
                if !valid || self.scheduler.channels.contains_key(&id.0) {
                    self.stats.bad_packets.bad_body += 1;
                    return;
                }
                if self.check_budget(&config).is_err() {
                    // Refused: the opener learns it from the close.
                    self.stats.channels_refused += 1;
                    let _ = self.queue_control(ControlMessage::CloseChannel { id });
                    return;
                }
                self.add_channel(id.0, config);
                self.events.push_back(Event::ChannelOpened { id, config });
            }
            ControlMessage::CloseChannel { id } => {
                if id.0 != 0 && self.scheduler.channels.remove(&id.0).is_some() {
                    self.recv.remove(&id.0);
                    self.events.push_back(Event::ChannelClosed { id });
                }
            }
            other => self.events.push_back(Event::Control(other)),
        }
    }

    fn on_handshake(&mut self, now: Timestamp, msg: HandshakeMessage) -> Result<(), Refused> {
        match (self.role, msg) {
            (Role::Server, HandshakeMessage::Hello { nonce, capabilities }) => {
                if self.state == State::Established {
                    // Our Welcome was lost: say it again.
                    if nonce == self.nonce {
                        self.send_welcome = true;
                    }
                    return Ok(());
                }
                self.nonce = nonce;
                let result = negotiate(self.version, &self.config.capabilities, &capabilities);
                if self.finish_handshake(now, result) {
                    self.send_welcome = true;
                    self.last_received = now;
                }
                Ok(())
            }
            (Role::Client, HandshakeMessage::Welcome { nonce, capabilities }) => {
                if self.state != State::Handshaking {
                    return Ok(());
                }
                if nonce != self.nonce {
                    return Err(Refused::BadBody);
                }
                let result = negotiate(self.version, &capabilities, &self.config.capabilities);
                if self.finish_handshake(now, result) {
                    self.hello_next = None;
                }
                Ok(())
            }
            _ => Err(Refused::Unexpected),
        }
    }

    /// Ends the handshake with its negotiation: established, or closing with a capability
    /// mismatch. Returns whether the session is established.
    fn finish_handshake(&mut self, now: Timestamp, result: Result<Negotiated, CapabilityMismatch>) -> bool {
        match result {
            Ok(negotiated) => {
                self.negotiated = Some(negotiated.clone());
                self.state = State::Established;
                self.events.push_back(Event::Connected(Box::new(negotiated)));
                true
            }
            Err(mismatch) => {
                let text = mismatch.to_string();
                self.start_closing(now, CloseCode::CAPABILITY_MISMATCH, text.clone());
                self.events.push_back(Event::Closed(SessionError::CapabilityMismatch(text)));
                false
            }
        }
    }

    fn on_peer_close(&mut self, close: CloseFrame) {
        let code = CloseCode(close.code);
        let error = match code {
            CloseCode::CAPABILITY_MISMATCH => SessionError::CapabilityMismatch(close.reason),
            CloseCode::VERSION_MISMATCH => {
                SessionError::VersionMismatch { ours: self.config.versions.clone(), theirs: Vec::new() }
            }
            _ => SessionError::ClosedByPeer { code, reason: close.reason },
        };
        self.end(error);
    }

    /// Lets data flow on channels whose OpenChannel the peer has acknowledged.
    fn confirm_opens(&mut self) {
        let acked = self.scheduler.channels.get(&0).map_or(0, |c| c.acked_below());
        for c in self.scheduler.channels.values_mut() {
            if c.awaiting_open.is_some_and(|seq| seq < acked) {
                c.awaiting_open = None;
            }
        }
    }

    fn on_feedback(&mut self, now: Timestamp, report: &FeedbackFrame) {
        let Some(rc) = &mut self.rate else { return };
        rc.on_feedback(now, report, self.rtt.get(), self.rtt.min());
        let target = rc.target_bps();
        let estimate = rc.estimate();
        self.pacer.set_rate(target, now);
        self.update_fec();
        let moved = self.reported_rate.is_none_or(|r| {
            r.class != estimate.class || (target as f64 - r.target_bps as f64).abs() >= 0.05 * r.target_bps as f64
        });
        if moved {
            self.reported_rate = Some(estimate);
            self.events.push_back(Event::TargetRate(estimate));
        }
    }

    fn on_ack(&mut self, now: Timestamp, ack: &AckFrame) -> Result<(), Refused> {
        let largest = ack.largest();
        if largest >= self.next_pn {
            return Err(Refused::Malformed);
        }
        let mut sample = None;
        for &(lo, hi) in &ack.ranges {
            while let Some((&pn, _)) = self.sent.range(lo..=hi).next() {
                let packet = self.sent.remove(&pn).expect("key just seen");
                self.stats.packets_acked += 1;
                if packet.ack_eliciting {
                    self.ack_eliciting_in_flight -= 1;
                }
                if pn == largest && packet.ack_eliciting {
                    sample = Some(packet.time);
                }
                for f in &packet.fragments {
                    if let (true, Some(c)) = (f.reliable, self.scheduler.channels.get_mut(&f.channel)) {
                        c.on_acked(f.seq, f.len);
                    }
                }
            }
        }
        if self.largest_acked.is_none_or(|l| largest > l) {
            self.largest_acked = Some(largest);
        }
        self.confirm_opens();
        if let Some(sent_at) = sample {
            let delay = Duration::from_micros(ack.delay_micros).min(self.config.max_ack_delay);
            self.rtt.update(now.saturating_since(sent_at), delay);
            self.pto_count = 0;
        }
        self.detect_lost(now);
        Ok(())
    }
}
