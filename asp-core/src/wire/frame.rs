//! Frames: the units a packet carries after its header. See docs/PROTOCOL.md §3.
//!
//! Decoding is lazy ([`FrameIter`]) so that reading a packet allocates nothing but the ack
//! ranges, and payloads are handed out as slices of the received datagram.

use bytes::{BufMut, Bytes};

use super::coding::{UnexpectedEnd, get_bounded, get_u8, get_varint, put_varint, split_bytes, varint_len};

/// Frame type codes.
pub mod ty {
    /// One byte of padding.
    pub const PADDING: u8 = 0x00;
    /// Asks for an acknowledgement; keeps the path alive.
    pub const PING: u8 = 0x01;
    /// Acknowledges packet numbers.
    pub const ACK: u8 = 0x02;
    /// Ends the session.
    pub const CLOSE: u8 = 0x03;
    /// Carries a handshake message (long-header packets only).
    pub const HANDSHAKE: u8 = 0x04;
    /// The sender's clock when it wrote the packet.
    pub const TIMESTAMP: u8 = 0x05;
    /// A fragment of a message on a channel.
    pub const MESSAGE: u8 = 0x10;
    /// A fragment of a media frame, with its deadline.
    pub const MEDIA: u8 = 0x11;
    /// The sender gave up on a message it had started to send.
    pub const DROPPED: u8 = 0x12;
    /// First extension type: extension frames carry a length and may be skipped.
    pub const EXTENSION_MIN: u8 = 0x20;
    /// Transport-wide feedback: arrival time or loss of each packet.
    pub const TRANSPORT_FEEDBACK: u8 = 0x20;
    /// Negative acknowledgement: byte ranges of a media frame that did not arrive.
    pub const NACK: u8 = 0x21;
    /// A Reed-Solomon repair shard of a media frame.
    pub const FEC_REPAIR: u8 = 0x22;
    /// Last extension type.
    pub const EXTENSION_MAX: u8 = 0x3f;
}

/// Most ack ranges one ACK frame may carry.
pub const MAX_ACK_RANGES: usize = 64;
/// Longest close reason, in bytes.
pub const MAX_REASON_LEN: usize = 1024;
/// Largest message any channel may carry (a configured limit may be lower).
pub const MAX_MESSAGE_LEN: u64 = 1 << 30;
/// Highest channel id.
pub const MAX_CHANNEL_ID: u64 = u32::MAX as u64;
/// Most packets one feedback frame reports on.
pub const MAX_FEEDBACK_PACKETS: usize = 1024;

/// A decoded frame. Payloads share the datagram's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A run of padding bytes.
    Padding,
    /// Ack-eliciting no-op.
    Ping,
    /// Acknowledgement of received packet numbers.
    Ack(AckFrame),
    /// Session close.
    Close(CloseFrame),
    /// A bincode-encoded handshake message.
    Handshake(Bytes),
    /// The sender's clock, in microseconds of its own epoch.
    Timestamp(u64),
    /// A message fragment; `deadline` is present on media frames.
    Fragment(Fragment),
    /// The sender abandoned message `seq` on `channel`.
    Dropped {
        /// Channel id.
        channel: u64,
        /// Message sequence number.
        seq: u64,
        /// Why, as a [`crate::DropReason`] code.
        reason: u8,
    },
    /// Arrival times of a run of packets, for rate control.
    Feedback(FeedbackFrame),
    /// A forward-error-correction repair shard of a media frame.
    Repair(RepairFrame),
    /// Missing byte ranges of a media frame.
    Nack(NackFrame),
    /// An extension frame this version does not interpret.
    Extension {
        /// Frame type, within the extension range.
        ty: u8,
        /// Its body.
        body: Bytes,
    },
}

/// Acknowledged packet numbers as inclusive ranges, highest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckFrame {
    /// Time the receiver held the largest packet before acknowledging it, in microseconds.
    pub delay_micros: u64,
    /// Disjoint inclusive ranges `(low, high)`, descending, not adjacent.
    pub ranges: Vec<(u64, u64)>,
}

