//! The receiving end of one channel: reassembly of fragments into messages and the delivery
//! rule of each mode (in order exactly once; newest only; as they come; media frames whole and
//! on time), all within a memory bound.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::channel::{ChannelConfig, DeliveryMode};
use crate::fec;
use crate::range_set::RangeSet;
use crate::send_channel::MESSAGE_OVERHEAD;
use crate::stats::{ChannelStats, DropReason};
use crate::time::Timestamp;
use crate::wire::frame::{Fragment, MAX_NACK_RANGES, NackFrame, RepairFrame};

/// Partial media frames or latest-wins messages kept at once.
const MAX_PARTIALS: usize = 16;
/// Added to the RTT between two NACKs about one frame.
const NACK_SPACING: Duration = Duration::from_millis(5);
/// Most never-seen media frames reported at once when a later one completes.
const MAX_REPORTED_GAP: u64 = 64;
/// Finished (delivered or dropped) sequence numbers remembered, as ranges, by the modes that
/// do not deliver strictly in order.
const FINISHED_RANGES: usize = 64;

/// What happened to a fragment that a channel could not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Taking it would exceed the receive window: the packet must not be acknowledged, so the
    /// sender sends it again once there is room.
    WindowExceeded,
    /// Its total length disagrees with an earlier fragment of the same message, or exceeds the
    /// channel's limit.
    Malformed,
}

/// Something for the application.
#[derive(Debug)]
pub(crate) enum Delivery {
    Message { seq: u64, data: Bytes },
    Dropped { seq: u64, reason: DropReason },
}

#[derive(Debug)]
struct Partial {
    total: u64,
    got: RangeSet,
    buf: BytesMut,
    deadline: Option<Timestamp>,
    /// FEC: shard size and repair count announced by the first repair shard, and the repair
    /// shards held, by index.
    fec: Option<(usize, usize)>,
    repairs: Vec<(usize, Bytes)>,
    /// When missing ranges of this frame were last asked for again.
    nacked_at: Option<Timestamp>,
}

impl Partial {
    fn new(total: u64, deadline: Option<Timestamp>) -> Self {
        Partial {
            total,
            got: RangeSet::default(),
            buf: BytesMut::zeroed(total as usize),
            deadline,
            fec: None,
            repairs: Vec::new(),
            nacked_at: None,
        }
    }

    /// Rebuilds missing data from repair shards when there are enough; returns the message
    /// once complete.
    fn try_recover(&mut self) -> Option<Bytes> {
        let (shard, count) = self.fec?;
        if self.repairs.is_empty() || !fec::recover(&mut self.buf, &self.got, shard, count, &self.repairs) {
            return None;
        }
        Some(std::mem::take(&mut self.buf).freeze())
    }

    /// Adds a fragment; returns the message once complete.
    fn add(&mut self, offset: u64, data: &[u8]) -> Option<Bytes> {
        if !data.is_empty() {
            let start = offset as usize;
            self.buf[start..start + data.len()].copy_from_slice(data);
            self.got.insert(offset, offset + data.len() as u64 - 1);
        }
        self.got.covers(self.total).then(|| std::mem::take(&mut self.buf).freeze())
    }

    fn cost(&self) -> u64 {
        self.total + MESSAGE_OVERHEAD + self.repairs.iter().map(|(_, r)| r.len() as u64).sum::<u64>()
    }
}

#[derive(Debug)]
enum Slot {
    Partial(Partial),
    /// Complete, waiting for earlier messages (reliable), or for earlier media frames to
    /// complete or expire (media frames, with their deadline).
    Complete(Bytes, Option<Timestamp>),
}

#[derive(Debug)]
pub(crate) struct RecvChannel {
    config: ChannelConfig,
    /// Bytes charged against the window by messages held here.
    buffered: u64,
    /// Reliable: next sequence number to deliver. Other modes: one past the newest delivered.
    next: u64,
    slots: BTreeMap<u64, Slot>,
    /// Non-reliable modes: messages already delivered or dropped, so that a late fragment
    /// neither delivers a duplicate nor reopens a message given up.
    finished: Finished,
}

