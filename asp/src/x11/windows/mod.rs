//! [`X11Windows`]: the server side of the window channel ([`crate::proto::window`]) on a real X
//! display. It owns a connection of its own, follows the display's top-level windows (the
//! root's mapped children) and turns what they do into [`WindowMessage`] events; it applies
//! the client's window requests to the display.
//!
//! The rules and limits are on [`X11Windows`].

use std::collections::{HashMap, HashSet};

use x11rb::connection::Connection;
use x11rb::errors::ReplyError;
use x11rb::protocol::Event;
mod properties;

use x11rb::protocol::xproto::{
    Atom, AtomEnum, ChangeWindowAttributesAux, ClientMessageEvent, ConfigureWindowAux, ConnectionExt as _, EventMask,
    InputFocus, MapState, StackMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::{CURRENT_TIME, NONE};

use super::{X11Error, request_error};
use crate::proto::window::{
    MAX_SIDE, MAX_WINDOWS, Rect, WindowId, WindowInfo, WindowMessage, WindowModel, WindowState,
};
use properties::classify;

/// The most X events handled by one [`X11Windows::poll`]; the rest wait for the next.
const MAX_EVENTS_PER_POLL: usize = 4096;
/// How deep to look for the focus window's top-level ancestor.
const MAX_TREE_DEPTH: usize = 64;
/// The most atoms read from a window-type, state or protocols list.
const MAX_ATOMS: u32 = 64;
/// `WM_STATE`'s iconic state (ICCCM §4.1.3.1).
const ICONIC_STATE: u32 = 3;
/// `_NET_WM_STATE` actions (EWMH).
const NET_WM_STATE_REMOVE: u32 = 0;
const NET_WM_STATE_ADD: u32 = 1;
/// `_NET_WM_STATE`'s source indication: a request on behalf of the user.
const SOURCE_USER: u32 = 2;

x11rb::atom_manager! {
    /// The atoms the tracker reads and sends.
    Atoms: AtomsCookie {
        UTF8_STRING,
        WM_STATE,
        WM_PROTOCOLS,
        WM_DELETE_WINDOW,
        WM_CHANGE_STATE,
        _NET_WM_NAME,
        _NET_WM_WINDOW_TYPE,
        _NET_WM_WINDOW_TYPE_NORMAL,
        _NET_WM_WINDOW_TYPE_DIALOG,
        _NET_WM_WINDOW_TYPE_MENU,
        _NET_WM_WINDOW_TYPE_DROPDOWN_MENU,
        _NET_WM_WINDOW_TYPE_POPUP_MENU,
        _NET_WM_WINDOW_TYPE_COMBO,
        _NET_WM_WINDOW_TYPE_DND,
        _NET_WM_WINDOW_TYPE_TOOLTIP,
        _NET_WM_WINDOW_TYPE_NOTIFICATION,
        _NET_WM_STATE,
        _NET_WM_STATE_HIDDEN,
        _NET_WM_STATE_MAXIMIZED_VERT,
        _NET_WM_STATE_MAXIMIZED_HORZ,
        _NET_WM_STATE_FULLSCREEN,
    }
}

/// Why a client's window request was not applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowRequestError {
    /// The request names a window that is not tracked (never was, or closed since).
    #[error("no window {0}")]
    Unknown(WindowId),
    /// The message is an event (server to client), not a request.
    #[error("a window event is not a request")]
    NotARequest,
    /// A size outside 1..=[`MAX_SIDE`].
    #[error("requested {0} out of range")]
    OutOfRange(&'static str),
    /// A close request for a window that does not take `WM_DELETE_WINDOW`.
    #[error("window {0} does not take WM_DELETE_WINDOW")]
    CannotClose(WindowId),
    /// The X server refused the request, or the connection broke.
    #[error(transparent)]
    X11(#[from] X11Error),
}

/// What an [`X11Windows`] did so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct X11WindowsStats {
    /// Events given out by [`X11Windows::poll`] (snapshots not counted).
    pub events_emitted: u64,
    /// Client requests sent to the X server.
    pub requests_applied: u64,
    /// Client requests refused: an unknown window, an event, a size out of range, a close
    /// the window does not take, an error from the X server.
    pub requests_refused: u64,
    /// Windows mapped while [`MAX_WINDOWS`] were tracked, and so not followed.
    pub windows_ignored: u64,
}

/// One tracked window's X side.
#[derive(Debug, Clone, Copy)]
struct Tracked {
    /// The root's child: the window itself, or a window manager's frame around it.
    frame: Window,
    /// The application's window (the frame itself without a reparenting window manager).
    client: Window,
    /// False while it is unmapped but kept, because it is minimised.
    mapped: bool,
}

/// The top-level windows of one X display (the root's mapped children), as window-channel
/// events, on a connection of its own.
///
/// # What is followed
///
/// It selects `SubstructureNotify` on the root window and `PropertyChange` on each window it
/// tracks, and reads the X input focus on every [`poll`](Self::poll):
///
/// - a mapped child of the root becomes `Created` (kind from `_NET_WM_WINDOW_TYPE`,
///   override-redirect and `WM_TRANSIENT_FOR`; parent from `WM_TRANSIENT_FOR` when that window
///   is tracked; title from `_NET_WM_NAME`, else `WM_NAME`, cut to
///   [`MAX_TITLE_LEN`](crate::proto::window::MAX_TITLE_LEN) bytes);
/// - `ConfigureNotify` becomes `Moved` / `Resized` when the position / size changed (sides
///   clamped to 1..=[`MAX_SIDE`]; as `ConfigureWindow` takes them, the position is the outer
///   corner and the size leaves out the X border, 0 for most windows);
/// - the stacking order of the tracked windows, read with `QueryTree` after any event that may
///   change it, becomes `Restacked` when it differs from the order the client was last told;
/// - the input focus, mapped to the top-level window holding it (with `PointerRoot` focus,
///   the top-level window under the pointer), becomes `Focused` when it changes;
/// - `WM_NAME` / `_NET_WM_NAME` changes become `Retitled`; `WM_STATE` (iconic) and
///   `_NET_WM_STATE` (hidden, maximised, full screen) changes become `StateChanged`;
/// - an unmapped, destroyed or reparented-away window becomes `Closed`, unless a window
///   manager iconified it (its `WM_STATE` says iconic when the unmap is handled), when it
///   stays as minimised. A window manager that sets `WM_STATE` only after unmapping makes an
///   iconified window close, and come back with a new id when it is restored.
///
/// Every event is checked against a [`WindowModel`] kept inside the tracker before it is
/// given out, so a client model fed [`snapshot`](Self::snapshot) and then every
/// [`poll`](Self::poll) in order accepts all of them and ends equal to
/// [`model`](Self::model).
///
/// # Limits
///
/// - Only the default screen's root window is followed.
/// - With a reparenting window manager the tracked window is its frame (the root's child):
///   the rectangle is the frame's, decorations included, while the title, kind and state are
///   read from the client window inside it (the frame's descendant carrying `WM_STATE`, at
///   most 3 levels down). Requests go to the client window, so the window manager decides
///   what becomes of them. With no window manager (Xvfb) frame and client are one window.
/// - A window's kind and parent are read once, when it is mapped; later changes of
///   `_NET_WM_WINDOW_TYPE` or `WM_TRANSIENT_FOR` are not followed (the channel has no event
///   for them). Windows found at [`open`](Self::open) are taken bottom to top, so a
///   dialog stacked below its parent gets parent 0.
/// - When a window closes, the protocol closes its children with it; those still mapped are
///   announced again at once, with new ids and parent 0.
/// - At most [`MAX_WINDOWS`] windows are tracked; a window mapped beyond that is ignored
///   (counted in [`X11WindowsStats::windows_ignored`]) until it is mapped again.
/// - Minimise, maximise and full-screen requests are ICCCM / EWMH messages to the window
///   manager; with none (Xvfb) they change nothing. A close request sends `WM_DELETE_WINDOW`
///   and is refused for a window that does not take it: the fallback, `KillClient`, would
///   end the whole application and every window it has, more than the user asked for.
///
/// # Driving it
///
/// Hand a client that joins [`snapshot`](Self::snapshot), then every batch of
/// [`poll`](Self::poll) (call it often: it never blocks); pass the client's requests to
/// [`apply`](Self::apply).
///
/// ```no_run
/// use asp::proto::window::WindowModel;
/// use asp::x11::X11Windows;
///
/// let mut windows = X11Windows::open(None)?; // $DISPLAY
/// let mut client = WindowModel::new();
/// for event in windows.snapshot().iter().chain(&windows.poll()?) {
///     client.apply(event)?;
/// }
/// assert_eq!(&client, windows.model());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct X11Windows {
    conn: RustConnection,
    root: Window,
    atoms: Atoms,
    tracked: HashMap<WindowId, Tracked>,
    by_frame: HashMap<Window, WindowId>,
    by_client: HashMap<Window, WindowId>,
    /// What the client has been told.
    model: WindowModel,
    next_id: WindowId,
    /// An event may have changed the stacking order.
    stack_dirty: bool,
    /// The last focus window and its top-level ancestor.
    focus_cache: Option<(Window, Option<Window>)>,
    stats: X11WindowsStats,
}

