//! winit's keys and buttons as the protocol's X11 keysyms and button numbers.
//!
//! A key is sent as the symbol the user meant (winit's *logical* key, Shift applied, Control
//! not), so the server needs no copy of the client's layout: `A` is `XK_A`, and the server's
//! injector presses Shift for it. Characters outside Latin-1 become Unicode keysyms
//! (`0x0100_0000 + code point`).

use winit::event::MouseButton;
use winit::keyboard::{Key, KeyLocation, NamedKey};

/// The keysym of a typed character: Latin-1 characters as themselves (`a` is `XK_a` = 0x61),
/// others as Unicode keysyms. Control characters have none.
#[must_use]
pub fn char_keysym(c: char) -> Option<u32> {
    let code = u32::from(c);
    match code {
        0x20..=0x7e | 0xa0..=0xff => Some(code),
        _ if c.is_control() => None,
        _ => Some(0x0100_0000 + code),
    }
}

/// The keysym of a key winit reports, or `None` for keys the protocol does not carry (dead
/// keys, composed strings, media keys).
#[must_use]
pub fn keysym(key: &Key, location: KeyLocation) -> Option<u32> {
    match key {
        Key::Character(text) => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => char_keysym(c),
                _ => None,
            }
        }
        Key::Named(named) => named_keysym(*named, location),
        _ => None,
    }
}

/// Left or right variant of a modifier, by where the key is.
fn sided(location: KeyLocation, left: u32, right: u32) -> u32 {
    if location == KeyLocation::Right { right } else { left }
}

/// The keysyms of winit's named keys (X11's `keysymdef.h`).
fn named_keysym(key: NamedKey, location: KeyLocation) -> Option<u32> {
    let numpad = location == KeyLocation::Numpad;
    Some(match key {
        NamedKey::Space => 0x20,
        NamedKey::Enter if numpad => 0xff8d,
        NamedKey::Enter => 0xff0d,
        NamedKey::Backspace => 0xff08,
        NamedKey::Tab => 0xff09,
        NamedKey::Escape => 0xff1b,
        NamedKey::Delete => 0xffff,
        NamedKey::Insert => 0xff63,
        NamedKey::Home => 0xff50,
        NamedKey::ArrowLeft => 0xff51,
        NamedKey::ArrowUp => 0xff52,
        NamedKey::ArrowRight => 0xff53,
        NamedKey::ArrowDown => 0xff54,
        NamedKey::PageUp => 0xff55,
        NamedKey::PageDown => 0xff56,
        NamedKey::End => 0xff57,
        NamedKey::Shift => sided(location, 0xffe1, 0xffe2),
        NamedKey::Control => sided(location, 0xffe3, 0xffe4),
        NamedKey::CapsLock => 0xffe5,
        NamedKey::Meta => sided(location, 0xffe7, 0xffe8),
        NamedKey::Alt => sided(location, 0xffe9, 0xffea),
        NamedKey::Super => sided(location, 0xffeb, 0xffec),
        NamedKey::Hyper => sided(location, 0xffed, 0xffee),
        NamedKey::AltGraph => 0xfe03,
        NamedKey::NumLock => 0xff7f,
        NamedKey::ScrollLock => 0xff14,
        NamedKey::PrintScreen => 0xff61,
        NamedKey::Pause => 0xff13,
        NamedKey::ContextMenu => 0xff67,
        NamedKey::F1 => 0xffbe,
        NamedKey::F2 => 0xffbf,
        NamedKey::F3 => 0xffc0,
        NamedKey::F4 => 0xffc1,
        NamedKey::F5 => 0xffc2,
        NamedKey::F6 => 0xffc3,
        NamedKey::F7 => 0xffc4,
        NamedKey::F8 => 0xffc5,
        NamedKey::F9 => 0xffc6,
        NamedKey::F10 => 0xffc7,
        NamedKey::F11 => 0xffc8,
        NamedKey::F12 => 0xffc9,
        _ => return None,
    })
}

