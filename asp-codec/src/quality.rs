//! Picture quality measures that see colour: PSNR per plane and per RGB channel.
//!
//! VMAF and luma PSNR are blind to chroma, so they cannot show what 4:4:4 buys on coloured
//! text. [`psnr_planes`] reports Y, U and V separately; [`psnr_rgb`] compares what the viewer
//! finally sees, channel by channel, which is where 4:2:0's colour fringes show.

use crate::frame::{ChannelOrder, RgbaImage, YuvFormat, YuvImage};

/// PSNR of identical pictures is infinite; reports cap it here so figures stay printable.
pub const PSNR_CAP_DB: f64 = 100.0;

/// PSNR in dB of three components (Y/U/V or R/G/B).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Psnr3 {
    /// First component: Y or R.
    pub c0: f64,
    /// Second component: U or G.
    pub c1: f64,
    /// Third component: V or B.
    pub c2: f64,
}

impl Psnr3 {
    /// The worst of the three.
    #[must_use]
    pub fn min(&self) -> f64 {
        self.c0.min(self.c1).min(self.c2)
    }
}

/// PSNR of 8-bit samples from their summed squared error.
#[must_use]
pub fn psnr_from_sse(sse: u64, samples: usize) -> f64 {
    if sse == 0 || samples == 0 {
        return PSNR_CAP_DB;
    }
    let mse = sse as f64 / samples as f64;
    (10.0 * (255.0 * 255.0 / mse).log10()).min(PSNR_CAP_DB)
}

fn sse(a: impl Iterator<Item = u8>, b: impl Iterator<Item = u8>) -> (u64, usize) {
    a.zip(b).fold((0, 0), |(s, n), (x, y)| {
        let d = u64::from(x.abs_diff(y));
        (s + d * d, n + 1)
    })
}

/// PSNR of each plane of two pictures of the same layout and size. For NV12 the second
/// figure is U and the third V, read from the interleaved plane.
///
/// Returns `None` if layouts or sizes differ.
#[must_use]
pub fn psnr_planes(a: &YuvImage, b: &YuvImage) -> Option<Psnr3> {
    if a.format != b.format || (a.width, a.height) != (b.width, b.height) {
        return None;
    }
    let plane = |i: usize| {
        let (s, n) = sse(a.planes[i].iter().copied(), b.planes[i].iter().copied());
        psnr_from_sse(s, n)
    };
    Some(match a.format {
        YuvFormat::I420 | YuvFormat::I444 => Psnr3 { c0: plane(0), c1: plane(1), c2: plane(2) },
        YuvFormat::Nv12 => {
            let half = |k: usize| {
                let pick = |p: &Vec<u8>| p.iter().skip(k).step_by(2).copied().collect::<Vec<_>>();
                let (s, n) = sse(pick(&a.planes[1]).into_iter(), pick(&b.planes[1]).into_iter());
                psnr_from_sse(s, n)
            };
            Psnr3 { c0: plane(0), c1: half(0), c2: half(1) }
        }
    })
}

/// PSNR of R, G and B between two packed pictures of the same size (any channel orders).
///
/// # Panics
///
/// If the sizes differ.
#[must_use]
pub fn psnr_rgb(a: &RgbaImage, b: &RgbaImage) -> Psnr3 {
    assert_eq!((a.width, a.height), (b.width, b.height), "pictures differ in size");
    let idx = |order: ChannelOrder| match order {
        ChannelOrder::Rgba => [0, 1, 2],
        ChannelOrder::Bgra => [2, 1, 0],
    };
    let (ia, ib) = (idx(a.order), idx(b.order));
    let mut acc = [0u64; 3];
    for y in 0..a.height {
        for (pa, pb) in a.row(y).chunks_exact(4).zip(b.row(y).chunks_exact(4)) {
            for c in 0..3 {
                let d = u64::from(pa[ia[c]].abs_diff(pb[ib[c]]));
                acc[c] += d * d;
            }
        }
    }
    let n = a.width as usize * a.height as usize;
    Psnr3 { c0: psnr_from_sse(acc[0], n), c1: psnr_from_sse(acc[1], n), c2: psnr_from_sse(acc[2], n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_error_gives_known_psnr() {
        // Every sample off by 1: MSE 1, PSNR 20 log10(255) = 48.13 dB.
        let a = YuvImage::black(YuvFormat::I420, 8, 8);
        let mut b = a.clone();
        b.planes[2].iter_mut().for_each(|v| *v += 1);
        let p = psnr_planes(&a, &b).unwrap();
        assert_eq!(p.c0, PSNR_CAP_DB);
        assert_eq!(p.c1, PSNR_CAP_DB);
        assert!((p.c2 - 48.13).abs() < 0.01, "{p:?}");
    }

    #[test]
    fn rgb_psnr_follows_channel_order() {
        let a = RgbaImage::filled(4, 4, ChannelOrder::Bgra, [10, 20, 30]);
        let b = RgbaImage::filled(4, 4, ChannelOrder::Rgba, [10, 20, 40]);
        let p = psnr_rgb(&a, &b);
        assert_eq!((p.c0, p.c1), (PSNR_CAP_DB, PSNR_CAP_DB));
        assert!((p.c2 - 28.13).abs() < 0.01, "{p:?}");
    }

    #[test]
    fn mismatched_layouts_have_no_psnr() {
        let a = YuvImage::black(YuvFormat::I420, 8, 8);
        assert!(psnr_planes(&a, &YuvImage::black(YuvFormat::I444, 8, 8)).is_none());
    }
}
