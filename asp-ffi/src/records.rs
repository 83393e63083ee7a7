//! Plain records the bindings hand out: decoded frames, client and server figures, server
//! events. Converted from the facade's types here, once, for the uniffi interface and the
//! JSON the C ABI offers.

use asp::client::ClientStats as FacadeClientStats;
use asp::host::{HostEvent, HostStats};
use asp::metrics::LatencySummary;
use asp::sink::DecodedFrame;
use asp_codec::YuvFormat;

/// How a frame's samples are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PixelFormat {
    /// Planar 4:2:0: Y, then U and V at half width and half height.
    I420,
    /// Planar 4:4:4: Y, U and V at full size.
    I444,
}

impl PixelFormat {
    pub(crate) fn of(format: YuvFormat) -> Option<Self> {
        match format {
            YuvFormat::I420 => Some(Self::I420),
            YuvFormat::I444 => Some(Self::I444),
            YuvFormat::Nv12 => None,
        }
    }
}

/// A decoded picture with its planes packed (each plane's stride is its width).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VideoFrame {
    /// The server's frame number.
    pub frame_id: u64,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Layout of `y`, `u`, `v`.
    pub format: PixelFormat,
    /// Luma, `width` x `height`.
    pub y: Vec<u8>,
    /// Blue-difference chroma.
    pub u: Vec<u8>,
    /// Red-difference chroma.
    pub v: Vec<u8>,
    /// Whether it was coded as a keyframe.
    pub keyframe: bool,
    /// When the server captured it, µs on the server's clock.
    pub capture_us: u64,
    /// When it was decoded, µs on the client's clock.
    pub ready_us: u64,
    /// Capture to decoded, ms, once the clocks are matched.
    pub glass_to_glass_ms: Option<f64>,
}

impl VideoFrame {
    /// The frame as a record; planes copied only when `pixels` (else empty).
    pub(crate) fn from_decoded(frame: &DecodedFrame, pixels: bool) -> Option<Self> {
        let image = &frame.image;
        let format = PixelFormat::of(image.format)?;
        let plane = |i: usize| if pixels { image.planes.get(i).cloned().unwrap_or_default() } else { Vec::new() };
        Some(Self {
            frame_id: frame.header.frame_id,
            width: image.width,
            height: image.height,
            format,
            y: plane(0),
            u: plane(1),
            v: plane(2),
            keyframe: frame.header.keyframe,
            capture_us: frame.header.capture_us,
            ready_us: frame.ready_us,
            glass_to_glass_ms: frame.glass_to_glass_ms,
        })
    }
}

/// A latency distribution, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, uniffi::Record)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl From<LatencySummary> for Latency {
    fn from(s: LatencySummary) -> Self {
        Self { count: s.count, mean: s.mean, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max }
    }
}

/// A client's figures.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct ClientStats {
    /// Display messages received whole.
    pub frames_received: u64,
    /// Pictures decoded and handed to the sink.
    pub frames_shown: u64,
    /// Frames dropped for missing their deadline.
    pub frames_late: u64,
    /// Frames dropped for other reasons.
    pub frames_dropped: u64,
    /// Frames discarded while the decoder was behind or waiting for a keyframe.
    pub frames_discarded: u64,
    /// Display messages whose header did not parse.
    pub bad_frames: u64,
    /// Decoder failures.
    pub decode_errors: u64,
    /// Keyframe requests sent.
    pub keyframe_requests: u64,
    /// Display bytes received.
    pub video_bytes: u64,
    /// Input events sent.
    pub inputs_sent: u64,
    /// Stalls noticed and reported.
    pub stalls: u64,
    /// Newest frame shown.
    pub last_frame_id: u64,
    /// Seconds since the client started.
    pub at_s: f64,
    /// Mean decode time, µs.
    pub decode_us_mean: f64,
    /// Capture to decoded.
    pub glass_to_glass: Latency,
    /// The same, from one second after the first picture on.
    pub glass_to_glass_after_warm_up: Latency,
    /// Input sent to the first picture showing it.
    pub click_to_photon: Latency,
    /// Round-trip time, ms.
    pub rtt_ms: f64,
    /// Receive rate estimate, kbit/s.
    pub receive_kbps: f64,
    /// Measured loss rate, 0..1.
    pub loss: f64,
    /// Scene class of the newest frame.
    pub scene: String,
    /// Codec of the newest frame.
    pub codec: String,
    /// Pointer shapes received.
    pub cursor_shapes: u64,
    /// Pointer updates received.
    pub cursor_updates: u64,
    /// The server's audio frames played.
    pub audio_frames_played: u64,
    /// The server's audio frames concealed (lost, late or undecodable).
    pub audio_frames_concealed: u64,
    /// Capture to playout of the server's audio, ms.
    pub audio_latency: Latency,
    /// Microphone packets sent.
    pub microphone_packets_sent: u64,
    /// Why audio stopped, if it did.
    pub audio_error: Option<String>,
    /// Clipboard copies sent to the server.
    pub clipboard_sent: u64,
    /// Clipboard copies received from the server.
    pub clipboard_received: u64,
    /// Clipboard copies the server refused by its policy.
    pub clipboard_refused_by_server: u64,
}