/// The X11 number of a mouse button (1 left, 2 middle, 3 right); the protocol carries 1..=7,
/// and 4..=7 are the wheel's, so other buttons have none.
#[must_use]
pub fn button_number(button: MouseButton) -> Option<u8> {
    match button {
        MouseButton::Left => Some(1),
        MouseButton::Middle => Some(2),
        MouseButton::Right => Some(3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use winit::keyboard::SmolStr;

    use super::*;

    fn ch(s: &str) -> Option<u32> {
        keysym(&Key::Character(SmolStr::new(s)), KeyLocation::Standard)
    }

    fn named(key: NamedKey) -> Option<u32> {
        keysym(&Key::Named(key), KeyLocation::Standard)
    }

    #[test]
    fn letters_digits_and_punctuation_are_their_latin1_keysyms() {
        assert_eq!(ch("a"), Some(0x61)); // XK_a
        assert_eq!(ch("Z"), Some(0x5a)); // XK_Z: the server presses Shift
        assert_eq!(ch("0"), Some(0x30));
        assert_eq!(ch("9"), Some(0x39));
        for (s, sym) in [("!", 0x21), ("@", 0x40), ("~", 0x7e), ("/", 0x2f), (";", 0x3b), ("{", 0x7b)] {
            assert_eq!(ch(s), Some(sym), "{s}");
        }
        assert_eq!(ch("é"), Some(0xe9)); // XK_eacute
        assert_eq!(ch("\u{a0}"), Some(0xa0)); // XK_nobreakspace
    }

    #[test]
    fn other_characters_are_unicode_keysyms_and_strings_have_none() {
        assert_eq!(ch("€"), Some(0x0100_20ac));
        assert_eq!(ch("ж"), Some(0x0100_0436));
        assert_eq!(ch("\u{1f600}"), Some(0x0101_f600));
        assert_eq!(ch("ab"), None, "a composed string is not one key");
        assert_eq!(ch(""), None);
        assert_eq!(ch("\u{7}"), None);
        assert_eq!(ch("\u{7f}"), None);
        assert_eq!(ch("\u{85}"), None);
        assert_eq!(keysym(&Key::Dead(Some('`')), KeyLocation::Standard), None);
    }

    #[test]
    fn editing_and_motion_keys() {
        assert_eq!(named(NamedKey::Enter), Some(0xff0d)); // XK_Return
        assert_eq!(keysym(&Key::Named(NamedKey::Enter), KeyLocation::Numpad), Some(0xff8d)); // XK_KP_Enter
        assert_eq!(named(NamedKey::Backspace), Some(0xff08));
        assert_eq!(named(NamedKey::Tab), Some(0xff09));
        assert_eq!(named(NamedKey::Escape), Some(0xff1b));
        assert_eq!(named(NamedKey::Space), Some(0x20));
        assert_eq!(named(NamedKey::Delete), Some(0xffff));
        assert_eq!(named(NamedKey::ArrowLeft), Some(0xff51));
        assert_eq!(named(NamedKey::ArrowUp), Some(0xff52));
        assert_eq!(named(NamedKey::ArrowRight), Some(0xff53));
        assert_eq!(named(NamedKey::ArrowDown), Some(0xff54));
        assert_eq!(named(NamedKey::Home), Some(0xff50));
        assert_eq!(named(NamedKey::End), Some(0xff57));
        assert_eq!(named(NamedKey::PageUp), Some(0xff55));
        assert_eq!(named(NamedKey::PageDown), Some(0xff56));
    }

    #[test]
    fn modifiers_keep_their_side() {
        let at = |key, location| keysym(&Key::Named(key), location);
        assert_eq!(at(NamedKey::Shift, KeyLocation::Left), Some(0xffe1)); // XK_Shift_L
        assert_eq!(at(NamedKey::Shift, KeyLocation::Right), Some(0xffe2));
        assert_eq!(at(NamedKey::Control, KeyLocation::Left), Some(0xffe3)); // XK_Control_L
        assert_eq!(at(NamedKey::Control, KeyLocation::Right), Some(0xffe4));
        assert_eq!(at(NamedKey::Alt, KeyLocation::Left), Some(0xffe9)); // XK_Alt_L
        assert_eq!(at(NamedKey::Alt, KeyLocation::Right), Some(0xffea));
        assert_eq!(at(NamedKey::Super, KeyLocation::Left), Some(0xffeb));
        assert_eq!(at(NamedKey::AltGraph, KeyLocation::Right), Some(0xfe03)); // ISO_Level3_Shift
        assert_eq!(at(NamedKey::CapsLock, KeyLocation::Standard), Some(0xffe5));
    }

    #[test]
    fn function_keys_run_from_f1_to_f12() {
        let keys = [
            NamedKey::F1,
            NamedKey::F2,
            NamedKey::F3,
            NamedKey::F4,
            NamedKey::F5,
            NamedKey::F6,
            NamedKey::F7,
            NamedKey::F8,
            NamedKey::F9,
            NamedKey::F10,
            NamedKey::F11,
            NamedKey::F12,
        ];
        for (i, key) in keys.into_iter().enumerate() {
            assert_eq!(named(key), Some(0xffbe + i as u32), "{key:?}"); // XK_F1 = 0xffbe
        }
        assert_eq!(named(NamedKey::MediaPlay), None);
    }

    #[test]
    fn buttons_are_numbered_as_x11_numbers_them() {
        assert_eq!(button_number(MouseButton::Left), Some(1));
        assert_eq!(button_number(MouseButton::Middle), Some(2));
        assert_eq!(button_number(MouseButton::Right), Some(3));
        assert_eq!(button_number(MouseButton::Back), None);
        assert_eq!(button_number(MouseButton::Other(12)), None);
    }
}
