//! The window management channel (reliable, ordered), for streaming single applications: the
//! server tells the client what the remote application's windows do (created, moved, resized,
//! restacked, focused, retitled, closed), and the client asks for what its user did to the
//! local windows that stand for them (move, resize, raise, focus, close). Messages are bincode,
//! specified in docs/PROTOCOL.md §11.3. [`WindowModel`] is the client's picture of the remote
//! windows, which refuses events that do not fit it (an unknown id, a stacking order that is
//! not a permutation) rather than guessing.

use std::collections::BTreeMap;

use bincode::{Decode, Encode};

/// Longest encoded window message, bytes.
pub const MAX_WINDOW_MESSAGE_LEN: usize = 8192;
/// Longest title, bytes of UTF-8.
pub const MAX_TITLE_LEN: usize = 512;
/// Most windows in a restack message (and in a [`WindowModel`]).
pub const MAX_WINDOWS: usize = 256;
/// Largest window side, pixels.
pub const MAX_SIDE: u32 = 16_384;

/// A window's id, chosen by the server; never 0.
pub type WindowId = u32;

/// Position and size, in the remote desktop's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Rect {
    /// Left edge (may be negative: windows can hang off the screen).
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width, 1..=[`MAX_SIDE`].
    pub width: u32,
    /// Height, 1..=[`MAX_SIDE`].
    pub height: u32,
}

/// What kind of window, so the client can give its stand-in the right decorations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum WindowKind {
    /// A top-level application window.
    Normal,
    /// A dialog, transient for its parent.
    Dialog,
    /// A menu or pop-up: no decorations, closes on outside clicks.
    Popup,
    /// A tooltip: never focused.
    Tooltip,
}

/// Minimised, maximised, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum WindowState {
    /// Neither minimised nor maximised.
    Normal,
    /// Minimised (iconified).
    Minimized,
    /// Maximised.
    Maximized,
    /// Full screen.
    Fullscreen,
}

/// One message on the window channel, either direction.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum WindowMessage {
    // Server to client: what the remote windows did.
    /// A window appeared.
    Created {
        /// Its id.
        id: WindowId,
        /// The window it belongs to (dialogs, pop-ups), 0 for none.
        parent: WindowId,
        /// Its kind.
        kind: WindowKind,
        /// Where it is.
        rect: Rect,
        /// Its title.
        title: String,
    },
    /// A window moved.
    Moved {
        /// Which.
        id: WindowId,
        /// New left edge.
        x: i32,
        /// New top edge.
        y: i32,
    },
    /// A window changed size.
    Resized {
        /// Which.
        id: WindowId,
        /// New width.
        width: u32,
        /// New height.
        height: u32,
    },
    /// The stacking order changed: every window, bottom first.
    Restacked {
        /// The ids, bottom to top.
        order: Vec<WindowId>,
    },
    /// The keyboard focus moved (0: no window has it).
    Focused {
        /// Which.
        id: WindowId,
    },
    /// A window was minimised, maximised, ...
    StateChanged {
        /// Which.
        id: WindowId,
        /// Its new state.
        state: WindowState,
    },
    /// A window's title changed.
    Retitled {
        /// Which.
        id: WindowId,
        /// The new title.
        title: String,
    },
    /// A window went away.
    Closed {
        /// Which.
        id: WindowId,
    },

    // Client to server: what the user did to the stand-ins.
    /// Move it there.
    MoveRequest {
        /// Which.
        id: WindowId,
        /// Left edge.
        x: i32,
        /// Top edge.
        y: i32,
    },
    /// Make it this size.
    ResizeRequest {
        /// Which.
        id: WindowId,
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// Put it on top.
    RaiseRequest {
        /// Which.
        id: WindowId,
    },
    /// Give it the keyboard.
    FocusRequest {
        /// Which.
        id: WindowId,
    },
    /// Minimise, maximise, ...
    StateRequest {
        /// Which.
        id: WindowId,
        /// The state wanted.
        state: WindowState,
    },
    /// Close it (the application may ask the user first, or refuse).
    CloseRequest {
        /// Which.
        id: WindowId,
    },
}

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the remote windows did.
    ServerToClient,
    /// What the user asks of them.
    ClientToServer,
}

