//! Primitive encodings shared by every wire structure: QUIC-style variable-length integers
//! (RFC 9000 §16) and length checks that never panic on untrusted input.

use bytes::{Buf, BufMut, Bytes};

/// The input ended before the structure being read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unexpected end of input")]
pub struct UnexpectedEnd;

/// Largest value a varint can carry: 2^62 - 1.
pub const VARINT_MAX: u64 = (1 << 62) - 1;

/// Bytes a varint of `v` takes on the wire.
#[must_use]
pub fn varint_len(v: u64) -> usize {
    if v < 1 << 6 {
        1
    } else if v < 1 << 14 {
        2
    } else if v < 1 << 30 {
        4
    } else {
        8
    }
}

/// Writes `v` as a varint. Values above [`VARINT_MAX`] are a caller bug and are clamped.
pub fn put_varint<B: BufMut>(buf: &mut B, v: u64) {
    let v = v.min(VARINT_MAX);
    match varint_len(v) {
        1 => buf.put_u8(v as u8),
        2 => buf.put_u16(0x4000 | v as u16),
        4 => buf.put_u32(0x8000_0000 | v as u32),
        _ => buf.put_u64(0xc000_0000_0000_0000 | v),
    }
}

/// Reads a varint, or reports that the input is too short.
pub fn get_varint<B: Buf>(buf: &mut B) -> Result<u64, UnexpectedEnd> {
    let first = *buf.chunk().first().ok_or(UnexpectedEnd)?;
    let len = 1usize << (first >> 6);
    if buf.remaining() < len {
        return Err(UnexpectedEnd);
    }
    Ok(match len {
        1 => u64::from(buf.get_u8()),
        2 => u64::from(buf.get_u16() & 0x3fff),
        4 => u64::from(buf.get_u32() & 0x3fff_ffff),
        _ => buf.get_u64() & 0x3fff_ffff_ffff_ffff,
    })
}

/// Reads a varint that must fit `usize` and be at most `max`; larger values are reported as
/// `None` so the caller can name its own error.
pub fn get_bounded<B: Buf>(buf: &mut B, max: u64) -> Result<Option<u64>, UnexpectedEnd> {
    let v = get_varint(buf)?;
    Ok((v <= max).then_some(v))
}

/// Reads one byte.
pub fn get_u8<B: Buf>(buf: &mut B) -> Result<u8, UnexpectedEnd> {
    buf.try_get_u8().map_err(|_| UnexpectedEnd)
}

/// Reads a big-endian u32.
pub fn get_u32<B: Buf>(buf: &mut B) -> Result<u32, UnexpectedEnd> {
    buf.try_get_u32().map_err(|_| UnexpectedEnd)
}

/// Splits `len` bytes off the front of `buf` without copying.
pub fn split_bytes(buf: &mut Bytes, len: u64) -> Result<Bytes, UnexpectedEnd> {
    let len = usize::try_from(len).map_err(|_| UnexpectedEnd)?;
    if buf.len() < len {
        return Err(UnexpectedEnd);
    }
    Ok(buf.split_to(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_at_every_boundary() {
        for v in [0, 63, 64, 16383, 16384, (1 << 30) - 1, 1 << 30, VARINT_MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v));
            assert_eq!(get_varint(&mut &out[..]), Ok(v));
        }
    }

    #[test]
    fn rfc9000_examples() {
        // RFC 9000 §A.1 sample encodings.
        let cases: [(&[u8], u64); 4] = [
            (&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c], 151_288_809_941_952_652),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
        ];
        for (bytes, v) in cases {
            assert_eq!(get_varint(&mut &bytes[..]), Ok(v));
        }
    }

    #[test]
    fn truncated_varint_is_an_error() {
        assert_eq!(get_varint(&mut &[0x40][..]), Err(UnexpectedEnd));
        assert_eq!(get_varint(&mut &[][..]), Err(UnexpectedEnd));
        let mut b = Bytes::from_static(b"abc");
        assert_eq!(split_bytes(&mut b, 4), Err(UnexpectedEnd));
        assert_eq!(split_bytes(&mut b, 2).unwrap(), Bytes::from_static(b"ab"));
    }
}