/// A bounded memory of finished sequence numbers: what falls out of the memory's low end is
/// below `floor` and counts as finished too.
#[derive(Debug, Default)]
struct Finished {
    set: RangeSet,
    floor: u64,
}

impl Finished {
    fn contains(&self, seq: u64) -> bool {
        seq < self.floor || self.set.contains(seq)
    }

    fn insert(&mut self, seq: u64) {
        self.set.insert(seq, seq);
        if self.set.len() > FINISHED_RANGES {
            self.set.truncate_low(FINISHED_RANGES);
            self.floor = self.set.min().unwrap_or(self.floor);
        }
    }
}

impl RecvChannel {
    pub(crate) fn new(config: ChannelConfig) -> Self {
        RecvChannel { config, buffered: 0, next: 0, slots: BTreeMap::new(), finished: Finished::default() }
    }

    /// Bytes held for messages not yet delivered.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> u64 {
        self.buffered
    }

    /// Takes one fragment. `deadline` is the local deadline of a media frame.
    pub(crate) fn on_fragment(
        &mut self,
        now: Timestamp,
        frag: Fragment,
        deadline: Option<Timestamp>,
        stats: &mut ChannelStats,
        out: &mut Vec<Delivery>,
    ) -> Result<(), Refusal> {
        if frag.total > u64::from(self.config.max_message_len) {
            return Err(Refusal::Malformed);
        }
        let seq = frag.seq;
        if self.is_stale(seq) {
            return Ok(());
        }
        let mode = self.config.mode;
        let complete = match self.slots.get_mut(&seq) {
            Some(Slot::Complete(..)) => return Ok(()),
            Some(Slot::Partial(p)) => {
                if p.total != frag.total {
                    return Err(Refusal::Malformed);
                }
                match p.add(frag.offset, &frag.data) {
                    Some(done) => Some(done),
                    None => p.try_recover().inspect(|_| stats.fec_recovered += 1),
                }
            }
            None => {
                let cost = frag.total + MESSAGE_OVERHEAD;
                // The next message in order is always taken: it can only unblock delivery and
                // free memory, and refusing it could stall the channel for good.
                let unblocks = mode == DeliveryMode::ReliableOrdered && seq == self.next;
                if !unblocks && self.buffered > 0 && self.buffered + cost > u64::from(self.config.window) {
                    if mode == DeliveryMode::ReliableOrdered {
                        return Err(Refusal::WindowExceeded);
                    }
                    self.make_room(cost, stats, out);
                }
                if frag.offset == 0 && frag.data.len() as u64 == frag.total {
                    // Whole message in one fragment: hand out the datagram's memory, no copy.
                    Some(frag.data)
                } else {
                    let mut p = Partial::new(frag.total, deadline);
                    let done = p.add(frag.offset, &frag.data);
                    if done.is_none() {
                        self.buffered += p.cost();
                        self.slots.insert(seq, Slot::Partial(p));
                        self.limit_partials(stats, out);
                    }
                    done
                }
            }
        };
        if let Some(data) = complete {
            self.complete(now, seq, data, deadline, stats, out);
        }
        Ok(())
    }

    /// Media frames: the ranges to ask for again after a fragment of frame `seq` ending at
    /// `offset_end` arrived. Fragments of a frame leave in order, so a hole below the newest
    /// data, or anywhere in an older frame, is a loss. A frame is asked about at most once a
    /// round trip (plus a little), and only while `now + rtt` leaves time before its deadline.
    pub(crate) fn nacks(
        &mut self,
        now: Timestamp,
        seq: u64,
        offset: u64,
        rtt: Duration,
        id: u32,
        out: &mut Vec<NackFrame>,
    ) {
        if self.config.mode != DeliveryMode::MediaFrames {
            return;
        }
        let interval = rtt + NACK_SPACING;
        for (&s, slot) in self.slots.range_mut(..=seq) {
            let Slot::Partial(p) = slot else { continue };
            if p.nacked_at.is_some_and(|t| now.saturating_since(t) < interval)
                || p.deadline.is_some_and(|d| now + rtt > d)
            {
                continue;
            }
            let limit = if s == seq { offset } else { p.total };
            let ranges: Vec<(u64, u64)> = p.got.gaps_below(limit).take(MAX_NACK_RANGES).collect();
            if !ranges.is_empty() {
                p.nacked_at = Some(now);
                out.push(NackFrame { channel: u64::from(id), seq: s, ranges });
            }
        }
    }

    /// Takes one FEC repair shard of a media frame.
    pub(crate) fn on_repair(
        &mut self,
        now: Timestamp,
        r: RepairFrame,
        deadline: Option<Timestamp>,
        stats: &mut ChannelStats,
        out: &mut Vec<Delivery>,
    ) -> Result<(), Refusal> {
        if self.config.mode != DeliveryMode::MediaFrames {
            return Ok(());
        }
        if r.total > u64::from(self.config.max_message_len)
            || r.count > fec::data_shards(r.total as usize, r.shard as usize) as u64
        {
            return Err(Refusal::Malformed);
        }
        let seq = r.seq;
        if self.is_stale(seq) {
            return Ok(());
        }
        let (shard, count, index) = (r.shard as usize, r.count as usize, r.index as usize);
        if !self.slots.contains_key(&seq) {
            let cost = r.total + MESSAGE_OVERHEAD;
            if self.buffered > 0 && self.buffered + cost > u64::from(self.config.window) {
                self.make_room(cost, stats, out);
            }
            let p = Partial::new(r.total, deadline);
            self.buffered += p.cost();
            self.slots.insert(seq, Slot::Partial(p));
            self.limit_partials(stats, out);
        }
        let Some(Slot::Partial(p)) = self.slots.get_mut(&seq) else { return Ok(()) };
        if p.total != r.total || p.fec.is_some_and(|f| f != (shard, count)) {
            return Err(Refusal::Malformed);
        }
        p.fec = Some((shard, count));
        if p.repairs.iter().any(|(i, _)| *i == index) {
            return Ok(());
        }
        self.buffered += r.data.len() as u64;
        p.repairs.push((index, r.data));
        if let Some(data) = p.try_recover() {
            stats.fec_recovered += 1;
            self.complete(now, seq, data, deadline, stats, out);
        }
        Ok(())
    }

    fn is_stale(&self, seq: u64) -> bool {
        match self.config.mode {
            DeliveryMode::ReliableOrdered => seq < self.next,
            DeliveryMode::Unreliable => self.finished.contains(seq),
            DeliveryMode::LatestWins | DeliveryMode::MediaFrames => seq < self.next || self.finished.contains(seq),
        }
    }

    fn remove_slot(&mut self, seq: u64) -> Option<Slot> {
        let slot = self.slots.remove(&seq)?;
        if let Slot::Partial(p) = &slot {
            self.buffered -= p.cost();
        } else if let Slot::Complete(b, _) = &slot {
            self.buffered -= b.len() as u64 + MESSAGE_OVERHEAD;
        }
        Some(slot)
    }

    fn complete(
        &mut self,
        now: Timestamp,
        seq: u64,
        data: Bytes,
        deadline: Option<Timestamp>,
        stats: &mut ChannelStats,
        out: &mut Vec<Delivery>,
    ) {
        let deadline = match self.remove_slot(seq) {
            Some(Slot::Partial(p)) => p.deadline.or(deadline),
            _ => deadline,
        };
        match self.config.mode {
            DeliveryMode::ReliableOrdered => {
                self.buffered += data.len() as u64 + MESSAGE_OVERHEAD;
                self.slots.insert(seq, Slot::Complete(data, None));
                while let Some(Slot::Complete(..)) = self.slots.get(&self.next) {
                    let Some(Slot::Complete(data, _)) = self.remove_slot(self.next) else { unreachable!() };
                    deliver(self.next, data, stats, out);
                    self.next += 1;
                }
            }
            DeliveryMode::MediaFrames => {
                if deadline.is_some_and(|d| now > d) {
                    self.drop_message(seq, DropReason::Deadline, stats, out);
                } else {
                    // Frames go out in order: a decoder needs the earlier ones first. This one
                    // waits while an earlier frame may still complete (by resend or FEC).
                    self.buffered += data.len() as u64 + MESSAGE_OVERHEAD;
                    self.slots.insert(seq, Slot::Complete(data, deadline));
                }
                self.release_media(now, stats, out);
            }
            DeliveryMode::Unreliable => {
                self.finished.insert(seq);
                deliver(seq, data, stats, out);
            }
            DeliveryMode::LatestWins => {
                self.drop_older_than(seq, DropReason::Superseded, stats, out);
                self.next = seq + 1;
                if deadline.is_some_and(|d| now > d) {
                    self.drop_message(seq, DropReason::Deadline, stats, out);
                } else {
                    self.finished.insert(seq);
                    deliver(seq, data, stats, out);
                }
            }
        }
    }

    /// Media frames: delivers complete frames from the oldest on, until a partial frame that
    /// may still complete blocks the way. Frames skipped without a trace (all their packets and
    /// the sender's notice lost) are reported lost: a decoder must know its reference chain
    /// broke.
    fn release_media(&mut self, now: Timestamp, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
        while let Some((&seq, slot)) = self.slots.first_key_value() {
            if matches!(slot, Slot::Partial(_)) {
                break;
            }
            let Some(Slot::Complete(data, deadline)) = self.remove_slot(seq) else { unreachable!() };
            for missing in seq.saturating_sub(MAX_REPORTED_GAP).max(self.next)..seq {
                if !self.finished.contains(missing) {
                    self.drop_message(missing, DropReason::Lost, stats, out);
                }
            }
            self.next = self.next.max(seq + 1);
            if deadline.is_some_and(|d| now > d) {
                self.drop_message(seq, DropReason::Deadline, stats, out);
            } else {
                self.finished.insert(seq);
                deliver(seq, data, stats, out);
            }
        }
    }

    fn drop_older_than(&mut self, seq: u64, reason: DropReason, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
        while let Some((&old, _)) = self.slots.first_key_value() {
            if old >= seq {
                break;
            }
            self.remove_slot(old);
            self.drop_message(old, reason, stats, out);
        }
    }

    /// Non-reliable modes make room by dropping their oldest partial messages.
    fn make_room(&mut self, cost: u64, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
        while self.buffered > 0 && self.buffered + cost > u64::from(self.config.window) {
            let Some((&old, _)) = self.slots.first_key_value() else { break };
            self.remove_slot(old);
            self.drop_message(old, DropReason::ReassemblyLimit, stats, out);
        }
    }

    fn limit_partials(&mut self, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
        if self.config.mode == DeliveryMode::ReliableOrdered {
            return;
        }
        while self.slots.len() > MAX_PARTIALS {
            let Some((&old, _)) = self.slots.first_key_value() else { break };
            self.remove_slot(old);
            self.drop_message(old, DropReason::ReassemblyLimit, stats, out);
        }
    }

    /// Gives up on a message for good (non-reliable modes only reach here).
    fn drop_message(&mut self, seq: u64, reason: DropReason, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
        self.finished.insert(seq);
        stats.receive_drops.count(reason);
        out.push(Delivery::Dropped { seq, reason });
    }

    /// The sender gave up on `seq`, for `reason`.
    pub(crate) fn on_sender_dropped(
        &mut self,
        now: Timestamp,
        seq: u64,
        reason: DropReason,
        stats: &mut ChannelStats,
        out: &mut Vec<Delivery>,
    ) {
        if self.config.mode == DeliveryMode::ReliableOrdered || self.is_stale(seq) {
            return;
        }
        self.remove_slot(seq);
        self.drop_message(seq, reason, stats, out);
        if self.config.mode == DeliveryMode::MediaFrames {
            self.release_media(now, stats, out);
        }
    }

    /// Drops media frames, partial or waiting, whose deadline has passed.
    pub(crate) fn expire(&mut self, now: Timestamp, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
        let expired: Vec<u64> =
            self.slots.iter().filter(|(_, s)| slot_deadline(s).is_some_and(|d| now > d)).map(|(k, _)| *k).collect();
        for seq in expired {
            self.remove_slot(seq);
            self.drop_message(seq, DropReason::Deadline, stats, out);
        }
        if self.config.mode == DeliveryMode::MediaFrames {
            self.release_media(now, stats, out);
        }
    }

    /// The earliest deadline among frames held.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.slots.values().filter_map(slot_deadline).min()
    }
}

