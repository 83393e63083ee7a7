//! The send path: which packet goes out next and what is in it. Every packet is written once,
//! into the session's buffer, at the moment it leaves: priority decisions are never made
//! earlier than they must be.

use bytes::{BufMut, Bytes};

use super::{Role, Session, State};
use crate::channel::DeliveryMode;
use crate::send_channel::{Outgoing, RetxFragment};
use crate::time::Timestamp;
use crate::wire::frame::{AckFrame, Frame};
use crate::wire::handshake::HandshakeMessage;
use crate::wire::packet::Header;

/// Ack ranges written per ACK frame.
const ACK_RANGES_PER_FRAME: usize = 32;
/// Room below which no further fragment is started in a packet.
const MIN_FRAGMENT_ROOM: usize = 24;

/// A packet in flight, kept until it is acknowledged or declared lost.
#[derive(Debug)]
pub(crate) struct SentPacket {
    pub(crate) time: Timestamp,
    pub(crate) ack_eliciting: bool,
    pub(crate) fragments: Vec<SentFragment>,
}

/// A fragment in flight: enough to credit its channel when acknowledged and, for reliable
/// channels, to send it again when lost (the bytes are shared with the queued message).
#[derive(Debug)]
pub(crate) struct SentFragment {
    pub(crate) channel: u32,
    pub(crate) seq: u64,
    pub(crate) len: u64,
    pub(crate) reliable: bool,
    pub(crate) retx: Option<RetxFragment>,
}

impl Session {
    pub(super) fn build_packet(&mut self, now: Timestamp) -> Option<Bytes> {
        match self.state {
            State::Closed => None,
            State::Closing { .. } => self.build_close(now),
            State::Handshaking => match self.role {
                Role::Server if self.send_version_negotiation => {
                    self.send_version_negotiation = false;
                    let mut buf = self.scratch();
                    let versions = self.config.versions.clone();
                    Header::VersionNegotiation { versions }.encode(&mut buf);
                    // Version negotiation has no packet number and is never acknowledged.
                    self.stats.packets_sent += 1;
                    self.stats.bytes_sent += buf.len() as u64;
                    let packet = buf.split().freeze();
                    self.tx = buf;
                    Some(packet)
                }
                Role::Client if self.hello_next.is_some_and(|t| t <= now) => Some(self.build_hello(now)),
                _ => None,
            },
            State::Established if self.send_welcome => Some(self.build_welcome(now)),
            State::Established => self.build_data(now),
        }
    }

    /// The transmit buffer, empty, with room for a packet. Packets are split off one shared
    /// allocation, so writing one costs no allocation of its own most of the time; `finish`
    /// puts the buffer back.
    fn scratch(&mut self) -> bytes::BytesMut {
        if self.tx.capacity() < self.config.mtu {
            self.tx.reserve(self.config.mtu * 32);
        }
        std::mem::take(&mut self.tx)
    }

    fn write_ack(&mut self, now: Timestamp, buf: &mut bytes::BytesMut) {
        if self.received.max().is_none() {
            return;
        }
        let ranges = self.received.iter_desc().take(ACK_RANGES_PER_FRAME).collect();
        let delay = now.saturating_since(self.largest_received_at);
        AckFrame { delay_micros: delay.as_micros() as u64, ranges }.encode(buf);
        self.ack_now = false;
        self.ack_deadline = None;
        self.ack_eliciting_unacked = 0;
    }

    fn build_hello(&mut self, now: Timestamp) -> Bytes {
        let mut buf = self.scratch();
        let pn = self.next_pn;
        Header::Long { version: self.version, number: pn }.encode(&mut buf);
        let hello = HandshakeMessage::Hello { nonce: self.nonce, capabilities: self.config.capabilities.clone() };
        let body = hello.encode().expect("validated at construction");
        Frame::Handshake(Bytes::from(body)).encode(&mut buf);
        // Pad to the MTU: the path must carry full-size datagrams, and a server never answers
        // a small packet with a larger one (no amplification).
        buf.put_bytes(0, self.config.mtu.saturating_sub(buf.len()));
        self.hello_sends += 1;
        // Back off, but never beyond four probe timeouts: a handshake is small, and a user
        // waiting for a desktop prefers another try to an exponential wait.
        let backoff = 1u32 << (self.hello_sends - 1).min(2);
        self.hello_next = Some(now + self.rtt.pto_base(self.config.max_ack_delay) * backoff);
        self.finish(now, buf, true, Vec::new())
    }

    fn build_welcome(&mut self, now: Timestamp) -> Bytes {
        self.send_welcome = false;
        let mut buf = self.scratch();
        Header::Long { version: self.version, number: self.next_pn }.encode(&mut buf);
        self.write_ack(now, &mut buf);
        let welcome = HandshakeMessage::Welcome { nonce: self.nonce, capabilities: self.config.capabilities.clone() };
        Frame::Handshake(Bytes::from(welcome.encode().expect("validated at construction"))).encode(&mut buf);
        self.finish(now, buf, true, Vec::new())
    }