impl AckFrame {
    /// Largest acknowledged packet number.
    #[must_use]
    pub fn largest(&self) -> u64 {
        self.ranges.first().map_or(0, |r| r.1)
    }
}

/// What the receiver saw of packets `base ..` : for each, its arrival time on the receiver's
/// clock (microseconds), or `None` if it has not arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackFrame {
    /// Packet number of the first entry.
    pub base: u64,
    /// One entry per packet number from `base` on.
    pub arrivals: Vec<Option<u64>>,
}

/// One Reed-Solomon repair shard over a media frame cut into `shard`-byte data shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairFrame {
    /// Channel id.
    pub channel: u64,
    /// The frame's sequence number.
    pub seq: u64,
    /// The frame's length.
    pub total: u64,
    /// Shard size in bytes (even).
    pub shard: u64,
    /// Repair shards sent for this frame.
    pub count: u64,
    /// This shard's index among them.
    pub index: u64,
    /// The frame's deadline, sender clock, microseconds.
    pub deadline: u64,
    /// The shard, `shard` bytes.
    pub data: Bytes,
}

/// Byte ranges of a media frame the receiver is missing, asked for again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NackFrame {
    /// Channel id.
    pub channel: u64,
    /// Frame sequence number.
    pub seq: u64,
    /// `(offset, length)` of each missing range.
    pub ranges: Vec<(u64, u64)>,
}

/// Most ranges in one NACK.
pub const MAX_NACK_RANGES: usize = 32;

/// Most repair shards per frame.
pub const MAX_REPAIR_SHARDS: u64 = 1024;

/// Session close: a reason code and a human-readable text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// A [`crate::CloseCode`] value.
    pub code: u64,
    /// Why, in words.
    pub reason: String,
}

/// One fragment of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Channel id.
    pub channel: u64,
    /// Message sequence number within the channel.
    pub seq: u64,
    /// Length of the whole message.
    pub total: u64,
    /// Offset of this fragment within the message.
    pub offset: u64,
    /// For media frames: the deadline, in microseconds of the sender's clock.
    pub deadline: Option<u64>,
    /// The fragment's bytes.
    pub data: Bytes,
}

