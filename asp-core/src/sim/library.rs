//! Scenarios the tests, benches and examples share, as data: the engine's headline cases and
//! the RFC 8867 set. Tests assert on them; the examples print their figures; both run the same
//! definitions.

use std::time::Duration;

use crate::channel::{ChannelConfig, ChannelKind};
use crate::config::SessionConfig;
use crate::sim::link::{BurstLoss, LinkProfile};
use crate::sim::pair::Side;
use crate::sim::scenario::{Change, Flow, Scenario, Traffic};
use crate::sim::shared::{FlowKind, SharedFlow, SharedScenario};

/// A flow on a channel of `kind`'s default configuration, active for the whole run.
#[must_use]
pub fn flow(name: &str, from: Side, kind: ChannelKind, traffic: Traffic) -> Flow {
    Flow { name: name.into(), from, channel: ChannelConfig::for_kind(kind), traffic, start: Duration::ZERO, stop: None }
}

/// A two-session scenario at a fixed pacing rate (rate control off): for the engine's
/// guarantees at a given rate.
#[must_use]
pub fn fixed_rate(name: &str, seed: u64, link: LinkProfile, rate_bps: u64, secs: u64, flows: Vec<Flow>) -> Scenario {
    let config = |seed| SessionConfig {
        target_rate_bps: rate_bps,
        rate_control: None,
        rng_seed: seed,
        ..SessionConfig::default()
    };
    Scenario {
        name: name.into(),
        duration: Duration::from_secs(secs),
        seed,
        client: config(seed),
        server: config(seed + 1),
        uplink: link.clone(),
        downlink: link,
        flows,
        changes: Vec::new(),
    }
}

/// The pacing rate of [`priority`]: just under its 10 Mbit/s link.
pub const PRIORITY_RATE_BPS: u64 = 9_600_000;

/// A display saturating a 10 Mbit/s, 20 ms link; interactive messages in its direction
/// ("window") and real input the other way ("input"), where its acknowledgements travel; and
/// bulk ("usb") asking for everything. Returns the scenario and its link.
#[must_use]
pub fn priority(seed: u64) -> (Scenario, LinkProfile) {
    let link = LinkProfile { queue_bytes: 100 << 10, ..LinkProfile::with_rate(Duration::from_millis(20), 10_000_000) };
    let flows = vec![
        flow(
            "display",
            Side::Server,
            ChannelKind::Display,
            Traffic::Frames { fps: 60, frame_len: 40_000, deadline: Duration::from_millis(150) },
        ),
        flow("usb", Side::Server, ChannelKind::Usb, Traffic::Saturating { message_len: 16_000 }),
        flow(
            "window",
            Side::Server,
            ChannelKind::Window,
            Traffic::Periodic { interval: Duration::from_millis(7), message_len: 64 },
        ),
        flow(
            "input",
            Side::Client,
            ChannelKind::Input,
            Traffic::Periodic { interval: Duration::from_millis(5), message_len: 32 },
        ),
    ];
    (fixed_rate("priority", seed, link.clone(), PRIORITY_RATE_BPS, 30, flows), link)
}

/// Reliable channels both ways through 10 % loss, 5 % duplication and 5 % reordering for
/// 60 s; traffic stops at 55 s so that everything sent can arrive.
#[must_use]
pub fn hostile_reliable(seed: u64) -> Scenario {
    let link = LinkProfile {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(3),
        loss: 0.10,
        duplicate: 0.05,
        reorder: 0.05,
        reorder_delay: Duration::from_millis(8),
        rate_bps: Some(4_000_000),
        queue_bytes: 64 << 10,
        ..LinkProfile::default()
    };
    let stop = Some(Duration::from_secs(55));
    let flows = vec![
        Flow {
            stop,
            ..flow(
                "input",
                Side::Client,
                ChannelKind::Input,
                Traffic::Periodic { interval: Duration::from_millis(8), message_len: 48 },
            )
        },
        Flow { stop, ..flow("usb", Side::Server, ChannelKind::Usb, Traffic::Saturating { message_len: 9_000 }) },
        Flow {
            stop,
            ..flow("clipboard", Side::Client, ChannelKind::Clipboard, Traffic::Saturating { message_len: 100_000 })
        },
        Flow {
            stop,
            ..flow(
                "window",
                Side::Server,
                ChannelKind::Window,
                Traffic::Periodic { interval: Duration::from_millis(50), message_len: 3_000 },
            )
        },
    ];
    fixed_rate("reliable", seed, link, 3_500_000, 60, flows)
}

/// One-way delay of the rate-control scenarios.
pub const RATE_CONTROL_ONE_WAY: Duration = Duration::from_millis(50);

/// 30 fps video whose frames follow the sender's media budget, 400 ms deadline.
#[must_use]
pub fn adaptive_video() -> Flow {
    flow(
        "video",
        Side::Server,
        ChannelKind::Display,
        Traffic::AdaptiveFrames { fps: 30, deadline: Duration::from_millis(400) },
    )
}

