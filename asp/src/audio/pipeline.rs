//! The two ends of an audio channel. [`AudioSender`]: an [`AudioSource`] → Opus →
//! [`AudioPacket`]s, stamped with the capture clock the caller passes in. [`AudioReceiver`]:
//! packets → [`JitterBuffer`] → Opus decode, or concealment of what is missing → an
//! [`AudioSink`], one frame per playout tick; it measures each frame's one-way latency
//! (capture to playout) when it knows the offset between the two clocks, and counts what it
//! concealed.
//!
//! Neither reads a clock or touches a socket: the caller polls the sender every 20 ms of its
//! capture clock and sends what comes out on the audio channel, hands the receiver each
//! message with its arrival time, and ticks the receiver every 20 ms of the playback device's
//! clock.

use std::io;

use asp_codec::audio::{
    AudioDecoder, AudioEncoder, AudioError, AudioFrame, EncodedAudio, OpusConfig, OpusDecoder, OpusEncoder,
};
use bytes::Bytes;

use super::jitter::{Insert, InvalidJitterConfig, JitterBuffer, JitterConfig, JitterStats, PacketInfo, Playout};
use super::sink::AudioSink;
use super::source::AudioSource;
use super::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::metrics::{LatencyHistogram, LatencySummary};
use crate::proto::audio::{AudioCodec, AudioPacket, AudioPacketError};

/// Why an audio end cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The codec settings are out of range, or do not fit the source (48 kHz, 20 ms frames,
    /// the source's channel count).
    #[error(transparent)]
    Codec(#[from] AudioError),
    /// The jitter buffer's settings are out of range.
    #[error(transparent)]
    Jitter(#[from] InvalidJitterConfig),
}

/// Why [`AudioSender::poll`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The source failed.
    #[error("audio source: {0}")]
    Source(#[source] io::Error),
    /// The encoder failed.
    #[error(transparent)]
    Codec(#[from] AudioError),
    /// The encoder made a packet the audio channel cannot carry.
    #[error(transparent)]
    Packet(#[from] AudioPacketError),
}

/// What one [`AudioSender::poll`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum SenderOutput {
    /// A packet to send on the audio channel.
    Packet(Bytes),
    /// The frame was silence and the encoder chose not to send it (discontinuous
    /// transmission): nothing to send. The next packet says so (`resume`).
    Silence,
    /// The source has ended.
    Ended,
}

/// Counters of an [`AudioSender`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// Frames read from the source and encoded.
    pub frames: u64,
    /// Packets made.
    pub packets: u64,
    /// Bytes of those packets, headers included.
    pub bytes: u64,
    /// Frames not sent (silence).
    pub silent_frames: u64,
}

/// Source → Opus → audio packets.
#[derive(Debug)]
pub struct AudioSender<S> {
    source: S,
    encoder: OpusEncoder,
    frame: AudioFrame,
    seq: u32,
    /// Frames were left unsent since the last packet.
    resume: bool,
    stats: SenderStats,
}

impl<S: AudioSource> AudioSender<S> {
    /// An encoder for `source`'s audio. `config` must be 48 kHz, 20 ms frames, with the
    /// source's channel count; its bitrate, FEC, DTX and expected loss are the sender's to
    /// choose ([`OpusConfig::default`] is a good start).
    ///
    /// # Errors
    /// [`ConfigError::Codec`] if `config` does not fit, or libopus refuses it.
    pub fn new(source: S, config: OpusConfig) -> Result<Self, ConfigError> {
        let invalid =
            |field, actual: u32| ConfigError::Codec(AudioError::InvalidConfig { field, actual: actual.into() });
        if config.sample_rate != SAMPLE_RATE {
            return Err(invalid("sample_rate", config.sample_rate));
        }
        if config.frame_ms != 20 {
            return Err(invalid("frame_ms", config.frame_ms));
        }
        if config.channels != source.channels() {
            return Err(invalid("channels", config.channels.into()));
        }
        let frame = AudioFrame {
            samples: vec![0; FRAME_SAMPLES * usize::from(config.channels)],
            channels: config.channels,
            sample_rate: SAMPLE_RATE,
            pts_us: 0,
            frame_id: 0,
        };
        Ok(Self {
            source,
            encoder: OpusEncoder::new(config)?,
            frame,
            seq: 0,
            resume: false,
            stats: SenderStats::default(),
        })
    }

    /// Reads the next frame from the source, captured at `capture_us` (the sender's clock, µs:
    /// the time of the frame's first sample), and encodes it. Call it every 20 ms.
    ///
    /// # Errors
    /// [`SendError`] if the source or the encoder fails; the frame is skipped (its sequence
    /// number is used), and the next call carries on.
    pub fn poll(&mut self, capture_us: u64) -> Result<SenderOutput, SendError> {
        if !self.source.read_frame(&mut self.frame.samples).map_err(SendError::Source)? {
            return Ok(SenderOutput::Ended);
        }
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.stats.frames += 1;
        self.frame.pts_us = i64::try_from(capture_us).unwrap_or(i64::MAX);
        self.frame.frame_id = u64::from(seq);
        let Some(encoded) = self.encoder.encode(&self.frame)? else {
            self.resume = true;
            self.stats.silent_frames += 1;
            return Ok(SenderOutput::Silence);
        };
        let packet = AudioPacket {
            codec: AudioCodec::Opus,
            channels: self.frame.channels,
            sample_rate: SAMPLE_RATE,
            resume: std::mem::take(&mut self.resume),
            duration: FRAME_SAMPLES as u16,
            seq,
            capture_us,
            payload: encoded.data,
        };
        let message = packet.encode()?;
        self.stats.packets += 1;
        self.stats.bytes += message.len() as u64;
        Ok(SenderOutput::Packet(message))
    }

    /// Sets the encoder's bitrate from the next frame on (what the rate controller gives audio).
    ///
    /// # Errors
    /// [`AudioError`] if the encoder refuses the value.
    pub fn set_bitrate(&mut self, bitrate_bps: u32) -> Result<(), AudioError> {
        self.encoder.set_bitrate(bitrate_bps)
    }

    /// Tells the encoder the loss rate the receiver reports, which sizes its in-band FEC.
    ///
    /// # Errors
    /// [`AudioError`] if the encoder refuses the value.
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), AudioError> {
        self.encoder.set_expected_loss(percent)
    }

    /// The sequence number the next frame gets.
    #[must_use]
    pub fn next_seq(&self) -> u32 {
        self.seq
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// The source.
    #[must_use]
    pub fn source(&self) -> &S {
        &self.source
    }
}

/// What an [`AudioReceiver`] decodes, and how it buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Channels of the stream (1 or 2); packets with another count are refused.
    pub channels: u8,
    /// The jitter buffer.
    pub jitter: JitterConfig,
    /// Rebuild a missing frame from the next packet's in-band FEC when that packet is held;
    /// off, every missing frame is concealed by Opus's PLC alone (to measure what FEC buys).
    pub fec: bool,
}

