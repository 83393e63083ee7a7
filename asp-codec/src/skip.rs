//! Which frames to encode: every changed frame, and unchanged frames only while the encoder
//! is still refining the picture.
//!
//! Skipping every unchanged frame (what damage detection allows) has a cost the real desktop
//! recordings showed: a rate controller that budgets per frame gets no bits in the skipped
//! frame times, so a picture coded once at low quality (after a scroll, say) stays blurred.
//! Encoding the unchanged frames that follow a change lets the encoder spend those frame
//! times refining the picture; once its packet for an unchanged frame is tiny (the encoder
//! has nothing left to improve, it codes every block as skipped) there is nothing to gain,
//! and frames are skipped until the next change. A static screen then costs nothing, and a
//! slowly changing one its changes plus their refinement.

/// The skip decision for one stream.
#[derive(Debug, Clone)]
pub struct SkipGate {
    converged_bytes: usize,
    refining: bool,
}

impl SkipGate {
    /// A gate that takes a packet of at most `converged_bytes` for an unchanged frame as the
    /// sign that the picture has converged. [`SkipGate::for_rate`] picks it from the rate.
    #[must_use]
    pub fn new(converged_bytes: usize) -> Self {
        Self { converged_bytes, refining: true }
    }

    /// A gate for a stream of `bitrate_bps` at `frame_rate`: converged below 2 % of a frame's
    /// budget, and never below 64 bytes (headers of an all-skipped frame).
    #[must_use]
    pub fn for_rate(bitrate_bps: u32, frame_rate: u32) -> Self {
        let budget = bitrate_bps as usize / 8 / frame_rate.max(1) as usize;
        Self::new((budget / 50).max(64))
    }

    /// Whether to encode a frame that `changed` (has damage) or not.
    #[must_use]
    pub fn should_encode(&self, changed: bool) -> bool {
        changed || self.refining
    }

    /// Reports an encoded frame: whether it had changed, and its packet's size.
    pub fn encoded(&mut self, changed: bool, packet_bytes: usize) {
        if changed {
            self.refining = true;
        } else if packet_bytes <= self.converged_bytes {
            self.refining = false;
        }
    }

    /// Whether the encoder is still refining since the last change.
    #[must_use]
    pub fn refining(&self) -> bool {
        self.refining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_frames_always_pass_and_refinement_stops_at_convergence() {
        let mut g = SkipGate::new(100);
        assert!(g.should_encode(true) && g.should_encode(false), "refines from the start");
        g.encoded(true, 5000);
        assert!(g.should_encode(false));
        g.encoded(false, 900); // still improving
        assert!(g.should_encode(false));
        g.encoded(false, 80); // converged
        assert!(!g.should_encode(false), "static and converged: skip");
        assert!(g.should_encode(true), "a change always passes");
        g.encoded(true, 3000);
        assert!(g.refining() && g.should_encode(false));
    }

    #[test]
    fn threshold_follows_the_rate() {
        // 1 Mbit/s at 30 fps: 4166 bytes a frame, 2 % = 83 bytes.
        assert_eq!(SkipGate::for_rate(1_000_000, 30).converged_bytes, 83);
        assert_eq!(SkipGate::for_rate(100_000, 30).converged_bytes, 64);
    }
}