    fn build_close(&mut self, now: Timestamp) -> Option<Bytes> {
        if !self.close_pending {
            return None;
        }
        self.close_pending = false;
        let (frame, long) = self.close_frame.clone()?;
        let mut buf = self.scratch();
        if long {
            Header::Long { version: self.version, number: self.next_pn }.encode(&mut buf);
        } else {
            Header::Short { number: self.next_pn }.encode(&mut buf);
        }
        self.write_ack(now, &mut buf);
        Frame::Close(frame).encode(&mut buf);
        Some(self.finish(now, buf, false, Vec::new()))
    }

    fn build_data(&mut self, now: Timestamp) -> Option<Bytes> {
        let one_way = self.rtt.get() / 2;
        self.scheduler.expire(now, one_way, self.pacer.rate_bps());
        let paced_open = self.pacer.can_send(now);
        let borrow_open = self.pacer.can_borrow(now, self.max_borrow());
        let keep_alive_due = now >= self.last_ack_eliciting_sent + self.config.keep_alive;
        let ping = self.probe_pending || keep_alive_due;
        let drops =
            self.scheduler.channels.values().any(|c| !c.pending_drops.is_empty()) || !self.pending_nacks.is_empty();
        let ack_due = self.ack_now || self.ack_deadline.is_some_and(|d| d <= now);
        let feedback_due = self.feedback.due_at().is_some_and(|t| t <= now);
        let data = (borrow_open && self.scheduler.class0_ready()) || (paced_open && self.scheduler.paced_backlog());
        if !(ack_due || feedback_due || ping || drops || data) {
            return None;
        }
        let mtu = self.config.mtu;
        let mut buf = self.scratch();
        Header::Short { number: self.next_pn }.encode(&mut buf);
        let elicits = ping || drops || data;
        if elicits {
            Frame::Timestamp(now.as_micros()).encode(&mut buf);
        }
        if self.ack_eliciting_unacked > 0 || ack_due {
            self.write_ack(now, &mut buf);
        }
        if (feedback_due || elicits)
            && self.feedback.due_at().is_some()
            && let Some(report) = self.feedback.report(now)
        {
            Frame::Feedback(report).encode(&mut buf);
        }
        if ping {
            Frame::Ping.encode(&mut buf);
            self.probe_pending = false;
        }
        if drops {
            while let Some(nack) = self.pending_nacks.front() {
                let frame = Frame::Nack(nack.clone());
                let mut encoded = Vec::new();
                frame.encode(&mut encoded);
                if encoded.len() > mtu - buf.len() {
                    break;
                }
                buf.extend_from_slice(&encoded);
                self.pending_nacks.pop_front();
            }
            for c in self.scheduler.channels.values_mut() {
                while mtu - buf.len() > 24 {
                    let Some((seq, reason)) = c.pending_drops.pop_front() else { break };
                    Frame::Dropped { channel: u64::from(c.id), seq, reason: reason as u8 }.encode(&mut buf);
                }
            }
        }
        let mut fragments = Vec::new();
        let rate = self.pacer.rate_bps();
        while mtu - buf.len() >= MIN_FRAGMENT_ROOM {
            let Some(id) = self.scheduler.pick(now, rate, paced_open, borrow_open) else { break };
            let channel = self.scheduler.channels.get_mut(&id).expect("picked channel exists");
            let Some(next) = channel.next_fragment(now, mtu - buf.len(), |d| d.as_micros()) else { break };
            let reliable = channel.config.mode == DeliveryMode::ReliableOrdered;
            let before = buf.len();
            let (frag, retransmission) = match next {
                Outgoing::Fragment { fragment, retransmission } => (fragment, retransmission),
                Outgoing::Repair(repair) => {
                    repair.encode(&mut buf);
                    self.scheduler.on_sent(id, buf.len() - before);
                    continue;
                }
            };
            frag.encode(&mut buf);
            self.scheduler.on_sent(id, buf.len() - before);
            if retransmission {
                self.stats.retransmits += 1;
            }
            let retx = (reliable && !self.config.reliable_carrier).then(|| RetxFragment {
                seq: frag.seq,
                total: frag.total,
                offset: frag.offset,
                data: frag.data.clone(),
            });
            fragments.push(SentFragment { channel: id, seq: frag.seq, len: frag.data.len() as u64, reliable, retx });
        }
        Some(self.finish(now, buf, elicits, fragments))
    }

    /// How far interactive traffic may run ahead of the pacer, in bytes.
    pub(super) fn max_borrow(&self) -> usize {
        8 * self.config.mtu
    }

    /// Numbers, accounts and hands out a written packet.
    fn finish(
        &mut self,
        now: Timestamp,
        mut buf: bytes::BytesMut,
        ack_eliciting: bool,
        fragments: Vec<SentFragment>,
    ) -> Bytes {
        let pn = self.next_pn;
        self.next_pn += 1;
        let len = buf.len();
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += len as u64;
        self.pacer.on_sent(len, now);
        if let Some(rc) = &mut self.rate {
            rc.on_sent(pn, now, len);
        }
        if ack_eliciting {
            self.last_ack_eliciting_sent = now;
            self.ack_eliciting_in_flight += 1;
        }
        if ack_eliciting || !fragments.is_empty() {
            self.sent.insert(pn, SentPacket { time: now, ack_eliciting, fragments });
            self.limit_in_flight();
        }
        let packet = buf.split().freeze();
        self.tx = buf;
        packet
    }
}
