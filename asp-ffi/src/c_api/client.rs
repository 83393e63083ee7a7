//! The C client: `asp_client_connect`, input, figures, stop and free; decoded frames and
//! events reach C through the callbacks in [`AspClientCallbacks`].

use std::ffi::{c_char, c_void};

use asp::proto::input::InputEvent;
use asp::sink::{DecodedFrame, FrameSink};

use super::{AspStatus, call, put, put_string, str_arg};
use crate::client::{CarrierChoice, ClientConfig, ClientCore, ClientEvent};
use crate::error::AspError;
use crate::records::{ClientStats, Latency, PixelFormat};
use crate::runtime;

/// A connected client (opaque).
pub struct AspClient {
    core: ClientCore,
    /// Copies for the server, once a clipboard is attached.
    clipboard: std::sync::Mutex<Option<crate::media::Outgoing>>,
    /// The microphone the caller pushes into, once started.
    microphone: std::sync::Mutex<Option<asp::audio::QueueSource>>,
}

impl std::fmt::Debug for AspClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AspClient").field("core", &self.core).finish_non_exhaustive()
    }
}

/// Which carrier to connect over.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspCarrier {
    /// QUIC, then TLS over TCP when UDP is blocked.
    Auto = 0,
    /// QUIC only.
    Quic = 1,
    /// TLS over TCP only.
    Tcp = 2,
}

/// How a frame's samples are laid out.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspPixelFormat {
    /// Planar 4:2:0: Y, then U and V at half width and half height (rounded up).
    I420 = 0,
    /// Planar 4:4:4.
    I444 = 1,
}

/// Where to connect.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspClientConfig {
    /// `HOST:PORT`, or `HOST` for port 7420.
    pub address: *const c_char,
    /// The server certificate's SHA-256 fingerprint, 64 hex digits.
    pub fingerprint: *const c_char,
    /// The token the server issued.
    pub token: *const c_char,
    /// Which carrier.
    pub carrier: AspCarrier,
    /// Frames that may wait for the decoder, 1..=256 (16 by default).
    pub decode_queue: u32,
}

/// A decoded picture, valid only during the callback (copy what you keep).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspFrame {
    /// The server's frame number.
    pub frame_id: u64,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Layout of the planes.
    pub format: AspPixelFormat,
    /// Y, U, V.
    pub planes: [*const u8; 3],
    /// Bytes from one row to the next, per plane (at least the plane's width).
    pub strides: [u32; 3],
    /// Visible samples per row, per plane (chroma of 4:2:0 is half the width, rounded up).
    pub plane_widths: [u32; 3],
    /// Rows, per plane.
    pub plane_heights: [u32; 3],
    /// Whether it was coded as a keyframe.
    pub keyframe: bool,
    /// When the server captured it, µs on the server's clock.
    pub capture_us: u64,
    /// When it was decoded, µs on the client's clock.
    pub ready_us: u64,
    /// Capture to decoded, ms; negative until the clocks are matched.
    pub glass_to_glass_ms: f64,
}

/// What happened.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspEventKind {
    /// The session is up (`carrier` says over what).
    Connected = 0,
    /// A stall was noticed and reported (`stalls` counts them).
    Stall = 1,
    /// The session ended.
    Ended = 2,
}

/// A client event.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspEvent {
    /// What happened.
    pub kind: AspEventKind,
    /// For `CONNECTED`: `ASP_CARRIER_QUIC` or `ASP_CARRIER_TCP`.
    pub carrier: AspCarrier,
    /// For `STALL`: stalls so far.
    pub stalls: u64,
}

/// 20 ms of the server's audio, as the client plays it: decoded, or concealed where packets
/// were lost. Valid only during the callback.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspAudioFrame {
    /// Interleaved 16-bit samples.
    pub samples: *const i16,
    /// Samples per channel (960: 20 ms at 48 kHz).
    pub frames: usize,
    /// Samples per second (48 000).
    pub sample_rate: u32,
    /// Channels, interleaved.
    pub channels: u32,
}

