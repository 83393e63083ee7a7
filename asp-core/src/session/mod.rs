//! The session: one end of an ASP connection, as a state machine driven by its caller.
//!
//! # Driving contract
//!
//! A session never does I/O and never reads a clock. Its driver:
//!
//! 1. feeds what happens with [`Session::handle_input`]: a received datagram, or
//!    [`Input::Timeout`] when the last timeout it was given has passed;
//! 2. then calls [`Session::poll_output`] until it returns [`Output::Timeout`], sending every
//!    [`Output::Transmit`] on its carrier in order and handling every [`Output::Event`];
//! 3. waits until that timeout or the next datagram, whichever comes first, and goes to 1.
//!
//! Calls that change state ([`Session::send`], [`Session::open_channel`], [`Session::close`],
//! [`Session::set_target_rate`]) may come at any time; poll again after them. Getters
//! ([`Session::stats`], [`Session::channel_stats`], ...) are cheap and have no effect.

mod clock;
mod recv;
mod send;
mod timers;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::{RngCore, SeedableRng};

use crate::cc::{FeedbackRecorder, RateController, RateEstimate};
use crate::channel::{ChannelConfig, ChannelId, ChannelKind};
use crate::config::{InvalidConfig, SessionConfig};
use crate::error::{CloseCode, SessionError};
use crate::negotiate::Negotiated;
use crate::pacer::Pacer;
use crate::range_set::RangeSet;
use crate::recv_channel::RecvChannel;
use crate::rtt::RttEstimator;
use crate::scheduler::Scheduler;
use crate::send_channel::{SendChannel, SendError};
use crate::stats::{ChannelStats, DropReason, RttStats, SessionStats};
use crate::time::Timestamp;
use crate::wire::control::ControlMessage;
use crate::wire::frame::CloseFrame;

use clock::PeerClock;
pub(crate) use send::SentPacket;

/// Which end of the session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Connects, sends the first packet, decodes.
    Client,
    /// Accepts, encodes.
    Server,
}

/// Something that happened to the session, fed in by its driver.
#[derive(Debug, Clone)]
pub enum Input {
    /// A datagram arrived from the carrier.
    Datagram(Bytes),
    /// The timeout last returned by [`Session::poll_output`] has passed.
    Timeout,
}

/// What the session wants its driver to do.
#[derive(Debug)]
#[must_use]
pub enum Output {
    /// Send this datagram on the carrier.
    Transmit(Bytes),
    /// Tell the application.
    Event(Event),
    /// Nothing more for now: call [`Session::handle_input`] with [`Input::Timeout`] at this
    /// time, or earlier when a datagram arrives.
    Timeout(Timestamp),
}

/// Something for the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake completed.
    Connected(Box<Negotiated>),
    /// The peer opened a channel.
    ChannelOpened {
        /// Its id.
        id: ChannelId,
        /// Its configuration.
        config: ChannelConfig,
    },
    /// A channel was closed by the peer.
    ChannelClosed {
        /// Its id.
        id: ChannelId,
    },
    /// A message arrived.
    Message {
        /// On which channel.
        channel: ChannelId,
        /// Its sequence number within the channel.
        seq: u64,
        /// Its bytes.
        data: Bytes,
    },
    /// A message will not be delivered (media frame past its deadline, superseded, ...).
    MessageDropped {
        /// On which channel.
        channel: ChannelId,
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: DropReason,
    },
    /// A control message from the peer (keyframe request, stats, stall report).
    Control(ControlMessage),
    /// The rate controller moved the target by 5 % or more, or re-classified the path: the
    /// encoder's bitrate should follow `target_bps`.
    TargetRate(RateEstimate),
    /// The session ended; nothing more will happen.
    Closed(SessionError),
}

