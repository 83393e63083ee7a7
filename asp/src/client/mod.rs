//! The client's pipeline:
//!
//! ```text
//! session task ──(bounded queue)──> decode thread ──> FrameSink
//!   display messages, drops,          decoder, latency,
//!   clock echoes, input out           stall detector
//! ```
//!
//! The jitter policy favours latency: a picture is handed to the sink the moment it is
//! decoded, with no playout buffer. When the decoder falls behind and its queue is full, the
//! arriving frame is discarded, a keyframe is requested and decoding resumes at that keyframe
//! (a P-frame without its reference would show garbage).

mod cursor;
mod decode;
mod session;

pub use cursor::CursorStats;

/// The cursor receiver, for the fuzz harness (`asp::fuzzing`).
pub(crate) mod cursor_fuzzing {
    use std::sync::Mutex;

    use super::cursor::{CursorOutput, CursorReceiver};

    /// A receiver with no channel and no sink.
    #[derive(Debug, Default)]
    pub(crate) struct Receiver {
        receiver: CursorReceiver,
        output: Mutex<CursorOutput>,
    }

    impl Receiver {
        pub(crate) fn new() -> Self {
            Self::default()
        }

        pub(crate) fn feed(&mut self, message: &[u8]) {
            self.receiver.on_message(message, &self.output);
        }

        pub(crate) fn shapes_held(&self) -> usize {
            self.receiver.shapes_held()
        }
    }
}

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use asp_transport::Connection;
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::clock_sync::ClockSync;
use crate::metrics::{LatencyHistogram, LatencySummary};
use crate::proto::input::InputEvent;
use crate::sink::FrameSink;
use crate::stall::StallDetector;

/// `HOST:PORT`, or `HOST` alone for [`DEFAULT_PORT`](crate::host::DEFAULT_PORT), resolved to
/// its first address.
///
/// # Errors
/// A message naming the server when it does not resolve.
pub fn resolve_server(server: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let with_port = if server.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        server.to_owned()
    } else {
        format!("{server}:{}", crate::host::DEFAULT_PORT)
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("{server}: {e}"))?
        .next()
        .ok_or_else(|| format!("{server}: no address"))
}

/// How the client runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Frames that may wait for the decoder before arrivals are discarded (1..=256).
    pub decode_queue: usize,
    /// Largest clipboard copy taken from the server, bytes.
    pub clipboard_max_bytes: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { decode_queue: 16, clipboard_max_bytes: crate::clipboard::link::DEFAULT_MAX_BYTES }
    }
}

/// Why the client could not start or act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A configuration value out of range.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The session has ended.
    #[error("the session has ended")]
    Ended,
    /// The engine refused to open the input channel.
    #[error("could not open the input channel: {0}")]
    Open(#[from] asp_core::OpenError),
}

/// Counters and latency figures of a client, as a snapshot.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ClientStats {
    /// Display messages received whole.
    pub frames_received: u64,
    /// Pictures decoded and handed to the sink.
    pub frames_shown: u64,
    /// Display frames the engine dropped because they could not arrive before their deadline.
    pub frames_late: u64,
    /// Display frames the engine dropped for other reasons (lost, superseded, queue full).
    pub frames_dropped: u64,
    /// Frames discarded because the decoder was behind or waiting for a keyframe.
    pub frames_discarded: u64,
    /// Display messages whose header did not parse.
    pub bad_frames: u64,
    /// Decoder failures.
    pub decode_errors: u64,
    /// Keyframe requests this client sent (the engine sends more on its own after losses).
    pub keyframe_requests: u64,
    /// Display bytes received.
    pub video_bytes: u64,
    /// Display bytes received from the end of the warm-up on (see [`WARM_UP_US`]).
    pub video_bytes_after_warm_up: u64,
    /// When the warm-up ends, seconds on the client's clock (0 before the first picture).
    pub warm_up_end_s: f64,
    /// When this snapshot was taken, seconds on the client's clock.
    pub at_s: f64,
    /// Mean decode time, µs.
    pub decode_us_mean: f64,
    /// Capture to decoded, ms.
    pub glass_to_glass: LatencySummary,
    /// The same, for pictures ready at least [`WARM_UP_US`] after the first one: without the
    /// start, when the first keyframe and its refinement burst share the link.
    pub glass_to_glass_after_warm_up: LatencySummary,
    /// Input sent to first picture showing it, ms.
    pub click_to_photon: LatencySummary,
    /// Input events sent.
    pub inputs_sent: u64,
    /// Stalls noticed and reported.
    pub stalls: u64,
    /// Server clock minus client clock, µs, and the estimate's error bound.
    pub clock_offset_us: Option<(i64, u64)>,
    /// Newest frame id shown.
    pub last_frame_id: u64,
    /// Scene class of the newest frame (office, video, 3d).
    pub scene: String,
    /// Codec and chroma of the newest frame (`h264 4:2:0`).
    pub codec: String,
    /// Round-trip time, ms.
    pub rtt_ms: f64,
    /// The session's receive rate estimate, kbit/s.
    pub receive_kbps: f64,
    /// Loss rate the session measured.
    pub loss: f64,
    /// Bytes the client's session sent (input, feedback, control), all packets.
    pub session_bytes_sent: u64,
    /// Bytes the client's session received, all packets.
    pub session_bytes_received: u64,
    /// The cursor channels.
    pub cursor: CursorStats,
    /// The clipboard channels (copies each way, the server's refusals).
    pub clipboard: crate::clipboard::ClipboardStats,
    /// Why the local clipboard is not (or no longer) watched.
    pub clipboard_unavailable: Option<String>,
    /// The server's audio played here and the microphone sent.
    pub audio: crate::audio::AudioStats,
    /// The USB channel.
    pub usb: crate::usb::link::UsbStats,
    /// The window channel: the server's events applied to [`ClientSession::windows`] or
    /// refused, and the requests sent.
    pub windows: crate::windows::WindowStats,
}