/// A reply, `None` when the X server refused the request (the window went away meanwhile),
/// an error when the connection broke.
fn maybe<R>(result: Result<R, ReplyError>) -> Result<Option<R>, X11Error> {
    match result {
        Ok(reply) => Ok(Some(reply)),
        Err(ReplyError::X11Error(_)) => Ok(None),
        Err(e) => Err(request_error(e)),
    }
}

/// A window side as the channel allows it.
fn side(pixels: u16) -> u32 {
    u32::from(pixels).clamp(1, MAX_SIDE)
}

/// A requested position as X can carry it (16 bits).
fn coordinate(value: i32) -> i32 {
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX))
}

impl X11Windows {
    /// Follows the top-level windows of `display` (`None`: `$DISPLAY`); those mapped now are
    /// tracked at once (see [`snapshot`](Self::snapshot)).
    ///
    /// # Errors
    /// [`X11Error::Connect`] without a display, [`X11Error::Request`] when setting up fails.
    pub fn open(display: Option<&str>) -> Result<Self, X11Error> {
        let (conn, screen_num) = x11rb::connect(display).map_err(|e| X11Error::Connect(e.to_string()))?;
        let root = conn
            .setup()
            .roots
            .get(screen_num)
            .ok_or_else(|| X11Error::Connect(format!("the display has no screen {screen_num}")))?
            .root;
        let atoms = Atoms::new(&conn).map_err(request_error)?.reply().map_err(request_error)?;
        // Select before listing, so that no window mapped in between is missed (one mapped
        // twice over is taken once).
        let aux = ChangeWindowAttributesAux::new().event_mask(EventMask::SUBSTRUCTURE_NOTIFY);
        conn.change_window_attributes(root, &aux).map_err(request_error)?.check().map_err(request_error)?;
        let mut windows = Self {
            conn,
            root,
            atoms,
            tracked: HashMap::new(),
            by_frame: HashMap::new(),
            by_client: HashMap::new(),
            model: WindowModel::new(),
            next_id: 1,
            stack_dirty: true,
            focus_cache: None,
            stats: X11WindowsStats::default(),
        };
        let tree = windows.conn.query_tree(root).map_err(request_error)?.reply().map_err(request_error)?;
        // What is there now goes to clients in snapshots, not in a first poll.
        let mut ignored = Vec::new();
        for child in tree.children {
            windows.track(child, &mut ignored)?;
        }
        windows.restack(&mut ignored)?;
        windows.refocus(&mut ignored)?;
        Ok(windows)
    }

