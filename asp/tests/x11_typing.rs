//! The X11 source and injector on a private Xvfb: keys typed through XTEST reach an xterm,
//! and the MIT-SHM capture sees them; plain `GetImage` gives the same pictures.
#![cfg(all(target_os = "linux", feature = "x11"))]
// The capture timings printed for the notes read the wall clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::{Duration, Instant};

use asp::proto::input::InputEvent;
use asp::source::{FrameSource, InjectError, InputInjector};
use asp::x11::{CaptureOptions, X11Capture};
use asp_codec::{ChannelOrder, RgbaImage};
use common::xvfb::{TIMEOUT, TempDir, WindowInfo, Xvfb, wait_until};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ColormapAlloc, ConnectionExt as _, CreateWindowAux, VisualClass, Window, WindowClass};

/// What the test types; capitals and `!` need Shift.
const TEXT: &str = "Hello ASP 42!";
/// `XK_Return`.
const RETURN: u32 = 0xff0d;

/// The bytes of `image` inside the window's rectangle, row by row.
fn region(image: &RgbaImage, window: &WindowInfo) -> Vec<u8> {
    let x0 = window.x.min(image.width) as usize * 4;
    let x1 = (window.x + window.width).min(image.width) as usize * 4;
    (window.y..(window.y + window.height).min(image.height))
        .flat_map(|y| image.row(y)[x0..x1].iter().copied())
        .collect()
}

/// Whether every pixel of `bytes` is the same.
fn uniform(bytes: &[u8]) -> bool {
    bytes.chunks_exact(4).all(|px| px == &bytes[..4])
}

/// The BGRA bytes of pixel (x, y).
fn pixel(image: &RgbaImage, x: u32, y: u32) -> [u8; 4] {
    let at = x as usize * 4;
    image.row(y)[at..at + 4].try_into().expect("four bytes")
}

/// Presses and releases `keysym`, numbering the events from `*seq + 1`.
fn tap(injector: &mut impl InputInjector, seq: &mut u64, keysym: u32) {
    for down in [true, false] {
        *seq += 1;
        injector.inject(*seq, &InputEvent::Key { keysym, down }).unwrap_or_else(|e| panic!("key {keysym:#x}: {e}"));
    }
}

#[test]
fn keys_typed_through_xtest_reach_an_xterm_and_the_capture_sees_them() {
    let xvfb = Xvfb::start();
    let dir = TempDir::new("typing");
    let typed = dir.path().join("typed.txt");
    let title = format!("asp-typing-{}", std::process::id());
    let script = format!("exec cat > '{}'", typed.display());
    let mut xterm = xvfb.xterm(&title, (60, 10), &script);
    let window = xvfb.wait_for_window(&title);

    let (mut capture, mut injector) = asp::x11::open(Some(xvfb.display())).expect("opening the display");
    assert!(capture.uses_shm(), "the capture should use MIT-SHM on Xvfb");
    assert_eq!(capture.size(), xvfb.size());
    // xterm has drawn once its window is no longer one colour (its cursor shows).
    let before = wait_until(TIMEOUT, "the xterm to draw", || {
        let frame = capture.capture().expect("capture");
        (!uniform(&region(&frame.image, &window))).then_some(frame)
    });
    assert_eq!(before.input_applied, 0);
    assert_eq!(before.image.order, ChannelOrder::Bgra);

    // The pointer gives the xterm the focus (no window manager: focus follows the pointer).
    let mut seq = 1;
    let (x, y) = window.centre();
    injector.inject(seq, &InputEvent::PointerMove { x, y }).expect("pointer move");
    for c in TEXT.chars() {
        tap(&mut injector, &mut seq, u32::from(c));
    }
    tap(&mut injector, &mut seq, RETURN);

    let line = wait_until(TIMEOUT, "the typed line in the file", || {
        xterm.assert_running();
        std::fs::read_to_string(&typed).ok().filter(|s| s.ends_with('\n'))
    });
    assert_eq!(line, format!("{TEXT}\n"));

    let after = wait_until(TIMEOUT, "the xterm to show the text", || {
        let frame = capture.capture().expect("capture");
        (region(&frame.image, &window) != region(&before.image, &window)).then_some(frame)
    });
    assert_eq!(after.input_applied, seq, "every event was applied before this picture");
    assert!(capture.uses_shm());

    // The xterm's window on its own is the same as its part of the screen.
    let options = CaptureOptions::new().window(window.id);
    let mut own = X11Capture::connect(Some(xvfb.display()), &options).expect("capturing the xterm's window");
    assert_eq!(own.size(), (window.width & !1, window.height & !1));
    let cropped = WindowInfo { width: window.width & !1, height: window.height & !1, ..window };
    wait_until(TIMEOUT, "the window capture to match the screen capture", || {
        let screen = capture.capture().expect("capture");
        let alone = own.capture().expect("window capture");
        (alone.image.data == region(&screen.image, &cropped)).then_some(())
    });
}

