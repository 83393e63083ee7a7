//! The server's pipeline for one connected client:
//!
//! ```text
//! capture thread ──(one-slot mailbox: newest wins)──> encode thread ──(bounded)──> session task
//!   FrameSource                                 damage, scene, skip gate,      display channel
//!                                               convert, encode                 events: input,
//! input thread <──────────────────────────────────────────────────────────────  rate, keyframe
//!   InputInjector                                                                 requests, stalls
//! ```
//!
//! Capture and encoding run on their own threads, never on the async runtime. When the
//! encoder falls behind, the capture thread's newest picture replaces the one waiting, so
//! latency never builds up in a queue. The rate controller's target (`Event::TargetRate`)
//! becomes the encoder's bitrate at the next frame; keyframe requests take effect at the next
//! frame; stall reports from the client become [`StallAlarm`]s and are counted.

mod capture;
pub mod cursor;
mod encode;
mod session;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use asp_codec::scene::SceneClass;
use asp_codec::{Preset, VideoCodec};
use asp_core::wire::control::StallReport;
use asp_transport::Connection;
use tokio::sync::mpsc;

use crate::clipboard::link::ClipboardLink;
use crate::clipboard::pump::ClipboardPump;
use crate::clock::Clock;
use crate::mailbox::Mailbox;
use crate::source::{FrameSource, InputInjector};

/// How the server encodes and paces.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Video codec.
    pub codec: VideoCodec,
    /// Encoder speed preset.
    pub preset: Preset,
    /// Capture rate, frames per second (1..=240). Unchanged frames are not encoded once the
    /// picture is sharp, so a high rate costs little on a quiet screen.
    pub frame_rate: u32,
    /// Encoder bitrate before the rate controller's first estimate, bits per second.
    pub start_bitrate_bps: u32,
    /// Highest encoder bitrate, whatever the rate controller allows.
    pub max_bitrate_bps: u32,
    /// Encode office content as 4:4:4 (the client must decode it).
    pub yuv444: bool,
    /// Use this scene class instead of classifying the content.
    pub scene: Option<SceneClass>,
    /// How long a display frame may take to reach the client before it is dropped whole.
    pub display_deadline: Duration,
    /// Encoder threads (0: one less than the cores, at most 4).
    pub encoder_threads: u32,
    /// What the clipboard lets through, enforced here whatever the client claims.
    pub clipboard: crate::clipboard::ClipboardPolicy,
    /// Which redirected USB devices are taken, judged here by their interface classes.
    pub usb: crate::usb::link::UsbPolicy,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            codec: VideoCodec::H264,
            preset: Preset::Veryfast,
            frame_rate: 60,
            start_bitrate_bps: 10_000_000,
            max_bitrate_bps: 20_000_000,
            yuv444: false,
            scene: None,
            display_deadline: Duration::from_millis(200),
            encoder_threads: 0,
            clipboard: crate::clipboard::ClipboardPolicy::default(),
            usb: crate::usb::link::UsbPolicy::default(),
        }
    }
}

/// Why a server pipeline could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A configuration value out of range.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The session ended before the pipeline started.
    #[error("the session ended")]
    Ended,
    /// The engine refused to open the display channel.
    #[error("could not open the display channel: {0}")]
    Open(#[from] asp_core::OpenError),
}

/// A stall the client reported, as the server logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallAlarm {
    /// When it arrived, µs on the server's clock.
    pub at_us: u64,
    /// The client's report.
    pub report: StallReport,
}

