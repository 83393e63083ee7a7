//! Several flows through one bottleneck, in virtual time: ASP sessions that follow their rate
//! controller and TCP-like NewReno flows. This is what the RFC 8867 scenarios need: variable
//! capacity, fairness between ASP flows, competition with TCP, pause and resume.

use std::time::Duration;

use bytes::Bytes;

use crate::channel::{ChannelConfig, ChannelId, ChannelKind};
use crate::config::SessionConfig;
use crate::session::{Event, Input, Output, Session};
use crate::sim::link::{Link, LinkProfile};
use crate::sim::reno::{Reno, SEGMENT};
use crate::time::Timestamp;

/// What a flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    /// An ASP session sending video frames sized to its media budget.
    Asp,
    /// A long-lived TCP-like bulk transfer (NewReno).
    NewReno,
}

/// One flow of a shared-bottleneck scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedFlow {
    /// Name in the report.
    pub name: String,
    /// Kind.
    pub kind: FlowKind,
    /// When it starts sending.
    pub start: Duration,
    /// When it stops for good, if before the end.
    pub stop: Option<Duration>,
    /// A pause (start, end) during which an ASP flow's source sends nothing (RFC 8867 §5.8).
    pub pause: Option<(Duration, Duration)>,
}

/// A shared-bottleneck scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedScenario {
    /// Name in the report.
    pub name: String,
    /// Length.
    pub duration: Duration,
    /// Seed of links and sessions.
    pub seed: u64,
    /// The bottleneck, forward direction (media and TCP data).
    pub bottleneck: LinkProfile,
    /// Capacity changes: at this offset, this rate (bits per second).
    pub capacity: Vec<(Duration, u64)>,
    /// One-way delay of the uncongested return path (feedback, TCP acks).
    pub return_delay: Duration,
    /// The flows.
    pub flows: Vec<SharedFlow>,
    /// ASP sessions' starting rate.
    pub start_bps: u64,
    /// ASP video frame rate.
    pub fps: u32,
    /// ASP frame deadline after capture.
    pub deadline: Duration,
}

/// What one flow got.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedFlowReport {
    /// Name.
    pub name: String,
    /// Kind, as text.
    pub kind: String,
    /// Bytes delivered to the receiving application.
    pub delivered_bytes: u64,
    /// Mean throughput over the flow's active time, bits per second.
    pub throughput_bps: f64,
    /// Mean throughput over the last third of the run, bits per second (steady state).
    pub steady_bps: f64,
    /// ASP: frames sent.
    pub frames_sent: u64,
    /// ASP: frames delivered whole and on time.
    pub frames_on_time: u64,
    /// ASP: longest time between two delivered frames while sending, milliseconds.
    pub max_gap_ms: f64,
    /// ASP: target rate once per second.
    pub target_trace: Vec<u64>,
}

/// What a scenario produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SharedReport {
    /// Name.
    pub name: String,
    /// Per flow.
    pub flows: Vec<SharedFlowReport>,
    /// Bytes the bottleneck delivered over the capacity it offered.
    pub utilization: f64,
    /// Queuing delay at the bottleneck, all packets, milliseconds: median.
    pub added_delay_p50_ms: f64,
    /// ... and 95th percentile.
    pub added_delay_p95_ms: f64,
    /// Packets dropped at the bottleneck (queue or random loss) over packets offered.
    pub loss: f64,
    /// Capacity in force each second, bits per second.
    pub capacity_trace: Vec<u64>,
}

/// A packet on the bottleneck or a return path.
#[derive(Debug, Clone)]
enum Packet {
    Asp(usize, Bytes),
    Tcp(usize, u64),
}

enum FlowState {
    Asp {
        client: Box<Session>,
        server: Box<Session>,
        channel: Option<ChannelId>,
        next_frame: Timestamp,
        client_wake: Timestamp,
        server_wake: Timestamp,
        last_delivery: Option<Timestamp>,
    },
    Reno(Reno),
}

fn capacity_at(s: &SharedScenario, t: Duration) -> u64 {
    let mut rate = s.bottleneck.rate_bps.unwrap_or(u64::MAX);
    for (at, r) in &s.capacity {
        if *at <= t {
            rate = *r;
        }
    }
    rate
}

