//! The frame checksum the bindings' tests compare: FNV-1a, 64-bit, over the visible samples of
//! the Y plane, then U, then V, row by row (padding never counts). Simple enough to write in
//! every binding's language, so each test computes it itself from the bytes it received and
//! compares with what a plain Rust client computed for the same frame.

/// FNV-1a 64-bit offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
pub const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Folds `bytes` into `hash`.
#[must_use]
pub fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The checksum of a decoded picture (planes packed, stride = plane width).
#[must_use]
pub fn frame_checksum(image: &asp_codec::YuvImage) -> u64 {
    image.planes.iter().fold(FNV_OFFSET, |h, plane| fnv1a(h, plane))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // The FNV reference values for "" and "a".
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn planes_in_order() {
        let mut image = asp_codec::YuvImage::black(asp_codec::YuvFormat::I420, 4, 2);
        let a = frame_checksum(&image);
        image.planes.swap(1, 2);
        image.planes[1][0] = 1;
        assert_ne!(a, frame_checksum(&image));
        assert_eq!(a, fnv1a(fnv1a(fnv1a(FNV_OFFSET, &[16; 8]), &[128; 2]), &[128; 2]));
    }
}
