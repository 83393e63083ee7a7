//! Damage detection: which tiles of a frame differ from the previous frame.
//!
//! A frame is cut into square tiles (64 x 64 pixels by default: 510 tiles at 1080p) and each
//! tile is compared row by row with the same tile of the previous frame, stopping at the first
//! differing row. The dirty tiles are merged into rectangles: runs along a tile row, then runs
//! with the same span on consecutive rows. An unchanged frame has no damage and is not encoded
//! at all; a frame with little damage tells the scene classifier and the encoder where to look.

use crate::frame::RgbaImage;

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Rect {
    /// Area in pixels.
    #[must_use]
    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// The smallest rectangle holding both.
    #[must_use]
    pub fn union(&self, other: &Rect) -> Rect {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        let right = (self.x + self.width).max(other.x + other.width);
        let bottom = (self.y + self.height).max(other.y + other.height);
        Rect { x, y, width: right - x, height: bottom - y }
    }
}

/// What changed in one frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Damage {
    /// Dirty rectangles, tile-aligned, disjoint.
    pub rects: Vec<Rect>,
    /// Number of dirty tiles.
    pub dirty_tiles: usize,
    /// Number of tiles in the frame.
    pub total_tiles: usize,
    /// Changed pixels as a share of the frame (by dirty tile area, 0.0 ..= 1.0).
    pub dirty_fraction: f64,
}

impl Damage {
    /// Whether nothing changed (the frame need not be encoded).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.dirty_tiles == 0
    }

    /// The rectangle holding all damage, if any.
    #[must_use]
    pub fn bounds(&self) -> Option<Rect> {
        self.rects.iter().copied().reduce(|a, b| a.union(&b))
    }
}

/// Compares each frame with the one before.
#[derive(Debug, Clone)]
pub struct DamageTracker {
    tile: u32,
    previous: Option<RgbaImage>,
}

impl DamageTracker {
    /// A tracker with square tiles of `tile` pixels (at least 8).
    ///
    /// # Panics
    ///
    /// If `tile < 8`.
    #[must_use]
    pub fn new(tile: u32) -> Self {
        assert!(tile >= 8, "tiles are at least 8 pixels");
        Self { tile, previous: None }
    }

    /// Forgets the previous frame: the next frame is wholly damaged (after a resize, or when
    /// the receiver must be given a complete picture).
    pub fn reset(&mut self) {
        self.previous = None;
    }

    /// Compares `frame` with the previous frame, and keeps it for the next comparison. The
    /// first frame, and any frame whose size or layout differs from the previous one, is
    /// wholly damaged.
    pub fn update(&mut self, frame: &RgbaImage) -> Damage {
        let (tw, th) = (frame.width.div_ceil(self.tile), frame.height.div_ceil(self.tile));
        let comparable = self.previous.as_ref().is_some_and(|p| {
            (p.width, p.height, p.stride, p.order) == (frame.width, frame.height, frame.stride, frame.order)
        });
        let mut dirty = vec![!comparable; (tw * th) as usize];
        if let (true, Some(prev)) = (comparable, &self.previous) {
            for ty in 0..th {
                for tx in 0..tw {
                    dirty[(ty * tw + tx) as usize] = self.tile_differs(prev, frame, tx, ty);
                }
            }
        }
        let damage = self.merge(&dirty, tw, th, frame.width, frame.height);
        match &mut self.previous {
            Some(p) if comparable => p.data.copy_from_slice(&frame.data),
            _ => self.previous = Some(frame.clone()),
        }
        damage
    }

    fn tile_differs(&self, a: &RgbaImage, b: &RgbaImage, tx: u32, ty: u32) -> bool {
        let x0 = (tx * self.tile) as usize * 4;
        let x1 = ((tx + 1) * self.tile).min(a.width) as usize * 4;
        let y1 = ((ty + 1) * self.tile).min(a.height);
        (ty * self.tile..y1).any(|y| {
            let row = y as usize * a.stride;
            a.data[row + x0..row + x1] != b.data[row + x0..row + x1]
        })
    }

