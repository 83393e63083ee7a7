//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use asp_core::Timestamp;
use asp_core::sim::Side;
use asp_core::wire::handshake::{
    AudioCodec, AudioFormat, Capabilities, Chroma, VideoCapability, VideoCodec, VideoProfile,
};
use asp_core::{Event, SessionConfig};

pub fn h264(profile: VideoProfile, chroma: Chroma, hardware: bool) -> VideoCapability {
    VideoCapability {
        codec: VideoCodec::H264,
        profile,
        chroma,
        max_width: 3840,
        max_height: 2160,
        max_fps: 60,
        hardware,
    }
}

pub fn opus() -> AudioFormat {
    AudioFormat { codec: AudioCodec::Opus, sample_rate: 48_000, channels: 2 }
}

pub fn server_config() -> SessionConfig {
    SessionConfig {
        capabilities: Capabilities {
            video: vec![
                h264(VideoProfile::High, Chroma::Yuv444, false),
                h264(VideoProfile::High, Chroma::Yuv420, false),
            ],
            audio: vec![opus()],
            usb: true,
            ..Capabilities::default()
        },
        rng_seed: 2,
        ..SessionConfig::default()
    }
}

pub fn client_config() -> SessionConfig {
    SessionConfig {
        capabilities: Capabilities {
            video: vec![h264(VideoProfile::High, Chroma::Yuv420, true)],
            audio: vec![opus()],
            usb: true,
            ..Capabilities::default()
        },
        rng_seed: 1,
        ..SessionConfig::default()
    }
}

/// Collects every event with its side and time.
#[derive(Default)]
pub struct Events(pub Vec<(Side, Timestamp, Event)>);

impl Events {
    pub fn sink(&mut self) -> impl FnMut(Side, Timestamp, Event) + '_ {
        |side, t, e| self.0.push((side, t, e))
    }

    pub fn of(&self, side: Side) -> impl Iterator<Item = &Event> {
        self.0.iter().filter(move |(s, _, _)| *s == side).map(|(_, _, e)| e)
    }
}