/// The server's pointer: draw it at (`x` - `hot_x`, `y` - `hot_y`) in the remote picture's
/// coordinates, or let the platform's cursor take the shape.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspCursor {
    /// The shape's id; the same id is always the same image.
    pub shape_id: u64,
    /// Straight RGBA rows of the shape (`width` * `height` * 4 bytes) when it differs from the
    /// previous update's, else NULL (the shape is unchanged).
    pub rgba: *const u8,
    /// Shape width.
    pub width: u32,
    /// Shape height.
    pub height: u32,
    /// Hot spot.
    pub hot_x: u32,
    /// Hot spot.
    pub hot_y: u32,
    /// Position, display pixels.
    pub x: i32,
    /// Position.
    pub y: i32,
    /// Whether it shows.
    pub visible: bool,
}

/// A copy made on the server (valid only during the callback), or one to send with
/// `asp_client_copy`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspClipboard {
    /// `text/plain;charset=utf-8`, `image/png` or `text/uri-list`, NUL-terminated.
    pub mime: *const c_char,
    /// The bytes.
    pub data: *const u8,
    /// Their length.
    pub len: usize,
}

/// Receives decoded pictures, on the decode thread.
pub type AspFrameCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const AspFrame)>;
/// Receives client events, on an SDK thread.
pub type AspEventCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const AspEvent)>;
/// Receives decoded audio.
pub type AspAudioCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, audio: *const AspAudioFrame)>;
/// Receives cursor updates.
pub type AspCursorCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, cursor: *const AspCursor)>;
/// Receives clipboard content.
pub type AspClipboardCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, clip: *const AspClipboard)>;

/// The callbacks of a client. Each may be NULL. They run on SDK threads, one at a time per
/// kind, and must return quickly; `user_data` is passed to each as is.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AspClientCallbacks {
    /// Passed to every callback.
    pub user_data: *mut c_void,
    /// Decoded pictures.
    pub on_frame: AspFrameCallback,
    /// Session events.
    pub on_event: AspEventCallback,
    /// The server's audio: one 20 ms frame per call, on the client's playback thread (which
    /// stands in for the audio device's clock).
    pub on_audio: AspAudioCallback,
    /// The server's pointer: every change of position, visibility or shape, on an SDK thread.
    pub on_cursor: AspCursorCallback,
    /// Copies made on the server (within its clipboard policy), on an SDK thread.
    pub on_clipboard: AspClipboardCallback,
}

/// A latency distribution, ms.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AspLatency {
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

impl From<Latency> for AspLatency {
    fn from(l: Latency) -> Self {
        Self { count: l.count, mean: l.mean, p50: l.p50, p95: l.p95, p99: l.p99, max: l.max }
    }
}

/// A client's figures (`asp_client_stats_json` has every field the SDK keeps).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AspClientStats {
    /// Display messages received whole.
    pub frames_received: u64,
    /// Pictures decoded and handed to `on_frame`.
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
    /// Display bytes received.
    pub video_bytes: u64,
    /// Input events sent.
    pub inputs_sent: u64,
    /// Stalls noticed and reported.
    pub stalls: u64,
    /// Newest frame shown.
    pub last_frame_id: u64,
    /// Round-trip time, ms.
    pub rtt_ms: f64,
    /// Receive rate estimate, kbit/s.
    pub receive_kbps: f64,
    /// Measured loss rate, 0..1.
    pub loss: f64,
    /// Mean decode time, µs.
    pub decode_us_mean: f64,
    /// Capture to decoded.
    pub glass_to_glass: AspLatency,
    /// Input sent to the first picture showing it.
    pub click_to_photon: AspLatency,
}

