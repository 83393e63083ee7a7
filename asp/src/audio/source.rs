//! Where a sender's audio comes from: [`AudioSource`] hands out 20 ms frames of interleaved
//! 16-bit samples at 48 kHz. [`ToneSource`] makes a sine (deterministic, for tests and demos);
//! [`WavSource`] reads a 16-bit PCM WAV file, once or in a loop.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::{FRAME_SAMPLES, SAMPLE_RATE};

/// A source of audio, pulled one frame at a time.
pub trait AudioSource {
    /// 1 (mono) or 2 (stereo, interleaved left then right).
    fn channels(&self) -> u8;

    /// Fills `frame` with the next 20 ms: [`FRAME_SAMPLES`] × [`channels`](Self::channels)
    /// interleaved samples at 48 kHz. Returns `false`, leaving `frame` as it was, when the
    /// source has ended; a last partial frame is padded with silence.
    ///
    /// # Errors
    /// An I/O error from the source, or [`io::ErrorKind::InvalidInput`] if `frame` is not
    /// one frame long.
    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool>;

    /// Whether [`read_frame`](Self::read_frame) itself keeps real time, blocking until the
    /// frame has been recorded (a sound card, such as `PulseSource` in the `pulse` feature).
    /// A session paces other sources at 20 ms a frame by the system clock; it reads a live
    /// one as fast as it delivers, since pacing it as well would let its recording buffer
    /// grow by the drift between the two clocks. `false` unless a source says otherwise.
    fn is_live(&self) -> bool {
        false
    }
}

impl<S: AudioSource + ?Sized> AudioSource for &mut S {
    fn channels(&self) -> u8 {
        (**self).channels()
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
        (**self).read_frame(frame)
    }

    fn is_live(&self) -> bool {
        (**self).is_live()
    }
}

impl<S: AudioSource + ?Sized> AudioSource for Box<S> {
    fn channels(&self) -> u8 {
        (**self).channels()
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
        (**self).read_frame(frame)
    }

    fn is_live(&self) -> bool {
        (**self).is_live()
    }
}

fn check_frame_len(frame: &[i16], channels: u8) -> io::Result<()> {
    let expected = FRAME_SAMPLES * usize::from(channels);
    if frame.len() == expected {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("audio frame of {} samples, expected {expected}", frame.len()),
        ))
    }
}

/// A sine of a given frequency and amplitude, the same in every channel, that never ends.
/// Sample `n` is `round(amplitude × sin(2π × frequency × n / 48000))`: the same every run.
#[derive(Debug, Clone)]
pub struct ToneSource {
    frequency_hz: f64,
    amplitude: f64,
    channels: u8,
    /// Samples per channel produced so far.
    position: u64,
}

impl ToneSource {
    /// A tone of `frequency_hz` (clamped to 0..=24000, the band 48 kHz can carry) with peak
    /// `amplitude`, in `channels` channels (clamped to 1..=2).
    #[must_use]
    pub fn new(frequency_hz: f64, amplitude: i16, channels: u8) -> Self {
        let frequency_hz =
            if frequency_hz.is_finite() { frequency_hz.clamp(0.0, f64::from(SAMPLE_RATE) / 2.0) } else { 0.0 };
        Self { frequency_hz, amplitude: f64::from(amplitude), channels: channels.clamp(1, 2), position: 0 }
    }

    /// The sample at position `n` (per channel) from the start.
    #[must_use]
    pub fn sample_at(&self, n: u64) -> i16 {
        // The phase is reduced to one period in integer-exact steps so that it does not lose
        // precision however long the tone runs.
        let cycles = self.frequency_hz * n as f64 / f64::from(SAMPLE_RATE);
        let phase = cycles - cycles.floor();
        (self.amplitude * (std::f64::consts::TAU * phase).sin()).round() as i16
    }

    /// Samples per channel produced so far.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl AudioSource for ToneSource {
    fn channels(&self) -> u8 {
        self.channels
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
        check_frame_len(frame, self.channels)?;
        for (i, chunk) in frame.chunks_exact_mut(usize::from(self.channels)).enumerate() {
            chunk.fill(self.sample_at(self.position + i as u64));
        }
        self.position += FRAME_SAMPLES as u64;
        Ok(true)
    }
}

