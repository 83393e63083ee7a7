use asp_core::sim::*;
use asp_core::*;
use std::time::Duration;

#[test]
fn smoke() {
    let link = LinkProfile::with_rate(Duration::from_millis(10), 10_000_000);
    let sc = Scenario {
        name: "smoke".into(),
        duration: Duration::from_secs(5),
        seed: 1,
        client: SessionConfig { target_rate_bps: 9_500_000, ..Default::default() },
        server: SessionConfig { target_rate_bps: 9_500_000, ..Default::default() },
        uplink: link.clone(),
        downlink: link,
        flows: vec![
            Flow {
                name: "input".into(),
                from: Side::Client,
                channel: ChannelConfig::for_kind(ChannelKind::Input),
                traffic: Traffic::Periodic { interval: Duration::from_millis(10), message_len: 40 },
                start: Duration::ZERO,
                stop: None,
            },
            Flow {
                name: "display".into(),
                from: Side::Server,
                channel: ChannelConfig::for_kind(ChannelKind::Display),
                traffic: Traffic::Frames { fps: 60, frame_len: 30_000, deadline: Duration::from_millis(100) },
                start: Duration::ZERO,
                stop: None,
            },
            Flow {
                name: "usb".into(),
                from: Side::Server,
                channel: ChannelConfig::for_kind(ChannelKind::Usb),
                traffic: Traffic::Saturating { message_len: 16_000 },
                start: Duration::ZERO,
                stop: None,
            },
            Flow {
                name: "sinput".into(),
                from: Side::Server,
                channel: ChannelConfig::for_kind(ChannelKind::Input),
                traffic: Traffic::Periodic { interval: Duration::from_millis(10), message_len: 40 },
                start: Duration::ZERO,
                stop: None,
            },
        ],
        changes: vec![],
    };
    let r = sc.run().unwrap();
    for f in &r.flows {
        println!(
            "{} sent {} deliv {} drop {} corrupt {} dup {} ooo {} late {} thr {:.0} p50 {:?} p99 {:?}",
            f.name,
            f.sent,
            f.delivered,
            f.dropped,
            f.corrupted,
            f.duplicates,
            f.out_of_order,
            f.late,
            f.throughput_bps,
            f.delay_percentile(0.5),
            f.delay_percentile(0.99)
        );
    }
    println!("{:#?}", r.server);
    println!("{:#?}", r.client.bad_packets);
    println!("{:#?}", r.downlink);
}