impl From<ClientStats> for AspClientStats {
    fn from(s: ClientStats) -> Self {
        Self {
            frames_received: s.frames_received,
            frames_shown: s.frames_shown,
            frames_late: s.frames_late,
            frames_dropped: s.frames_dropped,
            frames_discarded: s.frames_discarded,
            bad_frames: s.bad_frames,
            decode_errors: s.decode_errors,
            video_bytes: s.video_bytes,
            inputs_sent: s.inputs_sent,
            stalls: s.stalls,
            last_frame_id: s.last_frame_id,
            rtt_ms: s.rtt_ms,
            receive_kbps: s.receive_kbps,
            loss: s.loss,
            decode_us_mean: s.decode_us_mean,
            glass_to_glass: s.glass_to_glass.into(),
            click_to_photon: s.click_to_photon.into(),
        }
    }
}

/// The C side's `user_data`, carried to the SDK's threads.
#[derive(Debug, Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: the pointer is only handed back to the caller's callbacks, never dereferenced here;
// `asp_client_connect` documents that the callbacks (and so `user_data`) must be usable from
// any thread.
unsafe impl Send for UserData {}
// SAFETY: as above: shared only to be passed back.
unsafe impl Sync for UserData {}

struct CFrameSink {
    callback: unsafe extern "C" fn(*mut c_void, *const AspFrame),
    user_data: UserData,
}

impl FrameSink for CFrameSink {
    fn show(&mut self, frame: &DecodedFrame) {
        let image = &frame.image;
        let Some(format) = PixelFormat::of(image.format) else { return };
        let mut planes = [std::ptr::null(); 3];
        let mut strides = [0; 3];
        let mut plane_widths = [0; 3];
        let mut plane_heights = [0; 3];
        for (i, plane) in image.planes.iter().enumerate().take(3) {
            let (w, h) = image.format.plane_size(i, image.width, image.height);
            planes[i] = plane.as_ptr();
            // Packed planes: the stride is the width.
            strides[i] = w;
            plane_widths[i] = w;
            plane_heights[i] = h;
        }
        let c_frame = AspFrame {
            frame_id: frame.header.frame_id,
            width: image.width,
            height: image.height,
            format: match format {
                PixelFormat::I420 => AspPixelFormat::I420,
                PixelFormat::I444 => AspPixelFormat::I444,
            },
            planes,
            strides,
            plane_widths,
            plane_heights,
            keyframe: frame.header.keyframe,
            capture_us: frame.header.capture_us,
            ready_us: frame.ready_us,
            glass_to_glass_ms: frame.glass_to_glass_ms.unwrap_or(-1.0),
        };
        let (callback, user_data) = (self.callback, self.user_data);
        // SAFETY: the callback and user_data are the caller's, promised callable from this
        // thread; `c_frame` and the planes it points into outlive the call.
        runtime::in_callback(|| unsafe { callback(user_data.0, &c_frame) });
    }
}

/// Sets `config` to the defaults: NULL address, fingerprint and token (to be filled in),
/// `ASP_CARRIER_AUTO`, a decode queue of 16. Thread safety: any thread.
///
/// # Safety
/// `config` is NULL (an error) or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_config_default(config: *mut AspClientConfig) -> AspStatus {
    let value = AspClientConfig {
        address: std::ptr::null(),
        fingerprint: std::ptr::null(),
        token: std::ptr::null(),
        carrier: AspCarrier::Auto,
        decode_queue: 16,
    };
    // SAFETY: the caller's promise about `config`.
    call(|| unsafe { put(config, value) })
}