/// Why a WAV file cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// No RIFF / WAVE header.
    #[error("not a WAV file (no RIFF/WAVE header)")]
    NotWav,
    /// A WAV file, but not one this reader takes: 16-bit integer PCM, 48 kHz, mono or stereo.
    #[error("unsupported WAV {what} {value}: only 16-bit integer PCM at 48000 Hz, mono or stereo, is read")]
    Unsupported {
        /// Which property ("encoding" is the format tag: 1 PCM, 3 float, ...).
        what: &'static str,
        /// Its value in the file.
        value: u32,
    },
    /// The file's structure is broken.
    #[error("malformed WAV file: {0}")]
    Malformed(&'static str),
}

/// WAVE_FORMAT_PCM.
const FORMAT_PCM: u16 = 1;
/// WAVE_FORMAT_EXTENSIBLE: the real format is in the sub-format GUID's first two bytes.
const FORMAT_EXTENSIBLE: u16 = 0xfffe;
/// A data chunk size streaming writers leave when they do not know the length.
const UNKNOWN_LEN: u32 = u32::MAX;

/// Reads 16-bit PCM WAV (48 kHz, mono or stereo) in 20 ms frames; optionally starts again at
/// the end. Other chunks are skipped; other formats are refused by [`WavSource::new`] with a
/// [`WavError`] saying what the file holds.
#[derive(Debug)]
pub struct WavSource<R> {
    reader: R,
    channels: u8,
    /// Offset of the first sample.
    data_start: u64,
    /// Length of the sample data in bytes, `None` when the header does not say (read to the end).
    data_len: Option<u64>,
    /// Bytes of sample data read since `data_start`.
    position: u64,
    looping: bool,
    bytes: Vec<u8>,
}

impl WavSource<BufReader<File>> {
    /// Opens a WAV file.
    ///
    /// # Errors
    /// [`WavError`] if it cannot be opened or is not a WAV file this reader takes.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WavError> {
        Self::new(BufReader::new(File::open(path)?))
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// `read_exact`, with the end of the file before the header's end called what it is.
fn read_header(reader: &mut impl Read, buf: &mut [u8], what: &'static str) -> Result<(), WavError> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => WavError::Malformed(what),
        _ => WavError::Io(e),
    })
}

impl<R: Read + Seek> WavSource<R> {
    /// Reads the header of the WAV data in `reader`, up to the first sample.
    ///
    /// # Errors
    /// [`WavError`]: not a WAV, not 16-bit PCM at 48 kHz in 1 or 2 channels, or malformed.
    pub fn new(mut reader: R) -> Result<Self, WavError> {
        let mut riff = [0; 12];
        reader.read_exact(&mut riff).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => WavError::NotWav,
            _ => WavError::Io(e),
        })?;
        if &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
            return Err(WavError::NotWav);
        }
        let mut channels = None;
        loop {
            let mut chunk = [0; 8];
            read_header(&mut reader, &mut chunk, "no data chunk")?;
            let size = le32(&chunk, 4);
            match &chunk[..4] {
                b"fmt " => {
                    if !(16..=1024).contains(&size) {
                        return Err(WavError::Malformed("fmt chunk size"));
                    }
                    // Only the first 40 bytes mean anything to us; the rest is skipped.
                    let mut fmt = [0; 40];
                    let kept = (size as usize).min(fmt.len());
                    read_header(&mut reader, &mut fmt[..kept], "truncated fmt chunk")?;
                    skip(&mut reader, u64::from(size) - kept as u64 + u64::from(size & 1))?;
                    channels = Some(parse_fmt(&fmt[..kept])?);
                }
                b"data" => {
                    let channels = channels.ok_or(WavError::Malformed("data chunk before the fmt chunk"))?;
                    let data_start = reader.stream_position()?;
                    let data_len = (size != UNKNOWN_LEN).then_some(u64::from(size));
                    let bytes = Vec::with_capacity(FRAME_SAMPLES * 2 * usize::from(channels));
                    return Ok(Self { reader, channels, data_start, data_len, position: 0, looping: false, bytes });
                }
                _ => skip(&mut reader, u64::from(size) + u64::from(size & 1))?,
            }
        }
    }

    /// Starts again at the first sample when the data ends (a file with no samples still ends).
    #[must_use]
    pub fn looping(mut self, on: bool) -> Self {
        self.looping = on;
        self
    }

    /// Samples per channel in the file, if its header says.
    #[must_use]
    pub fn len_samples(&self) -> Option<u64> {
        self.data_len.map(|n| n / (2 * u64::from(self.channels)))
    }

    /// Reads into `self.bytes` up to `want` bytes of sample data, less at the data's end.
    fn read_data(&mut self, want: usize) -> io::Result<()> {
        let left = self.data_len.map_or(u64::MAX, |n| n.saturating_sub(self.position));
        let want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        let start = self.bytes.len();
        self.bytes.resize(start + want, 0);
        let mut got = 0;
        while got < want {
            match self.reader.read(&mut self.bytes[start + got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.bytes.truncate(start + got);
                    return Err(e);
                }
            }
        }
        self.bytes.truncate(start + got);
        self.position += got as u64;
        if got < want {
            // The file is shorter than its header says: it ends here.
            self.data_len = Some(self.position);
        }
        Ok(())
    }
}

