//! The header in front of every display frame's bitstream.
//!
//! 32 bytes, big-endian, then the codec's access unit (Annex B for H.264 / HEVC, a temporal
//! unit for AV1):
//!
//! ```text
//! 0  version (1)        1  codec (0 H.264, 1 HEVC, 2 AV1)
//! 2  flags              3  scene (0 office, 1 video, 2 3D)
//! 4  width  (u16)       6  height (u16)
//! 8  frame id (u64)     16 capture time, µs on the server's clock (u64)
//! 24 answered input (u64): the newest input sequence number this picture answers, 0 for
//!    none (docs/PROTOCOL.md §11.1 says when a picture answers an input)
//! ```
//!
//! Flags: bit 0 keyframe, bit 1 active (the source is changing, more frames follow soon; a
//! client that sees nothing for a while after an active frame has a stall), bit 2 4:4:4.
//! Other bits must be zero.

use asp_codec::VideoCodec;
use asp_codec::scene::SceneClass;
use bytes::{BufMut, Bytes, BytesMut};

/// Header length in bytes.
pub const HEADER_LEN: usize = 32;
/// The header version this code writes and reads.
pub const VERSION: u8 = 1;

const FLAG_KEYFRAME: u8 = 1;
const FLAG_ACTIVE: u8 = 2;
const FLAG_YUV444: u8 = 4;

/// What a display frame says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Codec of the bitstream.
    pub codec: VideoCodec,
    /// A decoder can start here.
    pub keyframe: bool,
    /// The source is changing: more frames follow.
    pub active: bool,
    /// The picture is 4:4:4.
    pub yuv444: bool,
    /// The scene class the server encoded it as.
    pub scene: SceneClass,
    /// Picture width.
    pub width: u16,
    /// Picture height.
    pub height: u16,
    /// The server's frame id.
    pub frame_id: u64,
    /// When the picture was captured, µs on the server's clock.
    pub capture_us: u64,
    /// Newest input sequence number whose effect the picture shows (0: none).
    pub answered_input: u64,
}

/// Why a display frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Fewer than [`HEADER_LEN`] bytes.
    #[error("display frame of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// A version this code does not read.
    #[error("display header version {0} is not supported")]
    Version(u8),
    /// A field holds a value with no meaning.
    #[error("display header field {0} is invalid")]
    Invalid(&'static str),
}

fn codec_byte(codec: VideoCodec) -> u8 {
    match codec {
        VideoCodec::H264 => 0,
        VideoCodec::Hevc => 1,
        VideoCodec::Av1 => 2,
    }
}

fn scene_byte(scene: SceneClass) -> u8 {
    match scene {
        SceneClass::Office => 0,
        SceneClass::Video => 1,
        SceneClass::ThreeD => 2,
    }
}

/// The scene's name as reports print it.
#[must_use]
pub fn scene_name(scene: SceneClass) -> &'static str {
    match scene {
        SceneClass::Office => "office",
        SceneClass::Video => "video",
        SceneClass::ThreeD => "3d",
    }
}

impl FrameHeader {
    /// The header followed by `bitstream`, as one message.
    #[must_use]
    pub fn encode_with(&self, bitstream: &[u8]) -> Bytes {
        let mut out = BytesMut::with_capacity(HEADER_LEN + bitstream.len());
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        let flags =
            flag(self.keyframe, FLAG_KEYFRAME) | flag(self.active, FLAG_ACTIVE) | flag(self.yuv444, FLAG_YUV444);
        out.put_u8(VERSION);
        out.put_u8(codec_byte(self.codec));
        out.put_u8(flags);
        out.put_u8(scene_byte(self.scene));
        out.put_u16(self.width);
        out.put_u16(self.height);
        out.put_u64(self.frame_id);
        out.put_u64(self.capture_us);
        out.put_u64(self.answered_input);
        out.put_slice(bitstream);
        out.freeze()
    }

    /// Splits a display message into its header and bitstream (shared, not copied).
    ///
    /// # Errors
    /// [`HeaderError`] says what was wrong.
    pub fn decode(mut message: Bytes) -> Result<(Self, Bytes), HeaderError> {
        if message.len() < HEADER_LEN {
            return Err(HeaderError::Truncated(message.len()));
        }
        let head = message.split_to(HEADER_LEN);
        let u16_at = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
        let u64_at = |i: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&head[i..i + 8]);
            u64::from_be_bytes(b)
        };
        if head[0] != VERSION {
            return Err(HeaderError::Version(head[0]));
        }
        let codec = match head[1] {
            0 => VideoCodec::H264,
            1 => VideoCodec::Hevc,
            2 => VideoCodec::Av1,
            _ => return Err(HeaderError::Invalid("codec")),
        };
        let flags = head[2];
        if flags & !(FLAG_KEYFRAME | FLAG_ACTIVE | FLAG_YUV444) != 0 {
            return Err(HeaderError::Invalid("flags"));
        }
        let scene = match head[3] {
            0 => SceneClass::Office,
            1 => SceneClass::Video,
            2 => SceneClass::ThreeD,
            _ => return Err(HeaderError::Invalid("scene")),
        };
        let (width, height) = (u16_at(4), u16_at(6));
        if width == 0 || height == 0 {
            return Err(HeaderError::Invalid("size"));
        }
        let header = FrameHeader {
            codec,
            keyframe: flags & FLAG_KEYFRAME != 0,
            active: flags & FLAG_ACTIVE != 0,
            yuv444: flags & FLAG_YUV444 != 0,
            scene,
            width,
            height,
            frame_id: u64_at(8),
            capture_us: u64_at(16),
            answered_input: u64_at(24),
        };
        Ok((header, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FrameHeader {
        FrameHeader {
            codec: VideoCodec::Hevc,
            keyframe: true,
            active: true,
            yuv444: false,
            scene: SceneClass::Video,
            width: 1920,
            height: 1080,
            frame_id: 77,
            capture_us: 123_456_789,
            answered_input: 12,
        }
    }

    #[test]
    fn round_trips_and_shares_the_bitstream() {
        let message = sample().encode_with(b"\0\0\0\x01bits");
        assert_eq!(message.len(), HEADER_LEN + 8);
        let (header, bits) = FrameHeader::decode(message).unwrap();
        assert_eq!(header, sample());
        assert_eq!(&bits[..], b"\0\0\0\x01bits");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let good = sample().encode_with(b"x");
        assert_eq!(FrameHeader::decode(good.slice(..31)), Err(HeaderError::Truncated(31)));
        let corrupt = |at: usize, value: u8| {
            let mut v = good.to_vec();
            v[at] = value;
            FrameHeader::decode(Bytes::from(v)).unwrap_err()
        };
        assert_eq!(corrupt(0, 2), HeaderError::Version(2));
        assert_eq!(corrupt(1, 3), HeaderError::Invalid("codec"));
        assert_eq!(corrupt(2, 8), HeaderError::Invalid("flags"));
        assert_eq!(corrupt(3, 3), HeaderError::Invalid("scene"));
        let mut zero_width = good.to_vec();
        zero_width[4..6].fill(0);
        assert_eq!(FrameHeader::decode(Bytes::from(zero_width)), Err(HeaderError::Invalid("size")));
    }
}
