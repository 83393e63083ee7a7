//! Desktop audio through PulseAudio (feature `pulse`), which also serves PipeWire desktops
//! through `pipewire-pulse`: [`PulseSource`] records what the desktop plays (the default
//! sink's monitor, [`DEFAULT_MONITOR`]) or any named source, such as a microphone;
//! [`PulseSink`] plays into the default sink or a named one.
//!
//! This module owns the PulseAudio connection: one blocking `pa_simple` stream per source or
//! sink, at 48 kHz s16le in 1 or 2 channels, with buffer attributes chosen for a latency of a
//! frame or two, and PulseAudio's errors turned into [`io::Error`]s that name the server and
//! the device. It keeps no thread of its own: the session's audio threads block in
//! [`read_frame`](AudioSource::read_frame) and [`write_frame`](AudioSink::write_frame), which
//! return at the sound card's pace.
//!
//! ```no_run
//! use asp::audio::pulse::{PulseOptions, PulseSource, DEFAULT_MONITOR};
//! use asp::audio::{AudioSource, FRAME_SAMPLES};
//!
//! // What the desktop plays, from the server PULSE_SERVER or the session names.
//! let mut desktop = PulseSource::open(&PulseOptions::device(DEFAULT_MONITOR))?;
//! let mut frame = vec![0; FRAME_SAMPLES * usize::from(desktop.channels())];
//! desktop.read_frame(&mut frame)?; // 20 ms, returned once the card has recorded it
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io;
use std::time::Duration;

use libpulse_binding::def::BufferAttr;
use libpulse_binding::error::{Code, PAErr};
use libpulse_binding::sample::{Format, Spec};
use libpulse_binding::stream::Direction;
use libpulse_simple_binding::Simple;

use super::{AudioSink, AudioSource, FRAME_SAMPLES, FRAME_US, SAMPLE_RATE};

/// The source that records what the default sink plays: "the desktop".
pub const DEFAULT_MONITOR: &str = "@DEFAULT_MONITOR@";

/// Where a [`PulseSource`] or [`PulseSink`] connects, and how it names itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulseOptions {
    /// The server, in PulseAudio's form (`unix:/run/user/1000/pulse/native`,
    /// `tcp:host:4713`); `None`: the one `PULSE_SERVER`, the X11 root window or the user's
    /// runtime directory names, as for any PulseAudio client.
    pub server: Option<String>,
    /// The source or sink, by name (`pactl list short sources`); `None`: the server's default
    /// source (a microphone, usually: for the desktop's audio use [`DEFAULT_MONITOR`]) or sink.
    pub device: Option<String>,
    /// The application name the server shows (in `pavucontrol`, say).
    pub app_name: String,
    /// 1 (mono) or 2 (stereo); the server mixes the device's channels to this count.
    pub channels: u8,
}

impl Default for PulseOptions {
    /// The default server and device, stereo, as "asp".
    fn default() -> Self {
        Self { server: None, device: None, app_name: "asp".into(), channels: 2 }
    }
}

impl PulseOptions {
    /// The defaults, with the source or sink named `device`.
    #[must_use]
    pub fn device(device: impl Into<String>) -> Self {
        Self { device: Some(device.into()), ..Self::default() }
    }

    /// The server as the error texts name it.
    fn server_name(&self) -> &str {
        self.server.as_deref().unwrap_or("the default server")
    }

    /// The device as the error texts name it.
    fn device_name(&self) -> &str {
        self.device.as_deref().unwrap_or("default")
    }

    /// An error about this server and device: `what` failed, PulseAudio said `err`.
    fn error(&self, what: &str, err: PAErr) -> io::Error {
        // `pa_simple` reports positive codes, the binding's `Code` expects negative ones.
        let kind = match Code::try_from(PAErr(-err.0.abs())) {
            Ok(Code::ConnectionRefused | Code::ConnectionTerminated) => io::ErrorKind::ConnectionRefused,
            Ok(Code::NoEntity) => io::ErrorKind::NotFound,
            Ok(Code::Access) => io::ErrorKind::PermissionDenied,
            Ok(Code::Invalid | Code::NotSupported) => io::ErrorKind::InvalidInput,
            Ok(Code::Timeout) => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::Other,
        };
        let message = err.to_string().filter(|m| !m.is_empty()).unwrap_or_else(|| format!("error {}", err.0));
        io::Error::new(
            kind,
            format!("PulseAudio {what} ({}, device {}): {message}", self.server_name(), self.device_name()),
        )
    }

