//! The client the bindings share: connects (QUIC, TLS/TCP or QUIC-then-TCP), runs an
//! [`asp::client::ClientSession`] on the shared runtime, and turns its life into
//! [`ClientEvent`]s. Both the C ABI and the uniffi `Client` are thin layers over this.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use asp::client::{ClientSession, ClientStats};
use asp::proto::input::InputEvent;
use asp::sink::FrameSink;
use asp_core::SessionConfig;
use asp_transport::identity::Fingerprint;
use asp_transport::select::{self, Carrier, ServerAddrs};
use asp_transport::{quic, tcp};

use crate::error::AspError;
use crate::runtime;

/// Which carrier to connect over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum CarrierChoice {
    /// QUIC, falling back to TLS over TCP when UDP is blocked.
    #[default]
    Auto,
    /// QUIC only.
    Quic,
    /// TLS over TCP only.
    Tcp,
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ClientConfig {
    /// `HOST:PORT`, or `HOST` for port 7420.
    pub address: String,
    /// The server certificate's SHA-256 fingerprint, 64 hex digits (colons allowed).
    pub fingerprint: String,
    /// The token the server issued.
    pub token: String,
    /// Which carrier.
    pub carrier: CarrierChoice,
    /// Frames that may wait for the decoder (1..=256).
    #[uniffi(default = 16)]
    pub decode_queue: u32,
}

/// What happened to a client, delivered in order on an SDK thread.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClientEvent {
    /// The session is up.
    Connected {
        /// `quic` or `tcp`.
        carrier: String,
    },
    /// The client noticed a stall (no picture while the server is active, or an input left
    /// unanswered) and reported it to the server.
    Stall {
        /// Stalls so far.
        count: u64,
    },
    /// The session ended (the server left, the network failed, or `stop` was called).
    Ended,
}

/// Receives [`ClientEvent`]s.
pub type EventHandler = Box<dyn Fn(ClientEvent) + Send + Sync>;

/// How often the watcher looks at the session for events.
const WATCH_EVERY: Duration = Duration::from_millis(50);

#[derive(Debug, Default)]
struct State {
    session: Option<ClientSession>,
    /// The figures at stop, once stopped.
    last: Option<ClientStats>,
}

