//! End to end on a real X display: a client types over QUIC, the server injects the keys with
//! XTEST into an xterm on a private Xvfb, the xterm's program receives them, and the pictures
//! the client decodes show the text. Click-to-photon is measured through all of it.
#![cfg(all(target_os = "linux", feature = "x11"))]
// Deadlines for polling real processes need the wall clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use asp::client::ClientConfig;
use asp::loopback::{Loopback, LoopbackOptions};
use asp::proto::input::InputEvent;
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp_transport::select::Carrier;
use common::xvfb::{TempDir, WindowInfo, Xvfb, wait_for};

/// What the client types: capitals, digits and punctuation (Shift is the injector's business).
const TEXT: &str = "Hello, ASP! Typed 42 keys over QUIC: (a+b)*c; OK?";
/// `XK_Return`.
const RETURN: u32 = 0xff0d;
/// Time between keystrokes.
const KEY_GAP: Duration = Duration::from_millis(30);
/// A luma change this large is ink appearing or going, not coding noise.
const INK: u8 = 96;
/// Pixels of the xterm that must change between before and after typing. The text is 49
/// glyphs of the 6x13 `fixed` font; about a fifth of each cell is ink.
const MIN_CHANGED: usize = 400;

/// The newest picture the client decoded, and how many it decoded.
#[derive(Debug, Default)]
struct Latest {
    frame: Mutex<Option<DecodedFrame>>,
    count: AtomicU64,
}

impl Latest {
    fn get(&self) -> Option<DecodedFrame> {
        self.frame.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// The luma samples of `frame` inside `window`, row by row.
fn luma(frame: &DecodedFrame, window: &WindowInfo) -> Vec<u8> {
    let image = &frame.image;
    let stride = image.plane_width(0);
    let x0 = window.x.min(image.width) as usize;
    let x1 = (window.x + window.width).min(image.width) as usize;
    (window.y..(window.y + window.height).min(image.height))
        .flat_map(|y| image.planes[0][y as usize * stride + x0..y as usize * stride + x1].iter().copied())
        .collect()
}

/// Samples that differ by at least [`INK`].
fn changed(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x.abs_diff(**y) >= INK).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_typed_at_the_client_reach_an_xterm_and_come_back_as_pictures() {
    let started = Instant::now();
    let xvfb = Xvfb::start();
    let dir = TempDir::new("remote-typing");
    let typed = dir.path().join("typed.txt");
    let title = format!("asp-remote-typing-{}", std::process::id());
    let script = format!("exec cat > '{}'", typed.display());
    let mut xterm = xvfb.xterm(&title, (60, 10), &script);
    let window = xvfb.wait_for_window(&title);

    let (capture, injector) = asp::x11::open(Some(xvfb.display())).expect("opening the display");
    let latest = Arc::new(Latest::default());
    let sink = {
        let latest = latest.clone();
        move |frame: &DecodedFrame| {
            *latest.frame.lock().unwrap_or_else(PoisonError::into_inner) = Some(frame.clone());
            latest.count.fetch_add(1, Ordering::Relaxed);
        }
    };
    let pair = Loopback::start(
        Box::new(capture),
        Some(Box::new(injector)),
        Box::new(sink),
        ServerConfig { frame_rate: 30, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions { carrier: Carrier::Quic, ..LoopbackOptions::default() },
    )
    .await
    .expect("starting the loopback pair");

    // The client's picture of the xterm before typing: the xterm has drawn (its hollow cursor
    // is ink on the white background).
    let before =
        wait_for("the client to show the xterm", || latest.get().filter(|f| luma(f, &window).iter().any(|&y| y < 100)))
            .await;
    assert_eq!((before.image.width, before.image.height), xvfb.size());
    assert_eq!(before.header.answered_input, 0);

    // The pointer gives the xterm the focus (no window manager: focus follows the pointer).
    let client = &pair.client;
    let (x, y) = window.centre();
    let mut sent = vec![client.send_input(InputEvent::PointerMove { x, y }).expect("pointer move")];
    let keysyms = TEXT.chars().map(u32::from).chain([RETURN]);
    for keysym in keysyms {
        for down in [true, false] {
            sent.push(client.send_input(InputEvent::Key { keysym, down }).expect("key"));
        }
        // A fast typist's pace, so that most keystrokes get a picture of their own.
        tokio::time::sleep(KEY_GAP).await;
    }
    let key_events = sent.len() - 1;
    let last = *sent.last().expect("events were sent");
    assert_eq!(sent, (1..=last).collect::<Vec<_>>(), "sequence numbers from 1, one per event");

    // (a) The text crossed the network, XTEST typed it, and a real X client read it.
    let line = wait_for("the typed line in the file", || {
        xterm.assert_running();
        std::fs::read_to_string(&typed).ok().filter(|s| s.ends_with('\n'))
    })
    .await;
    assert_eq!(line, format!("{TEXT}\n"));

    // (b) The client's pictures show it: a picture answering the last key, with the xterm's
    // region changed by ink.
    let after = wait_for("the client to show the typed text", || {
        latest.get().filter(|f| {
            f.header.answered_input == last && changed(&luma(f, &window), &luma(&before, &window)) >= MIN_CHANGED
        })
    })
    .await;
    let changed_px = changed(&luma(&after, &window), &luma(&before, &window));
    let region_px = luma(&after, &window).len();
    eprintln!(
        "xterm region {}x{}: {changed_px} of {region_px} luma samples changed by >= {INK} after typing",
        window.width, window.height
    );
    let server = pair.server.stats();
    assert_eq!(server.input_events, 1 + key_events as u64, "the pointer move and every key event applied");
    assert_eq!(server.input_inject_errors, 0);
    assert_eq!(server.input_bad_messages, 0);
    assert!(server.pipeline_errors.is_empty(), "{:?}", server.pipeline_errors);

    let (server, client) = pair.stop().await;
    eprintln!("server: {server:?}");
    eprintln!("client: {client:?}");
    // (c) Click-to-photon through XTEST and the X server was measured.
    let c2p = &client.click_to_photon;
    eprintln!(
        "click-to-photon through XTEST (QUIC on loopback, 30 fps, test profile): n {} mean {:.1} ms p50 {:.1} ms \
         p95 {:.1} ms p99 {:.1} ms max {:.1} ms; glass-to-glass p50 {:.1} ms; {} frames shown; test took {:?}",
        c2p.count,
        c2p.mean,
        c2p.p50,
        c2p.p95,
        c2p.p99,
        c2p.max,
        client.glass_to_glass.p50,
        client.frames_shown,
        started.elapsed()
    );
    assert!(c2p.count > 0, "click-to-photon samples recorded");
    assert_eq!(c2p.count, sent.len() as u64, "every input answered by a picture");
    assert_eq!(client.inputs_sent, sent.len() as u64);
    assert_eq!(client.decode_errors, 0);
    assert_eq!(client.frames_shown, latest.count.load(Ordering::Relaxed));
}
