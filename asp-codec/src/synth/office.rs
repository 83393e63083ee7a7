//! The office source: a text document being typed into, with a blinking caret and scrolling.

use super::canvas::{cell_size, draw_glyph, fill_rect, glyph_scale};
use super::rng::SplitMix64;
use crate::frame::{ChannelOrder, RgbaImage};

/// Frames between two typed characters (10 characters a second at 30 frames a second).
const FRAMES_PER_CHAR: u64 = 3;
/// Frames between caret blinks (every half second).
const BLINK_FRAMES: u64 = 15;

const PAPER: [u8; 3] = [255, 255, 255];
const INKS: [[u8; 3]; 4] = [[20, 20, 20], [20, 20, 20], [190, 30, 30], [30, 70, 200]];

/// One glyph of the document.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    code: u8,
    ink: [u8; 3],
}

/// The document, its page geometry and the text still to be typed.
#[derive(Debug)]
pub(crate) struct Document {
    width: u32,
    height: u32,
    scale: u32,
    cols: usize,
    rows: usize,
    top: u32,
    left: u32,
    lines: Vec<Vec<Glyph>>,
    rng: SplitMix64,
    word_left: u32,
    ink: [u8; 3],
    typed_until: u64,
}

impl Document {
    pub(crate) fn new(width: u32, height: u32, seed: u64) -> Self {
        let scale = glyph_scale(height);
        let (cw, ch) = cell_size(scale);
        let top = (height / 14).max(ch);
        let left = (width / 40).max(cw);
        let cols = ((width - 2 * left) / cw).max(1) as usize;
        let rows = ((height - top - ch) / ch).max(1) as usize;
        let mut doc = Self {
            width,
            height,
            scale,
            cols,
            rows,
            top,
            left,
            lines: vec![Vec::new()],
            rng: SplitMix64::new(seed ^ 0x0FF1CE),
            word_left: 0,
            ink: INKS[0],
            typed_until: 0,
        };
        // The page starts half full, as a document someone is already working in.
        for _ in 0..(cols * rows / 2) {
            doc.type_one();
        }
        doc
    }

    /// Types one character (or a space / line break between words).
    fn type_one(&mut self) {
        if self.word_left == 0 {
            self.word_left = self.rng.range(2, 10);
            self.ink = INKS[self.rng.range(0, INKS.len() as u32) as usize];
            if self.rng.range(0, 12) == 0 {
                self.lines.push(Vec::new());
                return;
            }
            self.push(Glyph { code: b' ', ink: PAPER });
            return;
        }
        self.word_left -= 1;
        let code = self.rng.range(33, 127) as u8;
        let ink = self.ink;
        self.push(Glyph { code, ink });
    }

    fn push(&mut self, g: Glyph) {
        if self.lines.last().is_none_or(|l| l.len() >= self.cols) {
            self.lines.push(Vec::new());
        }
        if let Some(l) = self.lines.last_mut() {
            l.push(g);
        }
    }

    /// Renders frame `n` (frames must be asked for in order).
    pub(crate) fn frame(&mut self, n: u64) -> RgbaImage {
        while self.typed_until < n / FRAMES_PER_CHAR {
            self.type_one();
            self.typed_until += 1;
        }
        let mut img = RgbaImage::filled(self.width, self.height, ChannelOrder::Bgra, [225, 228, 232]);
        // Tool bar and page.
        fill_rect(&mut img, 0, 0, self.width, self.top / 2, [50, 80, 150]);
        fill_rect(&mut img, self.left / 2, self.top - self.top / 4, self.width - self.left, self.height, PAPER);
        let (cw, ch) = cell_size(self.scale);
        // The view keeps the last line visible: scrolling is the whole page moving up a line.
        let first = self.lines.len().saturating_sub(self.rows);
        for (r, line) in self.lines[first..].iter().enumerate() {
            let y = self.top + r as u32 * ch;
            for (c, g) in line.iter().enumerate() {
                if g.code != b' ' {
                    draw_glyph(&mut img, self.left + c as u32 * cw, y, self.scale, g.code, g.ink);
                }
            }
        }
        if (n / BLINK_FRAMES) % 2 == 0 {
            let r = (self.lines.len() - first - 1) as u32;
            let c = self.lines.last().map_or(0, Vec::len) as u32;
            fill_rect(&mut img, self.left + c * cw, self.top + r * ch, self.scale.max(1), 7 * self.scale, [0, 0, 0]);
        }
        img
    }
}
