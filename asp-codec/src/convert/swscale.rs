//! The same conversions through FFmpeg's swscale, for comparison with the `yuv` crate.
//!
//! swscale reads and writes this crate's buffers in place (no copies into `AVFrame`s), so
//! the bench compares the two kernels and nothing else. It is set to BT.709, limited range,
//! like [`super::to_yuv`], so both produce the same picture to within rounding.
#![allow(unsafe_code)]

use ffmpeg_next::ffi;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling::{Context, Flags};

use super::{ConvertError, check_size};
use crate::frame::{ChannelOrder, RgbaImage, YuvFormat, YuvImage};

/// A swscale context for one direction, layout and size.
pub struct SwsConverter {
    ctx: Context,
    order: ChannelOrder,
    format: YuvFormat,
    width: u32,
    height: u32,
}

impl std::fmt::Debug for SwsConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwsConverter")
            .field("order", &self.order)
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

fn packed(order: ChannelOrder) -> Pixel {
    match order {
        ChannelOrder::Bgra => Pixel::BGRA,
        ChannelOrder::Rgba => Pixel::RGBA,
    }
}

fn planar(format: YuvFormat) -> Pixel {
    match format {
        YuvFormat::I420 => Pixel::YUV420P,
        YuvFormat::I444 => Pixel::YUV444P,
        YuvFormat::Nv12 => Pixel::NV12,
    }
}

impl SwsConverter {
    /// A converter from packed `order` to `format`.
    ///
    /// # Errors
    ///
    /// [`ConvertError`] if the size is odd for 4:2:0 or swscale refuses the combination.
    pub fn to_yuv(order: ChannelOrder, format: YuvFormat, width: u32, height: u32) -> Result<Self, ConvertError> {
        Self::new(order, format, width, height, true)
    }

    /// A converter from `format` to packed `order`.
    ///
    /// # Errors
    ///
    /// As [`SwsConverter::to_yuv`].
    pub fn to_rgba(format: YuvFormat, order: ChannelOrder, width: u32, height: u32) -> Result<Self, ConvertError> {
        Self::new(order, format, width, height, false)
    }

    fn new(
        order: ChannelOrder,
        format: YuvFormat,
        width: u32,
        height: u32,
        forward: bool,
    ) -> Result<Self, ConvertError> {
        check_size(format, width, height)?;
        crate::ffmpeg::init();
        let (src, dst) = if forward { (packed(order), planar(format)) } else { (planar(format), packed(order)) };
        // Bilinear chroma filtering; FAST_BILINEAR measured no faster here and is less exact.
        let mut ctx = Context::get(src, width, height, dst, width, height, Flags::BILINEAR)?;
        // SAFETY: `ctx` is a live SwsContext; sws_getCoefficients returns a pointer to a static
        // table, and sws_setColorspaceDetails only reads it.
        let rc = unsafe {
            let bt709 = ffi::sws_getCoefficients(ffi::SWS_CS_ITU709);
            // Range flags: 1 = full (RGB side), 0 = limited (YUV side).
            let (src_range, dst_range) = if forward { (1, 0) } else { (0, 1) };
            ffi::sws_setColorspaceDetails(ctx.as_mut_ptr(), bt709, src_range, bt709, dst_range, 0, 1 << 16, 1 << 16)
        };
        if rc < 0 {
            return Err(ConvertError::Ffmpeg(ffmpeg_next::Error::from(rc)));
        }
        Ok(Self { ctx, order, format, width, height })
    }

    fn check(&self, rgba: &RgbaImage, yuv: &YuvImage) -> Result<(), ConvertError> {
        let sizes_ok = (rgba.width, rgba.height) == (self.width, self.height)
            && (yuv.width, yuv.height) == (self.width, self.height)
            && rgba.order == self.order
            && yuv.format == self.format
            && rgba.stride >= self.width as usize * 4
            && rgba.data.len() >= rgba.stride * self.height as usize
            && yuv.planes.len() == self.format.plane_count()
            && yuv.planes.iter().enumerate().all(|(i, p)| {
                let (w, h) = self.format.plane_size(i, self.width, self.height);
                p.len() >= w as usize * h as usize
            });
        if sizes_ok {
            Ok(())
        } else {
            Err(ConvertError::BadLayout("pictures differ from the converter's definition".into()))
        }
    }

    fn plane_strides(&self) -> [i32; 4] {
        let mut s = [0; 4];
        for (i, v) in s.iter_mut().enumerate().take(self.format.plane_count()) {
            *v = self.format.plane_size(i, self.width, self.height).0 as i32;
        }
        s
    }

