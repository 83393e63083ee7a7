//! The C ABI's contract, called from Rust as C would call it: NULL and malformed arguments give
//! a status and a message (never a crash), callbacks that try to block are refused, copies of
//! unknown types and microphone misuse are refused, and no callback runs after
//! `asp_client_stop`.
#![allow(unsafe_code)] // calling the C ABI is the point
#![allow(clippy::disallowed_methods)] // bounded waits on the wall clock

use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use asp_ffi::c_api::client::*;
use asp_ffi::c_api::server::*;
use asp_ffi::c_api::*;

fn last_error() -> String {
    // SAFETY: asp_last_error returns a valid NUL-terminated string until the next call.
    unsafe { CStr::from_ptr(asp_last_error()) }.to_string_lossy().into_owned()
}

fn take_string(p: *mut c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: a string the SDK returned, freed right after reading.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    unsafe { asp_string_free(p) };
    s
}

struct Running {
    server: *mut AspServer,
    address: CString,
    fingerprint: CString,
    token: CString,
}

fn start_server() -> Running {
    let mut config = std::mem::MaybeUninit::<AspServerConfig>::uninit();
    // SAFETY: a valid place for the config.
    assert_eq!(unsafe { asp_server_config_default(config.as_mut_ptr()) }, AspStatus::Ok);
    // SAFETY: initialised by the call above.
    let mut config = unsafe { config.assume_init() };
    config.width = 320;
    config.height = 240;
    config.fps = 30;
    let mut server = ptr::null_mut();
    // SAFETY: valid config (static strings) and out pointer.
    assert_eq!(unsafe { asp_server_start(&config, &mut server) }, AspStatus::Ok, "{}", last_error());
    let mut fingerprint = ptr::null_mut();
    let mut token = ptr::null_mut();
    // SAFETY: a live server and valid out pointers.
    unsafe {
        assert_eq!(asp_server_fingerprint(server, &mut fingerprint), AspStatus::Ok);
        assert_eq!(asp_server_issue_token(server, c"c-api-test".as_ptr(), 600, &mut token), AspStatus::Ok);
    }
    // SAFETY: a live server.
    let port = unsafe { asp_server_port(server) };
    Running {
        server,
        address: CString::new(format!("127.0.0.1:{port}")).unwrap(),
        fingerprint: CString::new(take_string(fingerprint)).unwrap(),
        token: CString::new(take_string(token)).unwrap(),
    }
}

impl Running {
    fn client_config(&self) -> AspClientConfig {
        let mut config = std::mem::MaybeUninit::<AspClientConfig>::uninit();
        // SAFETY: a valid place for the config.
        assert_eq!(unsafe { asp_client_config_default(config.as_mut_ptr()) }, AspStatus::Ok);
        // SAFETY: initialised by the call above.
        let mut config = unsafe { config.assume_init() };
        config.address = self.address.as_ptr();
        config.fingerprint = self.fingerprint.as_ptr();
        config.token = self.token.as_ptr();
        config.carrier = AspCarrier::Quic;
        config
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: the live server, not used afterwards.
        assert_eq!(unsafe { asp_server_free(self.server) }, AspStatus::Ok);
    }
}

#[test]
fn bad_arguments_give_a_status_and_a_message() {
    let mut client = ptr::null_mut();
    // SAFETY: NULL config is what is being tested; `client` is a valid out pointer.
    assert_eq!(unsafe { asp_client_connect(ptr::null(), ptr::null(), &mut client) }, AspStatus::InvalidArgument);
    assert!(last_error().contains("config is NULL"), "{}", last_error());

    let server = start_server();
    let mut config = server.client_config();
    config.fingerprint = c"12ab".as_ptr();
    // SAFETY: valid pointers; the fingerprint is malformed on purpose.
    assert_eq!(unsafe { asp_client_connect(&config, ptr::null(), &mut client) }, AspStatus::InvalidArgument);
    assert!(last_error().contains("fingerprint"), "{}", last_error());

    let mut config = server.client_config();
    config.token = c"forged".as_ptr();
    // SAFETY: valid pointers; the token is refused by the server.
    assert_eq!(unsafe { asp_client_connect(&config, ptr::null(), &mut client) }, AspStatus::Connect);
    assert!(!last_error().is_empty());

    let mut bad = std::mem::MaybeUninit::<AspServerConfig>::uninit();
    // SAFETY: a valid place for the config.
    unsafe { asp_server_config_default(bad.as_mut_ptr()) };
    // SAFETY: initialised above.
    let mut bad = unsafe { bad.assume_init() };
    bad.source = c"synth:nonsense".as_ptr();
    let mut other = ptr::null_mut();
    // SAFETY: valid pointers; the source is unknown on purpose.
    assert_eq!(unsafe { asp_server_start(&bad, &mut other) }, AspStatus::Server);
    assert!(last_error().contains("nonsense"), "{}", last_error());

    // NULL handles read as nothing, and freeing NULL is a no-op.
    // SAFETY: NULL is allowed for these.
    unsafe {
        assert!(asp_client_is_finished(ptr::null()));
        assert_eq!(asp_server_port(ptr::null()), 0);
        assert_eq!(asp_client_free(ptr::null_mut()), AspStatus::Ok);
        assert_eq!(asp_client_send_key(ptr::null(), 0x61, true, ptr::null_mut()), AspStatus::InvalidArgument);
    }
}

