//! The CLIPBOARD selection of an X display ([`X11Clipboard`]): an event thread, a worker thread
//! that holds the state ([`read`]: another client's copy; [`serve`]: ours), and the pure
//! rules of the targets ([`format`](mod@format)).

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::Event;
use x11rb::protocol::xfixes::{ConnectionExt as _, SelectionEventMask};
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, Property, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use super::{X11Error, request_error};
use crate::clipboard::{Clipboard, ClipboardContent, ClipboardError};

mod format;
mod read;
mod serve;

use format::Target;
use read::Reader;
use serve::{Answer, Owner};

/// The most read copies kept for [`poll`](Clipboard::poll); older ones are dropped (and
/// counted in [`X11ClipboardStats::copies_dropped`]).
const MAX_QUEUED: usize = 8;

/// The most bytes written in one property when serving: what one request can carry on a
/// server without BIG-REQUESTS (65 535 four-byte units, less the request header). Larger
/// content goes by INCR in chunks of this size.
const MAX_PROPERTY_BYTES: usize = 65_535 * 4 - 24;

/// How long `set` waits for the X server (not for a peer).
const SERVER_TIMEOUT: Duration = Duration::from_secs(2);

/// The most atoms read from an owner's `TARGETS` or a requestor's `MULTIPLE` list.
const MAX_ATOM_LIST: u32 = 1024;

x11rb::atom_manager! {
    /// The atoms the clipboard uses.
    Atoms: AtomsCookie {
        CLIPBOARD,
        TARGETS,
        MULTIPLE,
        TIMESTAMP,
        INCR,
        ATOM_PAIR,
        UTF8_STRING,
        TEXT,
        TEXT_PLAIN_UTF8: b"text/plain;charset=utf-8",
        IMAGE_PNG: b"image/png",
        URI_LIST: b"text/uri-list",
        // Where conversions are received; two, alternating, so that a late write for an
        // abandoned read never lands in the next one.
        RECEIVE_A: b"_ASP_CLIPBOARD_A",
        RECEIVE_B: b"_ASP_CLIPBOARD_B",
        // Zero-length appends to it give a server timestamp.
        STAMP: b"_ASP_CLIPBOARD_TIMESTAMP",
        // Sent to ourselves to wake the event thread when closing.
        WAKE: b"_ASP_CLIPBOARD_WAKE",
    }
}

/// How an [`X11Clipboard`] reads and waits.
#[derive(Debug, Clone)]
pub struct X11ClipboardOptions {
    max_size: usize,
    peer_timeout: Duration,
}

impl Default for X11ClipboardOptions {
    fn default() -> Self {
        Self { max_size: 16 << 20, peer_timeout: Duration::from_secs(2) }
    }
}

impl X11ClipboardOptions {
    /// The defaults: copies up to 16 MiB are read, peers get 2 s to answer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads copies up to `bytes` (as carried: UTF-8 or Latin-1 text, the PNG file, the
    /// `text/uri-list`); larger ones are dropped and counted as
    /// [`ClipboardTransferError::TooLarge`]. Kept within 1 KiB ..= 1 GiB.
    #[must_use]
    pub fn max_size(mut self, bytes: usize) -> Self {
        self.max_size = bytes.clamp(1 << 10, 1 << 30);
        self
    }

    /// How long another client may take for each step of a transfer (an answer to a
    /// conversion, each INCR chunk either way) before the transfer is dropped. Kept within
    /// 10 ms ..= 60 s.
    #[must_use]
    pub fn peer_timeout(mut self, timeout: Duration) -> Self {
        self.peer_timeout = timeout.clamp(Duration::from_millis(10), Duration::from_secs(60));
        self
    }
}

