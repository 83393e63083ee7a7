//! [`XTestInjector`]: input events as XTEST fake input.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xproto::{self, ConnectionExt as _, Window};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

use super::keymap::{Key, Keymap, SHIFT_L, SHIFT_R};
use super::{X11Error, request_error};
use crate::proto::input::InputEvent;
use crate::source::{InjectError, InputInjector};

/// At most this many wheel steps per axis and event; larger values are clamped, so a hostile
/// client cannot make one event cost billions of requests.
pub const MAX_WHEEL_STEPS: u32 = 64;

/// Applies [`InputEvent`]s to an X11 display through the XTEST extension.
///
/// Keys are X11 keysyms, found on the server's keyboard as it was mapped when the injector
/// was made. A keysym on the shifted level (`A`, `!`, `:`) is typed with Shift pressed around
/// it unless the client holds Shift already; an unshifted one typed while the client holds
/// Shift has Shift released around it. Wheel steps are clicks of buttons 4/5 (vertical) and
/// 6/7 (horizontal). Each event is flushed and its errors checked (one round trip) before
/// [`InputInjector::inject`] returns; that is when the event counts as applied. Keys and
/// buttons still held are released when the injector is dropped.
#[derive(Debug)]
pub struct XTestInjector {
    conn: RustConnection,
    root: Window,
    origin: (i32, i32),
    keymap: Keymap,
    /// Keys pressed and not yet released, by the keysym that pressed them.
    held_keys: HashMap<u32, u8>,
    /// Buttons pressed and not yet released, bit `n` for button `n`.
    held_buttons: u8,
    applied: Arc<AtomicU64>,
}

/// One XTEST `FakeInput` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fake {
    kind: u8,
    detail: u8,
    root: Window,
    x: i16,
    y: i16,
}

impl Fake {
    fn key(keycode: u8, down: bool) -> Self {
        let kind = if down { xproto::KEY_PRESS_EVENT } else { xproto::KEY_RELEASE_EVENT };
        Self { kind, detail: keycode, root: x11rb::NONE, x: 0, y: 0 }
    }

    fn button(button: u8, down: bool) -> Self {
        let kind = if down { xproto::BUTTON_PRESS_EVENT } else { xproto::BUTTON_RELEASE_EVENT };
        Self { kind, detail: button, root: x11rb::NONE, x: 0, y: 0 }
    }
}

impl XTestInjector {
    /// Connects to `display` (`None`: `$DISPLAY`). Absolute pointer positions are screen
    /// positions; [`super::open_with`] makes them relative to a captured window. Events it
    /// applies are counted by no capture; [`super::open`] pairs the two.
    ///
    /// # Errors
    /// [`X11Error`]: no display, no XTEST, the keyboard mapping cannot be read.
    pub fn connect(display: Option<&str>) -> Result<Self, X11Error> {
        Self::with_counter(display, (0, 0), Arc::new(AtomicU64::new(0)))
    }

    pub(super) fn with_counter(
        display: Option<&str>,
        origin: (i32, i32),
        applied: Arc<AtomicU64>,
    ) -> Result<Self, X11Error> {
        let (conn, screen_num) = x11rb::connect(display).map_err(|e| X11Error::Connect(e.to_string()))?;
        if conn.extension_information(xtest::X11_EXTENSION_NAME).map_err(request_error)?.is_none() {
            return Err(X11Error::MissingExtension("XTEST"));
        }
        conn.xtest_get_version(2, 2).map_err(request_error)?.reply().map_err(request_error)?;
        let setup = conn.setup();
        let root = setup
            .roots
            .get(screen_num)
            .ok_or_else(|| X11Error::Connect(format!("the display has no screen {screen_num}")))?
            .root;
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let count = max.saturating_sub(min).saturating_add(1);
        let mapping = conn.get_keyboard_mapping(min, count).map_err(request_error)?.reply().map_err(request_error)?;
        let keymap = Keymap::new(min, mapping.keysyms_per_keycode, &mapping.keysyms);
        Ok(Self { conn, root, origin, keymap, held_keys: HashMap::new(), held_buttons: 0, applied })
    }

