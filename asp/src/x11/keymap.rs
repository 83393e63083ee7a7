//! Keysym to keycode, from the server's core keyboard mapping (`GetKeyboardMapping`).

use std::collections::HashMap;

/// `NoSymbol`.
const NO_SYMBOL: u32 = 0;
/// `XK_Shift_L`.
pub(super) const SHIFT_L: u32 = 0xffe1;
/// `XK_Shift_R`.
pub(super) const SHIFT_R: u32 = 0xffe2;

/// Where a keysym sits on the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    /// The key.
    pub(super) keycode: u8,
    /// The keysym needs Shift (level 2 of group 1).
    pub(super) shifted: bool,
}

/// The first two levels of group 1 of every key.
#[derive(Debug, Clone, Default)]
pub(super) struct Keymap {
    keys: HashMap<u32, Key>,
    shift: Option<u8>,
}

impl Keymap {
    /// Builds the map from a `GetKeyboardMapping` reply for keycodes `min_keycode..`.
    pub(super) fn new(min_keycode: u8, keysyms_per_keycode: u8, keysyms: &[u32]) -> Self {
        let mut map = Self::default();
        let per = usize::from(keysyms_per_keycode);
        if per == 0 {
            return map;
        }
        let levels: Vec<(u8, [u32; 2])> = keysyms
            .chunks_exact(per)
            .zip(min_keycode..=u8::MAX)
            .map(|(syms, keycode)| (keycode, levels(syms)))
            .collect();
        // Unshifted positions first, so a keysym found both ways is typed without Shift; the
        // lowest keycode wins within a level.
        for shifted in [false, true] {
            for &(keycode, syms) in &levels {
                let sym = syms[usize::from(shifted)];
                if sym != NO_SYMBOL {
                    map.keys.entry(sym).or_insert(Key { keycode, shifted });
                }
            }
        }
        map.shift = map.keys.get(&SHIFT_L).or_else(|| map.keys.get(&SHIFT_R)).filter(|k| !k.shifted).map(|k| k.keycode);
        map
    }

    /// Where `keysym` is, if anywhere. Unicode keysyms of Latin-1 characters
    /// (`0x0100_0041`) are found under their legacy names (`0x41`).
    pub(super) fn lookup(&self, keysym: u32) -> Option<Key> {
        self.keys.get(&normalize(keysym)).copied()
    }

    /// A Shift key, if the keyboard has one.
    pub(super) fn shift(&self) -> Option<u8> {
        self.shift
    }
}

/// Levels 1 and 2 of group 1 of one key, with the core protocol's rule for a lone keysym: a
/// letter stands for its lower case unshifted and its upper case shifted; anything else is the
/// same on both levels.
fn levels(syms: &[u32]) -> [u32; 2] {
    let first = syms.first().copied().unwrap_or(NO_SYMBOL);
    let second = syms.get(1).copied().unwrap_or(NO_SYMBOL);
    if second != NO_SYMBOL {
        return [first, second];
    }
    match latin1_cases(first) {
        Some((lower, upper)) => [lower, upper],
        None => [first, first],
    }
}

/// The lower and upper case of a Latin-1 letter keysym.
fn latin1_cases(sym: u32) -> Option<(u32, u32)> {
    match sym {
        0x41..=0x5a | 0xc0..=0xde if sym != 0xd7 => Some((sym + 0x20, sym)),
        0x61..=0x7a | 0xe0..=0xfe if sym != 0xf7 => Some((sym, sym - 0x20)),
        _ => None,
    }
}

/// Unicode keysyms (`0x0100_0000 + code point`) of Latin-1 characters are the legacy keysyms.
fn normalize(keysym: u32) -> u32 {
    match keysym.checked_sub(0x0100_0000) {
        Some(cp @ (0x20..=0x7e | 0xa0..=0xff)) => cp,
        _ => keysym,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_levels_and_shift() {
        // keycode 10: 1 !   11: a A   12: Shift_L   13: lone b   14: lone Return   15: a again
        let syms = [0x31, 0x21, 0x61, 0x41, SHIFT_L, 0, 0x62, 0, 0xff0d, 0, 0x61, 0x41];
        let map = Keymap::new(10, 2, &syms);
        assert_eq!(map.lookup(0x31), Some(Key { keycode: 10, shifted: false }));
        assert_eq!(map.lookup(0x21), Some(Key { keycode: 10, shifted: true }));
        assert_eq!(map.lookup(0x61), Some(Key { keycode: 11, shifted: false }));
        assert_eq!(map.lookup(0x41), Some(Key { keycode: 11, shifted: true }));
        assert_eq!(map.lookup(0x42), Some(Key { keycode: 13, shifted: true }));
        assert_eq!(map.lookup(0xff0d), Some(Key { keycode: 14, shifted: false }));
        assert_eq!(map.lookup(0x0100_0021), Some(Key { keycode: 10, shifted: true }));
        assert_eq!(map.lookup(0x63), None);
        assert_eq!(map.shift(), Some(12));
    }

    #[test]
    fn survives_odd_replies() {
        assert_eq!(Keymap::new(8, 0, &[1, 2, 3]).lookup(1), None);
        // More keysyms than keycodes up to 255: the surplus is ignored.
        let map = Keymap::new(255, 1, &[0x61, 0x62]);
        assert_eq!(map.lookup(0x61), Some(Key { keycode: 255, shifted: false }));
        assert_eq!(map.lookup(0x62), None);
    }
}