/// Counters of a server pipeline, as a snapshot.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ServerStats {
    /// Pictures captured.
    pub frames_captured: u64,
    /// Pictures replaced in the mailbox before the encoder took them (encoder behind).
    pub frames_dropped_behind: u64,
    /// Pictures not encoded because nothing changed and the picture was sharp.
    pub frames_skipped: u64,
    /// Pictures encoded and sent.
    pub frames_encoded: u64,
    /// Of which keyframes.
    pub keyframes: u64,
    /// Bytes of encoded video sent (headers included).
    pub video_bytes: u64,
    /// Keyframe requests received.
    pub keyframe_requests: u64,
    /// Mean encode time (conversion included), µs.
    pub encode_us_mean: f64,
    /// The encoder's bitrate now.
    pub encoder_bitrate_bps: u32,
    /// The scene class now.
    pub scene: Option<&'static str>,
    /// The encoder's name (`libx264`, ...).
    pub encoder: Option<String>,
    /// Input events applied.
    pub input_events: u64,
    /// Input messages that did not decode (counted, dropped).
    pub input_bad_messages: u64,
    /// Input events the injector refused.
    pub input_inject_errors: u64,
    /// Stall reports received.
    pub stalls: u64,
    /// Id of the newest frame encoded and sent.
    pub last_frame_id: u64,
    /// The source has no more pictures (a file's end).
    pub source_ended: bool,
    /// Encoder or capture failures (the pipeline stops after one).
    pub pipeline_errors: Vec<String>,
    /// Cursor shapes sent (each shape once while the client keeps it).
    pub cursor_shapes_sent: u64,
    /// Cursor positions, visibility or shape changes sent.
    pub cursor_states_sent: u64,
    /// Why the source's pointer is not followed, when it has one that cannot be.
    pub cursor_unavailable: Option<String>,
    /// The clipboard channel's counters (copies each way, refusals by the policy).
    pub clipboard: crate::clipboard::ClipboardStats,
    /// Why the local clipboard is not (or no longer) watched.
    pub clipboard_unavailable: Option<String>,
    /// The desktop's audio sent and the client's microphone played.
    pub audio: crate::audio::AudioStats,
    /// The USB channel.
    pub usb: crate::usb::link::UsbStats,
    /// The window channel: events sent, the client's requests carried out or refused.
    pub windows: crate::windows::WindowStats,
}

/// Wakes the capture thread when an input event has been applied.
#[derive(Debug, Default)]
pub(crate) struct Bell {
    rung: Mutex<bool>,
    ring: std::sync::Condvar,
}

impl Bell {
    pub(crate) fn ring(&self) {
        *self.rung.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.ring.notify_one();
    }