/// Why a window message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Longer than [`MAX_WINDOW_MESSAGE_LEN`].
    #[error("window message of {0} bytes exceeds the {MAX_WINDOW_MESSAGE_LEN}-byte limit")]
    TooLong(usize),
    /// Not a well-formed message.
    #[error("malformed window message: {0}")]
    Malformed(String),
    /// Well formed, but a field is out of range.
    #[error("window message field out of range: {0}")]
    OutOfRange(&'static str),
    /// Sent the wrong way (a request from the server, an event from the client).
    #[error("window message sent the wrong way")]
    WrongDirection,
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_WINDOW_MESSAGE_LEN>()
}

fn check(ok: bool, field: &'static str) -> Result<(), WindowError> {
    if ok { Ok(()) } else { Err(WindowError::OutOfRange(field)) }
}

fn check_size(width: u32, height: u32) -> Result<(), WindowError> {
    check((1..=MAX_SIDE).contains(&width), "width")?;
    check((1..=MAX_SIDE).contains(&height), "height")
}

impl WindowMessage {
    /// Which way it travels.
    #[must_use]
    pub fn direction(&self) -> Direction {
        match self {
            Self::Created { .. }
            | Self::Moved { .. }
            | Self::Resized { .. }
            | Self::Restacked { .. }
            | Self::Focused { .. }
            | Self::StateChanged { .. }
            | Self::Retitled { .. }
            | Self::Closed { .. } => Direction::ServerToClient,
            _ => Direction::ClientToServer,
        }
    }

    /// Encodes the message.
    ///
    /// # Errors
    /// [`WindowError`] when the message is out of range (a title too long, say): what
    /// [`decode`](Self::decode) would refuse is never sent.
    pub fn encode(&self) -> Result<Vec<u8>, WindowError> {
        self.validate()?;
        bincode::encode_to_vec(self, config()).map_err(|e| WindowError::Malformed(e.to_string()))
    }

    /// Decodes one message that should travel `direction`, refusing trailing bytes and
    /// out-of-range fields.
    ///
    /// # Errors
    /// [`WindowError`] says what was wrong.
    pub fn decode(bytes: &[u8], direction: Direction) -> Result<Self, WindowError> {
        if bytes.len() > MAX_WINDOW_MESSAGE_LEN {
            return Err(WindowError::TooLong(bytes.len()));
        }
        let (message, used): (Self, usize) =
            bincode::decode_from_slice(bytes, config()).map_err(|e| WindowError::Malformed(e.to_string()))?;
        if used != bytes.len() {
            return Err(WindowError::Malformed(format!("{} trailing bytes", bytes.len() - used)));
        }
        message.validate()?;
        if message.direction() != direction {
            return Err(WindowError::WrongDirection);
        }
        Ok(message)
    }

    fn validate(&self) -> Result<(), WindowError> {
        match self {
            Self::Created { id, parent, rect, title, .. } => {
                check(*id != 0, "id")?;
                check(parent != id, "parent")?;
                check(title.len() <= MAX_TITLE_LEN, "title")?;
                check_size(rect.width, rect.height)
            }
            Self::Retitled { id, title } => {
                check(*id != 0, "id")?;
                check(title.len() <= MAX_TITLE_LEN, "title")
            }
            Self::Resized { id, width, height } | Self::ResizeRequest { id, width, height } => {
                check(*id != 0, "id")?;
                check_size(*width, *height)
            }
            Self::Restacked { order } => {
                check(order.len() <= MAX_WINDOWS, "order")?;
                check(!order.contains(&0), "order")?;
                let mut sorted = order.clone();
                sorted.sort_unstable();
                check(sorted.windows(2).all(|w| w[0] != w[1]), "order")
            }
            // Focus 0 means no window has the keyboard.
            Self::Focused { .. } => Ok(()),
            Self::Moved { id, .. }
            | Self::StateChanged { id, .. }
            | Self::Closed { id }
            | Self::MoveRequest { id, .. }
            | Self::RaiseRequest { id }
            | Self::FocusRequest { id }
            | Self::StateRequest { id, .. }
            | Self::CloseRequest { id } => check(*id != 0, "id"),
        }
    }
}

/// One remote window as the client knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInfo {
    /// The window it belongs to, 0 for none.
    pub parent: WindowId,
    /// Its kind.
    pub kind: WindowKind,
    /// Where it is.
    pub rect: Rect,
    /// Its title.
    pub title: String,
    /// Minimised, maximised, ...
    pub state: WindowState,
}

