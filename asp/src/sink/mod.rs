//! Where the client's decoded pictures go: any [`FrameSink`] (a closure is one), or the
//! [`y4m`] writer that keeps them frame for frame. The window viewer's `ViewerSink`
//! (`asp::viewer`, feature `viewer`) is a sink that draws into a window.

pub mod y4m;

use asp_codec::YuvImage;

use crate::proto::display::FrameHeader;

/// A decoded picture, ready to show.
#[derive(Debug, Clone)]
pub struct DecodedFrame {
    /// What the server said about it.
    pub header: FrameHeader,
    /// The picture (I420 or I444, as encoded).
    pub image: YuvImage,
    /// When it was ready, µs on the client's clock.
    pub ready_us: u64,
    /// Capture to ready, when the clock offset is known.
    pub glass_to_glass_ms: Option<f64>,
}

/// Takes decoded pictures, on the client's decode thread: return quickly.
pub trait FrameSink: Send {
    /// One picture, in decoding order.
    fn show(&mut self, frame: &DecodedFrame);

    /// The stream ended; flush what is buffered.
    fn finish(&mut self) {}
}

impl<F: FnMut(&DecodedFrame) + Send> FrameSink for F {
    fn show(&mut self, frame: &DecodedFrame) {
        self(frame);
    }
}
