//! Why a packet was refused or cannot be written.

use super::caps::{Capability, Role};
use super::packet::PacketType;

/// A packet that breaks one of the protocol's rules, whichever way it travels: the same
/// checks run on what is decoded and on what is about to be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// This side never sends this type.
    #[error("a {sender} does not send {packet}")]
    WrongDirection {
        /// The packet's type.
        packet: PacketType,
        /// Who sent it.
        sender: Role,
    },
    /// The type may only be sent once both hellos announce a capability.
    #[error("{packet} needs both sides to announce {capability:?}")]
    NeedsCapability {
        /// The packet's type.
        packet: PacketType,
        /// The capability it needs.
        capability: Capability,
    },
    /// A data packet carries a payload where none belongs (OUT data from the host, IN data
    /// from the guest).
    #[error("{packet} on endpoint {endpoint:#04x} from the {sender} carries {len} bytes where none belong")]
    UnexpectedPayload {
        /// The packet's type.
        packet: PacketType,
        /// Its endpoint.
        endpoint: u8,
        /// Who sent it.
        sender: Role,
        /// The payload's length.
        len: usize,
    },
    /// A data packet's payload is not as long as its length field says.
    #[error("{packet} on endpoint {endpoint:#04x} says {declared} bytes but carries {actual}")]
    PayloadLength {
        /// The packet's type.
        packet: PacketType,
        /// Its endpoint.
        endpoint: u8,
        /// The length field.
        declared: u32,
        /// The payload's length.
        actual: usize,
    },
    /// A packet sent the way its endpoint never goes (an iso packet that would carry no data,
    /// an interrupt IN request from the guest, buffered bulk data for an OUT endpoint).
    #[error("{packet} for endpoint {endpoint:#04x} is never sent by the {sender}")]
    EndpointDirection {
        /// The packet's type.
        packet: PacketType,
        /// Its endpoint.
        endpoint: u8,
        /// Who sent it.
        sender: Role,
    },
    /// The packet names an OUT endpoint where only IN endpoints make sense (interrupt and bulk
    /// receiving).
    #[error("{packet} names endpoint {endpoint:#04x}, which is not an IN endpoint")]
    NotInEndpoint {
        /// The packet's type.
        packet: PacketType,
        /// Its endpoint.
        endpoint: u8,
    },
    /// `interface_info` with more than 32 interfaces.
    #[error("interface_info with {count} interfaces (at most 32)")]
    TooManyInterfaces {
        /// The count field.
        count: u32,
    },
    /// A transfer length above what the protocol, or the link's header size, allows.
    #[error("{packet} length {length} exceeds {max}")]
    LengthTooLarge {
        /// The packet's type.
        packet: PacketType,
        /// The length.
        length: u32,
        /// The largest allowed.
        max: u32,
    },
    /// A field that exists exactly when both sides announce a capability is present without
    /// it, or missing with it (encoding only: decoding reads what the capabilities say).
    #[error("{packet}: field {field} must be present exactly when {capability:?} is negotiated")]
    FieldMismatch {
        /// The packet's type.
        packet: PacketType,
        /// The field.
        field: &'static str,
        /// The capability it depends on.
        capability: Capability,
    },
}

/// Why bytes from the peer were refused. The parser skips the refused packet by its length
/// and goes on with the next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A type code the protocol does not define.
    #[error("unknown packet type {code}")]
    UnknownType {
        /// The code.
        code: u32,
    },
    /// A `length` above the link's limit.
    #[error("packet length {length} exceeds the {max}-byte limit")]
    TooLong {
        /// The length field.
        length: u32,
        /// The limit.
        max: u32,
    },
    /// A `length` shorter than the type's fixed header.
    #[error("{packet} of {length} bytes is shorter than its {needed}-byte header")]
    Short {
        /// The packet's type.
        packet: PacketType,
        /// The length field.
        length: u32,
        /// The fixed header's size.
        needed: usize,
    },
    /// A `length` longer than the fixed header of a type that carries no data.
    #[error("{packet} of {length} bytes: the type carries exactly {expected}")]
    LengthMismatch {
        /// The packet's type.
        packet: PacketType,
        /// The length field.
        length: u32,
        /// What the type carries.
        expected: usize,
    },
    /// A hello whose capability words are not whole, or too many.
    #[error("hello with {len} bytes of capability words (whole 4-byte words, at most {max})", max = 4 * super::MAX_CAP_WORDS)]
    CapWords {
        /// Bytes after the version string.
        len: usize,
    },
    /// A string the protocol NUL-terminates (the hello's version, a filter) without its NUL.
    #[error("{packet}: string is not NUL-terminated")]
    Unterminated {
        /// The packet's type.
        packet: PacketType,
    },
    /// A filter string with a NUL before its end.
    #[error("filter_filter: NUL inside the rules")]
    InteriorNul,
    /// A filter string that is not UTF-8 (the rules are ASCII).
    #[error("filter_filter: rules are not UTF-8")]
    InvalidUtf8,
    /// A frame that does not hold exactly the packet its header announces (decoding a single
    /// frame only; the parser cuts frames itself).
    #[error("frame of {actual} bytes for a packet of {expected}")]
    FrameLength {
        /// Header plus the header's `length`.
        expected: u64,
        /// What was given.
        actual: usize,
    },
    /// The peer's first packet is not its hello.
    #[error("expected the peer's hello first, got packet type {code}")]
    ExpectedHello {
        /// The type code received.
        code: u32,
    },
    /// A second hello.
    #[error("a second hello")]
    DuplicateHello,
    /// The packet breaks a rule of the protocol.
    #[error(transparent)]
    Invalid(#[from] Violation),
}

/// Why a packet cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An id above `u32::MAX` on a link with 32-bit ids.
    #[error("id {id} does not fit the link's 32-bit ids")]
    IdTooLarge {
        /// The id.
        id: u64,
    },
    /// The packet would exceed the link's limit.
    #[error("packet length {length} exceeds the {max}-byte limit")]
    TooLong {
        /// The length it would have (after the header).
        length: u64,
        /// The limit.
        max: u32,
    },
    /// A hello's version string of 64 bytes or more.
    #[error("version string of {len} bytes (at most 63)")]
    VersionTooLong {
        /// Its length.
        len: usize,
    },
    /// A hello with more capability words than [`MAX_CAP_WORDS`](super::MAX_CAP_WORDS).
    #[error("hello with {count} capability words (at most {max})", max = super::MAX_CAP_WORDS)]
    TooManyCapWords {
        /// How many it has.
        count: usize,
    },
    /// A string that would be NUL-terminated on the wire contains a NUL.
    #[error("string contains a NUL")]
    InteriorNul,
    /// The packet breaks a rule of the protocol.
    #[error(transparent)]
    Invalid(#[from] Violation),
}

/// A [`Limits`](super::Limits) out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("max_packet_len {actual} outside {min}..={max}")]
pub struct InvalidLimits {
    /// What was asked.
    pub actual: u32,
    /// The smallest allowed.
    pub min: u32,
    /// The largest allowed.
    pub max: u32,
}
