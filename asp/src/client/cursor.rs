//! The client's side of the cursor channels: shapes into a cache, states matched to their
//! shapes, updates to the application's [`CursorSink`]. A state whose shape has not arrived
//! yet (the two channels are not ordered with each other) waits for it.

use std::sync::{Mutex, PoisonError};

use asp_core::ChannelId;

use crate::cursor::{CursorSink, CursorUpdate, ShapeCache};
use crate::proto::cursor::{CursorMessage, CursorState};

/// Counters of the cursor channels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CursorStats {
    /// Shapes received.
    pub shapes: u64,
    /// Updates handed to the sink (or kept for it).
    pub updates: u64,
    /// Messages that did not parse.
    pub bad_messages: u64,
}

/// What the session task keeps.
#[derive(Debug, Default)]
pub(crate) struct CursorReceiver {
    channels: Vec<ChannelId>,
    cache: ShapeCache,
    pending: Option<CursorState>,
    last_shape: u64,
}

/// What the application sees: its sink and the newest update (handed to a sink set later).
#[derive(Default)]
pub(crate) struct CursorOutput {
    sink: Option<Box<dyn CursorSink>>,
    latest: Option<CursorUpdate>,
    pub(crate) stats: CursorStats,
}

impl std::fmt::Debug for CursorOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorOutput").field("sink", &self.sink.is_some()).field("stats", &self.stats).finish()
    }
}

pub(crate) fn lock(output: &Mutex<CursorOutput>) -> std::sync::MutexGuard<'_, CursorOutput> {
    output.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CursorOutput {
    /// Sets the sink and hands it the newest update at once.
    pub(crate) fn set_sink(&mut self, mut sink: Box<dyn CursorSink>) {
        if let Some(latest) = &self.latest {
            sink.update(latest);
        }
        self.sink = Some(sink);
    }

    fn deliver(&mut self, update: CursorUpdate) {
        self.stats.updates += 1;
        if let Some(sink) = &mut self.sink {
            sink.update(&update);
        }
        self.latest = Some(update);
    }
}

impl CursorReceiver {
    /// A cursor channel opened.
    pub(crate) fn add_channel(&mut self, id: ChannelId) {
        self.channels.push(id);
    }

    /// Whether `channel` is one of the cursor channels.
    pub(crate) fn owns(&self, channel: ChannelId) -> bool {
        self.channels.contains(&channel)
    }

    /// One message from a cursor channel.
    pub(crate) fn on_message(&mut self, data: &[u8], output: &Mutex<CursorOutput>) {
        let message = match CursorMessage::decode(data) {
            Ok(m) => m,
            Err(_) => {
                lock(output).stats.bad_messages += 1;
                return;
            }
        };
        match message {
            CursorMessage::Shape(shape) => {
                let id = shape.id;
                self.cache.insert(shape);
                lock(output).stats.shapes += 1;
                if let Some(state) = self.pending.filter(|s| s.shape_id == id) {
                    self.pending = None;
                    self.show(state, output);
                }
            }
            CursorMessage::State(state) => self.show(state, output),
        }
    }

    fn show(&mut self, state: CursorState, output: &Mutex<CursorOutput>) {
        let Some(shape) = self.cache.get(state.shape_id) else {
            self.pending = Some(state);
            return;
        };
        let shape_changed = state.shape_id != self.last_shape;
        self.last_shape = state.shape_id;
        lock(output).deliver(CursorUpdate { state, shape, shape_changed });
    }
}

impl CursorReceiver {
    /// Shapes in the cache.
    pub(crate) fn shapes_held(&self) -> usize {
        self.cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::arrow;

    fn bytes(m: CursorMessage) -> Vec<u8> {
        m.encode().unwrap()
    }

    #[test]
    fn a_state_waits_for_its_shape_and_shapes_are_kept() {
        let output = Mutex::new(CursorOutput::default());
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        lock(&output)
            .set_sink(Box::new(move |u: &CursorUpdate| log.lock().unwrap().push((u.state.x, u.shape_changed))));
        let mut receiver = CursorReceiver::default();
        let state = |x| CursorMessage::State(CursorState { shape_id: 9, x, y: 0, visible: true });
        receiver.on_message(&bytes(state(1)), &output);
        assert!(seen.lock().unwrap().is_empty(), "no shape yet");
        receiver.on_message(&bytes(CursorMessage::Shape(arrow(9, 16))), &output);
        receiver.on_message(&bytes(state(2)), &output);
        receiver.on_message(&[1, 2, 3], &output);
        assert_eq!(*seen.lock().unwrap(), [(1, true), (2, false)]);
        assert_eq!(lock(&output).stats, CursorStats { shapes: 1, updates: 2, bad_messages: 1 });
    }
}
