//! Pictures and packets: what flows between capture, conversion, the codecs and the network.

use bytes::Bytes;

use crate::video::VideoCodec;

/// Byte order of a 32-bit packed pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelOrder {
    /// Blue, green, red, alpha: what most screen capture APIs deliver.
    Bgra,
    /// Red, green, blue, alpha.
    Rgba,
}

/// A packed 8-bit, 4-channel picture, rows `stride` bytes apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next (at least `4 * width`).
    pub stride: usize,
    /// Channel order of each pixel.
    pub order: ChannelOrder,
    /// `stride * height` bytes.
    pub data: Vec<u8>,
}

impl RgbaImage {
    /// A picture of one colour, given as `[r, g, b]`, with a tight stride.
    #[must_use]
    pub fn filled(width: u32, height: u32, order: ChannelOrder, rgb: [u8; 3]) -> Self {
        let px = pixel_bytes(order, rgb);
        let data = px.iter().copied().cycle().take(width as usize * height as usize * 4).collect();
        Self { width, height, stride: width as usize * 4, order, data }
    }

    /// The bytes of row `y`, without the stride's padding.
    ///
    /// # Panics
    ///
    /// If `y >= height`.
    #[must_use]
    pub fn row(&self, y: u32) -> &[u8] {
        let start = y as usize * self.stride;
        &self.data[start..start + self.width as usize * 4]
    }
}

/// The 4 bytes of an opaque pixel of colour `rgb` in `order`.
#[must_use]
pub(crate) fn pixel_bytes(order: ChannelOrder, [r, g, b]: [u8; 3]) -> [u8; 4] {
    match order {
        ChannelOrder::Bgra => [b, g, r, 255],
        ChannelOrder::Rgba => [r, g, b, 255],
    }
}

/// Layout of an 8-bit YUV picture (BT.709, limited range throughout this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YuvFormat {
    /// Planar 4:2:0: Y, then U and V at half width and half height.
    I420,
    /// Planar 4:4:4: Y, U and V at full size. What text needs to keep coloured edges.
    I444,
    /// Semi-planar 4:2:0: Y, then interleaved UV at half height (what hardware encoders take).
    Nv12,
}

impl YuvFormat {
    /// Number of planes (NV12 has two).
    #[must_use]
    pub fn plane_count(self) -> usize {
        match self {
            Self::I420 | Self::I444 => 3,
            Self::Nv12 => 2,
        }
    }

    /// Width and height in samples of plane `index` of a `width` x `height` picture.
    /// For NV12's UV plane the width counts bytes (two per chroma sample pair).
    #[must_use]
    pub fn plane_size(self, index: usize, width: u32, height: u32) -> (u32, u32) {
        let (w, h) = (width as usize, height as usize);
        let (pw, ph) = match (self, index) {
            (_, 0) | (Self::I444, _) => (w, h),
            (Self::I420, _) => (w.div_ceil(2), h.div_ceil(2)),
            (Self::Nv12, _) => (w.div_ceil(2) * 2, h.div_ceil(2)),
        };
        (pw as u32, ph as u32)
    }
}

/// An 8-bit YUV picture with tightly packed planes (stride equals plane width).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YuvImage {
    /// Layout of the planes.
    pub format: YuvFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `format.plane_count()` planes, each `plane_size` in length.
    pub planes: Vec<Vec<u8>>,
}

impl YuvImage {
    /// A black picture (Y = 16, U = V = 128: BT.709 limited range).
    #[must_use]
    pub fn black(format: YuvFormat, width: u32, height: u32) -> Self {
        let planes = (0..format.plane_count())
            .map(|i| {
                let (w, h) = format.plane_size(i, width, height);
                vec![if i == 0 { 16 } else { 128 }; w as usize * h as usize]
            })
            .collect();
        Self { format, width, height, planes }
    }

    /// Width in samples of plane `index` (equal to its stride).
    #[must_use]
    pub fn plane_width(&self, index: usize) -> usize {
        self.format.plane_size(index, self.width, self.height).0 as usize
    }
}

/// A raw picture entering an encoder or leaving a decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    /// The picture.
    pub image: YuvImage,
    /// Presentation time in microseconds, on the sender's media clock.
    pub pts_us: i64,
    /// The sender's id of this frame; the packet made from it carries the same id.
    pub frame_id: u64,
}

/// One compressed picture: an access unit in Annex B (H.264 / HEVC) or an AV1 temporal unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedVideo {
    /// Codec of the bitstream.
    pub codec: VideoCodec,
    /// The compressed bytes.
    pub data: Bytes,
    /// Presentation time of the source frame, in microseconds.
    pub pts_us: i64,
    /// Id of the source frame.
    pub frame_id: u64,
    /// Whether a decoder can start here: an IDR picture for H.264 / HEVC (see
    /// [`crate::bitstream::is_idr`]), a key frame for AV1.
    pub keyframe: bool,
}