/// Connects and starts receiving; blocks until the session is up. On success `*out` holds the
/// client, to be freed with [`asp_client_free`]. Thread safety: any thread but the SDK's own
/// (not from a callback).
///
/// # Safety
/// `config` points to a valid config whose strings are valid for the call; `callbacks` is NULL
/// or valid for the call, and its functions and `user_data` stay valid and callable from any
/// thread until [`asp_client_free`] returns; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_connect(
    config: *const AspClientConfig,
    callbacks: *const AspClientCallbacks,
    out: *mut *mut AspClient,
) -> AspStatus {
    call(|| {
        // SAFETY: the caller promises `config` is NULL or valid for reads.
        let config = unsafe { config.as_ref() }.ok_or_else(|| AspError::invalid("config is NULL"))?;
        // SAFETY: the caller promises `callbacks` is NULL or valid for reads.
        let callbacks = unsafe { callbacks.as_ref() }.copied();
        let options = ClientConfig {
            // SAFETY: the caller promises NUL-terminated strings valid for the call.
            address: unsafe { str_arg(config.address, "address") }?,
            // SAFETY: as above.
            fingerprint: unsafe { str_arg(config.fingerprint, "fingerprint") }?,
            // SAFETY: as above.
            token: unsafe { str_arg(config.token, "token") }?,
            carrier: match config.carrier {
                AspCarrier::Auto => CarrierChoice::Auto,
                AspCarrier::Quic => CarrierChoice::Quic,
                AspCarrier::Tcp => CarrierChoice::Tcp,
            },
            decode_queue: config.decode_queue,
        };
        if out.is_null() {
            return Err(AspError::invalid("out is NULL"));
        }
        let (sink, events): (Box<dyn FrameSink>, _) = match callbacks {
            Some(cb) => {
                let user_data = UserData(cb.user_data);
                let sink: Box<dyn FrameSink> = match cb.on_frame {
                    Some(callback) => Box::new(CFrameSink { callback, user_data }),
                    None => Box::new(|_: &DecodedFrame| {}),
                };
                (sink, cb.on_event.map(|f| event_handler(f, user_data)))
            }
            None => (Box::new(|_: &DecodedFrame| {}) as Box<dyn FrameSink>, None),
        };
        let core = ClientCore::connect(&options, sink, events)?;
        let mut clipboard = None;
        if let Some(cb) = callbacks {
            let user_data = UserData(cb.user_data);
            if let Some(f) = cb.on_cursor {
                core.set_cursor_sink(cursor_sink(f, user_data))?;
            }
            if let Some(f) = cb.on_audio {
                core.attach_audio_sink(audio_sink(f, user_data))?;
            }
            if let Some(f) = cb.on_clipboard {
                clipboard = Some(core.attach_clipboard(clipboard_delivery(f, user_data))?);
            }
        }
        let client =
            AspClient { core, clipboard: std::sync::Mutex::new(clipboard), microphone: std::sync::Mutex::new(None) };
        // SAFETY: `out` is non-null and the caller promises it is valid for a write.
        unsafe { put(out, Box::into_raw(Box::new(client))) }
    })
}

fn event_handler(
    callback: unsafe extern "C" fn(*mut c_void, *const AspEvent),
    user_data: UserData,
) -> crate::client::EventHandler {
    Box::new(move |event: ClientEvent| {
        let c_event = match event {
            ClientEvent::Connected { carrier } => AspEvent {
                kind: AspEventKind::Connected,
                carrier: if carrier == "tcp" { AspCarrier::Tcp } else { AspCarrier::Quic },
                stalls: 0,
            },
            ClientEvent::Stall { count } => {
                AspEvent { kind: AspEventKind::Stall, carrier: AspCarrier::Auto, stalls: count }
            }
            ClientEvent::Ended => AspEvent { kind: AspEventKind::Ended, carrier: AspCarrier::Auto, stalls: 0 },
        };
        let user_data = user_data;
        // SAFETY: the caller's callback and user_data, promised callable from any thread;
        // `c_event` outlives the call.
        unsafe { callback(user_data.0, &c_event) };
    })
}

fn cursor_sink(
    callback: unsafe extern "C" fn(*mut c_void, *const AspCursor),
    user_data: UserData,
) -> Box<dyn asp::cursor::CursorSink> {
    Box::new(move |update: &asp::cursor::CursorUpdate| {
        let (state, shape) = (&update.state, &update.shape);
        let c_cursor = AspCursor {
            shape_id: state.shape_id,
            rgba: if update.shape_changed { shape.rgba.as_ptr() } else { std::ptr::null() },
            width: u32::from(shape.width),
            height: u32::from(shape.height),
            hot_x: u32::from(shape.hot_x),
            hot_y: u32::from(shape.hot_y),
            x: state.x,
            y: state.y,
            visible: state.visible,
        };
        let user_data = user_data;
        // SAFETY: the caller's callback and user_data, promised callable from any thread;
        // `c_cursor` and the shape it points into outlive the call.
        runtime::in_callback(|| unsafe { callback(user_data.0, &c_cursor) });
    })
}

