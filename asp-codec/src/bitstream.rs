//! Just enough Annex B parsing to tell what an access unit holds: its NAL unit types, and so
//! whether it is an IDR picture (where a decoder can start without any earlier packet).
//!
//! FFmpeg's packet key flag is not that: with x264's periodic intra refresh it also marks the
//! P-frames that start a refresh wave (x264's "keyframes" with a recovery point), which a
//! decoder cannot start from on its own.

use crate::video::VideoCodec;

/// The NAL units of an Annex B byte stream: the bytes after each start code (00 00 01 or
/// 00 00 00 01) up to the next. Never panics on any input.
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|&s| {
            // Drop the start code, and the zero byte of a 4-byte start code, from the end.
            let mut e = s - 3;
            while e > 0 && data[e - 1] == 0 {
                e -= 1;
            }
            e
        })
        .chain(std::iter::once(data.len()))
        .collect();
    starts.into_iter().zip(ends).map(move |(s, e)| &data[s..e.max(s)])
}

/// The NAL unit type of a unit of `codec` (`None` for AV1 or an empty unit).
#[must_use]
pub fn nal_type(codec: VideoCodec, nal: &[u8]) -> Option<u8> {
    let first = *nal.first()?;
    match codec {
        VideoCodec::H264 => Some(first & 0x1F),
        VideoCodec::Hevc => Some((first >> 1) & 0x3F),
        VideoCodec::Av1 => None,
    }
}

/// Whether an H.264 / HEVC access unit holds an IDR picture (H.264 type 5; HEVC types 19
/// and 20, IDR_W_RADL and IDR_N_LP). `None` for AV1, which is not Annex B.
#[must_use]
pub fn is_idr(codec: VideoCodec, access_unit: &[u8]) -> Option<bool> {
    let idr = |t: u8| match codec {
        VideoCodec::H264 => t == 5,
        VideoCodec::Hevc => t == 19 || t == 20,
        VideoCodec::Av1 => false,
    };
    (codec != VideoCodec::Av1).then(|| nal_units(access_unit).filter_map(|n| nal_type(codec, n)).any(idr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_both_start_code_lengths() {
        let au = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9, 9];
        let units: Vec<&[u8]> = nal_units(&au).collect();
        assert_eq!(units, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 9, 9][..]]);
        assert_eq!(is_idr(VideoCodec::H264, &au), Some(true));
        let p_frame = [0, 0, 1, 0x41, 7, 7];
        assert_eq!(is_idr(VideoCodec::H264, &p_frame), Some(false));
    }

    #[test]
    fn hevc_idr_types() {
        // NAL header: forbidden bit, 6-bit type, 6-bit layer id, 3-bit temporal id.
        let idr = [0, 0, 1, 19 << 1, 1, 0xAA];
        let trail = [0, 0, 1, 1 << 1, 1, 0xAA];
        assert_eq!(is_idr(VideoCodec::Hevc, &idr), Some(true));
        assert_eq!(is_idr(VideoCodec::Hevc, &trail), Some(false));
        assert_eq!(is_idr(VideoCodec::Av1, &idr), None);
    }

    #[test]
    fn garbage_neither_panics_nor_finds_units() {
        for data in [&[][..], &[0][..], &[0, 0][..], &[0, 0, 1][..], &[1, 2, 3, 4, 5][..]] {
            assert_eq!(is_idr(VideoCodec::H264, data), Some(false));
        }
    }
}