/// State shared by the session task and the decode thread.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) stats: ClientStats,
    pub(crate) glass_to_glass: LatencyHistogram,
    pub(crate) glass_to_glass_after_warm_up: LatencyHistogram,
    pub(crate) first_ready_us: Option<u64>,
    pub(crate) click_to_photon: LatencyHistogram,
    pub(crate) stall: StallDetector,
    pub(crate) clock_sync: ClockSync,
    /// Inputs sent and not yet seen answered: (seq, sent µs).
    pub(crate) pending_inputs: std::collections::VecDeque<(u64, u64)>,
    pub(crate) decode_us_total: u64,
    /// What the decoder is doing, for stall reports.
    pub(crate) decoder_state: String,
    /// The decoder skips frames until a keyframe arrives (after a decoder error, or a frame
    /// discarded before decoding).
    pub(crate) waiting_for_keyframe: bool,
}

/// How long after the first picture the warm-up lasts (see
/// [`ClientStats::glass_to_glass_after_warm_up`]).
pub const WARM_UP_US: u64 = 1_000_000;

/// Inputs remembered for click-to-photon while unanswered.
pub(crate) const MAX_PENDING_INPUTS: usize = 4096;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    pub(crate) inner: Mutex<Inner>,
    /// Apart from `inner`: a cursor sink runs under this lock, and must not hold up the
    /// decoder.
    pub(crate) cursor: Mutex<cursor::CursorOutput>,
    /// The audio threads' state: the server's audio played here, the microphone sent.
    pub(crate) audio: Arc<crate::audio::stream::AudioShared>,
    /// The remote windows, as the server's window channel describes them.
    pub(crate) windows: crate::windows::WindowShared,
}

