//! A YUV4MPEG2 recording as a server source, so researchers can stream their own sequences
//! (and score what the client showed against the file itself). Pictures are converted to BGRA,
//! as a screen capture would deliver them; the capture thread paces them at the server's
//! frame rate.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use asp_codec::y4m::Y4mReader;
use asp_codec::{ChannelOrder, convert};

use super::{Captured, FrameSource, SourceError};

/// Frames of a Y4M file, once or in a loop.
#[derive(Debug)]
pub struct Y4mSource {
    reader: Y4mReader<BufReader<File>>,
    path: std::path::PathBuf,
    looped: bool,
    size: (u32, u32),
    frames: u64,
}

impl Y4mSource {
    /// Opens `path`; with `looped`, starts over at its end instead of ending.
    ///
    /// # Errors
    /// [`SourceError`] when the file cannot be read, is not Y4M, or has odd dimensions.
    pub fn open(path: &Path, looped: bool) -> Result<Self, SourceError> {
        let reader =
            Y4mReader::new(BufReader::new(File::open(path)?)).map_err(|e| SourceError::Capture(e.to_string()))?;
        let h = *reader.header();
        if h.width % 2 != 0 || h.height % 2 != 0 || h.width < 16 || h.height < 16 {
            return Err(SourceError::Capture(format!(
                "{}x{} is not an even size of at least 16x16",
                h.width, h.height
            )));
        }
        Ok(Self { reader, path: path.to_owned(), looped, size: (h.width, h.height), frames: 0 })
    }

    /// The file's nominal frame rate, rounded.
    #[must_use]
    pub fn frame_rate(&self) -> u32 {
        let h = self.reader.header();
        ((f64::from(h.fps_num) / f64::from(h.fps_den.max(1))).round() as u32).max(1)
    }
}

impl FrameSource for Y4mSource {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn capture(&mut self) -> Result<Captured, SourceError> {
        let mut next = self.reader.next_frame().map_err(|e| SourceError::Capture(e.to_string()))?;
        if next.is_none() && self.looped && self.frames > 0 {
            *self = Self::open(&self.path.clone(), true)?;
            next = self.reader.next_frame().map_err(|e| SourceError::Capture(e.to_string()))?;
        }
        let yuv = next.ok_or(SourceError::Ended)?;
        self.frames += 1;
        let image = convert::to_rgba(&yuv, ChannelOrder::Bgra).map_err(|e| SourceError::Capture(e.to_string()))?;
        Ok(Captured { image, input_applied: 0 })
    }
}