    /// What the client has been told: the windows, their stacking order and the focus, as of
    /// the last [`poll`](Self::poll).
    #[must_use]
    pub fn model(&self) -> &WindowModel {
        &self.model
    }

    /// The X window standing for `id`: the root's child (a window manager's frame, where
    /// there is one).
    #[must_use]
    pub fn x_window(&self, id: WindowId) -> Option<u32> {
        self.tracked.get(&id).map(|t| t.frame)
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> X11WindowsStats {
        self.stats.clone()
    }

    /// The events that bring an empty [`WindowModel`] to [`model`](Self::model), for a client
    /// that joins late: `Created` for every window (parents first), `StateChanged` for those
    /// not in the normal state, `Restacked` and `Focused`. It reads nothing from the display;
    /// changes not yet polled come in the next [`poll`](Self::poll).
    #[must_use]
    pub fn snapshot(&self) -> Vec<WindowMessage> {
        let windows = self.model.windows();
        let mut out = Vec::with_capacity(windows.len() + 2);
        let mut done = HashSet::new();
        let created = |id: WindowId, w: &WindowInfo| WindowMessage::Created {
            id,
            parent: w.parent,
            kind: w.kind,
            rect: w.rect,
            title: w.title.clone(),
        };
        for &id in self.model.stack() {
            // Ancestors first: a parent must exist when its child is created.
            let mut chain = vec![id];
            let mut parent = windows.get(&id).map_or(0, |w| w.parent);
            while parent != 0 && !done.contains(&parent) && chain.len() <= MAX_WINDOWS {
                chain.push(parent);
                parent = windows.get(&parent).map_or(0, |w| w.parent);
            }
            for &w in chain.iter().rev() {
                if !done.insert(w) {
                    continue;
                }
                if let Some(info) = windows.get(&w) {
                    out.push(created(w, info));
                }
            }
        }
        for (&id, info) in windows {
            if info.state != WindowState::Normal {
                out.push(WindowMessage::StateChanged { id, state: info.state });
            }
        }
        out.push(WindowMessage::Restacked { order: self.model.stack().to_vec() });
        out.push(WindowMessage::Focused { id: self.model.focus().unwrap_or(0) });
        out
    }

    /// Handles the X events that have arrived (at most 4096; never waits for one) and reads
    /// the stacking order (when an event may have changed it) and the input focus; returns
    /// what changed, in order. The focus costs one round trip to the X server on every call
    /// (two while the focus follows the pointer), the stacking order one when it may have
    /// changed, and each new window a few.
    ///
    /// # Errors
    /// [`X11Error::Request`] when the connection broke. A window that goes away while it is
    /// being read is no error: it is skipped, or closed.
    pub fn poll(&mut self) -> Result<Vec<WindowMessage>, X11Error> {
        let mut out = Vec::new();
        for _ in 0..MAX_EVENTS_PER_POLL {
            let Some(event) = self.conn.poll_for_event().map_err(request_error)? else { break };
            self.handle(event, &mut out)?;
        }
        if self.stack_dirty {
            self.restack(&mut out)?;
        }
        self.refocus(&mut out)?;
        self.stats.events_emitted += out.len() as u64;
        Ok(out)
    }

    /// Applies a client's request to the display: move and resize with `ConfigureWindow`,
    /// raise with `ConfigureWindow` (stack mode above), focus with `SetInputFocus`, state
    /// requests as `WM_CHANGE_STATE` / `_NET_WM_STATE` messages to the window manager (and a
    /// map for a minimised window made normal), close with `WM_DELETE_WINDOW`. Waits for the
    /// X server to accept it; what the window does next comes as events from
    /// [`poll`](Self::poll).
    ///
    /// # Errors
    /// [`WindowRequestError`]: an unknown window, an event rather than a request, a size out
    /// of range, a close the window does not take, or an error from the X server.
    pub fn apply(&mut self, request: &WindowMessage) -> Result<(), WindowRequestError> {
        let result = self.apply_request(request);
        match result {
            Ok(()) => self.stats.requests_applied += 1,
            Err(_) => self.stats.requests_refused += 1,
        }
        result
    }

    fn apply_request(&mut self, request: &WindowMessage) -> Result<(), WindowRequestError> {
        let id = match request {
            WindowMessage::MoveRequest { id, .. }
            | WindowMessage::ResizeRequest { id, .. }
            | WindowMessage::RaiseRequest { id }
            | WindowMessage::FocusRequest { id }
            | WindowMessage::StateRequest { id, .. }
            | WindowMessage::CloseRequest { id } => *id,
            _ => return Err(WindowRequestError::NotARequest),
        };
        let window = *self.tracked.get(&id).ok_or(WindowRequestError::Unknown(id))?;
        let client = window.client;
        let conn = &self.conn;
        let cookie = match request {
            WindowMessage::MoveRequest { x, y, .. } => {
                let aux = ConfigureWindowAux::new().x(coordinate(*x)).y(coordinate(*y));
                conn.configure_window(client, &aux)
            }
            WindowMessage::ResizeRequest { width, height, .. } => {
                for (value, name) in [(*width, "width"), (*height, "height")] {
                    if !(1..=MAX_SIDE).contains(&value) {
                        return Err(WindowRequestError::OutOfRange(name));
                    }
                }
                conn.configure_window(client, &ConfigureWindowAux::new().width(*width).height(*height))
            }
            WindowMessage::RaiseRequest { .. } => {
                conn.configure_window(client, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE))
            }
            WindowMessage::FocusRequest { .. } => conn.set_input_focus(InputFocus::POINTER_ROOT, client, CURRENT_TIME),
            WindowMessage::StateRequest { state, .. } => return self.request_state(window, *state),
            WindowMessage::CloseRequest { .. } => {
                let protocols = conn
                    .get_property(false, client, self.atoms.WM_PROTOCOLS, AtomEnum::ATOM, 0, MAX_ATOMS)
                    .map_err(request_error)?
                    .reply()
                    .map_err(request_error)?;
                let takes_delete =
                    protocols.value32().is_some_and(|mut atoms| atoms.any(|a| a == self.atoms.WM_DELETE_WINDOW));
                if !takes_delete {
                    return Err(WindowRequestError::CannotClose(id));
                }
                let data = [self.atoms.WM_DELETE_WINDOW, CURRENT_TIME, 0, 0, 0];
                let message = ClientMessageEvent::new(32, client, self.atoms.WM_PROTOCOLS, data);
                conn.send_event(false, client, EventMask::NO_EVENT, message)
            }
            _ => return Err(WindowRequestError::NotARequest),
        };
        cookie.map_err(request_error)?.check().map_err(request_error)?;
        Ok(())
    }

