//! The profile description shared by the simulator and the relay: a link's impairments and
//! a scenario of flows over a shared bottleneck, as JSON (documented in docs/SCENARIOS.md).
//! One description drives `asp_core::sim` in virtual time and [`crate::relay`] on real sockets.

use std::time::Duration;

use asp_core::sim::{BurstLoss, FlowKind, LinkProfile, SharedFlow, SharedScenario};
use serde::Deserialize;

/// A link's impairments. Every field is optional; absent ones take the simulator's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Bottleneck rate, kbit/s (absent: unlimited).
    pub rate_kbps: Option<u64>,
    /// One-way delay, ms.
    pub delay_ms: Option<f64>,
    /// Extra delay drawn uniformly up to this, ms.
    pub jitter_ms: Option<f64>,
    /// Random loss probability.
    pub loss: Option<f64>,
    /// Gilbert-Elliott burst loss.
    pub burst: Option<BurstSpec>,
    /// Duplication probability.
    pub duplicate: Option<f64>,
    /// Reordering probability.
    pub reorder: Option<f64>,
    /// How long a reordered packet is held back, ms.
    pub reorder_delay_ms: Option<f64>,
    /// Queue, in ms at the rate (takes precedence over `queue_bytes`).
    pub queue_ms: Option<f64>,
    /// Queue, bytes.
    pub queue_bytes: Option<usize>,
    /// Largest datagram, bytes.
    pub mtu: Option<usize>,
}

/// Burst loss parameters.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    /// Probability per packet of entering the bad state.
    pub enter_bad: f64,
    /// Probability per packet of leaving it.
    pub leave_bad: f64,
    /// Loss probability while bad.
    pub loss_in_bad: f64,
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0) / 1e3)
}

impl LinkSpec {
    /// The simulator's profile for this description.
    #[must_use]
    pub fn to_profile(&self) -> LinkProfile {
        let d = LinkProfile::default();
        let rate_bps = self.rate_kbps.map(|k| k * 1000);
        let queue_bytes = match (self.queue_ms, rate_bps) {
            (Some(q), Some(rate)) => (rate as f64 * q / 8e3) as usize,
            _ => self.queue_bytes.unwrap_or(d.queue_bytes),
        };
        LinkProfile {
            delay: self.delay_ms.map_or(d.delay, ms),
            jitter: self.jitter_ms.map_or(d.jitter, ms),
            loss: self.loss.unwrap_or(d.loss),
            burst: self.burst.map(|b| BurstLoss {
                enter_bad: b.enter_bad,
                leave_bad: b.leave_bad,
                loss_in_bad: b.loss_in_bad,
            }),
            duplicate: self.duplicate.unwrap_or(d.duplicate),
            reorder: self.reorder.unwrap_or(d.reorder),
            reorder_delay: self.reorder_delay_ms.map_or(d.reorder_delay, ms),
            rate_bps,
            queue_bytes,
            mtu: self.mtu.unwrap_or(d.mtu),
        }
    }
}

/// A capacity change.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacitySpec {
    /// When, seconds from the start.
    pub at_s: f64,
    /// The new rate, kbit/s.
    pub rate_kbps: u64,
}

/// A flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Name in the report.
    pub name: String,
    /// `"asp"` or `"newreno"`.
    pub kind: String,
    /// Start, seconds.
    #[serde(default)]
    pub start_s: f64,
    /// Stop, seconds.
    pub stop_s: Option<f64>,
    /// A pause `[from, to]`, seconds (ASP flows).
    pub pause_s: Option<[f64; 2]>,
}

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// Name in the report.
    pub name: String,
    /// Length, seconds.
    pub duration_s: f64,
    /// Seed.
    #[serde(default = "one")]
    pub seed: u64,
    /// The bottleneck.
    pub link: LinkSpec,
    /// Capacity changes.
    #[serde(default)]
    pub capacity: Vec<CapacitySpec>,
    /// One-way delay of the return path, ms (default: the link's delay).
    pub return_delay_ms: Option<f64>,
    /// The flows.
    pub flows: Vec<FlowSpec>,
    /// ASP frame rate (default 30).
    pub fps: Option<u32>,
    /// ASP frame deadline, ms (default 400).
    pub deadline_ms: Option<f64>,
    /// ASP starting rate, kbit/s (default 300).
    pub start_kbps: Option<u64>,
}

