//! The moving sources: a textured region (video) and full-screen motion (3D).

use super::rng::SplitMix64;
use crate::frame::{RgbaImage, pixel_bytes};

/// A 256x256 seeded colour texture: smooth value noise with fine grain, so that motion
/// estimation has detail to track and the encoder real work to do.
#[derive(Debug)]
pub(crate) struct Texture {
    rgb: Vec<[u8; 3]>,
}

impl Texture {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed ^ 0x7E47);
        let grid: Vec<[u8; 3]> =
            (0..16 * 16).map(|_| [rng.range(0, 256) as u8, rng.range(0, 256) as u8, rng.range(0, 256) as u8]).collect();
        let mut rgb = Vec::with_capacity(256 * 256);
        for y in 0..256usize {
            for x in 0..256usize {
                let (gx, gy, fx, fy) = (x / 16, y / 16, (x % 16) as i32, (y % 16) as i32);
                let at = |i: usize, j: usize| grid[(j % 16) * 16 + (i % 16)];
                let (a, b, c, d) = (at(gx, gy), at(gx + 1, gy), at(gx, gy + 1), at(gx + 1, gy + 1));
                let grain = rng.range(0, 17) as i32 - 8;
                let mut px = [0u8; 3];
                for k in 0..3 {
                    let top = i32::from(a[k]) * (16 - fx) + i32::from(b[k]) * fx;
                    let bottom = i32::from(c[k]) * (16 - fx) + i32::from(d[k]) * fx;
                    px[k] = ((top * (16 - fy) + bottom * fy) / 256 + grain).clamp(0, 255) as u8;
                }
                rgb.push(px);
            }
        }
        Self { rgb }
    }

    fn at(&self, x: i64, y: i64) -> [u8; 3] {
        self.rgb[((y & 255) * 256 + (x & 255)) as usize]
    }
}

/// Paints the video region: a quarter of the screen, its texture panning 3 px right and 2 px
/// down per frame, with a ball bouncing across it.
pub(crate) fn video_region(img: &mut RgbaImage, tex: &Texture, n: u64) {
    let (w, h) = (img.width / 2, img.height / 2);
    let (x0, y0) = (img.width / 4, img.height / 5);
    let t = n as i64;
    let r = i64::from(h / 8).max(2);
    let span_x = i64::from(w) - 2 * r;
    let span_y = i64::from(h) - 2 * r;
    let bounce = |v: i64, span: i64| {
        let m = v % (2 * span.max(1));
        if m < span { m } else { 2 * span - m }
    };
    let (bx, by) = (r + bounce(5 * t, span_x), r + bounce(3 * t, span_y));
    for y in 0..h {
        let row = (y0 + y) as usize * img.stride;
        for x in 0..w {
            let (dx, dy) = (i64::from(x) - bx, i64::from(y) - by);
            let rgb = if dx * dx + dy * dy < r * r {
                [250, 220, 40]
            } else {
                tex.at(i64::from(x) - 3 * t, i64::from(y) - 2 * t)
            };
            let at = row + (x0 + x) as usize * 4;
            img.data[at..at + 4].copy_from_slice(&pixel_bytes(img.order, rgb));
        }
    }
}

/// Paints the whole screen with the texture rotated by `n` degrees / 2 and zoomed in and out,
/// in 16.16 fixed point (the same on every machine, no floating point).
pub(crate) fn full_screen(img: &mut RgbaImage, tex: &Texture, n: u64) {
    // sin/cos of the angle from a 64-step table, scaled by 65536.
    const SIN64: [i64; 17] = [
        0, 6424, 12785, 19024, 25080, 30893, 36410, 41576, 46341, 50660, 54491, 57798, 60547, 62714, 64277, 65220,
        65536,
    ];
    let sin = |i: u64| -> i64 {
        let q = i % 64;
        let (quad, k) = (q / 16, (q % 16) as usize);
        match quad {
            0 => SIN64[k],
            1 => SIN64[16 - k],
            2 => -SIN64[k],
            _ => -SIN64[16 - k],
        }
    };
    let zoom = 65536 + sin(n / 2) / 2; // 0.5x .. 1.5x
    let (s, c) = ((sin(n) * zoom) >> 16, (sin(n + 16) * zoom) >> 16);
    let (cx, cy) = (i64::from(img.width / 2), i64::from(img.height / 2));
    let shift = n as i64 * 4;
    for y in 0..img.height {
        let row = y as usize * img.stride;
        let dy = i64::from(y) - cy;
        for x in 0..img.width {
            let dx = i64::from(x) - cx;
            let u = (dx * c - dy * s) >> 16;
            let v = (dx * s + dy * c) >> 16;
            let at = row + x as usize * 4;
            img.data[at..at + 4].copy_from_slice(&pixel_bytes(img.order, tex.at(u + shift, v)));
        }
    }
}