impl Shared {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
pub(crate) enum Command {
    Input(crate::proto::input::InputMessage),
    /// An encoded window request.
    Window(bytes::Bytes),
    Close,
}

/// A running client.
#[derive(Debug)]
pub struct ClientSession {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    clipboard_events: mpsc::Sender<crate::clipboard::pump::LocalEvent>,
    clipboard_worker: Option<std::thread::JoinHandle<()>>,
    audio_tx: mpsc::Sender<bytes::Bytes>,
    audio_threads: Vec<std::thread::JoinHandle<()>>,
    usb_slot: crate::usb::link::UsbSlot,
    next_seq: AtomicU64,
    task: tokio::task::JoinHandle<()>,
    decoder: Option<std::thread::JoinHandle<()>>,
}

impl ClientSession {
    /// Starts receiving on `connection`, handing pictures to `sink`. Must be called inside a
    /// tokio runtime, before anything else takes the connection's events.
    ///
    /// # Errors
    /// [`ClientError`] when the configuration is out of range or the input channel cannot
    /// be opened.
    pub async fn start(
        connection: Connection,
        sink: Box<dyn FrameSink>,
        config: ClientConfig,
        clock: Clock,
    ) -> Result<Self, ClientError> {
        if !(1..=256).contains(&config.decode_queue) {
            return Err(ClientError::Config("decode_queue must be 1..=256".into()));
        }
        let input = connection
            .open_channel(asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Input))
            .await
            .map_err(|_| ClientError::Ended)??;
        let shared = Arc::new(Shared {
            clock,
            inner: Mutex::new(Inner {
                stats: ClientStats::default(),
                glass_to_glass: LatencyHistogram::new(),
                glass_to_glass_after_warm_up: LatencyHistogram::new(),
                first_ready_us: None,
                click_to_photon: LatencyHistogram::new(),
                stall: StallDetector::new(),
                clock_sync: ClockSync::new(),
                pending_inputs: std::collections::VecDeque::new(),
                decode_us_total: 0,
                decoder_state: "waiting for the first frame".into(),
                waiting_for_keyframe: false,
            }),
            cursor: Mutex::new(cursor::CursorOutput::default()),
            audio: Arc::default(),
            windows: crate::windows::WindowShared::default(),
        });
        let (frames_tx, frames_rx) = std::sync::mpsc::sync_channel(config.decode_queue);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let decoder = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("asp-decode".into())
                .spawn(move || decode::run(&frames_rx, sink, &shared, &control_tx))
                .map_err(|e| ClientError::Config(e.to_string()))?
        };
        let link = crate::clipboard::link::ClipboardLink::client(config.clipboard_max_bytes);
        let (clipboard, clipboard_events) =
            crate::clipboard::pump::ClipboardPump::open(&connection, link).await.map_err(|_| ClientError::Ended)?;
        let microphone = connection
            .open_channel(asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Audio))
            .await
            .map_err(|_| ClientError::Ended)??;
        let (audio_tx, audio_out) = mpsc::channel(16);
        let window_requests = connection
            .open_channel(asp_core::ChannelConfig::for_kind(asp_core::ChannelKind::Window))
            .await
            .map_err(|_| ClientError::Ended)??;
        let (usb, usb_slot) =
            crate::usb::link::UsbPump::open(&connection, None).await.map_err(|_| ClientError::Ended)?;
        let channels = session::Channels { clipboard, microphone, audio_out, window_requests, usb };
        let task =
            tokio::spawn(session::run(connection, input, frames_tx, control_rx, commands_rx, channels, shared.clone()));
        Ok(ClientSession {
            shared,
            commands,
            clipboard_events,
            clipboard_worker: None,
            audio_tx,
            audio_threads: Vec::new(),
            usb_slot,
            next_seq: AtomicU64::new(1),
            task,
            decoder: Some(decoder),
        })
    }

    /// Sends an input event; returns its sequence number.
    ///
    /// # Errors
    /// [`ClientError::Ended`] once the session is over.
    pub fn send_input(&self, event: InputEvent) -> Result<u64, ClientError> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let now = self.shared.clock.now_us();
        {
            let mut inner = self.shared.lock();
            inner.stall.on_input_sent(seq, now);
            if inner.pending_inputs.len() == MAX_PENDING_INPUTS {
                inner.pending_inputs.pop_front();
            }
            inner.pending_inputs.push_back((seq, now));
            inner.stats.inputs_sent += 1;
        }
        let message = crate::proto::input::InputMessage { seq, event };
        self.commands.send(Command::Input(message)).map_err(|_| ClientError::Ended)?;
        Ok(seq)
    }

    /// A snapshot of the counters and latency summaries.
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        let inner = self.shared.lock();
        let mut stats = inner.stats.clone();
        stats.glass_to_glass = inner.glass_to_glass.summary();
        stats.glass_to_glass_after_warm_up = inner.glass_to_glass_after_warm_up.summary();
        stats.click_to_photon = inner.click_to_photon.summary();
        stats.stalls = inner.stall.stalls();
        stats.clock_offset_us = inner.clock_sync.offset();
        stats.at_s = self.shared.clock.now_us() as f64 / 1e6;
        stats.warm_up_end_s = inner.first_ready_us.map_or(0.0, |f| (f + WARM_UP_US) as f64 / 1e6);
        drop(inner);
        stats.cursor = cursor::lock(&self.shared.cursor).stats;
        stats.audio = self.shared.audio.stats().clone();
        stats.windows = self.shared.windows.stats();
        stats
    }

    /// The remote application's windows as the server has described them so far: each
    /// window, the stacking order and the focus.
    #[must_use]
    pub fn windows(&self) -> crate::proto::window::WindowModel {
        self.shared.windows.model()
    }

    /// Asks the server to move, resize, raise, focus, minimise or close one of its windows.
    /// The server carries it out or refuses it ([`ClientStats::windows`] counts both there);
    /// what happens comes back as window events.
    ///
    /// # Errors
    /// [`ClientError::Config`] for a message that is not a request or does not encode;
    /// [`ClientError::Ended`] once the session is over.
    pub fn request_window(&self, request: &crate::proto::window::WindowMessage) -> Result<(), ClientError> {
        if request.direction() != crate::proto::window::Direction::ClientToServer {
            return Err(ClientError::Config("a window event is not a request".into()));
        }
        let bytes = request.encode().map_err(|e| ClientError::Config(e.to_string()))?;
        self.commands.send(Command::Window(bytes.into())).map_err(|_| ClientError::Ended)?;
        self.shared.windows.note_request();
        Ok(())
    }

    /// Shares `clipboard` with the server: copies made on it go to the server (which may refuse
    /// them by its policy: see [`ClientStats::clipboard`]), the server's copies are set on it.
    /// Replaces a clipboard attached before.
    ///
    /// # Errors
    /// [`ClientError::Config`] when its worker thread cannot start.
    pub fn attach_clipboard(&mut self, clipboard: Box<dyn crate::clipboard::Clipboard>) -> Result<(), ClientError> {
        let events = self.clipboard_events.clone();
        let worker = std::thread::Builder::new()
            .name("asp-clipboard".into())
            .spawn(move || crate::clipboard::pump::worker(clipboard, &events))
            .map_err(|e| ClientError::Config(e.to_string()))?;
        self.clipboard_worker = Some(worker);
        Ok(())
    }

    /// Plays the server's audio into `sink`: packets through an adaptive jitter buffer, lost
    /// frames concealed, one 20 ms frame at a time on a thread of its own. Figures in
    /// [`ClientStats::audio`].
    ///
    /// # Errors
    /// [`ClientError::Config`] when the thread cannot start.
    pub fn attach_audio_sink(&mut self, sink: Box<dyn crate::audio::AudioSink + Send>) -> Result<(), ClientError> {
        let player = crate::audio::stream::spawn_player(
            sink,
            self.shared.clock,
            self.server_offset(),
            self.shared.audio.clone(),
        )
        .map_err(|e| ClientError::Config(e.to_string()))?;
        self.audio_threads.push(player);
        Ok(())
    }

    /// Sends `microphone` to the server, 20 ms frames of Opus, stamped on the server's clock
    /// (nothing is sent until the clocks are matched, within the first tenth of a second).
    ///
    /// # Errors
    /// [`ClientError::Config`] when the thread cannot start.
    pub fn attach_microphone(
        &mut self,
        microphone: Box<dyn crate::audio::AudioSource + Send>,
    ) -> Result<(), ClientError> {
        let mode = crate::audio::OpusMode::Voice;
        let (out, offset, shared) = (self.audio_tx.clone(), self.server_offset(), self.shared.audio.clone());
        let sender = crate::audio::stream::spawn_sender(microphone, mode, out, self.shared.clock, offset, shared)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        self.audio_threads.push(sender);
        Ok(())
    }

    /// The server's clock minus this side's, once the clocks are matched: what the audio
    /// threads stamp and read capture times with.
    fn server_offset(&self) -> crate::audio::stream::Offset {
        let shared = self.shared.clone();
        Box::new(move || shared.lock().clock_sync.offset().map(|(offset, _)| offset))
    }

    /// Redirects a USB device to the server: `device` (a [`DeviceHost`](crate::usb::device::DeviceHost)
    /// around a software device, say) plays the usbredir host; the session carries its byte
    /// stream on the USB channel. Replaces a device attached before.
    pub fn attach_usb(&self, device: crate::usb::link::SharedEndpoint) {
        self.usb_slot.attach(device);
    }

    /// Where the server's pointer goes: `sink` gets every change of position, visibility or
    /// shape (the newest one at once, if any arrived before). Without a sink the client still
    /// follows the pointer, for its figures.
    pub fn set_cursor_sink(&self, sink: Box<dyn crate::cursor::CursorSink>) {
        cursor::lock(&self.shared.cursor).set_sink(sink);
    }

    /// Stalls noticed so far (without the rest of [`stats`](Self::stats), which summarises
    /// every histogram).
    #[must_use]
    pub fn stalls(&self) -> u64 {
        self.shared.lock().stall.stalls()
    }

    /// The latency histograms: glass-to-glass and click-to-photon (for CDF plots).
    #[must_use]
    pub fn histograms(&self) -> (LatencyHistogram, LatencyHistogram) {
        let inner = self.shared.lock();
        (inner.glass_to_glass.clone(), inner.click_to_photon.clone())
    }

    /// Whether the session has ended.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Closes the session and waits for the decoder to drain.
    pub async fn stop(mut self) -> ClientStats {
        let _ = self.commands.send(Command::Close);
        let _ = (&mut self.task).await;
        if let Some(d) = self.decoder.take() {
            let _ = tokio::task::spawn_blocking(move || d.join()).await;
        }
        self.shared.audio.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.audio_threads.drain(..) {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        self.stats()
    }
}
