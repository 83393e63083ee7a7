//! Records the source's pictures, as the bench's VMAF reference: every captured picture, as
//! I420, to a Y4M file, in capture order (frame id k is picture k). Conversion and writing
//! happen on a thread of their own; the capture thread pays for one copy of the picture.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use asp_codec::y4m::Y4mWriter;
use asp_codec::{RgbaImage, YuvFormat, YuvImage, convert};

use crate::source::{Captured, FrameSource, SourceError};

/// Pictures that may wait for the writer before capture blocks.
const QUEUE: usize = 64;

/// A source that also writes what it captures.
pub struct RecordingSource {
    inner: Box<dyn FrameSource>,
    tx: Option<SyncSender<RgbaImage>>,
}

impl std::fmt::Debug for RecordingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingSource").finish_non_exhaustive()
    }
}

/// Waits for a recording to be complete.
#[derive(Debug)]
pub struct RecordingDone(Option<JoinHandle<Result<u64, String>>>);

impl RecordingDone {
    /// Waits for the writer (the source must have been dropped) and returns the pictures
    /// written.
    ///
    /// # Errors
    /// The writer's error.
    pub fn wait(mut self) -> Result<u64, String> {
        self.0.take().map_or(Ok(0), |h| h.join().map_err(|_| "reference writer panicked".to_owned())?)
    }
}

impl RecordingSource {
    /// Wraps `inner`, writing to `path` at `fps`.
    ///
    /// # Errors
    /// When the file cannot be created.
    pub fn new(inner: Box<dyn FrameSource>, path: &Path, fps: u32) -> Result<(Self, RecordingDone), String> {
        let (w, h) = inner.size();
        let file =
            BufWriter::with_capacity(1 << 22, File::create(path).map_err(|e| format!("{}: {e}", path.display()))?);
        let mut writer = Y4mWriter::new(file, w, h, fps, 1, YuvFormat::I420).map_err(|e| e.to_string())?;
        let (tx, rx) = sync_channel::<RgbaImage>(QUEUE);
        let handle = std::thread::Builder::new()
            .name("asp-reference".into())
            .spawn(move || {
                let mut yuv = YuvImage::black(YuvFormat::I420, w, h);
                let mut n = 0;
                while let Ok(image) = rx.recv() {
                    convert::to_yuv_into(&image, &mut yuv).map_err(|e| e.to_string())?;
                    writer.write(&yuv).map_err(|e| e.to_string())?;
                    n += 1;
                }
                writer.flush().map_err(|e| e.to_string())?;
                Ok(n)
            })
            .map_err(|e| e.to_string())?;
        Ok((RecordingSource { inner, tx: Some(tx) }, RecordingDone(Some(handle))))
    }
}

impl FrameSource for RecordingSource {
    fn size(&self) -> (u32, u32) {
        self.inner.size()
    }

    fn renders_on_capture(&self) -> bool {
        self.inner.renders_on_capture()
    }

    fn capture(&mut self) -> Result<Captured, SourceError> {
        let captured = self.inner.capture()?;
        if let Some(tx) = &self.tx {
            if tx.send(captured.image.clone()).is_err() {
                self.tx = None;
                return Err(SourceError::Capture("the reference writer stopped".into()));
            }
        }
        Ok(captured)
    }
}
