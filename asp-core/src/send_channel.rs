//! The sending end of one channel: its queue of messages, fragmentation into packet-sized
//! pieces, retransmission of lost reliable pieces, flow control against the receiver's window,
//! deadlines of media frames and the replacement rule of latest-wins channels.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use crate::channel::{ChannelConfig, DeliveryMode};
use crate::fec;
use crate::stats::{ChannelStats, DropReason};
use crate::time::Timestamp;
use crate::wire::frame::{Fragment, RepairFrame};

/// Drop notices waiting to be sent, at most.
const MAX_PENDING_DROPS: usize = 256;
/// Media frames kept for retransmission after their data left.
const MAX_RECENT_FRAMES: usize = 16;

/// What the receiver charges a message against its window besides its bytes, so that a flood
/// of tiny messages is bounded too. Sender and receiver use the same figure.
pub(crate) const MESSAGE_OVERHEAD: u64 = 64;

/// Why `send` refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No such channel is open.
    #[error("channel {0} is not open")]
    UnknownChannel(u32),
    /// The message is larger than the channel allows.
    #[error("message of {len} bytes exceeds the channel's limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The channel's `max_message_len`.
        max: u32,
    },
    /// A reliable channel's queue is full: try again after some of it has left. Nothing was
    /// queued, so nothing is lost.
    #[error("the channel's send buffer is full")]
    WouldBlock,
    /// Deadlines belong to media-frame channels, and media-frame channels need one.
    #[error("a deadline is required on media-frame channels and only there")]
    DeadlineMismatch,
    /// The session is not established or is closing.
    #[error("the session is not open")]
    NotOpen,
}

#[derive(Debug)]
struct OutMessage {
    seq: u64,
    data: Bytes,
    /// Bytes of `data` already written into packets.
    sent: usize,
    enqueued: Timestamp,
    deadline: Option<Timestamp>,
    /// Media frames: FEC repair shards, sent after the data.
    repairs: Vec<Bytes>,
    repairs_sent: usize,
}

/// A piece of a reliable message to send again.
#[derive(Debug, Clone)]
pub(crate) struct RetxFragment {
    pub(crate) seq: u64,
    pub(crate) total: u64,
    pub(crate) offset: u64,
    pub(crate) data: Bytes,
}

#[derive(Debug)]
struct InFlightMessage {
    seq: u64,
    /// Bytes not yet acknowledged; an empty message counts as one.
    unacked: u64,
    stream_start: u64,
}

/// What the packet builder gets back from a channel.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// Message data.
    Fragment { fragment: Fragment, retransmission: bool },
    /// A repair shard of a media frame.
    Repair(RepairFrame),
}

#[derive(Debug)]
pub(crate) struct SendChannel {
    pub(crate) id: u32,
    pub(crate) config: ChannelConfig,
    pub(crate) stats: ChannelStats,
    /// Weighted-fair-queuing position within its class: bytes sent divided by weight.
    pub(crate) virtual_time: u64,
    next_seq: u64,
    queue: VecDeque<OutMessage>,
    queued_bytes: usize,
    retransmit: VecDeque<RetxFragment>,
    in_flight: VecDeque<InFlightMessage>,
    stream_pos: u64,
    /// Messages given up after some of them left: the receiver must be told.
    pub(crate) pending_drops: VecDeque<(u64, DropReason)>,
    /// For a channel this end opened: the control message announcing it, until the peer has
    /// acknowledged it. Data waits until then, so the peer never sees data for a channel it
    /// does not know.
    pub(crate) awaiting_open: Option<u64>,
    /// Media frames: the share of repair shards to add (0 for none).
    pub(crate) fec_overhead: f64,
    /// Media frames: data shard size; data fragments are exactly these shards.
    shard: usize,
    /// Media frames whose data has all left, kept until their deadline for NACKed ranges.
    recent: VecDeque<(u64, Bytes, Timestamp)>,
    /// Media ranges asked for again: `(seq, offset, length)`, sent ahead of new data.
    resend: VecDeque<(u64, u64, u64)>,
    /// Media frames: repair bytes per data byte over recent frames. Small frames round their
    /// repair count up, so this can be well above `fec_overhead`; the encoder's budget must
    /// allow for what is really sent.
    pub(crate) fec_ratio: f64,
}

