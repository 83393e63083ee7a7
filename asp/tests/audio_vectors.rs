//! The audio packet's hex test vectors, read out of docs/PROTOCOL.md §11.6 and checked both
//! ways: the structure encodes to exactly those bytes, and the bytes decode to exactly
//! that structure.

use std::collections::BTreeMap;

use asp::proto::audio::{AudioCodec, AudioPacket};
use bytes::Bytes;

/// The `facade-audio-` vectors of docs/PROTOCOL.md (§11.6).
fn vectors() -> BTreeMap<String, Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md");
    let text = std::fs::read_to_string(path).expect("docs/PROTOCOL.md");
    asp_core::vectors::from_document(&text).into_iter().filter(|(name, _)| name.starts_with("facade-audio-")).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn audio_vectors_match_the_document() {
    let v = vectors();
    let cases = [
        (
            "facade-audio-opus-stereo",
            AudioPacket {
                codec: AudioCodec::Opus,
                channels: 2,
                sample_rate: 48_000,
                resume: false,
                duration: 960,
                seq: 7,
                capture_us: 1_000_000,
                payload: Bytes::from_static(&[0xfc, 0xff, 0xfe]),
            },
        ),
        (
            "facade-audio-opus-mono-resume",
            AudioPacket {
                codec: AudioCodec::Opus,
                channels: 1,
                sample_rate: 16_000,
                resume: true,
                duration: 160,
                seq: u32::MAX - 1,
                capture_us: 5_000_000_000,
                payload: Bytes::from_static(&[0x40]),
            },
        ),
    ];
    for (name, packet) in &cases {
        let ours = packet.encode().unwrap();
        let doc = v.get(*name).unwrap_or_else(|| panic!("{name} missing from the documents; ours: {}", hex(&ours)));
        assert_eq!(hex(&ours), hex(doc), "{name}: encoding differs from the document");
        assert_eq!(AudioPacket::decode(Bytes::from(doc.clone())).as_ref(), Ok(packet), "{name}: decoding");
    }
    assert_eq!(v.len(), cases.len(), "every audio vector in the documents is checked");
}
