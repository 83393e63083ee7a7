//! The bench's network profiles: named built-ins and JSON files, turned into the relay's
//! schedules (one per direction) and, for plots, the capacity over time.
//!
//! | name | one-way delay | rate | loss | notes |
//! | --- | --- | --- | --- | --- |
//! | `lan` | 0.5 ms | 1 Gbit/s | 0 | a wired LAN |
//! | `wan-40ms` | 20 ms | 50 Mbit/s | 0 | 40 ms round trip |
//! | `lossy-5pct` | 20 ms | 20 Mbit/s | 5 % random, both ways | lossy wireless |
//! | `3mbit` | 20 ms | 3 Mbit/s, 100 ms queue | 0 | a shaped uplink |
//! | `variable` | 20 ms | 8 → 2 → 5 Mbit/s at 0 / 4 / 7 s, 150 ms queue | 0 | capacity changes |
//!
//! A file holds `{"name": ..., "link": {LinkSpec}, "capacity": [{"at_s", "rate_kbps"}], "return_delay_ms": ...}`
//! with the link fields of docs/SCENARIOS.md.

use std::time::Duration;

use asp_core::sim::LinkProfile;
use asp_transport::profile::{CapacitySpec, LinkSpec};
use asp_transport::relay::Schedule;
use serde::Deserialize;

/// A network to run through.
#[derive(Debug, Clone)]
pub struct NetworkProfile {
    /// Name in reports.
    pub name: String,
    /// Client to server.
    pub up: Schedule,
    /// Server to client.
    pub down: Schedule,
}

/// The built-in names.
pub const BUILT_IN: [&str; 5] = ["lan", "wan-40ms", "lossy-5pct", "3mbit", "variable"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    link: LinkSpec,
    #[serde(default)]
    capacity: Vec<CapacitySpec>,
    return_delay_ms: Option<f64>,
}

fn link(delay_ms: f64, rate_kbps: u64, loss: f64, queue_ms: f64) -> LinkSpec {
    LinkSpec {
        delay_ms: Some(delay_ms),
        rate_kbps: Some(rate_kbps),
        loss: Some(loss),
        queue_ms: Some(queue_ms),
        ..LinkSpec::default()
    }
}

fn build(name: &str, link: &LinkSpec, capacity: &[CapacitySpec], return_delay_ms: Option<f64>) -> NetworkProfile {
    let forward = link.to_profile();
    let mut down: Schedule = vec![(Duration::ZERO, forward.clone())];
    for c in capacity {
        let spec = LinkSpec { rate_kbps: Some(c.rate_kbps), ..link.clone() };
        down.push((Duration::from_secs_f64(c.at_s.max(0.0)), spec.to_profile()));
    }
    // The return path carries input and feedback: same delay and loss, no bottleneck.
    let back = LinkSpec {
        delay_ms: return_delay_ms.or(link.delay_ms),
        rate_kbps: None,
        queue_ms: None,
        queue_bytes: None,
        ..link.clone()
    };
    NetworkProfile { name: name.to_owned(), up: vec![(Duration::ZERO, back.to_profile())], down }
}

impl NetworkProfile {
    /// A built-in profile by name, or a JSON file by path.
    ///
    /// # Errors
    /// A message naming the unknown profile, or what is wrong with the file.
    pub fn named(name: &str) -> Result<Self, String> {
        let built_in = match name {
            "lan" => Some((link(0.5, 1_000_000, 0.0, 5.0), Vec::new())),
            "wan-40ms" => Some((link(20.0, 50_000, 0.0, 100.0), Vec::new())),
            "lossy-5pct" => Some((link(20.0, 20_000, 0.05, 100.0), Vec::new())),
            "3mbit" => Some((link(20.0, 3_000, 0.0, 100.0), Vec::new())),
            "variable" => Some((
                link(20.0, 8_000, 0.0, 150.0),
                vec![CapacitySpec { at_s: 4.0, rate_kbps: 2_000 }, CapacitySpec { at_s: 7.0, rate_kbps: 5_000 }],
            )),
            _ => None,
        };
        if let Some((l, capacity)) = built_in {
            return Ok(build(name, &l, &capacity, None));
        }
        let text = std::fs::read_to_string(name).map_err(|e| {
            format!("network {name:?} is neither a built-in ({}) nor a readable file: {e}", BUILT_IN.join(", "))
        })?;
        let file: ProfileFile = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        Ok(build(&file.name, &file.link, &file.capacity, file.return_delay_ms))
    }

    /// The downstream bottleneck's rate at `t`, bits per second (`None`: unlimited).
    #[must_use]
    pub fn capacity_at(&self, t: Duration) -> Option<u64> {
        self.down.iter().rev().find(|(at, _)| *at <= t).and_then(|(_, p): &(Duration, LinkProfile)| p.rate_bps)
    }

    /// Round trip without queueing.
    #[must_use]
    pub fn base_rtt(&self) -> Duration {
        let first = |s: &Schedule| s.first().map_or(Duration::ZERO, |(_, p)| p.delay);
        first(&self.up) + first(&self.down)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_and_files() {
        for name in BUILT_IN {
            let p = NetworkProfile::named(name).unwrap();
            assert_eq!(p.name, name);
            assert!(p.down[0].1.rate_bps.is_some());
            assert_eq!(p.up[0].1.rate_bps, None);
        }
        let v = NetworkProfile::named("variable").unwrap();
        assert_eq!(v.capacity_at(Duration::from_secs(5)), Some(2_000_000));
        assert_eq!(NetworkProfile::named("wan-40ms").unwrap().base_rtt(), Duration::from_millis(40));
        assert!((NetworkProfile::named("lossy-5pct").unwrap().up[0].1.loss - 0.05).abs() < 1e-12);
        let dir = std::env::temp_dir().join(format!("asp-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.json");
        std::fs::write(
            &path,
            r#"{"name":"mine","link":{"rate_kbps":1500,"delay_ms":30},"capacity":[{"at_s":2,"rate_kbps":700}]}"#,
        )
        .unwrap();
        let p = NetworkProfile::named(path.to_str().unwrap()).unwrap();
        assert_eq!((p.name.as_str(), p.capacity_at(Duration::from_secs(3))), ("mine", Some(700_000)));
        std::fs::write(&path, r#"{"name":"x","link":{"rate_kbps":1},"bogus":1}"#).unwrap();
        assert!(NetworkProfile::named(path.to_str().unwrap()).is_err());
        assert!(NetworkProfile::named("no-such-profile").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