impl SharedScenario {
    /// Plays the scenario.
    ///
    /// # Errors
    /// A session configuration the engine refuses.
    pub fn run(&self) -> Result<SharedReport, crate::config::InvalidConfig> {
        let t0 = Timestamp::ZERO;
        let end = t0 + self.duration;
        let mut forward: Link<Packet> = Link::new(self.bottleneck.clone(), self.seed);
        forward.record_queue_delays();
        let ret = LinkProfile { delay: self.return_delay, ..LinkProfile::default() };
        let mut back: Vec<Link<Packet>> = Vec::new();
        let mut states = Vec::new();
        let mut reports = Vec::new();
        for (i, f) in self.flows.iter().enumerate() {
            back.push(Link::new(ret.clone(), self.seed.wrapping_add(100 + i as u64)));
            let config = |seed: u64| SessionConfig {
                target_rate_bps: self.start_bps,
                rng_seed: seed,
                ..SessionConfig::default()
            };
            states.push(match f.kind {
                FlowKind::Asp => FlowState::Asp {
                    client: Box::new(Session::client(config(self.seed + 2 * i as u64), t0)?),
                    server: Box::new(Session::server(config(self.seed + 2 * i as u64 + 1), t0)?),
                    channel: None,
                    next_frame: t0 + f.start,
                    client_wake: t0,
                    server_wake: t0,
                    last_delivery: None,
                },
                FlowKind::NewReno => FlowState::Reno(Reno::default()),
            });
            reports.push(SharedFlowReport {
                name: f.name.clone(),
                kind: format!("{:?}", f.kind),
                ..Default::default()
            });
        }
        let frame_interval = Duration::from_micros(1_000_000 / u64::from(self.fps.max(1)));
        let steady_from = t0 + self.duration * 2 / 3;
        let mut steady_bytes = vec![0u64; self.flows.len()];
        let mut capacity_trace = Vec::new();
        let mut next_tick = t0;
        let mut capacity_changes = self.capacity.clone();
        capacity_changes.sort_by_key(|c| c.0);
        let mut changes = capacity_changes.into_iter().peekable();
        let mut now = t0;
        let mut offered_bits = 0f64;
        let mut last_capacity_time = t0;
        let mut current_capacity = capacity_at(self, Duration::ZERO);

        while now < end {
            while changes.peek().is_some_and(|(at, _)| t0 + *at <= now) {
                let (_, rate) = changes.next().expect("peeked");
                offered_bits += current_capacity as f64 * now.saturating_since(last_capacity_time).as_secs_f64();
                last_capacity_time = now;
                current_capacity = rate;
                forward.set_profile(LinkProfile { rate_bps: Some(rate), ..forward.profile().clone() });
            }
            if now >= next_tick {
                capacity_trace.push(current_capacity);
                for (i, st) in states.iter().enumerate() {
                    if let FlowState::Asp { server, .. } = st {
                        reports[i].target_trace.push(server.target_rate_bps());
                    }
                }
                next_tick += Duration::from_secs(1);
            }
            // Arrivals at the receivers.
            while let Some(p) = forward.receive(now) {
                match p {
                    Packet::Asp(i, d) => {
                        if let FlowState::Asp { client, .. } = &mut states[i] {
                            client.handle_input(now, Input::Datagram(d));
                        }
                    }
                    Packet::Tcp(i, seq) => {
                        if let FlowState::Reno(r) = &mut states[i] {
                            let before = r.delivered_bytes();
                            let ack = r.on_segment(seq);
                            if now >= steady_from {
                                steady_bytes[i] += r.delivered_bytes() - before;
                            }
                            back[i].send_sized(now, 40, Packet::Tcp(i, ack));
                        }
                    }
                }
            }
            for (i, link) in back.iter_mut().enumerate() {
                while let Some(p) = link.receive(now) {
                    match (p, &mut states[i]) {
                        (Packet::Asp(_, d), FlowState::Asp { server, .. }) => {
                            server.handle_input(now, Input::Datagram(d))
                        }
                        (Packet::Tcp(_, ack), FlowState::Reno(r)) => r.on_ack(now, ack),
                        _ => {}
                    }
                }
            }
            // Sources and sessions.
            let mut next = end.min(next_tick);
            if let Some((at, _)) = changes.peek() {
                next = next.min(t0 + *at);
            }
            // Sources fall silent for the last second, so that frames still in flight at the
            // end are not counted as lost.
            let draining = now + Duration::from_secs(1) >= end;
            for (i, f) in self.flows.iter().enumerate() {
                let active = now >= t0 + f.start && f.stop.is_none_or(|s| now < t0 + s) && !draining;
                let paused = f.pause.is_some_and(|(a, b)| now >= t0 + a && now < t0 + b);
                match &mut states[i] {
                    FlowState::Reno(r) => {
                        if active {
                            for seq in r.poll_send(now) {
                                forward.send_sized(now, SEGMENT, Packet::Tcp(i, seq));
                            }
                            if let Some(t) = r.timeout_at() {
                                next = next.min(t.max(now + Duration::from_micros(1)));
                            }
                        }
                    }
                    FlowState::Asp { client, server, channel, next_frame, client_wake, server_wake, last_delivery } => {
                        if channel.is_none() && server.is_established() {
                            *channel = server.open_channel(ChannelConfig::for_kind(ChannelKind::Display)).ok();
                        }
                        if let Some(ch) = *channel {
                            while *next_frame <= now {
                                if active && !paused {
                                    let len =
                                        (server.media_budget_bps() as f64 / 8.0 / f64::from(self.fps.max(1))) as usize;
                                    if server
                                        .send_frame(now, ch, Bytes::from(vec![0u8; len.max(1)]), now + self.deadline)
                                        .is_ok()
                                    {
                                        reports[i].frames_sent += 1;
                                    }
                                }
                                *next_frame += frame_interval;
                            }
                            next = next.min(*next_frame);
                        }
                        if now >= *client_wake {
                            client.handle_input(now, Input::Timeout);
                        }
                        if now >= *server_wake {
                            server.handle_input(now, Input::Timeout);
                        }
                        *server_wake =
                            drain(server, now, |d| forward.send_sized(now, d.len(), Packet::Asp(i, d)), |_| {});
                        let r = &mut reports[i];
                        let steady = &mut steady_bytes[i];
                        *client_wake = drain(
                            client,
                            now,
                            |d| back[i].send_sized(now, d.len(), Packet::Asp(i, d)),
                            |e| {
                                if let Event::Message { data, .. } = e {
                                    r.frames_on_time += 1;
                                    r.delivered_bytes += data.len() as u64;
                                    if now >= steady_from {
                                        *steady += data.len() as u64;
                                    }
                                    let sending = active && !paused;
                                    if let Some(last) = *last_delivery
                                        && sending
                                    {
                                        r.max_gap_ms = r.max_gap_ms.max(now.saturating_since(last).as_secs_f64() * 1e3);
                                    }
                                    *last_delivery = Some(now);
                                }
                            },
                        );
                        if paused {
                            *last_delivery = None;
                        }
                        next = next.min(*client_wake).min(*server_wake);
                    }
                }
            }
            if let Some(t) = forward.next_arrival() {
                next = next.min(t);
            }
            for link in &back {
                if let Some(t) = link.next_arrival() {
                    next = next.min(t);
                }
            }
            now = next.max(now + Duration::from_micros(1)).min(end.max(now));
            if next <= now && now == end {
                break;
            }
        }
        offered_bits += current_capacity as f64 * end.saturating_since(last_capacity_time).as_secs_f64();
        for (i, f) in self.flows.iter().enumerate() {
            let r = &mut reports[i];
            if let FlowState::Reno(reno) = &states[i] {
                r.delivered_bytes = reno.delivered_bytes();
            }
            let active_end = f.stop.map_or(end, |s| (t0 + s).min(end));
            let mut active = active_end.saturating_since(t0 + f.start).as_secs_f64();
            if let Some((a, b)) = f.pause {
                active -= (b.min(self.duration) - a.min(self.duration)).as_secs_f64();
            }
            r.throughput_bps = if active > 0.0 { r.delivered_bytes as f64 * 8.0 / active } else { 0.0 };
            r.steady_bps = steady_bytes[i] as f64 * 8.0 / (self.duration / 3).as_secs_f64();
        }
        let stats = forward.stats();
        let mut delays: Vec<u32> = forward.queue_delays().to_vec();
        delays.sort_unstable();
        let pct =
            |q: f64| delays.get(((delays.len().max(1) - 1) as f64 * q) as usize).map_or(0.0, |d| f64::from(*d) / 1e3);
        Ok(SharedReport {
            name: self.name.clone(),
            flows: reports,
            utilization: stats.delivered_bytes as f64 * 8.0 / offered_bits.max(1.0),
            added_delay_p50_ms: pct(0.5),
            added_delay_p95_ms: pct(0.95),
            loss: (stats.lost + stats.queue_drops) as f64 / stats.offered.max(1) as f64,
            capacity_trace,
        })
    }
}

/// Drains a session: datagrams to `send`, events to `event`; returns its wake-up.
fn drain(
    session: &mut Session,
    now: Timestamp,
    mut send: impl FnMut(Bytes),
    mut event: impl FnMut(Event),
) -> Timestamp {
    loop {
        match session.poll_output(now) {
            Output::Transmit(d) => send(d),
            Output::Event(e) => event(e),
            Output::Timeout(t) => return t,
        }
    }
}