fn skip(reader: &mut impl Seek, n: u64) -> io::Result<()> {
    let n = i64::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "chunk too long"))?;
    reader.seek(SeekFrom::Current(n)).map(drop)
}

/// Checks a fmt chunk's body; returns the channel count.
fn parse_fmt(fmt: &[u8]) -> Result<u8, WavError> {
    let unsupported = |what, value| Err(WavError::Unsupported { what, value });
    let mut tag = le16(fmt, 0);
    if tag == FORMAT_EXTENSIBLE {
        // cbSize (2), valid bits (2), channel mask (4), then the sub-format GUID.
        if fmt.len() < 40 {
            return Err(WavError::Malformed("short WAVE_FORMAT_EXTENSIBLE fmt chunk"));
        }
        tag = le16(fmt, 24);
    }
    if tag != FORMAT_PCM {
        return unsupported("encoding (format tag)", tag.into());
    }
    let (channels, rate, block_align, bits) = (le16(fmt, 2), le32(fmt, 4), le16(fmt, 12), le16(fmt, 14));
    if bits != 16 {
        return unsupported("bits per sample", bits.into());
    }
    if !(1..=2).contains(&channels) {
        return unsupported("channel count", channels.into());
    }
    if rate != SAMPLE_RATE {
        return unsupported("sample rate", rate);
    }
    if block_align != channels * 2 {
        return Err(WavError::Malformed("block align does not match 16-bit samples"));
    }
    Ok(channels as u8)
}

