//! Argument types the subcommands share.

use asp_codec::synth::SourceKind;
use asp_codec::{Preset, VideoCodec};
use asp_transport::select::Carrier;
use clap::ValueEnum;

/// A synthetic scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scene {
    /// Text being typed and scrolled.
    Office,
    /// A moving region in a still desktop.
    Video,
    /// Full-screen motion.
    #[value(name = "3d")]
    ThreeD,
    /// A still desktop.
    Idle,
}

impl Scene {
    pub(crate) fn kind(self) -> SourceKind {
        match self {
            Self::Office => SourceKind::Office,
            Self::Video => SourceKind::Video,
            Self::ThreeD => SourceKind::ThreeD,
            Self::Idle => SourceKind::Idle,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        self.kind().name()
    }
}

/// A video codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Codec {
    /// H.264 (libx264).
    H264,
    /// HEVC (libx265).
    Hevc,
}

impl Codec {
    pub(crate) fn codec(self) -> VideoCodec {
        match self {
            Self::H264 => VideoCodec::H264,
            Self::Hevc => VideoCodec::Hevc,
        }
    }
}

/// An encoder preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PresetArg {
    /// x264 ultrafast.
    Ultrafast,
    /// x264 superfast.
    Superfast,
    /// x264 veryfast.
    Veryfast,
    /// x264 faster.
    Faster,
}

impl PresetArg {
    pub(crate) fn preset(self) -> Preset {
        match self {
            Self::Ultrafast => Preset::Ultrafast,
            Self::Superfast => Preset::Superfast,
            Self::Veryfast => Preset::Veryfast,
            Self::Faster => Preset::Faster,
        }
    }
}

/// A carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CarrierArg {
    /// QUIC datagrams over UDP.
    Quic,
    /// TLS over TCP.
    Tcp,
}

impl CarrierArg {
    pub(crate) fn carrier(self) -> Carrier {
        match self {
            Self::Quic => Carrier::Quic,
            Self::Tcp => Carrier::Tcp,
        }
    }
}

/// `WIDTHxHEIGHT`.
pub(crate) fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text.split_once('x').ok_or_else(|| format!("{text}: expected WIDTHxHEIGHT"))?;
    let w: u32 = w.parse().map_err(|_| format!("{text}: bad width"))?;
    let h: u32 = h.parse().map_err(|_| format!("{text}: bad height"))?;
    if w < 64 || h < 32 || w % 2 != 0 || h % 2 != 0 || w > 8192 || h > 8192 {
        return Err(format!("{text}: width and height must be even, 64x32 to 8192x8192"));
    }
    Ok((w, h))
}

/// What the server captures and how it encodes: shared by `demo`, `serve` and `bench`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StreamArgs {
    /// Picture size of synthetic scenes.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    pub(crate) size: (u32, u32),
    /// Capture rate (a recording plays at its own rate).
    #[arg(long, default_value_t = 60)]
    pub(crate) fps: u32,
    /// Codec.
    #[arg(long, value_enum, default_value_t = Codec::H264)]
    pub(crate) codec: Codec,
    /// Encoder preset.
    #[arg(long, value_enum, default_value_t = PresetArg::Veryfast)]
    pub(crate) preset: PresetArg,
}

impl StreamArgs {
    /// The server configuration these arguments ask for.
    pub(crate) fn server_config(&self) -> asp::server::ServerConfig {
        asp::server::ServerConfig {
            codec: self.codec.codec(),
            preset: self.preset.preset(),
            frame_rate: self.fps,
            ..asp::server::ServerConfig::default()
        }
    }
}
