//! Scene classification from damage, with hysteresis, and the encoder settings of each class.
//!
//! Each frame's [`Damage`] goes into a sliding window of the last [`WINDOW`] frames (one
//! second at 30 frames per second). From the window:
//!
//! - `active`: share of frames with any damage;
//! - `area`: mean dirty fraction of the frame over the window.
//!
//! The frame's verdict:
//!
//! | verdict | rule | why |
//! | --- | --- | --- |
//! | 3D | `area >= 0.5` and `active >= 0.5` | a game or full-screen video redraws everything |
//! | video | `area >= 0.03` and `active >= 0.6` | a sustained moving region of at least 3 % of the screen |
//! | office | otherwise | typing (a tile or two), caret blinks, an occasional scroll |
//!
//! A scroll is one large damage in an otherwise quiet second, so its `active` stays low and it
//! remains office. The class changes only after the same new verdict for [`ENTER_FRAMES`]
//! consecutive frames (towards more motion: a third of a second) or [`LEAVE_FRAMES`] (back
//! towards office: two seconds, so a video that pauses for a moment does not flip settings).
//!
//! A class change that changes the chroma layout or the rate mode means a new encoder, and so
//! a keyframe: x264 cannot switch between ABR and CRF, or between 4:2:0 and 4:4:4, while open.
//! That cost is a further reason for the hysteresis.

use std::collections::VecDeque;

use crate::damage::Damage;
use crate::frame::YuvFormat;
use crate::video::RateControl;

/// Frames in the sliding window.
pub const WINDOW: usize = 30;
/// Consecutive verdicts needed to move to a class with more motion.
pub const ENTER_FRAMES: u32 = 10;
/// Consecutive verdicts needed to move to a class with less motion.
pub const LEAVE_FRAMES: u32 = 60;
/// Mean dirty fraction from which a scene is full-screen motion.
pub const THREE_D_AREA: f64 = 0.5;
/// Active share from which a scene is full-screen motion.
pub const THREE_D_ACTIVE: f64 = 0.5;
/// Mean dirty fraction from which a sustained region is video.
pub const VIDEO_AREA: f64 = 0.03;
/// Active share from which a region is sustained.
pub const VIDEO_ACTIVE: f64 = 0.6;

/// What the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SceneClass {
    /// Text, little motion.
    Office,
    /// A sustained moving region.
    Video,
    /// Full-screen motion.
    ThreeD,
}

/// Encoder settings for a scene class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneSettings {
    /// 4:4:4 keeps coloured text edges; motion does not need it.
    pub format: YuvFormat,
    /// Rate mode.
    pub rate: RateControl,
    /// Frames per second to capture and encode.
    pub frame_rate: u32,
}

impl SceneClass {
    /// The settings for this class (`yuv444` when both ends can do 4:4:4).
    #[must_use]
    pub fn settings(self, yuv444: bool) -> SceneSettings {
        match self {
            Self::Office => SceneSettings {
                format: if yuv444 { YuvFormat::I444 } else { YuvFormat::I420 },
                rate: RateControl::CappedQuality { crf: 23 },
                frame_rate: 30,
            },
            // Capped quality, not CBR: a scrolling page is "video" by its damage but needs far
            // fewer bits than the cap offers, and real video still gets the whole cap when its
            // quality needs it (measured on a Chromium scroll: CBR spent 1.8x the FFmpeg CLI's
            // bitrate for the same VMAF).
            Self::Video => {
                SceneSettings { format: YuvFormat::I420, rate: RateControl::CappedQuality { crf: 23 }, frame_rate: 30 }
            }
            Self::ThreeD => SceneSettings { format: YuvFormat::I420, rate: RateControl::Cbr, frame_rate: 60 },
        }
    }
}

/// Turns per-frame damage into a scene class with hysteresis.
#[derive(Debug, Clone)]
pub struct SceneClassifier {
    window: VecDeque<f64>,
    current: SceneClass,
    candidate: SceneClass,
    streak: u32,
}

impl Default for SceneClassifier {
    fn default() -> Self {
        Self::new()
    }
}