impl<R: Read + Seek> AudioSource for WavSource<R> {
    fn channels(&self) -> u8 {
        self.channels
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
        check_frame_len(frame, self.channels)?;
        let want = frame.len() * 2;
        self.bytes.clear();
        self.read_data(want)?;
        while self.looping && self.bytes.len() < want && self.position > 0 {
            self.reader.seek(SeekFrom::Start(self.data_start))?;
            self.position = 0;
            self.read_data(want - self.bytes.len())?;
        }
        // A trailing odd byte is not a sample.
        let whole = self.bytes.len() / 2;
        if whole == 0 {
            return Ok(false);
        }
        for (i, sample) in frame.iter_mut().enumerate() {
            *sample = if i < whole { i16::from_le_bytes([self.bytes[2 * i], self.bytes[2 * i + 1]]) } else { 0 };
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A WAV header (44 bytes) for `data_len` bytes of samples, with the given format fields.
    fn header(tag: u16, channels: u16, rate: u32, bits: u16, data_len: u32) -> Vec<u8> {
        let block = channels * bits / 8;
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + data_len).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&tag.to_le_bytes());
        h.extend_from_slice(&channels.to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        h.extend_from_slice(&block.to_le_bytes());
        h.extend_from_slice(&bits.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_len.to_le_bytes());
        h
    }

    fn wav(channels: u16, samples: &[i16]) -> Vec<u8> {
        let mut v = header(1, channels, 48_000, 16, (samples.len() * 2) as u32);
        v.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        v
    }

    #[test]
    fn tone_is_deterministic_and_right() {
        let mut a = ToneSource::new(1000.0, 10_000, 2);
        let mut frame = vec![0; FRAME_SAMPLES * 2];
        assert!(a.read_frame(&mut frame).unwrap());
        // 1 kHz at 48 kHz: 48 samples a period; stereo, so sample n is at 2n and 2n + 1.
        assert_eq!(frame[0], 0);
        assert_eq!(frame[24], 10_000);
        assert_eq!(frame[25], 10_000, "both channels");
        assert_eq!(frame[48], 0);
        assert_eq!(frame[72], -10_000);
        let mut b = ToneSource::new(1000.0, 10_000, 2);
        let mut again = vec![0; FRAME_SAMPLES * 2];
        b.read_frame(&mut again).unwrap();
        assert_eq!(frame, again);
        assert!(a.read_frame(&mut frame).is_ok_and(|more| more));
        assert_eq!(a.position(), 2 * FRAME_SAMPLES as u64);
        assert_eq!(a.read_frame(&mut [0; 10]).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn reads_pcm_pads_the_last_frame_and_loops() {
        let samples: Vec<i16> = (0..(FRAME_SAMPLES + 10) as i16).collect();
        let mut src = WavSource::new(Cursor::new(wav(1, &samples))).unwrap();
        assert_eq!((src.channels(), src.len_samples()), (1, Some(FRAME_SAMPLES as u64 + 10)));
        let mut frame = vec![-1; FRAME_SAMPLES];
        assert!(src.read_frame(&mut frame).unwrap());
        assert_eq!(frame[..], samples[..FRAME_SAMPLES]);
        assert!(src.read_frame(&mut frame).unwrap());
        assert_eq!(frame[..10], samples[FRAME_SAMPLES..]);
        assert!(frame[10..].iter().all(|&s| s == 0), "padded with silence");
        frame.fill(7);
        assert!(!src.read_frame(&mut frame).unwrap());
        assert!(frame.iter().all(|&s| s == 7), "untouched at the end");

        let mut looped = WavSource::new(Cursor::new(wav(1, &samples))).unwrap().looping(true);
        looped.read_frame(&mut frame).unwrap();
        looped.read_frame(&mut frame).unwrap();
        assert_eq!(frame[..10], samples[FRAME_SAMPLES..]);
        assert_eq!(frame[10..], samples[..FRAME_SAMPLES - 10], "wraps to the start");
        let mut empty = WavSource::new(Cursor::new(wav(2, &[]))).unwrap().looping(true);
        assert!(!empty.read_frame(&mut vec![0; 2 * FRAME_SAMPLES]).unwrap(), "an empty loop ends");
    }

    #[test]
    fn skips_other_chunks_and_reads_extensible_pcm() {
        let samples = [1i16, -2, 3, -4];
        let mut v = b"RIFF\0\0\0\0WAVE".to_vec();
        v.extend_from_slice(b"LIST\x03\0\0\0abc\0"); // an odd-sized chunk and its pad byte
        v.extend_from_slice(b"fmt \x28\0\0\0");
        v.extend_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        v.extend_from_slice(&[2, 0]); // channels
        v.extend_from_slice(&48_000u32.to_le_bytes());
        v.extend_from_slice(&192_000u32.to_le_bytes());
        v.extend_from_slice(&[4, 0, 16, 0, 22, 0, 16, 0, 3, 0, 0, 0]); // align, bits, cb, valid, mask
        v.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]);
        v.extend_from_slice(b"data\xff\xff\xff\xff"); // length unknown: to the end
        v.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        let mut src = WavSource::new(Cursor::new(v)).unwrap();
        assert_eq!((src.channels(), src.len_samples()), (2, None));
        let mut frame = vec![0; 2 * FRAME_SAMPLES];
        assert!(src.read_frame(&mut frame).unwrap());
        assert_eq!(frame[..4], samples);
        assert!(!src.read_frame(&mut frame).unwrap());
    }

    #[test]
    fn refuses_other_formats_clearly() {
        let err = |v: Vec<u8>| WavSource::new(Cursor::new(v)).unwrap_err().to_string();
        assert_eq!(
            err(header(3, 1, 48_000, 32, 0)),
            WavError::Unsupported { what: "encoding (format tag)", value: 3 }.to_string()
        );
        assert!(err(header(1, 1, 48_000, 24, 0)).contains("bits per sample 24"));
        assert!(err(header(1, 1, 48_000, 8, 0)).contains("bits per sample 8"));
        assert!(err(header(1, 1, 44_100, 16, 0)).contains("sample rate 44100"));
        assert!(err(header(1, 6, 48_000, 16, 0)).contains("channel count 6"));
        assert!(err(b"OggS\0\0\0\0\0\0\0\0\0\0".to_vec()).contains("not a WAV"));
        assert!(err(b"RIFF".to_vec()).contains("not a WAV"));
        let h = header(1, 1, 48_000, 16, 0);
        assert!(err(h[..30].to_vec()).contains("truncated fmt"));
        assert!(err(h[..36].to_vec()).contains("no data chunk"));
        let mut bad_align = h.clone();
        bad_align[32] = 3;
        assert!(err(bad_align).contains("block align"));
        let mut data_first = b"RIFF\0\0\0\0WAVEdata\0\0\0\0".to_vec();
        data_first.extend_from_slice(&h[12..]);
        assert!(err(data_first).contains("before the fmt"));
    }
}

/// Audio the application pushes (a microphone it captures itself, a binding's caller): up to
/// [`QueueSource::CAPACITY_FRAMES`] frames wait, the oldest dropped past that; when none is
/// waiting, silence is read (a live source never ends).
#[derive(Debug, Clone)]
pub struct QueueSource {
    channels: u8,
    queue: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<i16>>>,
}

impl QueueSource {
    /// Frames (20 ms each) kept waiting at most: half a second.
    pub const CAPACITY_FRAMES: usize = 25;

