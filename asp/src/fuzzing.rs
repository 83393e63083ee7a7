//! Fuzz harnesses for the facade's parsers of network bytes, compiled with the library so they
//! cannot rot; fuzz/fuzz_targets/facade_messages.rs drives them, and a test feeds them random
//! bytes.

use bytes::Bytes;

use crate::proto::cursor::CursorMessage;
use crate::proto::display::FrameHeader;
use crate::proto::input::InputMessage;
use crate::proto::window::{Direction, WindowMessage, WindowModel};

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

/// Window channel messages: the input is a sequence of `[header byte][message]`, the header's
/// low 7 bits the message's length and its top bit the direction (0: an event, server to
/// client; 1: a request). Each message that decodes must survive the round trip, and every event is applied to one [`WindowModel`], which must stay consistent
/// whatever it is fed.
///
/// # Panics
/// On a round-trip mismatch or an inconsistent model: bugs to find.
pub fn window_messages(data: &[u8]) {
    let mut model = WindowModel::new();
    let mut rest = data;
    while let Some((&header, tail)) = rest.split_first() {
        let (message, next) = tail.split_at(usize::from(header & 0x7f).min(tail.len()));
        rest = next;
        let direction = if header & 0x80 == 0 { Direction::ServerToClient } else { Direction::ClientToServer };
        let Ok(decoded) = WindowMessage::decode(message, direction) else { continue };
        let again = decoded.encode().expect("a decoded message encodes");
        assert_eq!(WindowMessage::decode(&again, direction).as_ref(), Ok(&decoded), "window message round trip");
        if direction == Direction::ServerToClient {
            let before = model.clone();
            if model.apply(&decoded).is_err() {
                assert_eq!(model, before, "a refused event changed the model");
            }
            assert!(model.is_consistent(), "window model inconsistent after {decoded:?}");
        }
    }
}

/// Cursor channel messages: the input is a sequence of `[u16 big-endian length][message]`;
/// each message that decodes must survive the round trip, and every message (decodable or
/// not) goes through one client-side cursor receiver, whose cache must stay bounded.
///
/// # Panics
/// On a round-trip mismatch or an overfull cache: bugs to find.
pub fn cursor_messages(data: &[u8]) {
    use crate::client::cursor_fuzzing::Receiver;
    let mut receiver = Receiver::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let (message, next) = rest[2..].split_at(len.min(rest.len() - 2));
        rest = next;
        if let Ok(decoded) = CursorMessage::decode(message) {
            let again = decoded.encode().expect("a decoded message encodes");
            assert_eq!(CursorMessage::decode(&again).as_ref(), Ok(&decoded), "cursor message round trip");
        }
        receiver.feed(message);
        assert!(receiver.shapes_held() <= crate::cursor::SHAPES_KEPT, "the shape cache grew past its bound");
    }
}

