//! Capability negotiation: the codec, chroma layout and paths both ends will use.
//!
//! [`negotiate`] is a pure function of what the server can encode, what the client can decode
//! (both probed at run time, see [`crate::ffmpeg::hw`]), the current bitrate and the scene.
//! Among the codecs both ends share it picks, in this order of preference:
//!
//! 1. **4:4:4 for office** when the server can encode it and the client decode it: coloured
//!    text is what office content is, and 4:2:0 smears it. (Office content is cheap to encode
//!    in software, so this comes before a hardware encoder.)
//! 2. **Hardware encoder before software**: it frees the server's CPU and has lower latency.
//! 3. **Codec by bitrate**: below [`LOW_BITRATE_BPS`], HEVC before H.264 (about 30 % fewer
//!    bits for the same quality); at or above it, H.264 before HEVC (cheaper at both ends, and
//!    bits are plentiful). AV1 comes last until an AV1 encoder is built and measured here.
//! 4. **Hardware decoder before software** at the client.

use crate::frame::YuvFormat;
use crate::scene::SceneClass;
use crate::video::VideoCodec;

/// Below this bitrate, HEVC is preferred over H.264 where both ends can do it.
pub const LOW_BITRATE_BPS: u32 = 4_000_000;

/// One way a server can encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeCapability {
    /// Codec.
    pub codec: VideoCodec,
    /// On a GPU / media engine.
    pub hardware: bool,
    /// Can encode 4:4:4.
    pub yuv444: bool,
}

/// One way a client can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCapability {
    /// Codec.
    pub codec: VideoCodec,
    /// On a GPU / media engine.
    pub hardware: bool,
    /// Can decode 4:4:4.
    pub yuv444: bool,
}

/// What was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// Codec.
    pub codec: VideoCodec,
    /// Chroma layout.
    pub format: YuvFormat,
    /// Whether the server encodes in hardware.
    pub hardware_encode: bool,
    /// Whether the client decodes in hardware.
    pub hardware_decode: bool,
}

/// Why nothing was chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The two ends share no codec.
    #[error("server and client share no video codec")]
    NoCommonCodec,
}

fn codec_rank(codec: VideoCodec, bitrate_bps: u32) -> u8 {
    match (codec, bitrate_bps < LOW_BITRATE_BPS) {
        (VideoCodec::Hevc, true) | (VideoCodec::H264, false) => 0,
        (VideoCodec::H264, true) | (VideoCodec::Hevc, false) => 1,
        (VideoCodec::Av1, _) => 2,
    }
}