impl Default for ReceiverConfig {
    /// Stereo, the default jitter buffer, FEC on.
    fn default() -> Self {
        Self { channels: 2, jitter: JitterConfig::default(), fec: true }
    }
}

/// Why [`AudioReceiver::handle_packet`] refused a message (it is counted in
/// [`ReceiverStats::rejected`] and dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// Not a well-formed audio packet.
    #[error(transparent)]
    Packet(#[from] AudioPacketError),
    /// A well-formed packet, but not of the stream this receiver decodes.
    #[error("audio packet {field} is {actual}, this stream's is {expected}")]
    Mismatch {
        /// The header field.
        field: &'static str,
        /// The stream's value.
        expected: u32,
        /// The packet's.
        actual: u32,
    },
}

/// What one playout tick did: the frame written to the sink came from ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickOutcome {
    /// ... nowhere: playout has not started, silence was written.
    Waiting,
    /// ... its packet.
    Played {
        /// The frame's sequence number.
        seq: u32,
    },
    /// ... concealment: the packet was lost, late, or did not decode.
    Concealed {
        /// The frame's sequence number.
        seq: u32,
        /// The next packet was at hand, and its in-band FEC (if it carries any) was used.
        fec: bool,
    },
    /// ... concealment (comfort noise): the sender sent nothing for this frame.
    Silence {
        /// The frame's sequence number.
        seq: u32,
    },
    /// ... concealment, as an extra frame that grows the delay.
    Stretched,
}

/// What one [`AudioReceiver::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Tick {
    /// Where the frame written came from.
    pub outcome: TickOutcome,
    /// For a played frame, when the clock offset is known: playout time minus capture time,
    /// µs (negative only through an error in the offset).
    pub latency_us: Option<i64>,
}