impl SceneClassifier {
    /// A classifier that starts at office.
    #[must_use]
    pub fn new() -> Self {
        Self {
            window: VecDeque::with_capacity(WINDOW),
            current: SceneClass::Office,
            candidate: SceneClass::Office,
            streak: 0,
        }
    }

    /// The current class.
    #[must_use]
    pub fn class(&self) -> SceneClass {
        self.current
    }

    /// The verdict of the window alone, before hysteresis.
    #[must_use]
    pub fn verdict(&self) -> SceneClass {
        let n = self.window.len().max(1) as f64;
        let active = self.window.iter().filter(|f| **f > 0.0).count() as f64 / n;
        let area = self.window.iter().sum::<f64>() / n;
        if area >= THREE_D_AREA && active >= THREE_D_ACTIVE {
            SceneClass::ThreeD
        } else if area >= VIDEO_AREA && active >= VIDEO_ACTIVE {
            SceneClass::Video
        } else {
            SceneClass::Office
        }
    }

    /// Takes one frame's damage (an empty damage for a skipped, unchanged frame) and returns
    /// the class after it.
    pub fn update(&mut self, damage: &Damage) -> SceneClass {
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(damage.dirty_fraction);
        let verdict = self.verdict();
        if verdict == self.current {
            self.streak = 0;
            return self.current;
        }
        if verdict == self.candidate {
            self.streak += 1;
        } else {
            self.candidate = verdict;
            self.streak = 1;
        }
        let needed = if verdict > self.current { ENTER_FRAMES } else { LEAVE_FRAMES };
        if self.streak >= needed {
            self.current = verdict;
            self.streak = 0;
        }
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::damage::DamageTracker;
    use crate::synth::{Source, SourceKind};

    fn run(
        source: &mut Source,
        tracker: &mut DamageTracker,
        c: &mut SceneClassifier,
        frames: usize,
    ) -> Vec<SceneClass> {
        (0..frames).map(|_| c.update(&tracker.update(&source.next_frame()))).collect()
    }

    #[test]
    fn each_source_settles_on_its_class() {
        for (kind, want) in [
            (SourceKind::Office, SceneClass::Office),
            (SourceKind::Idle, SceneClass::Office),
            (SourceKind::Video, SceneClass::Video),
            (SourceKind::ThreeD, SceneClass::ThreeD),
        ] {
            let mut s = Source::new(kind, 320, 192, 8);
            let mut t = DamageTracker::new(32);
            t.update(&s.next_frame());
            let mut c = SceneClassifier::new();
            let classes = run(&mut s, &mut t, &mut c, 90);
            assert_eq!(*classes.last().unwrap(), want, "{kind:?}: {classes:?}");
            // Once settled it stays (no flapping) over the last second.
            assert!(classes[60..].iter().all(|k| *k == want), "{kind:?}: {classes:?}");
        }
    }

    #[test]
    fn hysteresis_is_quick_to_enter_and_slow_to_leave() {
        let mut t = DamageTracker::new(32);
        let mut c = SceneClassifier::new();
        let mut video = Source::new(SourceKind::Video, 320, 192, 1);
        let classes = run(&mut video, &mut t, &mut c, 60);
        let entered = classes.iter().position(|k| *k == SceneClass::Video).expect("reaches video");
        assert!(entered < 40, "entered video after {entered} frames");
        // The video stops: the screen goes still. Video holds for two seconds, then office.
        let still = Damage::default();
        let after: Vec<_> = (0..150).map(|_| c.update(&still)).collect();
        let left = after.iter().position(|k| *k == SceneClass::Office).expect("returns to office");
        assert!(left >= LEAVE_FRAMES as usize, "left video after {left} frames");
    }

    #[test]
    fn settings_follow_the_class() {
        assert_eq!(SceneClass::Office.settings(true).format, YuvFormat::I444);
        assert_eq!(SceneClass::Office.settings(false).format, YuvFormat::I420);
        assert_eq!(SceneClass::ThreeD.settings(true).format, YuvFormat::I420);
        assert_eq!(SceneClass::ThreeD.settings(true).frame_rate, 60);
        assert_eq!(SceneClass::Video.settings(true).rate, RateControl::CappedQuality { crf: 23 });
        assert_eq!(SceneClass::ThreeD.settings(true).rate, RateControl::Cbr);
    }
}