fn audio_sink(
    callback: unsafe extern "C" fn(*mut c_void, *const AspAudioFrame),
    user_data: UserData,
) -> Box<dyn asp::audio::AudioSink + Send> {
    Box::new(crate::media::CallbackAudioSink(Box::new(move |samples: &[i16], channels: u32| {
        let frame = AspAudioFrame {
            samples: samples.as_ptr(),
            frames: samples.len() / channels as usize,
            sample_rate: asp::audio::SAMPLE_RATE,
            channels,
        };
        let user_data = user_data;
        // SAFETY: the caller's callback and user_data, promised callable from any thread;
        // `frame` and the samples outlive the call.
        unsafe { callback(user_data.0, &frame) };
    })))
}

/// The MIME type each kind of copy travels as in the C interface.
fn mime_of(content: &asp::clipboard::ClipboardContent) -> &'static std::ffi::CStr {
    match content {
        asp::clipboard::ClipboardContent::Text(_) => c"text/plain;charset=utf-8",
        asp::clipboard::ClipboardContent::Png(_) => c"image/png",
        asp::clipboard::ClipboardContent::Files(_) => c"text/uri-list",
    }
}

fn clipboard_delivery(
    callback: unsafe extern "C" fn(*mut c_void, *const AspClipboard),
    user_data: UserData,
) -> Box<dyn FnMut(asp::clipboard::ClipboardContent) + Send> {
    Box::new(move |content| {
        let bytes: Vec<u8> = match &content {
            asp::clipboard::ClipboardContent::Text(t) => t.as_bytes().to_vec(),
            asp::clipboard::ClipboardContent::Png(p) => p.clone(),
            asp::clipboard::ClipboardContent::Files(f) => f.join("\r\n").into_bytes(),
        };
        let clip = AspClipboard { mime: mime_of(&content).as_ptr(), data: bytes.as_ptr(), len: bytes.len() };
        let user_data = user_data;
        // SAFETY: the caller's callback and user_data, promised callable from any thread;
        // `clip` and the bytes it points to outlive the call.
        unsafe { callback(user_data.0, &clip) };
    })
}

/// Sends a copy to the server: `mime` is `text/plain;charset=utf-8` (UTF-8 text),
/// `image/png` (a PNG file) or `text/uri-list` (URIs, one per line). The server may refuse it
/// by its policy (see the client's figures in `asp_client_stats_json`). Thread safety: any
/// thread.
///
/// # Safety
/// `client` is a live handle; `mime` a valid string; `data` valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_copy(
    client: *const AspClient,
    mime: *const c_char,
    data: *const u8,
    len: usize,
) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let handle = unsafe { client.as_ref() }.ok_or_else(|| AspError::invalid("client is NULL"))?;
        // SAFETY: the caller's promise about `mime`.
        let mime = unsafe { str_arg(mime, "mime") }?;
        if data.is_null() && len > 0 {
            return Err(AspError::invalid("data is NULL"));
        }
        let bytes = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: non-null, and the caller promises `len` readable bytes.
            unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
        };
        let text = || String::from_utf8(bytes.clone()).map_err(|_| AspError::invalid("the copy is not UTF-8"));
        let content = match mime.as_str() {
            "text/plain;charset=utf-8" | "text/plain" => asp::clipboard::ClipboardContent::Text(text()?),
            "image/png" => asp::clipboard::ClipboardContent::Png(bytes.clone()),
            "text/uri-list" => asp::clipboard::ClipboardContent::Files(
                text()?.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect(),
            ),
            other => {
                return Err(AspError::invalid(format!(
                    "mime {other:?}: text/plain;charset=utf-8, image/png or text/uri-list"
                )));
            }
        };
        let mut slot = handle.clipboard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(handle.core.attach_clipboard(Box::new(|_| {}))?);
        }
        if let Some(outgoing) = slot.as_ref() {
            crate::media::push_copy(outgoing, content);
        }
        Ok(())
    })
}

