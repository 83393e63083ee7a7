//! The packet on an audio channel (unreliable: one packet per message, lost ones are
//! concealed by the receiver, see [`crate::audio`]).
//!
//! 21 bytes, big-endian, then one Opus packet (RFC 6716), specified in docs/PROTOCOL.md §11.6:
//!
//! ```text
//! 0  version (1)          1  codec (1 Opus)
//! 2  channels (1, 2)      3  sample rate (0 8 kHz, 1 12 kHz, 2 16 kHz, 3 24 kHz, 4 48 kHz)
//! 4  flags                5  duration (u16): samples per channel, 2.5 to 120 ms
//! 7  sequence (u32)       11 capture time, µs on the sender's clock (u64)
//! 19 payload length (u16, 1..=1275)
//! 21 the Opus packet, exactly that long
//! ```
//!
//! Flags: bit 0 resume (the sender did not send the frames just before this one: silence,
//! discontinuous transmission). Other bits must be zero. The sequence number counts frames,
//! sent or not, and wraps.

use bytes::{BufMut, Bytes, BytesMut};

/// Header length in bytes.
pub const HEADER_LEN: usize = 21;
/// The header version this code writes and reads.
pub const VERSION: u8 = 1;
/// Longest payload: the largest Opus frame (RFC 6716 §3.2.1), the most a 10 or 20 ms packet
/// holds.
pub const MAX_PAYLOAD_LEN: usize = 1275;
/// Longest audio packet, header included.
pub const MAX_PACKET_LEN: usize = HEADER_LEN + MAX_PAYLOAD_LEN;

const FLAG_RESUME: u8 = 1;
/// Opus's sample rates, indexed by their code.
const SAMPLE_RATES: [u32; 5] = [8_000, 12_000, 16_000, 24_000, 48_000];
/// Opus's packet durations, in tenths of a millisecond.
const DURATIONS_TENTH_MS: [u32; 9] = [25, 50, 100, 200, 400, 600, 800, 1000, 1200];

/// The codec of an audio packet's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AudioCodec {
    /// Opus (RFC 6716). Code 1; 0 is never a codec, so a zeroed header is refused.
    Opus,
}

/// One audio packet: what the header says, and the codec's packet (shared with the message it
/// was parsed from, not copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPacket {
    /// Codec of the payload.
    pub codec: AudioCodec,
    /// 1 or 2.
    pub channels: u8,
    /// One of Opus's rates: 8000, 12000, 16000, 24000 or 48000.
    pub sample_rate: u32,
    /// The sender sent nothing for the frames just before this one (silence): the receiver
    /// should not count them as lost.
    pub resume: bool,
    /// Samples per channel in the payload, at `sample_rate`: 2.5, 5, 10, 20, 40, 60, 80, 100
    /// or 120 ms worth.
    pub duration: u16,
    /// Frame counter: +1 per frame the sender encoded, sent or not; wraps.
    pub seq: u32,
    /// When the frame's first sample was captured, µs on the sender's clock.
    pub capture_us: u64,
    /// The codec's packet, 1..=[`MAX_PAYLOAD_LEN`] bytes.
    pub payload: Bytes,
}

/// Why an audio packet was refused (when parsing) or cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AudioPacketError {
    /// Shorter than its header, or than the payload length it states.
    #[error("audio packet of {0} bytes is truncated")]
    Truncated(usize),
    /// Longer than [`MAX_PACKET_LEN`].
    #[error("audio packet of {0} bytes exceeds the {MAX_PACKET_LEN}-byte limit")]
    TooLong(usize),
    /// A version this code does not read.
    #[error("audio header version {0} is not supported")]
    Version(u8),
    /// A codec this code does not know.
    #[error("audio codec {0} is unknown")]
    Codec(u8),
    /// Bytes after the payload.
    #[error("{0} bytes follow the audio payload")]
    Trailing(usize),
    /// A field holds a value with no meaning.
    #[error("audio header field {0} is out of range")]
    OutOfRange(&'static str),
}

impl AudioPacket {
    /// The payload's duration in µs (0 if the rate is not one of Opus's).
    #[must_use]
    pub fn duration_us(&self) -> u64 {
        if self.sample_rate == 0 { 0 } else { u64::from(self.duration) * 1_000_000 / u64::from(self.sample_rate) }
    }

