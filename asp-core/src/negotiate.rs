//! Capability intersection: what both ends can do, decided the same way on both sides.
//!
//! Which codec to use among the common ones is asp-codec's choice (it knows encoder costs);
//! this module only finds the common ground and refuses a session that has none.

use crate::wire::handshake::{AudioFormat, Capabilities, ClipboardCapability, Monitor, VideoCapability};

/// What both ends agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Wire version in use.
    pub version: u32,
    /// Video coding both ends support, in the server's order, with the tighter of the two
    /// limits (resolution, frame rate). `hardware` is the server's (encoder side).
    pub video: Vec<VideoCapability>,
    /// Whether the client decodes each entry of `video` in hardware.
    pub client_hardware_decode: Vec<bool>,
    /// Audio formats both support, in the server's order.
    pub audio: Vec<AudioFormat>,
    /// Both ends redirect USB.
    pub usb: bool,
    /// Clipboard types both handle.
    pub clipboard: ClipboardCapability,
    /// Both ends stream single windows.
    pub window_streaming: bool,
    /// The server's monitors.
    pub server_monitors: Vec<Monitor>,
    /// The client's displays.
    pub client_monitors: Vec<Monitor>,
}

/// The ends have nothing in common where they both want something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapabilityMismatch {
    /// Both list video coding, and no entry matches (codec, profile and chroma).
    #[error("no common video codec (server encodes {server}, client decodes {client})")]
    NoCommonVideoCodec {
        /// The server's list, summarised.
        server: String,
        /// The client's list, summarised.
        client: String,
    },
    /// Both list audio formats, and none matches.
    #[error("no common audio format")]
    NoCommonAudioFormat,
}

fn summary(list: &[VideoCapability]) -> String {
    let items: Vec<String> = list.iter().map(|v| format!("{:?}/{:?}/{:?}", v.codec, v.profile, v.chroma)).collect();
    format!("[{}]", items.join(", "))
}

/// Intersects what the server encodes with what the client decodes.
///
/// An empty list on either side means "not wanted" and gives an empty intersection; two
/// non-empty lists with nothing in common are an error.
///
/// # Errors
/// [`CapabilityMismatch`] names the first disjoint category.
pub fn negotiate(version: u32, server: &Capabilities, client: &Capabilities) -> Result<Negotiated, CapabilityMismatch> {
    let mut video = Vec::new();
    let mut client_hardware_decode = Vec::new();
    for s in &server.video {
        let matching =
            client.video.iter().filter(|c| c.codec == s.codec && c.profile == s.profile && c.chroma == s.chroma);
        // Prefer a hardware decoder on the client when it lists several for the same coding.
        if let Some(c) = matching.max_by_key(|c| c.hardware) {
            video.push(VideoCapability {
                max_width: s.max_width.min(c.max_width),
                max_height: s.max_height.min(c.max_height),
                max_fps: s.max_fps.min(c.max_fps),
                ..*s
            });
            client_hardware_decode.push(c.hardware);
        }
    }
    if video.is_empty() && !server.video.is_empty() && !client.video.is_empty() {
        return Err(CapabilityMismatch::NoCommonVideoCodec {
            server: summary(&server.video),
            client: summary(&client.video),
        });
    }
    let audio: Vec<AudioFormat> = server.audio.iter().filter(|a| client.audio.contains(a)).copied().collect();
    if audio.is_empty() && !server.audio.is_empty() && !client.audio.is_empty() {
        return Err(CapabilityMismatch::NoCommonAudioFormat);
    }
    Ok(Negotiated {
        version,
        video,
        client_hardware_decode,
        audio,
        usb: server.usb && client.usb,
        clipboard: ClipboardCapability {
            text: server.clipboard.text && client.clipboard.text,
            image: server.clipboard.image && client.clipboard.image,
            files: server.clipboard.files && client.clipboard.files,
        },
        window_streaming: server.window_streaming && client.window_streaming,
        server_monitors: server.monitors.clone(),
        client_monitors: client.monitors.clone(),
    })
}
