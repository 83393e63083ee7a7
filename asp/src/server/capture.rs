//! The capture thread: takes a picture every frame interval and leaves it in the mailbox, and
//! one more right after an input event has been applied, so that the answer to a click does
//! not wait for the next tick (half a frame interval on average).

use super::{RawFrame, Shared};
use crate::mailbox::Mailbox;
use crate::source::{FrameSource, SourceError};

/// Captures at `rate` frames per second until stopped, the source ends or fails.
pub(super) fn run(mut source: Box<dyn FrameSource>, mailbox: &Mailbox<RawFrame>, shared: &Shared, rate: u32) {
    let interval = 1_000_000 / u64::from(rate.max(1));
    let mut next = shared.clock.now_us();
    let mut id = 0u64;
    let after = source.renders_on_capture();
    let mut last_capture = 0u64;
    while !shared.stopped() {
        let rung = shared.input_bell.wait_until(&shared.clock, next);
        let tick_us = shared.clock.now_us();
        if rung {
            // An input was applied: capture now, unless a capture was just taken (no more
            // than four captures per frame interval); the schedule stays as it was.
            if tick_us.saturating_sub(last_capture) < interval / 4 {
                continue;
            }
        } else {
            // A capture that overran skips the ticks it missed instead of bursting to catch up.
            next = (next + interval).max(tick_us.saturating_sub(interval / 2) + interval);
        }
        last_capture = tick_us;
        let result = source.capture();
        let capture_us = if after { shared.clock.now_us() } else { tick_us };
        match result {
            Ok(captured) => {
                id += 1;
                let replaced = mailbox.put(RawFrame { id, capture_us, captured });
                let mut stats = shared.stats();
                stats.frames_captured += 1;
                stats.frames_dropped_behind += u64::from(replaced);
            }
            Err(SourceError::Ended) => {
                shared.stats().source_ended = true;
                break;
            }
            Err(e) => {
                shared.stats().pipeline_errors.push(format!("capture: {e}"));
                break;
            }
        }
    }
    mailbox.close();
}
