//! The stream's picture in the window: YUV to softbuffer's `0RGB` pixels, the picture fitted
//! to the window (aspect kept, nearest neighbour, centred on black), and window positions
//! back to stream pixels.

use asp_codec::convert::{ConvertError, to_rgba};
use asp_codec::{ChannelOrder, YuvImage};

/// Converts `image` (I420, I444 or NV12) to `0x00RRGGBB` pixels, row by row, into `out`.
///
/// # Errors
/// [`ConvertError`] if the image's planes do not match its size.
pub fn to_0rgb(image: &YuvImage, out: &mut Vec<u32>) -> Result<(), ConvertError> {
    let bgra = to_rgba(image, ChannelOrder::Bgra)?;
    out.clear();
    // Tight stride: the BGRA bytes of each pixel, little-endian, are 0xAARRGGBB; softbuffer
    // wants the top byte zero.
    out.extend(bgra.data.chunks_exact(4).map(|px| u32::from_le_bytes([px[0], px[1], px[2], 0])));
    Ok(())
}

/// Where the picture goes in the window: the largest rectangle of the picture's shape that
/// fits, centred. A window the picture's size shows it 1:1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The picture's size, stream pixels.
    pub picture: (u32, u32),
    /// The window's size, window pixels.
    pub window: (u32, u32),
    /// Left edge of the picture in the window.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width the picture is drawn at.
    pub width: u32,
    /// Height the picture is drawn at.
    pub height: u32,
}

impl Placement {
    /// Fits a `picture`-sized picture into a `window`-sized window.
    #[must_use]
    pub fn fit(picture: (u32, u32), window: (u32, u32)) -> Self {
        let (pw, ph) = (u64::from(picture.0.max(1)), u64::from(picture.1.max(1)));
        let (ww, wh) = (u64::from(window.0), u64::from(window.1));
        // Compare ww/pw with wh/ph without rounding: the narrower ratio decides.
        let (width, height) = if ww * ph <= wh * pw { (ww, ww * ph / pw) } else { (wh * pw / ph, wh) };
        let (width, height) = (width as u32, height as u32);
        Self { picture, window, x: (window.0 - width) / 2, y: (window.1 - height) / 2, width, height }
    }

    /// The stream pixel under window position (`wx`, `wy`), clamped to the picture's edges
    /// (the pointer over the black bars points at the nearest edge).
    #[must_use]
    pub fn to_stream(&self, wx: f64, wy: f64) -> (u32, u32) {
        let axis = |w: f64, origin: u32, drawn: u32, size: u32| -> u32 {
            if drawn == 0 || size == 0 {
                return 0;
            }
            let s = ((w - f64::from(origin)) * f64::from(size) / f64::from(drawn)).floor();
            s.clamp(0.0, f64::from(size - 1)) as u32
        };
        (axis(wx, self.x, self.width, self.picture.0), axis(wy, self.y, self.height, self.picture.1))
    }

    /// Draws `src` (the picture's pixels, row by row) into `dst` (the window's), nearest
    /// neighbour, black around it.
    ///
    /// # Panics
    /// If the slices are shorter than the sizes say.
    pub fn draw(&self, src: &[u32], dst: &mut [u32]) {
        let (pw, ph) = (self.picture.0 as usize, self.picture.1 as usize);
        let ww = self.window.0 as usize;
        let (x0, y0, w, h) = (self.x as usize, self.y as usize, self.width as usize, self.height as usize);
        let dst = &mut dst[..ww * self.window.1 as usize];
        let columns: Vec<usize> = (0..w).map(|x| x * pw / w.max(1)).collect();
        for (y, row) in dst.chunks_exact_mut(ww.max(1)).enumerate() {
            if y < y0 || y >= y0 + h {
                row.fill(0);
                continue;
            }
            let sy = (y - y0) * ph / h;
            let line = &src[sy * pw..(sy + 1) * pw];
            row[..x0].fill(0);
            if w == pw {
                row[x0..x0 + w].copy_from_slice(line);
            } else {
                for (d, &sx) in row[x0..x0 + w].iter_mut().zip(&columns) {
                    *d = line[sx];
                }
            }
            row[x0 + w..].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use asp_codec::RgbaImage;
    use asp_codec::YuvFormat;
    use asp_codec::convert::to_yuv;

    use super::*;

    #[test]
    fn same_size_is_one_to_one() {
        let p = Placement::fit((640, 360), (640, 360));
        assert_eq!((p.x, p.y, p.width, p.height), (0, 0, 640, 360));
        assert_eq!(p.to_stream(0.0, 0.0), (0, 0));
        assert_eq!(p.to_stream(639.9, 359.2), (639, 359));
        assert_eq!(p.to_stream(100.5, 50.5), (100, 50));
    }

    #[test]
    fn wider_window_gets_bars_left_and_right_and_pointer_scales() {
        // 1280x720 in 1000x400: height decides, 711x400 centred.
        let p = Placement::fit((1280, 720), (1000, 400));
        assert_eq!((p.width, p.height), (711, 400));
        assert_eq!((p.x, p.y), (144, 0));
        assert_eq!(p.to_stream(144.0, 0.0), (0, 0));
        assert_eq!(p.to_stream(144.0 + 355.5, 200.0), (640, 360));
        // Over the bars: the nearest edge.
        assert_eq!(p.to_stream(10.0, 500.0), (0, 719));
        assert_eq!(p.to_stream(999.0, -3.0), (1279, 0));
    }

    #[test]
    fn taller_window_gets_bars_above_and_below_and_doubling_is_exact() {
        let p = Placement::fit((320, 180), (640, 600));
        assert_eq!((p.x, p.y, p.width, p.height), (0, 120, 640, 360));
        assert_eq!(p.to_stream(2.0, 120.0 + 4.0), (1, 2));
        let src: Vec<u32> = (0..320 * 180).collect();
        let mut dst = vec![7; 640 * 600];
        p.draw(&src, &mut dst);
        assert!(dst[..640 * 120].iter().all(|&px| px == 0), "black above");
        assert!(dst[640 * 480..].iter().all(|&px| px == 0), "black below");
        assert_eq!(dst[640 * 120], 0);
        assert_eq!(dst[640 * 120 + 1], 0);
        assert_eq!(dst[640 * 120 + 2], 1);
        assert_eq!(dst[640 * 121 + 3], 1);
        assert_eq!(dst[640 * 122 + 2], 321);
        assert_eq!(dst[640 * 480 - 1], 320 * 180 - 1);
    }

    #[test]
    fn a_zero_sized_window_draws_nothing() {
        let p = Placement::fit((320, 180), (0, 0));
        assert_eq!((p.width, p.height), (0, 0));
        p.draw(&[0; 320 * 180], &mut []);
        assert_eq!(p.to_stream(5.0, 5.0), (0, 0));
    }

    #[test]
    fn converts_yuv_to_0rgb() {
        let red = RgbaImage::filled(16, 8, ChannelOrder::Rgba, [255, 0, 0]);
        for format in [YuvFormat::I420, YuvFormat::I444] {
            let yuv = to_yuv(&red, format).expect("to YUV");
            let mut out = vec![1, 2, 3];
            to_0rgb(&yuv, &mut out).expect("to 0RGB");
            assert_eq!(out.len(), 16 * 8);
            for &px in &out {
                let [b, g, r, top] = px.to_le_bytes();
                assert_eq!(top, 0);
                assert!(r >= 250 && g <= 5 && b <= 5, "{px:#010x}");
            }
        }
    }
}
