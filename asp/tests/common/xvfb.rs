//! A private X server (Xvfb) and X clients for tests, each killed when dropped.
//!
//! `scripts/setup.sh` installs Xvfb, xterm and the X utilities; a test that needs them fails
//! (it does not skip) when they are missing. Every wait is a bounded poll that panics with
//! what it waited for.
// Deadlines for polling real processes need the wall clock.
#![allow(clippy::disallowed_methods)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, MapState, Window};

/// How long a helper waits for a process or a window before it gives up.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A directory of its own under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `asp-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("asp-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An Xvfb server on a display number it chose itself (`-displayfd`), killed on drop.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    display: String,
    size: (u32, u32),
    /// Xvfb's end of the `-displayfd` pipe stays open as long as the server runs.
    _displayfd: ChildStdout,
    dir: TempDir,
}

impl Xvfb {
    /// A 1280x720 screen of depth 24.
    pub fn start() -> Self {
        Self::start_with(1280, 720, 24)
    }

    /// A `width`x`height` screen of `depth` bits; returns once the server accepts clients.
    ///
    /// # Panics
    /// If Xvfb is not installed, exits, or does not get ready within [`TIMEOUT`].
    pub fn start_with(width: u32, height: u32, depth: u8) -> Self {
        let dir = TempDir::new("xvfb");
        let log_path = dir.path().join("xvfb.log");
        let log = File::create(&log_path).expect("creating the Xvfb log");
        // -displayfd 1: Xvfb writes its display number to its stdout, our pipe, once ready.
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-noreset", "-screen", "0"])
            .arg(format!("{width}x{height}x{depth}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run Xvfb ({e}): install it with scripts/setup.sh"));
        let stdout = child.stdout.take().expect("Xvfb's stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            let _ = tx.send(read.map(|_| (line, reader.into_inner())));
        });
        let ready = rx.recv_timeout(TIMEOUT);
        let log_text = || std::fs::read_to_string(&log_path).unwrap_or_default();
        let (line, displayfd) = match ready {
            Ok(Ok((line, stdout))) if !line.trim().is_empty() => (line, stdout),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Xvfb did not start ({other:?}); its log:\n{}", log_text());
            }
        };
        let display = format!(":{}", line.trim());
        Self { child, display, size: (width, height), _displayfd: displayfd, dir }
    }

    /// The display name, `:N`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The screen's size.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Runs `command` as a client of this server (with `DISPLAY` set).
    pub fn spawn(&self, command: Command) -> XClient {
        XClient::spawn(&self.display, command)
    }

    /// Runs an xterm titled `title` at the screen's top-left corner, `columns`x`rows`
    /// characters, running `sh -c script`. Its output goes to a log in the server's directory.
    pub fn xterm(&self, title: &str, (columns, rows): (u32, u32), script: &str) -> XClient {
        let mut command = Command::new("xterm");
        command
            .args(["-title", title, "-name", title, "-geometry"])
            .arg(format!("{columns}x{rows}+0+0"))
            .args(["-fn", "fixed", "+sb", "-bg", "white", "-fg", "black", "-e", "sh", "-c", script])
            .stdin(Stdio::null());
        self.spawn(command)
    }

    /// Waits until a viewable top-level window titled `title` is on the screen.
    ///
    /// # Panics
    /// After [`TIMEOUT`].
    pub fn wait_for_window(&self, title: &str) -> WindowInfo {
        let (conn, screen) = x11rb::connect(Some(&self.display)).expect("connecting to Xvfb");
        let root = conn.setup().roots[screen].root;
        wait_until(TIMEOUT, &format!("a window titled {title:?}"), || find_window(&conn, root, title))
    }

    /// Xvfb's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("xvfb.log")).unwrap_or_default()
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A program running as a client of an X server, killed on drop.
#[derive(Debug)]
pub struct XClient {
    child: Child,
    program: String,
}

impl XClient {
    /// Runs `command` with `DISPLAY=display`.
    ///
    /// # Panics
    /// If the program cannot be started (not installed: run scripts/setup.sh).
    pub fn spawn(display: &str, mut command: Command) -> Self {
        let program = command.get_program().to_string_lossy().into_owned();
        let child = command
            .env("DISPLAY", display)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} ({e}): install it with scripts/setup.sh"));
        Self { child, program }
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Panics if the program has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early: {status}", self.program);
        }
    }
}

impl Drop for XClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A top-level window: its id and where it is on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowInfo {
    /// The window.
    pub id: u32,
    /// Its left edge, in screen pixels.
    pub x: u32,
    /// Its top edge.
    pub y: u32,
    /// Its width.
    pub width: u32,
    /// Its height.
    pub height: u32,
}

impl WindowInfo {
    /// Its centre, in screen pixels.
    pub fn centre(&self) -> (u32, u32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }
}

/// A viewable child of `root` whose `WM_NAME` starts with `prefix`, and its whole title.
pub fn window_titled(conn: &impl Connection, root: Window, prefix: &str) -> Option<(Window, String)> {
    viewable_window(conn, root, |title| title.starts_with(prefix))
}

/// A viewable child of `root` whose `WM_NAME` passes `wanted`, and that title.
fn viewable_window(conn: &impl Connection, root: Window, wanted: impl Fn(&str) -> bool) -> Option<(Window, String)> {
    let tree = conn.query_tree(root).ok()?.reply().ok()?;
    tree.children.into_iter().find_map(|id| {
        let attributes = conn.get_window_attributes(id).ok()?.reply().ok()?;
        if attributes.map_state != MapState::VIEWABLE {
            return None;
        }
        let name = conn.get_property(false, id, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 1024).ok()?.reply().ok()?;
        let title = String::from_utf8_lossy(&name.value).into_owned();
        wanted(&title).then_some((id, title))
    })
}

/// A viewable child of `root` whose `WM_NAME` is `title`, if there is one now.
pub fn find_window(conn: &impl Connection, root: Window, title: &str) -> Option<WindowInfo> {
    let (id, _) = viewable_window(conn, root, |found| found == title)?;
    let geometry = conn.get_geometry(id).ok()?.reply().ok()?;
    let at = conn.translate_coordinates(id, root, 0, 0).ok()?.reply().ok()?;
    Some(WindowInfo {
        id,
        x: u32::try_from(at.dst_x).ok()?,
        y: u32::try_from(at.dst_y).ok()?,
        width: u32::from(geometry.width),
        height: u32::from(geometry.height),
    })
}

/// Polls `poll` every 20 ms until it gives a value.
///
/// # Panics
/// After `timeout`, naming `what` it waited for.
pub fn wait_until<T>(timeout: Duration, what: &str, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = poll() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `poll` every 20 ms, without blocking the runtime, until it gives a value.
///
/// # Panics
/// After [`TIMEOUT`], naming `what` it waited for.
pub async fn wait_for<T>(what: &str, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = poll() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up after {TIMEOUT:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
