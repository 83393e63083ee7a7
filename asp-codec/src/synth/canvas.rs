//! Drawing on a BGRA picture: rectangles, text-like glyphs, a desktop with windows.

use super::rng::{SplitMix64, mix};
use crate::frame::{ChannelOrder, RgbaImage, pixel_bytes};

/// Fills the rectangle (clipped to the picture) with colour `rgb`.
pub(crate) fn fill_rect(img: &mut RgbaImage, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
    let px = pixel_bytes(img.order, rgb);
    let x1 = (x + w).min(img.width);
    let y1 = (y + h).min(img.height);
    if x >= x1 {
        return;
    }
    for row in y..y1 {
        let start = row as usize * img.stride + x as usize * 4;
        let end = row as usize * img.stride + x1 as usize * 4;
        for p in img.data[start..end].chunks_exact_mut(4) {
            p.copy_from_slice(&px);
        }
    }
}

/// Size of one text cell for glyph scale `s`: glyphs are 5x7 dots of s x s pixels, with one
/// dot of spacing to the right and three below (line spacing).
pub(crate) fn cell_size(s: u32) -> (u32, u32) {
    (6 * s, 10 * s)
}

/// Draws the glyph of `code` with its top-left at (x, y), dots `s` pixels wide.
///
/// The glyphs are not a real font: each code's 5x7 dot pattern comes from a hash, about 40 %
/// inked, with a vertical stem so that they read as letters. What matters to a codec is what
/// text has: sharp, high-contrast, small, repeated shapes on a flat background.
pub(crate) fn draw_glyph(img: &mut RgbaImage, x: u32, y: u32, s: u32, code: u8, rgb: [u8; 3]) {
    let bits = mix(0xA5A5_0000 ^ u64::from(code));
    let stem = (bits % 5) as u32;
    for row in 0..7u32 {
        for col in 0..5u32 {
            let bit = (bits >> (row * 5 + col)) & 1 == 1 && (bits >> (35 + (row + col) % 20)) & 1 == 1;
            if bit || col == stem {
                fill_rect(img, x + col * s, y + row * s, s, s, rgb);
            }
        }
    }
}

/// Draws a line of text-like glyphs; word lengths and colours follow `rng`.
pub(crate) fn draw_text_line(
    img: &mut RgbaImage,
    x: u32,
    y: u32,
    s: u32,
    max_w: u32,
    rng: &mut SplitMix64,
    palette: &[[u8; 3]],
) {
    let (cw, _) = cell_size(s);
    let mut cx = 0;
    while cx + 10 * cw < max_w {
        let len = rng.range(2, 9);
        let colour = palette[rng.range(0, palette.len() as u32) as usize];
        for _ in 0..len {
            draw_glyph(img, x + cx, y, s, rng.range(33, 127) as u8, colour);
            cx += cw;
        }
        cx += cw;
    }
}

/// A static desktop: a gradient wallpaper, a task bar and two windows holding text.
pub(crate) fn desktop(width: u32, height: u32, seed: u64) -> RgbaImage {
    let mut img = RgbaImage::filled(width, height, ChannelOrder::Bgra, [0, 0, 0]);
    // The wallpaper's red tint comes from the seed, so that even a tiny desktop differs by seed.
    let red = (seed.wrapping_mul(37) % 64) as u8;
    for y in 0..height {
        let t = (y * 255 / height.max(1)) as u8;
        fill_rect(&mut img, 0, y, width, 1, [red, 60u8.saturating_add(t / 3), 90u8.saturating_add(t / 2)]);
    }
    let bar = (height / 24).max(4);
    fill_rect(&mut img, 0, height - bar, width, bar, [30, 30, 36]);
    let s = glyph_scale(height);
    let mut rng = SplitMix64::new(seed ^ 0xDE5C);
    for (wx, wy, ww, wh) in
        [(width / 20, height / 10, width / 3, height / 2), (width / 2, height / 6, width / 3, height / 3)]
    {
        fill_rect(&mut img, wx, wy, ww, wh, [245, 245, 245]);
        fill_rect(&mut img, wx, wy, ww, bar, [60, 90, 160]);
        let (_, ch) = cell_size(s);
        let mut ty = wy + bar + ch / 2;
        while ty + ch < wy + wh {
            draw_text_line(
                &mut img,
                wx + s * 4,
                ty,
                s,
                ww.saturating_sub(s * 8),
                &mut rng,
                &[[20, 20, 20], [200, 30, 30], [30, 60, 200]],
            );
            ty += ch;
        }
    }
    img
}

/// Glyph dot size for a screen `height` pixels tall: about 54 text lines at any size, as a
/// 1080p screen with a 20-pixel line has.
pub(crate) fn glyph_scale(height: u32) -> u32 {
    (height / 540).max(1)
}
