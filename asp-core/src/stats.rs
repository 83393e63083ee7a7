//! Statistics of a session and of each channel, readable at any time.

use std::time::Duration;

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum DropReason {
    /// It could not reach the receiver before its deadline.
    Deadline = 1,
    /// The sender's queue for the channel was full.
    QueueFull = 2,
    /// A newer message made it pointless (latest-wins, or a newer media frame completed).
    Superseded = 3,
    /// Reassembling it would have exceeded the receiver's memory bound.
    ReassemblyLimit = 4,
    /// The sender gave up on it for a reason this version does not know.
    SenderDropped = 5,
    /// Nothing of it arrived, nor word of it, before a later media frame completed.
    Lost = 6,
}

impl DropReason {
    /// The reason for a wire code, if known.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => DropReason::Deadline,
            2 => DropReason::QueueFull,
            3 => DropReason::Superseded,
            4 => DropReason::ReassemblyLimit,
            5 => DropReason::SenderDropped,
            6 => DropReason::Lost,
            _ => return None,
        })
    }
}

/// Messages dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounters {
    /// [`DropReason::Deadline`].
    pub deadline: u64,
    /// [`DropReason::QueueFull`].
    pub queue_full: u64,
    /// [`DropReason::Superseded`].
    pub superseded: u64,
    /// [`DropReason::ReassemblyLimit`].
    pub reassembly_limit: u64,
    /// [`DropReason::SenderDropped`].
    pub sender_dropped: u64,
    /// [`DropReason::Lost`].
    pub lost: u64,
}

impl DropCounters {
    pub(crate) fn count(&mut self, reason: DropReason) {
        let slot = match reason {
            DropReason::Deadline => &mut self.deadline,
            DropReason::QueueFull => &mut self.queue_full,
            DropReason::Superseded => &mut self.superseded,
            DropReason::ReassemblyLimit => &mut self.reassembly_limit,
            DropReason::SenderDropped => &mut self.sender_dropped,
            DropReason::Lost => &mut self.lost,
        };
        *slot += 1;
    }

    /// All drops together.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.deadline + self.queue_full + self.superseded + self.reassembly_limit + self.sender_dropped + self.lost
    }
}

/// Packets refused on receipt, by reason. None of them panics or closes the session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BadPacketCounters {
    /// Not an ASP packet at all (first byte).
    pub not_asp: u64,
    /// Ended inside a header or frame.
    pub truncated: u64,
    /// A long header with a version this session does not speak.
    pub wrong_version: u64,
    /// An unknown frame type, malformed ack ranges, a fragment outside its message.
    pub malformed_frame: u64,
    /// A length or count above the protocol's limits.
    pub oversized: u64,
    /// A frame in a packet type that may not carry it (data before the handshake, ...).
    pub unexpected: u64,
    /// Data for a channel the peer never opened.
    pub unknown_channel: u64,
    /// A message that would exceed the channel's receive window.
    pub window_exceeded: u64,
    /// A handshake or control body that did not decode.
    pub bad_body: u64,
    /// A packet number seen before (or too old to track).
    pub duplicate: u64,
}

impl BadPacketCounters {
    /// All refusals together.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.not_asp
            + self.truncated
            + self.wrong_version
            + self.malformed_frame
            + self.oversized
            + self.unexpected
            + self.unknown_channel
            + self.window_exceeded
            + self.bad_body
            + self.duplicate
    }
}

/// Round-trip time figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RttStats {
    /// Smoothed RTT (RFC 9002).
    pub smoothed: Duration,
    /// Lowest sample.
    pub min: Duration,
    /// Latest sample.
    pub latest: Duration,
    /// Mean deviation.
    pub variation: Duration,
}

/// Per-session figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionStats {
    /// Datagrams handed to the carrier.
    pub packets_sent: u64,
    /// Bytes handed to the carrier.
    pub bytes_sent: u64,
    /// Datagrams received (all, good or bad).
    pub packets_received: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Packets the loss detector declared lost.
    pub packets_lost: u64,
    /// Packets acknowledged by the peer.
    pub packets_acked: u64,
    /// Fraction of acknowledged-or-lost packets that were lost.
    pub loss_rate: f64,
    /// Fragments sent again after a loss.
    pub retransmits: u64,
    /// Probe timeouts that fired.
    pub probe_timeouts: u64,
    /// Round-trip time.
    pub rtt: RttStats,
    /// The pacing rate in force, bits per second.
    pub target_rate_bps: u64,
    /// The rate controller's estimate and path class, when rate control is on.
    pub rate: Option<crate::cc::RateEstimate>,
    /// Packets refused on receipt, by reason.
    pub bad_packets: BadPacketCounters,
    /// Unknown extension frames skipped.
    pub extensions_ignored: u64,
    /// Keyframe requests sent for media frames lost for good.
    pub keyframe_requests: u64,
    /// Channels the peer tried to open past this end's limits.
    pub channels_refused: u64,
    /// Control messages not queued because the control channel's queue was full (the peer
    /// has stopped acknowledging).
    pub control_overflow: u64,
}

/// Per-channel figures, both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Messages handed to `send`.
    pub messages_queued: u64,
    /// Messages whose last fragment left.
    pub messages_sent: u64,
    /// Payload bytes sent (first transmissions).
    pub bytes_sent: u64,
    /// Fragments written into packets, retransmissions included.
    pub fragments_sent: u64,
    /// Fragments sent again.
    pub retransmits: u64,
    /// FEC repair shards sent (media frames).
    pub fec_repairs_sent: u64,
    /// Media frames completed with the help of FEC repair shards.
    pub fec_recovered: u64,
    /// Media fragments sent again because the receiver asked (NACK).
    pub nack_resends: u64,
    /// NACKs sent for missing media ranges.
    pub nacks_sent: u64,
    /// NACKs received too late to help before the frame's deadline.
    pub nacks_too_late: u64,
    /// Fragments taken from packets (duplicates included).
    pub fragments_received: u64,
    /// Messages delivered to the application.
    pub messages_received: u64,
    /// Payload bytes delivered.
    pub bytes_received: u64,
    /// Messages dropped on the sending side.
    pub send_drops: DropCounters,
    /// Messages dropped on the receiving side.
    pub receive_drops: DropCounters,
    /// Time from `send` until the last fragment left, for the last message.
    pub queue_delay_last: Duration,
    /// Largest such time seen.
    pub queue_delay_max: Duration,
    /// Bytes waiting to be sent now.
    pub queued_bytes: u64,
    /// Bytes sent and not yet acknowledged (reliable channels).
    pub unacked_bytes: u64,
}
