//! Prints a per-second trace of the rate controller over a variable-capacity path (RFC 8867
//! §5.1 shape): capacity, target, received rate, queuing delay, path class.

use std::time::Duration;

use asp_core::sim::{Change, Flow, LinkProfile, Scenario, Side, Tick, Traffic};
use asp_core::{ChannelConfig, ChannelKind, SessionConfig};

fn main() {
    let loss: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0.0);
    let cap =
        |bps: u64| LinkProfile { loss, queue_bytes: 300_000, ..LinkProfile::with_rate(Duration::from_millis(50), bps) };
    let flows = vec![Flow {
        name: "video".into(),
        from: Side::Server,
        channel: ChannelConfig::for_kind(ChannelKind::Display),
        traffic: Traffic::AdaptiveFrames { fps: 30, deadline: Duration::from_millis(400) },
        start: Duration::ZERO,
        stop: None,
    }];
    let config = |seed| SessionConfig { target_rate_bps: 500_000, rng_seed: seed, ..SessionConfig::default() };
    let sc = Scenario {
        name: "5.1".into(),
        duration: Duration::from_secs(100),
        seed: 1,
        client: config(1),
        server: config(2),
        uplink: LinkProfile::with_rate(Duration::from_millis(50), 10_000_000),
        downlink: cap(1_000_000),
        flows,
        changes: vec![
            (Duration::from_secs(40), Change::Downlink(cap(2_500_000))),
            (Duration::from_secs(60), Change::Downlink(cap(600_000))),
            (Duration::from_secs(80), Change::Downlink(cap(1_000_000))),
        ],
    };
    let mut last_bytes = 0;
    let mut tick = |t: &Tick<'_>| {
        let link = t.pair.downlink.stats();
        let rate = (link.delivered_bytes - last_bytes) as f64 * 8.0 / 1e3;
        last_bytes = link.delivered_bytes;
        let e = t.pair.server.rate_estimate().unwrap_or_default();
        let cap = t.pair.downlink.profile().rate_bps.unwrap_or(0) / 1000;
        println!(
            "{:>4.0}s cap {:>5} kb/s  target {:>6} delay-based {:>6} recv {:>6.0} link {:>6.0}  queue {:>6.1} ms trend {:>6.2} loss {:.3} {:?}",
            t.elapsed.as_secs_f64(),
            cap,
            e.target_bps / 1000,
            e.delay_based_bps / 1000,
            e.received_bps as f64 / 1e3,
            rate,
            e.queue_delay.as_secs_f64() * 1e3,
            e.trend,
            e.loss,
            e.class
        );
        if let (Some(s), Some(c)) =
            (t.pair.server.channel_stats(asp_core::ChannelId(2)), t.pair.client.channel_stats(asp_core::ChannelId(2)))
        {
            println!(
                "      fec {:.3} queued {} sent {} repairs sent {} recovered {} recv drops {:?} send drops {:?}",
                e.fec_overhead,
                s.messages_queued,
                s.messages_sent,
                s.fec_repairs_sent,
                c.fec_recovered,
                c.receive_drops,
                s.send_drops
            );
        }
    };
    let r = sc.run_with_progress(Duration::from_secs(1), &mut tick).unwrap();
    let v = r.flow("video").unwrap();
    println!("frames sent {} delivered {} dropped {} late {}", v.sent, v.delivered, v.dropped, v.late);
    println!("client {:?}\nserver {:?}\nlink {:?}", r.client, r.server, r.downlink);
}
