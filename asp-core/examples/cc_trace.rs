//! Prints a per-second trace of the rate controller over a variable-capacity path (RFC 8867
//! §5.1 shape): capacity, target, received rate, queuing delay, path class, and FEC.
//!
//! ```text
//! cargo run --release -p asp-core --example cc_trace [-- LOSS]
//! ```

use std::time::Duration;

use asp_core::sim::Tick;
use asp_core::sim::library::variable_capacity;

fn main() {
    let loss: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0.0);
    let sc = variable_capacity(loss, 1);
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
    println!("final estimate {:?}\nbottleneck {:?}", r.server.rate, r.downlink);
}
