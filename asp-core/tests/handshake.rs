//! Handshake, version and capability negotiation, timeouts and close, over the simulator.

mod common;

use std::time::Duration;

use asp_core::sim::{LinkProfile, Pair, Side};
use asp_core::wire::handshake::{Chroma, VideoCodec, VideoProfile};
use asp_core::wire::packet::Header;
use asp_core::{CloseCode, Event, Input, Output, Session, SessionError, Timestamp};
use bytes::{Bytes, BytesMut};
use common::{Events, client_config, h264, server_config};

fn path() -> LinkProfile {
    LinkProfile { delay: Duration::from_millis(20), ..LinkProfile::default() }
}

fn closed_with(events: &Events, side: Side) -> Option<SessionError> {
    events.of(side).find_map(|e| match e {
        Event::Closed(err) => Some(err.clone()),
        _ => None,
    })
}

#[test]
fn handshake_negotiates_the_common_ground() {
    let mut pair = Pair::new(client_config(), server_config(), path(), path(), 1).unwrap();
    let mut events = Events::default();
    assert!(pair.connect(Timestamp::from_millis(1000), &mut events.sink()));
    // One round trip: Hello out, Welcome back.
    assert!(pair.now() <= Timestamp::from_millis(41), "{:?}", pair.now());
    for side in [Side::Client, Side::Server] {
        let negotiated = events
            .of(side)
            .find_map(|e| match e {
                Event::Connected(n) => Some(n.clone()),
                _ => None,
            })
            .expect("connected");
        assert_eq!(negotiated.version, 1);
        assert_eq!(negotiated.video, vec![h264(VideoProfile::High, Chroma::Yuv420, false)]);
        assert_eq!(negotiated.client_hardware_decode, vec![true]);
        assert_eq!(negotiated.audio.len(), 1);
        assert!(negotiated.usb);
        assert!(!negotiated.window_streaming);
    }
}

#[test]
fn handshake_survives_loss_of_hello_and_welcome() {
    for seed in 0..20 {
        let lossy = LinkProfile { loss: 0.25, ..path() };
        let mut pair = Pair::new(client_config(), server_config(), lossy.clone(), lossy, seed).unwrap();
        let mut events = Events::default();
        assert!(pair.connect(Timestamp::from_millis(5000), &mut events.sink()), "seed {seed}");
    }
}

#[test]
fn disjoint_video_capabilities_fail_with_capability_mismatch() {
    let mut server = server_config();
    server.capabilities.video =
        vec![asp_core::wire::handshake::VideoCapability { codec: VideoCodec::Hevc, ..server.capabilities.video[0] }];
    let mut pair = Pair::new(client_config(), server, path(), path(), 1).unwrap();
    let mut events = Events::default();
    assert!(!pair.connect(Timestamp::from_millis(2000), &mut events.sink()));
    pair.run_until(Timestamp::from_millis(3000), &mut events.sink());
    for side in [Side::Server, Side::Client] {
        match closed_with(&events, side) {
            Some(SessionError::CapabilityMismatch(text)) => assert!(text.contains("video"), "{text}"),
            other => panic!("{side:?}: expected a capability mismatch, got {other:?}"),
        }
    }
}

#[test]
fn disjoint_audio_formats_fail_with_capability_mismatch() {
    let mut client = client_config();
    client.capabilities.audio[0].sample_rate = 16_000;
    let mut pair = Pair::new(client, server_config(), path(), path(), 1).unwrap();
    let mut events = Events::default();
    assert!(!pair.connect(Timestamp::from_millis(2000), &mut events.sink()));
    pair.run_until(Timestamp::from_millis(3000), &mut events.sink());
    assert!(
        matches!(closed_with(&events, Side::Client), Some(SessionError::CapabilityMismatch(t)) if t.contains("audio"))
    );
}

/// Drains a session, returning its datagrams and events.
fn drain(session: &mut Session, now: Timestamp) -> (Vec<Bytes>, Vec<Event>) {
    let (mut out, mut events) = (Vec::new(), Vec::new());
    loop {
        match session.poll_output(now) {
            Output::Transmit(d) => out.push(d),
            Output::Event(e) => events.push(e),
            Output::Timeout(_) => return (out, events),
        }
    }
}