impl Fragment {
    /// Bytes the frame header takes before the data.
    #[must_use]
    pub fn header_len(&self) -> usize {
        1 + varint_len(self.channel)
            + varint_len(self.seq)
            + varint_len(self.total)
            + varint_len(self.offset)
            + self.deadline.map_or(0, varint_len)
            + varint_len(self.data.len() as u64)
    }
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A frame type this version does not define outside the extension range.
    #[error("unknown frame type {0:#04x}")]
    UnknownType(u8),
    /// A length or count above the protocol's limit.
    #[error("{what} of {value} exceeds the limit")]
    Oversized {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// Ack ranges that overlap, touch or run below zero.
    #[error("malformed ack ranges")]
    BadAckRanges,
    /// A fragment that does not lie within its message.
    #[error("fragment outside its message")]
    BadFragment,
    /// A close reason that is not UTF-8.
    #[error("close reason is not UTF-8")]
    BadReason,
    /// A NACK frame whose body is longer than its ranges.
    #[error("malformed nack frame")]
    BadNack,
    /// A repair frame whose shard is odd-sized, empty, or not of its announced size.
    #[error("malformed repair frame")]
    BadRepair,
    /// A feedback frame whose body does not match its length or whose times run out of range.
    #[error("malformed feedback frame")]
    BadFeedback,
    /// The packet ended inside a frame.
    #[error(transparent)]
    Truncated(#[from] UnexpectedEnd),
}

fn bounded(buf: &mut Bytes, max: u64, what: &'static str) -> Result<u64, FrameError> {
    let mut peek = buf.clone();
    let value = get_varint(&mut peek)?;
    get_bounded(buf, max)?.ok_or(FrameError::Oversized { what, value })
}

/// Iterates over the frames of a packet body; stops at the first error.
#[derive(Debug)]
pub struct FrameIter {
    buf: Bytes,
}

impl FrameIter {
    /// Frames in `body` (the packet after its header).
    #[must_use]
    pub fn new(body: Bytes) -> Self {
        FrameIter { buf: body }
    }
}

impl Iterator for FrameIter {
    type Item = Result<Frame, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let result = decode_frame(&mut self.buf);
        if result.is_err() {
            self.buf.clear();
        }
        Some(result)
    }
}

fn decode_frame(buf: &mut Bytes) -> Result<Frame, FrameError> {
    let ty = get_u8(buf)?;
    Ok(match ty {
        ty::PADDING => {
            let run = buf.iter().take_while(|b| **b == 0).count();
            buf.advance_by(run);
            Frame::Padding
        }
        ty::PING => Frame::Ping,
        ty::ACK => Frame::Ack(decode_ack(buf)?),
        ty::CLOSE => {
            let code = get_varint(buf)?;
            let len = bounded(buf, MAX_REASON_LEN as u64, "close reason")?;
            let raw = split_bytes(buf, len)?;
            let reason = String::from_utf8(raw.to_vec()).map_err(|_| FrameError::BadReason)?;
            Frame::Close(CloseFrame { code, reason })
        }
        ty::HANDSHAKE => {
            let len = bounded(buf, crate::wire::handshake::MAX_HANDSHAKE_LEN as u64, "handshake")?;
            Frame::Handshake(split_bytes(buf, len)?)
        }
        ty::TIMESTAMP => Frame::Timestamp(get_varint(buf)?),
        ty::MESSAGE | ty::MEDIA => {
            let channel = bounded(buf, MAX_CHANNEL_ID, "channel id")?;
            let seq = get_varint(buf)?;
            let total = bounded(buf, MAX_MESSAGE_LEN, "message length")?;
            let offset = get_varint(buf)?;
            let deadline = if ty == ty::MEDIA { Some(get_varint(buf)?) } else { None };
            let len = get_varint(buf)?;
            if offset.checked_add(len).is_none_or(|end| end > total) {
                return Err(FrameError::BadFragment);
            }
            let data = split_bytes(buf, len)?;
            Frame::Fragment(Fragment { channel, seq, total, offset, deadline, data })
        }
        ty::DROPPED => Frame::Dropped {
            channel: bounded(buf, MAX_CHANNEL_ID, "channel id")?,
            seq: get_varint(buf)?,
            reason: get_u8(buf)?,
        },
        ty::TRANSPORT_FEEDBACK => {
            let len = get_varint(buf)?;
            let mut body = split_bytes(buf, len)?;
            let frame = decode_feedback(&mut body)?;
            if !body.is_empty() {
                return Err(FrameError::BadFeedback);
            }
            Frame::Feedback(frame)
        }
        ty::NACK => {
            let len = get_varint(buf)?;
            let mut body = split_bytes(buf, len)?;
            let channel = bounded(&mut body, MAX_CHANNEL_ID, "channel id")?;
            let seq = get_varint(&mut body)?;
            let count = bounded(&mut body, MAX_NACK_RANGES as u64, "nack range count")? as usize;
            let mut ranges = Vec::with_capacity(count);
            for _ in 0..count {
                let offset = bounded(&mut body, MAX_MESSAGE_LEN, "nack offset")?;
                let len = bounded(&mut body, MAX_MESSAGE_LEN, "nack length")?;
                ranges.push((offset, len));
            }
            if !body.is_empty() {
                return Err(FrameError::BadNack);
            }
            Frame::Nack(NackFrame { channel, seq, ranges })
        }
        ty::FEC_REPAIR => {
            let len = get_varint(buf)?;
            let mut body = split_bytes(buf, len)?;
            Frame::Repair(decode_repair(&mut body)?)
        }
        0x23..=ty::EXTENSION_MAX => {
            let len = get_varint(buf)?;
            Frame::Extension { ty, body: split_bytes(buf, len)? }
        }
        other => return Err(FrameError::UnknownType(other)),
    })
}

/// Zig-zag: signed deltas as unsigned varints, small magnitudes small.
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn decode_repair(body: &mut Bytes) -> Result<RepairFrame, FrameError> {
    let channel = bounded(body, MAX_CHANNEL_ID, "channel id")?;
    let seq = get_varint(body)?;
    let total = bounded(body, MAX_MESSAGE_LEN, "message length")?;
    let shard = bounded(body, 65_536, "shard size")?;
    let count = bounded(body, MAX_REPAIR_SHARDS, "repair count")?;
    let index = get_varint(body)?;
    let deadline = get_varint(body)?;
    let data = std::mem::take(body);
    if shard == 0 || shard % 2 != 0 || index >= count || data.len() as u64 != shard {
        return Err(FrameError::BadRepair);
    }
    Ok(RepairFrame { channel, seq, total, shard, count, index, deadline, data })
}

fn decode_feedback(buf: &mut Bytes) -> Result<FeedbackFrame, FrameError> {
    let base = get_varint(buf)?;
    let count = bounded(buf, MAX_FEEDBACK_PACKETS as u64, "feedback packet count")? as usize;
    let mut previous = get_varint(buf)? as i64;
    let mut arrivals = Vec::with_capacity(count);
    for _ in 0..count {
        let entry = get_varint(buf)?;
        if entry == 0 {
            arrivals.push(None);
            continue;
        }
        let at = previous.checked_add(unzigzag(entry - 1)).filter(|t| *t >= 0).ok_or(FrameError::BadFeedback)?;
        arrivals.push(Some(at as u64));
        previous = at;
    }
    base.checked_add(count as u64).ok_or(FrameError::BadFeedback)?;
    Ok(FeedbackFrame { base, arrivals })
}

impl RepairFrame {
    fn body_header_len(&self) -> usize {
        varint_len(self.channel)
            + varint_len(self.seq)
            + varint_len(self.total)
            + varint_len(self.shard)
            + varint_len(self.count)
            + varint_len(self.index)
            + varint_len(self.deadline)
    }

