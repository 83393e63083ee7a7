//! Opus through the `opus` 0.3 crate, which links the system libopus (libopus-dev). The 0.4
//! crate bundles its own libopus, whose symbols clash with the one FFmpeg links.

use bytes::Bytes;
use opus::{Application, Bitrate, Channels};

use super::{AudioDecoder, AudioEncoder, AudioError, AudioFrame, EncodedAudio};

/// Largest Opus packet this crate makes (libopus recommends 4000 bytes as a safe bound).
const MAX_PACKET: usize = 4000;
/// DTX frames are 1 or 2 bytes (a TOC byte only); they need not be sent.
const DTX_MAX_BYTES: usize = 2;

/// What the encoder is tuned for (libopus's "application").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpusMode {
    /// Speech (`OPUS_APPLICATION_VOIP`): SILK or hybrid coding, whose in-band FEC covers a lost
    /// packet; a microphone.
    #[default]
    Voice,
    /// Music (`OPUS_APPLICATION_AUDIO`): libopus picks CELT, SILK or hybrid coding by what it
    /// hears.
    Music,
    /// `OPUS_APPLICATION_RESTRICTED_LOWDELAY`: CELT only, 4 ms less algorithmic delay, no
    /// in-band FEC; what a desktop plays. On tones it keeps the waveform best, clean and under
    /// loss (asp-codec's `low_delay_mode_is_the_most_faithful_to_desktop_sound` measures it).
    LowDelay,
}

/// Opus settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusConfig {
    /// What the encoder is tuned for (the decoder ignores it).
    pub mode: OpusMode,
    /// 8000, 12000, 16000, 24000 or 48000.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u8,
    /// 10 or 20.
    pub frame_ms: u32,
    /// Target bitrate.
    pub bitrate_bps: u32,
    /// In-band forward error correction (LBRR): each packet carries a coarse copy of the
    /// previous frame.
    pub fec: bool,
    /// Discontinuous transmission: send (almost) nothing during silence.
    pub dtx: bool,
    /// Expected packet loss in percent, which sizes the FEC.
    pub expected_loss_percent: u8,
}

impl Default for OpusConfig {
    /// Voice, 48 kHz stereo, 20 ms, 64 kbit/s, FEC on (10 % loss expected), DTX on.
    fn default() -> Self {
        Self {
            mode: OpusMode::Voice,
            sample_rate: 48_000,
            channels: 2,
            frame_ms: 20,
            bitrate_bps: 64_000,
            fec: true,
            dtx: true,
            expected_loss_percent: 10,
        }
    }
}

impl OpusConfig {
    /// Samples per frame, all channels together.
    #[must_use]
    pub fn frame_samples(&self) -> usize {
        (self.sample_rate * self.frame_ms / 1000) as usize * usize::from(self.channels)
    }

    fn validate(&self) -> Result<Channels, AudioError> {
        let bad = |field, actual: u32| Err(AudioError::InvalidConfig { field, actual: actual.into() });
        if ![8_000, 12_000, 16_000, 24_000, 48_000].contains(&self.sample_rate) {
            return bad("sample_rate", self.sample_rate);
        }
        if ![10, 20].contains(&self.frame_ms) {
            return bad("frame_ms", self.frame_ms);
        }
        if !(6_000..=510_000).contains(&self.bitrate_bps) {
            return bad("bitrate_bps", self.bitrate_bps);
        }
        if self.expected_loss_percent > 100 {
            return bad("expected_loss_percent", self.expected_loss_percent.into());
        }
        match self.channels {
            1 => Ok(Channels::Mono),
            2 => Ok(Channels::Stereo),
            n => bad("channels", n.into()),
        }
    }
}