fn slot_deadline(slot: &Slot) -> Option<Timestamp> {
    match slot {
        Slot::Partial(p) => p.deadline,
        Slot::Complete(_, deadline) => *deadline,
    }
}

fn deliver(seq: u64, data: Bytes, stats: &mut ChannelStats, out: &mut Vec<Delivery>) {
    stats.messages_received += 1;
    stats.bytes_received += data.len() as u64;
    out.push(Delivery::Message { seq, data });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ChannelKind;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    /// Fragments of `messages`, cut at random points, shuffled, some repeated.
    fn fragments(rng: &mut rand_pcg::Pcg64Mcg, messages: &[Vec<u8>]) -> Vec<Fragment> {
        let mut out = Vec::new();
        for (seq, m) in messages.iter().enumerate() {
            let mut offset = 0;
            loop {
                let len = rng.random_range(0..=300).min(m.len() - offset);
                out.push(Fragment {
                    channel: 1,
                    seq: seq as u64,
                    total: m.len() as u64,
                    offset: offset as u64,
                    deadline: None,
                    data: Bytes::copy_from_slice(&m[offset..offset + len]),
                });
                offset += len;
                if offset == m.len() {
                    break;
                }
            }
        }
        let repeats: Vec<Fragment> = out.iter().filter(|_| rng.random_bool(0.2)).cloned().collect();
        out.extend(repeats);
        out.shuffle(rng);
        out
    }

    /// Model test: whatever the order and repetition of fragments, a reliable channel delivers
    /// exactly the messages, in order, once, and holds nothing afterwards.
    #[test]
    fn reliable_reassembly_matches_the_model() {
        for seed in 0..200 {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let messages: Vec<Vec<u8>> = (0..rng.random_range(1..20))
                .map(|i| (0..rng.random_range(0..2000)).map(|j| (i * 7 + j) as u8).collect())
                .collect();
            let mut ch =
                RecvChannel::new(ChannelConfig { window: 1 << 20, ..ChannelConfig::for_kind(ChannelKind::Usb) });
            let mut stats = ChannelStats::default();
            let mut out = Vec::new();
            for f in fragments(&mut rng, &messages) {
                ch.on_fragment(Timestamp::ZERO, f, None, &mut stats, &mut out).unwrap();
            }
            let delivered: Vec<Vec<u8>> = out
                .into_iter()
                .map(|d| match d {
                    Delivery::Message { data, .. } => data.to_vec(),
                    Delivery::Dropped { .. } => panic!("a reliable channel dropped a message"),
                })
                .collect();
            assert_eq!(delivered, messages, "seed {seed}");
            assert_eq!(ch.buffered(), 0, "seed {seed}: memory held after delivery");
        }
    }

    /// A reliable receiver refuses what would exceed its window, and takes it once there is room.
    #[test]
    fn reliable_window_refuses_then_accepts() {
        let config = ChannelConfig { window: 4096, max_message_len: 4000, ..ChannelConfig::for_kind(ChannelKind::Usb) };
        let mut ch = RecvChannel::new(config);
        let (mut stats, mut out) = (ChannelStats::default(), Vec::new());
        let frag = |seq: u64, offset: u64, len: usize| Fragment {
            channel: 1,
            seq,
            total: 3000,
            offset,
            deadline: None,
            data: Bytes::from(vec![seq as u8; len]),
        };
        // Message 1 arrives partly; message 0 not at all: 1 is held.
        ch.on_fragment(Timestamp::ZERO, frag(1, 0, 1000), None, &mut stats, &mut out).unwrap();
        // Message 2 would push the held bytes past the window.
        assert_eq!(
            ch.on_fragment(Timestamp::ZERO, frag(2, 0, 1000), None, &mut stats, &mut out),
            Err(Refusal::WindowExceeded)
        );
        for f in [frag(0, 0, 3000), frag(1, 1000, 2000)] {
            ch.on_fragment(Timestamp::ZERO, f, None, &mut stats, &mut out).unwrap();
        }
        assert_eq!(out.len(), 2);
        assert_eq!(ch.buffered(), 0);
        ch.on_fragment(Timestamp::ZERO, frag(2, 0, 3000), None, &mut stats, &mut out).unwrap();
        assert_eq!(out.len(), 3);
    }

    /// Media frames: delivered whole or dropped, never partial, never twice, never after their
    /// deadline.
    #[test]
    fn media_frames_are_whole_once_and_on_time() {
        for seed in 0..100 {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let messages: Vec<Vec<u8>> = (0..10).map(|i| vec![i as u8; rng.random_range(1..3000)]).collect();
            let mut ch = RecvChannel::new(ChannelConfig::for_kind(ChannelKind::Display));
            let (mut stats, mut out) = (ChannelStats::default(), Vec::new());
            let mut frags = fragments(&mut rng, &messages);
            // Lose a few fragments.
            frags.retain(|_| rng.random_bool(0.9));
            for (i, f) in frags.into_iter().enumerate() {
                let now = Timestamp::from_micros(i as u64 * 100);
                let deadline = Some(Timestamp::from_micros(f.seq * 400 + 2000));
                ch.on_fragment(now, f, deadline, &mut stats, &mut out).unwrap();
                if i % 7 == 0 {
                    ch.expire(now, &mut stats, &mut out);
                }
            }
            let mut seen = std::collections::HashSet::new();
            for d in out {
                let seq = match d {
                    Delivery::Message { seq, data } => {
                        assert_eq!(data.to_vec(), messages[seq as usize], "seed {seed}: frame {seq} not whole");
                        seq
                    }
                    Delivery::Dropped { seq, .. } => seq,
                };
                assert!(seen.insert(seq), "seed {seed}: frame {seq} reported twice");
            }
        }
    }
}

