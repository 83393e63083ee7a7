//! The pointer, apart from the picture: where a server's cursor comes from ([`CursorSource`]:
//! the synthetic scenes' arrow, or X11 through XFixes), and where a client's goes
//! ([`CursorSink`], drawn locally so that motion never waits for a video frame). Shapes travel
//! once per id ([`ShapeCache`] on each side remembers which); positions as they change.

use std::collections::VecDeque;
use std::sync::Arc;

pub use crate::proto::cursor::{CursorShape, CursorState};

/// Shapes each side remembers; older ones are sent again if they come back.
pub const SHAPES_KEPT: usize = 64;

/// What a cursor source saw: the pointer now, and its shape when the source can give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorSample {
    /// Position, visibility, shape id.
    pub state: CursorState,
    /// The shape of `state.shape_id`, when the source read it with the state (sources that
    /// read it only on request return `None` and answer [`CursorSource::shape`]).
    pub shape: Option<CursorShape>,
}

/// Why a cursor could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cursor: {0}")]
pub struct CursorError(pub String);

/// A server's pointer. Called from the server's cursor thread, at a fixed rate.
pub trait CursorSource: Send {
    /// The pointer now.
    ///
    /// # Errors
    /// [`CursorError`] when the screen can no longer be read; the server stops following the
    /// pointer and says so in its figures.
    fn sample(&mut self) -> Result<CursorSample, CursorError>;

    /// The shape with this id, for a sample that came without it.
    ///
    /// # Errors
    /// [`CursorError`] as for [`sample`](Self::sample).
    fn shape(&mut self, id: u64) -> Result<Option<CursorShape>, CursorError> {
        let _ = id;
        Ok(None)
    }
}

/// What a client shows: the pointer with its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    /// Position and visibility.
    pub state: CursorState,
    /// The shape (shared: the same `Arc` for every update with this shape id).
    pub shape: Arc<CursorShape>,
    /// Whether this shape differs from the previous update's.
    pub shape_changed: bool,
}

/// Takes a client's cursor updates, on the client's session task: return at once.
pub trait CursorSink: Send {
    /// The pointer changed.
    fn update(&mut self, update: &CursorUpdate);
}

impl<F: FnMut(&CursorUpdate) + Send> CursorSink for F {
    fn update(&mut self, update: &CursorUpdate) {
        self(update);
    }
}

/// The last [`SHAPES_KEPT`] shapes by id, least recently used first out.
#[derive(Debug, Default)]
pub struct ShapeCache {
    shapes: VecDeque<Arc<CursorShape>>,
}

impl ShapeCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The shape with `id`, marked as just used.
    pub fn get(&mut self, id: u64) -> Option<Arc<CursorShape>> {
        let at = self.shapes.iter().position(|s| s.id == id)?;
        let shape = self.shapes.remove(at)?;
        self.shapes.push_back(shape.clone());
        Some(shape)
    }

    /// Whether `id` is here (without marking it used).
    #[must_use]
    pub fn contains(&self, id: u64) -> bool {
        self.shapes.iter().any(|s| s.id == id)
    }

    /// Keeps `shape`, replacing one with the same id, dropping the least recently used when
    /// full.
    pub fn insert(&mut self, shape: CursorShape) -> Arc<CursorShape> {
        self.shapes.retain(|s| s.id != shape.id);
        if self.shapes.len() == SHAPES_KEPT {
            self.shapes.pop_front();
        }
        let shape = Arc::new(shape);
        self.shapes.push_back(shape.clone());
        shape
    }

    /// Shapes held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether none is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
}

/// The classic left-pointing arrow, `side` pixels tall (8..=64), black with a white outline,
/// hot spot at its tip.
#[must_use]
pub fn arrow(id: u64, side: u16) -> CursorShape {
    let side = side.clamp(8, 64);
    let (w, h) = (side * 2 / 3, side);
    let mut rgba = vec![0u8; usize::from(w) * usize::from(h) * 4];
    for y in 0..h {
        // The arrow's right edge runs down at 45 degrees, then the body narrows to a tail.
        let edge = if y < h * 2 / 3 { y.min(w - 1) } else { (w / 3).min(w - 1) };
        for x in 0..=edge {
            let at = (usize::from(y) * usize::from(w) + usize::from(x)) * 4;
            let outline = x == 0 || x == edge || y == h - 1;
            let c = if outline { 255 } else { 0 };
            rgba[at..at + 4].copy_from_slice(&[c, c, c, 255]);
        }
    }
    CursorShape { id, width: w, height: h, hot_x: 0, hot_y: 0, rgba }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keeps_the_most_recently_used() {
        let mut cache = ShapeCache::new();
        for id in 1..=SHAPES_KEPT as u64 {
            cache.insert(arrow(id, 16));
        }
        assert!(cache.get(1).is_some()); // 1 is now the most recently used
        cache.insert(arrow(1000, 16));
        assert!(cache.contains(1) && !cache.contains(2) && cache.contains(1000));
        assert_eq!(cache.len(), SHAPES_KEPT);
    }

    #[test]
    fn arrow_is_a_valid_shape() {
        let shape = arrow(1, 24);
        let message = crate::proto::cursor::CursorMessage::Shape(shape.clone());
        assert!(message.encode().is_ok());
        assert_eq!(&shape.rgba[..4], &[255, 255, 255, 255], "the tip is outlined");
    }
}
