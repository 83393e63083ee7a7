//! The session's API beyond plain delivery: control messages, channel open and close, a
//! reliable carrier, weighted sharing inside a class, and statistics.

mod common;

use std::time::Duration;

use asp_core::sim::{Flow, LinkProfile, Pair, Scenario, Side, Traffic};
use asp_core::wire::control::{ControlMessage, KeyframeReason, StallKind, StallReport};
use asp_core::{ChannelConfig, ChannelKind, Event, SendError, SessionConfig, Timestamp};
use bytes::Bytes;
use common::{Events, client_config, server_config};

fn connected(link: LinkProfile) -> (Pair, Events) {
    let mut pair = Pair::new(client_config(), server_config(), link.clone(), link, 1).unwrap();
    let mut events = Events::default();
    assert!(pair.connect(Timestamp::from_millis(1000), &mut events.sink()));
    (pair, events)
}

#[test]
fn control_messages_reach_the_peer_as_events() {
    let (mut pair, mut events) = connected(LinkProfile::default());
    let stall = StallReport {
        kind: StallKind::NoFrames,
        duration_ms: 240,
        estimate_kbps: 2500,
        loss_ppm: 12_000,
        queue_ms: 35,
        decoder_state: "waiting for keyframe".into(),
    };
    pair.client.send_control(ControlMessage::StallReport(stall.clone()));
    pair.client.send_control(ControlMessage::KeyframeRequest {
        channel: asp_core::ChannelId(2),
        reason: KeyframeReason::FrameLost,
    });
    let now = pair.now();
    pair.run_until(now + Duration::from_millis(100), &mut events.sink());
    let got: Vec<&ControlMessage> = events
        .of(Side::Server)
        .filter_map(|e| match e {
            Event::Control(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], &ControlMessage::StallReport(stall));
}

#[test]
fn channels_open_and_close_at_both_ends() {
    let (mut pair, mut events) = connected(LinkProfile::default());
    let id = pair.server.open_channel(ChannelConfig::for_kind(ChannelKind::Clipboard)).unwrap();
    assert_eq!(id.0 % 2, 0, "server ids are even");
    let now = pair.now();
    pair.server.send(now, id, Bytes::from_static(b"copied text")).unwrap();
    pair.run_until(now + Duration::from_millis(100), &mut events.sink());
    let opened = events.of(Side::Client).any(
        |e| matches!(e, Event::ChannelOpened { id: i, config } if *i == id && config.kind == ChannelKind::Clipboard),
    );
    assert!(opened);
    assert!(
        events
            .of(Side::Client)
            .any(|e| matches!(e, Event::Message { channel, data, .. } if *channel == id && data == "copied text"))
    );
    // The client answers on the same channel: channels carry both directions.
    let now = pair.now();
    pair.client.send(now, id, Bytes::from_static(b"pasted")).unwrap();
    pair.run_until(now + Duration::from_millis(100), &mut events.sink());
    assert!(
        events
            .of(Side::Server)
            .any(|e| matches!(e, Event::Message { channel, data, .. } if *channel == id && data == "pasted"))
    );

    pair.client.close_channel(id);
    let now = pair.now();
    pair.run_until(now + Duration::from_millis(100), &mut events.sink());
    assert!(events.of(Side::Server).any(|e| matches!(e, Event::ChannelClosed { id: i } if *i == id)));
    assert_eq!(pair.server.send(pair.now(), id, Bytes::new()), Err(SendError::UnknownChannel(id.0)));
}

#[test]
fn send_refuses_what_it_cannot_carry_without_losing_anything() {
    let (mut pair, _events) = connected(LinkProfile::default());
    let now = pair.now();
    let input = pair.client.open_channel(ChannelConfig::for_kind(ChannelKind::Input)).unwrap();
    let display = pair.client.open_channel(ChannelConfig::for_kind(ChannelKind::Display)).unwrap();
    assert!(matches!(
        pair.client.send(now, input, Bytes::from(vec![0; 5000])),
        Err(SendError::TooLarge { len: 5000, max: 4096 })
    ));
    assert_eq!(pair.client.send(now, display, Bytes::new()), Err(SendError::DeadlineMismatch));
    assert_eq!(pair.client.send_frame(now, input, Bytes::new(), now), Err(SendError::DeadlineMismatch));
    // Fill the reliable queue: the refusal is backpressure, and nothing queued is dropped.
    let mut queued = 0;
    while pair.client.send(now, input, Bytes::from(vec![1; 4096])).is_ok() {
        queued += 1;
    }
    assert_eq!(pair.client.send(now, input, Bytes::from_static(b"x")), Err(SendError::WouldBlock));
    let stats = pair.client.channel_stats(input).unwrap();
    assert_eq!(stats.messages_queued, queued);
    assert_eq!(stats.send_drops.total(), 0);
}

#[test]
fn a_reliable_carrier_is_never_retransmitted_over() {
    let link = LinkProfile::with_rate(Duration::from_millis(10), 20_000_000);
    let reliable = |c: SessionConfig| SessionConfig {
        reliable_carrier: true,
        target_rate_bps: 18_000_000,
        rate_control: None,
        ..c
    };
    let flows = vec![Flow {
        name: "usb".into(),
        from: Side::Client,
        channel: ChannelConfig::for_kind(ChannelKind::Usb),
        traffic: Traffic::Saturating { message_len: 20_000 },
        start: Duration::ZERO,
        stop: Some(Duration::from_secs(8)),
    }];
    let sc = Scenario {
        name: "tcp-like".into(),
        duration: Duration::from_secs(10),
        seed: 4,
        client: reliable(client_config()),
        server: reliable(server_config()),
        uplink: link.clone(),
        downlink: link,
        flows,
        changes: Vec::new(),
    };
    let r = sc.run().unwrap();
    let usb = r.flow("usb").unwrap();
    assert_eq!((usb.delivered, usb.out_of_order, usb.corrupted), (usb.sent, 0, 0));
    assert!(usb.throughput_bps > 12_000_000.0, "{}", usb.throughput_bps);
    assert_eq!((r.client.retransmits, r.client.probe_timeouts, r.client.packets_lost), (0, 0, 0));
}

#[test]
fn channels_of_one_class_share_by_weight() {
    let link = LinkProfile::with_rate(Duration::from_millis(10), 10_000_000);
    let usb = |name: &str, weight| Flow {
        name: name.into(),
        from: Side::Server,
        channel: ChannelConfig { weight, ..ChannelConfig::for_kind(ChannelKind::Usb) },
        traffic: Traffic::Saturating { message_len: 8_000 },
        start: Duration::ZERO,
        stop: None,
    };
    let rate = |c: SessionConfig| SessionConfig { target_rate_bps: 9_000_000, rate_control: None, ..c };
    let sc = Scenario {
        name: "weights".into(),
        duration: Duration::from_secs(20),
        seed: 6,
        client: rate(client_config()),
        server: rate(server_config()),
        uplink: link.clone(),
        downlink: link,
        flows: vec![usb("heavy", 300), usb("light", 100)],
        changes: Vec::new(),
    };
    let r = sc.run().unwrap();
    let ratio = r.flow("heavy").unwrap().throughput_bps / r.flow("light").unwrap().throughput_bps;
    assert!((2.7..=3.3).contains(&ratio), "weights 3:1 gave {ratio:.2}:1");
}

#[test]
fn statistics_count_both_directions() {
    let (mut pair, mut events) =
        connected(LinkProfile { loss: 0.05, ..LinkProfile::with_rate(Duration::from_millis(10), 10_000_000) });
    let ch = pair.client.open_channel(ChannelConfig::for_kind(ChannelKind::Usb)).unwrap();
    for i in 0..200u32 {
        let now = pair.now();
        pair.client.send(now, ch, Bytes::from(vec![i as u8; 3000])).unwrap();
        pair.run_until(now + Duration::from_millis(10), &mut events.sink());
    }
    let now = pair.now();
    pair.run_until(now + Duration::from_secs(2), &mut events.sink());
    let c = pair.client.channel_stats(ch).unwrap();
    let s = pair.server.channel_stats(ch).unwrap();
    assert_eq!((c.messages_queued, c.messages_sent, c.bytes_sent), (200, 200, 600_000));
    assert_eq!((s.messages_received, s.bytes_received), (200, 600_000));
    assert!(s.fragments_received >= c.fragments_sent - c.retransmits);
    assert!(c.retransmits > 0 && c.unacked_bytes == 0);
    let stats = pair.client.stats();
    assert!(stats.packets_lost > 0 && stats.loss_rate > 0.01 && stats.loss_rate < 0.15, "{stats:?}");
    assert!(stats.rtt.min >= Duration::from_millis(20) && stats.rtt.smoothed < Duration::from_millis(40));
    assert_eq!(pair.server.stats().packets_received, pair.uplink.stats().delivered);
}