/// Why one copy could not be read or served; the clipboard itself goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClipboardTransferError {
    /// The owner of CLIPBOARD did not answer a conversion, or stopped sending INCR chunks.
    #[error("the owner of CLIPBOARD did not answer within {waited:?}")]
    Timeout {
        /// How long it was waited for.
        waited: Duration,
    },
    /// A copy larger than the size limit.
    #[error("a copy of at least {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Its size as far as known (INCR announces a lower bound).
        size: u64,
        /// The limit.
        limit: usize,
    },
    /// The owner offers no target this clipboard reads.
    #[error("the copy offers no text, image/png or text/uri-list")]
    Unsupported,
    /// The owner refused every target it offered.
    #[error("the owner of CLIPBOARD refused every target it offered")]
    Refused,
    /// What the owner sent cannot be what it claims to be.
    #[error("malformed copy: {0}")]
    Malformed(String),
    /// A requestor stopped reading an INCR transfer of what this clipboard serves.
    #[error("window {requestor:#x} stopped reading an INCR transfer for {waited:?}")]
    Stalled {
        /// The requestor's window.
        requestor: u32,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The X server refused a request of the transfer.
    #[error("X11 request failed: {0}")]
    Request(String),
}

/// Counters of an [`X11Clipboard`], from its opening.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct X11ClipboardStats {
    /// Copies by other clients read and queued for [`poll`](Clipboard::poll).
    pub copies_read: u64,
    /// Of those, the copies that came by INCR.
    pub incr_reads: u64,
    /// Copies by other clients that could not be read.
    pub copies_failed: u64,
    /// Copies read but dropped unpolled (more than 8 waiting).
    pub copies_dropped: u64,
    /// Requests for what this clipboard set that were answered with data (an INCR transfer
    /// counts once, when it starts).
    pub requests_served: u64,
    /// Of those, the ones answered by INCR.
    pub incr_sends: u64,
    /// Requests refused: a target not served, a request timed before the ownership, or none
    /// held.
    pub requests_refused: u64,
    /// INCR transfers dropped because the requestor stopped reading.
    pub sends_failed: u64,
    /// The latest failure, of a read or a send.
    pub last_failure: Option<ClipboardTransferError>,
}

/// The CLIPBOARD selection of one X display, as a [`Clipboard`], through x11rb on a
/// connection of its own.
///
/// [`open`](Self::open) makes a hidden (never mapped) 1x1 input-only window and two threads: one
/// waits for the connection's events, the other owns the selection state and answers them.
/// [`poll`](Clipboard::poll) and [`set`](Clipboard::set) only talk to that thread, so neither
/// ever waits on another client; `set` waits for the X server alone (at most 2 s).
///
/// **Reading.** XFixes tells when another client takes CLIPBOARD. The clipboard then asks the
/// owner for `TARGETS` and converts the best of `image/png` ([`ClipboardContent::Png`]),
/// `text/uri-list` ([`ClipboardContent::Files`]: one URI a line, `#` comments and empty lines
/// skipped), `UTF8_STRING`, `text/plain;charset=utf-8` and Latin-1 `STRING`
/// ([`ClipboardContent::Text`]), falling back to the next one the owner offered if it refuses;
/// an owner that does not answer `TARGETS` is asked for `UTF8_STRING` and then `STRING`. Data
/// comes in one property or by INCR, up to the size limit of [`X11ClipboardOptions::max_size`]
/// (16 MiB unless set): a larger copy is dropped as soon as its size shows, before it is read.
/// Read copies wait for `poll`, the newest 8 of them. What was on the clipboard before `open` is
/// not reported, and neither is anything this clipboard `set` itself (its own ownership is
/// recognised by its window); a read still under way when `set` takes CLIPBOARD is dropped.
///
/// **Serving.** `set` takes ownership with a timestamp from the server (a zero-length property
/// append, as ICCCM asks; never `CurrentTime`) and answers `TARGETS`, `TIMESTAMP`, `MULTIPLE`
/// and the content's targets: text as `UTF8_STRING`, `STRING` (Latin-1, `?` for what Latin-1
/// lacks), `TEXT` (as `UTF8_STRING`) and `text/plain;charset=utf-8`; a PNG as `image/png`;
/// files as `text/uri-list` (CR LF after each URI). Anything else, and requests timed before the
/// ownership, are refused. Content of any size is served: up to 262 116 bytes (what one request
/// carries without BIG-REQUESTS; less where the server takes smaller requests) in one property,
/// larger by INCR in chunks of that size (INCR's size field is 32-bit: past 4 GiB it only says
/// "at least"). Within `MULTIPLE`, only what fits one property is converted; larger pairs are
/// refused (`None`) one by one.
///
/// **Peers.** Every wait on another client is bounded by [`X11ClipboardOptions::peer_timeout`]
/// (2 s unless set): an owner that stops answering, a requestor that stops reading an INCR
/// transfer. Such failures never reach `poll` (the clipboard goes on working); they are counted
/// in [`stats`](Self::stats), with the last one kept. `poll` and `set` fail only when the
/// connection to the X server is gone.
///
/// ```no_run
/// use asp::clipboard::{Clipboard, ClipboardContent};
///
/// let mut clipboard = asp::x11::X11Clipboard::open(None)?; // $DISPLAY
/// clipboard.set(ClipboardContent::Text("from the peer".into()))?;
/// if let Some(copy) = clipboard.poll()? {
///     println!("copied here: {} bytes of {:?}", copy.len(), copy.format());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct X11Clipboard {
    input: Sender<Input>,
    shared: Arc<Mutex<Shared>>,
    worker: Option<JoinHandle<()>>,
    pump: Option<JoinHandle<()>>,
}

