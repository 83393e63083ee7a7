//! Synthetic screen content, deterministic and seeded, at any size: what tests and benches
//! share so that their figures can be compared run to run.
//!
//! | kind | what changes per frame (at 30 frames per second) |
//! | --- | --- |
//! | [`SourceKind::Office`] | a text document: a character typed every 3rd frame, a caret blinking every 15 frames, and a one-line scroll whenever typing reaches the bottom |
//! | [`SourceKind::Video`] | a textured region (a quarter of the screen) panning inside a static desktop, with a bouncing ball |
//! | [`SourceKind::ThreeD`] | the whole screen: a rotating, zooming textured plane |
//! | [`SourceKind::Idle`] | nothing: every frame is the same desktop |
//!
//! Frames are BGRA, as screen capture delivers them. The same kind, size and seed give the
//! same frames on every machine.

mod canvas;
mod motion;
mod office;
mod rng;

use crate::frame::RgbaImage;

/// Frame rate the sources' timings are written for.
pub const FRAME_RATE: u32 = 30;

/// Which kind of screen content to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A text document being typed into and scrolled.
    Office,
    /// A moving textured region inside a static desktop.
    Video,
    /// Full-screen motion.
    ThreeD,
    /// A static desktop.
    Idle,
}

impl SourceKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [Self::Office, Self::Video, Self::ThreeD, Self::Idle];

    /// Its name in reports and on command lines: `office`, `video`, `3d`, `idle`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Office => "office",
            Self::Video => "video",
            Self::ThreeD => "3d",
            Self::Idle => "idle",
        }
    }

    /// The kind with this [`name`](Self::name), if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A deterministic source of screen frames.
#[derive(Debug)]
pub struct Source {
    kind: SourceKind,
    frame_index: u64,
    desktop: RgbaImage,
    office: Option<office::Document>,
    texture: Option<motion::Texture>,
}

impl Source {
    /// A source of `kind`, `width` x `height` pixels, seeded with `seed`.
    ///
    /// # Panics
    ///
    /// If `width` or `height` is below 16.
    #[must_use]
    pub fn new(kind: SourceKind, width: u32, height: u32, seed: u64) -> Self {
        assert!(width >= 16 && height >= 16, "sources are at least 16x16");
        let desktop = canvas::desktop(width, height, seed);
        let office = (kind == SourceKind::Office).then(|| office::Document::new(width, height, seed));
        let texture = matches!(kind, SourceKind::Video | SourceKind::ThreeD).then(|| motion::Texture::new(seed));
        Self { kind, frame_index: 0, desktop, office, texture }
    }

    /// The kind of content.
    #[must_use]
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// Index of the next frame [`next_frame`](Self::next_frame) returns.
    #[must_use]
    pub fn frame_index(&self) -> u64 {
        self.frame_index
    }

    /// The next frame.
    pub fn next_frame(&mut self) -> RgbaImage {
        let n = self.frame_index;
        self.frame_index += 1;
        match self.kind {
            SourceKind::Idle => self.desktop.clone(),
            SourceKind::Office => self.office.as_mut().map_or_else(|| self.desktop.clone(), |d| d.frame(n)),
            SourceKind::Video => {
                let mut img = self.desktop.clone();
                if let Some(t) = &self.texture {
                    motion::video_region(&mut img, t, n);
                }
                img
            }
            SourceKind::ThreeD => {
                let mut img = self.desktop.clone();
                if let Some(t) = &self.texture {
                    motion::full_screen(&mut img, t, n);
                }
                img
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed_fraction(a: &RgbaImage, b: &RgbaImage) -> f64 {
        let diff = a.data.chunks_exact(4).zip(b.data.chunks_exact(4)).filter(|(x, y)| x != y).count();
        diff as f64 / (a.width * a.height) as f64
    }

    #[test]
    fn same_seed_same_frames_other_seed_other_frames() {
        for kind in SourceKind::ALL {
            let mut a = Source::new(kind, 96, 64, 5);
            let mut b = Source::new(kind, 96, 64, 5);
            let mut c = Source::new(kind, 96, 64, 6);
            for _ in 0..4 {
                let (fa, fb, fc) = (a.next_frame(), b.next_frame(), c.next_frame());
                // Compared with `==`: a failure must not print megabytes of pixels.
                assert!(fa == fb, "{kind:?}: same seed, different frames");
                assert!(fa != fc, "{kind:?}: seed must matter");
            }
        }
    }

    #[test]
    fn each_kind_changes_as_documented() {
        let size = (320, 180);
        let mut fractions = Vec::new();
        for kind in SourceKind::ALL {
            let mut s = Source::new(kind, size.0, size.1, 11);
            let frames: Vec<_> = (0..31).map(|_| s.next_frame()).collect();
            let mean = frames.windows(2).map(|w| changed_fraction(&w[0], &w[1])).sum::<f64>() / 30.0;
            fractions.push((kind, mean));
        }
        let f = |k| fractions.iter().find(|(kind, _)| *kind == k).unwrap().1;
        assert_eq!(f(SourceKind::Idle), 0.0);
        assert!(f(SourceKind::Office) > 0.0 && f(SourceKind::Office) < 0.02, "{fractions:?}");
        assert!(f(SourceKind::Video) > 0.1 && f(SourceKind::Video) < 0.4, "{fractions:?}");
        assert!(f(SourceKind::ThreeD) > 0.8, "{fractions:?}");
    }

    #[test]
    fn office_scrolls_when_typing_reaches_the_bottom() {
        let mut s = Source::new(SourceKind::Office, 160, 96, 2);
        let mut prev = s.next_frame();
        // Typing changes a line or two of pixel rows; a scroll changes most rows of the page.
        let changed_rows = |a: &RgbaImage, b: &RgbaImage| (0..a.height).filter(|&y| a.row(y) != b.row(y)).count();
        let mut most = 0;
        for _ in 0..3000 {
            let f = s.next_frame();
            most = most.max(changed_rows(&prev, &f));
            prev = f;
        }
        assert!(most > 96 / 2, "at most {most} of 96 rows changed in a frame");
    }
}
