//! Delivery guarantees of each mode, and the scheduler's priorities, over simulated networks.
//! Every figure comes from the shared virtual clock; nothing here measures wall time.

mod common;

use std::time::Duration;

use asp_core::sim::library::{PRIORITY_RATE_BPS, hostile_reliable, priority};
use asp_core::sim::{BurstLoss, Flow, LinkProfile, Report, Scenario, Side, Traffic};
use asp_core::{ChannelConfig, ChannelKind, SessionConfig};
use common::{client_config, server_config};

fn flow(name: &str, from: Side, kind: ChannelKind, traffic: Traffic) -> Flow {
    Flow { name: name.into(), from, channel: ChannelConfig::for_kind(kind), traffic, start: Duration::ZERO, stop: None }
}

fn scenario(name: &str, seed: u64, link: LinkProfile, rate_bps: u64, secs: u64, flows: Vec<Flow>) -> Scenario {
    Scenario {
        name: name.into(),
        duration: Duration::from_secs(secs),
        seed,
        // A fixed pacing rate: these tests are about the engine's guarantees at a given rate;
        // rate control has its own tests (rate_control.rs).
        client: SessionConfig { target_rate_bps: rate_bps, rate_control: None, rng_seed: seed, ..client_config() },
        server: SessionConfig { target_rate_bps: rate_bps, rate_control: None, rng_seed: seed + 1, ..server_config() },
        uplink: link.clone(),
        downlink: link,
        flows,
        changes: Vec::new(),
    }
}

#[test]
fn reliable_channels_deliver_everything_once_in_order_through_loss_reordering_and_duplication() {
    for seed in 0..6 {
        // 60 s of traffic: flows stop at 55 s and the last 5 s drain what is in flight.
        let report = hostile_reliable(seed).run().unwrap();
        assert!(
            report.downlink.lost > 100 && report.downlink.duplicated > 50 && report.downlink.reordered > 50,
            "{:?}",
            report.downlink
        );
        for f in &report.flows {
            assert!(f.sent > 50, "seed {seed} {}: only {} sent", f.name, f.sent);
            assert_eq!((f.corrupted, f.duplicates, f.out_of_order), (0, 0, 0), "seed {seed} {}", f.name);
            assert_eq!(f.delivered, f.sent, "seed {seed} {}: every message exactly once", f.name);
        }
        assert!(report.server.retransmits > 0 && report.client.retransmits > 0);
    }
}

fn media_scenario(seed: u64, link: LinkProfile) -> Report {
    // 60 fps of 30 kB frames is 14.4 Mbit/s: more than the 10 Mbit/s link carries.
    let display = flow(
        "display",
        Side::Server,
        ChannelKind::Display,
        Traffic::Frames { fps: 60, frame_len: 30_000, deadline: Duration::from_millis(100) },
    );
    scenario("media", seed, link, 9_500_000, 20, vec![display]).run().unwrap()
}

#[test]
fn media_frames_past_their_deadline_are_dropped_whole_never_late_or_partial() {
    let clean = LinkProfile::with_rate(Duration::from_millis(15), 10_000_000);
    let lossy = LinkProfile { loss: 0.03, jitter: Duration::from_millis(2), ..clean.clone() };
    for (seed, link) in [(1, clean), (2, lossy.clone()), (3, lossy)] {
        let report = media_scenario(seed, link);
        let d = report.flow("display").unwrap();
        assert_eq!(d.late, 0, "seed {seed}: a frame arrived after its deadline (latest {:?})", d.delay_percentile(1.0));
        assert_eq!(d.corrupted, 0, "seed {seed}: a partial or damaged frame was delivered");
        assert_eq!(d.duplicates, 0);
        assert!(d.delivered > 200 && d.dropped > 100, "seed {seed}: {} delivered, {} dropped", d.delivered, d.dropped);
        // Every frame is accounted for: delivered or reported dropped, except those still in
        // flight when the run ends.
        assert!(d.unaccounted() <= 8, "seed {seed}: {} frames vanished", d.unaccounted());
        assert!(d.delay_percentile(1.0) <= Duration::from_millis(100));
        // Each loss asks the encoder for a fresh reference, at most once per 100 ms.
        let requests = report.client.keyframe_requests;
        assert!(requests > 10 && requests <= 20 * 10 + 1, "{requests} keyframe requests in 20 s");
    }
}

