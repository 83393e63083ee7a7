//! Fuzz harnesses, compiled with the library so they cannot rot. The cargo-fuzz targets in
//! `fuzz/` are one-line calls into these functions, and the test suite runs each of them on
//! seeded random and mutated inputs.
//!
//! Each harness panics only when it finds a real bug: a decoder that panics, an encoding that
//! does not decode back to the same value, or a session that breaks one of its invariants.

use std::time::Duration;

use bytes::Bytes;

use crate::SessionConfig;
use crate::channel::{ChannelConfig, ChannelKind};
use crate::session::{Event, Input, Output, Session};
use crate::sim::{LinkProfile, Pair, Side};
use crate::time::Timestamp;
use crate::wire::control::ControlMessage;
use crate::wire::frame::{Frame, FrameIter};
use crate::wire::handshake::HandshakeMessage;
use crate::wire::packet::Header;

/// Decodes a datagram as a packet; every frame that decodes must re-encode to bytes that
/// decode to the same frame.
pub fn packet(data: &[u8]) {
    let mut buf = Bytes::copy_from_slice(data);
    let Ok(header) = Header::decode(&mut buf) else { return };
    let mut again = Vec::new();
    header.encode(&mut again);
    assert_eq!(Header::decode(&mut Bytes::from(again)).as_ref(), Ok(&header));
    for frame in FrameIter::new(buf) {
        let Ok(frame) = frame else { return };
        if frame == Frame::Padding {
            continue;
        }
        let mut out = Vec::new();
        frame.encode(&mut out);
        let mut reread = FrameIter::new(Bytes::from(out));
        assert_eq!(reread.next(), Some(Ok(frame)));
        assert_eq!(reread.next(), None);
    }
}

/// Decodes a control message; one that decodes must round-trip.
pub fn control_message(data: &[u8]) {
    if let Ok(msg) = ControlMessage::decode(data) {
        let bytes = msg.encode().expect("a decoded message re-encodes");
        assert_eq!(ControlMessage::decode(&bytes), Ok(msg));
    }
}

/// Decodes a handshake message; one that decodes must round-trip.
pub fn handshake_message(data: &[u8]) {
    if let Ok(msg) = HandshakeMessage::decode(data) {
        let bytes = msg.encode().expect("a decoded message re-encodes");
        assert_eq!(HandshakeMessage::decode(&bytes), Ok(msg));
    }
}

/// Reads operations off the fuzzer's bytes and applies them to a connected pair over a lossy
/// simulated path, with hostile datagrams mixed in. Checks that reliable messages arrive
/// exactly once and in order, and that nothing panics or stalls. Returns how many reliable
/// messages were checked (zero when the run forged packets or never connected).
pub fn session(data: &[u8]) -> u64 {
    let link = LinkProfile {
        loss: 0.05,
        reorder: 0.05,
        duplicate: 0.05,
        ..LinkProfile::with_rate(Duration::from_millis(5), 20_000_000)
    };
    let Ok(mut pair) = Pair::new(
        SessionConfig::default(),
        SessionConfig { rng_seed: 1, ..SessionConfig::default() },
        link.clone(),
        link,
        7,
    ) else {
        return 0;
    };
    let mut received: Vec<(Side, u64, Bytes)> = Vec::new();
    let mut sink = |side: Side, _: Timestamp, e: Event| {
        if let Event::Message { seq, data, .. } = e {
            received.push((side, seq, data));
        }
    };
    if !pair.connect(Timestamp::from_millis(2_000), &mut sink) {
        return 0;
    }
    let Ok(reliable) = pair.client.open_channel(ChannelConfig::for_kind(ChannelKind::Input)) else { return 0 };
    let mut sent = 0u64;
    // Injected datagrams that parse as packets may legitimately forge or close anything (the
    // carrier's encryption is what keeps them out in real use); then only robustness counts.
    let mut forged = false;
    let ops = data.chunks(4);
    let mut last_packet = Bytes::new();
    for op in ops {
        let now = pair.now();
        match op[0] % 6 {
            0 => {
                let payload = Bytes::copy_from_slice(&sent.to_be_bytes());
                if pair.client.send(now, reliable, payload).is_ok() {
                    sent += 1;
                }
            }
            1 => {
                let len = op.get(1).copied().unwrap_or(0) as usize;
                let raw = Bytes::copy_from_slice(&data[..len.min(data.len())]);
                forged |= !refused(&mut pair.server, now, raw);
            }
            2 => {
                // A captured real packet, damaged at one byte.
                let mut raw = last_packet.to_vec();
                if let (Some(&pos), Some(&val)) = (op.get(1), op.get(2))
                    && !raw.is_empty()
                {
                    let i = usize::from(pos) % raw.len();
                    raw[i] ^= val;
                }
                forged |= !refused(&mut pair.server, now, Bytes::from(raw));
            }
            3 => {
                let step = u64::from(op.get(1).copied().unwrap_or(1));
                pair.run_until(now + Duration::from_millis(step), &mut sink);
            }
            4 => match pair.client.poll_output(now) {
                Output::Transmit(d) => {
                    last_packet = d.clone();
                    pair.uplink.send(now, d);
                }
                Output::Event(e) => sink(Side::Client, now, e),
                Output::Timeout(_) => {}
            },
            _ => {
                let kinds = [ChannelKind::Audio, ChannelKind::Display, ChannelKind::Cursor, ChannelKind::Usb];
                let kind = kinds[usize::from(op.get(1).copied().unwrap_or(0)) % kinds.len()];
                let _ = pair.server.open_channel(ChannelConfig::for_kind(kind));
            }
        }
    }
    // Let everything settle on a clean path, then check what the reliable channel delivered.
    pair.uplink.set_profile(LinkProfile::default());
    pair.downlink.set_profile(LinkProfile::default());
    let now = pair.now();
    pair.run_until(now + Duration::from_secs(5), &mut sink);
    if !forged && pair.client.is_established() && pair.server.is_established() {
        let got: Vec<u64> = received
            .iter()
            .filter(|(side, _, data)| *side == Side::Server && data.len() == 8)
            .map(|(_, _, d)| u64::from_be_bytes(d[..].try_into().expect("eight bytes")))
            .collect();
        let expected: Vec<u64> = (0..sent).collect();
        assert_eq!(got, expected, "reliable channel lost, duplicated or reordered a message");
        return sent;
    }
    0
}

/// Feeds a datagram; tells whether the session refused it before looking inside (not ASP,
/// truncated, malformed, wrong version, duplicate). A well-formed forgery is taken, and may
/// carry anything: a bad control body, data for channels never opened.
fn refused(session: &mut Session, now: Timestamp, datagram: Bytes) -> bool {
    let count = |s: &Session| {
        let b = s.stats().bad_packets;
        b.not_asp + b.truncated + b.malformed_frame + b.oversized + b.wrong_version + b.duplicate
    };
    let before = count(session);
    session.handle_input(now, Input::Datagram(datagram));
    count(session) > before
}

/// Feeds raw datagrams to a fresh server session, then to an established one.
pub fn session_input(data: &[u8]) {
    let now = Timestamp::ZERO;
    let Ok(mut server) = Session::server(SessionConfig::default(), now) else { return };
    for chunk in data.split(|b| *b == 0xff) {
        server.handle_input(now, Input::Datagram(Bytes::copy_from_slice(chunk)));
        for _ in 0..64 {
            if let Output::Timeout(_) = server.poll_output(now) {
                break;
            }
        }
    }
}
