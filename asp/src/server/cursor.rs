//! The server's cursor thread: samples the source's pointer at [`CURSOR_RATE_HZ`], sends each
//! shape once (while the client is likely to still hold it) on the reliable cursor channel and
//! every change of position, visibility or shape on the latest-wins one.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::Shared;
use crate::cursor::{CursorSource, ShapeCache};
use crate::proto::cursor::{CursorMessage, CursorState};

/// How often the pointer is sampled: above any display's refresh rate, so that the client sees
/// every position a frame could have shown.
pub const CURSOR_RATE_HZ: u64 = 125;

/// A message for one of the two cursor channels.
#[derive(Debug)]
pub(crate) enum CursorOut {
    /// For the reliable channel.
    Shape(Bytes),
    /// For the latest-wins channel.
    State(Bytes),
}

/// Runs until the session stops or the source fails.
pub(crate) fn run(mut source: Box<dyn CursorSource>, out: &mpsc::Sender<CursorOut>, shared: &Shared) {
    let mut sent = ShapeCache::new();
    let mut last: Option<CursorState> = None;
    let period = Duration::from_micros(1_000_000 / CURSOR_RATE_HZ);
    while !shared.stopped() {
        let sample = match source.sample() {
            Ok(s) => s,
            Err(e) => {
                shared.stats().pipeline_errors.push(e.to_string());
                return;
            }
        };
        let state = sample.state;
        if state.visible && sent.get(state.shape_id).is_none() {
            let shape = match sample.shape.filter(|s| s.id == state.shape_id) {
                Some(shape) => Some(shape),
                None => match source.shape(state.shape_id) {
                    Ok(shape) => shape,
                    Err(e) => {
                        shared.stats().pipeline_errors.push(e.to_string());
                        return;
                    }
                },
            };
            // A shape the source cannot give cannot be shown: skip this sample.
            let Some(shape) = shape else {
                std::thread::sleep(period);
                continue;
            };
            match CursorMessage::Shape(shape.clone()).encode() {
                Ok(bytes) => {
                    if out.blocking_send(CursorOut::Shape(Bytes::from(bytes))).is_err() {
                        return;
                    }
                    sent.insert(shape);
                    shared.stats().cursor_shapes_sent += 1;
                }
                Err(e) => {
                    shared.stats().pipeline_errors.push(format!("cursor shape refused: {e}"));
                    return;
                }
            }
        }
        if last != Some(state) {
            last = Some(state);
            let Ok(bytes) = CursorMessage::State(state).encode() else { return };
            if out.blocking_send(CursorOut::State(Bytes::from(bytes))).is_err() {
                return;
            }
            shared.stats().cursor_states_sent += 1;
        }
        std::thread::sleep(period);
    }
}
