//! The hex test vectors of docs/PROTOCOL.md §10, read out of the document itself, checked both
//! ways against the code: the structure built here encodes to exactly those bytes, and the
//! bytes decode to exactly this structure.

use std::collections::BTreeMap;

use asp_core::wire::coding::{get_varint, put_varint};
use asp_core::wire::control::{ControlMessage, KeyframeReason, StallKind, StallReport, StatsReport};
use asp_core::wire::frame::{AckFrame, CloseFrame, FeedbackFrame, Fragment, Frame, FrameIter, NackFrame, RepairFrame};
use asp_core::wire::handshake::{
    AudioCodec, AudioFormat, Capabilities, Chroma, ClipboardCapability, HandshakeMessage, Monitor, VideoCapability,
    VideoCodec, VideoProfile,
};
use asp_core::wire::packet::Header;
use asp_core::{ChannelConfig, ChannelId, ChannelKind};
use bytes::Bytes;

/// Vectors by name, from the document.
fn vectors() -> BTreeMap<String, Vec<u8>> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md")).expect("docs/PROTOCOL.md");
    asp_core::vectors::from_document(&doc)
}

fn packet(header: Header, frames: Vec<Frame>) -> (Header, Vec<Frame>) {
    (header, frames)
}

fn check_packet(name: &str, bytes: &[u8], (header, frames): (Header, Vec<Frame>)) {
    let mut encoded = Vec::new();
    header.encode(&mut encoded);
    for f in &frames {
        f.encode(&mut encoded);
    }
    assert_eq!(hex(&encoded), hex(bytes), "{name}: encoding differs from the document");
    let mut buf = Bytes::copy_from_slice(bytes);
    assert_eq!(Header::decode(&mut buf).unwrap(), header, "{name}: header");
    let decoded: Vec<Frame> = FrameIter::new(buf).collect::<Result<_, _>>().unwrap();
    assert_eq!(decoded, frames, "{name}: frames");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

fn hello_capabilities() -> Capabilities {
    Capabilities {
        video: vec![VideoCapability {
            codec: VideoCodec::H264,
            profile: VideoProfile::High,
            chroma: Chroma::Yuv444,
            max_width: 1920,
            max_height: 1080,
            max_fps: 60,
            hardware: false,
        }],
        audio: vec![AudioFormat { codec: AudioCodec::Opus, sample_rate: 48_000, channels: 2 }],
        usb: true,
        clipboard: ClipboardCapability { text: true, image: false, files: false },
        window_streaming: false,
        monitors: vec![Monitor { id: 0, x: 0, y: 0, width: 1920, height: 1080, refresh_mhz: 60_000, primary: true }],
    }
}

#[test]
fn document_vectors_match_the_code() {
    let v = vectors();
    let mut checked = 0;

    for (name, value) in [("varint-37", 37u64), ("varint-15293", 15_293), ("varint-494878333", 494_878_333)] {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        assert_eq!(out, v[name], "{name}");
        assert_eq!(get_varint(&mut &v[name][..]), Ok(value));
        checked += 1;
    }

    let short = |n| Header::Short { number: n };
    let packets = [
        ("packet-ping", packet(short(7), vec![Frame::Timestamp(1000), Frame::Ping])),
        (
            "packet-ack",
            packet(short(9), vec![Frame::Ack(AckFrame { delay_micros: 250, ranges: vec![(18, 20), (10, 15)] })]),
        ),
        (
            "packet-message",
            packet(
                short(10),
                vec![Frame::Fragment(Fragment {
                    channel: 3,
                    seq: 0,
                    total: 5,
                    offset: 0,
                    deadline: None,
                    data: Bytes::from_static(b"hello"),
                })],
            ),
        ),
        (
            "packet-media",
            packet(
                short(11),
                vec![Frame::Fragment(Fragment {
                    channel: 2,
                    seq: 7,
                    total: 3000,
                    offset: 1200,
                    deadline: Some(5_000_000),
                    data: Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef]),
                })],
            ),
        ),
        ("packet-dropped", packet(short(12), vec![Frame::Dropped { channel: 2, seq: 7, reason: 1 }])),
        ("packet-close", packet(short(13), vec![Frame::Close(CloseFrame { code: 7, reason: "bye".into() })])),
        (
            "packet-feedback",
            packet(
                short(15),
                vec![Frame::Feedback(FeedbackFrame {
                    base: 100,
                    arrivals: vec![Some(5_000_000), None, Some(5_001_000), Some(5_001_500)],
                })],
            ),
        ),
        (
            "packet-repair",
            packet(
                short(16),
                vec![Frame::Repair(RepairFrame {
                    channel: 2,
                    seq: 7,
                    total: 6,
                    shard: 4,
                    count: 1,
                    index: 0,
                    deadline: 100,
                    data: Bytes::from_static(&[1, 2, 3, 4]),
                })],
            ),
        ),
        (
            "packet-extension",
            packet(short(14), vec![Frame::Extension { ty: 0x2a, body: Bytes::from_static(&[0xaa, 0xbb, 0xcc]) }]),
        ),
        (
            "packet-nack",
            packet(
                short(17),
                vec![Frame::Nack(NackFrame { channel: 2, seq: 7, ranges: vec![(1080, 1080), (4320, 500)] })],
            ),
        ),
        ("packet-version-negotiation", packet(Header::VersionNegotiation { versions: vec![1, 2] }, vec![])),
        (
            "packet-hello",
            packet(
                Header::Long { version: 1, number: 0 },
                vec![Frame::Handshake(Bytes::from(
                    HandshakeMessage::Hello { nonce: 0x0102_0304_0506_0708, capabilities: hello_capabilities() }
                        .encode()
                        .unwrap(),
                ))],
            ),
        ),
    ];
    for (name, expected) in packets {
        check_packet(name, &v[name], expected);
        checked += 1;
    }
    // The Hello body inside the packet decodes to the same message.
    let mut hello = Bytes::copy_from_slice(&v["packet-hello"]);
    Header::decode(&mut hello).unwrap();
    let Some(Ok(Frame::Handshake(body))) = FrameIter::new(hello).next() else { panic!("no handshake frame") };
    assert_eq!(
        HandshakeMessage::decode(&body).unwrap(),
        HandshakeMessage::Hello { nonce: 0x0102_0304_0506_0708, capabilities: hello_capabilities() }
    );

    let welcome = HandshakeMessage::Welcome { nonce: 5, capabilities: Capabilities::default() };
    assert_eq!(hex(&welcome.encode().unwrap()), hex(&v["handshake-welcome"]));
    assert_eq!(HandshakeMessage::decode(&v["handshake-welcome"]).unwrap(), welcome);
    checked += 1;

    let controls = [
        (
            "control-open-channel",
            ControlMessage::OpenChannel { id: ChannelId(3), config: ChannelConfig::for_kind(ChannelKind::Input) },
        ),
        ("control-close-channel", ControlMessage::CloseChannel { id: ChannelId(3) }),
        (
            "control-keyframe-request",
            ControlMessage::KeyframeRequest { channel: ChannelId(2), reason: KeyframeReason::FrameLost },
        ),
        (
            "control-stats-report",
            ControlMessage::StatsReport(StatsReport {
                rtt_micros: 20_000,
                loss_ppm: 1000,
                receive_kbps: 900,
                frames_shown: 60,
                frames_dropped: 1,
                decode_micros: 2500,
            }),
        ),
        (
            "control-stall-report",
            ControlMessage::StallReport(StallReport {
                kind: StallKind::NoFrames,
                duration_ms: 250,
                estimate_kbps: 3000,
                loss_ppm: 0,
                queue_ms: 40,
                decoder_state: "ok".into(),
            }),
        ),
        ("control-time-probe", ControlMessage::TimeProbe { sent_us: 1000 }),
        ("control-time-echo", ControlMessage::TimeEcho { probe_us: 1000, peer_us: 5_000_000 }),
    ];
    for (name, msg) in controls {
        assert_eq!(hex(&msg.encode().unwrap()), hex(&v[name]), "{name}");
        assert_eq!(ControlMessage::decode(&v[name]).unwrap(), msg, "{name}");
        checked += 1;
    }
    // The facade's payloads (§11) are the `asp` crate's to check (asp/tests/vectors.rs).
    let engine = v.keys().filter(|name| !name.starts_with("facade-")).count();
    assert_eq!(checked, engine, "every engine vector in the document is checked");
}

#[test]
fn decoders_refuse_trailing_and_oversized_bodies() {
    let mut bytes = ControlMessage::CloseChannel { id: ChannelId(3) }.encode().unwrap();
    bytes.push(0);
    assert!(ControlMessage::decode(&bytes).is_err());
    // A Vec claiming 2^60 elements must be refused before any allocation.
    let mut huge = vec![0x00, 0x05];
    huge.extend([0xfd, 0, 0, 0, 0, 0, 0, 0, 0x10]);
    assert!(HandshakeMessage::decode(&huge).is_err());
    assert!(ControlMessage::decode(&vec![4u8; 70_000]).is_err());
}