    /// The requests for one event.
    fn plan(&self, event: &InputEvent) -> Result<Vec<Fake>, InjectError> {
        match *event {
            InputEvent::Key { keysym, down } => plan_key(&self.keymap, &self.held_keys, keysym, down),
            InputEvent::PointerMove { x, y } => {
                let x = clamp_i16(i64::from(x) + i64::from(self.origin.0));
                let y = clamp_i16(i64::from(y) + i64::from(self.origin.1));
                Ok(vec![Fake { kind: xproto::MOTION_NOTIFY_EVENT, detail: 0, root: self.root, x, y }])
            }
            InputEvent::PointerRelative { dx, dy } => {
                let (x, y) = (clamp_i16(i64::from(dx)), clamp_i16(i64::from(dy)));
                Ok(vec![Fake { kind: xproto::MOTION_NOTIFY_EVENT, detail: 1, root: x11rb::NONE, x, y }])
            }
            InputEvent::Button { button, down } => {
                if !(1..=7).contains(&button) {
                    return Err(InjectError::Unsupported(format!("pointer button {button}")));
                }
                Ok(vec![Fake::button(button, down)])
            }
            InputEvent::Wheel { dx, dy } => Ok(plan_wheel(dx, dy)),
        }
    }

    /// Sends the requests, flushes, and waits until the server has processed them (one round
    /// trip for them all), returning the first error.
    fn send(&self, plan: &[Fake]) -> Result<(), InjectError> {
        let failed = |e: &dyn std::fmt::Display| InjectError::Failed(e.to_string());
        let mut cookies = Vec::with_capacity(plan.len());
        for f in plan {
            cookies.push(self.conn.xtest_fake_input(f.kind, f.detail, 0, f.root, f.x, f.y, 0).map_err(|e| failed(&e))?);
        }
        let mut first_error = None;
        for cookie in cookies {
            if let Err(e) = cookie.check() {
                first_error.get_or_insert_with(|| failed(&e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Records what an event that went through left pressed.
    fn track(&mut self, event: &InputEvent) {
        match *event {
            InputEvent::Key { keysym, down: true } => {
                if let Some(key) = self.keymap.lookup(keysym) {
                    self.held_keys.insert(keysym, key.keycode);
                }
            }
            InputEvent::Key { keysym, down: false } => {
                self.held_keys.remove(&keysym);
            }
            InputEvent::Button { button, down } => {
                let bit = 1u8 << (button & 7);
                if down {
                    self.held_buttons |= bit;
                } else {
                    self.held_buttons &= !bit;
                }
            }
            _ => {}
        }
    }
}

impl InputInjector for XTestInjector {
    fn inject(&mut self, seq: u64, event: &InputEvent) -> Result<(), InjectError> {
        let plan = self.plan(event)?;
        self.send(&plan)?;
        self.track(event);
        self.applied.fetch_max(seq, Ordering::Release);
        Ok(())
    }
}

impl Drop for XTestInjector {
    fn drop(&mut self) {
        let mut plan: Vec<Fake> = self.held_keys.values().map(|&code| Fake::key(code, false)).collect();
        plan.extend((1..=7).filter(|b| self.held_buttons & (1 << b) != 0).map(|b| Fake::button(b, false)));
        for f in plan {
            if let Ok(cookie) = self.conn.xtest_fake_input(f.kind, f.detail, 0, f.root, f.x, f.y, 0) {
                cookie.ignore_error();
            }
        }
        let _ = self.conn.flush();
    }
}

/// The requests for a key event, given the keys the client holds.
fn plan_key(keymap: &Keymap, held_keys: &HashMap<u32, u8>, keysym: u32, down: bool) -> Result<Vec<Fake>, InjectError> {
    let found = keymap.lookup(keysym);
    if !down {
        // Release the key this keysym pressed, even if the mapping would now say another.
        let keycode = held_keys.get(&keysym).copied().or(found.map(|k| k.keycode));
        let keycode = keycode.ok_or_else(|| no_key(keysym))?;
        return Ok(vec![Fake::key(keycode, false)]);
    }
    let Key { keycode, shifted } = found.ok_or_else(|| no_key(keysym))?;
    let held_shifts: Vec<u8> =
        held_keys.iter().filter(|&(&sym, _)| sym == SHIFT_L || sym == SHIFT_R).map(|(_, &code)| code).collect();
    let press = Fake::key(keycode, true);
    Ok(match (shifted, held_shifts.is_empty()) {
        (true, true) => {
            let shift = keymap
                .shift()
                .ok_or_else(|| InjectError::Unsupported(format!("keysym {keysym:#x} needs a Shift key")))?;
            vec![Fake::key(shift, true), press, Fake::key(shift, false)]
        }
        (false, false) => {
            let mut plan: Vec<Fake> = held_shifts.iter().map(|&code| Fake::key(code, false)).collect();
            plan.push(press);
            plan.extend(held_shifts.iter().map(|&code| Fake::key(code, true)));
            plan
        }
        _ => vec![press],
    })
}

/// Clicks of buttons 4/5 (vertical) and 6/7 (horizontal), at most [`MAX_WHEEL_STEPS`] per axis.
fn plan_wheel(dx: i32, dy: i32) -> Vec<Fake> {
    let mut plan = Vec::new();
    for (steps, negative, positive) in [(dy, 4, 5), (dx, 6, 7)] {
        let button = if steps < 0 { negative } else { positive };
        for _ in 0..steps.unsigned_abs().min(MAX_WHEEL_STEPS) {
            plan.extend([Fake::button(button, true), Fake::button(button, false)]);
        }
    }
    plan
}

fn no_key(keysym: u32) -> InjectError {
    InjectError::Unsupported(format!("keysym {keysym:#x} has no key on this display"))
}

fn clamp_i16(v: i64) -> i16 {
    // The clamp makes the conversion exact.
    v.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keycode 10: `1 !`, 11: `a A`, 50: Shift_L.
    fn keymap() -> Keymap {
        let mut syms = vec![0; 41 * 2];
        syms[..4].copy_from_slice(&[0x31, 0x21, 0x61, 0x41]);
        syms[40 * 2] = SHIFT_L;
        Keymap::new(10, 2, &syms)
    }

    #[test]
    fn shift_goes_around_shifted_keysyms() {
        let (map, none) = (keymap(), HashMap::new());
        let plan = plan_key(&map, &none, 0x21, true).unwrap();
        assert_eq!(plan, [Fake::key(50, true), Fake::key(10, true), Fake::key(50, false)]);
        assert_eq!(plan_key(&map, &none, 0x21, false).unwrap(), [Fake::key(10, false)]);
        assert_eq!(plan_key(&map, &none, 0x61, true).unwrap(), [Fake::key(11, true)]);
        assert!(matches!(plan_key(&map, &none, 0x7e, true), Err(InjectError::Unsupported(_))));
    }

    #[test]
    fn held_shift_is_respected_or_lifted() {
        let map = keymap();
        let held = HashMap::from([(SHIFT_L, 50)]);
        assert_eq!(plan_key(&map, &held, 0x41, true).unwrap(), [Fake::key(11, true)]);
        let plan = plan_key(&map, &held, 0x61, true).unwrap();
        assert_eq!(plan, [Fake::key(50, false), Fake::key(11, true), Fake::key(50, true)]);
        // A key is released where it was pressed.
        let held = HashMap::from([(0x41, 77)]);
        assert_eq!(plan_key(&map, &held, 0x41, false).unwrap(), [Fake::key(77, false)]);
    }

    #[test]
    fn wheel_clicks_are_bounded() {
        let down = Fake::button(5, true);
        assert_eq!(plan_wheel(0, 1), [down, Fake::button(5, false)]);
        let clicks = [Fake::button(4, true), Fake::button(4, false), Fake::button(6, true), Fake::button(6, false)];
        assert_eq!(plan_wheel(-1, -1), clicks);
        assert_eq!(plan_wheel(i32::MIN, i32::MAX).len(), 4 * MAX_WHEEL_STEPS as usize);
        assert!(plan_wheel(0, 0).is_empty());
    }
}