    /// Bytes the encoded frame takes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let body = self.body_header_len() + self.data.len();
        1 + varint_len(body as u64) + body
    }

    /// Appends the frame to `out`.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_u8(ty::FEC_REPAIR);
        put_varint(out, (self.body_header_len() + self.data.len()) as u64);
        put_varint(out, self.channel);
        put_varint(out, self.seq);
        put_varint(out, self.total);
        put_varint(out, self.shard);
        put_varint(out, self.count);
        put_varint(out, self.index);
        put_varint(out, self.deadline);
        out.put_slice(&self.data);
    }
}

impl FeedbackFrame {
    /// The body, after type and length.
    fn encode_body(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(8 + self.arrivals.len() * 2);
        put_varint(&mut body, self.base);
        let arrivals = &self.arrivals[..self.arrivals.len().min(MAX_FEEDBACK_PACKETS)];
        put_varint(&mut body, arrivals.len() as u64);
        let reference = arrivals.iter().flatten().next().copied().unwrap_or(0);
        put_varint(&mut body, reference);
        let mut previous = reference as i64;
        for a in arrivals {
            match a {
                None => put_varint(&mut body, 0),
                Some(t) => {
                    put_varint(&mut body, zigzag(*t as i64 - previous) + 1);
                    previous = *t as i64;
                }
            }
        }
        body
    }
}

fn decode_ack(buf: &mut Bytes) -> Result<AckFrame, FrameError> {
    let largest = get_varint(buf)?;
    let delay_micros = get_varint(buf)?;
    let extra = bounded(buf, MAX_ACK_RANGES as u64 - 1, "ack range count")?;
    let first = get_varint(buf)?;
    let mut low = largest.checked_sub(first).ok_or(FrameError::BadAckRanges)?;
    let mut ranges = Vec::with_capacity(extra as usize + 1);
    ranges.push((low, largest));
    for _ in 0..extra {
        let gap = get_varint(buf)?;
        let len = get_varint(buf)?;
        // The next range ends at least two below the previous low (a gap of zero means one
        // missing packet), as in QUIC.
        let high = low.checked_sub(gap).and_then(|v| v.checked_sub(2)).ok_or(FrameError::BadAckRanges)?;
        low = high.checked_sub(len).ok_or(FrameError::BadAckRanges)?;
        ranges.push((low, high));
    }
    Ok(AckFrame { delay_micros, ranges })
}

trait AdvanceBy {
    fn advance_by(&mut self, n: usize);
}

