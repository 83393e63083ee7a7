//! asp-codec's synthetic scenes as a server source that also answers input: each input event
//! changes a small marker in the top-left corner (a key moves a caret block along a row, a
//! button or wheel flips a square's colour, pointer motion moves a dot), so the first frame
//! showing an event's effect is known and click-to-photon latency can be measured without X.

use std::sync::{Arc, Mutex, PoisonError};

use asp_codec::RgbaImage;
use asp_codec::synth::{Source, SourceKind};

use super::{Captured, FrameSource, InjectError, InputInjector, SourceError};
use crate::cursor::{CursorError, CursorSample, CursorShape, CursorSource, CursorState, arrow};
use crate::proto::input::InputEvent;

/// Side of the marker squares, in pixels.
const MARK: u32 = 12;
/// Caret positions along the marker row before it wraps.
const CARET_SLOTS: u64 = 24;

#[derive(Debug, Default)]
struct Marks {
    applied: u64,
    keys: u64,
    clicks: u64,
    pointer: Option<(u32, u32)>,
}

/// A synthetic scene that answers input.
#[derive(Debug)]
pub struct SynthSource {
    source: Source,
    size: (u32, u32),
    marks: Arc<Mutex<Marks>>,
}

/// The injector of a [`SynthSource`]: records events for the next frame to show.
#[derive(Debug)]
pub struct SynthInjector {
    marks: Arc<Mutex<Marks>>,
    size: (u32, u32),
}

impl SynthSource {
    /// A source of `kind` at `width` x `height` (even, at least 64 x 32), seeded, with its
    /// injector.
    ///
    /// # Errors
    /// [`SourceError::Capture`] for a size out of range.
    pub fn new(kind: SourceKind, width: u32, height: u32, seed: u64) -> Result<(Self, SynthInjector), SourceError> {
        if width < 64 || height < 32 || width % 2 != 0 || height % 2 != 0 || width > 8192 || height > 8192 {
            return Err(SourceError::Capture(format!(
                "synthetic size {width}x{height} must be even, 64x32..8192x8192"
            )));
        }
        let marks = Arc::new(Mutex::new(Marks::default()));
        let injector = SynthInjector { marks: marks.clone(), size: (width, height) };
        Ok((SynthSource { source: Source::new(kind, width, height, seed), size: (width, height), marks }, injector))
    }
}

fn fill(img: &mut RgbaImage, x0: u32, y0: u32, side: u32, bgra: [u8; 4]) {
    for y in y0..(y0 + side).min(img.height) {
        let row = y as usize * img.stride;
        for x in x0..(x0 + side).min(img.width) {
            let at = row + x as usize * 4;
            img.data[at..at + 4].copy_from_slice(&bgra);
        }
    }
}

impl FrameSource for SynthSource {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn renders_on_capture(&self) -> bool {
        true
    }

    fn cursor(&mut self) -> Result<Option<Box<dyn CursorSource>>, CursorError> {
        Ok(Some(Box::new(SynthCursor { marks: self.marks.clone(), size: self.size, shape: arrow(SYNTH_ARROW_ID, 24) })))
    }

    fn capture(&mut self) -> Result<Captured, SourceError> {
        let mut image = self.source.next_frame();
        let marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        let caret = marks.keys % CARET_SLOTS;
        fill(&mut image, MARK * 2, MARK, MARK * CARET_SLOTS as u32, [40, 40, 40, 255]);
        if marks.keys > 0 {
            fill(&mut image, MARK * 2 + caret as u32 * MARK, MARK, MARK, [255, 255, 255, 255]);
        }
        let shade = if marks.clicks % 2 == 0 { [30, 30, 200, 255] } else { [30, 200, 30, 255] };
        fill(&mut image, MARK / 2, MARK, MARK, shade);
        if let Some((x, y)) = marks.pointer {
            fill(&mut image, x.saturating_sub(2), y.saturating_sub(2), 4, [0, 255, 255, 255]);
        }
        Ok(Captured { image, input_applied: marks.applied })
    }
}

/// The pointer of a [`SynthSource`]: the classic arrow where the client's pointer events put
/// it (the middle of the screen before any).
#[derive(Debug)]
pub struct SynthCursor {
    marks: Arc<Mutex<Marks>>,
    size: (u32, u32),
    shape: CursorShape,
}

/// The id of the synthetic arrow.
pub const SYNTH_ARROW_ID: u64 = 1;

impl CursorSource for SynthCursor {
    fn sample(&mut self) -> Result<CursorSample, CursorError> {
        let pointer = self.marks.lock().unwrap_or_else(PoisonError::into_inner).pointer;
        let (x, y) = pointer.unwrap_or((self.size.0 / 2, self.size.1 / 2));
        let state = CursorState {
            shape_id: SYNTH_ARROW_ID,
            x: i32::try_from(x).unwrap_or(i32::MAX),
            y: i32::try_from(y).unwrap_or(i32::MAX),
            visible: true,
        };
        Ok(CursorSample { state, shape: None })
    }

    fn shape(&mut self, id: u64) -> Result<Option<CursorShape>, CursorError> {
        Ok((id == SYNTH_ARROW_ID).then(|| self.shape.clone()))
    }
}

impl InputInjector for SynthInjector {
    fn inject(&mut self, seq: u64, event: &InputEvent) -> Result<(), InjectError> {
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        match *event {
            InputEvent::Key { down: true, .. } => marks.keys += 1,
            InputEvent::Button { down: true, .. } | InputEvent::Wheel { .. } => marks.clicks += 1,
            InputEvent::PointerMove { x, y } => {
                marks.pointer = Some((x.min(self.size.0 - 1), y.min(self.size.1 - 1)));
            }
            InputEvent::PointerRelative { dx, dy } => {
                let (x, y) = marks.pointer.unwrap_or((self.size.0 / 2, self.size.1 / 2));
                let x = x.saturating_add_signed(dx).min(self.size.0 - 1);
                let y = y.saturating_add_signed(dy).min(self.size.1 - 1);
                marks.pointer = Some((x, y));
            }
            // Releases change nothing on screen; they are still applied (a no-op here).
            _ => {}
        }
        marks.applied = marks.applied.max(seq);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_changes_the_next_frame_and_is_reported() {
        let (mut source, mut injector) = SynthSource::new(SourceKind::Idle, 320, 180, 1).unwrap();
        let before = source.capture().unwrap();
        assert_eq!(before.input_applied, 0);
        let same = source.capture().unwrap();
        assert!(same.image == before.image, "an idle source with no input must not change");
        for (seq, event) in [
            (1, InputEvent::Key { keysym: 0x61, down: true }),
            (2, InputEvent::Button { button: 1, down: true }),
            (3, InputEvent::PointerMove { x: 200, y: 100 }),
        ] {
            let last = source.capture().unwrap();
            injector.inject(seq, &event).unwrap();
            let next = source.capture().unwrap();
            assert_eq!(next.input_applied, seq);
            assert!(next.image != last.image, "{event:?} must show");
        }
    }

    #[test]
    fn refuses_odd_or_tiny_sizes() {
        assert!(SynthSource::new(SourceKind::Idle, 63, 32, 1).is_err());
        assert!(SynthSource::new(SourceKind::Idle, 65, 32, 1).is_err());
    }
}
