//! Pixel conversion between packed BGRA / RGBA and 8-bit YUV (BT.709, limited range).
//!
//! Two implementations exist. [`to_yuv`] / [`to_rgba`] use the `yuv` crate (yuvutils-rs:
//! SSE / AVX2 / NEON kernels, no C), and are the ones the pipeline uses. [`swscale`] does the
//! same through FFmpeg's swscale, kept so that `benches/convert.rs` can compare the two on the
//! same pictures. Measured on this project's 2-core x86-64 machine at 1080p (figures in the
//! crate's README), the `yuv` crate was 4-9x faster in five of the six directions, so it is
//! the default; swscale's hand-written I420 -> RGB32 path was 25 % faster for that one
//! direction (0.53 against 0.70 ms), and a client decoding 4:2:0 can use
//! [`swscale::SwsConverter`] for it.

pub mod swscale;

use yuv::{
    BufferStoreMut, YuvBiPlanarImage, YuvBiPlanarImageMut, YuvConversionMode, YuvPlanarImage, YuvPlanarImageMut,
    YuvRange, YuvStandardMatrix,
};

use crate::frame::{ChannelOrder, RgbaImage, YuvFormat, YuvImage};

const RANGE: YuvRange = YuvRange::Limited;
const MATRIX: YuvStandardMatrix = YuvStandardMatrix::Bt709;
const MODE: YuvConversionMode = YuvConversionMode::Balanced;

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The picture's buffers do not match its declared size.
    #[error("buffer size does not match the picture: {0}")]
    BadLayout(String),
    /// Odd dimensions cannot be carried in 4:2:0.
    #[error("{width}x{height} is odd; 4:2:0 layouts need even sizes")]
    OddSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// The swscale path failed.
    #[error(transparent)]
    Ffmpeg(#[from] ffmpeg_next::Error),
}

fn yuv_err(e: yuv::YuvError) -> ConvertError {
    ConvertError::BadLayout(e.to_string())
}

fn check_size(format: YuvFormat, width: u32, height: u32) -> Result<(), ConvertError> {
    if format != YuvFormat::I444 && (width % 2 != 0 || height % 2 != 0) {
        return Err(ConvertError::OddSize { width, height });
    }
    Ok(())
}

/// Converts a packed picture to YUV `format`.
///
/// # Errors
///
/// [`ConvertError`] if `src`'s buffer is too small, or the size is odd for a 4:2:0 layout.
pub fn to_yuv(src: &RgbaImage, format: YuvFormat) -> Result<YuvImage, ConvertError> {
    let mut out = YuvImage::black(format, src.width, src.height);
    to_yuv_into(src, &mut out)?;
    Ok(out)
}

/// Converts into an existing picture (its format, width and height are kept), so that a
/// capture loop reuses one buffer.
///
/// # Errors
///
/// As [`to_yuv`], and [`ConvertError::BadLayout`] if `dst`'s size differs from `src`'s.
pub fn to_yuv_into(src: &RgbaImage, dst: &mut YuvImage) -> Result<(), ConvertError> {
    check_size(dst.format, src.width, src.height)?;
    if (dst.width, dst.height) != (src.width, src.height) {
        return Err(ConvertError::BadLayout("source and destination sizes differ".into()));
    }
    let (w, h, stride) = (src.width, src.height, src.stride as u32);
    let strides: Vec<u32> = (0..dst.format.plane_count()).map(|i| dst.plane_width(i) as u32).collect();
    match dst.format {
        YuvFormat::I420 | YuvFormat::I444 => {
            let [y, u, v] = &mut dst.planes[..] else {
                return Err(ConvertError::BadLayout("planar picture needs 3 planes".into()));
            };
            let mut img = YuvPlanarImageMut {
                y_plane: BufferStoreMut::Borrowed(y),
                y_stride: strides[0],
                u_plane: BufferStoreMut::Borrowed(u),
                u_stride: strides[1],
                v_plane: BufferStoreMut::Borrowed(v),
                v_stride: strides[2],
                width: w,
                height: h,
            };
            let f = match (dst.format, src.order) {
                (YuvFormat::I420, ChannelOrder::Bgra) => yuv::bgra_to_yuv420,
                (YuvFormat::I420, ChannelOrder::Rgba) => yuv::rgba_to_yuv420,
                (_, ChannelOrder::Bgra) => yuv::bgra_to_yuv444,
                (_, ChannelOrder::Rgba) => yuv::rgba_to_yuv444,
            };
            f(&mut img, &src.data, stride, RANGE, MATRIX, MODE).map_err(yuv_err)
        }
        YuvFormat::Nv12 => {
            let [y, uv] = &mut dst.planes[..] else {
                return Err(ConvertError::BadLayout("NV12 needs 2 planes".into()));
            };
            let mut img = YuvBiPlanarImageMut {
                y_plane: BufferStoreMut::Borrowed(y),
                y_stride: strides[0],
                uv_plane: BufferStoreMut::Borrowed(uv),
                uv_stride: strides[1],
                width: w,
                height: h,
            };
            let f = match src.order {
                ChannelOrder::Bgra => yuv::bgra_to_yuv_nv12,
                ChannelOrder::Rgba => yuv::rgba_to_yuv_nv12,
            };
            f(&mut img, &src.data, stride, RANGE, MATRIX, MODE).map_err(yuv_err)
        }
    }
}

