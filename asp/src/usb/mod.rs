//! # USB redirection: the usbredir wire protocol
//!
//! ASP redirects a USB device plugged into the client to the server's desktop or virtual
//! machine by carrying the usbredir protocol, the one QEMU and SPICE speak (libusbredirparser;
//! this module reads and writes what Debian bookworm's 0.13 does, protocol version 0.7), on
//! the USB channel. This module owns that protocol's bytes and nothing else: a sans-IO codec
//! that turns every usbredir packet into a typed [`Packet`] and back, and a streaming
//! [`Parser`] that takes the peer's bytes split anywhere, negotiates capabilities from both
//! hellos, and yields packets with counters. It opens no device and no socket and reads no
//! clock; talking to a real device (libusb), emulating one, the policy that decides which
//! devices may be redirected, and the wiring into a session live elsewhere.
//!
//! ## The two roles
//!
//! usbredir has two asymmetric ends ([`Role`]): the *usb-host* has the device and answers
//! requests (in ASP, the client), the *usb-guest* uses the device (the server). Most packet
//! types travel one way only, and whether a data packet carries a payload depends on who sends
//! it and the direction of its endpoint: OUT data travels with the guest's request, IN data
//! with the host's answer. The codec checks both, so a packet is always decoded knowing who
//! sent it.
//!
//! ## Framing
//!
//! Every packet is a header, little-endian: `type: u32`, `length: u32` (the bytes after the
//! header), `id` (u32, or u64 once both hellos announce [`Capability::Ids64`]); then a
//! fixed-size header particular to the type, then, for some types, variable data. The first
//! packet each way is a `hello` (version string and capability words) with a 32-bit id; what
//! both hellos announce ([`Caps::negotiate`]) decides, from then on, the id width and the
//! size of `device_connect`, `ep_info` and bulk packet headers, and whether the filter,
//! disconnect-ack and bulk-receiving packets may be sent at all. Nothing but the hello may be
//! sent before the peer's hello has arrived ([`Parser::outgoing`] is `None` until then).
//!
//! ## Limits
//!
//! A packet's `length` is refused above [`Limits::max_packet_len`] (by default
//! [`DEFAULT_MAX_PACKET_LEN`], at most [`PROTOCOL_MAX_PACKET_LEN`], libusbredirparser's own
//! ceiling); a transfer above [`MAX_TRANSFER_LEN`]; a hello with more than [`MAX_CAP_WORDS`]
//! capability words. The parser never allocates ahead of the bytes it was given: a refused
//! packet is skipped by its length without being buffered.
//!
//! ## Example
//!
//! ```
//! use asp::usb::{Caps, Codec, Limits, Packet, Parser, Role};
//!
//! // The guest's parser reads what the host sends.
//! let mut guest = Parser::new(Role::Guest, Caps::all_known(), Limits::default());
//! let mut host = Parser::new(Role::Host, Caps::all_known(), Limits::default());
//! let mut wire = Vec::new();
//! host.encode_hello("example host", &mut wire).unwrap();
//! guest.feed(&wire);
//! let hello = guest.poll().unwrap().unwrap();
//! assert!(matches!(hello.packet, Packet::Hello(_)));
//! assert_eq!(guest.negotiated(), Some(Caps::all_known()));
//! // Once the host has the guest's hello too, it writes with the negotiated framing.
//! let mut wire = Vec::new();
//! guest.encode_hello("example guest", &mut wire).unwrap();
//! host.feed(&wire);
//! assert!(host.poll().unwrap().is_ok());
//! let codec: Codec = host.outgoing().unwrap();
//! let mut wire = Vec::new();
//! codec.encode(0, &Packet::DeviceDisconnect, &mut wire).unwrap();
//! assert_eq!(wire.len(), 16); // a 64-bit id: both announced it
//! guest.feed(&wire);
//! assert_eq!(guest.poll().unwrap().unwrap().packet, Packet::DeviceDisconnect);
//! assert_eq!(guest.stats().packets, 2);
//! ```

mod caps;
mod codec;
pub mod device;
mod error;
pub mod filter;
pub mod guest;
pub mod link;
mod packet;
mod parser;
#[cfg(test)]
mod tests;

pub use caps::{Capability, Caps, Role};
pub use codec::{Codec, Header, Limits};
pub use error::{DecodeError, EncodeError, InvalidLimits, Violation};
pub use packet::{
    BufferedBulkPacket, BulkPacket, ControlPacket, DeviceConnect, EpInfo, Hello, Interface, InterfaceInfo,
    InterruptPacket, IsoPacket, Packet, PacketType, Speed, Status, TransferType, Version,
};
pub use parser::{Parser, ParserStats, Received};

/// The largest transfer a bulk, buffered bulk or bulk-receiving packet may ask for or carry:
/// 128 MiB, libusbredirparser's limit.
pub const MAX_TRANSFER_LEN: u32 = 128 * 1024 * 1024;
/// The largest `length` the protocol allows in a packet header (libusbredirparser's ceiling):
/// the largest transfer and room for the type's own header.
pub const PROTOCOL_MAX_PACKET_LEN: u32 = MAX_TRANSFER_LEN + 1024;
/// The `length` a [`Parser`] accepts unless told otherwise: 16 MiB of data and room for the
/// type's own header. Bulk transfers of real devices stay far below (mass storage asks for 1
/// MiB at most), and a peer cannot make one link hold more than this.
pub const DEFAULT_MAX_PACKET_LEN: u32 = 16 * 1024 * 1024 + 1024;
/// The smallest limit [`Limits::new`] accepts: every fixed-size packet fits below it.
pub const MIN_MAX_PACKET_LEN: u32 = 1024;
/// The most capability words a hello may carry (libusbredirparser sends 1).
pub const MAX_CAP_WORDS: usize = 16;
/// The `version` field of a hello: a NUL-terminated string in this many bytes.
pub const VERSION_LEN: usize = 64;
