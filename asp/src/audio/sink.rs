//! Where a receiver's audio goes: [`AudioSink`] takes 20 ms frames of interleaved 16-bit
//! samples at 48 kHz, one per playout tick. [`WavSink`] writes a WAV file; [`MemorySink`]
//! keeps everything in memory, for tests.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use super::SAMPLE_RATE;

/// A consumer of audio, pushed one frame at a time.
pub trait AudioSink {
    /// Takes the next frame: interleaved samples, a whole number of sample frames (every
    /// channel's sample for one instant).
    ///
    /// # Errors
    /// An I/O error from the sink, or [`io::ErrorKind::InvalidInput`] if `samples` does not
    /// hold whole sample frames.
    fn write_frame(&mut self, samples: &[i16]) -> io::Result<()>;
}

impl<S: AudioSink + ?Sized> AudioSink for &mut S {
    fn write_frame(&mut self, samples: &[i16]) -> io::Result<()> {
        (**self).write_frame(samples)
    }
}

impl<S: AudioSink + ?Sized> AudioSink for Box<S> {
    fn write_frame(&mut self, samples: &[i16]) -> io::Result<()> {
        (**self).write_frame(samples)
    }
}

fn check_whole(samples: &[i16], channels: u8) -> io::Result<()> {
    if samples.len() % usize::from(channels) == 0 {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} samples in {channels} channels", samples.len())))
    }
}

/// Header bytes before the first sample.
const HEADER_LEN: u64 = 44;

/// Writes 16-bit PCM WAV at 48 kHz. The header's lengths are written by [`finish`](Self::finish)
/// (or, on a best-effort basis, when the sink is dropped); a file may hold up to 4 GiB of
/// samples, and writes past that are refused.
#[derive(Debug)]
pub struct WavSink<W: Write + Seek> {
    /// `None` once finished.
    writer: Option<W>,
    channels: u8,
    data_bytes: u64,
}

impl WavSink<BufWriter<File>> {
    /// Creates (or truncates) a WAV file.
    ///
    /// # Errors
    /// If the file cannot be created or `channels` is not 1 or 2.
    pub fn create(path: impl AsRef<Path>, channels: u8) -> io::Result<Self> {
        Self::new(BufWriter::new(File::create(path)?), channels)
    }
}

impl<W: Write + Seek> WavSink<W> {
    /// Starts a WAV stream; `writer` must be at offset 0, where the header is patched when the
    /// sink finishes.
    ///
    /// # Errors
    /// If writing the header fails, or `channels` is not 1 or 2.
    pub fn new(mut writer: W, channels: u8) -> io::Result<Self> {
        if !(1..=2).contains(&channels) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{channels} channels: 1 or 2 only")));
        }
        let block = u16::from(channels) * 2;
        let mut h = Vec::with_capacity(HEADER_LEN as usize);
        h.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // PCM
        h.extend_from_slice(&u16::from(channels).to_le_bytes());
        h.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        h.extend_from_slice(&(SAMPLE_RATE * u32::from(block)).to_le_bytes());
        h.extend_from_slice(&block.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data\0\0\0\0");
        writer.write_all(&h)?;
        Ok(Self { writer: Some(writer), channels, data_bytes: 0 })
    }

    /// Samples per channel written so far.
    #[must_use]
    pub fn len_samples(&self) -> u64 {
        self.data_bytes / (2 * u64::from(self.channels))
    }

    fn patch_header(writer: &mut W, data_bytes: u64) -> io::Result<()> {
        // `write_frame` keeps data_bytes + 36 within u32.
        let data = data_bytes as u32;
        writer.seek(SeekFrom::Start(4))?;
        writer.write_all(&(data + 36).to_le_bytes())?;
        writer.seek(SeekFrom::Start(40))?;
        writer.write_all(&data.to_le_bytes())?;
        writer.seek(SeekFrom::End(0))?;
        writer.flush()
    }

    /// Writes the header's lengths, flushes, and returns the writer.
    ///
    /// # Errors
    /// If seeking or writing fails.
    pub fn finish(mut self) -> io::Result<W> {
        let mut writer = self.writer.take().expect("a WavSink is finished only once, by value");
        Self::patch_header(&mut writer, self.data_bytes)?;
        Ok(writer)
    }
}

impl<W: Write + Seek> AudioSink for WavSink<W> {
    fn write_frame(&mut self, samples: &[i16]) -> io::Result<()> {
        check_whole(samples, self.channels)?;
        let bytes = samples.len() as u64 * 2;
        if self.data_bytes + bytes > u64::from(u32::MAX) - 36 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "a WAV file holds at most 4 GiB"));
        }
        let writer = self.writer.as_mut().expect("not finished: finish takes the sink by value");
        let mut buf = [0u8; 2048];
        for chunk in samples.chunks(buf.len() / 2) {
            for (out, s) in buf.chunks_exact_mut(2).zip(chunk) {
                out.copy_from_slice(&s.to_le_bytes());
            }
            writer.write_all(&buf[..chunk.len() * 2])?;
        }
        self.data_bytes += bytes;
        Ok(())
    }
}

impl<W: Write + Seek> Drop for WavSink<W> {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.as_mut() {
            // Best effort: `finish` is the way to hear about errors.
            let _ = Self::patch_header(writer, self.data_bytes);
        }
    }
}

/// Keeps every sample it is given, for tests: it grows without bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemorySink {
    samples: Vec<i16>,
    frames: u64,
}

impl MemorySink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written, interleaved.
    #[must_use]
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Frames written.
    #[must_use]
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The samples, taken out.
    #[must_use]
    pub fn into_samples(self) -> Vec<i16> {
        self.samples
    }
}

