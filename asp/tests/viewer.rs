//! The real `asp connect` opens its viewer window on a private Xvfb, showing what a real
//! `asp serve` streams, and exits cleanly after `--seconds`.
#![cfg(all(target_os = "linux", feature = "viewer", feature = "x11"))]
// Deadlines for polling real processes need the wall clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use asp::cursor::CursorSource;
use asp::proto::input::InputEvent;
use asp::source::{FrameSource, InputInjector};
use asp::x11::{CaptureOptions, X11Capture};
use common::xvfb::{TIMEOUT, TempDir, Xvfb, wait_until, window_titled};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, InputFocus};
use x11rb::wrapper::ConnectionExt as _;

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// Waits for the exit, at most [`TIMEOUT`].
    fn wait(&mut self, what: &str) -> ExitStatus {
        wait_until(TIMEOUT, &format!("{what} to exit"), || self.0.try_wait().expect("try_wait"))
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 (`asp serve` listens on both).
fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("binding UDP");
        let port = udp.local_addr().expect("address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP");
}

/// Starts `asp serve --source SOURCE` on `port` and returns it with the fingerprint and token
/// it printed.
fn serve(source: &str, port: u16, keys: &TempDir) -> (Killed, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_asp"))
        .args(["serve", "--source", source, "--size", "640x360", "--fps", "30", "--max-clients", "1"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--keys")
        .arg(keys.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("running asp serve");
    let stdout = child.stdout.take().expect("piped");
    let server = Killed(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + TIMEOUT;
    let (mut fingerprint, mut token) = (None, None);
    while fingerprint.is_none() || token.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("asp serve printed no fingerprint and token");
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("fingerprint"), Some(f)) => fingerprint = Some(f.to_owned()),
            (Some("token"), Some(t)) => token = Some(t.to_owned()),
            _ => {}
        }
    }
    (server, fingerprint.expect("fingerprint"), token.expect("token"))
}

/// The output of a child, read to its end on a thread.
type Output = std::thread::JoinHandle<String>;

fn read_all(mut from: impl Read + Send + 'static) -> Output {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = from.read_to_string(&mut s);
        s
    })
}

/// Runs `asp connect` for 3 s with its window on `display`; its stdout and stderr.
fn connect(port: u16, fingerprint: &str, token: &str, display: &str) -> (Killed, Output, Output) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_asp"))
        .args(["connect", &format!("127.0.0.1:{port}"), "--fingerprint", fingerprint, "--token", token])
        .args(["--seconds", "3"])
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running asp connect");
    let out = read_all(child.stdout.take().expect("piped"));
    let err = read_all(child.stderr.take().expect("piped"));
    (Killed(child), out, err)
}

/// How many distinct colours the picture has.
fn colours(data: &[u8]) -> usize {
    let mut seen: Vec<&[u8]> = data.chunks_exact(4).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

#[test]
fn asp_connect_opens_a_window_showing_the_stream() {
    let xvfb = Xvfb::start();
    let keys = TempDir::new("viewer-keys");
    let port = free_port();
    let (mut server, fingerprint, token) = serve("synth:office", port, &keys);

    let started = Instant::now();
    let (mut connect, out, err) = connect(port, &fingerprint, &token, xvfb.display());
    // While it runs: its window is on the display, titled "asp 127.0.0.1:PORT | ...", and
    // shows the stream (the office scene has many colours; a black window has one).
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).expect("connecting to Xvfb");
    let root = conn.setup().roots[screen].root;
    let prefix = format!("asp 127.0.0.1:{port}");
    let (window, _) = wait_until(TIMEOUT, "the viewer's window", || {
        if let Ok(Some(status)) = connect.0.try_wait() {
            panic!("asp connect exited ({status}) before its window was seen");
        }
        window_titled(&conn, root, &prefix)
    });
    let title = wait_until(TIMEOUT, "the title's figures", || {
        window_titled(&conn, root, &prefix).map(|(_, t)| t).filter(|t| t.contains(" fps"))
    });
    eprintln!("window {window:#x}: {title:?}");
    let mut capture =
        X11Capture::connect(Some(xvfb.display()), &CaptureOptions::new().window(window)).expect("capturing the window");
    assert_eq!(capture.size(), (640, 360), "the window takes the stream's size");
    let shown = wait_until(TIMEOUT, "the window to show the stream", || {
        let frame = capture.capture().ok()?;
        let n = colours(&frame.image.data);
        (n >= 16).then_some(n)
    });
    eprintln!("the window shows {shown} distinct colours");

    let status = connect.wait("asp connect");
    let elapsed = started.elapsed();
    let (out, err) = (out.join().expect("stdout"), err.join().expect("stderr"));
    eprintln!("asp connect took {elapsed:?}\nstdout: {out}\nstderr: {err}");
    assert!(status.success(), "asp connect failed ({status}): {err}");
    let frames: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("shown ")?.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no \"shown N frames\" summary in {out:?}"));
    assert!(frames > 0, "{out}");
    assert!(elapsed >= Duration::from_secs(3), "ran its --seconds");
    assert!(window_titled(&conn, root, &prefix).is_none(), "the window closed with the client");
    // The server counts the client as gone and stops (--max-clients 1).
    assert!(server.wait("asp serve").success());
}

