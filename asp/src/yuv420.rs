//! Any of asp-codec's YUV layouts as I420: what the Y4M files and the VMAF scorer take.
//! 4:4:4 chroma is averaged over 2x2 blocks; NV12's interleaved chroma is split.

use std::borrow::Cow;

use asp_codec::{YuvFormat, YuvImage};

/// `image` as I420 (borrowed when it already is).
#[must_use]
pub fn to_i420(image: &YuvImage) -> Cow<'_, YuvImage> {
    let (w, h) = (image.width as usize, image.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    match image.format {
        YuvFormat::I420 => Cow::Borrowed(image),
        YuvFormat::I444 => {
            let down = |plane: &[u8]| {
                let mut out = vec![0u8; cw * ch];
                for y in 0..ch {
                    let (r0, r1) = (2 * y, (2 * y + 1).min(h - 1));
                    for x in 0..cw {
                        let (c0, c1) = (2 * x, (2 * x + 1).min(w - 1));
                        let sum = u32::from(plane[r0 * w + c0])
                            + u32::from(plane[r0 * w + c1])
                            + u32::from(plane[r1 * w + c0])
                            + u32::from(plane[r1 * w + c1]);
                        out[y * cw + x] = ((sum + 2) / 4) as u8;
                    }
                }
                out
            };
            let planes = vec![image.planes[0].clone(), down(&image.planes[1]), down(&image.planes[2])];
            Cow::Owned(YuvImage { format: YuvFormat::I420, width: image.width, height: image.height, planes })
        }
        YuvFormat::Nv12 => {
            let uv = &image.planes[1];
            let u = uv.iter().step_by(2).copied().collect();
            let v = uv.iter().skip(1).step_by(2).copied().collect();
            let planes = vec![image.planes[0].clone(), u, v];
            Cow::Owned(YuvImage { format: YuvFormat::I420, width: image.width, height: image.height, planes })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_444_chroma_and_splits_nv12() {
        let mut img = YuvImage::black(YuvFormat::I444, 4, 2);
        img.planes[1] = vec![10, 20, 30, 40, 50, 60, 70, 80];
        let out = to_i420(&img);
        assert_eq!(out.format, YuvFormat::I420);
        assert_eq!(out.planes[1], vec![35, 55]);
        assert_eq!(out.planes[0], img.planes[0]);
        let mut nv = YuvImage::black(YuvFormat::Nv12, 4, 2);
        nv.planes[1] = vec![1, 2, 3, 4];
        let out = to_i420(&nv);
        assert_eq!((out.planes[1].clone(), out.planes[2].clone()), (vec![1, 3], vec![2, 4]));
        let i420 = YuvImage::black(YuvFormat::I420, 4, 2);
        assert!(matches!(to_i420(&i420), Cow::Borrowed(_)));
    }
}