/// A connected client.
#[derive(Debug)]
pub struct ClientCore {
    state: Arc<Mutex<State>>,
    carrier: Carrier,
    /// The event watcher, joined at stop so that no event follows it.
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ClientCore {
    /// Connects and starts decoding into `sink`; `events` hears the session's life.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`] for a malformed fingerprint or queue size,
    /// [`AspError::Connect`] when the server cannot be reached or refuses,
    /// [`AspError::WrongThread`] from a callback.
    pub fn connect(
        options: &ClientConfig,
        sink: Box<dyn FrameSink>,
        events: Option<EventHandler>,
    ) -> Result<Self, AspError> {
        let fingerprint = Fingerprint::parse(&options.fingerprint)
            .ok_or_else(|| AspError::invalid("fingerprint: expected 64 hex digits"))?;
        if !(1..=256).contains(&options.decode_queue) {
            return Err(AspError::invalid("decode_queue must be 1..=256"));
        }
        let addr = asp::client::resolve_server(&options.address).map_err(|reason| AspError::Connect { reason })?;
        let config = asp::client::ClientConfig { decode_queue: options.decode_queue as usize, ..Default::default() };
        let (token, carrier_choice) = (options.token.clone(), options.carrier);
        let connect = async move {
            let session = SessionConfig::default();
            let (connection, carrier) = match carrier_choice {
                CarrierChoice::Auto => {
                    select::connect(ServerAddrs { quic: addr, tcp: addr }, fingerprint, &token, session).await
                }
                CarrierChoice::Quic => {
                    quic::connect(addr, fingerprint, &token, session).await.map(|c| (c, Carrier::Quic))
                }
                CarrierChoice::Tcp => tcp::connect(addr, fingerprint, &token, session).await.map(|c| (c, Carrier::Tcp)),
            }
            .map_err(|e| AspError::Connect { reason: e.to_string() })?;
            let client = ClientSession::start(connection, sink, config, asp::clock::Clock::new())
                .await
                .map_err(|e| AspError::Connect { reason: e.to_string() })?;
            Ok::<_, AspError>((client, carrier))
        };
        let (session, carrier) = runtime::block_on("connect", connect)??;
        let state = Arc::new(Mutex::new(State { session: Some(session), last: None }));
        let watcher = match events {
            Some(events) => Some(runtime::handle()?.spawn(watch(state.clone(), carrier, events))),
            None => None,
        };
        Ok(Self { state, carrier, watcher: Mutex::new(watcher) })
    }

    /// The carrier in use.
    #[must_use]
    pub fn carrier(&self) -> Carrier {
        self.carrier
    }

    /// Sends an input event; returns its sequence number.
    ///
    /// # Errors
    /// [`AspError::Ended`] once the session is over or stopped.
    pub fn send(&self, event: InputEvent) -> Result<u64, AspError> {
        let state = lock(&self.state);
        let session = state.session.as_ref().ok_or(AspError::Ended)?;
        session.send_input(event).map_err(|_| AspError::Ended)
    }

    /// Where the server's pointer goes (see [`ClientSession::set_cursor_sink`]).
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped.
    pub fn set_cursor_sink(&self, sink: Box<dyn asp::cursor::CursorSink>) -> Result<(), AspError> {
        let state = lock(&self.state);
        let session = state.session.as_ref().ok_or(AspError::Ended)?;
        session.set_cursor_sink(sink);
        Ok(())
    }

    /// Plays the server's audio into `sink`.
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped; [`AspError::Internal`] when its thread cannot start.
    pub fn attach_audio_sink(&self, sink: Box<dyn asp::audio::AudioSink + Send>) -> Result<(), AspError> {
        let mut state = lock(&self.state);
        let session = state.session.as_mut().ok_or(AspError::Ended)?;
        session.attach_audio_sink(sink).map_err(|e| AspError::Internal { reason: e.to_string() })
    }

    /// Starts sending a microphone of `channels` (1 or 2) that the caller fills through the
    /// returned queue (48 kHz interleaved samples; silence while it is empty).
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped; [`AspError::Internal`] when its thread cannot start.
    pub fn start_microphone(&self, channels: u8) -> Result<asp::audio::QueueSource, AspError> {
        let queue = asp::audio::QueueSource::new(channels);
        let mut state = lock(&self.state);
        let session = state.session.as_mut().ok_or(AspError::Ended)?;
        session.attach_microphone(Box::new(queue.clone())).map_err(|e| AspError::Internal { reason: e.to_string() })?;
        Ok(queue)
    }

    /// Shares a clipboard with the server: copies pushed into the returned queue go out, the
    /// server's copies go to `deliver` (on an SDK thread).
    ///
    /// # Errors
    /// [`AspError::Ended`] once stopped; [`AspError::Internal`] when its thread cannot start.
    pub fn attach_clipboard(
        &self,
        deliver: Box<dyn FnMut(asp::clipboard::ClipboardContent) + Send>,
    ) -> Result<crate::media::Outgoing, AspError> {
        let outgoing = crate::media::Outgoing::default();
        let clipboard = crate::media::AppClipboard { outgoing: outgoing.clone(), deliver };
        let mut state = lock(&self.state);
        let session = state.session.as_mut().ok_or(AspError::Ended)?;
        session.attach_clipboard(Box::new(clipboard)).map_err(|e| AspError::Internal { reason: e.to_string() })?;
        Ok(outgoing)
    }

    /// The figures so far (the final ones after [`stop`](Self::stop)).
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        let state = lock(&self.state);
        match &state.session {
            Some(s) => s.stats(),
            None => state.last.clone().unwrap_or_default(),
        }
    }

    /// Whether the session has ended.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        lock(&self.state).session.as_ref().is_none_or(ClientSession::is_finished)
    }

    /// Closes the session and waits for the decoder to finish and the last event (`Ended`) to
    /// be delivered: no callback runs after it returns. Later calls return the same figures.
    ///
    /// # Errors
    /// [`AspError::WrongThread`] from a callback (the decoder would wait for itself).
    pub fn stop(&self) -> Result<ClientStats, AspError> {
        runtime::ensure_may_block("stop")?;
        let session = lock(&self.state).session.take();
        if let Some(session) = session {
            let stats = runtime::block_on("stop", session.stop())?;
            lock(&self.state).last = Some(stats);
        }
        let watcher = self.watcher.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(watcher) = watcher {
            let _ = runtime::block_on("stop", watcher)?;
        }
        Ok(self.stats())
    }
}

impl Drop for ClientCore {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Turns the session's life into events until it ends or is stopped.
async fn watch(state: Arc<Mutex<State>>, carrier: Carrier, events: EventHandler) {
    let emit = |e| runtime::in_callback(|| events(e));
    emit(ClientEvent::Connected { carrier: carrier.name().into() });
    let mut stalls = 0;
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let (ended, now) = {
            let s = lock(&state);
            match &s.session {
                Some(session) => (session.is_finished(), session.stalls()),
                None => (true, stalls),
            }
        };
        if now > stalls {
            stalls = now;
            emit(ClientEvent::Stall { count: now });
        }
        if ended {
            emit(ClientEvent::Ended);
            return;
        }
    }
}
