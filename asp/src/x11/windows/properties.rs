//! What the window tracker reads from a window: its title, its kind (`_NET_WM_WINDOW_TYPE`,
//! override-redirect, `WM_TRANSIENT_FOR`), its state (`WM_STATE`, `_NET_WM_STATE`), and which
//! window inside a window manager's frame is the application's.

use x11rb::NONE;
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, Window};

use super::{ICONIC_STATE, MAX_ATOMS, X11Windows, maybe};
use crate::proto::window::{MAX_TITLE_LEN, WindowKind, WindowState};
use crate::x11::{X11Error, request_error};

/// How deep inside a frame to look for the client window.
const CLIENT_SEARCH_DEPTH: usize = 3;
/// How many windows inside a frame to look at, at most, for the client window.
const MAX_CLIENT_SEARCH: usize = 64;
/// Title bytes read: enough for [`MAX_TITLE_LEN`] and the character that crosses it.
const TITLE_LONGS: u32 = MAX_TITLE_LEN as u32 / 4 + 1;

/// What `_NET_WM_WINDOW_TYPE` says, as far as the kind goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeHint {
    Normal,
    Dialog,
    Menu,
    Tooltip,
    Other,
}

/// How a title property is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// ICCCM's `STRING`.
    Latin1,
    /// `UTF8_STRING`, and (lossily) anything else.
    Utf8,
}

/// What is read from a window when it is mapped.
#[derive(Debug)]
pub(super) struct Properties {
    pub(super) title: String,
    pub(super) types: Vec<TypeHint>,
    pub(super) transient_for: Option<Window>,
    pub(super) state: WindowState,
}

/// A title property's bytes as a title of at most [`MAX_TITLE_LEN`] bytes, cut at a character
/// boundary (a character cut by the read becomes U+FFFD past the limit, and goes).
fn decode_title(bytes: &[u8], encoding: Encoding) -> String {
    let mut title: String = match encoding {
        Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
    };
    if title.len() > MAX_TITLE_LEN {
        let mut end = MAX_TITLE_LEN;
        while !title.is_char_boundary(end) {
            end -= 1;
        }
        title.truncate(end);
    }
    title
}

/// The kind: the first window type the channel knows decides, else override-redirect windows
/// are pop-ups and transient ones dialogs (EWMH: a managed transient window without a type is
/// a dialog).
pub(super) fn classify(types: &[TypeHint], override_redirect: bool, transient: bool) -> WindowKind {
    for hint in types {
        match hint {
            TypeHint::Tooltip => return WindowKind::Tooltip,
            TypeHint::Menu => return WindowKind::Popup,
            TypeHint::Dialog => return WindowKind::Dialog,
            TypeHint::Normal if override_redirect => return WindowKind::Popup,
            TypeHint::Normal => return WindowKind::Normal,
            TypeHint::Other => {}
        }
    }
    if override_redirect {
        WindowKind::Popup
    } else if transient {
        WindowKind::Dialog
    } else {
        WindowKind::Normal
    }
}

/// The state from ICCCM's iconic flag and EWMH's state atoms; a window both maximised
/// vertically and horizontally is maximised.
fn window_state(iconic: bool, hidden: bool, fullscreen: bool, maximized: bool) -> WindowState {
    if iconic || hidden {
        WindowState::Minimized
    } else if fullscreen {
        WindowState::Fullscreen
    } else if maximized {
        WindowState::Maximized
    } else {
        WindowState::Normal
    }
}