#[test]
fn unreliable_and_latest_wins_channels_deliver_no_duplicates_and_no_stale_messages() {
    let link = LinkProfile {
        duplicate: 0.2,
        reorder: 0.2,
        loss: 0.05,
        ..LinkProfile::with_rate(Duration::from_millis(10), 10_000_000)
    };
    let flows = vec![
        flow(
            "audio",
            Side::Server,
            ChannelKind::Audio,
            Traffic::Periodic { interval: Duration::from_millis(10), message_len: 160 },
        ),
        flow(
            "cursor",
            Side::Server,
            ChannelKind::Cursor,
            Traffic::Periodic { interval: Duration::from_millis(4), message_len: 300 },
        ),
    ];
    let report = scenario("unreliable", 5, link, 9_500_000, 20, flows).run().unwrap();
    let audio = report.flow("audio").unwrap();
    assert_eq!((audio.duplicates, audio.corrupted), (0, 0));
    assert!(audio.delivered as f64 > audio.sent as f64 * 0.9, "{} of {}", audio.delivered, audio.sent);
    let cursor = report.flow("cursor").unwrap();
    assert_eq!((cursor.duplicates, cursor.corrupted), (0, 0));
    assert!(cursor.delivered as f64 > cursor.sent as f64 * 0.8);
}

/// A 10 Mbit/s path with the display saturating it, interactive traffic beside it in the same
/// direction, and bulk traffic asking for everything.
fn priority_report(seed: u64) -> (Report, LinkProfile) {
    let (scenario, link) = priority(seed);
    (scenario.run().unwrap(), link)
}

#[test]
fn interactive_messages_are_not_queued_behind_a_saturating_display_and_bulk_keeps_its_share() {
    for seed in [1, 2] {
        let (report, link) = priority_report(seed);
        let serialization = link.serialization(1200);
        let bound = link.delay + 2 * serialization + Duration::from_millis(1);
        for name in ["window", "input"] {
            let f = report.flow(name).unwrap();
            assert!(f.sent - f.delivered <= 10, "seed {seed} {name}: {} of {} delivered", f.delivered, f.sent);
            let p99 = f.delay_percentile(0.99);
            assert!(p99 <= bound, "seed {seed} {name}: p99 {p99:?} > {bound:?}");
        }
        let display = report.flow("display").unwrap();
        let usb = report.flow("usb").unwrap();
        // The display really saturates the link.
        let link_bps = report.downlink.delivered_bytes as f64 * 8.0 / report.simulated.as_secs_f64();
        eprintln!(
            "seed {seed}: link {link_bps:.0} display {:.0} usb {:.0}",
            display.throughput_bps, usb.throughput_bps
        );
        assert!(link_bps > 9_000_000.0, "link carried {link_bps:.0} bit/s");
        // Bulk keeps its guaranteed tenth of the pacing rate, in payload.
        let min_share = 0.1 * PRIORITY_RATE_BPS as f64;
        assert!(usb.throughput_bps >= min_share, "usb got {:.0} bit/s", usb.throughput_bps);
        // And no more than a fair bit above it, since display has priority.
        assert!(usb.throughput_bps <= 2.0 * min_share, "usb got {:.0} bit/s", usb.throughput_bps);
    }
}