/// Converts a YUV picture to a packed picture in `order`, with a tight stride.
///
/// # Errors
///
/// [`ConvertError`] if `src`'s planes do not match its size.
pub fn to_rgba(src: &YuvImage, order: ChannelOrder) -> Result<RgbaImage, ConvertError> {
    check_size(src.format, src.width, src.height)?;
    let (w, h) = (src.width, src.height);
    let mut out =
        RgbaImage { width: w, height: h, stride: w as usize * 4, order, data: vec![0; w as usize * h as usize * 4] };
    let stride = out.stride as u32;
    let strides: Vec<u32> = (0..src.format.plane_count()).map(|i| src.plane_width(i) as u32).collect();
    match src.format {
        YuvFormat::I420 | YuvFormat::I444 => {
            let [y, u, v] = &src.planes[..] else {
                return Err(ConvertError::BadLayout("planar picture needs 3 planes".into()));
            };
            let img = YuvPlanarImage {
                y_plane: y,
                y_stride: strides[0],
                u_plane: u,
                u_stride: strides[1],
                v_plane: v,
                v_stride: strides[2],
                width: w,
                height: h,
            };
            let f = match (src.format, order) {
                (YuvFormat::I420, ChannelOrder::Bgra) => yuv::yuv420_to_bgra,
                (YuvFormat::I420, ChannelOrder::Rgba) => yuv::yuv420_to_rgba,
                (_, ChannelOrder::Bgra) => yuv::yuv444_to_bgra,
                (_, ChannelOrder::Rgba) => yuv::yuv444_to_rgba,
            };
            f(&img, &mut out.data, stride, RANGE, MATRIX).map_err(yuv_err)?;
        }
        YuvFormat::Nv12 => {
            let [y, uv] = &src.planes[..] else {
                return Err(ConvertError::BadLayout("NV12 needs 2 planes".into()));
            };
            let img = YuvBiPlanarImage {
                y_plane: y,
                y_stride: strides[0],
                uv_plane: uv,
                uv_stride: strides[1],
                width: w,
                height: h,
            };
            let f = match order {
                ChannelOrder::Bgra => yuv::yuv_nv12_to_bgra,
                ChannelOrder::Rgba => yuv::yuv_nv12_to_rgba,
            };
            f(&img, &mut out.data, stride, RANGE, MATRIX, MODE).map_err(yuv_err)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::psnr_rgb;
    use crate::synth::{Source, SourceKind};

    #[test]
    fn solid_colours_map_to_bt709_limited_range() {
        // White is Y 235, black Y 16, and a grey has neutral chroma (128).
        let white = RgbaImage::filled(4, 4, ChannelOrder::Bgra, [255, 255, 255]);
        let yuv = to_yuv(&white, YuvFormat::I420).unwrap();
        assert!(yuv.planes[0].iter().all(|&v| (234..=236).contains(&v)), "{:?}", yuv.planes[0]);
        assert!(yuv.planes[1].iter().all(|&v| (127..=129).contains(&v)));
        let black = RgbaImage::filled(4, 4, ChannelOrder::Rgba, [0, 0, 0]);
        let yuv = to_yuv(&black, YuvFormat::I444).unwrap();
        assert!(yuv.planes[0].iter().all(|&v| (15..=17).contains(&v)));
        // Pure red: BT.709 gives Y ~ 63, V ~ 240 (differs from BT.601's Y 81).
        let red = RgbaImage::filled(4, 4, ChannelOrder::Bgra, [255, 0, 0]);
        let yuv = to_yuv(&red, YuvFormat::Nv12).unwrap();
        assert!(yuv.planes[0].iter().all(|&v| (61..=65).contains(&v)), "{:?}", yuv.planes[0]);
        assert!((238..=242).contains(&yuv.planes[1][1]), "{:?}", yuv.planes[1]);
    }

    #[test]
    fn round_trip_keeps_the_picture_for_every_layout_and_order() {
        let mut src = Source::new(SourceKind::Video, 320, 180, 3);
        let bgra = src.next_frame();
        let rgba = RgbaImage {
            order: ChannelOrder::Rgba,
            data: bgra.data.chunks_exact(4).flat_map(|p| [p[2], p[1], p[0], p[3]]).collect(),
            ..bgra.clone()
        };
        for img in [&bgra, &rgba] {
            // 4:4:4 loses only rounding; 4:2:0 loses chroma detail on the textured region.
            for (format, floor) in [(YuvFormat::I444, 40.0), (YuvFormat::I420, 28.0), (YuvFormat::Nv12, 28.0)] {
                let yuv = to_yuv(img, format).unwrap();
                let back = to_rgba(&yuv, img.order).unwrap();
                let p = psnr_rgb(img, &back);
                assert!(p.min() > floor, "{format:?} {:?}: {p:?}", img.order);
            }
        }
    }

    #[test]
    fn i420_and_nv12_carry_the_same_chroma() {
        let bgra = Source::new(SourceKind::ThreeD, 64, 32, 9).next_frame();
        let planar = to_yuv(&bgra, YuvFormat::I420).unwrap();
        let semi = to_yuv(&bgra, YuvFormat::Nv12).unwrap();
        assert_eq!(planar.planes[0], semi.planes[0]);
        let u: Vec<u8> = semi.planes[1].iter().step_by(2).copied().collect();
        let v: Vec<u8> = semi.planes[1].iter().skip(1).step_by(2).copied().collect();
        let close = |a: &[u8], b: &[u8]| a.iter().zip(b).all(|(x, y)| x.abs_diff(*y) <= 1);
        assert!(close(&u, &planar.planes[1]) && close(&v, &planar.planes[2]));
    }

    #[test]
    fn odd_sizes_are_refused_for_420_and_taken_for_444() {
        let img = RgbaImage::filled(5, 3, ChannelOrder::Bgra, [1, 2, 3]);
        assert!(matches!(to_yuv(&img, YuvFormat::I420), Err(ConvertError::OddSize { .. })));
        assert!(to_yuv(&img, YuvFormat::I444).is_ok());
    }
}
