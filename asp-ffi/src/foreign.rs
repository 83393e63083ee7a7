//! The uniffi interface: what Kotlin, Swift and Python see. `Client` and `Server` objects,
//! `FrameSink`, `EventSink` and `AudioSink` callback interfaces the foreign side implements,
//! records for configuration and figures, and `run_bench` for researchers.

use std::sync::Arc;
use std::time::Duration;

use asp::proto::input::InputEvent;
use asp::sink::{DecodedFrame, FrameSink as FacadeSink};

use crate::client::{ClientConfig, ClientCore, ClientEvent};
use crate::error::AspError;
use crate::records::{ClientStats, ServerEvent, ServerStats, VideoFrame};
use crate::runtime;
use crate::server::{ServerConfig, ServerCore};

/// Takes decoded pictures, on the client's decode thread: return quickly, and do not call
/// `Client.stop` from here.
#[uniffi::export(with_foreign)]
pub trait FrameSink: Send + Sync {
    /// One picture, in decoding order.
    fn on_frame(&self, frame: VideoFrame);
}

/// Hears a client's life ([`ClientEvent`]), on an SDK thread.
#[uniffi::export(with_foreign)]
pub trait EventSink: Send + Sync {
    /// One event, in order.
    fn on_event(&self, event: ClientEvent);
}

/// A pointer image.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CursorImage {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// The hot spot's column.
    pub hot_x: u32,
    /// The hot spot's row.
    pub hot_y: u32,
    /// Straight RGBA rows, `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// The server's pointer now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CursorUpdate {
    /// The shape's id; the same id is always the same image.
    pub shape_id: u64,
    /// The hot spot's column in the remote picture.
    pub x: i32,
    /// The hot spot's row.
    pub y: i32,
    /// Whether the pointer shows.
    pub visible: bool,
    /// The image, when it differs from the previous update's.
    pub image: Option<CursorImage>,
}

/// Takes the server's pointer, drawn locally so that motion never waits for a video frame.
/// Runs on an SDK thread: return quickly.
#[uniffi::export(with_foreign)]
pub trait CursorSink: Send + Sync {
    /// The pointer moved, appeared or disappeared, or changed shape.
    fn on_cursor(&self, update: CursorUpdate);
}

/// 20 ms of the server's audio as the client plays it (decoded, or concealed where packets
/// were lost).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AudioFrame {
    /// Samples per second (48 000).
    pub sample_rate: u32,
    /// Channels, interleaved.
    pub channels: u32,
    /// The samples.
    pub samples: Vec<i16>,
}

/// Takes the server's audio, one 20 ms frame per call, on the client's playback thread.
#[uniffi::export(with_foreign)]
pub trait AudioSink: Send + Sync {
    /// One frame.
    fn on_audio(&self, frame: AudioFrame);
}

/// A copy, either way.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClipboardData {
    /// UTF-8 text.
    Text {
        /// The text.
        text: String,
    },
    /// A PNG image.
    Png {
        /// The PNG file's bytes.
        png: Vec<u8>,
    },
    /// Files, as URIs.
    Files {
        /// The URIs.
        uris: Vec<String>,
    },
}

impl From<ClipboardData> for asp::clipboard::ClipboardContent {
    fn from(d: ClipboardData) -> Self {
        match d {
            ClipboardData::Text { text } => Self::Text(text),
            ClipboardData::Png { png } => Self::Png(png),
            ClipboardData::Files { uris } => Self::Files(uris),
        }
    }
}

impl From<asp::clipboard::ClipboardContent> for ClipboardData {
    fn from(c: asp::clipboard::ClipboardContent) -> Self {
        match c {
            asp::clipboard::ClipboardContent::Text(text) => Self::Text { text },
            asp::clipboard::ClipboardContent::Png(png) => Self::Png { png },
            asp::clipboard::ClipboardContent::Files(uris) => Self::Files { uris },
        }
    }
}

/// Takes copies made on the server (within its clipboard policy), on an SDK thread.
#[uniffi::export(with_foreign)]
pub trait ClipboardSink: Send + Sync {
    /// One copy.
    fn on_clipboard(&self, data: ClipboardData);
}

/// A microphone the caller feeds: 48 kHz interleaved 16-bit samples.
#[derive(Debug, uniffi::Object)]
pub struct Microphone {
    queue: asp::audio::QueueSource,
}

#[uniffi::export]
impl Microphone {
    /// Appends samples; half a second waits at most, the oldest dropped past that. Returns
    /// how many were dropped.
    pub fn push(&self, samples: Vec<i16>) -> u64 {
        self.queue.push(&samples) as u64
    }
}