/// Starts sending a microphone to the server: `channels` (1 or 2) of 48 kHz audio that the
/// caller pushes with [`asp_client_push_audio`]. Thread safety: any thread.
///
/// # Safety
/// `client` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_start_microphone(client: *const AspClient, channels: u32) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let handle = unsafe { client.as_ref() }.ok_or_else(|| AspError::invalid("client is NULL"))?;
        if !(1..=2).contains(&channels) {
            return Err(AspError::invalid("channels must be 1 or 2"));
        }
        let mut slot = handle.microphone.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_some() {
            return Err(AspError::invalid("the microphone is already started"));
        }
        *slot = Some(handle.core.start_microphone(channels as u8)?);
        Ok(())
    })
}

/// Pushes `count` interleaved samples (48 kHz, the channels given when started) of the
/// microphone; half a second waits at most, the oldest dropped past that. Thread safety: any
/// thread.
///
/// # Safety
/// `client` is a live handle; `samples` valid for `count` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_push_audio(
    client: *const AspClient,
    samples: *const i16,
    count: usize,
) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let handle = unsafe { client.as_ref() }.ok_or_else(|| AspError::invalid("client is NULL"))?;
        if samples.is_null() && count > 0 {
            return Err(AspError::invalid("samples is NULL"));
        }
        let slot = handle.microphone.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let microphone = slot.as_ref().ok_or_else(|| AspError::invalid("start the microphone first"))?;
        if count > 0 {
            // SAFETY: non-null, and the caller promises `count` readable samples.
            microphone.push(unsafe { std::slice::from_raw_parts(samples, count) });
        }
        Ok(())
    })
}

/// The client behind a handle.
///
/// # Safety
/// `client` is NULL or a live handle from [`asp_client_connect`].
unsafe fn client_ref<'a>(client: *const AspClient) -> Result<&'a ClientCore, AspError> {
    // SAFETY: the caller's promise.
    unsafe { client.as_ref() }.map(|c| &c.core).ok_or_else(|| AspError::invalid("client is NULL"))
}

/// Sends `event`, writing its sequence number to `seq` unless NULL.
///
/// # Safety
/// As [`client_ref`]; `seq` is NULL or valid for a write.
unsafe fn send(client: *const AspClient, event: InputEvent, seq: *mut u64) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let n = unsafe { client_ref(client) }?.send(event)?;
        if !seq.is_null() {
            // SAFETY: non-null, and the caller promises it is valid for a write.
            unsafe { seq.write(n) };
        }
        Ok(())
    })
}

/// A key pressed (`down`) or released, by X11 keysym (`0x61` is `a`, `0xff0d` Return); its
/// sequence number goes to `seq` unless NULL. Thread safety: any thread, concurrently with the
/// other input calls (events keep the order of the calls).
///
/// # Safety
/// `client` is a live handle; `seq` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_send_key(
    client: *const AspClient,
    keysym: u32,
    down: bool,
    seq: *mut u64,
) -> AspStatus {
    // SAFETY: the caller's promises, passed on.
    unsafe { send(client, InputEvent::Key { keysym, down }, seq) }
}

/// The pointer moved to (`x`, `y`), display pixels. Thread safety: as [`asp_client_send_key`].
///
/// # Safety
/// As [`asp_client_send_key`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_send_pointer(client: *const AspClient, x: u32, y: u32, seq: *mut u64) -> AspStatus {
    // SAFETY: the caller's promises, passed on.
    unsafe { send(client, InputEvent::PointerMove { x, y }, seq) }
}

/// Relative pointer motion. Thread safety: as [`asp_client_send_key`].
///
/// # Safety
/// As [`asp_client_send_key`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_send_pointer_relative(
    client: *const AspClient,
    dx: i32,
    dy: i32,
    seq: *mut u64,
) -> AspStatus {
    // SAFETY: the caller's promises, passed on.
    unsafe { send(client, InputEvent::PointerRelative { dx, dy }, seq) }
}