#[test]
fn unknown_clipboard_types_and_microphone_misuse_are_refused() {
    let server = start_server();
    let config = server.client_config();
    let mut client = ptr::null_mut();
    // SAFETY: valid pointers.
    assert_eq!(unsafe { asp_client_connect(&config, ptr::null(), &mut client) }, AspStatus::Ok, "{}", last_error());
    let gif = b"GIF89a";
    // SAFETY: a live client, valid strings and bytes.
    unsafe {
        assert_eq!(asp_client_copy(client, c"image/gif".as_ptr(), gif.as_ptr(), gif.len()), AspStatus::InvalidArgument);
        assert!(last_error().contains("image/gif"), "{}", last_error());
        let latin1 = [0xe9u8];
        assert_eq!(
            asp_client_copy(client, c"text/plain;charset=utf-8".as_ptr(), latin1.as_ptr(), 1),
            AspStatus::InvalidArgument
        );
        let samples = [0i16; 960];
        assert_eq!(asp_client_push_audio(client, samples.as_ptr(), samples.len()), AspStatus::InvalidArgument);
        assert!(last_error().contains("start the microphone first"), "{}", last_error());
        assert_eq!(asp_client_start_microphone(client, 3), AspStatus::InvalidArgument);
        assert_eq!(asp_client_start_microphone(client, 1), AspStatus::Ok);
        assert_eq!(asp_client_push_audio(client, samples.as_ptr(), samples.len()), AspStatus::Ok);
        assert_eq!(asp_client_free(client), AspStatus::Ok);
    }
}

struct Probe {
    client: AtomicU64,
    stop_status: AtomicI32,
    frames: AtomicU64,
    after_stop: AtomicBool,
    stopped: AtomicBool,
}

unsafe extern "C" fn on_frame(user: *mut c_void, _frame: *const AspFrame) {
    // SAFETY: `user` is the test's Probe, alive until after the client is freed.
    let probe = unsafe { &*(user as *const Probe) };
    if probe.stopped.load(Ordering::SeqCst) {
        probe.after_stop.store(true, Ordering::SeqCst);
    }
    if probe.frames.fetch_add(1, Ordering::SeqCst) == 0 {
        let client = probe.client.load(Ordering::SeqCst) as *const AspClient;
        if !client.is_null() {
            // Blocking from the decode thread would wait for itself: refused.
            // SAFETY: the live client.
            let status = unsafe { asp_client_stop(client, ptr::null_mut()) };
            probe.stop_status.store(status as i32, Ordering::SeqCst);
        }
    }
}

unsafe extern "C" fn on_event(user: *mut c_void, _event: *const AspEvent) {
    // SAFETY: as in on_frame.
    let probe = unsafe { &*(user as *const Probe) };
    if probe.stopped.load(Ordering::SeqCst) {
        probe.after_stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn blocking_from_a_callback_is_refused_and_nothing_runs_after_stop() {
    let server = start_server();
    let config = server.client_config();
    let probe = Box::new(Probe {
        client: AtomicU64::new(0),
        stop_status: AtomicI32::new(-1),
        frames: AtomicU64::new(0),
        after_stop: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
    });
    let callbacks = AspClientCallbacks {
        user_data: &*probe as *const Probe as *mut c_void,
        on_frame: Some(on_frame),
        on_event: Some(on_event),
        on_audio: None,
        on_cursor: None,
        on_clipboard: None,
    };
    let mut client = ptr::null_mut();
    // SAFETY: valid pointers; `probe` outlives the client.
    assert_eq!(unsafe { asp_client_connect(&config, &callbacks, &mut client) }, AspStatus::Ok, "{}", last_error());
    probe.client.store(client as u64, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(20);
    while probe.frames.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(probe.frames.load(Ordering::SeqCst) >= 3, "frames arrived");
    let mut stats = AspClientStats::default();
    // SAFETY: the live client and a valid out pointer.
    assert_eq!(unsafe { asp_client_stop(client, &mut stats) }, AspStatus::Ok);
    probe.stopped.store(true, Ordering::SeqCst);
    assert!(stats.frames_shown >= 3);
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: the live client, not used afterwards.
    assert_eq!(unsafe { asp_client_free(client) }, AspStatus::Ok);
    let status = probe.stop_status.load(Ordering::SeqCst);
    assert_eq!(status, AspStatus::WrongThread as i32, "stop from the decode thread gave {status}");
    assert!(!probe.after_stop.load(Ordering::SeqCst), "a callback ran after asp_client_stop returned");
}