    /// Checks every field, and returns the sample-rate code.
    fn validate(&self) -> Result<u8, AudioPacketError> {
        if !(1..=2).contains(&self.channels) {
            return Err(AudioPacketError::OutOfRange("channels"));
        }
        let rate_code = SAMPLE_RATES
            .iter()
            .position(|&r| r == self.sample_rate)
            .ok_or(AudioPacketError::OutOfRange("sample rate"))?;
        if !DURATIONS_TENTH_MS
            .iter()
            .any(|&d| u64::from(d) * u64::from(self.sample_rate) == u64::from(self.duration) * 10_000)
        {
            return Err(AudioPacketError::OutOfRange("duration"));
        }
        if !(1..=MAX_PAYLOAD_LEN).contains(&self.payload.len()) {
            return Err(AudioPacketError::OutOfRange("payload length"));
        }
        Ok(rate_code as u8)
    }

    /// Appends the packet to `out`.
    ///
    /// # Errors
    /// [`AudioPacketError::OutOfRange`] if a field cannot be written (nothing is appended then).
    pub fn encode_into(&self, out: &mut impl BufMut) -> Result<(), AudioPacketError> {
        let rate_code = self.validate()?;
        out.put_u8(VERSION);
        out.put_u8(codec_byte(self.codec));
        out.put_u8(self.channels);
        out.put_u8(rate_code);
        out.put_u8(if self.resume { FLAG_RESUME } else { 0 });
        out.put_u16(self.duration);
        out.put_u32(self.seq);
        out.put_u64(self.capture_us);
        out.put_u16(self.payload.len() as u16); // validate() bounds it by MAX_PAYLOAD_LEN
        out.put_slice(&self.payload);
        Ok(())
    }

    /// The packet as one message.
    ///
    /// # Errors
    /// [`AudioPacketError::OutOfRange`] if a field cannot be written.
    pub fn encode(&self) -> Result<Bytes, AudioPacketError> {
        let mut out = BytesMut::with_capacity(HEADER_LEN + self.payload.len());
        self.encode_into(&mut out)?;
        Ok(out.freeze())
    }

    /// Parses one message; the payload shares `message`'s memory.
    ///
    /// # Errors
    /// [`AudioPacketError`] says what was wrong. Nothing is allocated, whatever the input.
    pub fn decode(mut message: Bytes) -> Result<Self, AudioPacketError> {
        let len = message.len();
        if len > MAX_PACKET_LEN {
            return Err(AudioPacketError::TooLong(len));
        }
        if len < HEADER_LEN {
            return Err(AudioPacketError::Truncated(len));
        }
        let head = message.split_to(HEADER_LEN);
        let u16_at = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let u64_at = |i: usize| (u64::from(u32_at(i)) << 32) | u64::from(u32_at(i + 4));
        if head[0] != VERSION {
            return Err(AudioPacketError::Version(head[0]));
        }
        let codec = match head[1] {
            1 => AudioCodec::Opus,
            other => return Err(AudioPacketError::Codec(other)),
        };
        let sample_rate = *SAMPLE_RATES.get(usize::from(head[3])).ok_or(AudioPacketError::OutOfRange("sample rate"))?;
        if head[4] & !FLAG_RESUME != 0 {
            return Err(AudioPacketError::OutOfRange("flags"));
        }
        let payload_len = usize::from(u16_at(19));
        if payload_len > message.len() {
            return Err(AudioPacketError::Truncated(len));
        }
        if payload_len < message.len() {
            return Err(AudioPacketError::Trailing(message.len() - payload_len));
        }
        let packet = AudioPacket {
            codec,
            channels: head[2],
            sample_rate,
            resume: head[4] & FLAG_RESUME != 0,
            duration: u16_at(5),
            seq: u32_at(7),
            capture_us: u64_at(11),
            payload: message,
        };
        packet.validate()?;
        Ok(packet)
    }
}