    /// Converts `src` into `dst`.
    ///
    /// # Errors
    ///
    /// [`ConvertError::BadLayout`] if either picture differs from this converter's definition.
    pub fn convert_to_yuv(&mut self, src: &RgbaImage, dst: &mut YuvImage) -> Result<(), ConvertError> {
        self.check(src, dst)?;
        let src_ptrs = [src.data.as_ptr(), std::ptr::null(), std::ptr::null(), std::ptr::null()];
        let src_strides = [src.stride as i32, 0, 0, 0];
        let mut dst_ptrs = [std::ptr::null_mut(); 4];
        for (p, plane) in dst_ptrs.iter_mut().zip(dst.planes.iter_mut()) {
            *p = plane.as_mut_ptr();
        }
        let dst_strides = self.plane_strides();
        // SAFETY: `check` proved every buffer holds its plane's stride * rows for this size.
        unsafe { self.scale(&src_ptrs, &src_strides, &dst_ptrs, &dst_strides) }
    }

    /// Converts `src` into `dst`.
    ///
    /// # Errors
    ///
    /// [`ConvertError::BadLayout`] if either picture differs from this converter's definition.
    pub fn convert_to_rgba(&mut self, src: &YuvImage, dst: &mut RgbaImage) -> Result<(), ConvertError> {
        self.check(dst, src)?;
        let mut src_ptrs = [std::ptr::null(); 4];
        for (p, plane) in src_ptrs.iter_mut().zip(src.planes.iter()) {
            *p = plane.as_ptr();
        }
        let src_strides = self.plane_strides();
        let dst_ptrs = [dst.data.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut()];
        let dst_strides = [dst.stride as i32, 0, 0, 0];
        // SAFETY: `check` proved every buffer holds its plane's stride * rows for this size.
        unsafe { self.scale(&src_ptrs, &src_strides, &dst_ptrs, &dst_strides) }
    }

    /// Runs the context over whole pictures.
    ///
    /// # Safety
    /// Every pointer must address a plane of at least its stride times this converter's height
    /// bytes, in the formats the context was made for (what `check` establishes).
    unsafe fn scale(
        &mut self,
        src: &[*const u8; 4],
        src_strides: &[i32; 4],
        dst: &[*mut u8; 4],
        dst_strides: &[i32; 4],
    ) -> Result<(), ConvertError> {
        // SAFETY: the caller's contract; the context was made for exactly these formats and
        // this size.
        let rows = unsafe {
            ffi::sws_scale(
                self.ctx.as_mut_ptr(),
                src.as_ptr(),
                src_strides.as_ptr(),
                0,
                self.height as i32,
                dst.as_ptr(),
                dst_strides.as_ptr(),
            )
        };
        if rows < 0 { Err(ConvertError::Ffmpeg(ffmpeg_next::Error::from(rows))) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Source, SourceKind};

    #[test]
    fn swscale_agrees_with_the_yuv_crate() {
        let bgra = Source::new(SourceKind::Office, 160, 96, 1).next_frame();
        for format in [YuvFormat::I420, YuvFormat::I444, YuvFormat::Nv12] {
            let reference = super::super::to_yuv(&bgra, format).unwrap();
            let mut ours = YuvImage::black(format, 160, 96);
            SwsConverter::to_yuv(ChannelOrder::Bgra, format, 160, 96)
                .unwrap()
                .convert_to_yuv(&bgra, &mut ours)
                .unwrap();
            // Luma agrees to rounding; chroma differs by each library's downsampling filter.
            let max_y = reference.planes[0].iter().zip(&ours.planes[0]).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
            assert!(max_y <= 2, "{format:?}: luma differs by {max_y}");
            let p = crate::quality::psnr_planes(&reference, &ours).unwrap();
            assert!(p.min() > 30.0, "{format:?}: {p:?}");

            let mut back = RgbaImage::filled(160, 96, ChannelOrder::Bgra, [0, 0, 0]);
            SwsConverter::to_rgba(format, ChannelOrder::Bgra, 160, 96)
                .unwrap()
                .convert_to_rgba(&ours, &mut back)
                .unwrap();
            assert!(crate::quality::psnr_rgb(&bgra, &back).min() > 25.0, "{format:?}");
        }
    }

    #[test]
    fn mismatched_pictures_are_refused_not_overrun() {
        let mut conv = SwsConverter::to_yuv(ChannelOrder::Bgra, YuvFormat::I420, 64, 64).unwrap();
        let small = RgbaImage::filled(32, 32, ChannelOrder::Bgra, [0, 0, 0]);
        let mut dst = YuvImage::black(YuvFormat::I420, 64, 64);
        assert!(matches!(conv.convert_to_yuv(&small, &mut dst), Err(ConvertError::BadLayout(_))));
    }
}