/// Rate control over a downlink whose capacity steps through `steps` (seconds, bits per
/// second; the first applies from the start), 50 ms each way, a 300 kB queue and `loss`;
/// sessions start at 500 kbit/s.
#[must_use]
pub fn capacity_steps(name: &str, steps: &[(u64, u64)], secs: u64, loss: f64, seed: u64) -> Scenario {
    let link = |bps| LinkProfile { loss, queue_bytes: 300_000, ..LinkProfile::with_rate(RATE_CONTROL_ONE_WAY, bps) };
    let config = |seed| SessionConfig { target_rate_bps: 500_000, rng_seed: seed, ..SessionConfig::default() };
    Scenario {
        name: name.into(),
        duration: Duration::from_secs(secs),
        seed,
        client: config(seed),
        server: config(seed + 1),
        uplink: LinkProfile::with_rate(RATE_CONTROL_ONE_WAY, 10_000_000),
        downlink: link(steps.first().map_or(1_000_000, |s| s.1)),
        flows: vec![adaptive_video()],
        changes: steps
            .iter()
            .skip(1)
            .map(|&(at, bps)| (Duration::from_secs(at), Change::Downlink(link(bps))))
            .collect(),
    }
}

/// RFC 8867 §5.1's shape on two sessions: 1 -> 2.5 -> 0.6 -> 1 Mbit/s at 0, 40, 60, 80 s.
#[must_use]
pub fn variable_capacity(loss: f64, seed: u64) -> Scenario {
    capacity_steps(
        "variable capacity",
        &[(0, 1_000_000), (40, 2_500_000), (60, 600_000), (80, 1_000_000)],
        100,
        loss,
        seed,
    )
}

/// A flow of a shared-bottleneck scenario.
#[must_use]
pub fn shared_flow(name: &str, kind: FlowKind, start_secs: u64) -> SharedFlow {
    SharedFlow { name: name.into(), kind, start: Duration::from_secs(start_secs), stop: None, pause: None }
}

/// A shared bottleneck of `rate_bps` with a 300 ms queue (RFC 8867's suggestion) and
/// `one_way_ms` each way; ASP flows start at 300 kbit/s and send 30 frames a second with a
/// 400 ms deadline.
#[must_use]
pub fn shared(name: &str, secs: u64, rate_bps: u64, one_way_ms: u64, flows: Vec<SharedFlow>) -> SharedScenario {
    SharedScenario {
        name: name.into(),
        duration: Duration::from_secs(secs),
        seed: 1,
        bottleneck: LinkProfile {
            queue_bytes: (rate_bps as f64 * 0.3 / 8.0) as usize,
            ..LinkProfile::with_rate(Duration::from_millis(one_way_ms), rate_bps)
        },
        capacity: Vec::new(),
        return_delay: Duration::from_millis(one_way_ms),
        flows,
        start_bps: 300_000,
        fps: 30,
        deadline: Duration::from_millis(400),
    }
}

/// RFC 8867 §5.1, §5.4, §5.6 and §5.8, then 5 % random loss at 50 ms RTT and a 2 % burst-loss
/// radio link.
#[must_use]
pub fn rfc8867() -> Vec<SharedScenario> {
    let asp = |n: &str, start| shared_flow(n, FlowKind::Asp, start);
    let mut variable = shared("5.1 variable capacity", 100, 1_000_000, 50, vec![asp("asp", 0)]);
    variable.capacity = vec![
        (Duration::from_secs(40), 2_500_000),
        (Duration::from_secs(60), 600_000),
        (Duration::from_secs(80), 1_000_000),
    ];
    let fairness =
        shared("5.4 three ASP flows", 120, 3_500_000, 50, vec![asp("asp-1", 0), asp("asp-2", 10), asp("asp-3", 20)]);
    let tcp = shared(
        "5.6 ASP against NewReno",
        120,
        2_000_000,
        50,
        vec![asp("asp", 0), shared_flow("newreno", FlowKind::NewReno, 5)],
    );
    let mut pause =
        shared("5.8 pause and resume", 120, 3_500_000, 50, vec![asp("asp-1", 0), asp("asp-2", 0), asp("asp-3", 0)]);
    pause.flows[1].pause = Some((Duration::from_secs(40), Duration::from_secs(60)));
    let mut random = shared("random loss 5 %", 60, 2_000_000, 25, vec![asp("asp", 0)]);
    random.bottleneck.loss = 0.05;
    let mut burst = shared("burst loss 2 % (wireless)", 60, 2_000_000, 25, vec![asp("asp", 0)]);
    // Mean loss 0.05 / (0.05 + 0.45) * 0.2 = 2 %.
    burst.bottleneck.burst = Some(BurstLoss { enter_bad: 0.05, leave_bad: 0.45, loss_in_bad: 0.2 });
    vec![variable, fairness, tcp, pause, random, burst]
}
