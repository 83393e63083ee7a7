//! Window management inside a session (docs/PROTOCOL.md §11.3): the server follows the
//! remote application's windows through a [`WindowSource`] (on X11,
//! [`X11Windows`](crate::x11::X11Windows)) and sends what they do on its window channel; the
//! client keeps them in a [`WindowModel`] and sends its user's requests (move, resize, raise,
//! focus, state, close) back on its own window channel, which the server hands to the source.
//! This module owns the server's worker thread, the client's side of the model, and the
//! figures of both.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::proto::window::{Direction, WindowMessage, WindowModel};

/// How often the server's worker asks its source what changed.
const POLL: Duration = Duration::from_millis(20);

/// Where the server's window events come from, and where the client's requests go.
pub trait WindowSource: Send {
    /// Events that bring a client that knows nothing up to date (every window created, then
    /// the stacking order and the focus).
    fn snapshot(&mut self) -> Vec<WindowMessage>;

    /// What changed since the last call, in order; never blocks for long.
    ///
    /// # Errors
    /// A message when the source is gone for good (the display closed).
    fn poll(&mut self) -> Result<Vec<WindowMessage>, String>;

    /// Carries out one of the client's requests.
    ///
    /// # Errors
    /// Why it was refused (an unknown window, a window that cannot be closed, ...).
    fn apply(&mut self, request: &WindowMessage) -> Result<(), String>;
}

#[cfg(all(feature = "x11", target_os = "linux"))]
impl WindowSource for crate::x11::X11Windows {
    fn snapshot(&mut self) -> Vec<WindowMessage> {
        crate::x11::X11Windows::snapshot(self)
    }

    fn poll(&mut self) -> Result<Vec<WindowMessage>, String> {
        crate::x11::X11Windows::poll(self).map_err(|e| e.to_string())
    }

    fn apply(&mut self, request: &WindowMessage) -> Result<(), String> {
        crate::x11::X11Windows::apply(self, request).map_err(|e| e.to_string())
    }
}

/// Figures of a session's window channel, either side.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WindowStats {
    /// Window events sent (server) or applied to the model (client).
    pub events: u64,
    /// Messages refused: undecodable, the wrong direction, or events the client's model
    /// would not take (an unknown window, a stacking order that is not a permutation).
    pub refused: u64,
    /// Requests sent (client) or received (server).
    pub requests: u64,
    /// Requests the server's source carried out.
    pub requests_applied: u64,
    /// Requests the server's source refused.
    pub requests_refused: u64,
    /// The last refusal, in words.
    pub last_refusal: Option<String>,
    /// Why the server stopped following windows, if it did.
    pub error: Option<String>,
}

/// What a session shares with its window worker (server) or keeps of the remote windows
/// (client).
#[derive(Debug, Default)]
pub(crate) struct WindowShared {
    inner: Mutex<WindowInner>,
    /// Where the server's session task puts the client's requests, once a source is attached.
    requests: Mutex<Option<std_mpsc::Sender<Bytes>>>,
}

#[derive(Debug, Default)]
struct WindowInner {
    stats: WindowStats,
    model: WindowModel,
}

impl WindowShared {
    fn lock(&self) -> MutexGuard<'_, WindowInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The figures now.
    pub(crate) fn stats(&self) -> WindowStats {
        self.lock().stats.clone()
    }

    /// The client's picture of the remote windows now.
    pub(crate) fn model(&self) -> WindowModel {
        self.lock().model.clone()
    }

    /// Server: a request from the client, for the worker, if one is attached.
    pub(crate) fn deliver_request(&self, message: Bytes) {
        let sent = self.requests.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|tx| tx.send(message));
        let mut inner = self.lock();
        inner.stats.requests += 1;
        if !matches!(sent, Some(Ok(()))) {
            inner.stats.requests_refused += 1;
            inner.stats.last_refusal = Some("the server follows no windows".into());
        }
    }

    /// Client: an event from the server, applied to the model or refused.
    pub(crate) fn on_event(&self, data: &[u8]) {
        let mut inner = self.lock();
        let applied = WindowMessage::decode(data, Direction::ServerToClient)
            .map_err(|e| e.to_string())
            .and_then(|event| inner.model.apply(&event).map_err(|e| e.to_string()));
        match applied {
            Ok(()) => inner.stats.events += 1,
            Err(why) => {
                inner.stats.refused += 1;
                inner.stats.last_refusal = Some(why);
            }
        }
    }

    /// Client: a request about to be sent.
    pub(crate) fn note_request(&self) {
        self.lock().stats.requests += 1;
    }
}

/// The server's window worker: sends the source's snapshot, then, every [`POLL`], carries out
/// the client's requests and sends what changed, until `stop` is set, the session task is gone
/// or the source fails.
pub(crate) fn serve(
    mut source: Box<dyn WindowSource>,
    out: &mpsc::Sender<Bytes>,
    shared: &WindowShared,
    stop: &AtomicBool,
) {
    let (tx, requests) = std_mpsc::channel();
    *shared.requests.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    let send = |events: Vec<WindowMessage>| -> bool {
        for event in events {
            match event.encode() {
                Ok(bytes) => {
                    if out.blocking_send(Bytes::from(bytes)).is_err() {
                        return false;
                    }
                    shared.lock().stats.events += 1;
                }
                // The source made an event the protocol cannot carry: a bug there, counted.
                Err(e) => {
                    let mut inner = shared.lock();
                    inner.stats.refused += 1;
                    inner.stats.last_refusal = Some(e.to_string());
                }
            }
        }
        true
    };
    if !send(source.snapshot()) {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match requests.recv_timeout(POLL) {
            Ok(message) => {
                let applied = WindowMessage::decode(&message, Direction::ClientToServer)
                    .map_err(|e| e.to_string())
                    .and_then(|request| source.apply(&request));
                let mut inner = shared.lock();
                match applied {
                    Ok(()) => inner.stats.requests_applied += 1,
                    Err(why) => {
                        inner.stats.requests_refused += 1;
                        inner.stats.last_refusal = Some(why);
                    }
                }
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        }
        match source.poll() {
            Ok(events) => {
                if !send(events) {
                    return;
                }
            }
            Err(e) => {
                shared.lock().stats.error = Some(e);
                return;
            }
        }
    }
}
