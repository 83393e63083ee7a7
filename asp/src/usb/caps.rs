//! The two ends of a link and the capabilities their hellos announce.

use std::fmt;

/// Which end of a usbredir link a packet comes from, or a parser speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The usb-host: the side the device is plugged into, which carries out the requests (in
    /// ASP, the client).
    Host,
    /// The usb-guest: the side that uses the device as if it were attached there (in ASP, the
    /// server's desktop or virtual machine).
    Guest,
}

impl Role {
    /// The other end.
    #[must_use]
    pub fn peer(self) -> Role {
        match self {
            Role::Host => Role::Guest,
            Role::Guest => Role::Host,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Host => "usb-host",
            Role::Guest => "usb-guest",
        })
    }
}

/// A capability a hello can announce; its value is its bit number in the first capability
/// word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// USB 3 bulk streams; with it, `ep_info` carries each endpoint's `max_streams`. Only
    /// valid together with [`Capability::EpInfoMaxPacketSize`]: alone it is ignored.
    BulkStreams = 0,
    /// `device_connect` carries the device's `bcdDevice`.
    ConnectDeviceVersion = 1,
    /// The `filter_reject` and `filter_filter` packets.
    Filter = 2,
    /// The `device_disconnect_ack` packet.
    DeviceDisconnectAck = 3,
    /// `ep_info` carries each endpoint's `max_packet_size`.
    EpInfoMaxPacketSize = 4,
    /// 64-bit ids in the packet header.
    Ids64 = 5,
    /// Bulk packets carry a 32-bit length (16-bit without).
    BulkLength32 = 6,
    /// Buffered bulk input: `start/stop_bulk_receiving`, `bulk_receiving_status` and
    /// `buffered_bulk_packet`.
    BulkReceiving = 7,
}

impl Capability {
    /// Every capability this code knows, in bit order.
    pub const ALL: [Capability; 8] = [
        Capability::BulkStreams,
        Capability::ConnectDeviceVersion,
        Capability::Filter,
        Capability::DeviceDisconnectAck,
        Capability::EpInfoMaxPacketSize,
        Capability::Ids64,
        Capability::BulkLength32,
        Capability::BulkReceiving,
    ];

    /// Its bit in the first capability word.
    #[must_use]
    pub fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// A set of capabilities: the first capability word of a hello (the only one defined so far;
/// bits this code does not know are kept but mean nothing to it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Caps(u32);

impl Caps {
    /// No capability: how a link is framed before the hellos.
    pub const NONE: Caps = Caps(0);

    /// Every capability this code implements.
    #[must_use]
    pub fn all_known() -> Caps {
        Capability::ALL.iter().fold(Caps::NONE, |caps, &c| caps.with(c))
    }

    /// The set whose first capability word is `bits`.
    #[must_use]
    pub fn from_bits(bits: u32) -> Caps {
        Caps(bits)
    }

    /// The first capability word.
    #[must_use]
    pub fn bits(self) -> u32 {
        self.0
    }

    /// This set and `capability`.
    #[must_use]
    pub fn with(self, capability: Capability) -> Caps {
        Caps(self.0 | capability.bit())
    }

    /// This set without `capability`.
    #[must_use]
    pub fn without(self, capability: Capability) -> Caps {
        Caps(self.0 & !capability.bit())
    }

    /// Whether `capability` is in the set.
    #[must_use]
    pub fn contains(self, capability: Capability) -> bool {
        self.0 & capability.bit() != 0
    }

    /// The set as the protocol reads it: [`Capability::BulkStreams`] without
    /// [`Capability::EpInfoMaxPacketSize`] is not allowed and is dropped (as libusbredirparser
    /// does).
    #[must_use]
    pub fn normalized(self) -> Caps {
        if self.contains(Capability::BulkStreams) && !self.contains(Capability::EpInfoMaxPacketSize) {
            self.without(Capability::BulkStreams)
        } else {
            self
        }
    }

    /// What a link uses once both hellos are known: the capabilities both sides announce
    /// (each normalized first).
    #[must_use]
    pub fn negotiate(ours: Caps, theirs: Caps) -> Caps {
        Caps(ours.normalized().0 & theirs.normalized().0)
    }

    /// The known capabilities in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL.into_iter().filter(move |&c| self.contains(c))
    }
}

impl fmt::Debug for Caps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        set.entries(self.iter());
        let unknown = self.0 & !Caps::all_known().0;
        if unknown != 0 {
            set.entry(&format_args!("unknown {unknown:#x}"));
        }
        set.finish()
    }
}

impl FromIterator<Capability> for Caps {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Caps {
        iter.into_iter().fold(Caps::NONE, Caps::with)
    }
}