    /// Asks the window manager for a state (ICCCM's `WM_CHANGE_STATE` to minimise, EWMH's
    /// `_NET_WM_STATE` for the others); a minimised window made normal or maximised is mapped.
    fn request_state(&self, window: Tracked, state: WindowState) -> Result<(), WindowRequestError> {
        let a = &self.atoms;
        let client = window.client;
        let to_manager = |kind: Atom, data: [u32; 5]| {
            let mask = EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY;
            let message = ClientMessageEvent::new(32, client, kind, data);
            self.conn.send_event(false, self.root, mask, message).map_err(request_error)?.check().map_err(request_error)
        };
        let net_state = |action: u32, first: Atom, second: Atom| {
            to_manager(a._NET_WM_STATE, [action, first, second, SOURCE_USER, 0])
        };
        match state {
            WindowState::Minimized => to_manager(a.WM_CHANGE_STATE, [ICONIC_STATE, 0, 0, 0, 0])?,
            WindowState::Maximized => {
                net_state(NET_WM_STATE_REMOVE, a._NET_WM_STATE_FULLSCREEN, NONE)?;
                net_state(NET_WM_STATE_ADD, a._NET_WM_STATE_MAXIMIZED_VERT, a._NET_WM_STATE_MAXIMIZED_HORZ)?;
            }
            WindowState::Fullscreen => net_state(NET_WM_STATE_ADD, a._NET_WM_STATE_FULLSCREEN, NONE)?,
            WindowState::Normal => {
                net_state(NET_WM_STATE_REMOVE, a._NET_WM_STATE_FULLSCREEN, NONE)?;
                net_state(NET_WM_STATE_REMOVE, a._NET_WM_STATE_MAXIMIZED_VERT, a._NET_WM_STATE_MAXIMIZED_HORZ)?;
            }
        }
        if !window.mapped && state != WindowState::Minimized {
            // ICCCM §4.1.4: an iconic window goes back to normal by being mapped.
            self.conn.map_window(client).map_err(request_error)?.check().map_err(request_error)?;
        }
        Ok(())
    }