    /// Waits until `at_us` on `clock` or a ring, whichever is first; true when rung.
    pub(crate) fn wait_until(&self, clock: &Clock, at_us: u64) -> bool {
        let mut rung = self.rung.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *rung {
                *rung = false;
                return true;
            }
            let now = clock.now_us();
            if now >= at_us {
                return false;
            }
            rung = self
                .ring
                .wait_timeout(rung, Duration::from_micros(at_us - now))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// What the pipeline threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    pub(crate) stop: AtomicBool,
    pub(crate) keyframe: AtomicBool,
    pub(crate) target_bps: AtomicU64,
    pub(crate) stats: Mutex<ServerStats>,
    pub(crate) input_bell: Bell,
    /// The audio threads' state: the desktop's audio sent, the client's microphone played.
    pub(crate) audio: Arc<crate::audio::stream::AudioShared>,
    /// The window worker's state and figures.
    pub(crate) windows: crate::windows::WindowShared,
}

impl Shared {
    pub(crate) fn stats(&self) -> std::sync::MutexGuard<'_, ServerStats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// A picture on its way from the capture thread to the encoder.
#[derive(Debug)]
pub(crate) struct RawFrame {
    pub(crate) id: u64,
    pub(crate) capture_us: u64,
    pub(crate) captured: crate::source::Captured,
}

/// A running server pipeline for one client.
#[derive(Debug)]
pub struct ServerSession {
    shared: Arc<Shared>,
    alarms: mpsc::UnboundedReceiver<StallAlarm>,
    threads: Vec<std::thread::JoinHandle<()>>,
    task: tokio::task::JoinHandle<()>,
    clipboard_events: mpsc::Sender<crate::clipboard::pump::LocalEvent>,
    audio_tx: mpsc::Sender<bytes::Bytes>,
    windows_tx: mpsc::Sender<bytes::Bytes>,
    usb_slot: crate::usb::link::UsbSlot,
}

impl ServerSession {
    /// Starts streaming `source` over `connection`, applying the client's input with
    /// `injector`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`ServerError`] when the configuration is out of range or the display channel cannot
    /// be opened.
    pub async fn start(
        connection: Connection,
        mut source: Box<dyn FrameSource>,
        injector: Option<Box<dyn InputInjector>>,
        config: ServerConfig,
        clock: Clock,
    ) -> Result<Self, ServerError> {
        let check = |ok: bool, what: &str| if ok { Ok(()) } else { Err(ServerError::Config(what.to_owned())) };
        check((1..=240).contains(&config.frame_rate), "frame_rate must be 1..=240")?;
        check(config.start_bitrate_bps >= 50_000, "start_bitrate_bps must be at least 50 000")?;
        check(config.max_bitrate_bps >= config.start_bitrate_bps, "max_bitrate_bps below start_bitrate_bps")?;
        let (w, h) = source.size();
        check(w % 2 == 0 && h % 2 == 0 && w >= 16 && h >= 16, "source size must be even and at least 16x16")?;
        let display = connection
            .open_channel(asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Display))
            .await
            .map_err(|_| ServerError::Ended)??;
        let shared = Arc::new(Shared {
            clock,
            stop: AtomicBool::new(false),
            keyframe: AtomicBool::new(false),
            target_bps: AtomicU64::new(u64::from(config.start_bitrate_bps)),
            stats: Mutex::new(ServerStats::default()),
            input_bell: Bell::default(),
            audio: Arc::default(),
            windows: crate::windows::WindowShared::default(),
        });
        // The pointer, when the source has one: a reliable channel for shapes, a latest-wins
        // one for where it is.
        let (cursor, cursor_unavailable) = match source.cursor() {
            Ok(cursor) => (cursor, None),
            Err(e) => (None, Some(e.to_string())),
        };
        shared.stats().cursor_unavailable = cursor_unavailable;
        let cursor = match cursor {
            Some(cursor) => {
                let kind = asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Cursor);
                let shapes = asp_core::ChannelConfig { mode: asp_core::DeliveryMode::ReliableOrdered, ..kind };
                let shapes = connection.open_channel(shapes).await.map_err(|_| ServerError::Ended)??;
                let states = connection.open_channel(kind).await.map_err(|_| ServerError::Ended)??;
                Some((cursor, shapes, states))
            }
            None => None,
        };
        let (clipboard, clipboard_events) =
            ClipboardPump::open(&connection, ClipboardLink::server(config.clipboard.clone()))
                .await
                .map_err(|_| ServerError::Ended)?;
        let local_clipboard = match source.clipboard() {
            Ok(local) => local,
            Err(e) => {
                shared.stats().clipboard_unavailable = Some(e.to_string());
                None
            }
        };
        let playback = connection
            .open_channel(asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Audio))
            .await
            .map_err(|_| ServerError::Ended)??;
        let (audio_tx, audio_out) = mpsc::channel(16);
        let windows = connection
            .open_channel(asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Window))
            .await
            .map_err(|_| ServerError::Ended)??;
        let (windows_tx, windows_out) = mpsc::channel(64);
        let (usb, usb_slot) = crate::usb::link::UsbPump::open(&connection, Some(config.usb.clone()))
            .await
            .map_err(|_| ServerError::Ended)?;
        let mailbox = Arc::new(Mailbox::new());
        let (encoded_tx, encoded_rx) = mpsc::channel(8);
        let (alarm_tx, alarms) = mpsc::unbounded_channel();
        let (input_tx, input_rx) = std::sync::mpsc::channel();
        let mut threads = Vec::new();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new().name(name.to_owned()).spawn(f).map_err(|e| ServerError::Config(e.to_string()))
        };
        if let Some(local) = local_clipboard {
            let events = clipboard_events.clone();
            threads.push(spawn("asp-clipboard", Box::new(move || crate::clipboard::pump::worker(local, &events)))?);
        }
        {
            let (shared, mailbox, rate) = (shared.clone(), mailbox.clone(), config.frame_rate);
            threads.push(spawn("asp-capture", Box::new(move || capture::run(source, &mailbox, &shared, rate)))?);
        }
        {
            let (shared, config) = (shared.clone(), config.clone());
            threads.push(spawn("asp-encode", Box::new(move || encode::run(&mailbox, &encoded_tx, &shared, &config)))?);
        }
        if let Some(injector) = injector {
            let shared = shared.clone();
            threads.push(spawn("asp-input", Box::new(move || session::inject_loop(injector, &input_rx, &shared)))?);
        }
        let (cursor_tx, cursor_rx) = mpsc::channel(16);
        let cursor_channels = match cursor {
            Some((cursor, shapes, states)) => {
                let shared = shared.clone();
                threads.push(spawn("asp-cursor", Box::new(move || cursor::run(cursor, &cursor_tx, &shared)))?);
                Some(session::CursorChannels { shapes, states, messages: cursor_rx })
            }
            None => None,
        };
        let task = tokio::spawn(session::run(
            connection,
            session::Outputs {
                display,
                cursor: cursor_channels,
                clipboard,
                playback,
                audio_out,
                windows,
                windows_out,
                usb,
            },
            encoded_rx,
            input_tx,
            alarm_tx,
            shared.clone(),
            config.display_deadline,
        ));
        Ok(ServerSession { shared, alarms, threads, task, clipboard_events, audio_tx, windows_tx, usb_slot })
    }

    /// Shares `clipboard` with the client (within [`ServerConfig::clipboard`]), instead of or
    /// besides the source's own: copies made on it go to the client, the client's copies are
    /// set on it. Its worker thread ends with the session.
    ///
    /// # Errors
    /// [`ServerError::Config`] when the thread cannot start.
    pub fn attach_clipboard(&mut self, clipboard: Box<dyn crate::clipboard::Clipboard>) -> Result<(), ServerError> {
        let events = self.clipboard_events.clone();
        let worker = std::thread::Builder::new()
            .name("asp-clipboard".into())
            .spawn(move || crate::clipboard::pump::worker(clipboard, &events))
            .map_err(|e| ServerError::Config(e.to_string()))?;
        self.threads.push(worker);
        Ok(())
    }

    /// Sends the desktop's audio from `source` to the client: 20 ms frames of Opus, paced in
    /// real time on a thread of its own, stamped on this side's clock (the client converts).
    ///
    /// # Errors
    /// [`ServerError::Config`] when the thread cannot start.
    pub fn attach_audio_source(
        &mut self,
        source: Box<dyn crate::audio::AudioSource + Send>,
    ) -> Result<(), ServerError> {
        let (out, shared) = (self.audio_tx.clone(), self.shared.audio.clone());
        let own_clock: crate::audio::stream::Offset = Box::new(|| Some(0));
        let mode = crate::audio::OpusMode::LowDelay;
        let sender = crate::audio::stream::spawn_sender(source, mode, out, self.shared.clock, own_clock, shared)
            .map_err(|e| ServerError::Config(e.to_string()))?;
        self.threads.push(sender);
        Ok(())
    }

    /// Plays the client's microphone into `sink` (its packets come stamped on this side's
    /// clock, so latency is measured here).
    ///
    /// # Errors
    /// [`ServerError::Config`] when the thread cannot start.
    pub fn attach_audio_sink(&mut self, sink: Box<dyn crate::audio::AudioSink + Send>) -> Result<(), ServerError> {
        let own_clock: crate::audio::stream::Offset = Box::new(|| Some(0));
        let player = crate::audio::stream::spawn_player(sink, self.shared.clock, own_clock, self.shared.audio.clone())
            .map_err(|e| ServerError::Config(e.to_string()))?;
        self.threads.push(player);
        Ok(())
    }

    /// Follows the remote application's windows with `source` (on X11,
    /// [`X11Windows`](crate::x11::X11Windows)) and tells the client what they do on the window
    /// channel; the client's requests are handed to `source`. Its worker thread ends with the
    /// session. Figures in [`ServerStats::windows`].
    ///
    /// # Errors
    /// [`ServerError::Config`] when the thread cannot start.
    pub fn attach_windows(&mut self, source: Box<dyn crate::windows::WindowSource>) -> Result<(), ServerError> {
        let (shared, out) = (self.shared.clone(), self.windows_tx.clone());
        let worker = std::thread::Builder::new()
            .name("asp-windows".into())
            .spawn(move || crate::windows::serve(source, &out, &shared.windows, &shared.stop))
            .map_err(|e| ServerError::Config(e.to_string()))?;
        self.threads.push(worker);
        Ok(())
    }

    /// Uses the client's redirected USB device through `guest` (a
    /// [`Guest`](crate::usb::guest::Guest), whose class drivers the application drives while
    /// the session carries its byte stream on the USB channel).
    pub fn attach_usb(&self, guest: crate::usb::link::SharedEndpoint) {
        self.usb_slot.attach(guest);
    }

    /// A snapshot of the counters.
    #[must_use]
    pub fn stats(&self) -> ServerStats {
        let mut stats = self.shared.stats().clone();
        stats.audio = self.shared.audio.stats().clone();
        stats.windows = self.shared.windows.stats();
        stats
    }

    /// The next stall alarm; `None` once the session has ended.
    pub async fn next_alarm(&mut self) -> Option<StallAlarm> {
        self.alarms.recv().await
    }

    /// A stall alarm if one is waiting.
    pub fn try_alarm(&mut self) -> Option<StallAlarm> {
        self.alarms.try_recv().ok()
    }

    /// Whether the session has ended (client gone, or a pipeline failure).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the pipeline, closes the session and waits for the threads.
    pub async fn stop(mut self) -> ServerStats {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.audio.stop.store(true, Ordering::Relaxed);
        let _ = (&mut self.task).await;
        for t in self.threads.drain(..) {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        self.stats()
    }
}

impl Drop for ServerSession {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.audio.stop.store(true, Ordering::Relaxed);
    }
}