impl X11Clipboard {
    /// Opens the CLIPBOARD of `display` (`None`: `$DISPLAY`) with the default options.
    ///
    /// # Errors
    /// [`X11Error::Connect`], [`X11Error::MissingExtension`] without XFixes, or
    /// [`X11Error::Request`] when the window or the threads cannot be made.
    pub fn open(display: Option<&str>) -> Result<Self, X11Error> {
        Self::open_with(display, &X11ClipboardOptions::new())
    }

    /// Like [`open`](Self::open), with options.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(display: Option<&str>, options: &X11ClipboardOptions) -> Result<Self, X11Error> {
        let (conn, screen) = x11rb::connect(display).map_err(|e| X11Error::Connect(e.to_string()))?;
        if conn.extension_information(x11rb::protocol::xfixes::X11_EXTENSION_NAME).map_err(request_error)?.is_none() {
            return Err(X11Error::MissingExtension("XFIXES"));
        }
        // XFixes must be told which version the client speaks before any other request.
        conn.xfixes_query_version(5, 0).map_err(request_error)?.reply().map_err(request_error)?;
        let atoms = Atoms::new(&conn).map_err(request_error)?.reply().map_err(request_error)?;
        let root = conn.setup().roots.get(screen).ok_or_else(|| X11Error::Request(format!("no screen {screen}")))?.root;
        let window = conn.generate_id().map_err(request_error)?;
        let aux = CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        conn.create_window(0, window, root, -1, -1, 1, 1, 0, WindowClass::INPUT_ONLY, 0, &aux)
            .map_err(request_error)?
            .check()
            .map_err(request_error)?;
        conn.change_property8(PropMode::REPLACE, window, AtomEnum::WM_NAME, AtomEnum::STRING, b"asp clipboard")
            .map_err(request_error)?;
        conn.xfixes_select_selection_input(window, atoms.CLIPBOARD, SelectionEventMask::SET_SELECTION_OWNER)
            .map_err(request_error)?
            .check()
            .map_err(request_error)?;
        let chunk = property_chunk(conn.maximum_request_bytes());
        let conn = Arc::new(conn);
        let cx = Ctx {
            conn: Arc::clone(&conn),
            atoms,
            window,
            max_size: options.max_size,
            peer_timeout: options.peer_timeout,
            chunk,
        };
        let (input, inputs) = mpsc::channel();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let worker = Worker { cx, reader: Reader::new(), owner: Owner::new(), shared: Arc::clone(&shared) };
        let events = input.clone();
        let pump = std::thread::Builder::new()
            .name("asp-x11-clipboard-events".into())
            .spawn(move || pump(&conn, &events))
            .map_err(request_error)?;
        let worker = std::thread::Builder::new()
            .name("asp-x11-clipboard".into())
            .spawn(move || worker.run(inputs))
            .map_err(request_error)?;
        Ok(Self { input, shared, worker: Some(worker), pump: Some(pump) })
    }

    /// What was read and served so far, and the latest failure.
    #[must_use]
    pub fn stats(&self) -> X11ClipboardStats {
        self.lock().stats.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why the clipboard stopped, as an error.
    fn broken(&self) -> X11Error {
        X11Error::Request(self.lock().broken.clone().unwrap_or_else(|| "the clipboard thread has stopped".into()))
    }

    fn take(&self) -> Result<Option<ClipboardContent>, X11Error> {
        let mut shared = self.lock();
        match (shared.copies.pop_front(), &shared.broken) {
            (Some(copy), _) => Ok(Some(copy)),
            (None, None) => Ok(None),
            (None, Some(why)) => Err(X11Error::Request(why.clone())),
        }
    }

    fn put(&self, content: ClipboardContent) -> Result<(), X11Error> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.input.send(Input::Set(content, reply)).map_err(|_| self.broken())?;
        // The worker gives up on the server after SERVER_TIMEOUT; this wait covers that.
        match answer.recv_timeout(SERVER_TIMEOUT + Duration::from_millis(500)) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                Err(X11Error::Request(format!("taking CLIPBOARD took over {SERVER_TIMEOUT:?}")))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.broken()),
        }
    }
}