    /// Gives `event` to the client's model and to `out`. The model refusing it would be a bug
    /// here; the event is then dropped rather than sent to clients that would refuse it too.
    fn emit(&mut self, event: WindowMessage, out: &mut Vec<WindowMessage>) {
        match self.model.apply(&event) {
            Ok(()) => out.push(event),
            Err(e) => debug_assert!(false, "the tracker made an event its model refuses: {e} ({event:?})"),
        }
    }

    fn handle(&mut self, event: Event, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        let root = self.root;
        match event {
            Event::MapNotify(e) if e.event == root => {
                match self.by_frame.get(&e.window) {
                    Some(&id) => self.remapped(id, out)?,
                    None => self.track(e.window, out)?,
                }
                self.stack_dirty = true;
            }
            Event::UnmapNotify(e) if e.event == root => self.unmapped(e.window, out)?,
            Event::DestroyNotify(e) if e.event == root => {
                // Its id may be reused for a window elsewhere in the tree.
                self.focus_cache = None;
                self.close_frame(e.window, out)?;
            }
            Event::ReparentNotify(e) if e.event == root => {
                self.focus_cache = None;
                if e.parent == root {
                    self.track(e.window, out)?;
                } else {
                    self.close_frame(e.window, out)?;
                }
                self.stack_dirty = true;
            }
            Event::ConfigureNotify(e) if e.event == root => {
                if let Some(&id) = self.by_frame.get(&e.window) {
                    self.stack_dirty = true;
                    self.configured(id, (e.x, e.y), (e.width, e.height), out);
                }
            }
            Event::CirculateNotify(e) if e.event == root => self.stack_dirty = true,
            Event::PropertyNotify(e) => {
                if let Some(&id) = self.by_client.get(&e.window) {
                    self.property_changed(id, e.atom, out)?;
                }
            }
            // Errors are those of requests on windows that went away meanwhile.
            _ => {}
        }
        Ok(())
    }

