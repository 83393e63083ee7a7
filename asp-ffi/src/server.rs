//! The server the bindings share: an [`asp::host::Host`] (QUIC and TLS/TCP on one port, one
//! pipeline per client) on the shared runtime, with blocking calls for callers that have no
//! runtime.
#![allow(clippy::disallowed_methods)] // waits for events on the caller's wall clock

use std::net::SocketAddr;
use std::time::Duration;

use asp::host::{Host, HostConfig, HostStats};
use asp_codec::{Preset, VideoCodec};

use crate::error::AspError;
use crate::records::ServerEvent;
use crate::runtime;

/// A video codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum Codec {
    /// H.264 (libx264).
    #[default]
    H264,
    /// HEVC (libx265).
    Hevc,
}

/// An encoder preset, fastest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum EncoderPreset {
    /// x264 ultrafast.
    Ultrafast,
    /// x264 superfast.
    Superfast,
    /// x264 veryfast.
    #[default]
    Veryfast,
    /// x264 faster.
    Faster,
}

impl Codec {
    pub(crate) fn codec(self) -> VideoCodec {
        match self {
            Self::H264 => VideoCodec::H264,
            Self::Hevc => VideoCodec::Hevc,
        }
    }
}

impl EncoderPreset {
    pub(crate) fn preset(self) -> Preset {
        match self {
            Self::Ultrafast => Preset::Ultrafast,
            Self::Superfast => Preset::Superfast,
            Self::Veryfast => Preset::Veryfast,
            Self::Faster => Preset::Faster,
        }
    }
}

/// What a server serves and how.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ServerConfig {
    /// Where to listen, UDP and TCP on one port (`0.0.0.0:7420`; port 0 picks one).
    #[uniffi(default = "127.0.0.1:0")]
    pub listen: String,
    /// What each client sees: `synth:office` (or `video`, `3d`, `idle`), `y4m:PATH`, `x11`,
    /// `x11:DISPLAY`.
    #[uniffi(default = "synth:office")]
    pub source: String,
    /// Picture width of synthetic scenes (even, 64..=8192).
    #[uniffi(default = 1280)]
    pub width: u32,
    /// Picture height of synthetic scenes (even, 32..=8192).
    #[uniffi(default = 720)]
    pub height: u32,
    /// Capture rate, 1..=240.
    #[uniffi(default = 60)]
    pub fps: u32,
    /// Codec.
    pub codec: Codec,
    /// Encoder preset.
    pub preset: EncoderPreset,
    /// Bitrate at the start, kbit/s (the rate controller moves it).
    #[uniffi(default = 10000)]
    pub start_bitrate_kbps: u32,
    /// Highest bitrate, kbit/s.
    #[uniffi(default = 20000)]
    pub max_bitrate_kbps: u32,
    /// Every client's synthetic scene starts from this seed (the same pictures for all);
    /// absent: client n gets seed n.
    #[uniffi(default = None)]
    pub seed: Option<u64>,
    /// Folder with the certificate, key and token secret, kept between runs (created when
    /// absent); absent: new keys for this server's life.
    #[uniffi(default = None)]
    pub keys_dir: Option<String>,
    /// Audio each client hears: `tone:HZ` or `wav:PATH` (16-bit PCM, 48 kHz); absent: none.
    #[uniffi(default = None)]
    pub audio: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            source: "synth:office".into(),
            width: 1280,
            height: 720,
            fps: 60,
            codec: Codec::H264,
            preset: EncoderPreset::Veryfast,
            start_bitrate_kbps: 10_000,
            max_bitrate_kbps: 20_000,
            seed: None,
            keys_dir: None,
            audio: None,
        }
    }
}