impl Clipboard for X11Clipboard {
    fn poll(&mut self) -> Result<Option<ClipboardContent>, ClipboardError> {
        self.take().map_err(|e| ClipboardError(e.to_string()))
    }

    fn set(&mut self, content: ClipboardContent) -> Result<(), ClipboardError> {
        self.put(content).map_err(|e| ClipboardError(e.to_string()))
    }
}

impl Drop for X11Clipboard {
    fn drop(&mut self) {
        let _ = self.input.send(Input::Shutdown);
        // The worker wakes the event thread as it leaves, so both end.
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        if let Some(pump) = self.pump.take() {
            let _ = pump.join();
        }
    }
}

/// The bytes one property write may carry on a server taking requests of up to
/// `max_request_bytes`: [`MAX_PROPERTY_BYTES`] or less, a multiple of 4.
fn property_chunk(max_request_bytes: usize) -> usize {
    (max_request_bytes.min(MAX_PROPERTY_BYTES + 24).saturating_sub(24) & !3).max(4)
}

/// What the worker thread is told.
enum Input {
    /// An event (or an error) from the X server.
    Event(Event),
    /// The connection failed.
    Broken(String),
    /// Take CLIPBOARD with this content, and say how it went.
    Set(ClipboardContent, SyncSender<Result<(), X11Error>>),
    /// The clipboard is being dropped.
    Shutdown,
}

/// What the worker hands to [`X11Clipboard`].
#[derive(Debug, Default)]
struct Shared {
    copies: VecDeque<ClipboardContent>,
    stats: X11ClipboardStats,
    /// Why the connection is gone.
    broken: Option<String>,
}

/// The connection and what every step needs.
struct Ctx {
    conn: Arc<RustConnection>,
    atoms: Atoms,
    window: Window,
    max_size: usize,
    peer_timeout: Duration,
    /// The most bytes written in one property.
    chunk: usize,
}

impl Ctx {
    /// The atom naming `target`.
    fn atom(&self, target: Target) -> u32 {
        let a = &self.atoms;
        match target {
            Target::Png => a.IMAGE_PNG,
            Target::UriList => a.URI_LIST,
            Target::Utf8String => a.UTF8_STRING,
            Target::TextPlainUtf8 => a.TEXT_PLAIN_UTF8,
            Target::Latin1String => AtomEnum::STRING.into(),
            Target::Text => a.TEXT,
        }
    }

    /// The target `atom` names, if it is one of ours.
    fn target(&self, atom: u32) -> Option<Target> {
        [Target::Png, Target::UriList, Target::Utf8String, Target::TextPlainUtf8, Target::Latin1String, Target::Text]
            .into_iter()
            .find(|&t| self.atom(t) == atom)
    }
}

/// The connection to the X server is gone (or broke a rule of its own): the clipboard stops.
#[derive(Debug)]
struct Broken(String);