    /// An empty queue of `channels` (clamped to 1..=2) interleaved channels. Clones share it.
    #[must_use]
    pub fn new(channels: u8) -> Self {
        Self { channels: channels.clamp(1, 2), queue: std::sync::Arc::default() }
    }

    /// Appends interleaved samples at 48 kHz; returns how many samples were dropped to stay
    /// within the capacity (the oldest go first).
    pub fn push(&self, samples: &[i16]) -> usize {
        let mut queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.extend(samples);
        let capacity = Self::CAPACITY_FRAMES * FRAME_SAMPLES * usize::from(self.channels);
        let excess = queue.len().saturating_sub(capacity);
        queue.drain(..excess);
        excess
    }
}

impl AudioSource for QueueSource {
    fn channels(&self) -> u8 {
        self.channels
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
        check_frame_len(frame, self.channels)?;
        let mut queue = self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = frame.len().min(queue.len());
        for (out, sample) in frame.iter_mut().zip(queue.drain(..n)) {
            *out = sample;
        }
        frame[n..].fill(0);
        Ok(true)
    }
}

/// Opens an audio source from its textual form, as `asp serve --audio` and the bindings take
/// it: `tone:HZ` (a stereo sine at a quarter of full scale), `wav:PATH` (16-bit PCM, 48 kHz,
/// looped), or, in a build with the `pulse` feature, `pulse` (what the desktop plays: the
/// default sink's monitor on the default PulseAudio server) or `pulse:SOURCE` (a PulseAudio
/// source by name, such as `alsa_output.pci-0000_00_1f.3.analog-stereo.monitor` or a
/// microphone), recorded in stereo.
///
/// # Errors
/// A message naming what is wrong with `spec`, or why the file or device cannot be used.
pub fn open(spec: &str) -> Result<Box<dyn AudioSource + Send>, String> {
    match spec.split_once(':') {
        Some(("tone", hz)) => {
            let hz: f64 = hz.parse().map_err(|_| format!("tone:{hz}: not a frequency"))?;
            Ok(Box::new(ToneSource::new(hz, 8192, 2)))
        }
        Some(("wav", path)) => Ok(Box::new(WavSource::open(path).map_err(|e| format!("{path}: {e}"))?.looping(true))),
        Some(("pulse", device)) if !device.is_empty() => open_pulse(Some(device)),
        None if spec == "pulse" => open_pulse(None),
        _ => Err(format!("audio source {spec:?}: use tone:HZ, wav:PATH, pulse or pulse:SOURCE")),
    }
}

#[cfg(feature = "pulse")]
fn open_pulse(device: Option<&str>) -> Result<Box<dyn AudioSource + Send>, String> {
    super::pulse::open_source_spec(device)
}

#[cfg(not(feature = "pulse"))]
fn open_pulse(_device: Option<&str>) -> Result<Box<dyn AudioSource + Send>, String> {
    Err("audio source pulse: this build lacks the `pulse` feature (build asp with --features pulse)".into())
}

#[cfg(test)]
mod open_tests {
    use super::open;

    #[test]
    fn specs_and_their_errors() {
        assert_eq!(open("tone:440").unwrap().channels(), 2);
        assert!(open("tone:x").err().unwrap().contains("not a frequency"));
        let e = open("mp3:x").err().unwrap();
        assert!(e.contains("tone:HZ, wav:PATH, pulse or pulse:SOURCE"), "{e}");
        assert!(open("pulse:").err().unwrap().contains("use tone:HZ"), "an empty device is no device");
        #[cfg(not(feature = "pulse"))]
        for spec in ["pulse", "pulse:mic"] {
            let e = open(spec).err().unwrap();
            assert!(e.contains("lacks the `pulse` feature"), "{e}");
        }
    }
}