/// Why an event did not fit the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An event about a window the model does not have.
    #[error("no window {0}")]
    Unknown(WindowId),
    /// A window created twice.
    #[error("window {0} exists already")]
    Exists(WindowId),
    /// More than [`MAX_WINDOWS`] windows.
    #[error("more than {MAX_WINDOWS} windows")]
    TooMany,
    /// A restack that does not list every window exactly once.
    #[error("the stacking order does not list every window once")]
    NotAPermutation,
    /// A request (client to server) given to the client's model.
    #[error("a request is not an event")]
    NotAnEvent,
}

/// The client's picture of the remote application's windows: each window, the stacking order
/// (bottom first) and the focus. Events that do not fit leave it unchanged and are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowModel {
    windows: BTreeMap<WindowId, WindowInfo>,
    stack: Vec<WindowId>,
    focus: Option<WindowId>,
}

impl WindowModel {
    /// An empty model.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The windows, by id.
    #[must_use]
    pub fn windows(&self) -> &BTreeMap<WindowId, WindowInfo> {
        &self.windows
    }

    /// The stacking order, bottom first.
    #[must_use]
    pub fn stack(&self) -> &[WindowId] {
        &self.stack
    }

    /// The window with the keyboard.
    #[must_use]
    pub fn focus(&self) -> Option<WindowId> {
        self.focus
    }

    fn window(&mut self, id: WindowId) -> Result<&mut WindowInfo, ModelError> {
        self.windows.get_mut(&id).ok_or(ModelError::Unknown(id))
    }

    /// Applies a server-to-client event.
    ///
    /// # Errors
    /// [`ModelError`]; the model is unchanged.
    pub fn apply(&mut self, event: &WindowMessage) -> Result<(), ModelError> {
        match event {
            WindowMessage::Created { id, parent, kind, rect, title } => {
                if self.windows.contains_key(id) {
                    return Err(ModelError::Exists(*id));
                }
                if self.windows.len() == MAX_WINDOWS {
                    return Err(ModelError::TooMany);
                }
                if *parent != 0 && !self.windows.contains_key(parent) {
                    return Err(ModelError::Unknown(*parent));
                }
                let info = WindowInfo {
                    parent: *parent,
                    kind: *kind,
                    rect: *rect,
                    title: title.clone(),
                    state: WindowState::Normal,
                };
                self.windows.insert(*id, info);
                self.stack.push(*id);
            }
            WindowMessage::Moved { id, x, y } => {
                let w = self.window(*id)?;
                (w.rect.x, w.rect.y) = (*x, *y);
            }
            WindowMessage::Resized { id, width, height } => {
                let w = self.window(*id)?;
                (w.rect.width, w.rect.height) = (*width, *height);
            }
            WindowMessage::Restacked { order } => {
                let mut sorted = order.clone();
                sorted.sort_unstable();
                if !sorted.iter().copied().eq(self.windows.keys().copied()) {
                    return Err(ModelError::NotAPermutation);
                }
                self.stack.clone_from(order);
            }
            WindowMessage::Focused { id } => {
                if *id != 0 && !self.windows.contains_key(id) {
                    return Err(ModelError::Unknown(*id));
                }
                self.focus = (*id != 0).then_some(*id);
            }
            WindowMessage::StateChanged { id, state } => self.window(*id)?.state = *state,
            WindowMessage::Retitled { id, title } => self.window(*id)?.title.clone_from(title),
            WindowMessage::Closed { id } => {
                self.windows.remove(id).ok_or(ModelError::Unknown(*id))?;
                self.stack.retain(|w| w != id);
                if self.focus == Some(*id) {
                    self.focus = None;
                }
                // Children go with their parent, as on every desktop.
                let orphans: Vec<WindowId> =
                    self.windows.iter().filter(|(_, w)| w.parent == *id).map(|(c, _)| *c).collect();
                for orphan in orphans {
                    self.apply(&WindowMessage::Closed { id: orphan })?;
                }
            }
            _ => return Err(ModelError::NotAnEvent),
        }
        Ok(())
    }

