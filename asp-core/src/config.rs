//! Session configuration, validated once at construction.

use std::time::Duration;

use crate::cc::RateControlConfig;
use crate::scheduler::SchedulerConfig;
use crate::wire::handshake::Capabilities;
use crate::wire::packet::VERSION_1;

/// Wire versions this implementation speaks.
pub const SUPPORTED_VERSIONS: &[u32] = &[VERSION_1];

/// Smallest datagram the engine accepts as its carrier's MTU (a padded handshake must fit).
pub const MIN_MTU: usize = 1200;
/// Largest datagram the engine writes.
pub const MAX_MTU: usize = 65_527;

/// Everything a session needs to know before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// Wire versions this end speaks, most preferred first.
    pub versions: Vec<u32>,
    /// What this end can do: encode (server) or decode (client).
    pub capabilities: Capabilities,
    /// Largest datagram the carrier takes.
    pub mtu: usize,
    /// The carrier delivers every datagram in order (TLS over TCP): the engine then never
    /// retransmits, since the carrier does.
    pub reliable_carrier: bool,
    /// Starting pacing rate, bits per second; with `rate_control` off, the fixed rate.
    pub target_rate_bps: u64,
    /// Delay- and loss-based rate control from the peer's feedback; `None` paces at
    /// `target_rate_bps` until `Session::set_target_rate` says otherwise.
    pub rate_control: Option<RateControlConfig>,
    /// Bytes the pacer lets out back to back.
    pub pacing_burst: usize,
    /// Share of repair shards added to media frames: `None` follows the rate controller's
    /// advice for the random loss it measures (none without rate control); `Some` fixes it.
    pub fec_overhead: Option<f64>,
    /// When a media frame is lost for good, ask the peer for a keyframe (`KeyframeRequest`,
    /// rate-limited to one per round trip per channel) without waiting for the application.
    pub auto_keyframe_requests: bool,
    /// Scheduling between and inside priority classes.
    pub scheduler: SchedulerConfig,
    /// RTT assumed before the first sample.
    pub initial_rtt: Duration,
    /// Longest the receiver holds an acknowledgement back.
    pub max_ack_delay: Duration,
    /// The handshake fails if not complete by then.
    pub handshake_timeout: Duration,
    /// A PING goes out when nothing ack-eliciting was sent for this long.
    pub keep_alive: Duration,
    /// The session ends when nothing was received for this long.
    pub idle_timeout: Duration,
    /// Seed of the session's random numbers (nonce): same seed, same session.
    pub rng_seed: u64,
    /// Most channels open at once, both ends' together, control included.
    pub max_channels: usize,
    /// Receive windows of all open channels added up may not exceed this many bytes: the
    /// bound on what a peer can make this end buffer.
    pub receive_budget: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            versions: vec![VERSION_1],
            capabilities: Capabilities::default(),
            mtu: 1200,
            reliable_carrier: false,
            target_rate_bps: 10_000_000,
            rate_control: Some(RateControlConfig::default()),
            fec_overhead: None,
            auto_keyframe_requests: true,
            pacing_burst: 2 * 1200,
            scheduler: SchedulerConfig::default(),
            initial_rtt: Duration::from_millis(100),
            max_ack_delay: Duration::from_millis(5),
            handshake_timeout: Duration::from_secs(5),
            keep_alive: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(10),
            rng_seed: 0,
            max_channels: 64,
            receive_budget: 96 << 20,
        }
    }
}

/// A configuration field out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidConfig {
    /// A number outside its range.
    #[error("{field} = {actual} is outside {min}..={max}")]
    OutOfRange {
        /// Which field.
        field: &'static str,
        /// Its value.
        actual: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// The version list is empty or names a version this implementation does not speak.
    #[error("versions {0:?}: the list must be non-empty and name only supported versions")]
    NoSupportedVersion(Vec<u32>),
    /// The capabilities do not fit a handshake datagram.
    #[error("capabilities too large for the handshake: {0}")]
    CapabilitiesTooLarge(String),
}

impl SessionConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// The first field found out of range.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let range = |field, actual: f64, min: f64, max: f64| {
            if (min..=max).contains(&actual) {
                Ok(())
            } else {
                Err(InvalidConfig::OutOfRange { field, actual, min, max })
            }
        };
        range("mtu", self.mtu as f64, MIN_MTU as f64, MAX_MTU as f64)?;
        range("target_rate_bps", self.target_rate_bps as f64, 16_000.0, 100e9)?;
        range("pacing_burst", self.pacing_burst as f64, self.mtu as f64, 64.0 * self.mtu as f64)?;
        if let Some(rc) = &self.rate_control {
            range("rate_control.min_bps", rc.min_bps as f64, 16_000.0, rc.max_bps as f64)?;
            range("rate_control.max_bps", rc.max_bps as f64, rc.min_bps as f64, 100e9)?;
        }
        if let Some(f) = self.fec_overhead {
            range("fec_overhead", f, 0.0, 1.0)?;
        }
        range("scheduler.bulk_min_share", self.scheduler.bulk_min_share, 0.0, 0.5)?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        range("initial_rtt_ms", ms(self.initial_rtt), 1.0, 10_000.0)?;
        range("max_ack_delay_ms", ms(self.max_ack_delay), 0.0, 1_000.0)?;
        range("handshake_timeout_ms", ms(self.handshake_timeout), 10.0, 600_000.0)?;
        range("keep_alive_ms", ms(self.keep_alive), 10.0, 600_000.0)?;
        range("idle_timeout_ms", ms(self.idle_timeout), ms(self.keep_alive), 3_600_000.0)?;
        range("max_channels", self.max_channels as f64, 2.0, 4096.0)?;
        range("receive_budget", self.receive_budget as f64, (1 << 20) as f64, (1u64 << 40) as f64)?;
        if self.versions.is_empty() || self.versions.iter().any(|v| !SUPPORTED_VERSIONS.contains(v)) {
            return Err(InvalidConfig::NoSupportedVersion(self.versions.clone()));
        }
        let hello = crate::wire::handshake::HandshakeMessage::Hello {
            nonce: u64::MAX,
            capabilities: self.capabilities.clone(),
        };
        hello.encode().map_err(|e| InvalidConfig::CapabilitiesTooLarge(e.0))?;
        Ok(())
    }
}
