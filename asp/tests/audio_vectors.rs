//! The audio packet's hex test vectors, read out of the document that specifies it
//! (docs/audio-section.md, and docs/PROTOCOL.md once the section is pasted there) and checked
//! both ways: the structure encodes to exactly those bytes, and the bytes decode to exactly
//! that structure.

use std::collections::BTreeMap;

use asp::proto::audio::{AudioCodec, AudioPacket};
use bytes::Bytes;

/// The `facade-audio-` vectors of every document that has them; a vector in both must be
/// the same in both.
fn vectors() -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut documents = 0;
    for doc in ["audio-section.md", "PROTOCOL.md"] {
        let path = format!("{}/../docs/{doc}", env!("CARGO_MANIFEST_DIR"));
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        documents += 1;
        for (name, bytes) in asp_core::vectors::from_document(&text) {
            if !name.starts_with("facade-audio-") {
                continue;
            }
            if let Some(other) = out.insert(name.clone(), bytes.clone()) {
                assert_eq!(other, bytes, "{name} differs between the documents");
            }
        }
    }
    assert!(documents > 0, "no document found");
    out
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