impl X11Windows {
    /// The application's window in `frame`: the frame itself when it carries `WM_STATE` or
    /// no descendant does (no window manager), else the first descendant, breadth first, that
    /// carries it (looking at 64 windows at most). `None` when the frame went away.
    pub(super) fn find_client(&self, frame: Window) -> Result<Option<Window>, X11Error> {
        let mut level = vec![frame];
        let mut budget = MAX_CLIENT_SEARCH;
        for _ in 0..=CLIENT_SEARCH_DEPTH {
            let mut next = Vec::new();
            for &window in &level {
                if budget == 0 {
                    return Ok(Some(frame));
                }
                budget -= 1;
                let cookie = self
                    .conn
                    .get_property(false, window, self.atoms.WM_STATE, AtomEnum::ANY, 0, 0)
                    .map_err(request_error)?;
                match maybe(cookie.reply())? {
                    Some(state) if state.type_ != NONE => return Ok(Some(window)),
                    Some(_) => {}
                    None if window == frame => return Ok(None),
                    None => continue,
                }
                if let Some(tree) = maybe(self.conn.query_tree(window).map_err(request_error)?.reply())? {
                    next.extend(tree.children);
                }
            }
            level = next;
        }
        Ok(Some(frame))
    }

    /// The title, window types, transient-for and state of `client`; `None` when it went away.
    pub(super) fn properties(&self, client: Window) -> Result<Option<Properties>, X11Error> {
        let types = self
            .conn
            .get_property(false, client, self.atoms._NET_WM_WINDOW_TYPE, AtomEnum::ATOM, 0, MAX_ATOMS)
            .map_err(request_error)?;
        let transient = self
            .conn
            .get_property(false, client, AtomEnum::WM_TRANSIENT_FOR, AtomEnum::WINDOW, 0, 1)
            .map_err(request_error)?;
        let (Some(types), Some(transient)) = (maybe(types.reply())?, maybe(transient.reply())?) else {
            return Ok(None);
        };
        let (Some(title), Some(state)) = (self.title(client)?, self.state(client)?) else { return Ok(None) };
        let a = &self.atoms;
        let hint = |atom: Atom| match atom {
            t if t == a._NET_WM_WINDOW_TYPE_NORMAL => TypeHint::Normal,
            t if t == a._NET_WM_WINDOW_TYPE_DIALOG => TypeHint::Dialog,
            t if t == a._NET_WM_WINDOW_TYPE_TOOLTIP || t == a._NET_WM_WINDOW_TYPE_NOTIFICATION => TypeHint::Tooltip,
            t if [
                a._NET_WM_WINDOW_TYPE_MENU,
                a._NET_WM_WINDOW_TYPE_DROPDOWN_MENU,
                a._NET_WM_WINDOW_TYPE_POPUP_MENU,
                a._NET_WM_WINDOW_TYPE_COMBO,
                a._NET_WM_WINDOW_TYPE_DND,
            ]
            .contains(&t) =>
            {
                TypeHint::Menu
            }
            _ => TypeHint::Other,
        };
        let types = types.value32().map(|atoms| atoms.map(hint).collect()).unwrap_or_default();
        let transient_for = transient.value32().and_then(|mut w| w.next()).filter(|&w| w != NONE && w != client);
        Ok(Some(Properties { title, types, transient_for, state }))
    }

    /// `_NET_WM_NAME` when the window has it, else `WM_NAME`; `None` when it went away.
    pub(super) fn title(&self, client: Window) -> Result<Option<String>, X11Error> {
        let utf8 = self.atoms.UTF8_STRING;
        let net = self
            .conn
            .get_property(false, client, self.atoms._NET_WM_NAME, utf8, 0, TITLE_LONGS)
            .map_err(request_error)?;
        let legacy = self
            .conn
            .get_property(false, client, AtomEnum::WM_NAME, AtomEnum::ANY, 0, TITLE_LONGS)
            .map_err(request_error)?;
        let (Some(net), Some(legacy)) = (maybe(net.reply())?, maybe(legacy.reply())?) else { return Ok(None) };
        let title = if net.type_ == utf8 && net.format == 8 {
            decode_title(&net.value, Encoding::Utf8)
        } else if legacy.format == 8 {
            let latin1 = legacy.type_ == u32::from(AtomEnum::STRING);
            decode_title(&legacy.value, if latin1 { Encoding::Latin1 } else { Encoding::Utf8 })
        } else {
            String::new()
        };
        Ok(Some(title))
    }

