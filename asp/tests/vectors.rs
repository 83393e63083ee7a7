//! The facade's hex test vectors of docs/PROTOCOL.md §11, read out of the document itself and
//! checked both ways: the structure encodes to exactly those bytes, and the bytes decode to
//! exactly that structure.

use std::collections::BTreeMap;

use asp::proto::display::FrameHeader;
use asp::proto::input::{InputEvent, InputMessage};
use asp_codec::VideoCodec;
use asp_codec::scene::SceneClass;
use bytes::Bytes;

/// The facade's vectors (names starting `facade-`).
fn vectors() -> BTreeMap<String, Vec<u8>> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md")).expect("docs/PROTOCOL.md");
    asp_core::vectors::from_document(&doc).into_iter().filter(|(name, _)| name.starts_with("facade-")).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn facade_vectors_match_the_document() {
    let v = vectors();
    let header = FrameHeader {
        codec: VideoCodec::H264,
        keyframe: true,
        active: true,
        yuv444: false,
        scene: SceneClass::Office,
        width: 1920,
        height: 1080,
        frame_id: 42,
        capture_us: 1_000_000,
        answered_input: 7,
    };
    let display = header.encode_with(&[0, 0, 0, 1, 0x09, 0xf0]);
    let key = InputMessage { seq: 7, event: InputEvent::Key { keysym: 0x61, down: true } }.encode();
    let motion = InputMessage { seq: 300, event: InputEvent::PointerMove { x: 1000, y: 20 } }.encode();
    let cases: [(&str, Vec<u8>); 3] =
        [("facade-display-frame", display.to_vec()), ("facade-input-key", key), ("facade-input-pointer-move", motion)];
    for (name, ours) in &cases {
        let doc = v.get(*name).unwrap_or_else(|| panic!("{name} missing from docs/PROTOCOL.md; ours: {}", hex(ours)));
        assert_eq!(hex(ours), hex(doc), "{name}: encoding differs from the document");
    }
    let others = v
        .keys()
        .filter(|k| {
            ["facade-window-", "facade-cursor-", "facade-clipboard-", "facade-audio-"].iter().any(|p| k.starts_with(p))
        })
        .count();
    assert_eq!(v.len(), cases.len() + others, "every facade vector in the document is checked");
    let (decoded, bits) = FrameHeader::decode(Bytes::from(v["facade-display-frame"].clone())).unwrap();
    assert_eq!((decoded, &bits[..]), (header, &[0, 0, 0, 1, 0x09, 0xf0][..]));
    assert_eq!(
        InputMessage::decode(&v["facade-input-key"]),
        Ok(InputMessage { seq: 7, event: InputEvent::Key { keysym: 0x61, down: true } })
    );
    assert_eq!(
        InputMessage::decode(&v["facade-input-pointer-move"]),
        Ok(InputMessage { seq: 300, event: InputEvent::PointerMove { x: 1000, y: 20 } })
    );
}

#[test]
fn window_vectors_match_the_document() {
    use asp::proto::window::{Direction, Rect, WindowKind, WindowMessage};
    let v = vectors();
    let cases = [
        (
            "facade-window-created",
            WindowMessage::Created {
                id: 5,
                parent: 0,
                kind: WindowKind::Dialog,
                rect: Rect { x: -8, y: 100, width: 640, height: 480 },
                title: "Save".into(),
            },
        ),
        ("facade-window-restacked", WindowMessage::Restacked { order: vec![2, 5, 1] }),
        ("facade-window-move-request", WindowMessage::MoveRequest { id: 5, x: 300, y: 20 }),
    ];
    for (name, message) in cases {
        let ours = message.encode().unwrap();
        let doc = v.get(name).unwrap_or_else(|| panic!("{name} missing from docs/PROTOCOL.md; ours: {}", hex(&ours)));
        assert_eq!(hex(&ours), hex(doc), "{name}: encoding differs from the document");
        assert_eq!(WindowMessage::decode(doc, message.direction()), Ok(message));
    }
    assert_eq!(v.keys().filter(|k| k.starts_with("facade-window-")).count(), 3, "every window vector is checked");
    let _ = Direction::ServerToClient;
}

#[test]
fn cursor_vectors_match_the_document() {
    use asp::proto::cursor::{CursorMessage, CursorShape, CursorState};
    let v = vectors();
    let shape =
        CursorShape { id: 9, width: 2, height: 1, hot_x: 1, hot_y: 0, rgba: vec![0, 0, 0, 255, 255, 255, 255, 128] };
    let cases = [
        ("facade-cursor-shape", CursorMessage::Shape(shape)),
        ("facade-cursor-state", CursorMessage::State(CursorState { shape_id: 9, x: -3, y: 500, visible: true })),
    ];
    for (name, message) in cases {
        let ours = message.encode().unwrap();
        let doc = v.get(name).unwrap_or_else(|| panic!("{name} missing from docs/PROTOCOL.md; ours: {}", hex(&ours)));
        assert_eq!(hex(&ours), hex(doc), "{name}: encoding differs from the document");
        assert_eq!(CursorMessage::decode(doc), Ok(message));
    }
}

#[test]
fn clipboard_vectors_match_the_document() {
    use asp::proto::clipboard::{ClipboardMessage, RefusalReason, WireFormat};
    let v = vectors();
    let cases = [
        ("facade-clipboard-begin", ClipboardMessage::Begin { id: 7, format: WireFormat::Png, total: 1 << 20 }),
        ("facade-clipboard-chunk", ClipboardMessage::Chunk { id: 7, data: b"abc".to_vec() }),
        ("facade-clipboard-refused", ClipboardMessage::Refused { id: 7, reason: RefusalReason::Direction }),
    ];
    for (name, message) in cases {
        let ours = message.encode().unwrap();
        let doc = v.get(name).unwrap_or_else(|| panic!("{name} missing from docs/PROTOCOL.md; ours: {}", hex(&ours)));
        assert_eq!(hex(&ours), hex(doc), "{name}: encoding differs from the document");
        assert_eq!(ClipboardMessage::decode(doc), Ok(message));
    }
}