impl AdvanceBy for Bytes {
    fn advance_by(&mut self, n: usize) {
        bytes::Buf::advance(self, n.min(self.len()));
    }
}

impl Frame {
    /// Appends the frame to `out`.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            Frame::Padding => out.put_u8(ty::PADDING),
            Frame::Ping => out.put_u8(ty::PING),
            Frame::Ack(ack) => ack.encode(out),
            Frame::Close(c) => {
                out.put_u8(ty::CLOSE);
                put_varint(out, c.code);
                let reason = truncate_utf8(&c.reason, MAX_REASON_LEN);
                put_varint(out, reason.len() as u64);
                out.put_slice(reason.as_bytes());
            }
            Frame::Handshake(body) => {
                out.put_u8(ty::HANDSHAKE);
                put_varint(out, body.len() as u64);
                out.put_slice(body);
            }
            Frame::Timestamp(t) => {
                out.put_u8(ty::TIMESTAMP);
                put_varint(out, *t);
            }
            Frame::Fragment(f) => f.encode(out),
            Frame::Repair(r) => r.encode(out),
            Frame::Nack(n) => {
                let ranges = &n.ranges[..n.ranges.len().min(MAX_NACK_RANGES)];
                let mut body = Vec::with_capacity(8 + ranges.len() * 6);
                put_varint(&mut body, n.channel);
                put_varint(&mut body, n.seq);
                put_varint(&mut body, ranges.len() as u64);
                for (offset, len) in ranges {
                    put_varint(&mut body, *offset);
                    put_varint(&mut body, *len);
                }
                out.put_u8(ty::NACK);
                put_varint(out, body.len() as u64);
                out.put_slice(&body);
            }
            Frame::Feedback(f) => {
                let body = f.encode_body();
                out.put_u8(ty::TRANSPORT_FEEDBACK);
                put_varint(out, body.len() as u64);
                out.put_slice(&body);
            }
            Frame::Dropped { channel, seq, reason } => {
                out.put_u8(ty::DROPPED);
                put_varint(out, *channel);
                put_varint(out, *seq);
                out.put_u8(*reason);
            }
            Frame::Extension { ty, body } => {
                out.put_u8(*ty);
                put_varint(out, body.len() as u64);
                out.put_slice(body);
            }
        }
    }
}

impl Fragment {
    /// Appends the fragment frame to `out`: the one copy of a payload on the send path.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_u8(if self.deadline.is_some() { ty::MEDIA } else { ty::MESSAGE });
        put_varint(out, self.channel);
        put_varint(out, self.seq);
        put_varint(out, self.total);
        put_varint(out, self.offset);
        if let Some(d) = self.deadline {
            put_varint(out, d);
        }
        put_varint(out, self.data.len() as u64);
        out.put_slice(&self.data);
    }
}

impl AckFrame {
    /// Appends the ACK frame to `out`. Ranges beyond [`MAX_ACK_RANGES`] are left out.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        let ranges = &self.ranges[..self.ranges.len().min(MAX_ACK_RANGES)];
        let Some(&(first_low, largest)) = ranges.first() else { return };
        out.put_u8(ty::ACK);
        put_varint(out, largest);
        put_varint(out, self.delay_micros);
        put_varint(out, ranges.len() as u64 - 1);
        put_varint(out, largest - first_low);
        let mut prev_low = first_low;
        for &(low, high) in &ranges[1..] {
            put_varint(out, prev_low - high - 2);
            put_varint(out, high - low);
            prev_low = low;
        }
    }

    /// Bytes the encoded frame takes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let ranges = &self.ranges[..self.ranges.len().min(MAX_ACK_RANGES)];
        let Some(&(first_low, largest)) = ranges.first() else { return 0 };
        let mut len = 1
            + varint_len(largest)
            + varint_len(self.delay_micros)
            + varint_len(ranges.len() as u64 - 1)
            + varint_len(largest - first_low);
        let mut prev_low = first_low;
        for &(low, high) in &ranges[1..] {
            len += varint_len(prev_low - high - 2) + varint_len(high - low);
            prev_low = low;
        }
        len
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub(crate) fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