impl From<FacadeClientStats> for ClientStats {
    fn from(s: FacadeClientStats) -> Self {
        Self {
            frames_received: s.frames_received,
            frames_shown: s.frames_shown,
            frames_late: s.frames_late,
            frames_dropped: s.frames_dropped,
            frames_discarded: s.frames_discarded,
            bad_frames: s.bad_frames,
            decode_errors: s.decode_errors,
            keyframe_requests: s.keyframe_requests,
            video_bytes: s.video_bytes,
            inputs_sent: s.inputs_sent,
            stalls: s.stalls,
            last_frame_id: s.last_frame_id,
            at_s: s.at_s,
            decode_us_mean: s.decode_us_mean,
            glass_to_glass: s.glass_to_glass.into(),
            glass_to_glass_after_warm_up: s.glass_to_glass_after_warm_up.into(),
            click_to_photon: s.click_to_photon.into(),
            rtt_ms: s.rtt_ms,
            receive_kbps: s.receive_kbps,
            loss: s.loss,
            scene: s.scene,
            codec: s.codec,
            cursor_shapes: s.cursor.shapes,
            cursor_updates: s.cursor.updates,
            audio_frames_played: s.audio.frames_played,
            audio_frames_concealed: s.audio.frames_concealed,
            audio_latency: s.audio.latency.into(),
            microphone_packets_sent: s.audio.packets_sent,
            audio_error: s.audio.error,
            clipboard_sent: s.clipboard.sent,
            clipboard_received: s.clipboard.received,
            clipboard_refused_by_server: s.clipboard.refused_by_peer,
        }
    }
}

/// One client of a server.
#[derive(Debug, Clone, PartialEq, serde::Serialize, uniffi::Record)]
pub struct ServedClient {
    /// The server's number for it.
    pub client: u64,
    /// The name in its token.
    pub name: String,
    /// `quic` or `tcp`.
    pub carrier: String,
    /// Whether its session still runs.
    pub active: bool,
    /// Frames captured.
    pub frames_captured: u64,
    /// Frames encoded and sent.
    pub frames_encoded: u64,
    /// Keyframes among them.
    pub keyframes: u64,
    /// Display bytes sent.
    pub video_bytes: u64,
    /// Input events applied.
    pub input_events: u64,
    /// Input messages that did not parse.
    pub input_bad_messages: u64,
    /// Stalls the client reported.
    pub stalls: u64,
    /// The encoder's bitrate now, bit/s.
    pub encoder_bitrate_bps: u32,
    /// Mean encode time, µs.
    pub encode_us_mean: f64,
    /// Audio packets sent to it.
    pub audio_packets_sent: u64,
    /// Its microphone's frames played here.
    pub microphone_frames_played: u64,
    /// Clipboard copies taken from it.
    pub clipboard_received: u64,
    /// Clipboard copies of its refused by the policy.
    pub clipboard_refused: u64,
}

/// A server's figures.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, uniffi::Record)]
pub struct ServerStats {
    /// Clients admitted.
    pub clients_admitted: u64,
    /// Connection attempts refused (bad token, TLS).
    pub clients_refused: u64,
    /// Clients whose pipeline did not start.
    pub clients_failed: u64,
    /// Clients whose session runs now.
    pub clients_active: u64,
    /// The active clients and the newest that left.
    pub clients: Vec<ServedClient>,
}

impl From<HostStats> for ServerStats {
    fn from(s: HostStats) -> Self {
        Self {
            clients_admitted: s.clients_admitted,
            clients_refused: s.clients_refused,
            clients_failed: s.clients_failed,
            clients_active: s.active() as u64,
            clients: s
                .clients
                .into_iter()
                .map(|c| ServedClient {
                    client: c.client,
                    name: c.name,
                    carrier: c.carrier.name().into(),
                    active: c.active,
                    frames_captured: c.stats.frames_captured,
                    frames_encoded: c.stats.frames_encoded,
                    keyframes: c.stats.keyframes,
                    video_bytes: c.stats.video_bytes,
                    input_events: c.stats.input_events,
                    input_bad_messages: c.stats.input_bad_messages,
                    stalls: c.stats.stalls,
                    encoder_bitrate_bps: c.stats.encoder_bitrate_bps,
                    encode_us_mean: c.stats.encode_us_mean,
                    audio_packets_sent: c.stats.audio.packets_sent,
                    microphone_frames_played: c.stats.audio.frames_played,
                    clipboard_received: c.stats.clipboard.received,
                    clipboard_refused: c.stats.clipboard.refused,
                })
                .collect(),
        }
    }
}

/// Something that happened to a server's clients.
#[derive(Debug, Clone, PartialEq, serde::Serialize, uniffi::Enum)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A client was admitted.
    Connected {
        /// The server's number for it.
        client: u64,
        /// The name in its token.
        name: String,
        /// `quic` or `tcp`.
        carrier: String,
    },
    /// A connection attempt was refused.
    Refused {
        /// Why.
        reason: String,
    },
    /// A client's pipeline did not start.
    Failed {
        /// The server's number for it.
        client: u64,
        /// Why.
        error: String,
    },
    /// A client reported a stall.
    Stall {
        /// The server's number for it.
        client: u64,
        /// `NoFrames`, `InputUnanswered`, ...
        kind: String,
        /// How long it lasted, ms.
        duration_ms: u32,
    },
    /// A client left.
    Left {
        /// The server's number for it.
        client: u64,
        /// Frames sent to it.
        frames_encoded: u64,
    },
}

impl ServerEvent {
    pub(crate) fn from_host(event: HostEvent) -> Option<Self> {
        Some(match event {
            HostEvent::Connected { client, name, carrier } => {
                Self::Connected { client, name, carrier: carrier.name().into() }
            }
            HostEvent::Refused { reason } => Self::Refused { reason },
            HostEvent::Failed { client, error } => Self::Failed { client, error },
            HostEvent::Stall { client, alarm } => {
                Self::Stall { client, kind: format!("{:?}", alarm.report.kind), duration_ms: alarm.report.duration_ms }
            }
            HostEvent::Left { client, stats } => Self::Left { client, frames_encoded: stats.frames_encoded },
            _ => return None,
        })
    }
}
