//! The audio and clipboard adapters both interfaces share: a sink that hands each played
//! 20 ms frame to a callback, a microphone the caller pushes samples into, and a clipboard the
//! caller copies into and hears the server's copies from.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use asp::audio::AudioSink;
use asp::clipboard::{Clipboard, ClipboardContent, ClipboardError};

use crate::runtime;

/// What takes each played frame: its interleaved samples and channel count.
pub(crate) type FrameCallback = Box<dyn FnMut(&[i16], u32) + Send>;

/// Hands each played frame (interleaved 16-bit samples at 48 kHz) to its callback.
pub(crate) struct CallbackAudioSink(pub(crate) FrameCallback);

impl AudioSink for CallbackAudioSink {
    fn write_frame(&mut self, samples: &[i16]) -> std::io::Result<()> {
        let channels = u32::from(asp::audio::frame_channels(samples));
        runtime::in_callback(|| (self.0)(samples, channels));
        Ok(())
    }
}

/// Copies the caller made, waiting for the session's clipboard worker.
pub(crate) type Outgoing = Arc<Mutex<VecDeque<ClipboardContent>>>;

/// Copies the caller made go out; the server's copies go to `deliver`.
pub(crate) struct AppClipboard {
    pub(crate) outgoing: Outgoing,
    pub(crate) deliver: Box<dyn FnMut(ClipboardContent) + Send>,
}

/// Copies kept waiting at most; older ones are superseded anyway.
const MAX_WAITING: usize = 4;

/// Queues a copy for the session.
pub(crate) fn push_copy(outgoing: &Outgoing, content: ClipboardContent) {
    let mut queue = outgoing.lock().unwrap_or_else(PoisonError::into_inner);
    if queue.len() == MAX_WAITING {
        queue.pop_front();
    }
    queue.push_back(content);
}

impl Clipboard for AppClipboard {
    fn poll(&mut self) -> Result<Option<ClipboardContent>, ClipboardError> {
        Ok(self.outgoing.lock().unwrap_or_else(PoisonError::into_inner).pop_front())
    }

    fn set(&mut self, content: ClipboardContent) -> Result<(), ClipboardError> {
        runtime::in_callback(|| (self.deliver)(content));
        Ok(())
    }
}
