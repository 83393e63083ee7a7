//! Input events, client to server, on the input channel (reliable, ordered, class 0).
//!
//! Each message is one bincode-encoded [`InputMessage`] of at most [`MAX_INPUT_LEN`] bytes.
//! Keys are X11 keysyms, as RFB (VNC) carries them: a keysym names the symbol the user meant,
//! so the server needs no copy of the client's keyboard layout. Pointer positions are in the
//! pixels of the display the server sends.

use bincode::{Decode, Encode};

/// Largest encoded input message.
pub const MAX_INPUT_LEN: usize = 256;

/// One input event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
#[non_exhaustive]
pub enum InputEvent {
    /// A key pressed or released, by X11 keysym (`XK_a` = 0x61, `XK_Return` = 0xff0d).
    Key {
        /// The keysym.
        keysym: u32,
        /// Pressed (true) or released.
        down: bool,
    },
    /// The pointer moved to an absolute position, in display pixels.
    PointerMove {
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// Relative pointer motion (pointer lock, games).
    PointerRelative {
        /// Horizontal motion.
        dx: i32,
        /// Vertical motion.
        dy: i32,
    },
    /// A pointer button, numbered as X11 numbers them (1 left, 2 middle, 3 right).
    Button {
        /// Button number, 1..=7.
        button: u8,
        /// Pressed (true) or released.
        down: bool,
    },
    /// Wheel steps; positive is down (dy) or right (dx).
    Wheel {
        /// Horizontal steps.
        dx: i32,
        /// Vertical steps.
        dy: i32,
    },
}

/// What the client sends: an event and its sequence number. Sequence numbers start at 1 and
/// grow by one per event; a display frame names the newest one whose effect it shows, which is
/// how click-to-photon latency is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct InputMessage {
    /// Sequence number, from 1.
    pub seq: u64,
    /// The event.
    pub event: InputEvent,
}

/// Why an input message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Longer than [`MAX_INPUT_LEN`].
    #[error("input message of {0} bytes exceeds the {MAX_INPUT_LEN}-byte limit")]
    TooLong(usize),
    /// Not a well-formed message.
    #[error("malformed input message: {0}")]
    Malformed(String),
    /// Well formed, but a field is out of range.
    #[error("input field out of range: {0}")]
    OutOfRange(&'static str),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_INPUT_LEN>()
}

impl InputMessage {
    /// Encodes the message.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        // Every variant is a handful of integers: far below the limit, so this cannot fail.
        bincode::encode_to_vec(self, config()).unwrap_or_default()
    }

    /// Decodes one message, refusing trailing bytes and out-of-range fields.
    ///
    /// # Errors
    /// [`InputError`] says what was wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, InputError> {
        if bytes.len() > MAX_INPUT_LEN {
            return Err(InputError::TooLong(bytes.len()));
        }
        let (message, used): (Self, usize) =
            bincode::decode_from_slice(bytes, config()).map_err(|e| InputError::Malformed(e.to_string()))?;
        if used != bytes.len() {
            return Err(InputError::Malformed(format!("{} trailing bytes", bytes.len() - used)));
        }
        if message.seq == 0 {
            return Err(InputError::OutOfRange("seq"));
        }
        if let InputEvent::Button { button, .. } = message.event {
            if !(1..=7).contains(&button) {
                return Err(InputError::OutOfRange("button"));
            }
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips() {
        let events = [
            InputEvent::Key { keysym: 0xff0d, down: true },
            InputEvent::PointerMove { x: 1919, y: 1079 },
            InputEvent::PointerRelative { dx: -5, dy: 7 },
            InputEvent::Button { button: 3, down: false },
            InputEvent::Wheel { dx: 0, dy: -2 },
        ];
        for (i, event) in events.into_iter().enumerate() {
            let message = InputMessage { seq: i as u64 + 1, event };
            assert_eq!(InputMessage::decode(&message.encode()), Ok(message));
        }
    }

    #[test]
    fn refuses_bad_messages() {
        let good = InputMessage { seq: 9, event: InputEvent::Button { button: 1, down: true } }.encode();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(InputMessage::decode(&trailing), Err(InputError::Malformed(_))));
        assert!(matches!(InputMessage::decode(&good[..good.len() - 1]), Err(InputError::Malformed(_))));
        assert_eq!(InputMessage::decode(&[0; 300]), Err(InputError::TooLong(300)));
        let zero = InputMessage { seq: 0, event: InputEvent::Wheel { dx: 0, dy: 1 } }.encode();
        assert_eq!(InputMessage::decode(&zero), Err(InputError::OutOfRange("seq")));
        let button = InputMessage { seq: 1, event: InputEvent::Button { button: 9, down: true } }.encode();
        assert_eq!(InputMessage::decode(&button), Err(InputError::OutOfRange("button")));
    }
}