/// Audio packets and the receiver's jitter buffer they feed. The input is a sequence of
/// events, each a header byte: top bit set, a playout tick (the low 7 bits: ms since the last
/// tick); clear, a message arriving now, its length the low 7 bits (127: the rest of the input,
/// to reach the size limit) followed by its bytes. Whatever decodes must encode back to the
/// same bytes and goes into one [`JitterBuffer`](crate::audio::JitterBuffer), which must stay
/// within its bounds and play frames in sequence order whatever it is fed.
///
/// # Panics
/// On a round-trip mismatch, a buffer over its bounds, or frames played out of order: bugs
/// to find.
pub fn audio_packets(data: &[u8]) {
    use crate::audio::jitter::{JitterBuffer, JitterConfig, PacketInfo, Playout};
    use crate::proto::audio::AudioPacket;

    let config = JitterConfig::default();
    let mut buffer = JitterBuffer::new(config).expect("the default configuration is valid");
    let mut now = 0u64;
    // The last frame played or concealed, and the resync count then.
    let mut last: Option<(u32, u64)> = None;
    let mut rest = data;
    while let Some((&header, tail)) = rest.split_first() {
        if header & 0x80 != 0 {
            now += u64::from(header & 0x7f) * 1000;
            rest = tail;
            let before = buffer.stats();
            let seq = match buffer.pop(now) {
                Playout::Frame { seq, .. } | Playout::Missing { seq, .. } => seq,
                Playout::Waiting | Playout::Stretch => continue,
            };
            let after = buffer.stats();
            if let Some((previous, _)) = last.filter(|&(_, resyncs)| resyncs == after.resyncs) {
                let step = seq.wrapping_sub(previous);
                let skipped = after.skipped - before.skipped;
                assert_eq!(u64::from(step), 1 + skipped, "frames play in order, one per tick: {previous} then {seq}");
            }
            last = Some((seq, after.resyncs));
        } else {
            let len = if header == 0x7f { tail.len() } else { usize::from(header).min(tail.len()) };
            let (message, next) = tail.split_at(len);
            rest = next;
            let Ok(packet) = AudioPacket::decode(Bytes::copy_from_slice(message)) else { continue };
            let again = packet.encode().expect("a decoded packet encodes");
            assert_eq!(&again[..], message, "audio packet round trip");
            let info = PacketInfo { seq: packet.seq, capture_us: packet.capture_us, resume: packet.resume };
            let _ = buffer.insert(info, packet.payload, now);
        }
        let stats = buffer.stats();
        assert!(stats.buffered <= config.capacity && stats.max_buffered <= config.capacity, "{stats:?}");
        assert!((config.min_delay_us..=config.max_delay_us).contains(&stats.target_us), "{stats:?}");
        assert!(stats.played <= stats.received, "{stats:?}");
    }
}

/// Clipboard channel messages, as the server's end of the link receives them: the input is a
/// sequence of `[u16 big-endian length][message]`. Whatever decodes must survive the round
/// trip; everything goes through one server-side link with a small size limit, which must
/// never hand out a copy larger than the limit or one that is not what its format claims.
///
/// # Panics
/// On a round-trip mismatch or a copy the link should have refused: bugs to find.
pub fn clipboard_messages(data: &[u8]) {
    use crate::clipboard::link::{ClipboardLink, Inbound};
    use crate::clipboard::{ClipboardContent, ClipboardPolicy};
    use crate::proto::clipboard::ClipboardMessage;

    let policy = ClipboardPolicy { max_bytes: 4096, ..ClipboardPolicy::default() };
    let mut link = ClipboardLink::server(policy);
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let (message, next) = rest[2..].split_at(len.min(rest.len() - 2));
        rest = next;
        if let Ok(decoded) = ClipboardMessage::decode(message) {
            let again = decoded.encode().expect("a decoded message encodes");
            assert_eq!(ClipboardMessage::decode(&again).as_ref(), Ok(&decoded), "clipboard message round trip");
        }
        match link.on_message(message) {
            Inbound::Copy(content) => {
                assert!(content.len() <= 4096 + 2 * crate::clipboard::link::MAX_FILES, "a copy over the limit");
                if let ClipboardContent::Png(png) = &content {
                    assert!(png.starts_with(b"\x89PNG"), "an image that is not a PNG");
                }
            }
            Inbound::Refuse(answer) => {
                assert!(ClipboardMessage::decode(&answer).is_ok(), "the refusal must parse");
            }
            Inbound::Nothing => {}
        }
    }
}

