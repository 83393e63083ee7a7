//! Random and mutated bytes through the facade's fuzz harness: no panic, and whatever parses
//! survives a round trip (the harness asserts it).

mod common;

use asp::proto::display::FrameHeader;
use asp::proto::input::{InputEvent, InputMessage};
use common::rng::Rng;

#[test]
fn random_and_mutated_messages() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let header = FrameHeader::decode(bytes::Bytes::from(
        vec![1, 0, 3, 0, 0, 64, 0, 32].into_iter().chain([0; 24]).collect::<Vec<u8>>(),
    ))
    .unwrap()
    .0;
    let seeds: Vec<Vec<u8>> = vec![
        [vec![0], header.encode_with(b"\0\0\0\x01abc").to_vec()].concat(),
        [vec![1], InputMessage { seq: 5, event: InputEvent::Key { keysym: 0x61, down: true } }.encode()].concat(),
        [vec![1], InputMessage { seq: 9, event: InputEvent::Wheel { dx: -3, dy: 1 } }.encode()].concat(),
    ];
    let mut parsed = 0;
    for i in 0..60_000 {
        let mut data = seeds[i % seeds.len()].clone();
        let edits = rng.next() % 4;
        for _ in 0..edits {
            let at = (rng.next() as usize) % data.len().max(1);
            match rng.next() % 3 {
                0 if !data.is_empty() => data[at] = rng.next() as u8,
                1 => data.truncate(at),
                _ => data.insert(at.min(data.len()), rng.next() as u8),
            }
        }
        if i % 7 == 0 {
            data = (0..rng.next() % 64).map(|_| rng.next() as u8).collect();
        }
        asp::fuzzing::facade_messages(&data);
        parsed += usize::from(data.first().is_some_and(|s| s % 2 == 1) && InputMessage::decode(&data[1..]).is_ok());
    }
    assert!(parsed > 1000, "the mutations must also produce valid messages ({parsed})");
}

/// Sequences of window messages, mutated: the harness checks round trips and that the window
/// model stays consistent and is left unchanged by every event it refuses.
#[test]
fn random_and_mutated_window_sequences() {
    use asp::proto::window::{Direction, Rect, WindowKind, WindowMessage};
    // The harness's framing: a header byte (length; top bit clear for an event), the message.
    let event = |m: WindowMessage| {
        let bytes = m.encode().unwrap();
        [vec![bytes.len() as u8], bytes].concat()
    };
    let created = |id, parent| WindowMessage::Created {
        id,
        parent,
        kind: WindowKind::Normal,
        rect: Rect { x: 0, y: 0, width: 100, height: 100 },
        title: "t".into(),
    };
    let seed: Vec<u8> = [
        event(created(1, 0)),
        event(created(2, 1)),
        event(WindowMessage::Restacked { order: vec![2, 1] }),
        event(WindowMessage::Focused { id: 2 }),
        event(WindowMessage::Moved { id: 1, x: 5, y: 5 }),
        event(WindowMessage::Closed { id: 1 }),
    ]
    .concat();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut applied = 0;
    for _ in 0..20_000 {
        let mut data = seed.clone();
        for _ in 0..rng.next() % 6 {
            let at = (rng.next() as usize) % data.len();
            data[at] = rng.next() as u8;
        }
        asp::fuzzing::window_messages(&data);
        let first = &data[1..=usize::from(data[0] & 0x7f).min(data.len() - 1)];
        applied += usize::from(data[0] & 0x80 == 0 && WindowMessage::decode(first, Direction::ServerToClient).is_ok());
    }
    assert!(applied > 1000, "the mutations must also keep valid messages ({applied})");
}

/// Sequences of cursor messages, mutated: round trips hold and the client's shape cache stays
/// bounded.
#[test]
fn random_and_mutated_cursor_sequences() {
    use asp::proto::cursor::{CursorMessage, CursorState};
    let framed = |m: CursorMessage| {
        let bytes = m.encode().unwrap();
        [u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec(), bytes].concat()
    };
    let state = |shape_id, x| CursorMessage::State(CursorState { shape_id, x, y: 3, visible: true });
    let seed: Vec<u8> = [
        framed(state(7, 1)),
        framed(CursorMessage::Shape(asp::cursor::arrow(7, 8))),
        framed(state(7, 2)),
        framed(CursorMessage::Shape(asp::cursor::arrow(8, 8))),
        framed(state(8, 3)),
    ]
    .concat();
    let mut rng = Rng(0x8f1b_bcdc_bfa5_3e0b);
    for _ in 0..3_000 {
        let mut data = seed.clone();
        for _ in 0..rng.next() % 5 {
            let at = (rng.next() as usize) % data.len();
            data[at] = rng.next() as u8;
        }
        asp::fuzzing::cursor_messages(&data);
    }
    asp::fuzzing::cursor_messages(&seed);
}

/// Clipboard transfers, mutated: round trips hold, and the server's end never hands out a copy
/// over its limit or one that is not what it claims.
#[test]
fn random_and_mutated_clipboard_transfers() {
    use asp::proto::clipboard::{ClipboardMessage, WireFormat};
    let framed = |m: ClipboardMessage| {
        let bytes = m.encode().unwrap();
        [u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec(), bytes].concat()
    };
    let seed: Vec<u8> = [
        framed(ClipboardMessage::Begin { id: 1, format: WireFormat::Text, total: 10 }),
        framed(ClipboardMessage::Chunk { id: 1, data: b"hello".to_vec() }),
        framed(ClipboardMessage::Chunk { id: 1, data: b"world".to_vec() }),
        framed(ClipboardMessage::Begin { id: 2, format: WireFormat::Png, total: 12 }),
        framed(ClipboardMessage::Chunk { id: 2, data: b"\x89PNG\r\n\x1a\n1234".to_vec() }),
        framed(ClipboardMessage::Begin { id: 3, format: WireFormat::Files, total: 20 }),
        framed(ClipboardMessage::Chunk { id: 3, data: b"file:///a\r\nfile:///b".to_vec() }),
    ]
    .concat();
    asp::fuzzing::clipboard_messages(&seed);
    let mut rng = Rng(0x1f83_d9ab_fb41_bd6b);
    for _ in 0..10_000 {
        let mut data = seed.clone();
        for _ in 0..rng.next() % 5 {
            let at = (rng.next() as usize) % data.len();
            data[at] = rng.next() as u8;
        }
        asp::fuzzing::clipboard_messages(&data);
    }
}