/// Counters of an [`AudioReceiver`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReceiverStats {
    /// The jitter buffer's counters.
    pub jitter: JitterStats,
    /// Messages refused by [`AudioReceiver::handle_packet`].
    pub rejected: u64,
    /// Packets that did not decode (their frame was concealed, and counted in
    /// `jitter.concealed`).
    pub decode_errors: u64,
    /// Concealed frames for which the next packet was at hand (FEC was tried).
    pub fec_attempts: u64,
    /// One-way latency of the frames played while the clock offset was known, ms.
    pub latency: LatencySummary,
}

impl ReceiverStats {
    /// Share of the frames due so far that had to be concealed (lost, late or undecodable),
    /// 0..=1; silence the sender did not send and stretches are not counted.
    #[must_use]
    pub fn concealment_rate(&self) -> f64 {
        let due = self.jitter.played + self.jitter.concealed;
        if due == 0 { 0.0 } else { self.jitter.concealed as f64 / due as f64 }
    }
}

/// Audio packets → jitter buffer → Opus decode or concealment → sink.
#[derive(Debug)]
pub struct AudioReceiver<K> {
    sink: K,
    config: ReceiverConfig,
    decoder: OpusDecoder,
    jitter: JitterBuffer<Bytes>,
    /// Sender's clock minus ours, µs.
    clock_offset_us: Option<i64>,
    latency: LatencyHistogram,
    rejected: u64,
    decode_errors: u64,
    fec_attempts: u64,
    silence: Vec<i16>,
}

impl<K: AudioSink> AudioReceiver<K> {
    /// A receiver writing to `sink`.
    ///
    /// # Errors
    /// [`ConfigError`] if the channel count or the jitter buffer's settings are out of range.
    pub fn new(config: ReceiverConfig, sink: K) -> Result<Self, ConfigError> {
        let opus =
            OpusConfig { sample_rate: SAMPLE_RATE, channels: config.channels, frame_ms: 20, ..OpusConfig::default() };
        Ok(Self {
            sink,
            decoder: OpusDecoder::new(opus)?,
            jitter: JitterBuffer::new(config.jitter)?,
            config,
            clock_offset_us: None,
            latency: LatencyHistogram::new(),
            rejected: 0,
            decode_errors: 0,
            fec_attempts: 0,
            silence: vec![0; FRAME_SAMPLES * usize::from(config.channels)],
        })
    }

    /// Sets the offset between the clocks, the sender's minus the receiver's, µs (for audio
    /// from the server, what [`crate::clock_sync::ClockSync::offset`] estimates), or forgets
    /// it. Latency is measured only while it is known.
    pub fn set_clock_offset(&mut self, sender_minus_receiver_us: Option<i64>) {
        self.clock_offset_us = sender_minus_receiver_us;
    }

    /// Takes a message from the audio channel, which arrived at `now_us` (receiver's clock).
    ///
    /// # Errors
    /// [`ReceiveError`] if it is not a packet of this stream; it is counted and dropped.
    pub fn handle_packet(&mut self, message: Bytes, now_us: u64) -> Result<Insert, ReceiveError> {
        let packet = match AudioPacket::decode(message).map_err(ReceiveError::from).and_then(|p| self.check(p)) {
            Ok(packet) => packet,
            Err(e) => {
                self.rejected += 1;
                return Err(e);
            }
        };
        let info = PacketInfo { seq: packet.seq, capture_us: packet.capture_us, resume: packet.resume };
        Ok(self.jitter.insert(info, packet.payload, now_us))
    }

    fn check(&self, packet: AudioPacket) -> Result<AudioPacket, ReceiveError> {
        let mismatch = |field, expected: u32, actual: u32| Err(ReceiveError::Mismatch { field, expected, actual });
        match packet.codec {
            AudioCodec::Opus => {}
        }
        if packet.channels != self.config.channels {
            return mismatch("channels", self.config.channels.into(), packet.channels.into());
        }
        if packet.sample_rate != SAMPLE_RATE {
            return mismatch("sample rate", SAMPLE_RATE, packet.sample_rate);
        }
        if usize::from(packet.duration) != FRAME_SAMPLES {
            return mismatch("duration", FRAME_SAMPLES as u32, packet.duration.into());
        }
        Ok(packet)
    }