    fn merge(&self, dirty: &[bool], tw: u32, th: u32, width: u32, height: u32) -> Damage {
        // Runs of dirty tiles along each tile row: (row, first column, end column).
        let mut runs: Vec<(u32, u32, u32)> = Vec::new();
        for ty in 0..th {
            let mut tx = 0;
            while tx < tw {
                if dirty[(ty * tw + tx) as usize] {
                    let start = tx;
                    while tx < tw && dirty[(ty * tw + tx) as usize] {
                        tx += 1;
                    }
                    runs.push((ty, start, tx));
                } else {
                    tx += 1;
                }
            }
        }
        // Grow each run downwards while the next row has a run with the same span.
        let mut rects: Vec<(u32, u32, u32, u32)> = Vec::new(); // (first row, end row, start, end)
        for (ty, s, e) in runs {
            if let Some(r) = rects.iter_mut().find(|r| r.1 == ty && r.2 == s && r.3 == e) {
                r.1 = ty + 1;
            } else {
                rects.push((ty, ty + 1, s, e));
            }
        }
        let t = self.tile;
        let rects: Vec<Rect> = rects
            .into_iter()
            .map(|(r0, r1, s, e)| {
                let (x, y) = (s * t, r0 * t);
                Rect { x, y, width: (e * t).min(width) - x, height: (r1 * t).min(height) - y }
            })
            .collect();
        let area: u64 = rects.iter().map(Rect::area).sum();
        let total = u64::from(width) * u64::from(height);
        Damage {
            dirty_tiles: dirty.iter().filter(|d| **d).count(),
            total_tiles: dirty.len(),
            dirty_fraction: if total == 0 { 0.0 } else { area as f64 / total as f64 },
            rects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::ChannelOrder;
    use crate::synth::{Source, SourceKind};

    fn poke(img: &mut RgbaImage, x: u32, y: u32) {
        let at = y as usize * img.stride + x as usize * 4;
        img.data[at] ^= 0xFF;
    }

    #[test]
    fn first_frame_is_all_damage_then_identical_frames_none() {
        let mut t = DamageTracker::new(64);
        let img = RgbaImage::filled(200, 100, ChannelOrder::Bgra, [9, 9, 9]);
        let d = t.update(&img);
        assert_eq!((d.dirty_tiles, d.total_tiles), (8, 8));
        assert_eq!(d.rects, vec![Rect { x: 0, y: 0, width: 200, height: 100 }]);
        assert!(t.update(&img).is_empty());
    }

    #[test]
    fn one_pixel_marks_its_tile_only() {
        let mut t = DamageTracker::new(64);
        let mut img = RgbaImage::filled(200, 100, ChannelOrder::Bgra, [9, 9, 9]);
        t.update(&img);
        poke(&mut img, 130, 70); // tile (2, 1): the last row and column are partial tiles
        let d = t.update(&img);
        assert_eq!(d.rects, vec![Rect { x: 128, y: 64, width: 64, height: 36 }]);
        assert_eq!(d.dirty_tiles, 1);
    }

    #[test]
    fn adjacent_tiles_merge_into_rectangles() {
        let mut t = DamageTracker::new(16);
        let mut img = RgbaImage::filled(64, 64, ChannelOrder::Bgra, [0, 0, 0]);
        t.update(&img);
        // A 2x2 block of tiles and a lone tile.
        for (x, y) in [(0, 0), (16, 0), (0, 16), (16, 16), (48, 48)] {
            poke(&mut img, x + 3, y + 3);
        }
        let d = t.update(&img);
        assert_eq!(
            d.rects,
            vec![Rect { x: 0, y: 0, width: 32, height: 32 }, Rect { x: 48, y: 48, width: 16, height: 16 }]
        );
        assert_eq!(d.bounds(), Some(Rect { x: 0, y: 0, width: 64, height: 64 }));
        assert!((d.dirty_fraction - 5.0 / 16.0).abs() < 1e-9);
    }

    #[test]
    fn a_size_change_is_full_damage() {
        let mut t = DamageTracker::new(32);
        t.update(&RgbaImage::filled(64, 64, ChannelOrder::Bgra, [0, 0, 0]));
        let d = t.update(&RgbaImage::filled(96, 64, ChannelOrder::Bgra, [0, 0, 0]));
        assert_eq!(d.dirty_tiles, d.total_tiles);
    }

    /// The share of frames that damage detection skips, per source (reported in the README).
    #[test]
    fn idle_skips_every_frame_and_office_most() {
        let skipped = |kind| {
            let mut s = Source::new(kind, 640, 360, 4);
            let mut t = DamageTracker::new(64);
            t.update(&s.next_frame());
            (0..90).filter(|_| t.update(&s.next_frame()).is_empty()).count()
        };
        assert_eq!(skipped(SourceKind::Idle), 90);
        // Office changes when a character is typed (every 3rd frame; caret blinks fall on
        // the same frames), except for a space typed while the caret is hidden.
        let office = skipped(SourceKind::Office);
        assert!((58..=66).contains(&office), "office skipped {office} of 90");
        assert_eq!(skipped(SourceKind::ThreeD), 0);
    }
}