    /// Opens a stream in `direction` with `attr`, after checking what the C API cannot take.
    fn connect(&self, direction: Direction, stream_name: &str, attr: &BufferAttr) -> io::Result<Simple> {
        let what = if direction == Direction::Record { "recording" } else { "playback" };
        let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
        if !(1..=2).contains(&self.channels) {
            return Err(invalid(format!("PulseAudio {what}: {} channels, 1 or 2 only", self.channels)));
        }
        // The binding panics on a NUL inside a name; refuse it here instead.
        for (field, value) in
            [("server", self.server.as_deref()), ("device", self.device.as_deref()), ("app name", Some(&self.app_name))]
        {
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(invalid(format!("PulseAudio {what}: the {field} name {value:?} holds a NUL")));
            }
        }
        let spec = Spec { format: Format::S16le, rate: SAMPLE_RATE, channels: self.channels };
        Simple::new(
            self.server.as_deref(),
            &self.app_name,
            direction,
            self.device.as_deref(),
            stream_name,
            &spec,
            None,
            Some(attr),
        )
        .map_err(|e| self.error(&format!("{what}: cannot connect"), e))
    }
}

/// Bytes of `us` of audio at 48 kHz, 16-bit, in `channels`.
fn bytes_of(us: u64, channels: u8) -> u32 {
    (u64::from(SAMPLE_RATE) * us / 1_000_000 * 2 * u64::from(channels)) as u32
}

/// Records 20 ms frames from a PulseAudio source: a live source, whose
/// [`read_frame`](AudioSource::read_frame) blocks until the sound card has recorded the frame.
pub struct PulseSource {
    stream: Simple,
    options: PulseOptions,
    bytes: Vec<u8>,
}

impl fmt::Debug for PulseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PulseSource").field("options", &self.options).finish_non_exhaustive()
    }
}

impl PulseSource {
    /// Connects to the server and starts recording from the device in `options`.
    ///
    /// # Errors
    /// PulseAudio's message, with the server and device named: no server there
    /// ([`io::ErrorKind::ConnectionRefused`]), no such source ([`io::ErrorKind::NotFound`]),
    /// and so on; [`io::ErrorKind::InvalidInput`] for a channel count other than 1 or 2 or a
    /// name holding a NUL.
    pub fn open(options: &PulseOptions) -> io::Result<Self> {
        // Without a fragment size the server picks one of about two seconds, and each read
        // would wait for a whole fragment: the sender would get its frames in bursts, seconds
        // late. One frame (20 ms) per fragment hands each frame over as soon as it is
        // recorded; with pa_simple's ADJUST_LATENCY the source's own latency is set to match,
        // where the hardware allows it.
        let attr = BufferAttr {
            maxlength: u32::MAX,
            tlength: u32::MAX,
            prebuf: u32::MAX,
            minreq: u32::MAX,
            fragsize: bytes_of(FRAME_US, options.channels),
        };
        let stream = options.connect(Direction::Record, "capture", &attr)?;
        let bytes = vec![0; FRAME_SAMPLES * 2 * usize::from(options.channels)];
        Ok(Self { stream, options: options.clone(), bytes })
    }

    /// What the stream was opened with.
    #[must_use]
    pub fn options(&self) -> &PulseOptions {
        &self.options
    }

    /// The recording latency the server reports now: how long ago the next sample to be read
    /// was recorded.
    ///
    /// # Errors
    /// PulseAudio's message, when the server cannot say (the connection is gone, say).
    pub fn latency(&self) -> io::Result<Duration> {
        let us = self.stream.get_latency().map_err(|e| self.options.error("recording latency", e))?;
        Ok(Duration::from_micros(us.0))
    }
}

impl AudioSource for PulseSource {
    fn channels(&self) -> u8 {
        self.options.channels
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
        if frame.len() * 2 != self.bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("audio frame of {} samples, expected {}", frame.len(), self.bytes.len() / 2),
            ));
        }
        self.stream.read(&mut self.bytes).map_err(|e| self.options.error("recording", e))?;
        for (sample, bytes) in frame.iter_mut().zip(self.bytes.chunks_exact(2)) {
            *sample = i16::from_le_bytes([bytes[0], bytes[1]]);
        }
        Ok(true)
    }

    fn is_live(&self) -> bool {
        true
    }
}

/// Plays frames into a PulseAudio sink. [`write_frame`](AudioSink::write_frame) blocks while
/// the stream's buffer (about two frames) is full, so a writer faster than the sound card is
/// held to its pace; one slower than it underruns, and the server plays silence meanwhile.
///
/// A stereo sink given exactly [`FRAME_SAMPLES`] samples takes them as a mono 20 ms frame and
/// plays it in both channels: a session plays stereo unless the peer sends mono, and the
/// length of its 20 ms frames says which.
pub struct PulseSink {
    stream: Simple,
    options: PulseOptions,
    bytes: Vec<u8>,
}