    /// Plays one frame at `now_us` (receiver's clock): call it every 20 ms of the playback
    /// device's clock. Writes exactly one frame to the sink: decoded, concealed, or silence
    /// before playout starts.
    ///
    /// # Errors
    /// Only the sink's; a packet that does not decode is concealed and counted.
    pub fn tick(&mut self, now_us: u64) -> io::Result<Tick> {
        let (outcome, frame, latency_us) = match self.jitter.pop(now_us) {
            Playout::Waiting => (TickOutcome::Waiting, None, None),
            Playout::Frame { seq, capture_us, item } => {
                let packet = EncodedAudio { data: item, pts_us: 0, frame_id: seq.into() };
                match self.decoder.decode(&packet) {
                    Ok(frame) if frame.samples.len() == self.silence.len() => {
                        let latency = self.clock_offset_us.map(|offset| {
                            let at = i128::from(now_us) + i128::from(offset) - i128::from(capture_us);
                            at.clamp(i64::MIN.into(), i64::MAX.into()) as i64
                        });
                        if let Some(us) = latency {
                            self.latency.record(us as f64 / 1000.0);
                        }
                        (TickOutcome::Played { seq }, Some(frame), latency)
                    }
                    _ => {
                        // Counted as a loss: the frame was due and is made up.
                        self.decode_errors += 1;
                        self.jitter.count_undecodable();
                        (TickOutcome::Concealed { seq, fec: false }, self.conceal(None, seq), None)
                    }
                }
            }
            Playout::Missing { seq, silence: true } => (TickOutcome::Silence { seq }, self.conceal(None, seq), None),
            Playout::Missing { seq, silence: false } => {
                let next = self.jitter.peek_next().filter(|_| self.config.fec).cloned();
                self.fec_attempts += u64::from(next.is_some());
                (TickOutcome::Concealed { seq, fec: next.is_some() }, self.conceal(next, seq), None)
            }
            Playout::Stretch => (TickOutcome::Stretched, self.conceal(None, 0), None),
        };
        match &frame {
            Some(frame) => self.sink.write_frame(&frame.samples)?,
            None => self.sink.write_frame(&self.silence)?,
        }
        Ok(Tick { outcome, latency_us })
    }

    /// A concealed frame, exactly one frame long; `None` (silence is written) if the decoder
    /// fails.
    fn conceal(&mut self, next: Option<Bytes>, seq: u32) -> Option<AudioFrame> {
        let next = next.map(|data| EncodedAudio { data, pts_us: 0, frame_id: u64::from(seq) + 1 });
        match self.decoder.conceal(next.as_ref(), 0, seq.into()) {
            Ok(mut frame) => {
                frame.samples.resize(self.silence.len(), 0);
                Some(frame)
            }
            Err(_) => {
                self.decode_errors += 1;
                None
            }
        }
    }

    /// The counters, latency and concealment included.
    #[must_use]
    pub fn stats(&self) -> ReceiverStats {
        ReceiverStats {
            jitter: self.jitter.stats(),
            rejected: self.rejected,
            decode_errors: self.decode_errors,
            fec_attempts: self.fec_attempts,
            latency: self.latency.summary(),
        }
    }

    /// The jitter buffer (its target delay, what it holds).
    #[must_use]
    pub fn jitter(&self) -> &JitterBuffer<Bytes> {
        &self.jitter
    }

    /// The sink.
    #[must_use]
    pub fn sink(&self) -> &K {
        &self.sink
    }

    /// The sink, to change.
    pub fn sink_mut(&mut self) -> &mut K {
        &mut self.sink
    }

    /// The sink, taken out.
    #[must_use]
    pub fn into_sink(self) -> K {
        self.sink
    }
}

#[cfg(test)]
mod tests {
    use super::super::sink::MemorySink;
    use super::super::source::ToneSource;
    use super::*;

    /// A source of `silent` frames of silence, then a tone.
    struct SilenceThenTone {
        silent: u32,
        tone: ToneSource,
    }

    impl AudioSource for SilenceThenTone {
        fn channels(&self) -> u8 {
            1
        }

        fn read_frame(&mut self, frame: &mut [i16]) -> io::Result<bool> {
            if self.silent > 0 {
                self.silent -= 1;
                frame.fill(0);
                return Ok(true);
            }
            self.tone.read_frame(frame)
        }
    }

    fn mono() -> OpusConfig {
        OpusConfig { channels: 1, ..OpusConfig::default() }
    }