impl ServerConfig {
    fn host_config(&self) -> Result<HostConfig, AspError> {
        let listen: SocketAddr = self
            .listen
            .parse()
            .map_err(|_| AspError::invalid(format!("listen {:?}: expected IP:PORT", self.listen)))?;
        let (w, h) = (self.width, self.height);
        if w % 2 != 0 || h % 2 != 0 || !(64..=8192).contains(&w) || !(32..=8192).contains(&h) {
            return Err(AspError::invalid("width and height must be even, 64x32 to 8192x8192"));
        }
        if !(1..=240).contains(&self.fps) {
            return Err(AspError::invalid("fps must be 1..=240"));
        }
        if self.start_bitrate_kbps < 50 || self.max_bitrate_kbps < self.start_bitrate_kbps {
            return Err(AspError::invalid("start_bitrate_kbps must be at least 50 and at most max_bitrate_kbps"));
        }
        Ok(HostConfig {
            listen,
            source: self.source.clone(),
            size: (w, h),
            server: asp::server::ServerConfig {
                codec: self.codec.codec(),
                preset: self.preset.preset(),
                frame_rate: self.fps,
                start_bitrate_bps: self.start_bitrate_kbps.saturating_mul(1000),
                max_bitrate_bps: self.max_bitrate_kbps.saturating_mul(1000),
                ..asp::server::ServerConfig::default()
            },
            session: asp_core::SessionConfig::default(),
            seed: self.seed,
            audio: self.audio.clone(),
            microphone: None,
        })
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerCore {
    host: std::sync::Mutex<Option<Host>>,
    port: u16,
    fingerprint: String,
    last: std::sync::Mutex<Option<HostStats>>,
}

impl ServerCore {
    /// Starts listening.
    ///
    /// # Errors
    /// [`AspError::InvalidArgument`] for a bad configuration, [`AspError::Server`] when the
    /// source does not open, the keys cannot be read or made, or the port is taken.
    pub fn start(config: &ServerConfig) -> Result<Self, AspError> {
        let host_config = config.host_config()?;
        let server = |reason: String| AspError::Server { reason };
        let (identity, secret) = match &config.keys_dir {
            Some(dir) => asp::host::keys_from_dir(std::path::Path::new(dir)).map(|(i, s, _)| (i, s)),
            None => asp::host::fresh_keys(),
        }
        .map_err(server)?;
        let host = runtime::block_on("start", Host::start(host_config, &identity, &secret))?
            .map_err(|e| server(e.to_string()))?;
        Ok(Self {
            port: host.port(),
            fingerprint: host.fingerprint().to_string(),
            host: std::sync::Mutex::new(Some(host)),
            last: std::sync::Mutex::new(None),
        })
    }

    /// The port it listens on (UDP and TCP).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The certificate fingerprint clients pin, as hex.
    #[must_use]
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A token admitting a client called `name` for `valid_for`.
    ///
    /// # Errors
    /// [`AspError::Ended`] after [`stop`](Self::stop).
    pub fn issue_token(&self, name: &str, valid_for: Duration) -> Result<String, AspError> {
        self.with_host(|h| h.issue_token(name, valid_for)).ok_or(AspError::Ended)
    }

    fn with_host<R>(&self, f: impl FnOnce(&Host) -> R) -> Option<R> {
        self.host.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref().map(f)
    }

    /// The figures so far (the final ones after [`stop`](Self::stop)).
    #[must_use]
    pub fn stats(&self) -> HostStats {
        self.with_host(Host::stats).unwrap_or_else(|| {
            self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone().unwrap_or_default()
        })
    }

    /// The next event, waiting up to `timeout`; `None` when none came (or the server stopped).
    ///
    /// # Errors
    /// [`AspError::WrongThread`] from a callback when `timeout` is not zero.
    pub fn next_event(&self, timeout: Duration) -> Result<Option<ServerEvent>, AspError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // Polled rather than awaited under the lock, so that `stop` is never held up.
            match self.with_host(Host::try_event) {
                Some(Some(event)) => match ServerEvent::from_host(event) {
                    Some(event) => return Ok(Some(event)),
                    None => continue,
                },
                Some(None) if std::time::Instant::now() < deadline => {
                    runtime::ensure_may_block("next_event")?;
                    std::thread::sleep(Duration::from_millis(5).min(timeout));
                }
                _ => return Ok(None),
            }
        }
    }

    /// Stops accepting, ends every session and waits; later calls return the same figures.
    ///
    /// # Errors
    /// [`AspError::WrongThread`] from a callback.
    pub fn stop(&self) -> Result<HostStats, AspError> {
        runtime::ensure_may_block("stop")?;
        let host = self.host.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(host) = host {
            let stats = runtime::block_on("stop", host.stop())?;
            *self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stats);
        }
        Ok(self.stats())
    }
}

impl Drop for ServerCore {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
