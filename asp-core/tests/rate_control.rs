//! Rate control in virtual time: an encoder that follows the target over paths whose capacity
//! changes (the shape of RFC 8867 §5.1), with random loss, and with a competing flow's queue.
//! The figures are printed; the assertions are floors and ceilings with some room below the
//! figures this implementation reaches, so that they catch regressions, not noise.

use std::time::Duration;

use asp_core::NetworkClass;
use asp_core::sim::{Report, library};

const ONE_WAY: Duration = library::RATE_CONTROL_ONE_WAY;

/// 1 -> 2.5 -> 0.6 -> 1 Mbit/s at 0, 40, 60, 80 s; 100 s.
fn variable_capacity(loss: f64, seed: u64) -> Report {
    library::variable_capacity(loss, seed).run().unwrap()
}

fn utilization(r: &Report) -> f64 {
    let capacity_bits = 40.0 * 1e6 + 20.0 * 2.5e6 + 20.0 * 0.6e6 + 20.0 * 1e6;
    r.flow("video").unwrap().delivered_bytes as f64 * 8.0 / capacity_bits
}

#[test]
fn follows_variable_capacity_with_little_standing_queue() {
    let r = variable_capacity(0.0, 1);
    let v = r.flow("video").unwrap();
    let util = utilization(&r);
    let added_p50 = v.delay_percentile(0.5).saturating_sub(ONE_WAY);
    let added_p95 = v.delay_percentile(0.95).saturating_sub(ONE_WAY);
    eprintln!(
        "utilization {:.3}, added delay p50 {added_p50:?} p95 {added_p95:?}, frames {} of {}",
        util, v.delivered, v.sent
    );
    assert!(util > 0.75, "utilization {util:.3}");
    assert!(added_p50 < Duration::from_millis(60), "p50 added delay {added_p50:?}");
    assert_eq!(v.late, 0);
    assert!(v.delivered as f64 > 0.95 * v.sent as f64, "{} of {} frames", v.delivered, v.sent);
}

#[test]
fn random_loss_is_not_answered_with_a_lower_rate() {
    let clean = variable_capacity(0.0, 2);
    let lossy = variable_capacity(0.05, 2);
    // Compare what the sender put on the link (delivered plus lost), not the frames that
    // survived: without FEC a lost packet costs its whole frame, which is not the rate's fault.
    let sent =
        |r: &Report| (r.downlink.delivered_bytes as f64) / (1.0 - r.downlink.lost as f64 / r.downlink.offered as f64);
    let (r0, r5) = (sent(&clean), sent(&lossy));
    let class = lossy.server.rate.unwrap().class;
    eprintln!("bytes sent: clean {r0:.0}, 5 % random loss {r5:.0} ({:.3}); class {class:?}", r5 / r0);
    assert!(r5 > 0.85 * r0, "random loss cut the rate: {r5:.0} vs {r0:.0}");
    assert_eq!(class, NetworkClass::LossyWireless);
    // And the strategy for random loss, FEC, keeps the frames whole.
    let v = lossy.flow("video").unwrap();
    eprintln!("5 % random loss: {} of {} frames whole", v.delivered, v.sent);
    assert!(v.delivered as f64 > 0.9 * v.sent as f64, "{} of {} frames", v.delivered, v.sent);
    assert_eq!(v.corrupted, 0);
}

#[test]
fn a_capacity_drop_is_followed_within_a_second() {
    // Trace the target after the drop to 600 kbit/s at 60 s.
    let sc = library::capacity_steps("drop", &[(0, 2_500_000), (60, 600_000)], 70, 0.0, 3);
    let mut below_at = None;
    let mut before_drop = 0;
    let mut tick = |t: &asp_core::sim::Tick<'_>| {
        let target = t.pair.server.target_rate_bps();
        if t.elapsed < Duration::from_secs(60) {
            before_drop = target;
        } else if below_at.is_none() && target < 600_000 {
            below_at = Some(t.elapsed);
        }
    };
    sc.run_with_progress(Duration::from_millis(100), &mut tick).unwrap();
    let below_at = below_at.expect("the target went under the new capacity");
    eprintln!("target {before_drop} before the drop; under 600 kbit/s after {:?}", below_at - Duration::from_secs(60));
    assert!(before_drop > 1_200_000, "the target should have grown toward 2.5 Mbit/s first: {before_drop}");
    assert!(below_at <= Duration::from_secs(61), "{below_at:?}");
}