#[test]
fn unknown_version_gets_version_negotiation_and_no_common_version_fails() {
    let now = Timestamp::ZERO;
    let mut client = Session::client(client_config(), now).unwrap();
    let mut server = Session::server(server_config(), now).unwrap();
    let (hello, _) = drain(&mut client, now);
    // The same Hello, as a client speaking only version 2 would send it.
    let mut v2 = BytesMut::from(&hello[0][..]);
    v2[1..5].copy_from_slice(&2u32.to_be_bytes());
    server.handle_input(now, Input::Datagram(v2.freeze()));
    let (answer, events) = drain(&mut server, now);
    assert!(events.is_empty());
    assert_eq!(server.stats().bad_packets.wrong_version, 1);
    let mut vn = answer[0].clone();
    assert_eq!(Header::decode(&mut vn).unwrap(), Header::VersionNegotiation { versions: vec![1] });

    // And a client told that the server speaks only versions it does not.
    let mut vn = BytesMut::new();
    Header::VersionNegotiation { versions: vec![2, 3] }.encode(&mut vn);
    client.handle_input(now, Input::Datagram(vn.freeze()));
    let (_, events) = drain(&mut client, now);
    assert_eq!(events, vec![Event::Closed(SessionError::VersionMismatch { ours: vec![1], theirs: vec![2, 3] })]);
    assert!(client.is_closed());
}

#[test]
fn version_negotiation_listing_our_version_is_ignored() {
    let now = Timestamp::ZERO;
    let mut client = Session::client(client_config(), now).unwrap();
    let _ = drain(&mut client, now);
    let mut vn = BytesMut::new();
    Header::VersionNegotiation { versions: vec![1, 9] }.encode(&mut vn);
    client.handle_input(now, Input::Datagram(vn.freeze()));
    assert!(!client.is_closed());
    assert_eq!(client.stats().bad_packets.unexpected, 1);
}

#[test]
fn handshake_times_out_when_nobody_answers() {
    let dead = LinkProfile { loss: 1.0, ..path() };
    let mut pair = Pair::new(client_config(), server_config(), dead.clone(), dead, 1).unwrap();
    let mut events = Events::default();
    pair.run_until(Timestamp::from_millis(6000), &mut events.sink());
    assert_eq!(closed_with(&events, Side::Client), Some(SessionError::HandshakeTimeout));
    // Hellos were repeated with back-off, not once per timer tick.
    let hellos = pair.client.stats().packets_sent;
    assert!((3..=8).contains(&hellos), "{hellos} hellos");
}

#[test]
fn idle_timeout_ends_a_session_whose_path_died_and_keep_alive_holds_a_quiet_one() {
    let mut pair = Pair::new(client_config(), server_config(), path(), path(), 1).unwrap();
    let mut events = Events::default();
    assert!(pair.connect(Timestamp::from_millis(1000), &mut events.sink()));
    // Thirty quiet seconds: keep-alives hold the session.
    pair.run_until(Timestamp::from_secs_f64(30.0), &mut events.sink());
    assert!(pair.client.is_established() && pair.server.is_established());
    let dead = LinkProfile { loss: 1.0, ..path() };
    pair.uplink.set_profile(dead.clone());
    pair.downlink.set_profile(dead);
    pair.run_until(Timestamp::from_secs_f64(45.0), &mut events.sink());
    assert_eq!(closed_with(&events, Side::Client), Some(SessionError::IdleTimeout));
    assert_eq!(closed_with(&events, Side::Server), Some(SessionError::IdleTimeout));
}

#[test]
fn graceful_close_reaches_the_peer_with_its_reason() {
    let mut pair = Pair::new(client_config(), server_config(), path(), path(), 1).unwrap();
    let mut events = Events::default();
    assert!(pair.connect(Timestamp::from_millis(1000), &mut events.sink()));
    let now = pair.now();
    pair.client.close(now, CloseCode::USER, "bye");
    pair.run_until(now + Duration::from_secs(2), &mut events.sink());
    assert_eq!(
        closed_with(&events, Side::Client),
        Some(SessionError::ClosedLocally { code: CloseCode::USER, reason: "bye".into() })
    );
    assert_eq!(
        closed_with(&events, Side::Server),
        Some(SessionError::ClosedByPeer { code: CloseCode::USER, reason: "bye".into() })
    );
    assert!(pair.client.is_closed() && pair.server.is_closed());
}

#[test]
fn invalid_configuration_is_refused_at_construction() {
    let bad = asp_core::SessionConfig { mtu: 100, ..client_config() };
    let err = Session::client(bad, Timestamp::ZERO).unwrap_err();
    assert!(err.to_string().contains("mtu"), "{err}");
    let bad = asp_core::SessionConfig { versions: vec![7], ..client_config() };
    assert!(Session::client(bad, Timestamp::ZERO).is_err());
}
