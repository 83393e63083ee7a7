//! Fuzz harnesses for the facade's parsers of network bytes, compiled with the library so they
//! cannot rot; fuzz/fuzz_targets/facade_messages.rs drives them, and a test feeds them random
//! bytes.

use bytes::Bytes;

use crate::proto::display::FrameHeader;
use crate::proto::input::InputMessage;

/// The first byte picks the parser (even: display header, odd: input message); the rest is
/// the message. Whatever parses must encode back to the same bytes.
///
/// # Panics
/// When a parsed message does not survive the round trip: that is a bug to find.
pub fn facade_messages(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    if selector % 2 == 0 {
        if let Ok((header, bitstream)) = FrameHeader::decode(Bytes::copy_from_slice(body)) {
            assert_eq!(&header.encode_with(&bitstream)[..], body, "display header round trip");
        }
    } else if let Ok(message) = InputMessage::decode(body) {
        assert_eq!(InputMessage::decode(&message.encode()), Ok(message), "input message round trip");
    }
}