/// Why [`Session::poll_output`] chose the timeout it returned: cheap, and it saves hours of
/// debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutReason {
    /// No timer is armed (the session is closed).
    Nothing,
    /// The pacer lets the next packet out then.
    Pacing,
    /// A delayed acknowledgement is due.
    Ack,
    /// A transport-feedback report is due.
    Feedback,
    /// Packets become lost by the time threshold.
    LossDetection,
    /// The probe timeout.
    Probe,
    /// A keep-alive PING is due.
    KeepAlive,
    /// The idle timeout.
    Idle,
    /// The handshake's retransmission or time limit.
    Handshake,
    /// A partial media frame reaches its deadline.
    Reassembly,
    /// The closing period ends.
    Closing,
}

/// Why a channel could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The configuration is invalid.
    #[error(transparent)]
    InvalidConfig(#[from] crate::channel::InvalidChannelConfig),
    /// The session is closing or closed.
    #[error("the session is not open")]
    NotOpen,
    /// Every channel id of this end is in use.
    #[error("no channel id left")]
    NoIdsLeft,
    /// The session's channel count or receive budget would be exceeded.
    #[error("over the session's limit: {0}")]
    OverBudget(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Handshaking,
    Established,
    Closing { until: Timestamp },
    Closed,
}

/// One end of an ASP session. See the module documentation for the driving contract.
#[derive(Debug)]
pub struct Session {
    role: Role,
    config: SessionConfig,
    state: State,
    version: u32,
    nonce: u64,
    created: Timestamp,
    negotiated: Option<Negotiated>,

    // Sending.
    next_pn: u64,
    sent: BTreeMap<u64, SentPacket>,
    largest_acked: Option<u64>,
    loss_time: Option<Timestamp>,
    pto_count: u32,
    probe_pending: bool,
    last_ack_eliciting_sent: Timestamp,
    pacer: Pacer,
    scheduler: Scheduler,
    rtt: RttEstimator,
    tx: BytesMut,
    rate: Option<RateController>,
    /// The last estimate reported in an event.
    reported_rate: Option<RateEstimate>,

    // Receiving.
    received: RangeSet,
    largest_received_at: Timestamp,
    ack_eliciting_unacked: u32,
    ack_deadline: Option<Timestamp>,
    ack_now: bool,
    last_received: Timestamp,
    recv: BTreeMap<u32, RecvChannel>,
    peer_clock: PeerClock,
    feedback: FeedbackRecorder,
    /// When each media channel last asked for a keyframe.
    keyframe_requested: BTreeMap<u32, Timestamp>,
    /// NACKs for missing media ranges, sent with the next packet.
    pending_nacks: VecDeque<crate::wire::frame::NackFrame>,

    // Handshake and close.
    hello_next: Option<Timestamp>,
    hello_sends: u32,
    send_welcome: bool,
    send_version_negotiation: bool,
    /// The CLOSE we send, and whether it goes in a long-header packet.
    close_frame: Option<(CloseFrame, bool)>,
    close_pending: bool,
    close_repeats: u32,

    next_channel_id: u32,
    events: VecDeque<Event>,
    /// Scratch space for channel deliveries, reused to avoid an allocation per packet.
    deliveries: Vec<crate::recv_channel::Delivery>,
    /// The latest `now` the driver gave, for calls that take none.
    last_now: Timestamp,
    ack_eliciting_in_flight: usize,
    stats: SessionStats,
    last_timeout_reason: TimeoutReason,
}

impl Session {
    /// A client session. It sends its first packet on the first [`Session::poll_output`].
    ///
    /// # Errors
    /// [`InvalidConfig`] for a configuration out of range.
    pub fn client(config: SessionConfig, now: Timestamp) -> Result<Session, InvalidConfig> {
        Session::new(Role::Client, config, now)
    }

    /// A server session, created when the carrier sees a new peer; feed it that peer's first
    /// datagram.
    ///
    /// # Errors
    /// [`InvalidConfig`] for a configuration out of range.
    pub fn server(config: SessionConfig, now: Timestamp) -> Result<Session, InvalidConfig> {
        Session::new(Role::Server, config, now)
    }

    fn new(role: Role, config: SessionConfig, now: Timestamp) -> Result<Session, InvalidConfig> {
        config.validate()?;
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(config.rng_seed);
        let mut scheduler = Scheduler::new(config.scheduler, config.mtu, now);
        let control = ChannelConfig::for_kind(ChannelKind::Control);
        scheduler.channels.insert(0, SendChannel::new(0, control, config.mtu));
        let mut recv = BTreeMap::new();
        recv.insert(0, RecvChannel::new(control));
        Ok(Session {
            role,
            version: config.versions[0],
            nonce: rng.next_u64(),
            created: now,
            negotiated: None,
            state: State::Handshaking,
            next_pn: 0,
            sent: BTreeMap::new(),
            largest_acked: None,
            loss_time: None,
            pto_count: 0,
            probe_pending: false,
            last_ack_eliciting_sent: now,
            pacer: Pacer::new(config.target_rate_bps, config.pacing_burst, now),
            scheduler,
            rtt: RttEstimator::new(config.initial_rtt),
            tx: BytesMut::new(),
            rate: config.rate_control.map(|rc| RateController::new(rc, config.target_rate_bps)),
            reported_rate: None,
            received: RangeSet::default(),
            largest_received_at: now,
            ack_eliciting_unacked: 0,
            ack_deadline: None,
            ack_now: false,
            last_received: now,
            recv,
            peer_clock: PeerClock::default(),
            feedback: FeedbackRecorder::default(),
            pending_nacks: VecDeque::new(),
            keyframe_requested: BTreeMap::new(),
            hello_next: (role == Role::Client).then_some(now),
            hello_sends: 0,
            send_welcome: false,
            send_version_negotiation: false,
            close_frame: None,
            close_pending: false,
            close_repeats: 0,
            next_channel_id: if role == Role::Client { 1 } else { 2 },
            events: VecDeque::new(),
            deliveries: Vec::new(),
            last_now: now,
            ack_eliciting_in_flight: 0,
            stats: SessionStats { target_rate_bps: config.target_rate_bps, ..SessionStats::default() },
            last_timeout_reason: TimeoutReason::Nothing,
            config,
        })
    }

    // ---- getters ----

    /// This end's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the handshake completed and the session is not closing.
    #[must_use]
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the session has ended for good.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// What the handshake agreed on, once connected.
    #[must_use]
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// Session statistics, as of now.
    #[must_use]
    pub fn stats(&self) -> SessionStats {
        let mut s = self.stats.clone();
        s.rtt = RttStats {
            smoothed: self.rtt.get(),
            min: self.rtt.min(),
            latest: self.rtt.latest(),
            variation: self.rtt.var(),
        };
        s.target_rate_bps = self.pacer.rate_bps();
        s.rate = self.rate.as_ref().map(RateController::estimate);
        let settled = s.packets_acked + s.packets_lost;
        s.loss_rate = if settled == 0 { 0.0 } else { s.packets_lost as f64 / settled as f64 };
        s
    }

    /// A channel's statistics, both directions.
    #[must_use]
    pub fn channel_stats(&self, id: ChannelId) -> Option<ChannelStats> {
        self.scheduler.channels.get(&id.0).map(|c| c.stats)
    }

    /// Open channels and their configuration, the control channel included.
    pub fn channels(&self) -> impl Iterator<Item = (ChannelId, ChannelConfig)> + '_ {
        self.scheduler.channels.values().map(|c| (ChannelId(c.id), c.config))
    }

    /// Why the last timeout was chosen.
    #[must_use]
    pub fn last_timeout_reason(&self) -> TimeoutReason {
        self.last_timeout_reason
    }

    /// The pacing rate in force.
    #[must_use]
    pub fn target_rate_bps(&self) -> u64 {
        self.pacer.rate_bps()
    }

    /// The smoothed round-trip time.
    #[must_use]
    pub fn rtt(&self) -> Duration {
        self.rtt.get()
    }

    // ---- handle_* ----

    /// Feeds an input. See the module documentation for when.
    pub fn handle_input(&mut self, now: Timestamp, input: Input) {
        self.last_now = self.last_now.max(now);
        match input {
            Input::Datagram(data) => self.on_datagram(now, data),
            Input::Timeout => self.on_timeout(now),
        }
    }

    // ---- poll_* ----

    /// The next thing to do. Call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self, now: Timestamp) -> Output {
        self.last_now = self.last_now.max(now);
        self.on_timeout(now);
        if let Some(event) = self.events.pop_front() {
            return Output::Event(event);
        }
        if let Some(packet) = self.build_packet(now) {
            return Output::Transmit(packet);
        }
        Output::Timeout(self.next_timeout(now))
    }

    // ---- mutators ----

    /// Opens a channel. Data may be queued on it at once; it goes out after the peer has been
    /// told (the open travels on the control channel, ahead of any data).
    ///
    /// # Errors
    /// [`OpenError`] for an invalid configuration, a closed session or exhausted ids.
    pub fn open_channel(&mut self, config: ChannelConfig) -> Result<ChannelId, OpenError> {
        if matches!(self.state, State::Closing { .. } | State::Closed) {
            return Err(OpenError::NotOpen);
        }
        if config.kind == ChannelKind::Control {
            return Err(crate::channel::InvalidChannelConfig::ControlKind.into());
        }
        config.validate()?;
        self.check_budget(&config).map_err(OpenError::OverBudget)?;
        let id = self.next_channel_id;
        self.next_channel_id = id.checked_add(2).ok_or(OpenError::NoIdsLeft)?;
        self.add_channel(id, config);
        let announced = self.queue_control(ControlMessage::OpenChannel { id: ChannelId(id), config });
        if let Some(channel) = self.scheduler.channels.get_mut(&id) {
            channel.awaiting_open = announced;
        }
        Ok(ChannelId(id))
    }

    /// Whether one more channel with this configuration fits the session's limits.
    fn check_budget(&self, config: &ChannelConfig) -> Result<(), &'static str> {
        if self.scheduler.channels.len() >= self.config.max_channels {
            return Err("max_channels");
        }
        let windows: u64 = self.scheduler.channels.values().map(|c| u64::from(c.config.window)).sum();
        if windows + u64::from(config.window) > self.config.receive_budget {
            return Err("receive_budget");
        }
        Ok(())
    }

    fn add_channel(&mut self, id: u32, config: ChannelConfig) {
        let mut channel = SendChannel::new(id, config, self.config.mtu);
        channel.fec_overhead = self.fec_overhead();
        self.scheduler.channels.insert(id, channel);
        self.recv.insert(id, RecvChannel::new(config));
    }

    /// Closes a channel this end or the peer opened; queued data is discarded.
    pub fn close_channel(&mut self, id: ChannelId) {
        if id == ChannelId::CONTROL || self.scheduler.channels.remove(&id.0).is_none() {
            return;
        }
        self.recv.remove(&id.0);
        let _ = self.queue_control(ControlMessage::CloseChannel { id });
    }

    /// Queues a message on a channel other than a media-frame one. Returns its sequence number.
    ///
    /// # Errors
    /// [`SendError`]: unknown channel, too large, a full reliable queue (nothing is lost:
    /// retry later), or a closed session.
    pub fn send(&mut self, now: Timestamp, channel: ChannelId, data: Bytes) -> Result<u64, SendError> {
        self.enqueue(now, channel, data, None)
    }

    /// Queues a media frame that is worthless after `deadline` (this end's clock). It reaches
    /// the peer whole before the deadline, or not at all.
    ///
    /// # Errors
    /// As [`Session::send`]; the channel must be a media-frame channel.
    pub fn send_frame(
        &mut self,
        now: Timestamp,
        channel: ChannelId,
        data: Bytes,
        deadline: Timestamp,
    ) -> Result<u64, SendError> {
        self.enqueue(now, channel, data, Some(deadline))
    }

    fn enqueue(
        &mut self,
        now: Timestamp,
        channel: ChannelId,
        data: Bytes,
        deadline: Option<Timestamp>,
    ) -> Result<u64, SendError> {
        if matches!(self.state, State::Closing { .. } | State::Closed) {
            return Err(SendError::NotOpen);
        }
        if channel == ChannelId::CONTROL {
            return Err(SendError::UnknownChannel(0));
        }
        let c = self.scheduler.channels.get_mut(&channel.0).ok_or(SendError::UnknownChannel(channel.0))?;
        c.enqueue(now, data, deadline)
    }

    /// Sends a control message (keyframe request, stats, stall report) to the peer.
    pub fn send_control(&mut self, message: ControlMessage) {
        let _ = self.queue_control(message);
    }

    /// Queues a control message; returns its sequence number on the control channel.
    fn queue_control(&mut self, message: ControlMessage) -> Option<u64> {
        // Encoding only fails past the size limit, which a message built from this crate's
        // types reaches only through an oversized free-text field; such a message is counted
        // and not sent.
        match message.encode() {
            Ok(bytes) => {
                let control = self.scheduler.channels.get_mut(&0).expect("control channel always exists");
                // The control queue is generous; a full one means the peer stopped reading.
                let seq = control.enqueue(self.last_now, Bytes::from(bytes), None);
                if seq.is_err() {
                    self.stats.control_overflow += 1;
                }
                seq.ok()
            }
            Err(_) => {
                self.stats.control_overflow += 1;
                None
            }
        }
    }

    /// Sets the pacing rate (bits per second). With rate control on, the controller restarts
    /// from this rate and moves on from there with the feedback.
    pub fn set_target_rate(&mut self, now: Timestamp, rate_bps: u64) {
        let mut rate_bps = rate_bps.max(16_000);
        if let Some(rc) = &mut self.rate {
            rc.reset_to(rate_bps);
            rate_bps = rc.target_bps();
        }
        self.pacer.set_rate(rate_bps, now);
    }

    /// The FEC overhead media channels use now: the configured one, or the rate controller's
    /// advice for the loss it sees.
    fn fec_overhead(&self) -> f64 {
        match (self.config.fec_overhead, &self.rate) {
            (Some(fixed), _) => fixed,
            (None, Some(rc)) => rc.estimate().fec_overhead,
            (None, None) => 0.0,
        }
    }

    /// Applies the current FEC overhead to every media channel.
    pub(super) fn update_fec(&mut self) {
        let overhead = self.fec_overhead();
        for c in self.scheduler.channels.values_mut() {
            c.fec_overhead = overhead;
        }
    }

    /// What the encoder may produce now, bits per second: the pacing rate less what FEC repair
    /// shards and packet headers take from it.
    #[must_use]
    pub fn media_budget_bps(&self) -> u64 {
        let sent_ratio = self
            .scheduler
            .channels
            .values()
            .filter(|c| c.config.mode == crate::DeliveryMode::MediaFrames)
            .map(|c| c.fec_ratio)
            .fold(0.0, f64::max);
        crate::cc::media_budget(self.pacer.rate_bps() as f64, self.fec_overhead().max(sent_ratio))
    }

    /// The rate controller's current view, when rate control is on.
    #[must_use]
    pub fn rate_estimate(&self) -> Option<RateEstimate> {
        self.rate.as_ref().map(RateController::estimate)
    }

    /// Closes the session: the peer is told, and [`Event::Closed`] follows.
    pub fn close(&mut self, now: Timestamp, code: CloseCode, reason: &str) {
        if matches!(self.state, State::Closing { .. } | State::Closed) {
            return;
        }
        let reason = crate::wire::frame::truncate_utf8(reason, crate::wire::frame::MAX_REASON_LEN).to_owned();
        self.start_closing(now, code, reason.clone());
        self.events.push_back(Event::Closed(SessionError::ClosedLocally { code, reason }));
    }

    fn start_closing(&mut self, now: Timestamp, code: CloseCode, reason: String) {
        let long = self.state == State::Handshaking;
        self.close_frame = Some((CloseFrame { code: code.0, reason }, long));
        self.close_pending = true;
        self.close_repeats = 3;
        self.state = State::Closing { until: now + 3 * self.rtt.pto_base(self.config.max_ack_delay) };
    }

    fn end(&mut self, error: SessionError) {
        self.state = State::Closed;
        self.events.push_back(Event::Closed(error));
    }
}