/// A button (1 left, 2 middle, 3 right, up to 7) pressed or released. Thread safety: as
/// [`asp_client_send_key`].
///
/// # Safety
/// As [`asp_client_send_key`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_send_button(
    client: *const AspClient,
    button: u8,
    down: bool,
    seq: *mut u64,
) -> AspStatus {
    if !(1..=7).contains(&button) {
        return call(|| Err(AspError::invalid("button must be 1..=7")));
    }
    // SAFETY: the caller's promises, passed on.
    unsafe { send(client, InputEvent::Button { button, down }, seq) }
}

/// Wheel steps; positive is down (`dy`) or right (`dx`). Thread safety: as
/// [`asp_client_send_key`].
///
/// # Safety
/// As [`asp_client_send_key`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_send_wheel(client: *const AspClient, dx: i32, dy: i32, seq: *mut u64) -> AspStatus {
    // SAFETY: the caller's promises, passed on.
    unsafe { send(client, InputEvent::Wheel { dx, dy }, seq) }
}

/// The figures so far (the final ones once stopped). Thread safety: any thread, callbacks
/// included.
///
/// # Safety
/// `client` is a live handle; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_stats(client: *const AspClient, out: *mut AspClientStats) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let stats: ClientStats = unsafe { client_ref(client) }?.stats().into();
        // SAFETY: the caller's promise about `out`.
        unsafe { put(out, stats.into()) }
    })
}

/// Every figure the SDK keeps, as a JSON object, into `*out` (free it with
/// `asp_string_free`). Thread safety: any thread, callbacks included.
///
/// # Safety
/// `client` is a live handle; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_stats_json(client: *const AspClient, out: *mut *mut c_char) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let stats = unsafe { client_ref(client) }?.stats();
        let json = serde_json::to_string(&stats).map_err(|e| AspError::Internal { reason: e.to_string() })?;
        // SAFETY: the caller's promise about `out`.
        unsafe { put_string(out, json) }
    })
}

/// Whether the session has ended (server gone, network failed, or stopped). Thread safety:
/// any thread. NULL reads as ended.
///
/// # Safety
/// `client` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_is_finished(client: *const AspClient) -> bool {
    // SAFETY: the caller's promise.
    unsafe { client_ref(client) }.map_or(true, ClientCore::is_finished)
}

/// Closes the session and waits for the decoder; the final figures go to `out` unless NULL.
/// The handle stays valid (for figures) until [`asp_client_free`]. Thread safety: any thread
/// but the SDK's own; not concurrently with `asp_client_free` on the same handle.
///
/// # Safety
/// `client` is a live handle; `out` is NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_stop(client: *const AspClient, out: *mut AspClientStats) -> AspStatus {
    call(|| {
        // SAFETY: the caller's promise about `client`.
        let stats: ClientStats = unsafe { client_ref(client) }?.stop()?.into();
        if !out.is_null() {
            // SAFETY: non-null, and the caller promises it is valid for a write.
            unsafe { out.write(stats.into()) };
        }
        Ok(())
    })
}

/// Stops the client if it runs and frees the handle. NULL is ignored. Thread safety: any thread
/// but the SDK's own (from a callback it fails with `ASP_STATUS_WRONG_THREAD` and frees
/// nothing); no other call on this handle may run or follow.
///
/// # Safety
/// `client` is NULL or a live handle from [`asp_client_connect`], not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_client_free(client: *mut AspClient) -> AspStatus {
    call(|| {
        if client.is_null() {
            return Ok(());
        }
        runtime::ensure_may_block("asp_client_free")?;
        // SAFETY: the caller promises a live handle from `Box::into_raw` in
        // `asp_client_connect`, used no more.
        let client = unsafe { Box::from_raw(client) };
        client.core.stop()?;
        Ok(())
    })
}
