//! The C server: `asp_server_start` listens (QUIC and TLS/TCP on one port) and serves each
//! client its own pipeline; tokens, figures and events (as JSON) from the handle.

use std::ffi::c_char;
use std::time::Duration;

use super::{AspStatus, call, opt_str_arg, put, put_string, str_arg};
use crate::error::AspError;
use crate::records::ServerStats;
use crate::server::{Codec, EncoderPreset, ServerConfig, ServerCore};

/// A running server (opaque).
#[derive(Debug)]
pub struct AspServer {
    core: ServerCore,
}

/// A video codec.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspCodec {
    /// H.264.
    H264 = 0,
    /// HEVC.
    Hevc = 1,
}

/// An encoder preset, fastest first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspPreset {
    /// x264 ultrafast.
    Ultrafast = 0,
    /// x264 superfast.
    Superfast = 1,
    /// x264 veryfast.
    Veryfast = 2,
    /// x264 faster.
    Faster = 3,
}

/// What a server serves and how (see `asp_server_config_default`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspServerConfig {
    /// `IP:PORT` to listen on, UDP and TCP (port 0 picks one).
    pub listen: *const c_char,
    /// `synth:office` (or `video`, `3d`, `idle`), `y4m:PATH`, `x11`, `x11:DISPLAY`.
    pub source: *const c_char,
    /// Picture width of synthetic scenes (even).
    pub width: u32,
    /// Picture height of synthetic scenes (even).
    pub height: u32,
    /// Capture rate.
    pub fps: u32,
    /// Codec.
    pub codec: AspCodec,
    /// Encoder preset.
    pub preset: AspPreset,
    /// Bitrate at the start, kbit/s.
    pub start_bitrate_kbps: u32,
    /// Highest bitrate, kbit/s.
    pub max_bitrate_kbps: u32,
    /// Whether `seed` applies: every client's synthetic scene starts from it.
    pub has_seed: bool,
    /// The seed, when `has_seed`.
    pub seed: u64,
    /// Folder keeping the certificate, key and token secret between runs, or NULL for new keys.
    pub keys_dir: *const c_char,
    /// Audio each client hears: `tone:HZ` or `wav:PATH` (16-bit PCM, 48 kHz), or NULL.
    pub audio: *const c_char,
}

/// Sets `config` to the defaults: `127.0.0.1:0`, `synth:office` at 1280x720, 60 fps, H.264
/// veryfast, 10 to 20 Mbit/s, no seed, new keys. The strings are static. Thread safety: any
/// thread.
///
/// # Safety
/// `config` is NULL (an error) or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_config_default(config: *mut AspServerConfig) -> AspStatus {
    let d = ServerConfig::default();
    let value = AspServerConfig {
        listen: c"127.0.0.1:0".as_ptr(),
        source: c"synth:office".as_ptr(),
        width: d.width,
        height: d.height,
        fps: d.fps,
        codec: AspCodec::H264,
        preset: AspPreset::Veryfast,
        start_bitrate_kbps: d.start_bitrate_kbps,
        max_bitrate_kbps: d.max_bitrate_kbps,
        has_seed: false,
        seed: 0,
        keys_dir: std::ptr::null(),
        audio: std::ptr::null(),
    };
    // SAFETY: the caller's promise about `config`.
    call(|| unsafe { put(config, value) })
}

/// Starts listening; `*out` gets the server, to be freed with [`asp_server_free`]. Thread
/// safety: any thread.
///
/// # Safety
/// `config` points to a valid config whose strings are valid for the call; `out` is valid for
/// a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_start(config: *const AspServerConfig, out: *mut *mut AspServer) -> AspStatus {
    call(|| {
        // SAFETY: the caller promises `config` is NULL or valid for reads.
        let c = unsafe { config.as_ref() }.ok_or_else(|| AspError::invalid("config is NULL"))?;
        let config = ServerConfig {
            // SAFETY: the caller promises NUL-terminated strings valid for the call.
            listen: unsafe { str_arg(c.listen, "listen") }?,
            // SAFETY: as above.
            source: unsafe { str_arg(c.source, "source") }?,
            width: c.width,
            height: c.height,
            fps: c.fps,
            codec: match c.codec {
                AspCodec::H264 => Codec::H264,
                AspCodec::Hevc => Codec::Hevc,
            },
            preset: match c.preset {
                AspPreset::Ultrafast => EncoderPreset::Ultrafast,
                AspPreset::Superfast => EncoderPreset::Superfast,
                AspPreset::Veryfast => EncoderPreset::Veryfast,
                AspPreset::Faster => EncoderPreset::Faster,
            },
            start_bitrate_kbps: c.start_bitrate_kbps,
            max_bitrate_kbps: c.max_bitrate_kbps,
            seed: c.has_seed.then_some(c.seed),
            // SAFETY: as above; NULL is allowed.
            keys_dir: unsafe { opt_str_arg(c.keys_dir, "keys_dir") }?,
            // SAFETY: as above; NULL is allowed.
            audio: unsafe { opt_str_arg(c.audio, "audio") }?,
        };
        if out.is_null() {
            return Err(AspError::invalid("out is NULL"));
        }
        let core = ServerCore::start(&config)?;
        // SAFETY: non-null, and the caller promises it is valid for a write.
        unsafe { put(out, Box::into_raw(Box::new(AspServer { core }))) }
    })
}

