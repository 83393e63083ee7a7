//! Scenarios as data: a path, flows of traffic on channels, and changes over time; a runner
//! that plays one on a [`Pair`] and reports what each flow got (delays, throughput, order,
//! deadlines) as plain numbers.
//!
//! Every message a flow sends starts with a 24-byte stamp (send time, flow, counter), so the
//! receiver can measure one-way delay on the shared virtual clock and check order and
//! exactly-once delivery; the rest of the message is a pattern derived from the stamp, so a
//! message delivered with a wrong byte is caught too.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

use crate::channel::{ChannelConfig, ChannelId, DeliveryMode};
use crate::config::{InvalidConfig, SessionConfig};
use crate::send_channel::SendError;
use crate::session::Event;
use crate::sim::link::{LinkProfile, LinkStats};
use crate::sim::pair::{Pair, Side};
use crate::stats::{ChannelStats, SessionStats};
use crate::time::Timestamp;

/// Bytes of the stamp at the start of every generated message.
pub const STAMP_LEN: usize = 24;

/// How a flow produces messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Traffic {
    /// Keeps the channel's queue topped up: as much as the scheduler gives it.
    Saturating {
        /// Bytes per message.
        message_len: usize,
    },
    /// One message every `interval` (input events, audio packets).
    Periodic {
        /// Time between messages.
        interval: Duration,
        /// Bytes per message.
        message_len: usize,
    },
    /// Media frames sized to the sender's current target rate (an encoder that follows rate
    /// control), at a frame rate, each worthless after `deadline`.
    AdaptiveFrames {
        /// Frames per second.
        fps: u32,
        /// Deadline after capture.
        deadline: Duration,
    },
    /// Media frames at a frame rate, each worthless after `deadline`.
    Frames {
        /// Frames per second.
        fps: u32,
        /// Bytes per frame.
        frame_len: usize,
        /// Deadline after capture.
        deadline: Duration,
    },
}

/// One stream of messages on its own channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// A name for the report.
    pub name: String,
    /// Which end sends.
    pub from: Side,
    /// Channel the flow opens.
    pub channel: ChannelConfig,
    /// What it sends.
    pub traffic: Traffic,
    /// When it starts.
    pub start: Duration,
    /// When it stops, if before the end.
    pub stop: Option<Duration>,
}

/// A change of the path during a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// New profile for server -> client.
    Downlink(LinkProfile),
    /// New profile for client -> server.
    Uplink(LinkProfile),
    /// New pacing rate for the sender of the given side.
    TargetRate(Side, u64),
}

/// A whole experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// A name for the report.
    pub name: String,
    /// Simulated length, after the handshake.
    pub duration: Duration,
    /// Seed of the links (and of the sessions, through their configs).
    pub seed: u64,
    /// Client session configuration.
    pub client: SessionConfig,
    /// Server session configuration.
    pub server: SessionConfig,
    /// Client -> server path.
    pub uplink: LinkProfile,
    /// Server -> client path.
    pub downlink: LinkProfile,
    /// Traffic.
    pub flows: Vec<Flow>,
    /// Changes at offsets from the start of traffic.
    pub changes: Vec<(Duration, Change)>,
}

/// What one flow got.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowReport {
    /// Its name.
    pub name: String,
    /// Messages handed to the session.
    pub sent: u64,
    /// Messages the session refused for a full queue (reliable backpressure; not lost).
    pub refused: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Payload bytes delivered.
    pub delivered_bytes: u64,
    /// Messages delivered with wrong contents or length.
    pub corrupted: u64,
    /// Messages delivered more than once.
    pub duplicates: u64,
    /// Messages delivered after a later one (on modes that promise order).
    pub out_of_order: u64,
    /// Media frames delivered after their deadline (the shared virtual clock says so).
    pub late: u64,
    /// Messages reported dropped to the receiver.
    pub dropped: u64,
    /// One-way delays of delivered messages, microseconds, sorted.
    pub delays_micros: Vec<u64>,
    /// Delivered throughput over the flow's active time, bits per second.
    pub throughput_bps: f64,
    /// The channel's statistics at the sending end, at the end of the run.
    pub sender: ChannelStats,
    /// The channel's statistics at the receiving end, at the end of the run.
    pub receiver: ChannelStats,
}

