//! Copies between this crate's tightly packed [`YuvImage`] and FFmpeg's strided frames.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::Video as AvFrame;

use crate::frame::{YuvFormat, YuvImage};

/// FFmpeg's name for a layout.
pub(crate) fn pixel(format: YuvFormat) -> Pixel {
    match format {
        YuvFormat::I420 => Pixel::YUV420P,
        YuvFormat::I444 => Pixel::YUV444P,
        YuvFormat::Nv12 => Pixel::NV12,
    }
}

/// This crate's layout for an FFmpeg pixel format, if it carries it.
pub(crate) fn layout(pixel: Pixel) -> Option<YuvFormat> {
    match pixel {
        Pixel::YUV420P | Pixel::YUVJ420P => Some(YuvFormat::I420),
        Pixel::YUV444P | Pixel::YUVJ444P => Some(YuvFormat::I444),
        Pixel::NV12 => Some(YuvFormat::Nv12),
        _ => None,
    }
}

/// Copies `src` into `dst`, which must have the same layout and size.
pub(crate) fn copy_into_frame(src: &YuvImage, dst: &mut AvFrame) {
    for i in 0..src.format.plane_count() {
        let (w, h) = src.format.plane_size(i, src.width, src.height);
        let stride = dst.stride(i);
        let plane = dst.data_mut(i);
        for (row, out) in src.planes[i].chunks_exact(w as usize).take(h as usize).zip(plane.chunks_mut(stride)) {
            out[..w as usize].copy_from_slice(row);
        }
    }
}

/// Copies a decoded frame out, dropping the stride padding. `None` if its layout is not one
/// this crate carries.
pub(crate) fn copy_from_frame(src: &AvFrame) -> Option<YuvImage> {
    let format = layout(src.format())?;
    let (width, height) = (src.width(), src.height());
    let planes = (0..format.plane_count())
        .map(|i| {
            let (w, h) = format.plane_size(i, width, height);
            let stride = src.stride(i);
            let data = src.data(i);
            let mut out = Vec::with_capacity(w as usize * h as usize);
            for row in data.chunks(stride).take(h as usize) {
                out.extend_from_slice(&row[..w as usize]);
            }
            out
        })
        .collect();
    Some(YuvImage { format, width, height, planes })
}