impl From<ConnectionError> for Broken {
    fn from(e: ConnectionError) -> Self {
        Self(e.to_string())
    }
}

/// How a step of a transfer failed: that transfer alone, or the whole connection.
#[derive(Debug)]
enum Failure {
    Transfer(ClipboardTransferError),
    Broken(Broken),
}

impl From<ClipboardTransferError> for Failure {
    fn from(e: ClipboardTransferError) -> Self {
        Self::Transfer(e)
    }
}

impl From<Broken> for Failure {
    fn from(e: Broken) -> Self {
        Self::Broken(e)
    }
}

impl From<ConnectionError> for Failure {
    fn from(e: ConnectionError) -> Self {
        Self::Broken(e.into())
    }
}

impl From<ReplyError> for Failure {
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::ConnectionError(e) => e.into(),
            ReplyError::X11Error(e) => Self::Transfer(ClipboardTransferError::Request(format!(
                "{:?} (request {}.{})",
                e.error_kind, e.major_opcode, e.minor_opcode
            ))),
        }
    }
}

/// The event thread: hands every event to the worker until the worker is gone or the
/// connection fails.
fn pump(conn: &RustConnection, worker: &Sender<Input>) {
    loop {
        let input = match conn.wait_for_event() {
            Ok(event) => Input::Event(event),
            Err(e) => Input::Broken(e.to_string()),
        };
        let last = matches!(input, Input::Broken(_));
        if worker.send(input).is_err() || last {
            return;
        }
    }
}

/// The worker thread: all the selection state.
struct Worker {
    cx: Ctx,
    reader: Reader,
    owner: Owner,
    shared: Arc<Mutex<Shared>>,
}