#[test]
fn asp_connect_without_a_display_says_to_use_headless() {
    let output = Command::new(env!("CARGO_BIN_EXE_asp"))
        .args(["connect", "127.0.0.1:9", "--fingerprint", &"0".repeat(64), "--token", "t"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("running asp connect");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(err.contains("--headless"), "{err}");
}

/// The remote desktop loop: keys typed (by XTEST) into the viewer's window on one display
/// travel as keysyms to an `asp serve` of a second display, whose XTEST types them into an
/// xterm there.
#[test]
fn keys_typed_into_the_viewer_window_reach_a_remote_xterm() {
    const TEXT: &str = "Hi, viewer! 42 + (x)";
    let local = Xvfb::start();
    let remote = Xvfb::start_with(640, 360, 24);
    let dir = TempDir::new("viewer-typing");
    let typed = dir.path().join("typed.txt");
    let title = format!("asp-viewer-typing-{}", std::process::id());
    let mut xterm = remote.xterm(&title, (40, 8), &format!("exec cat > '{}'", typed.display()));
    let target = remote.wait_for_window(&title);

    let port = free_port();
    let (mut server, fingerprint, token) = serve(&format!("x11:{}", remote.display()), port, &dir);
    let (mut connect, out, err) = connect(port, &fingerprint, &token, local.display());
    let (conn, screen) = x11rb::connect(Some(local.display())).expect("connecting to Xvfb");
    let root = conn.setup().roots[screen].root;
    let prefix = format!("asp 127.0.0.1:{port}");
    // Once the title shows figures the window has drawn a picture, so it maps the pointer.
    let (window, _) = wait_until(TIMEOUT, "the viewer's window to draw", || {
        if let Ok(Some(status)) = connect.0.try_wait() {
            panic!("asp connect exited ({status}) before its window was seen");
        }
        window_titled(&conn, root, &prefix).filter(|(_, t)| t.contains(" fps"))
    });
    let at = conn.translate_coordinates(window, root, 0, 0).expect("translate").reply().expect("reply");
    let geometry = conn.get_geometry(window).expect("geometry").reply().expect("reply");
    assert_eq!((geometry.width, geometry.height), (640, 360), "the remote screen's size, shown 1:1");

    // The local pointer over the xterm's picture: the viewer moves the remote pointer onto
    // the xterm, which gives it the focus there (no window manager on either display).
    let (_, mut injector) = asp::x11::open(Some(local.display())).expect("opening the local display");
    let (cx, cy) = target.centre();
    let (x, y) = (u32::try_from(at.dst_x).expect("on screen") + cx, u32::try_from(at.dst_y).expect("on screen") + cy);
    // A window manager would give the viewer the keyboard focus; there is none, so the test
    // does (winit takes keys only in a window that has had a FocusIn).
    conn.set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME).expect("focus");
    conn.sync().expect("sync");
    let mut seq = 0;
    let mut inject = |event: InputEvent| {
        seq += 1;
        injector.inject(seq, &event).unwrap_or_else(|e| panic!("{event:?}: {e}"));
    };
    inject(InputEvent::PointerMove { x, y });
    // Let the remote pointer arrive before the keys (they travel in order, but the first
    // picture after the move is what proves it).
    std::thread::sleep(Duration::from_millis(200));
    for keysym in TEXT.chars().map(u32::from).chain([0xff0d]) {
        inject(InputEvent::Key { keysym, down: true });
        inject(InputEvent::Key { keysym, down: false });
    }
    let line = wait_until(TIMEOUT, "the typed line in the remote xterm's file", || {
        xterm.assert_running();
        std::fs::read_to_string(&typed).ok().filter(|s| s.ends_with('\n'))
    });
    assert_eq!(line, format!("{TEXT}\n"));

    // The viewer draws the pointer itself, in the remote shape: over the xterm's picture the
    // local pointer takes the remote xterm's I-beam, which XFixes on each display reports.
    // (xterm hides its pointer while keys are typed, until it moves: move it a little.)
    inject(InputEvent::PointerMove { x: x + 1, y });
    let mut remote_cursor = asp::x11::X11Cursor::open(Some(remote.display()), (0, 0)).expect("remote XFixes");
    let mut local_cursor = asp::x11::X11Cursor::open(Some(local.display()), (0, 0)).expect("local XFixes");
    let remote_shape = wait_until(TIMEOUT, "the remote pointer to show again", || {
        let state = remote_cursor.sample().ok()?.state;
        remote_cursor.shape(state.shape_id).ok()?.filter(|_| state.visible)
    });
    wait_until(TIMEOUT, "the viewer's pointer to take the remote shape", || {
        let id = local_cursor.sample().ok()?.state.shape_id;
        let local = local_cursor.shape(id).ok()??;
        (local.width, local.height, local.hot_x, local.hot_y, &local.rgba)
            .eq(&(remote_shape.width, remote_shape.height, remote_shape.hot_x, remote_shape.hot_y, &remote_shape.rgba))
            .then_some(())
    });
    eprintln!("the viewer's pointer is the remote {}x{} shape", remote_shape.width, remote_shape.height);

    let status = connect.wait("asp connect");
    let (out, err) = (out.join().expect("stdout"), err.join().expect("stderr"));
    eprintln!("stdout: {out}\nstderr: {err}");
    assert!(status.success(), "asp connect failed ({status}): {err}");
    let sent: u64 = out
        .split(", ")
        .find_map(|part| part.strip_suffix(" inputs sent")?.parse().ok())
        .unwrap_or_else(|| panic!("no input count in {out:?}"));
    // Each character is at least a press and a release; Shift adds its own.
    assert!(sent > 2 * TEXT.len() as u64, "{sent} inputs sent");
    assert!(server.wait("asp serve").success());
}