#[test]
fn burst_loss_is_survived_by_reliable_channels() {
    let link = LinkProfile {
        burst: Some(BurstLoss { enter_bad: 0.01, leave_bad: 0.3, loss_in_bad: 0.8 }),
        ..LinkProfile::with_rate(Duration::from_millis(30), 5_000_000)
    };
    let stop = Some(Duration::from_secs(25));
    let flows =
        vec![Flow { stop, ..flow("usb", Side::Client, ChannelKind::Usb, Traffic::Saturating { message_len: 30_000 }) }];
    let report = scenario("burst", 9, link, 4_500_000, 30, flows).run().unwrap();
    let usb = report.flow("usb").unwrap();
    assert!(report.uplink.lost > 50);
    assert_eq!((usb.delivered, usb.out_of_order, usb.corrupted), (usb.sent, 0, 0));
}

#[test]
fn fec_repairs_media_frames_through_random_loss() {
    // A 120 ms round trip against a 100 ms deadline: resends cannot help, FEC must.
    let link = LinkProfile { loss: 0.03, ..LinkProfile::with_rate(Duration::from_millis(60), 20_000_000) };
    let display = || {
        flow(
            "display",
            Side::Server,
            ChannelKind::Display,
            Traffic::Frames { fps: 30, frame_len: 30_000, deadline: Duration::from_millis(100) },
        )
    };
    let run = |fec: Option<f64>| {
        let mut sc = scenario("fec", 7, link.clone(), 15_000_000, 20, vec![display()]);
        sc.server.fec_overhead = fec;
        sc.run().unwrap()
    };
    let plain = run(None);
    let repaired = run(Some(0.15));
    let (p, r) = (plain.flow("display").unwrap(), repaired.flow("display").unwrap());
    eprintln!("3 % loss: {} of {} frames whole without FEC, {} with 15 % FEC", p.delivered, p.sent, r.delivered);
    assert_eq!((r.corrupted, r.late, r.duplicates), (0, 0, 0), "recovered frames must be exact and on time");
    // 27 packets a frame at 3 % loss: without FEC under half the frames survive.
    assert!((p.delivered as f64) < 0.6 * p.sent as f64);
    assert!(r.delivered as f64 > 0.97 * r.sent as f64, "{} of {}", r.delivered, r.sent);
    let server = repaired.server;
    assert!(server.packets_sent > plain.server.packets_sent, "repair shards cost packets");
}

#[test]
fn nack_resends_lost_media_fragments_only_when_the_rtt_leaves_time() {
    let display = |deadline| {
        flow("display", Side::Server, ChannelKind::Display, Traffic::Frames { fps: 30, frame_len: 30_000, deadline })
    };
    let run = |one_way_ms: u64, deadline_ms: u64| {
        let link = LinkProfile { loss: 0.03, ..LinkProfile::with_rate(Duration::from_millis(one_way_ms), 20_000_000) };
        scenario("nack", 8, link, 15_000_000, 20, vec![display(Duration::from_millis(deadline_ms))]).run().unwrap()
    };
    // 20 ms RTT against a 150 ms deadline: room for a resend or two.
    let short = run(10, 150);
    let s = short.flow("display").unwrap();
    eprintln!(
        "RTT 20 ms: {} of {} frames whole; {} nacks, {} resends, {} too late; receiver drops {:?}",
        s.delivered,
        s.sent,
        s.receiver.nacks_sent,
        s.sender.nack_resends,
        s.sender.nacks_too_late,
        s.receiver.receive_drops
    );
    assert_eq!((s.corrupted, s.late), (0, 0));
    assert!(s.delivered as f64 > 0.95 * s.sent as f64, "{} of {}", s.delivered, s.sent);
    // 160 ms RTT against a 100 ms deadline: a resend could never arrive, so none is asked for.
    let long = run(80, 100);
    let l = long.flow("display").unwrap();
    eprintln!("RTT 160 ms: {} of {} frames whole", l.delivered, l.sent);
    assert_eq!((l.corrupted, l.late), (0, 0));
    assert!((l.delivered as f64) < 0.6 * l.sent as f64);
}