    /// Starts tracking `frame`, a child of the root, if it is a viewable input-output window.
    fn track(&mut self, frame: Window, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        if self.by_frame.contains_key(&frame) {
            return Ok(());
        }
        let attributes = self.conn.get_window_attributes(frame).map_err(request_error)?;
        let geometry = self.conn.get_geometry(frame).map_err(request_error)?;
        let (Some(attributes), Some(geometry)) = (maybe(attributes.reply())?, maybe(geometry.reply())?) else {
            return Ok(());
        };
        if attributes.class == WindowClass::INPUT_ONLY || attributes.map_state != MapState::VIEWABLE {
            return Ok(());
        }
        if self.tracked.len() >= MAX_WINDOWS {
            self.stats.windows_ignored += 1;
            return Ok(());
        }
        let Some(client) = self.find_client(frame)? else { return Ok(()) };
        if let Some(&old) = self.by_client.get(&client) {
            // The application's window changed frames (a window manager started or left).
            self.close(old, out)?;
        }
        // Select before reading, so that no change in between is missed.
        let aux = ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        self.conn.change_window_attributes(client, &aux).map_err(request_error)?;
        let Some(properties) = self.properties(client)? else { return Ok(()) };
        let parent = properties.transient_for.and_then(|w| self.id_of(w)).unwrap_or(0);
        let kind = classify(&properties.types, attributes.override_redirect, properties.transient_for.is_some());
        let id = self.new_id();
        self.tracked.insert(id, Tracked { frame, client, mapped: true });
        self.by_frame.insert(frame, id);
        self.by_client.insert(client, id);
        let rect = Rect {
            x: i32::from(geometry.x),
            y: i32::from(geometry.y),
            width: side(geometry.width),
            height: side(geometry.height),
        };
        self.emit(WindowMessage::Created { id, parent, kind, rect, title: properties.title }, out);
        if properties.state != WindowState::Normal {
            self.emit(WindowMessage::StateChanged { id, state: properties.state }, out);
        }
        self.stack_dirty = true;
        Ok(())
    }