/// Creates a mapped `width`x`height` window at (x, y) filled with `pixel`, of depth 24 or 32.
fn coloured_window(xvfb: &Xvfb, depth: u8, (x, y, width, height): (i16, i16, u16, u16), pixel: u32) -> Window {
    let (conn, screen_num) = x11rb::connect(Some(xvfb.display())).expect("connecting");
    let screen = &conn.setup().roots[screen_num];
    let id = conn.generate_id().expect("id");
    let mut aux = CreateWindowAux::new().background_pixel(pixel).border_pixel(0).override_redirect(1);
    let visual = if depth == screen.root_depth {
        screen.root_visual
    } else {
        let visual = screen
            .allowed_depths
            .iter()
            .filter(|d| d.depth == depth)
            .flat_map(|d| &d.visuals)
            .find(|v| v.class == VisualClass::TRUE_COLOR)
            .unwrap_or_else(|| panic!("no true-colour visual of depth {depth}"))
            .visual_id;
        let colormap = conn.generate_id().expect("id");
        conn.create_colormap(ColormapAlloc::NONE, colormap, screen.root, visual).expect("colormap");
        aux = aux.colormap(colormap);
        visual
    };
    conn.create_window(depth, id, screen.root, x, y, width, height, 0, WindowClass::INPUT_OUTPUT, visual, &aux)
        .expect("create window");
    conn.map_window(id).expect("map window");
    conn.get_input_focus().expect("sync").reply().expect("sync");
    // The window lives as long as the server: closing the connection would destroy it.
    std::mem::forget(conn);
    id
}

/// Mean time of one capture over `n`.
fn time_captures(capture: &mut X11Capture, n: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        capture.capture().expect("capture");
    }
    start.elapsed() / n
}

#[test]
fn get_image_fallback_gives_the_same_picture_as_shm() {
    let xvfb = Xvfb::start();
    // R 0xff, G 0x80, B 0x40 in a depth-24 pixel.
    coloured_window(&xvfb, 24, (100, 50, 300, 200), 0x00ff_8040);
    let mut shm = X11Capture::connect(Some(xvfb.display()), &CaptureOptions::new()).expect("SHM capture");
    let mut plain = X11Capture::connect(Some(xvfb.display()), &CaptureOptions::new().without_shm()).expect("capture");
    assert!(shm.uses_shm());
    assert!(!plain.uses_shm());
    assert_eq!(plain.size(), shm.size());

    let frame = wait_until(TIMEOUT, "the coloured window", || {
        let frame = shm.capture().expect("SHM capture");
        (pixel(&frame.image, 200, 100) == [0x40, 0x80, 0xff, 0xff]).then_some(frame)
    });
    let fallback = plain.capture().expect("GetImage capture");
    assert_eq!(fallback.image, frame.image);
    assert_eq!(frame.image.stride, 1280 * 4);
    assert!(frame.image.data.chunks_exact(4).all(|px| px[3] == 0xff), "depth 24 is opaque");

    let n = 30;
    let shm_time = time_captures(&mut shm, n);
    let get_image_time = time_captures(&mut plain, n);
    eprintln!("one 1280x720 capture, mean of {n} (debug build): MIT-SHM {shm_time:?}, GetImage {get_image_time:?}");
}

#[test]
fn odd_sizes_are_cropped_and_depth_32_windows_keep_alpha() {
    let xvfb = Xvfb::start_with(641, 479, 24);
    let (mut screen, mut injector) = asp::x11::open(Some(xvfb.display())).expect("opening the display");
    assert_eq!(screen.size(), (640, 478));
    assert_eq!(screen.capture().expect("capture").image.data.len(), 640 * 478 * 4);

    let window = coloured_window(&xvfb, 32, (10, 20, 101, 51), 0x80ff_8040);
    let options = CaptureOptions::new().window(window);
    let mut capture = X11Capture::connect(Some(xvfb.display()), &options).expect("capturing a depth-32 window");
    assert_eq!(capture.size(), (100, 50));
    assert_eq!(capture.origin(), (10, 20));
    let frame = capture.capture().expect("capture");
    assert_eq!(pixel(&frame.image, 50, 25), [0x40, 0x80, 0xff, 0x80]);
    let plain = X11Capture::connect(Some(xvfb.display()), &options.without_shm()).expect("capture");
    assert_eq!(plain.size(), (100, 50));

    // Events the display cannot express are refused as values, and not counted as applied.
    let no_key = injector.inject(1, &InputEvent::Key { keysym: 0x0100_1234, down: true });
    assert!(matches!(no_key, Err(InjectError::Unsupported(_))), "{no_key:?}");
    let no_button = injector.inject(2, &InputEvent::Button { button: 9, down: true });
    assert!(matches!(no_button, Err(InjectError::Unsupported(_))), "{no_button:?}");
    for (seq, event) in [
        InputEvent::PointerMove { x: 5, y: 5 },
        InputEvent::PointerRelative { dx: 2, dy: -1 },
        InputEvent::Button { button: 1, down: true },
        InputEvent::Button { button: 1, down: false },
        InputEvent::Wheel { dx: -1, dy: 2 },
        InputEvent::Wheel { dx: i32::MAX, dy: i32::MIN },
    ]
    .iter()
    .enumerate()
    {
        injector.inject(seq as u64 + 3, event).unwrap_or_else(|e| panic!("{event:?}: {e}"));
    }
    assert_eq!(screen.capture().expect("capture").input_applied, 8);
    let (conn, _) = x11rb::connect(Some(xvfb.display())).expect("connecting");
    let pointer = conn.query_pointer(conn.setup().roots[0].root).expect("query").reply().expect("reply");
    assert_eq!(
        (pointer.root_x, pointer.root_y),
        (7, 4),
        "absolute then relative motion (small enough to escape acceleration)"
    );
}
