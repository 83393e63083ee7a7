//! Packet headers: the invariant first byte, the long (handshake) header that names a version,
//! the short (data) header, and version negotiation. See docs/PROTOCOL.md §2.

use bytes::{BufMut, Bytes};

use super::coding::{UnexpectedEnd, get_u8, get_u32, get_varint, put_varint};

/// The wire version this crate speaks.
pub const VERSION_1: u32 = 1;

/// First-byte bits. Bit 6 is always set so that stray traffic is cheap to reject.
const FIXED_BIT: u8 = 0x40;
const LONG_BIT: u8 = 0x80;
const RESERVED_MASK: u8 = 0x3f;

/// Most versions a version-negotiation packet may list.
pub const MAX_NEGOTIATION_VERSIONS: usize = 16;

/// A packet header, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// Handshake packets: carry the wire version so that the peer can refuse it.
    Long {
        /// Wire version of this packet.
        version: u32,
        /// Packet number, shared with short packets, increasing per direction.
        number: u64,
    },
    /// Every packet after the handshake.
    Short {
        /// Packet number.
        number: u64,
    },
    /// The server's answer to a handshake packet whose version it does not speak.
    VersionNegotiation {
        /// The versions the server speaks.
        versions: Vec<u32>,
    },
}

/// Why a packet's header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Fixed bit clear or reserved bits set: not an ASP packet.
    #[error("not an ASP packet (first byte {0:#04x})")]
    NotAsp(u8),
    /// A version-negotiation packet listing too many or no versions.
    #[error("version negotiation lists {0} versions")]
    BadVersionList(usize),
    /// The packet ended inside the header.
    #[error(transparent)]
    Truncated(#[from] UnexpectedEnd),
}

impl Header {
    /// Reads a header off the front of `buf`, leaving the frames behind.
    pub fn decode(buf: &mut Bytes) -> Result<Header, HeaderError> {
        let first = get_u8(buf)?;
        if first & FIXED_BIT == 0 || first & RESERVED_MASK != 0 {
            return Err(HeaderError::NotAsp(first));
        }
        if first & LONG_BIT == 0 {
            return Ok(Header::Short { number: get_varint(buf)? });
        }
        let version = get_u32(buf)?;
        if version != 0 {
            return Ok(Header::Long { version, number: get_varint(buf)? });
        }
        let count = usize::try_from(get_varint(buf)?).unwrap_or(usize::MAX);
        if count == 0 || count > MAX_NEGOTIATION_VERSIONS {
            return Err(HeaderError::BadVersionList(count));
        }
        let versions = (0..count).map(|_| get_u32(buf)).collect::<Result<Vec<_>, _>>()?;
        Ok(Header::VersionNegotiation { versions })
    }

    /// Appends the header to `out`.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            Header::Long { version, number } => {
                out.put_u8(LONG_BIT | FIXED_BIT);
                out.put_u32(*version);
                put_varint(out, *number);
            }
            Header::Short { number } => {
                out.put_u8(FIXED_BIT);
                put_varint(out, *number);
            }
            Header::VersionNegotiation { versions } => {
                out.put_u8(LONG_BIT | FIXED_BIT);
                out.put_u32(0);
                let versions = &versions[..versions.len().min(MAX_NEGOTIATION_VERSIONS)];
                put_varint(out, versions.len() as u64);
                for v in versions {
                    out.put_u32(*v);
                }
            }
        }
    }

    /// The packet number, for headers that have one.
    #[must_use]
    pub fn number(&self) -> Option<u64> {
        match self {
            Header::Long { number, .. } | Header::Short { number } => Some(*number),
            Header::VersionNegotiation { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(h: Header) {
        let mut out = Vec::new();
        h.encode(&mut out);
        let mut b = Bytes::from(out);
        assert_eq!(Header::decode(&mut b), Ok(h));
        assert!(b.is_empty());
    }

    #[test]
    fn headers_round_trip() {
        round_trip(Header::Long { version: VERSION_1, number: 7 });
        round_trip(Header::Short { number: 1 << 40 });
        round_trip(Header::VersionNegotiation { versions: vec![1, 2] });
    }

    #[test]
    fn foreign_bytes_are_rejected() {
        for first in [0x00, 0x80, 0x41, 0xff] {
            let mut b = Bytes::from(vec![first, 0, 0, 0, 1, 0]);
            assert!(matches!(Header::decode(&mut b), Err(HeaderError::NotAsp(_))));
        }
        let mut b = Bytes::from_static(&[0xc0, 0, 0, 0, 0, 0x3f]);
        assert_eq!(Header::decode(&mut b), Err(HeaderError::BadVersionList(63)));
        let mut b = Bytes::from_static(&[0xc0, 0, 0]);
        assert_eq!(Header::decode(&mut b), Err(HeaderError::Truncated(UnexpectedEnd)));
    }
}