impl SendChannel {
    pub(crate) fn new(id: u32, config: ChannelConfig, mtu: usize) -> Self {
        SendChannel {
            id,
            config,
            stats: ChannelStats::default(),
            virtual_time: 0,
            next_seq: 0,
            queue: VecDeque::new(),
            queued_bytes: 0,
            retransmit: VecDeque::new(),
            in_flight: VecDeque::new(),
            stream_pos: 0,
            pending_drops: VecDeque::new(),
            awaiting_open: None,
            fec_overhead: 0.0,
            shard: fec::shard_size(mtu),
            fec_ratio: 0.0,
            recent: VecDeque::new(),
            resend: VecDeque::new(),
        }
    }

    /// Every message below this sequence number has been fully acknowledged.
    pub(crate) fn acked_below(&self) -> u64 {
        let in_flight = self.in_flight.front().map_or(u64::MAX, |m| m.seq);
        let queued = self.queue.front().map_or(u64::MAX, |m| m.seq);
        self.next_seq.min(in_flight).min(queued)
    }

    fn reliable(&self) -> bool {
        self.config.mode == DeliveryMode::ReliableOrdered
    }

    /// Queues a message. Returns its sequence number.
    pub(crate) fn enqueue(
        &mut self,
        now: Timestamp,
        data: Bytes,
        deadline: Option<Timestamp>,
    ) -> Result<u64, SendError> {
        if data.len() > self.config.max_message_len as usize {
            return Err(SendError::TooLarge { len: data.len(), max: self.config.max_message_len });
        }
        if deadline.is_some() != (self.config.mode == DeliveryMode::MediaFrames) {
            return Err(SendError::DeadlineMismatch);
        }
        let limit = self.config.send_buffer as usize;
        match self.config.mode {
            DeliveryMode::ReliableOrdered => {
                if self.queued_bytes + data.len() > limit {
                    return Err(SendError::WouldBlock);
                }
            }
            DeliveryMode::LatestWins => {
                while let Some(old) = self.queue.pop_front() {
                    self.abandon(old, DropReason::Superseded);
                }
            }
            DeliveryMode::Unreliable | DeliveryMode::MediaFrames => {
                while self.queued_bytes + data.len() > limit {
                    let Some(old) = self.queue.pop_front() else { break };
                    self.abandon(old, DropReason::QueueFull);
                }
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queued_bytes += data.len();
        self.stats.messages_queued += 1;
        self.stats.queued_bytes = self.queued_bytes as u64;
        let repairs = if self.config.mode == DeliveryMode::MediaFrames {
            let m = fec::repair_count(fec::data_shards(data.len(), self.shard), self.fec_overhead);
            let repairs = fec::encode(&data, self.shard, m).unwrap_or_default();
            let ratio = (repairs.len() * self.shard) as f64 / data.len().max(1) as f64;
            self.fec_ratio = 0.9 * self.fec_ratio + 0.1 * ratio;
            repairs
        } else {
            Vec::new()
        };
        self.queue.push_back(OutMessage { seq, data, sent: 0, enqueued: now, deadline, repairs, repairs_sent: 0 });
        Ok(seq)
    }

    fn abandon(&mut self, msg: OutMessage, reason: DropReason) {
        self.queued_bytes -= msg.data.len() - msg.sent;
        self.stats.queued_bytes = self.queued_bytes as u64;
        self.stats.send_drops.count(reason);
        // A media receiver is told of every frame it will not get (its decoder's reference
        // chain breaks there); the other modes only of messages it has seen part of.
        if msg.sent > 0 || self.config.mode == DeliveryMode::MediaFrames {
            // Bounded: a receiver that misses old notices still learns of those frames from
            // the gap when a later one arrives.
            if self.pending_drops.len() >= MAX_PENDING_DROPS {
                self.pending_drops.pop_front();
            }
            self.pending_drops.push_back((msg.seq, reason));
        }
    }

    /// Whether the front of the queue is held back by the receiver's window.
    fn window_blocked(&self) -> bool {
        let Some(front) = self.queue.front() else { return false };
        if !self.reliable() || front.sent > 0 {
            return false;
        }
        let Some(oldest) = self.in_flight.front() else { return false };
        let cost = front.data.len() as u64 + MESSAGE_OVERHEAD;
        self.stream_pos + cost - oldest.stream_start > u64::from(self.config.window)
    }

    /// Whether a fragment could be produced now.
    pub(crate) fn ready(&self) -> bool {
        self.awaiting_open.is_none()
            && (!self.retransmit.is_empty()
                || !self.resend.is_empty()
                || (!self.queue.is_empty() && !self.window_blocked()))
    }

    /// Drops media frames that can no longer arrive whole in time: the rest of the frame
    /// takes at least its serialization at `rate_bps` plus the one-way delay. Sending it anyway
    /// would only delay the frames behind it.
    pub(crate) fn expire(&mut self, now: Timestamp, one_way: Duration, rate_bps: u64) {
        while let Some(front) = self.queue.front() {
            let remaining = (front.data.len() - front.sent) as u64;
            if remaining == 0 {
                // All data out, only repair shards left: past the deadline they are useless,
                // but the frame itself may well arrive whole.
                if front.deadline.is_some_and(|d| now + one_way > d) {
                    self.queue.pop_front();
                    continue;
                }
                break;
            }
            let transfer = Duration::from_micros(remaining * 8_000_000 / rate_bps.max(1));
            match front.deadline {
                Some(d) if now + one_way + transfer > d => {
                    let msg = self.queue.pop_front().expect("front exists");
                    self.abandon(msg, DropReason::Deadline);
                }
                _ => break,
            }
        }
    }

    /// The next fragment, at most `max_len` bytes of frame including its header.
    pub(crate) fn next_fragment(
        &mut self,
        now: Timestamp,
        max_len: usize,
        clock: impl Fn(Timestamp) -> u64,
    ) -> Option<Outgoing> {
        if let Some(mut retx) = self.retransmit.pop_front() {
            let probe = Fragment {
                channel: u64::from(self.id),
                seq: retx.seq,
                total: retx.total,
                offset: retx.offset,
                deadline: None,
                data: Bytes::new(),
            };
            let room = max_len.saturating_sub(probe.header_len() + 2);
            // Splitting a retransmission into slivers to fill a packet's tail costs more in
            // headers than it saves: wait for the next packet instead.
            if room == 0 || (room < retx.data.len() && room < 256) {
                self.retransmit.push_front(retx);
                return None;
            }
            if retx.data.len() > room {
                let rest = retx.data.split_off(room);
                self.retransmit.push_front(RetxFragment {
                    seq: retx.seq,
                    total: retx.total,
                    offset: retx.offset + room as u64,
                    data: rest,
                });
            }
            self.stats.retransmits += 1;
            self.stats.fragments_sent += 1;
            let fragment = Fragment { data: retx.data, ..probe };
            return Some(Outgoing::Fragment { fragment, retransmission: true });
        }
        while let Some((seq, offset, len)) = self.resend.pop_front() {
            let Some((_, frame, deadline)) = self.recent.iter().find(|(s, ..)| *s == seq) else { continue };
            if now > *deadline {
                continue;
            }
            let fragment = Fragment {
                channel: u64::from(self.id),
                seq,
                total: frame.len() as u64,
                offset,
                deadline: Some(clock(*deadline)),
                data: frame.slice(offset as usize..(offset + len) as usize),
            };
            if fragment.header_len() + fragment.data.len() > max_len {
                self.resend.push_front((seq, offset, len));
                return None;
            }
            self.stats.nack_resends += 1;
            self.stats.fragments_sent += 1;
            return Some(Outgoing::Fragment { fragment, retransmission: true });
        }
        if self.window_blocked() {
            return None;
        }
        let reliable = self.reliable();
        let media = self.config.mode == DeliveryMode::MediaFrames;
        let shard = self.shard;
        let msg = self.queue.front_mut()?;
        let total = msg.data.len() as u64;
        if msg.sent == msg.data.len() && msg.repairs_sent < msg.repairs.len() {
            let repair = RepairFrame {
                channel: u64::from(self.id),
                seq: msg.seq,
                total,
                shard: shard as u64,
                count: msg.repairs.len() as u64,
                index: msg.repairs_sent as u64,
                deadline: msg.deadline.map_or(0, &clock),
                data: msg.repairs[msg.repairs_sent].clone(),
            };
            if repair.encoded_len() > max_len {
                return None;
            }
            msg.repairs_sent += 1;
            if msg.repairs_sent == msg.repairs.len() {
                self.queue.pop_front();
            }
            self.stats.fec_repairs_sent += 1;
            return Some(Outgoing::Repair(repair));
        }
        let probe = Fragment {
            channel: u64::from(self.id),
            seq: msg.seq,
            total,
            offset: msg.sent as u64,
            deadline: msg.deadline.map(&clock),
            data: Bytes::new(),
        };
        let room = max_len.checked_sub(probe.header_len() + 2)?;
        let remaining = msg.data.len() - msg.sent;
        // Media fragments are whole FEC shards, so that one lost packet costs one shard.
        let want = if media { remaining.min(shard) } else { remaining };
        // A fragment smaller than this is not worth a frame header unless it ends the message.
        if room == 0 || (room < want && (media || room < 64)) {
            return None;
        }
        let take = want.min(room);
        let data = msg.data.slice(msg.sent..msg.sent + take);
        if msg.sent == 0 && reliable {
            let cost = total + MESSAGE_OVERHEAD;
            self.in_flight.push_back(InFlightMessage {
                seq: msg.seq,
                unacked: total.max(1),
                stream_start: self.stream_pos,
            });
            self.stream_pos += cost;
        }
        msg.sent += take;
        self.queued_bytes -= take;
        self.stats.queued_bytes = self.queued_bytes as u64;
        self.stats.bytes_sent += take as u64;
        self.stats.fragments_sent += 1;
        if msg.sent == msg.data.len() {
            let delay = now.saturating_since(msg.enqueued);
            self.stats.messages_sent += 1;
            self.stats.queue_delay_last = delay;
            self.stats.queue_delay_max = self.stats.queue_delay_max.max(delay);
            if let Some(deadline) = msg.deadline {
                self.recent.push_back((msg.seq, msg.data.clone(), deadline));
                if self.recent.len() > MAX_RECENT_FRAMES {
                    self.recent.pop_front();
                }
            }
            if msg.repairs.is_empty() {
                self.queue.pop_front();
            }
        }
        if reliable {
            self.stats.unacked_bytes += take as u64;
        }
        Some(Outgoing::Fragment { fragment: Fragment { data, ..probe }, retransmission: false })
    }

    /// A reliable fragment reached the receiver.
    pub(crate) fn on_acked(&mut self, seq: u64, len: u64) {
        self.stats.unacked_bytes = self.stats.unacked_bytes.saturating_sub(len);
        if let Some(m) = self.in_flight.iter_mut().find(|m| m.seq == seq) {
            m.unacked = m.unacked.saturating_sub(len.max(1));
        }
        while self.in_flight.front().is_some_and(|m| m.unacked == 0) {
            self.in_flight.pop_front();
        }
    }

    /// The receiver asks for ranges of a media frame again. They go ahead of new data if what
    /// they take still arrives before the frame's deadline (`one_way` and the rate tell).
    pub(crate) fn on_nack(
        &mut self,
        now: Timestamp,
        seq: u64,
        ranges: &[(u64, u64)],
        one_way: Duration,
        rate_bps: u64,
    ) {
        while self.recent.front().is_some_and(|(_, _, d)| *d < now) {
            self.recent.pop_front();
        }
        let Some((_, frame, deadline)) = self.recent.iter().find(|(s, ..)| *s == seq) else { return };
        let total = frame.len() as u64;
        let bytes: u64 = ranges.iter().map(|(_, l)| *l).sum();
        let transfer = Duration::from_micros(bytes.saturating_mul(8_000_000) / rate_bps.max(1));
        if now + one_way + transfer > *deadline {
            self.stats.nacks_too_late += 1;
            return;
        }
        for &(offset, len) in ranges {
            let end = offset.saturating_add(len).min(total);
            // Resend whole shards, as they first left, so FEC shards stay aligned.
            let mut start = offset.min(end) / self.shard as u64 * self.shard as u64;
            while start < end {
                let piece = (self.shard as u64).min(total - start);
                self.resend.push_back((seq, start, piece));
                start += piece;
            }
        }
    }

    /// A reliable fragment was lost: send it again, ahead of new data.
    pub(crate) fn on_lost(&mut self, fragment: RetxFragment) {
        self.retransmit.push_back(fragment);
    }
}