/// Options a client takes beyond where to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct FrameOptions {
    /// Copy the planes into each [`VideoFrame`]; without, frames carry their metadata only
    /// (cheaper when only figures are wanted).
    #[uniffi(default = true)]
    pub pixels: bool,
}

struct ForeignSink {
    sink: Arc<dyn FrameSink>,
    pixels: bool,
}

impl FacadeSink for ForeignSink {
    fn show(&mut self, frame: &DecodedFrame) {
        if let Some(frame) = VideoFrame::from_decoded(frame, self.pixels) {
            runtime::in_callback(|| self.sink.on_frame(frame));
        }
    }
}

/// A client: connects, hands decoded pictures to a [`FrameSink`], sends input.
#[derive(Debug, uniffi::Object)]
pub struct Client {
    core: ClientCore,
    clipboard: std::sync::Mutex<Option<crate::media::Outgoing>>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Client {
    /// Connects to a server and starts receiving. Blocks until the session is up.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`], [`AspError::Connect`].
    #[uniffi::constructor]
    pub fn connect(
        config: ClientConfig,
        sink: Arc<dyn FrameSink>,
        events: Option<Arc<dyn EventSink>>,
        options: Option<FrameOptions>,
    ) -> Result<Arc<Self>, AspError> {
        let pixels = options.is_none_or(|o| o.pixels);
        let events = events.map(|e| Box::new(move |event| e.on_event(event)) as Box<dyn Fn(ClientEvent) + Send + Sync>);
        let core = ClientCore::connect(&config, Box::new(ForeignSink { sink, pixels }), events)?;
        Ok(Arc::new(Self { core, clipboard: std::sync::Mutex::new(None) }))
    }

    /// `quic` or `tcp`.
    pub fn carrier(&self) -> String {
        self.core.carrier().name().into()
    }

    /// A key pressed or released, by X11 keysym (`0x61` is `a`, `0xff0d` Return); returns its
    /// sequence number.
    ///
    /// # Errors
    /// [`AspError::Ended`].
    pub fn send_key(&self, keysym: u32, down: bool) -> Result<u64, AspError> {
        self.core.send(InputEvent::Key { keysym, down })
    }

    /// The pointer moved to (`x`, `y`), display pixels.
    ///
    /// # Errors
    /// [`AspError::Ended`].
    pub fn send_pointer(&self, x: u32, y: u32) -> Result<u64, AspError> {
        self.core.send(InputEvent::PointerMove { x, y })
    }

    /// Relative pointer motion.
    ///
    /// # Errors
    /// [`AspError::Ended`].
    pub fn send_pointer_relative(&self, dx: i32, dy: i32) -> Result<u64, AspError> {
        self.core.send(InputEvent::PointerRelative { dx, dy })
    }

    /// A button (1 left, 2 middle, 3 right, up to 7) pressed or released.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`] for a button outside 1..=7, [`AspError::Ended`].
    pub fn send_button(&self, button: u8, down: bool) -> Result<u64, AspError> {
        if !(1..=7).contains(&button) {
            return Err(AspError::invalid("button must be 1..=7"));
        }
        self.core.send(InputEvent::Button { button, down })
    }

    /// Wheel steps; positive is down (`dy`) or right (`dx`).
    ///
    /// # Errors
    /// [`AspError::Ended`].
    pub fn send_wheel(&self, dx: i32, dy: i32) -> Result<u64, AspError> {
        self.core.send(InputEvent::Wheel { dx, dy })
    }

    /// The figures so far.
    pub fn stats(&self) -> ClientStats {
        self.core.stats().into()
    }

    /// The figures as JSON, every field the facade keeps (clock offset, warm-up, byte counts).
    pub fn stats_json(&self) -> String {
        serde_json::to_string(&self.core.stats()).unwrap_or_default()
    }

    /// Waits until `count` pictures have been shown in all, or `timeout_ms` passed; returns
    /// how many have been shown.
    pub async fn wait_for_frames(&self, count: u64, timeout_ms: u64) -> u64 {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            let shown = self.core.stats().frames_shown;
            if shown >= count || tokio::time::Instant::now() >= deadline || self.core.is_finished() {
                return shown;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether the session has ended.
    pub fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// Routes the server's pointer to `sink` (the newest state at once, if one came).
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped.
    pub fn set_cursor_sink(&self, sink: Arc<dyn CursorSink>) -> Result<(), AspError> {
        self.core.set_cursor_sink(Box::new(move |u: &asp::cursor::CursorUpdate| {
            let update = CursorUpdate {
                shape_id: u.state.shape_id,
                x: u.state.x,
                y: u.state.y,
                visible: u.state.visible,
                image: u.shape_changed.then(|| CursorImage {
                    width: u32::from(u.shape.width),
                    height: u32::from(u.shape.height),
                    hot_x: u32::from(u.shape.hot_x),
                    hot_y: u32::from(u.shape.hot_y),
                    rgba: u.shape.rgba.clone(),
                }),
            };
            runtime::in_callback(|| sink.on_cursor(update));
        }))
    }

    /// Plays the server's audio into `sink`, one 20 ms frame at a time.
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped.
    pub fn set_audio_sink(&self, sink: Arc<dyn AudioSink>) -> Result<(), AspError> {
        self.core.attach_audio_sink(Box::new(crate::media::CallbackAudioSink(Box::new(
            move |samples: &[i16], channels| {
                sink.on_audio(AudioFrame { sample_rate: asp::audio::SAMPLE_RATE, channels, samples: samples.to_vec() });
            },
        ))))
    }

    /// Starts sending a microphone of `channels` (1 or 2) to the server; feed it through the
    /// returned object.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`] for a channel count other than 1 or 2,
    /// [`AspError::Ended`] once stopped.
    pub fn start_microphone(&self, channels: u8) -> Result<Arc<Microphone>, AspError> {
        if !(1..=2).contains(&channels) {
            return Err(AspError::invalid("channels must be 1 or 2"));
        }
        Ok(Arc::new(Microphone { queue: self.core.start_microphone(channels)? }))
    }

    /// Where the server's copies go.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`] when a clipboard is already attached (by this call or
    /// [`copy`](Self::copy)), [`AspError::Ended`] once stopped.
    pub fn set_clipboard_sink(&self, sink: Arc<dyn ClipboardSink>) -> Result<(), AspError> {
        let mut slot = self.clipboard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_some() {
            return Err(AspError::invalid("the clipboard is already attached: set its sink before the first copy"));
        }
        *slot = Some(self.core.attach_clipboard(Box::new(move |c| sink.on_clipboard(c.into())))?);
        Ok(())
    }

    /// Sends a copy to the server (which may refuse it by its policy: see the figures).
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped.
    pub fn copy(&self, data: ClipboardData) -> Result<(), AspError> {
        let mut slot = self.clipboard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(self.core.attach_clipboard(Box::new(|_| {}))?);
        }
        if let Some(outgoing) = slot.as_ref() {
            crate::media::push_copy(outgoing, data.into());
        }
        Ok(())
    }

    /// Closes the session; returns the final figures. Later calls return them again.
    ///
    /// # Errors
    /// [`AspError::WrongThread`] from a callback.
    pub fn stop(&self) -> Result<ClientStats, AspError> {
        self.core.stop().map(Into::into)
    }
}

/// A server: listens for clients and streams each its own pipeline.
#[derive(Debug, uniffi::Object)]
pub struct Server {
    core: ServerCore,
}

#[uniffi::export]
impl Server {
    /// Starts listening.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`], [`AspError::Server`].
    #[uniffi::constructor]
    pub fn start(config: ServerConfig) -> Result<Arc<Self>, AspError> {
        Ok(Arc::new(Self { core: ServerCore::start(&config)? }))
    }

    /// The port it listens on, UDP and TCP.
    pub fn port(&self) -> u16 {
        self.core.port()
    }

    /// The certificate fingerprint clients pin, 64 hex digits.
    pub fn fingerprint(&self) -> String {
        self.core.fingerprint().into()
    }

    /// A token admitting a client called `name` for `valid_seconds`.
    ///
    /// # Errors
    /// [`AspError::Ended`] after `stop`.
    pub fn issue_token(&self, name: String, valid_seconds: u64) -> Result<String, AspError> {
        self.core.issue_token(&name, Duration::from_secs(valid_seconds))
    }

    /// The figures so far.
    pub fn stats(&self) -> ServerStats {
        self.core.stats().into()
    }

    /// The next event, waiting up to `timeout_ms`; none when none came.
    ///
    /// # Errors
    /// [`AspError::WrongThread`] from a callback.
    pub fn next_event(&self, timeout_ms: u64) -> Result<Option<ServerEvent>, AspError> {
        self.core.next_event(Duration::from_millis(timeout_ms))
    }

    /// Stops accepting, ends every session; returns the final figures.
    ///
    /// # Errors
    /// [`AspError::WrongThread`] from a callback.
    pub fn stop(&self) -> Result<ServerStats, AspError> {
        self.core.stop().map(Into::into)
    }
}

/// The SDK's version.
#[uniffi::export]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}
