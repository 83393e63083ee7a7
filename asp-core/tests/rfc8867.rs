//! RFC 8867 cases on the shared-bottleneck simulator, shortened for the test suite; the full
//! runs with every figure are `cargo run --release -p asp-transport --example rmcat`.

use std::time::Duration;

use asp_core::sim::library::{shared, shared_flow};
use asp_core::sim::{FlowKind, SharedScenario};

fn flow(name: &str, kind: FlowKind, start: u64) -> asp_core::sim::SharedFlow {
    shared_flow(name, kind, start)
}

fn scenario(secs: u64, rate: u64, flows: Vec<asp_core::sim::SharedFlow>) -> SharedScenario {
    SharedScenario { seed: 3, ..shared("test", secs, rate, 50, flows) }
}

#[test]
fn equal_asp_flows_share_a_bottleneck_fairly() {
    let flows = vec![flow("a", FlowKind::Asp, 0), flow("b", FlowKind::Asp, 5), flow("c", FlowKind::Asp, 10)];
    let r = scenario(90, 3_500_000, flows).run().unwrap();
    let rates: Vec<f64> = r.flows.iter().map(|f| f.steady_bps).collect();
    let (min, max) = rates.iter().fold((f64::MAX, 0.0f64), |(a, b), x| (a.min(*x), b.max(*x)));
    eprintln!("steady rates {rates:?}, utilization {:.3}", r.utilization);
    assert!(max <= 1.2 * min, "unfair: {rates:?}");
    assert!(r.utilization > 0.8);
}

#[test]
fn an_asp_flow_holds_its_own_against_newreno_without_starving_it() {
    let flows = vec![flow("asp", FlowKind::Asp, 0), flow("tcp", FlowKind::NewReno, 5)];
    let r = scenario(90, 2_000_000, flows).run().unwrap();
    let (asp, tcp) = (r.flows[0].steady_bps, r.flows[1].steady_bps);
    eprintln!("asp {asp:.0} bit/s, newreno {tcp:.0} bit/s");
    assert!(asp >= 2_000_000.0 / 3.0 * 0.9, "ASP got {asp:.0}");
    assert!(tcp >= 2_000_000.0 / 4.0, "NewReno starved: {tcp:.0}");
}

#[test]
fn a_paused_flow_resumes_and_the_others_take_its_share_meanwhile() {
    let mut flows = vec![flow("a", FlowKind::Asp, 0), flow("b", FlowKind::Asp, 0)];
    flows[1].pause = Some((Duration::from_secs(30), Duration::from_secs(50)));
    let r = scenario(90, 2_000_000, flows).run().unwrap();
    let (a, b) = (&r.flows[0], &r.flows[1]);
    eprintln!(
        "after resume: a {:.0}, b {:.0}; frames on time a {}/{} b {}/{}",
        a.steady_bps, b.steady_bps, a.frames_on_time, a.frames_sent, b.frames_on_time, b.frames_sent
    );
    // During the pause a's target rose toward the whole link ...
    let during = a.target_trace[45] as f64;
    assert!(during > 1_300_000.0, "a's target during the pause: {during}");
    // ... and after it both share again.
    assert!(b.steady_bps > 0.6 * a.steady_bps, "b did not get back its share: {} vs {}", b.steady_bps, a.steady_bps);
    assert!(b.frames_on_time as f64 > 0.97 * b.frames_sent as f64);
}