/// An Opus encoder, tuned by [`OpusConfig::mode`].
pub struct OpusEncoder {
    enc: opus::Encoder,
    config: OpusConfig,
    buf: Vec<u8>,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// Opens an encoder.
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the configuration is out of range or libopus refuses it.
    pub fn new(config: OpusConfig) -> Result<Self, AudioError> {
        let channels = config.validate()?;
        let application = match config.mode {
            OpusMode::Voice => Application::Voip,
            OpusMode::Music => Application::Audio,
            OpusMode::LowDelay => Application::LowDelay,
        };
        let mut enc = opus::Encoder::new(config.sample_rate, channels, application)?;
        enc.set_bitrate(Bitrate::Bits(config.bitrate_bps as i32))?;
        enc.set_inband_fec(config.fec)?;
        enc.set_packet_loss_perc(i32::from(config.expected_loss_percent))?;
        enc.set_dtx(config.dtx)?;
        Ok(Self { enc, config, buf: vec![0; MAX_PACKET] })
    }

    /// The configuration, with bitrate and loss as last set.
    #[must_use]
    pub fn config(&self) -> &OpusConfig {
        &self.config
    }
}

impl AudioEncoder for OpusEncoder {
    fn encode(&mut self, frame: &AudioFrame) -> Result<Option<EncodedAudio>, AudioError> {
        let expected = self.config.frame_samples();
        if frame.samples.len() != expected || frame.channels != self.config.channels {
            return Err(AudioError::FrameSize { expected, actual: frame.samples.len() });
        }
        let n = self.enc.encode(&frame.samples, &mut self.buf)?;
        if self.config.dtx && n <= DTX_MAX_BYTES {
            return Ok(None);
        }
        Ok(Some(EncodedAudio {
            data: Bytes::copy_from_slice(&self.buf[..n]),
            pts_us: frame.pts_us,
            frame_id: frame.frame_id,
        }))
    }

    fn set_bitrate(&mut self, bitrate_bps: u32) -> Result<(), AudioError> {
        if !(6_000..=510_000).contains(&bitrate_bps) {
            return Err(AudioError::InvalidConfig { field: "bitrate_bps", actual: bitrate_bps.into() });
        }
        self.enc.set_bitrate(Bitrate::Bits(bitrate_bps as i32))?;
        self.config.bitrate_bps = bitrate_bps;
        Ok(())
    }

    fn set_expected_loss(&mut self, percent: u8) -> Result<(), AudioError> {
        if percent > 100 {
            return Err(AudioError::InvalidConfig { field: "expected_loss_percent", actual: percent.into() });
        }
        self.enc.set_packet_loss_perc(i32::from(percent))?;
        self.config.expected_loss_percent = percent;
        Ok(())
    }
}

/// An Opus decoder.
pub struct OpusDecoder {
    dec: opus::Decoder,
    config: OpusConfig,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// Opens a decoder for streams made with `config` (its rate, channels and frame length).
    ///
    /// # Errors
    ///
    /// [`AudioError`] if the configuration is out of range.
    pub fn new(config: OpusConfig) -> Result<Self, AudioError> {
        let channels = config.validate()?;
        Ok(Self { dec: opus::Decoder::new(config.sample_rate, channels)?, config })
    }

    fn frame(&self, mut samples: Vec<i16>, n: usize, pts_us: i64, frame_id: u64) -> AudioFrame {
        samples.truncate(n * usize::from(self.config.channels));
        AudioFrame { samples, channels: self.config.channels, sample_rate: self.config.sample_rate, pts_us, frame_id }
    }
}

impl AudioDecoder for OpusDecoder {
    fn decode(&mut self, packet: &EncodedAudio) -> Result<AudioFrame, AudioError> {
        // Room for the longest Opus frame (120 ms), whatever the sender chose.
        let mut out = vec![0; self.config.sample_rate as usize * 120 / 1000 * usize::from(self.config.channels)];
        let n = self.dec.decode(&packet.data, &mut out, false)?;
        Ok(self.frame(out, n, packet.pts_us, packet.frame_id))
    }

    fn conceal(&mut self, next: Option<&EncodedAudio>, pts_us: i64, frame_id: u64) -> Result<AudioFrame, AudioError> {
        // The length to make up must be given exactly: one frame of ours.
        let mut out = vec![0; self.config.frame_samples()];
        let n = match next {
            Some(p) => self.dec.decode(&p.data, &mut out, true)?,
            None => self.dec.decode(&[], &mut out, false)?,
        };
        Ok(self.frame(out, n, pts_us, frame_id))
    }
}