#[cfg(test)]
mod fec_tests {
    use super::*;
    use crate::channel::ChannelKind;

    #[test]
    fn a_lost_shard_is_rebuilt_from_a_repair() {
        let shard = fec::shard_size(1200);
        let frame: Vec<u8> = (0..4000).map(|i| (i % 253) as u8).collect();
        let repairs = fec::encode(&frame, shard, 1).unwrap();
        let mut ch = RecvChannel::new(ChannelConfig::for_kind(ChannelKind::Display));
        let (mut stats, mut out) = (ChannelStats::default(), Vec::new());
        let deadline = Some(Timestamp::from_millis(100));
        for i in [0usize, 2, 3] {
            let end = ((i + 1) * shard).min(frame.len());
            let f = Fragment {
                channel: 2,
                seq: 0,
                total: frame.len() as u64,
                offset: (i * shard) as u64,
                deadline: Some(0),
                data: Bytes::copy_from_slice(&frame[i * shard..end]),
            };
            ch.on_fragment(Timestamp::ZERO, f, deadline, &mut stats, &mut out).unwrap();
        }
        assert!(out.is_empty());
        let r = RepairFrame {
            channel: 2,
            seq: 0,
            total: frame.len() as u64,
            shard: shard as u64,
            count: 1,
            index: 0,
            deadline: 0,
            data: repairs[0].clone(),
        };
        ch.on_repair(Timestamp::ZERO, r, deadline, &mut stats, &mut out).unwrap();
        assert!(matches!(&out[..], [Delivery::Message { data, .. }] if data[..] == frame[..]), "{out:?}");
        assert_eq!(stats.fec_recovered, 1);
        assert_eq!(ch.buffered(), 0);
    }
}