impl Worker {
    // This thread is the driver of the selection state: its deadlines are wall-clock waits on
    // other clients, so it reads the clock; the handlers take `now` from here.
    #[allow(clippy::disallowed_methods)]
    fn run(mut self, inputs: Receiver<Input>) {
        let ended = loop {
            let input = match self.deadline() {
                Some(at) => inputs.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => inputs.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let now = Instant::now();
            let step = match input {
                Ok(Input::Shutdown) | Err(RecvTimeoutError::Disconnected) => break Ok(()),
                Ok(Input::Broken(why)) => Err(Broken(why)),
                Ok(Input::Event(event)) => self.on_event(event, now),
                Ok(Input::Set(content, reply)) => self.owner.request_set(&self.cx, content, reply, now),
                Err(RecvTimeoutError::Timeout) => Ok(()),
            };
            let step = step.and_then(|()| self.expire(now)).and_then(|()| Ok(self.cx.conn.flush()?));
            if let Err(broken) = step {
                break Err(broken);
            }
        };
        if let Err(Broken(why)) = ended {
            self.lock().broken = Some(why);
        }
        // Pending `set`s see their reply channel close; the event thread sees this one close
        // on its next event, which the wake-up below makes sure there is.
        drop(self.owner);
        drop(inputs);
        let wake = ClientMessageEvent::new(32, self.cx.window, self.cx.atoms.WAKE, [0u32; 5]);
        if let Ok(cookie) = self.cx.conn.send_event(false, self.cx.window, EventMask::NO_EVENT, wake) {
            cookie.ignore_error();
        }
        let _ = self.cx.conn.flush();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next time a peer is due.
    fn deadline(&self) -> Option<Instant> {
        match (self.reader.deadline(), self.owner.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_event(&mut self, event: Event, now: Instant) -> Result<(), Broken> {
        let (cx, atoms) = (&self.cx, &self.cx.atoms);
        match event {
            Event::XfixesSelectionNotify(ev) if ev.selection == atoms.CLIPBOARD => {
                if ev.owner == cx.window || ev.owner == x11rb::NONE {
                    // Our own copy (never reported) or none: whatever was being read is stale.
                    self.reader.abandon(cx)?;
                    Ok(())
                } else {
                    let started = self.reader.start(cx, ev.timestamp, now);
                    self.read_outcome(started.map(|()| None))
                }
            }
            Event::SelectionNotify(ev) if ev.requestor == cx.window => {
                let step = self.reader.on_selection_notify(cx, &ev, now);
                self.read_outcome(step)
            }
            Event::PropertyNotify(ev) if ev.window == cx.window => {
                if ev.atom == atoms.STAMP {
                    if ev.state == Property::NEW_VALUE { self.owner.on_timestamp(cx, ev.time) } else { Ok(()) }
                } else {
                    let step = self.reader.on_property_notify(cx, &ev, now);
                    if matches!(step, Ok(Some(_))) {
                        // Only the last chunk of INCR finishes a read here.
                        self.lock().stats.incr_reads += 1;
                    }
                    self.read_outcome(step)
                }
            }
            Event::PropertyNotify(ev) => self.owner.on_requestor_property(cx, &ev, now),
            Event::SelectionRequest(ev) => {
                let answer = self.owner.on_selection_request(cx, &ev, now)?;
                let stats = &mut self.lock().stats;
                match answer {
                    Answer::Refused => stats.requests_refused += 1,
                    Answer::Served => stats.requests_served += 1,
                    Answer::Incr => {
                        stats.requests_served += 1;
                        stats.incr_sends += 1;
                    }
                }
                Ok(())
            }
            Event::SelectionClear(ev) if ev.selection == atoms.CLIPBOARD => {
                self.owner.on_selection_clear(&ev);
                Ok(())
            }
            // Errors of requests whose errors are not ignored (none to a peer's window): a
            // transfer they break times out.
            _ => Ok(()),
        }
    }

    /// Queues a finished read, or counts a failed one.
    fn read_outcome(&mut self, step: Result<Option<ClipboardContent>, Failure>) -> Result<(), Broken> {
        match step {
            Ok(None) => {}
            Ok(Some(copy)) => {
                let mut shared = self.lock();
                shared.stats.copies_read += 1;
                if shared.copies.len() == MAX_QUEUED {
                    shared.copies.pop_front();
                    shared.stats.copies_dropped += 1;
                }
                shared.copies.push_back(copy);
            }
            Err(Failure::Transfer(e)) => {
                self.reader.abandon(&self.cx)?;
                let mut shared = self.lock();
                shared.stats.copies_failed += 1;
                shared.stats.last_failure = Some(e);
            }
            Err(Failure::Broken(broken)) => return Err(broken),
        }
        Ok(())
    }

    /// Drops the transfers whose peer is overdue.
    fn expire(&mut self, now: Instant) -> Result<(), Broken> {
        if let Some(e) = self.reader.expire(&self.cx, now)? {
            let mut shared = self.lock();
            shared.stats.copies_failed += 1;
            shared.stats.last_failure = Some(e);
        }
        let stalled = self.owner.expire(&self.cx, now)?;
        if let Some(last) = stalled.last() {
            let mut shared = self.lock();
            shared.stats.sends_failed += stalled.len() as u64;
            shared.stats.last_failure = Some(last.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_chunks_fit_a_request() {
        assert_eq!(property_chunk(65_535 * 4), MAX_PROPERTY_BYTES & !3);
        assert_eq!(MAX_PROPERTY_BYTES % 4, 0);
        assert_eq!(property_chunk(16 << 20), MAX_PROPERTY_BYTES, "BIG-REQUESTS: still the classic size");
        assert_eq!(property_chunk(4096), 4096 - 24);
        assert_eq!(property_chunk(27), 4, "never zero");
    }

    #[test]
    fn options_are_kept_in_range() {
        let o = X11ClipboardOptions::new().max_size(0).peer_timeout(Duration::ZERO);
        assert_eq!((o.max_size, o.peer_timeout), (1024, Duration::from_millis(10)));
        let o = X11ClipboardOptions::new().max_size(usize::MAX).peer_timeout(Duration::MAX);
        assert_eq!((o.max_size, o.peer_timeout), (1 << 30, Duration::from_secs(60)));
        let o = X11ClipboardOptions::new();
        assert_eq!((o.max_size, o.peer_timeout), (16 << 20, Duration::from_secs(2)));
    }
}