impl AudioSink for MemorySink {
    fn write_frame(&mut self, samples: &[i16]) -> io::Result<()> {
        self.samples.extend_from_slice(samples);
        self.frames += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::super::FRAME_SAMPLES;
    use super::super::source::{AudioSource, ToneSource, WavSource};
    use super::*;

    #[test]
    fn wav_round_trip_in_memory() {
        let mut tone = ToneSource::new(440.0, 12_000, 2);
        let mut sink = WavSink::new(Cursor::new(Vec::new()), 2).unwrap();
        let mut written = Vec::new();
        let mut frame = vec![0; 2 * FRAME_SAMPLES];
        for _ in 0..5 {
            tone.read_frame(&mut frame).unwrap();
            sink.write_frame(&frame).unwrap();
            written.extend_from_slice(&frame);
        }
        sink.write_frame(&[5, -5]).unwrap();
        written.extend_from_slice(&[5, -5]);
        assert_eq!(sink.len_samples(), 5 * FRAME_SAMPLES as u64 + 1);
        assert_eq!(sink.write_frame(&[1]).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let bytes = sink.finish().unwrap().into_inner();
        assert_eq!(bytes.len() as u64, HEADER_LEN + written.len() as u64 * 2);
        assert_eq!(&bytes[4..8], &(bytes.len() as u32 - 8).to_le_bytes());

        let mut back = WavSource::new(Cursor::new(bytes)).unwrap();
        assert_eq!(back.len_samples(), Some(5 * FRAME_SAMPLES as u64 + 1));
        let mut read = Vec::new();
        while back.read_frame(&mut frame).unwrap() {
            read.extend_from_slice(&frame);
        }
        assert_eq!(read[..written.len()], written[..]);
        assert!(read[written.len()..].iter().all(|&s| s == 0), "the last frame is padded");
    }

    #[test]
    fn a_dropped_sink_still_leaves_a_readable_file() {
        let mut buf = Cursor::new(Vec::new());
        {
            let mut sink = WavSink::new(&mut buf, 1).unwrap();
            sink.write_frame(&[1, 2, 3]).unwrap();
        }
        let mut back = WavSource::new(Cursor::new(buf.into_inner())).unwrap();
        assert_eq!(back.len_samples(), Some(3));
        let mut frame = vec![0; FRAME_SAMPLES];
        assert!(back.read_frame(&mut frame).unwrap());
        assert_eq!(frame[..3], [1, 2, 3]);
    }

    #[test]
    fn refuses_bad_channel_counts() {
        assert!(WavSink::new(Cursor::new(Vec::new()), 0).is_err());
        assert!(WavSink::new(Cursor::new(Vec::new()), 3).is_err());
    }

    #[test]
    fn memory_sink_keeps_everything() {
        let mut sink = MemorySink::new();
        sink.write_frame(&[1, 2]).unwrap();
        fn through(mut sink: impl AudioSink) {
            sink.write_frame(&[3]).unwrap();
        }
        through(&mut sink);
        assert_eq!((sink.samples(), sink.frames()), (&[1, 2, 3][..], 2));
        assert_eq!(sink.into_samples(), vec![1, 2, 3]);
    }
}

/// Plays into nothing (audio is still decoded, concealed and measured): where a server puts a
/// client's microphone when it has nowhere else to put it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl AudioSink for NullSink {
    fn write_frame(&mut self, _samples: &[i16]) -> io::Result<()> {
        Ok(())
    }
}

/// Opens where a client's microphone goes from its textual form, as `asp serve --microphone`
/// takes it: `wav:PATH` (a 16-bit PCM WAV file, stereo), `discard`, or, in a build with the
/// `pulse` feature, `pulse` (the default PulseAudio sink, stereo) or `pulse:SINK` (a sink by
/// name, as `pactl list short sinks` lists them).
///
/// # Errors
/// A message naming what is wrong with `spec`, or why the file or device cannot be used.
pub fn open(spec: &str) -> Result<Box<dyn AudioSink + Send>, String> {
    match spec.split_once(':') {
        Some(("wav", path)) => Ok(Box::new(WavSink::create(path, 2).map_err(|e| format!("{path}: {e}"))?)),
        Some(("pulse", device)) if !device.is_empty() => open_pulse(Some(device)),
        None if spec == "pulse" => open_pulse(None),
        None if spec == "discard" => Ok(Box::new(NullSink)),
        _ => Err(format!("microphone sink {spec:?}: use wav:PATH, discard, pulse or pulse:SINK")),
    }
}

#[cfg(feature = "pulse")]
fn open_pulse(device: Option<&str>) -> Result<Box<dyn AudioSink + Send>, String> {
    super::pulse::open_sink_spec(device)
}

#[cfg(not(feature = "pulse"))]
fn open_pulse(_device: Option<&str>) -> Result<Box<dyn AudioSink + Send>, String> {
    Err("audio sink pulse: this build lacks the `pulse` feature (build asp with --features pulse)".into())
}

#[cfg(test)]
mod open_tests {
    use super::open;

    #[test]
    fn specs_and_their_errors() {
        assert!(open("discard").is_ok());
        let e = open("speaker").err().unwrap();
        assert!(e.contains("wav:PATH, discard, pulse or pulse:SINK"), "{e}");
        #[cfg(not(feature = "pulse"))]
        for spec in ["pulse", "pulse:speaker"] {
            let e = open(spec).err().unwrap();
            assert!(e.contains("lacks the `pulse` feature"), "{e}");
        }
    }
}