/// The server behind a handle.
///
/// # Safety
/// `server` is NULL or a live handle from [`asp_server_start`].
unsafe fn server_ref<'a>(server: *const AspServer) -> Result<&'a ServerCore, AspError> {
    // SAFETY: the caller's promise.
    unsafe { server.as_ref() }.map(|s| &s.core).ok_or_else(|| AspError::invalid("server is NULL"))
}

/// The port the server listens on, UDP and TCP; 0 for NULL. Thread safety: any thread.
///
/// # Safety
/// `server` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_port(server: *const AspServer) -> u16 {
    // SAFETY: the caller's promise.
    unsafe { server_ref(server) }.map_or(0, ServerCore::port)
}

/// The certificate fingerprint clients pin (64 hex digits) into `*out`. Thread safety: any
/// thread.
///
/// # Safety
/// `server` is a live handle; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_fingerprint(server: *const AspServer, out: *mut *mut c_char) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `server`.
        let fingerprint = unsafe { server_ref(server) }?.fingerprint().to_owned();
        // SAFETY: the caller's promise about `out`.
        unsafe { put_string(out, fingerprint) }
    })
}

/// A token admitting a client called `name` for `valid_seconds`, into `*out`. Thread safety:
/// any thread.
///
/// # Safety
/// `server` is a live handle; `name` a valid string; `out` valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_issue_token(
    server: *const AspServer,
    name: *const c_char,
    valid_seconds: u64,
    out: *mut *mut c_char,
) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `server`.
        let server = unsafe { server_ref(server) }?;
        // SAFETY: the caller's promise about `name`.
        let name = unsafe { str_arg(name, "name") }?;
        let token = server.issue_token(&name, Duration::from_secs(valid_seconds))?;
        // SAFETY: the caller's promise about `out`.
        unsafe { put_string(out, token) }
    })
}

/// The server's figures as JSON (clients admitted, refused, and per client frames, bytes,
/// input events, stalls, bitrate) into `*out`. Thread safety: any thread.
///
/// # Safety
/// `server` is a live handle; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_stats_json(server: *const AspServer, out: *mut *mut c_char) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `server`.
        let stats: ServerStats = unsafe { server_ref(server) }?.stats().into();
        let json = serde_json::to_string(&stats).map_err(|e| AspError::Internal { reason: e.to_string() })?;
        // SAFETY: the caller's promise about `out`.
        unsafe { put_string(out, json) }
    })
}

/// The next server event as JSON (`{"event":"connected",...}`, `refused`, `failed`, `stall`,
/// `left`), waiting up to `timeout_ms`; `*out` is NULL when none came. Thread safety: any
/// thread; events go to one caller each.
///
/// # Safety
/// `server` is a live handle; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_next_event_json(
    server: *const AspServer,
    timeout_ms: u32,
    out: *mut *mut c_char,
) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `server`.
        let server = unsafe { server_ref(server) }?;
        // SAFETY: the caller's promise about `out`.
        unsafe { put(out, std::ptr::null_mut()) }?;
        match server.next_event(Duration::from_millis(u64::from(timeout_ms)))? {
            Some(event) => {
                let json = serde_json::to_string(&event).map_err(|e| AspError::Internal { reason: e.to_string() })?;
                // SAFETY: the caller's promise about `out`.
                unsafe { put_string(out, json) }
            }
            None => Ok(()),
        }
    })
}

/// Stops accepting, ends every session, waits, and frees the handle. NULL is ignored. Thread
/// safety: any thread but the SDK's own; no other call on this handle may run or follow.
///
/// # Safety
/// `server` is NULL or a live handle from [`asp_server_start`], not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_server_free(server: *mut AspServer) -> AspStatus {
    call(|| {
        if server.is_null() {
            return Ok(());
        }
        crate::runtime::ensure_may_block("asp_server_free")?;
        // SAFETY: the caller promises a live handle from `Box::into_raw` in
        // `asp_server_start`, used no more.
        let server = unsafe { Box::from_raw(server) };
        server.core.stop()?;
        Ok(())
    })
}