impl fmt::Debug for PulseSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PulseSink").field("options", &self.options).finish_non_exhaustive()
    }
}

impl PulseSink {
    /// Connects to the server and opens a playback stream on the device in `options`.
    ///
    /// # Errors
    /// As [`PulseSource::open`], for sinks.
    pub fn open(options: &PulseOptions) -> io::Result<Self> {
        // The default target length is about two seconds: everything written would be heard
        // two seconds later. Two frames (40 ms, the device's own latency included with
        // pa_simple's ADJUST_LATENCY) leave room for one frame to play while the next is
        // written, and no more; the prebuffer and request size keep the server's defaults
        // (derived from the target length).
        let attr = BufferAttr {
            maxlength: u32::MAX,
            tlength: bytes_of(2 * FRAME_US, options.channels),
            prebuf: u32::MAX,
            minreq: u32::MAX,
            fragsize: u32::MAX,
        };
        let stream = options.connect(Direction::Playback, "playback", &attr)?;
        Ok(Self { stream, options: options.clone(), bytes: Vec::with_capacity(FRAME_SAMPLES * 4) })
    }

    /// What the stream was opened with.
    #[must_use]
    pub fn options(&self) -> &PulseOptions {
        &self.options
    }

    /// The playback latency the server reports now: how long until a sample written now is
    /// heard.
    ///
    /// # Errors
    /// PulseAudio's message, when the server cannot say.
    pub fn latency(&self) -> io::Result<Duration> {
        let us = self.stream.get_latency().map_err(|e| self.options.error("playback latency", e))?;
        Ok(Duration::from_micros(us.0))
    }

    /// Waits until everything written has been played.
    ///
    /// # Errors
    /// PulseAudio's message, when the connection fails meanwhile.
    pub fn drain(&self) -> io::Result<()> {
        self.stream.drain().map_err(|e| self.options.error("playback drain", e))
    }
}

impl AudioSink for PulseSink {
    fn write_frame(&mut self, samples: &[i16]) -> io::Result<()> {
        let channels = usize::from(self.options.channels);
        self.bytes.clear();
        if channels == 2 && super::frame_channels(samples) == 1 {
            self.bytes.extend(samples.iter().flat_map(|s| [s.to_le_bytes(), s.to_le_bytes()]).flatten());
        } else if samples.len() % channels == 0 {
            self.bytes.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} samples in {channels} channels", samples.len()),
            ));
        }
        self.stream.write(&self.bytes).map_err(|e| self.options.error("playback", e))
    }
}

/// Opens the source a `pulse` or `pulse:DEVICE` spec names, stereo, on the default server:
/// without a device, what the desktop plays ([`DEFAULT_MONITOR`]).
pub(crate) fn open_source_spec(device: Option<&str>) -> Result<Box<dyn AudioSource + Send>, String> {
    let options = PulseOptions::device(device.unwrap_or(DEFAULT_MONITOR));
    Ok(Box::new(PulseSource::open(&options).map_err(|e| e.to_string())?))
}

/// Opens the sink a `pulse` or `pulse:DEVICE` spec names, stereo, on the default server.
pub(crate) fn open_sink_spec(device: Option<&str>) -> Result<Box<dyn AudioSink + Send>, String> {
    let options = PulseOptions { device: device.map(str::to_owned), ..PulseOptions::default() };
    Ok(Box::new(PulseSink::open(&options).map_err(|e| e.to_string())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_refusals_before_connecting() {
        assert_eq!(bytes_of(FRAME_US, 2), 3840);
        assert_eq!(bytes_of(2 * FRAME_US, 1), 3840);
        let refused = |options: PulseOptions| PulseSource::open(&options).unwrap_err();
        let e = refused(PulseOptions { channels: 3, ..PulseOptions::default() });
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("3 channels"), "{e}");
        let e = refused(PulseOptions::device("a\0b"));
        assert!(e.to_string().contains("device name"), "{e}");
        let e = PulseSink::open(&PulseOptions { server: Some("x\0".into()), ..PulseOptions::default() }).unwrap_err();
        assert!(e.to_string().contains("playback: the server name"), "{e}");
    }

    #[test]
    fn errors_name_server_device_and_the_message() {
        let options = PulseOptions { server: Some("unix:/nowhere".into()), ..PulseOptions::device("mic") };
        let e = options.error("recording", Code::ConnectionRefused.into());
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(e.to_string(), "PulseAudio recording (unix:/nowhere, device mic): Connection refused");
        // pa_simple's codes are positive.
        let e = PulseOptions::default().error("playback", PAErr(Code::NoEntity as i32));
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(e.to_string(), "PulseAudio playback (the default server, device default): No such entity");
    }
}