    /// A free id, never 0.
    fn new_id(&mut self) -> WindowId {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            if !self.tracked.contains_key(&id) {
                return id;
            }
        }
    }

    /// The tracked window whose frame or client is `window`.
    fn id_of(&self, window: Window) -> Option<WindowId> {
        self.by_client.get(&window).or_else(|| self.by_frame.get(&window)).copied()
    }

    fn configured(
        &mut self,
        id: WindowId,
        (x, y): (i16, i16),
        (width, height): (u16, u16),
        out: &mut Vec<WindowMessage>,
    ) {
        let Some(old) = self.model.windows().get(&id).map(|w| w.rect) else { return };
        let (x, y, width, height) = (i32::from(x), i32::from(y), side(width), side(height));
        if (old.x, old.y) != (x, y) {
            self.emit(WindowMessage::Moved { id, x, y }, out);
        }
        if (old.width, old.height) != (width, height) {
            self.emit(WindowMessage::Resized { id, width, height }, out);
        }
    }

    fn property_changed(&mut self, id: WindowId, atom: Atom, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        let Some(&window) = self.tracked.get(&id) else { return Ok(()) };
        if atom == u32::from(AtomEnum::WM_NAME) || atom == self.atoms._NET_WM_NAME {
            let Some(title) = self.title(window.client)? else { return Ok(()) };
            if self.model.windows().get(&id).is_some_and(|w| w.title != title) {
                self.emit(WindowMessage::Retitled { id, title }, out);
            }
        } else if atom == self.atoms.WM_STATE || atom == self.atoms._NET_WM_STATE {
            let Some(state) = self.state(window.client)? else { return Ok(()) };
            if !window.mapped && state != WindowState::Minimized {
                // Withdrawn while iconic: gone for good.
                self.close(id, out)?;
            } else {
                self.set_state(id, state, out);
            }
        }
        Ok(())
    }

    fn set_state(&mut self, id: WindowId, state: WindowState, out: &mut Vec<WindowMessage>) {
        if self.model.windows().get(&id).is_some_and(|w| w.state != state) {
            self.emit(WindowMessage::StateChanged { id, state }, out);
        }
    }

    /// A tracked frame mapped again: it was minimised.
    fn remapped(&mut self, id: WindowId, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        let Some(window) = self.tracked.get_mut(&id) else { return Ok(()) };
        window.mapped = true;
        let client = window.client;
        match self.state(client)? {
            Some(state) => self.set_state(id, state, out),
            None => self.close(id, out)?,
        }
        Ok(())
    }

    /// A root child unmapped: closed, unless a window manager iconified it.
    fn unmapped(&mut self, frame: Window, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        let Some(&id) = self.by_frame.get(&frame) else { return Ok(()) };
        let Some(&window) = self.tracked.get(&id) else { return Ok(()) };
        match self.state(window.client)? {
            Some(WindowState::Minimized) => {
                if let Some(w) = self.tracked.get_mut(&id) {
                    w.mapped = false;
                }
                self.set_state(id, WindowState::Minimized, out);
                Ok(())
            }
            _ => self.close(id, out),
        }
    }

    fn close_frame(&mut self, frame: Window, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        match self.by_frame.get(&frame) {
            Some(&id) => self.close(id, out),
            None => Ok(()),
        }
    }

    /// Closes `id`; its children close with it in the protocol, and those still on the
    /// screen are announced again as windows of their own.
    fn close(&mut self, id: WindowId, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        self.emit(WindowMessage::Closed { id }, out);
        let gone: Vec<WindowId> =
            self.tracked.keys().copied().filter(|w| !self.model.windows().contains_key(w)).collect();
        let mut orphans = Vec::new();
        for w in gone {
            if let Some(t) = self.tracked.remove(&w) {
                self.by_frame.remove(&t.frame);
                self.by_client.remove(&t.client);
                if w != id && t.mapped {
                    orphans.push(t.frame);
                }
            }
        }
        self.stack_dirty = true;
        for frame in orphans {
            self.track(frame, out)?;
        }
        Ok(())
    }

    /// Reads the stacking order and tells it when it differs from the client's. An order
    /// that lacks a tracked window (destroyed, its event not read yet) waits for that event.
    fn restack(&mut self, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        let Some(tree) = maybe(self.conn.query_tree(self.root).map_err(request_error)?.reply())? else {
            return Ok(());
        };
        let order: Vec<WindowId> = tree.children.iter().filter_map(|w| self.by_frame.get(w).copied()).collect();
        if order.len() != self.tracked.len() {
            return Ok(());
        }
        self.stack_dirty = false;
        if order != self.model.stack() {
            self.emit(WindowMessage::Restacked { order }, out);
        }
        Ok(())
    }

    /// Reads the input focus and tells it when it differs from the client's.
    fn refocus(&mut self, out: &mut Vec<WindowMessage>) -> Result<(), X11Error> {
        let focus = self.conn.get_input_focus().map_err(request_error)?.reply().map_err(request_error)?.focus;
        let top = if focus == NONE {
            None
        } else if focus == u32::from(InputFocus::POINTER_ROOT) || focus == self.root {
            // Keys go to the window under the pointer: the root's child that holds it.
            let pointer = self.conn.query_pointer(self.root).map_err(request_error)?;
            maybe(pointer.reply())?.map(|p| p.child).filter(|&c| c != NONE)
        } else {
            match self.focus_cache {
                Some((cached, top)) if cached == focus => top,
                _ => {
                    let top = self.top_level(focus)?;
                    self.focus_cache = Some((focus, top));
                    top
                }
            }
        };
        let id = top.and_then(|w| self.by_frame.get(&w).copied()).unwrap_or(0);
        if id != self.model.focus().unwrap_or(0) {
            self.emit(WindowMessage::Focused { id }, out);
        }
        Ok(())
    }

    /// The root's child that holds `window`.
    fn top_level(&self, mut window: Window) -> Result<Option<Window>, X11Error> {
        for _ in 0..MAX_TREE_DEPTH {
            let Some(tree) = maybe(self.conn.query_tree(window).map_err(request_error)?.reply())? else {
                return Ok(None);
            };
            if tree.parent == self.root {
                return Ok(Some(window));
            }
            if tree.parent == NONE {
                return Ok(None);
            }
            window = tree.parent;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_and_coordinates() {
        assert_eq!((side(0), side(300), side(u16::MAX)), (1, 300, MAX_SIDE));
        assert_eq!((coordinate(-40_000), coordinate(12), coordinate(40_000)), (-32_768, 12, 32_767));
    }
}