fn one() -> u64 {
    1
}

/// Why a description could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Not valid JSON for the format.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A value the format does not allow.
    #[error("{0}")]
    Invalid(String),
}

impl ScenarioSpec {
    /// Reads a scenario from JSON.
    ///
    /// # Errors
    /// [`ProfileError`] with the parser's message or the invalid value.
    pub fn from_json(text: &str) -> Result<Self, ProfileError> {
        let spec: ScenarioSpec = serde_json::from_str(text)?;
        if !(spec.duration_s > 0.0 && spec.duration_s <= 86_400.0) {
            return Err(ProfileError::Invalid(format!("duration_s {} out of (0, 86400]", spec.duration_s)));
        }
        if spec.link.rate_kbps.is_none() {
            return Err(ProfileError::Invalid("a shared bottleneck needs link.rate_kbps".into()));
        }
        for f in &spec.flows {
            if f.kind != "asp" && f.kind != "newreno" {
                return Err(ProfileError::Invalid(format!("flow {}: kind must be \"asp\" or \"newreno\"", f.name)));
            }
        }
        Ok(spec)
    }

    /// The shared-bottleneck scenario it describes.
    #[must_use]
    pub fn to_scenario(&self) -> SharedScenario {
        let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
        let bottleneck = self.link.to_profile();
        SharedScenario {
            name: self.name.clone(),
            duration: secs(self.duration_s),
            seed: self.seed,
            return_delay: self.return_delay_ms.map_or(bottleneck.delay, ms),
            bottleneck,
            capacity: self.capacity.iter().map(|c| (secs(c.at_s), c.rate_kbps * 1000)).collect(),
            flows: self
                .flows
                .iter()
                .map(|f| SharedFlow {
                    name: f.name.clone(),
                    kind: if f.kind == "newreno" { FlowKind::NewReno } else { FlowKind::Asp },
                    start: secs(f.start_s),
                    stop: f.stop_s.map(secs),
                    pause: f.pause_s.map(|[a, b]| (secs(a), secs(b))),
                })
                .collect(),
            start_bps: self.start_kbps.unwrap_or(300) * 1000,
            fps: self.fps.unwrap_or(30),
            deadline: self.deadline_ms.map_or(Duration::from_millis(400), ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_parses_into_both_uses() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/scenarios/variable-capacity.json"))
                .unwrap();
        let spec = ScenarioSpec::from_json(&text).unwrap();
        let s = spec.to_scenario();
        assert_eq!(s.bottleneck.rate_bps, Some(1_000_000));
        assert_eq!(s.bottleneck.delay, Duration::from_millis(50));
        assert_eq!(s.bottleneck.queue_bytes, 37_500, "300 ms at 1 Mbit/s");
        assert_eq!(s.capacity.len(), 3);
        assert_eq!(s.flows[0].kind, FlowKind::Asp);
        // The same link description feeds the relay.
        assert_eq!(spec.link.to_profile(), s.bottleneck);
    }

    #[test]
    fn bad_descriptions_are_refused_with_a_reason() {
        assert!(ScenarioSpec::from_json("{}").is_err());
        let unknown = r#"{"name":"x","duration_s":1,"link":{"rate_kbps":1,"colour":"red"},"flows":[]}"#;
        assert!(ScenarioSpec::from_json(unknown).unwrap_err().to_string().contains("colour"));
        let kind = r#"{"name":"x","duration_s":1,"link":{"rate_kbps":1},"flows":[{"name":"f","kind":"udp"}]}"#;
        assert!(ScenarioSpec::from_json(kind).unwrap_err().to_string().contains("kind"));
    }
}