    #[test]
    fn sender_refuses_configurations_that_do_not_fit() {
        let field = |config: OpusConfig| match AudioSender::new(ToneSource::new(440.0, 1000, 2), config) {
            Err(ConfigError::Codec(AudioError::InvalidConfig { field, .. })) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(OpusConfig { sample_rate: 16_000, ..OpusConfig::default() }), "sample_rate");
        assert_eq!(field(OpusConfig { frame_ms: 10, ..OpusConfig::default() }), "frame_ms");
        assert_eq!(field(mono()), "channels");
    }

    #[test]
    fn silence_is_not_sent_and_the_next_packet_says_so() {
        let source = SilenceThenTone { silent: 60, tone: ToneSource::new(440.0, 10_000, 1) };
        let mut sender = AudioSender::new(source, mono()).unwrap();
        let mut outputs = Vec::new();
        for k in 0..100u64 {
            outputs.push(sender.poll(k * 20_000).unwrap());
        }
        let stats = sender.stats();
        assert!(stats.silent_frames > 20, "DTX left silent frames unsent: {stats:?}");
        assert_eq!(stats.frames, 100);
        assert_eq!(sender.next_seq(), 100);
        let packets: Vec<AudioPacket> = outputs
            .into_iter()
            .filter_map(|o| match o {
                SenderOutput::Packet(b) => Some(AudioPacket::decode(b).unwrap()),
                _ => None,
            })
            .collect();
        let resumed: Vec<&AudioPacket> = packets.iter().filter(|p| p.resume).collect();
        assert!(!resumed.is_empty(), "the first packet after a gap carries the resume flag");
        for p in &resumed {
            let before = packets.iter().take_while(|q| q.seq < p.seq).last().map_or(0, |q| q.seq + 1);
            assert!(p.seq > before, "a resume packet follows unsent frames");
        }
        assert!(packets.iter().all(|p| p.capture_us == u64::from(p.seq) * 20_000 && p.duration == 960));
    }

    #[test]
    fn receiver_counts_and_drops_what_is_not_its_stream() {
        let mut rx =
            AudioReceiver::new(ReceiverConfig { channels: 1, ..ReceiverConfig::default() }, MemorySink::new()).unwrap();
        let packet = |channels: u8, duration: u16| AudioPacket {
            codec: AudioCodec::Opus,
            channels,
            sample_rate: SAMPLE_RATE,
            resume: false,
            duration,
            seq: 0,
            capture_us: 0,
            payload: Bytes::from_static(&[0x40]),
        };
        let err =
            |rx: &mut AudioReceiver<MemorySink>, p: AudioPacket| rx.handle_packet(p.encode().unwrap(), 0).unwrap_err();
        assert_eq!(err(&mut rx, packet(2, 960)), ReceiveError::Mismatch { field: "channels", expected: 1, actual: 2 });
        assert_eq!(
            err(&mut rx, packet(1, 480)),
            ReceiveError::Mismatch { field: "duration", expected: 960, actual: 480 }
        );
        assert_eq!(
            rx.handle_packet(Bytes::from_static(b"short"), 0),
            Err(ReceiveError::Packet(AudioPacketError::Truncated(5)))
        );
        assert_eq!(rx.stats().rejected, 3);
        assert_eq!(rx.handle_packet(packet(1, 960).encode().unwrap(), 0), Ok(Insert::Accepted));
    }

    #[test]
    fn undecodable_packets_are_concealed_and_counted() {
        let mut rx = AudioReceiver::new(ReceiverConfig::default(), MemorySink::new()).unwrap();
        rx.set_clock_offset(Some(0));
        // Code 3 (0x03) with no frame count byte: not an Opus packet.
        let bad = AudioPacket {
            codec: AudioCodec::Opus,
            channels: 2,
            sample_rate: SAMPLE_RATE,
            resume: false,
            duration: 960,
            seq: 0,
            capture_us: 0,
            payload: Bytes::from_static(&[0x03]),
        };
        let _ = rx.handle_packet(bad.encode().unwrap(), 0).unwrap();
        let tick = rx.tick(40_000).unwrap();
        assert_eq!(tick, Tick { outcome: TickOutcome::Concealed { seq: 0, fec: false }, latency_us: None });
        let stats = rx.stats();
        assert_eq!((stats.decode_errors, stats.jitter.played, stats.jitter.concealed), (1, 0, 1));
        assert_eq!(stats.concealment_rate(), 1.0);
        assert_eq!(rx.sink().frames(), 1);
        assert_eq!(rx.sink().samples().len(), 2 * FRAME_SAMPLES, "a whole frame is written whatever happens");
    }
}