    /// Whether the model is consistent: the stack lists every window once, the focus and every
    /// parent exist. Always true after any sequence of [`apply`](Self::apply) calls.
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        let mut stack = self.stack.clone();
        stack.sort_unstable();
        stack.iter().copied().eq(self.windows.keys().copied())
            && self.focus.is_none_or(|f| self.windows.contains_key(&f))
            && self.windows.values().all(|w| w.parent == 0 || self.windows.contains_key(&w.parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(id: WindowId, parent: WindowId) -> WindowMessage {
        WindowMessage::Created {
            id,
            parent,
            kind: if parent == 0 { WindowKind::Normal } else { WindowKind::Dialog },
            rect: Rect { x: 10, y: 20, width: 640, height: 480 },
            title: format!("window {id}"),
        }
    }

    #[test]
    fn every_message_round_trips() {
        let messages = [
            created(1, 0),
            WindowMessage::Moved { id: 1, x: -5, y: 7 },
            WindowMessage::Resized { id: 1, width: 800, height: 600 },
            WindowMessage::Restacked { order: vec![2, 1] },
            WindowMessage::Focused { id: 0 },
            WindowMessage::StateChanged { id: 1, state: WindowState::Maximized },
            WindowMessage::Retitled { id: 1, title: "é".into() },
            WindowMessage::Closed { id: 1 },
            WindowMessage::MoveRequest { id: 1, x: 0, y: 0 },
            WindowMessage::ResizeRequest { id: 1, width: 1, height: 1 },
            WindowMessage::RaiseRequest { id: 1 },
            WindowMessage::FocusRequest { id: 1 },
            WindowMessage::StateRequest { id: 1, state: WindowState::Minimized },
            WindowMessage::CloseRequest { id: 1 },
        ];
        for m in messages {
            let bytes = m.encode().unwrap();
            assert_eq!(WindowMessage::decode(&bytes, m.direction()), Ok(m.clone()));
            let other = match m.direction() {
                Direction::ServerToClient => Direction::ClientToServer,
                Direction::ClientToServer => Direction::ServerToClient,
            };
            assert_eq!(WindowMessage::decode(&bytes, other), Err(WindowError::WrongDirection));
        }
    }

    #[test]
    fn refuses_out_of_range_and_malformed() {
        let long_title = WindowMessage::Retitled { id: 1, title: "x".repeat(MAX_TITLE_LEN + 1) };
        assert_eq!(long_title.encode(), Err(WindowError::OutOfRange("title")));
        let dup = WindowMessage::Restacked { order: vec![1, 2, 1] };
        assert_eq!(dup.encode(), Err(WindowError::OutOfRange("order")));
        assert_eq!(WindowMessage::Closed { id: 0 }.encode(), Err(WindowError::OutOfRange("id")));
        let zero = WindowMessage::Resized { id: 3, width: 0, height: 5 };
        assert_eq!(zero.encode(), Err(WindowError::OutOfRange("width")));
        let good = WindowMessage::Closed { id: 3 }.encode().unwrap();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(WindowMessage::decode(&trailing, Direction::ServerToClient), Err(WindowError::Malformed(_))));
        assert!(matches!(WindowMessage::decode(&[0xff; 3], Direction::ServerToClient), Err(WindowError::Malformed(_))));
        // A length prefix that claims more than the limit is refused before allocating.
        let huge = [0x03, 0xfc, 0xff, 0xff, 0xff, 0x7f];
        assert!(WindowMessage::decode(&huge, Direction::ServerToClient).is_err());
    }

    #[test]
    fn the_model_follows_events_and_refuses_what_does_not_fit() {
        let mut model = WindowModel::new();
        model.apply(&created(1, 0)).unwrap();
        model.apply(&created(2, 1)).unwrap();
        model.apply(&created(3, 0)).unwrap();
        assert_eq!(model.stack(), [1, 2, 3]);
        assert_eq!(model.apply(&created(2, 0)), Err(ModelError::Exists(2)));
        assert_eq!(model.apply(&created(4, 9)), Err(ModelError::Unknown(9)));
        assert_eq!(model.apply(&WindowMessage::Restacked { order: vec![3, 1] }), Err(ModelError::NotAPermutation));
        model.apply(&WindowMessage::Restacked { order: vec![3, 1, 2] }).unwrap();
        model.apply(&WindowMessage::Focused { id: 2 }).unwrap();
        model.apply(&WindowMessage::Moved { id: 2, x: 100, y: 50 }).unwrap();
        assert_eq!(model.windows()[&2].rect.x, 100);
        assert_eq!(model.apply(&WindowMessage::RaiseRequest { id: 2 }), Err(ModelError::NotAnEvent));
        // Closing the parent takes its dialog and the focus with it.
        model.apply(&WindowMessage::Closed { id: 1 }).unwrap();
        assert_eq!(model.stack(), [3]);
        assert_eq!(model.focus(), None);
        assert!(model.is_consistent());
        assert_eq!(model.apply(&WindowMessage::Closed { id: 1 }), Err(ModelError::Unknown(1)));
    }
}