impl FlowReport {
    /// A delay percentile (0.0..=1.0), or zero when nothing was delivered.
    #[must_use]
    pub fn delay_percentile(&self, q: f64) -> Duration {
        if self.delays_micros.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.delays_micros.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        Duration::from_micros(self.delays_micros[i])
    }

    /// Sent messages that were neither delivered nor reported dropped.
    #[must_use]
    pub fn unaccounted(&self) -> u64 {
        self.sent.saturating_sub(self.delivered - self.duplicates.min(self.delivered) + self.dropped)
    }
}

/// What a scenario produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// Simulated time of traffic.
    pub simulated: Duration,
    /// Per flow.
    pub flows: Vec<FlowReport>,
    /// Client session statistics at the end.
    pub client: SessionStats,
    /// Server session statistics at the end.
    pub server: SessionStats,
    /// Client -> server link.
    pub uplink: LinkStats,
    /// Server -> client link.
    pub downlink: LinkStats,
}

impl Report {
    /// The report of the flow with this name.
    #[must_use]
    pub fn flow(&self, name: &str) -> Option<&FlowReport> {
        self.flows.iter().find(|f| f.name == name)
    }
}

/// The state of a running scenario, handed to a progress callback.
#[derive(Debug)]
pub struct Tick<'a> {
    /// Simulated time since traffic started.
    pub elapsed: Duration,
    /// The sessions and links.
    pub pair: &'a Pair,
    /// What each flow got so far (delays not yet sorted).
    pub flows: &'a [FlowReport],
}

/// Why a scenario could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A session configuration was refused.
    #[error(transparent)]
    Config(#[from] InvalidConfig),
    /// The handshake did not complete within ten simulated seconds.
    #[error("handshake did not complete")]
    Handshake,
    /// A flow's channel could not be opened.
    #[error("flow {0}: {1}")]
    Open(String, String),
}

#[derive(Debug)]
struct FlowState {
    channel: Option<ChannelId>,
    next_due: Timestamp,
    counter: u64,
    /// Receiver side: highest counter delivered, and which were delivered.
    highest: Option<u64>,
    seen: crate::range_set::RangeSet,
    started: Timestamp,
    stopped: Option<Timestamp>,
}

fn stamp(now: Timestamp, flow: usize, counter: u64, len: usize) -> Bytes {
    let len = len.max(STAMP_LEN);
    let mut b = BytesMut::with_capacity(len);
    b.put_u64(now.as_micros());
    b.put_u64(flow as u64);
    b.put_u64(counter);
    let seed = (counter as u8).wrapping_mul(31).wrapping_add(flow as u8);
    b.extend((0..len - STAMP_LEN).map(|i| seed.wrapping_add(i as u8)));
    b.freeze()
}

fn read_stamp(data: &[u8]) -> Option<(u64, usize, u64, bool)> {
    if data.len() < STAMP_LEN {
        return None;
    }
    let sent = u64::from_be_bytes(data[0..8].try_into().ok()?);
    let flow = u64::from_be_bytes(data[8..16].try_into().ok()?) as usize;
    let counter = u64::from_be_bytes(data[16..24].try_into().ok()?);
    let seed = (counter as u8).wrapping_mul(31).wrapping_add(flow as u8);
    let intact = data[STAMP_LEN..].iter().enumerate().all(|(i, b)| *b == seed.wrapping_add(i as u8));
    Some((sent, flow, counter, intact))
}

/// Queue depth a saturating flow keeps, in bytes.
const SATURATING_BACKLOG: usize = 256 << 10;

impl Scenario {
    /// Plays the scenario.
    ///
    /// # Errors
    /// [`ScenarioError`] if the sessions cannot be built, connected or given their channels.
    pub fn run(&self) -> Result<Report, ScenarioError> {
        self.run_with_progress(Duration::MAX, &mut |_| {})
    }