fn codec_byte(codec: AudioCodec) -> u8 {
    match codec {
        AudioCodec::Opus => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AudioPacket {
        AudioPacket {
            codec: AudioCodec::Opus,
            channels: 2,
            sample_rate: 48_000,
            resume: false,
            duration: 960,
            seq: 0x0102_0304,
            capture_us: 5_000_000,
            payload: Bytes::from_static(&[0xfc, 0xff, 0xfe]),
        }
    }

    #[test]
    fn round_trips_and_shares_the_payload() {
        let message = sample().encode().unwrap();
        assert_eq!(message.len(), HEADER_LEN + 3);
        let decoded = AudioPacket::decode(message.clone()).unwrap();
        assert_eq!(decoded, sample());
        assert_eq!(decoded.duration_us(), 20_000);
        assert_eq!(decoded.payload.as_ptr(), message[HEADER_LEN..].as_ptr(), "payload is not copied");
        let resumed = AudioPacket { resume: true, channels: 1, sample_rate: 8_000, duration: 20, ..sample() };
        assert_eq!(AudioPacket::decode(resumed.encode().unwrap()), Ok(resumed));
    }

    #[test]
    fn every_opus_duration_and_rate_is_accepted() {
        for rate in SAMPLE_RATES {
            for tenth_ms in DURATIONS_TENTH_MS {
                let duration = (rate * tenth_ms / 10_000) as u16;
                let p = AudioPacket { sample_rate: rate, duration, ..sample() };
                assert_eq!(AudioPacket::decode(p.encode().unwrap()), Ok(p));
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let good = sample().encode().unwrap();
        let decode = |v: Vec<u8>| AudioPacket::decode(Bytes::from(v)).unwrap_err();
        assert_eq!(decode(good[..20].to_vec()), AudioPacketError::Truncated(20));
        assert_eq!(decode(good[..23].to_vec()), AudioPacketError::Truncated(23));
        assert_eq!(decode([&good[..], b"x"].concat()), AudioPacketError::Trailing(1));
        assert_eq!(decode(vec![1; MAX_PACKET_LEN + 1]), AudioPacketError::TooLong(MAX_PACKET_LEN + 1));
        let corrupt = |at: usize, value: u8| {
            let mut v = good.to_vec();
            v[at] = value;
            decode(v)
        };
        assert_eq!(corrupt(0, 2), AudioPacketError::Version(2));
        assert_eq!(corrupt(1, 0), AudioPacketError::Codec(0));
        assert_eq!(corrupt(1, 2), AudioPacketError::Codec(2));
        assert_eq!(corrupt(2, 0), AudioPacketError::OutOfRange("channels"));
        assert_eq!(corrupt(2, 3), AudioPacketError::OutOfRange("channels"));
        assert_eq!(corrupt(3, 5), AudioPacketError::OutOfRange("sample rate"));
        assert_eq!(corrupt(4, 2), AudioPacketError::OutOfRange("flags"));
        assert_eq!(corrupt(6, 0xc1), AudioPacketError::OutOfRange("duration")); // 961 samples
        assert_eq!(corrupt(5, 0), AudioPacketError::OutOfRange("duration")); // 192 samples: 4 ms
        let mut empty = good[..HEADER_LEN].to_vec();
        empty[19..21].fill(0);
        assert_eq!(decode(empty), AudioPacketError::OutOfRange("payload length"));
        // A stated length over the limit, with that many bytes: refused as too long a packet.
        let mut big = good[..HEADER_LEN].to_vec();
        big[19..21].copy_from_slice(&1276u16.to_be_bytes());
        big.resize(HEADER_LEN + 1276, 0);
        assert_eq!(decode(big), AudioPacketError::TooLong(MAX_PACKET_LEN + 1));
    }

    #[test]
    fn refuses_to_write_what_it_would_not_read() {
        let bad = |p: AudioPacket| {
            let mut out = BytesMut::new();
            let err = p.encode_into(&mut out).unwrap_err();
            assert!(out.is_empty(), "nothing written on error");
            err
        };
        assert_eq!(bad(AudioPacket { channels: 3, ..sample() }), AudioPacketError::OutOfRange("channels"));
        assert_eq!(bad(AudioPacket { sample_rate: 44_100, ..sample() }), AudioPacketError::OutOfRange("sample rate"));
        assert_eq!(bad(AudioPacket { duration: 1000, ..sample() }), AudioPacketError::OutOfRange("duration"));
        assert_eq!(
            bad(AudioPacket { payload: Bytes::new(), ..sample() }),
            AudioPacketError::OutOfRange("payload length")
        );
        let long = Bytes::from(vec![0; MAX_PAYLOAD_LEN + 1]);
        assert_eq!(bad(AudioPacket { payload: long, ..sample() }), AudioPacketError::OutOfRange("payload length"));
        let longest = AudioPacket { payload: Bytes::from(vec![7; MAX_PAYLOAD_LEN]), ..sample() };
        assert_eq!(longest.encode().unwrap().len(), MAX_PACKET_LEN);
    }
}