    /// The state from `WM_STATE` and `_NET_WM_STATE`; `None` when the window went away.
    pub(super) fn state(&self, client: Window) -> Result<Option<WindowState>, X11Error> {
        let a = &self.atoms;
        let icccm = self.conn.get_property(false, client, a.WM_STATE, a.WM_STATE, 0, 1).map_err(request_error)?;
        let net = self
            .conn
            .get_property(false, client, a._NET_WM_STATE, AtomEnum::ATOM, 0, MAX_ATOMS)
            .map_err(request_error)?;
        let (Some(icccm), Some(net)) = (maybe(icccm.reply())?, maybe(net.reply())?) else { return Ok(None) };
        let iconic = icccm.value32().and_then(|mut v| v.next()) == Some(ICONIC_STATE);
        let atoms: Vec<Atom> = net.value32().map(Iterator::collect).unwrap_or_default();
        let has = |atom: Atom| atoms.contains(&atom);
        let maximized = has(a._NET_WM_STATE_MAXIMIZED_VERT) && has(a._NET_WM_STATE_MAXIMIZED_HORZ);
        Ok(Some(window_state(iconic, has(a._NET_WM_STATE_HIDDEN), has(a._NET_WM_STATE_FULLSCREEN), maximized)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cut_at_a_character_boundary() {
        assert_eq!(decode_title(b"caf\xe9", Encoding::Latin1), "café");
        assert_eq!(decode_title("café".as_bytes(), Encoding::Utf8), "café");
        // 511 ASCII bytes then a 2-byte character: it would end at 513, so it goes.
        let mut long = "a".repeat(MAX_TITLE_LEN - 1).into_bytes();
        long.extend_from_slice("é€".as_bytes());
        let title = decode_title(&long, Encoding::Utf8);
        assert_eq!(title.len(), MAX_TITLE_LEN - 1);
        // A character cut by the read (the first byte of '€' only) never shows.
        let cut = decode_title(&long[..MAX_TITLE_LEN + 2], Encoding::Utf8);
        assert_eq!(cut, "a".repeat(MAX_TITLE_LEN - 1));
        // Latin-1 above 0x7f doubles in UTF-8.
        assert_eq!(decode_title(&[0xe9; MAX_TITLE_LEN], Encoding::Latin1).len(), MAX_TITLE_LEN);
    }

    #[test]
    fn kinds_follow_types_override_redirect_and_transience() {
        use TypeHint::{Dialog, Menu, Normal, Other, Tooltip};
        assert_eq!(classify(&[], false, false), WindowKind::Normal);
        assert_eq!(classify(&[], false, true), WindowKind::Dialog);
        assert_eq!(classify(&[], true, false), WindowKind::Popup);
        assert_eq!(classify(&[Tooltip], true, false), WindowKind::Tooltip);
        assert_eq!(classify(&[Other, Menu], true, true), WindowKind::Popup);
        assert_eq!(classify(&[Dialog], false, false), WindowKind::Dialog);
        assert_eq!(classify(&[Normal], false, true), WindowKind::Normal, "a declared type beats transience");
        assert_eq!(classify(&[Normal], true, false), WindowKind::Popup);
        assert_eq!(classify(&[Other], false, true), WindowKind::Dialog);
    }

    #[test]
    fn states() {
        assert_eq!(window_state(false, false, false, false), WindowState::Normal);
        assert_eq!(window_state(true, false, true, true), WindowState::Minimized);
        assert_eq!(window_state(false, true, false, false), WindowState::Minimized);
        assert_eq!(window_state(false, false, true, true), WindowState::Fullscreen);
        assert_eq!(window_state(false, false, false, true), WindowState::Maximized);
    }
}