    /// Plays the scenario, calling `on_tick` every `interval` of simulated time with the state
    /// so far (for live statistics).
    ///
    /// # Errors
    /// As [`Scenario::run`].
    pub fn run_with_progress(
        &self,
        interval: Duration,
        on_tick: &mut dyn FnMut(&Tick<'_>),
    ) -> Result<Report, ScenarioError> {
        let mut pair =
            Pair::new(self.client.clone(), self.server.clone(), self.uplink.clone(), self.downlink.clone(), self.seed)?;
        if !pair.connect(Timestamp::from_millis(10_000), &mut |_, _, _| {}) {
            return Err(ScenarioError::Handshake);
        }
        let t0 = pair.now();
        let end = t0 + self.duration;
        let mut flows: Vec<FlowState> = self
            .flows
            .iter()
            .map(|f| FlowState {
                channel: None,
                next_due: t0 + f.start,
                counter: 0,
                highest: None,
                seen: Default::default(),
                started: t0 + f.start,
                stopped: f.stop.map(|s| t0 + s),
            })
            .collect();
        let mut reports: Vec<FlowReport> =
            self.flows.iter().map(|f| FlowReport { name: f.name.clone(), ..FlowReport::default() }).collect();
        let mut by_channel: HashMap<(Side, ChannelId), usize> = HashMap::new();
        let mut changes = self.changes.clone();
        changes.sort_by_key(|c| c.0);
        let mut changes = changes.into_iter().peekable();
        let mut next_tick = t0 + interval;

        while pair.now() < end {
            let now = pair.now();
            while changes.peek().is_some_and(|c| t0 + c.0 <= now) {
                let (_, change) = changes.next().expect("peeked");
                match change {
                    Change::Downlink(p) => pair.downlink.set_profile(p),
                    Change::Uplink(p) => pair.uplink.set_profile(p),
                    Change::TargetRate(side, rate) => pair.session(side).set_target_rate(now, rate),
                }
            }
            for (i, spec) in self.flows.iter().enumerate() {
                let fs = &mut flows[i];
                if now < fs.started || fs.stopped.is_some_and(|s| now >= s) {
                    continue;
                }
                let session = pair.session(spec.from);
                let channel = match fs.channel {
                    Some(c) => c,
                    None => {
                        let c = session
                            .open_channel(spec.channel)
                            .map_err(|e| ScenarioError::Open(spec.name.clone(), e.to_string()))?;
                        fs.channel = Some(c);
                        by_channel.insert((spec.from, c), i);
                        c
                    }
                };
                let r = &mut reports[i];
                match spec.traffic {
                    Traffic::Saturating { message_len } => {
                        while session
                            .channel_stats(channel)
                            .is_some_and(|s| (s.queued_bytes as usize) < SATURATING_BACKLOG)
                        {
                            match session.send(now, channel, stamp(now, i, fs.counter, message_len)) {
                                Ok(_) => {
                                    fs.counter += 1;
                                    r.sent += 1;
                                }
                                Err(SendError::WouldBlock) => break,
                                Err(e) => return Err(ScenarioError::Open(spec.name.clone(), e.to_string())),
                            }
                        }
                    }
                    Traffic::Periodic { interval, message_len } => {
                        while fs.next_due <= now {
                            match session.send(now, channel, stamp(now, i, fs.counter, message_len)) {
                                Ok(_) => {
                                    fs.counter += 1;
                                    r.sent += 1;
                                }
                                Err(SendError::WouldBlock) => r.refused += 1,
                                Err(e) => return Err(ScenarioError::Open(spec.name.clone(), e.to_string())),
                            }
                            fs.next_due += interval;
                        }
                    }
                    Traffic::Frames { fps, deadline, .. } | Traffic::AdaptiveFrames { fps, deadline } => {
                        while fs.next_due <= now {
                            let frame_len = match spec.traffic {
                                Traffic::Frames { frame_len, .. } => frame_len,
                                // What an encoder following the session's media budget produces.
                                _ => (session.media_budget_bps() as f64 / 8.0 / f64::from(fps.max(1))) as usize,
                            };
                            let frame = stamp(now, i, fs.counter, frame_len);
                            session
                                .send_frame(now, channel, frame, now + deadline)
                                .map_err(|e| ScenarioError::Open(spec.name.clone(), e.to_string()))?;
                            fs.counter += 1;
                            r.sent += 1;
                            fs.next_due += Duration::from_micros(1_000_000 / u64::from(fps.max(1)));
                        }
                    }
                }
            }
            let mut next = end;
            for (i, spec) in self.flows.iter().enumerate() {
                let stopped = flows[i].stopped.is_some_and(|s| now >= s);
                if !stopped && !matches!(spec.traffic, Traffic::Saturating { .. }) {
                    next = next.min(flows[i].next_due.max(flows[i].started));
                }
            }
            if let Some((at, _)) = changes.peek() {
                next = next.min(t0 + *at);
            }
            if now >= next_tick {
                on_tick(&Tick { elapsed: now.saturating_since(t0), pair: &pair, flows: &reports });
                next_tick += interval;
            }
            next = next.min(next_tick);
            let mut handler = |side: Side, t: Timestamp, e: Event| {
                record(side, t, e, &mut flows, &mut reports, &self.flows, &by_channel)
            };
            pair.drive(&mut handler);
            pair.step(next, &mut handler);
        }
        for (i, r) in reports.iter_mut().enumerate() {
            if let Some(channel) = flows[i].channel {
                let from = self.flows[i].from;
                let to = if from == Side::Client { Side::Server } else { Side::Client };
                r.sender = pair.session(from).channel_stats(channel).unwrap_or_default();
                r.receiver = pair.session(to).channel_stats(channel).unwrap_or_default();
            }
            r.delays_micros.sort_unstable();
            let active_end = flows[i].stopped.unwrap_or(end).min(end);
            let active = active_end.saturating_since(flows[i].started).as_secs_f64();
            r.throughput_bps = if active > 0.0 { r.delivered_bytes as f64 * 8.0 / active } else { 0.0 };
        }
        Ok(Report {
            name: self.name.clone(),
            simulated: self.duration,
            flows: reports,
            client: pair.client.stats(),
            server: pair.server.stats(),
            uplink: pair.uplink.stats(),
            downlink: pair.downlink.stats(),
        })
    }
}

/// Books one receiver-side event against its flow.
fn record(
    side: Side,
    now: Timestamp,
    event: Event,
    flows: &mut [FlowState],
    reports: &mut [FlowReport],
    specs: &[Flow],
    by_channel: &HashMap<(Side, ChannelId), usize>,
) {
    match event {
        Event::Message { data, .. } => {
            let Some((sent, idx, counter, intact)) = read_stamp(&data) else { return };
            let (Some(r), Some(fs), Some(spec)) = (reports.get_mut(idx), flows.get_mut(idx), specs.get(idx)) else {
                return;
            };
            if spec.from == side {
                return;
            }
            let expected_len = match spec.traffic {
                Traffic::Saturating { message_len } | Traffic::Periodic { message_len, .. } => {
                    message_len.max(STAMP_LEN)
                }
                Traffic::Frames { frame_len, .. } => frame_len.max(STAMP_LEN),
                Traffic::AdaptiveFrames { .. } => data.len(),
            };
            if !intact || data.len() != expected_len {
                r.corrupted += 1;
            }
            if fs.seen.contains(counter) {
                r.duplicates += 1;
            }
            fs.seen.insert(counter, counter);
            if spec.channel.mode == DeliveryMode::ReliableOrdered && counter != fs.highest.map_or(0, |h| h + 1) {
                r.out_of_order += 1;
            }
            fs.highest = Some(fs.highest.map_or(counter, |h| h.max(counter)));
            if let Traffic::Frames { deadline, .. } | Traffic::AdaptiveFrames { deadline, .. } = spec.traffic
                && now > Timestamp::from_micros(sent) + deadline
            {
                r.late += 1;
            }
            r.delivered += 1;
            r.delivered_bytes += data.len() as u64;
            r.delays_micros.push(now.as_micros().saturating_sub(sent));
        }
        Event::MessageDropped { channel, .. } => {
            let sender = if side == Side::Client { Side::Server } else { Side::Client };
            if let Some(&i) = by_channel.get(&(sender, channel)) {
                reports[i].dropped += 1;
            }
        }
        _ => {}
    }
}
