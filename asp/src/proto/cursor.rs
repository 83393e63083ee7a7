//! The cursor channel: the pointer's shape, sent once per shape id on a reliable cursor
//! channel, and its position and visibility on a latest-wins one, so that a client draws the
//! pointer itself and motion never waits for a video frame. bincode, specified in
//! docs/PROTOCOL.md §11.4.

use bincode::{Decode, Encode};

/// Largest cursor side, pixels (X cursors are at most 64 in practice; large accessibility
/// cursors 128).
pub const MAX_CURSOR_SIDE: u16 = 128;
/// Longest encoded cursor message: a 128 x 128 RGBA shape and its fields.
pub const MAX_CURSOR_MESSAGE_LEN: usize = 128 * 128 * 4 + 64;

/// A pointer image. The same id always means the same image.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct CursorShape {
    /// Its id (not 0), chosen by the server.
    pub id: u64,
    /// Width, 1..=[`MAX_CURSOR_SIDE`].
    pub width: u16,
    /// Height, 1..=[`MAX_CURSOR_SIDE`].
    pub height: u16,
    /// The hot spot's column, inside the image.
    pub hot_x: u16,
    /// The hot spot's row, inside the image.
    pub hot_y: u16,
    /// Straight (not premultiplied) RGBA, row by row, `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// Where the pointer is and what it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct CursorState {
    /// The shape's id (sent before as a [`CursorShape`]; 0 with `visible` false for none).
    pub shape_id: u64,
    /// The hot spot's column on the remote screen.
    pub x: i32,
    /// The hot spot's row.
    pub y: i32,
    /// Whether the pointer shows.
    pub visible: bool,
}

/// One message on a cursor channel.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum CursorMessage {
    /// A new shape (on the reliable cursor channel).
    Shape(CursorShape),
    /// The pointer now (on the latest-wins cursor channel).
    State(CursorState),
}

/// Why a cursor message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Longer than [`MAX_CURSOR_MESSAGE_LEN`].
    #[error("cursor message of {0} bytes exceeds the {MAX_CURSOR_MESSAGE_LEN}-byte limit")]
    TooLong(usize),
    /// Not a well-formed message.
    #[error("malformed cursor message: {0}")]
    Malformed(String),
    /// Well formed, but a field is out of range.
    #[error("cursor field out of range: {0}")]
    OutOfRange(&'static str),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_CURSOR_MESSAGE_LEN>()
}

impl CursorShape {
    fn validate(&self) -> Result<(), CursorError> {
        let check = |ok: bool, what| if ok { Ok(()) } else { Err(CursorError::OutOfRange(what)) };
        check(self.id != 0, "id")?;
        check((1..=MAX_CURSOR_SIDE).contains(&self.width), "width")?;
        check((1..=MAX_CURSOR_SIDE).contains(&self.height), "height")?;
        check(self.hot_x < self.width && self.hot_y < self.height, "hot spot")?;
        check(self.rgba.len() == usize::from(self.width) * usize::from(self.height) * 4, "rgba length")
    }
}

impl CursorMessage {
    /// Encodes the message.
    ///
    /// # Errors
    /// [`CursorError::OutOfRange`] for a shape [`decode`](Self::decode) would refuse.
    pub fn encode(&self) -> Result<Vec<u8>, CursorError> {
        if let Self::Shape(shape) = self {
            shape.validate()?;
        }
        bincode::encode_to_vec(self, config()).map_err(|e| CursorError::Malformed(e.to_string()))
    }

    /// Decodes one message, refusing trailing bytes and out-of-range fields.
    ///
    /// # Errors
    /// [`CursorError`] says what was wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, CursorError> {
        if bytes.len() > MAX_CURSOR_MESSAGE_LEN {
            return Err(CursorError::TooLong(bytes.len()));
        }
        let (message, used): (Self, usize) =
            bincode::decode_from_slice(bytes, config()).map_err(|e| CursorError::Malformed(e.to_string()))?;
        if used != bytes.len() {
            return Err(CursorError::Malformed(format!("{} trailing bytes", bytes.len() - used)));
        }
        if let Self::Shape(shape) = &message {
            shape.validate()?;
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(id: u64, side: u16) -> CursorShape {
        CursorShape {
            id,
            width: side,
            height: side,
            hot_x: 0,
            hot_y: 0,
            rgba: vec![7; usize::from(side) * usize::from(side) * 4],
        }
    }

    #[test]
    fn round_trips() {
        for m in [
            CursorMessage::Shape(shape(3, 32)),
            CursorMessage::Shape(shape(u64::MAX, MAX_CURSOR_SIDE)),
            CursorMessage::State(CursorState { shape_id: 3, x: -4, y: 1079, visible: true }),
        ] {
            assert_eq!(CursorMessage::decode(&m.encode().unwrap()), Ok(m));
        }
    }

    #[test]
    fn refuses_bad_shapes_and_bytes() {
        assert_eq!(CursorMessage::Shape(shape(0, 8)).encode(), Err(CursorError::OutOfRange("id")));
        assert_eq!(CursorMessage::Shape(shape(1, MAX_CURSOR_SIDE + 1)).encode(), Err(CursorError::OutOfRange("width")));
        let mut short = shape(1, 8);
        short.rgba.pop();
        assert_eq!(CursorMessage::Shape(short).encode(), Err(CursorError::OutOfRange("rgba length")));
        let mut hot = shape(1, 8);
        hot.hot_x = 8;
        assert_eq!(CursorMessage::Shape(hot).encode(), Err(CursorError::OutOfRange("hot spot")));
        let good = CursorMessage::State(CursorState { shape_id: 1, x: 0, y: 0, visible: true }).encode().unwrap();
        assert!(matches!(CursorMessage::decode(&[good.clone(), vec![0]].concat()), Err(CursorError::Malformed(_))));
        // A length that claims a huge image is refused before allocating it.
        let huge = [0x00, 0x01, 0x08, 0x08, 0x00, 0x00, 0xfc, 0xff, 0xff, 0xff, 0x7f];
        assert!(CursorMessage::decode(&huge).is_err());
    }
}