/// Chooses the codec, layout and paths. Pure: same inputs, same answer.
///
/// # Errors
///
/// [`NegotiationError::NoCommonCodec`] if no encoder and decoder share a codec.
pub fn negotiate(
    server: &[EncodeCapability],
    client: &[DecodeCapability],
    bitrate_bps: u32,
    scene: SceneClass,
) -> Result<Choice, NegotiationError> {
    let mut best: Option<((u8, u8, u8, u8), Choice)> = None;
    for e in server {
        for d in client.iter().filter(|d| d.codec == e.codec) {
            let yuv444 = scene == SceneClass::Office && e.yuv444 && d.yuv444;
            // Lower is better, compared in order of the module's preference list.
            let key =
                (u8::from(!yuv444), u8::from(!e.hardware), codec_rank(e.codec, bitrate_bps), u8::from(!d.hardware));
            let choice = Choice {
                codec: e.codec,
                format: if yuv444 { YuvFormat::I444 } else { YuvFormat::I420 },
                hardware_encode: e.hardware,
                hardware_decode: d.hardware,
            };
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, choice));
            }
        }
    }
    best.map(|(_, c)| c).ok_or(NegotiationError::NoCommonCodec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use VideoCodec::{Av1, H264, Hevc};

    const fn enc(codec: VideoCodec, hardware: bool, yuv444: bool) -> EncodeCapability {
        EncodeCapability { codec, hardware, yuv444 }
    }
    const fn dec(codec: VideoCodec, hardware: bool, yuv444: bool) -> DecodeCapability {
        DecodeCapability { codec, hardware, yuv444 }
    }
    const fn choice(codec: VideoCodec, format: YuvFormat, hardware_encode: bool, hardware_decode: bool) -> Choice {
        Choice { codec, format, hardware_encode, hardware_decode }
    }

    const SW_ALL: [EncodeCapability; 2] = [enc(H264, false, true), enc(Hevc, false, true)];
    const LOW: u32 = 1_000_000;
    const HIGH: u32 = 20_000_000;
    use SceneClass::{Office, ThreeD, Video};
    use YuvFormat::{I420, I444};

    #[test]
    fn table() {
        #[allow(clippy::type_complexity)]
        let cases: &[(
            &str,
            &[EncodeCapability],
            &[DecodeCapability],
            u32,
            SceneClass,
            Result<Choice, NegotiationError>,
        )] = &[
            (
                "software both, low rate: HEVC",
                &SW_ALL,
                &[dec(H264, false, false), dec(Hevc, false, false)],
                LOW,
                Video,
                Ok(choice(Hevc, I420, false, false)),
            ),
            (
                "software both, high rate: H.264",
                &SW_ALL,
                &[dec(H264, false, false), dec(Hevc, false, false)],
                HIGH,
                Video,
                Ok(choice(H264, I420, false, false)),
            ),
            (
                "client lacks HEVC",
                &SW_ALL,
                &[dec(H264, false, false)],
                LOW,
                Video,
                Ok(choice(H264, I420, false, false)),
            ),
            (
                "hardware H.264 beats software HEVC at low rate",
                &[enc(H264, true, false), enc(Hevc, false, true)],
                &[dec(H264, false, false), dec(Hevc, false, false)],
                LOW,
                ThreeD,
                Ok(choice(H264, I420, true, false)),
            ),
            (
                "hardware both: HEVC at low rate",
                &[enc(H264, true, false), enc(Hevc, true, false)],
                &[dec(H264, true, false), dec(Hevc, true, false)],
                LOW,
                ThreeD,
                Ok(choice(Hevc, I420, true, true)),
            ),
            (
                "office, client decodes 4:4:4 H.264 only",
                &SW_ALL,
                &[dec(H264, false, true), dec(Hevc, true, false)],
                LOW,
                Office,
                Ok(choice(H264, I444, false, false)),
            ),
            (
                "office, 4:4:4 beats hardware 4:2:0",
                &[enc(H264, true, false), enc(H264, false, true)],
                &[dec(H264, true, true)],
                HIGH,
                Office,
                Ok(choice(H264, I444, false, true)),
            ),
            (
                "office, client has no 4:4:4: 4:2:0",
                &SW_ALL,
                &[dec(H264, false, false)],
                LOW,
                Office,
                Ok(choice(H264, I420, false, false)),
            ),
            (
                "4:4:4 only for office",
                &SW_ALL,
                &[dec(H264, false, true)],
                LOW,
                Video,
                Ok(choice(H264, I420, false, false)),
            ),
            (
                "hardware decoder preferred",
                &[enc(H264, false, false)],
                &[dec(H264, false, false), dec(H264, true, false)],
                HIGH,
                Video,
                Ok(choice(H264, I420, false, true)),
            ),
            (
                "AV1 only when nothing else",
                &[enc(Av1, false, false), enc(H264, false, false)],
                &[dec(Av1, true, false), dec(H264, false, false)],
                LOW,
                Video,
                Ok(choice(H264, I420, false, false)),
            ),
            (
                "AV1 alone",
                &[enc(Av1, false, false)],
                &[dec(Av1, false, false)],
                LOW,
                Video,
                Ok(choice(Av1, I420, false, false)),
            ),
            (
                "nothing shared",
                &[enc(Hevc, true, false)],
                &[dec(H264, true, true)],
                LOW,
                Office,
                Err(NegotiationError::NoCommonCodec),
            ),
            ("empty server", &[], &[dec(H264, true, true)], LOW, Office, Err(NegotiationError::NoCommonCodec)),
        ];
        for (name, server, client, rate, scene, want) in cases {
            assert_eq!(&negotiate(server, client, *rate, *scene), want, "{name}");
        }
    }

    #[test]
    fn order_of_capabilities_does_not_matter() {
        let server = [enc(H264, true, false), enc(Hevc, false, true), enc(Av1, false, false)];
        let client = [dec(Hevc, false, true), dec(H264, true, true), dec(Av1, true, false)];
        let want = negotiate(&server, &client, LOW, Office);
        let mut s = server;
        let mut c = client;
        s.reverse();
        c.reverse();
        assert_eq!(negotiate(&s, &c, LOW, Office), want);
    }
}