/// USB redirection (usbredir) packets, as one side's [`Parser`](crate::usb::Parser) reads
/// them from the other. The input: byte 0 picks our role (bit 0: host or guest) and seeds how
/// the stream is cut; byte 1 is the low byte of the capabilities we announce; the rest is the
/// stream from the peer, under a 4096-byte packet limit. Every packet yielded must encode back
/// to exactly its bytes and decode alone to the same packet; the stream cut into pieces must
/// yield what it yields whole; the counters must account for every byte, and a parser fed in
/// pieces must never hold more than one packet.
///
/// # Panics
/// On a round-trip mismatch, a difference between the cut and the whole stream, or counters
/// that do not add up: bugs to find.
pub fn usbredir_packets(data: &[u8]) {
    use crate::usb::{Caps, Limits, Parser, ParserStats, Role};

    let [selector, caps, stream @ ..] = data else { return };
    let role = if selector & 1 == 0 { Role::Host } else { Role::Guest };
    let ours = Caps::from_bits(u32::from(*caps));
    let limits = Limits::new(4096).expect("4096 is a valid limit");
    let balanced = |s: &ParserStats| {
        assert_eq!(s.bytes_fed + s.skip_pending, s.consumed() + s.buffered as u64, "bytes unaccounted for: {s:?}");
    };

    let mut whole = Parser::new(role, ours, limits);
    whole.feed(stream);
    let mut results = Vec::new();
    let mut payload_bytes = 0;
    loop {
        let codec = whole.incoming();
        let before = whole.stats();
        let Some(result) = whole.poll() else { break };
        let after = whole.stats();
        balanced(&after);
        if let Ok(received) = &result {
            let frame = &stream[before.consumed() as usize..after.consumed() as usize];
            let mut again = Vec::new();
            codec.encode(received.id, &received.packet, &mut again).expect("a decoded packet encodes");
            assert_eq!(again, frame, "usbredir round trip of {:?}", received.packet);
            let alone = codec.decode(Bytes::copy_from_slice(frame)).expect("a yielded frame decodes alone");
            assert_eq!(alone, (received.id, received.packet.clone()), "decoded alone");
            payload_bytes += received.packet.payload().map_or(0, |p| p.len() as u64);
        }
        results.push(result);
        let s = whole.stats();
        assert_eq!(s.packets + s.refused, results.len() as u64, "{s:?}");
    }
    let s = whole.stats();
    assert_eq!(s.payload_bytes, payload_bytes, "{s:?}");
    assert_eq!(s.bytes_fed, stream.len() as u64);

    // The same stream in pieces of 1 to 64 bytes.
    let mut cut = Parser::new(role, ours, limits);
    let mut pieces = Vec::new();
    let mut rest = stream;
    let mut x = u32::from(*selector).wrapping_mul(2_654_435_761) | 1;
    while !rest.is_empty() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (1 + (x >> 16) as usize % 64).min(rest.len());
        cut.feed(&rest[..n]);
        rest = &rest[n..];
        while let Some(result) = cut.poll() {
            pieces.push(result);
            balanced(&cut.stats());
        }
        let s = cut.stats();
        assert!(s.buffered < 16 + 4096, "a parser fed in pieces holds at most one packet: {s:?}");
    }
    assert_eq!(pieces, results, "the stream cut into pieces yields what it yields whole");
    assert_eq!(cut.stats(), whole.stats());
}

/// usbredir device filters (the text of a `filter_filter` packet, which a host reads from the
/// guest). The input: bytes 0..4 a device (class, and the classes of up to three interfaces,
/// the high bit of each making it a headset's non-boot HID interface instead), the rest the
/// filter text, lossily UTF-8. A filter that parses must print to text that parses to the
/// same filter, and judge the device the same way after that round trip.
///
/// # Panics
/// On a round-trip mismatch: a bug to find.
pub fn usbredir_filter(data: &[u8]) {
    use crate::usb::filter::{Filter, FilteredDevice};

    let [class, a, b, c, text @ ..] = data else { return };
    let interface = |x: u8| if x & 0x80 != 0 { [0x03, 0, 0] } else { [x, 0, 0] };
    let count = usize::from(*class & 3);
    let device = FilteredDevice {
        class: *class & 0xfc,
        vendor: u16::from_le_bytes([*a, *b]),
        product: u16::from(*c),
        version: 0x0100,
        interfaces: [*a, *b, *c].into_iter().take(count).map(interface).collect(),
    };
    let text = String::from_utf8_lossy(text);
    let Ok(filter) = Filter::parse(&text) else { return };
    let printed = filter.to_string();
    let again = Filter::parse(&printed).expect("a printed filter parses");
    assert_eq!(again, filter, "filter round trip through {printed:?}");
    assert_eq!(again.check(&device), filter.check(&device));
}
