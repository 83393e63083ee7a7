//! Keeps what the client showed as a Y4M file, frame for frame: with `aligned`, one picture
//! per captured frame id, repeating the last picture for ids the client never showed
//! (skipped because unchanged, dropped, or discarded), so the file lines up with the source
//! and anyone can score it with their own tools.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use asp_codec::y4m::{Y4mWriteError, Y4mWriter};
use asp_codec::{YuvFormat, YuvImage};

use super::{DecodedFrame, FrameSink};
use crate::yuv420::to_i420;

/// Writes decoded pictures (as I420) to a Y4M file.
#[derive(Debug)]
pub struct Y4mSink {
    writer: Option<Y4mWriter<BufWriter<File>>>,
    path: std::path::PathBuf,
    fps: u32,
    aligned: bool,
    last: Option<YuvImage>,
    last_id: u64,
    written: u64,
    error: Option<String>,
}

impl Y4mSink {
    /// A sink writing to `path` (created when the first picture arrives, with its size) at
    /// `fps`; `aligned` repeats pictures to keep one per frame id (ids start at 1).
    #[must_use]
    pub fn new(path: &Path, fps: u32, aligned: bool) -> Self {
        Self { writer: None, path: path.to_owned(), fps, aligned, last: None, last_id: 0, written: 0, error: None }
    }

    /// Pictures written so far.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The first write error, if any (writing stops at it).
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn write(&mut self, image: &YuvImage) -> Result<(), Y4mWriteError> {
        if self.writer.is_none() {
            let file = BufWriter::new(File::create(&self.path)?);
            self.writer = Some(Y4mWriter::new(file, image.width, image.height, self.fps, 1, YuvFormat::I420)?);
        }
        if let Some(w) = self.writer.as_mut() {
            w.write(image)?;
            self.written += 1;
        }
        Ok(())
    }

    fn record(&mut self, result: Result<(), Y4mWriteError>) {
        if let Err(e) = result {
            self.error.get_or_insert_with(|| e.to_string());
        }
    }

    /// Repeats the last picture until `frames` pictures are written (the source's frame count,
    /// when the client missed the last few); then flushes.
    pub fn pad_to(&mut self, frames: u64) {
        if let Some(last) = self.last.take() {
            while self.error.is_none() && self.written < frames {
                let r = self.write(&last);
                self.record(r);
            }
            self.last = Some(last);
        }
        self.finish();
    }
}

impl FrameSink for Y4mSink {
    fn show(&mut self, frame: &DecodedFrame) {
        if self.error.is_some() {
            return;
        }
        let image = to_i420(&frame.image).into_owned();
        if self.aligned {
            if let Some(last) = self.last.take() {
                let gap = frame.header.frame_id.saturating_sub(self.last_id + 1);
                for _ in 0..gap {
                    let r = self.write(&last);
                    self.record(r);
                }
            } else {
                // Nothing was shown before the first picture: it stands in for the ids before it.
                for _ in 1..frame.header.frame_id {
                    let r = self.write(&image);
                    self.record(r);
                }
            }
        }
        let r = self.write(&image);
        self.record(r);
        self.last_id = frame.header.frame_id;
        self.last = Some(image);
    }

    fn finish(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            if let Err(e) = w.flush() {
                self.error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}
