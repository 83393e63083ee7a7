//! The X11 CLIPBOARD on a private Xvfb, with the real `xclip` as the other client: text, PNG
//! images and file lists both ways, byte-exact; 2 MiB copies by INCR both ways; our own copies
//! never polled back; oversized copies, a silent owner and a stalled INCR reader dropped and
//! counted, each within its bound; `MULTIPLE` from a hand-made requestor; a lost display is an
//! error of `poll` and `set`, not a hang.
#![cfg(all(target_os = "linux", feature = "x11"))]
// Deadlines for real processes and the timings printed need the wall clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::fs::File;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use asp::clipboard::{Clipboard, ClipboardContent};
use asp::x11::{ClipboardTransferError, X11Clipboard, X11ClipboardOptions};
use common::png::{crc32, png_rgb};
use common::xvfb::{TIMEOUT, TempDir, XClient, Xvfb, wait_until};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// `xclip` owning CLIPBOARD with `data` (given on its stdin) as `target` (its default,
/// `UTF8_STRING`, when `None`), in the foreground until it loses the selection or is dropped.
fn xclip_copy(xvfb: &Xvfb, dir: &TempDir, target: Option<&str>, data: &[u8]) -> XClient {
    let path = dir.path().join(format!("copy-{}", data.len()));
    std::fs::write(&path, data).unwrap();
    let mut command = Command::new("xclip");
    command.args(["-selection", "clipboard", "-quiet"]);
    if let Some(target) = target {
        command.args(["-t", target]);
    }
    command.stdin(File::open(&path).unwrap()).stdout(Stdio::null()).stderr(Stdio::null());
    xvfb.spawn(command)
}

/// A child killed if the test gives up on it.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What `xclip -o` prints for `target` (its default when `None`), or its error output when
/// it fails.
fn xclip_paste(xvfb: &Xvfb, target: Option<&str>) -> Result<Vec<u8>, String> {
    let mut command = Command::new("xclip");
    command.args(["-selection", "clipboard", "-o"]);
    if let Some(target) = target {
        command.args(["-t", target]);
    }
    let child = command
        .env("DISPLAY", xvfb.display())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run xclip: install it with scripts/setup.sh");
    let mut child = Reaped(child);
    let (mut out, mut err) = (child.0.stdout.take().unwrap(), child.0.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        out.read_to_end(&mut bytes).map(|_| bytes)
    });
    let status = wait_until(TIMEOUT, "xclip -o to finish", || child.0.try_wait().unwrap());
    let out = out.join().unwrap().unwrap();
    let mut error = String::new();
    err.read_to_string(&mut error).unwrap();
    if status.success() { Ok(out) } else { Err(format!("{status}: {error}")) }
}

/// The next copy `clipboard` reports.
fn next_copy(clipboard: &mut X11Clipboard, what: &str) -> ClipboardContent {
    wait_until(TIMEOUT, what, || clipboard.poll().unwrap())
}

/// A short description for messages: the format and size, not megabytes of content.
fn describe(content: &ClipboardContent) -> String {
    format!("{:?} of {} bytes", content.format(), content.len())
}

#[test]
fn text_copied_by_xclip_is_polled_exactly() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    assert_eq!(clipboard.poll().unwrap(), None);
    let text = "héllo, wörld ✓\n\ttabs, two lines\nand no final newline";
    let started = Instant::now();
    let _xclip = xclip_copy(&xvfb, &dir, None, text.as_bytes());
    let copy = next_copy(&mut clipboard, "xclip's text");
    eprintln!("{} bytes of text polled {:?} after xclip started", text.len(), started.elapsed());
    assert_eq!(copy, ClipboardContent::Text(text.into()));
    assert_eq!(clipboard.poll().unwrap(), None, "one copy, reported once");
    let stats = clipboard.stats();
    assert_eq!((stats.copies_read, stats.copies_failed, stats.last_failure), (1, 0, None));
}

#[test]
fn latin1_string_is_read_as_text() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    // xclip offers only STRING (and TARGETS): the clipboard falls back to it.
    let _xclip = xclip_copy(&xvfb, &dir, Some("STRING"), b"caf\xe9 cr\xe8me \xbd");
    assert_eq!(next_copy(&mut clipboard, "xclip's STRING"), ClipboardContent::Text("café crème ½".into()));
}

#[test]
fn text_set_here_is_pasted_by_xclip() {
    let xvfb = Xvfb::start_with(320, 240, 24);
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    let text = "from the peer: naïve € 日本\n";
    clipboard.set(ClipboardContent::Text(text.into())).unwrap();
    assert_eq!(xclip_paste(&xvfb, None).unwrap(), text.as_bytes());
    assert_eq!(xclip_paste(&xvfb, Some("UTF8_STRING")).unwrap(), text.as_bytes());
    assert_eq!(xclip_paste(&xvfb, Some("text/plain;charset=utf-8")).unwrap(), text.as_bytes());
    assert_eq!(xclip_paste(&xvfb, Some("TEXT")).unwrap(), text.as_bytes());
    assert_eq!(xclip_paste(&xvfb, Some("STRING")).unwrap(), b"from the peer: na\xefve ? ??\n", "Latin-1");
    let targets = String::from_utf8(xclip_paste(&xvfb, Some("TARGETS")).unwrap()).unwrap();
    let mut targets: Vec<&str> = targets.lines().collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        ["MULTIPLE", "STRING", "TARGETS", "TEXT", "TIMESTAMP", "UTF8_STRING", "text/plain;charset=utf-8"]
    );
    let refused = xclip_paste(&xvfb, Some("image/png"));
    assert!(refused.is_err(), "a text copy is no image: {refused:?}");
    // A newer set replaces the older.
    clipboard.set(ClipboardContent::Text("second".into())).unwrap();
    assert_eq!(xclip_paste(&xvfb, None).unwrap(), b"second");
    let stats = clipboard.stats();
    assert_eq!((stats.requests_served, stats.requests_refused), (7, 1), "{stats:?}");
    assert_eq!(clipboard.poll().unwrap(), None, "what we set is not reported back");
}

#[test]
fn png_images_are_byte_exact_both_ways() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    // A small image in one property, and one of 270 KB that we send by INCR.
    for (width, height) in [(64, 48), (300, 300)] {
        let png = png_rgb(width, height);
        let _xclip = xclip_copy(&xvfb, &dir, Some("image/png"), &png);
        let copy = next_copy(&mut clipboard, "xclip's image");
        assert!(copy == ClipboardContent::Png(png.clone()), "{width}x{height}: got {}", describe(&copy));

        let ours = png_rgb(height, width);
        clipboard.set(ClipboardContent::Png(ours.clone())).unwrap();
        let pasted = xclip_paste(&xvfb, Some("image/png")).unwrap();
        assert!(pasted == ours, "{height}x{width}: {} bytes pasted of {}", pasted.len(), ours.len());
        eprintln!("{width}x{height} PNG: {} bytes in, {} bytes out, byte-exact", png.len(), ours.len());
    }
    assert_eq!(clipboard.poll().unwrap(), None);
    assert_eq!(clipboard.stats().incr_sends, 1, "the 270 KB image");
}

#[test]
fn large_text_round_trips_by_incr() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    let text = large_text(2 << 20);
    let started = Instant::now();
    let _xclip = xclip_copy(&xvfb, &dir, None, text.as_bytes());
    let copy = next_copy(&mut clipboard, "xclip's 2 MiB text");
    let read = started.elapsed();
    assert!(copy == ClipboardContent::Text(text.clone()), "got {}", describe(&copy));

    let ours = large_text((2 << 20) + 12_345).replace('a', "ä");
    clipboard.set(ClipboardContent::Text(ours.clone())).unwrap();
    let started = Instant::now();
    let pasted = xclip_paste(&xvfb, None).unwrap();
    let served = started.elapsed();
    assert!(pasted == ours.as_bytes(), "{} bytes pasted of {}", pasted.len(), ours.len());
    eprintln!("{} bytes from xclip read in {read:?}; {} bytes served to xclip in {served:?}", text.len(), ours.len());
    let stats = clipboard.stats();
    assert_eq!((stats.copies_read, stats.copies_failed, stats.sends_failed), (1, 0, 0), "{stats:?}");
    assert_eq!((stats.incr_reads, stats.incr_sends), (1, 1), "INCR both ways: {stats:?}");
}

#[test]
fn file_lists_both_ways() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    let list = b"# two files\r\nfile:///tmp/a.txt\r\n\r\nfile:///tmp/b%20c.png\r\n";
    let _xclip = xclip_copy(&xvfb, &dir, Some("text/uri-list"), list);
    let files = vec!["file:///tmp/a.txt".to_owned(), "file:///tmp/b%20c.png".to_owned()];
    assert_eq!(next_copy(&mut clipboard, "xclip's file list"), ClipboardContent::Files(files));

    let ours = vec!["file:///home/u/report.pdf".to_owned(), "file:///home/u/%C3%A9t%C3%A9.jpg".to_owned()];
    clipboard.set(ClipboardContent::Files(ours)).unwrap();
    let pasted = xclip_paste(&xvfb, Some("text/uri-list")).unwrap();
    assert_eq!(pasted, b"file:///home/u/report.pdf\r\nfile:///home/u/%C3%A9t%C3%A9.jpg\r\n");
    assert!(xclip_paste(&xvfb, None).is_err(), "a file list is served as text/uri-list alone");
}

#[test]
fn own_copies_are_not_reported() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    for i in 0..3 {
        clipboard.set(ClipboardContent::Text(format!("ours {i}"))).unwrap();
        assert_eq!(xclip_paste(&xvfb, None).unwrap(), format!("ours {i}").as_bytes());
    }
    // Events come in order: once xclip's copy is reported, anything about ours would have
    // been reported before it.
    let _xclip = xclip_copy(&xvfb, &dir, None, b"theirs");
    assert_eq!(next_copy(&mut clipboard, "xclip's copy"), ClipboardContent::Text("theirs".into()));
    // Taking it back after a copy of theirs is not reported either.
    clipboard.set(ClipboardContent::Text("ours again".into())).unwrap();
    assert_eq!(xclip_paste(&xvfb, None).unwrap(), b"ours again");
    let _xclip = xclip_copy(&xvfb, &dir, None, b"theirs again");
    assert_eq!(next_copy(&mut clipboard, "xclip's second copy"), ClipboardContent::Text("theirs again".into()));
    assert_eq!(clipboard.poll().unwrap(), None);
    assert_eq!(clipboard.stats().copies_read, 2);
}

#[test]
fn oversized_copies_are_dropped_and_counted() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let options = X11ClipboardOptions::new().max_size(64 << 10);
    let mut clipboard = X11Clipboard::open_with(Some(xvfb.display()), &options).unwrap();
    // 100 KB comes in one property, 2 MiB by INCR: both over the limit.
    for (n, size) in [(1, 100_000), (2, 2 << 20)] {
        let _xclip = xclip_copy(&xvfb, &dir, None, large_text(size).as_bytes());
        let stats =
            wait_until(TIMEOUT, "the copy to be refused", || Some(clipboard.stats()).filter(|s| s.copies_failed == n));
        let Some(ClipboardTransferError::TooLarge { size: seen, limit }) = stats.last_failure else {
            panic!("{stats:?}");
        };
        assert!(seen > limit as u64 && limit == 64 << 10, "{seen} > {limit}");
        eprintln!("{size}-byte copy refused: {}", stats.last_failure.unwrap());
    }
    let _xclip = xclip_copy(&xvfb, &dir, None, b"small enough");
    assert_eq!(next_copy(&mut clipboard, "a small copy"), ClipboardContent::Text("small enough".into()));
    let stats = clipboard.stats();
    assert_eq!((stats.copies_read, stats.copies_failed), (1, 2));
}

#[test]
fn a_silent_owner_times_out() {
    let (xvfb, dir) = (Xvfb::start_with(320, 240, 24), TempDir::new("clipboard"));
    let timeout = Duration::from_millis(300);
    let options = X11ClipboardOptions::new().peer_timeout(timeout);
    let mut clipboard = X11Clipboard::open_with(Some(xvfb.display()), &options).unwrap();
    // A client that takes CLIPBOARD and never reads its events.
    let silent = RawClient::connect(&xvfb);
    let clipboard_atom = silent.atom("CLIPBOARD");
    silent.conn.set_selection_owner(silent.window, clipboard_atom, x11rb::CURRENT_TIME).unwrap();
    silent.conn.flush().unwrap();
    let started = Instant::now();
    let stats =
        wait_until(TIMEOUT, "the read to time out", || Some(clipboard.stats()).filter(|s| s.copies_failed == 1));
    let waited = started.elapsed();
    assert_eq!(stats.last_failure, Some(ClipboardTransferError::Timeout { waited: timeout }));
    assert!(waited >= timeout && waited < timeout + Duration::from_secs(2), "gave up after {waited:?}");
    eprintln!("silent owner dropped after {waited:?} (timeout {timeout:?})");
    let _xclip = xclip_copy(&xvfb, &dir, None, b"after the silent one");
    assert_eq!(next_copy(&mut clipboard, "the next copy"), ClipboardContent::Text("after the silent one".into()));
}

#[test]
fn a_stalled_incr_reader_is_dropped() {
    let xvfb = Xvfb::start_with(320, 240, 24);
    let timeout = Duration::from_millis(300);
    let options = X11ClipboardOptions::new().peer_timeout(timeout);
    let mut clipboard = X11Clipboard::open_with(Some(xvfb.display()), &options).unwrap();
    let text = large_text(1 << 20);
    clipboard.set(ClipboardContent::Text(text.clone())).unwrap();
    // A requestor that takes the INCR announcement and never deletes it.
    let reader = RawClient::connect(&xvfb);
    let (clipboard_atom, utf8, incr, property) =
        (reader.atom("CLIPBOARD"), reader.atom("UTF8_STRING"), reader.atom("INCR"), reader.atom("STALLED"));
    reader.conn.convert_selection(reader.window, clipboard_atom, utf8, property, x11rb::CURRENT_TIME).unwrap();
    reader.conn.flush().unwrap();
    reader.wait_for(|e| matches!(e, Event::SelectionNotify(n) if n.property == property));
    let announced =
        reader.conn.get_property(false, reader.window, property, AtomEnum::ANY, 0, 1).unwrap().reply().unwrap();
    assert_eq!(announced.type_, incr);
    assert_eq!(announced.value32().and_then(|mut v| v.next()), Some(text.len() as u32));
    // A stalled transfer holds up nothing: a new set is prompt, and the next requestor gets it.
    let started = Instant::now();
    clipboard.set(ClipboardContent::Text("newer".into())).unwrap();
    let set_took = started.elapsed();
    assert!(set_took < Duration::from_secs(1), "set took {set_took:?}");
    assert_eq!(xclip_paste(&xvfb, None).unwrap(), b"newer");
    let stats =
        wait_until(TIMEOUT, "the transfer to be dropped", || Some(clipboard.stats()).filter(|s| s.sends_failed == 1));
    assert!(
        matches!(stats.last_failure, Some(ClipboardTransferError::Stalled { requestor, .. }) if requestor == reader.window)
    );
    eprintln!("set beside a stalled INCR transfer took {set_took:?}; the transfer was dropped after {timeout:?}");
    assert_eq!(clipboard.stats().requests_served, 2);
}

#[test]
fn multiple_converts_each_pair() {
    let xvfb = Xvfb::start_with(320, 240, 24);
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    clipboard.set(ClipboardContent::Text("many at once".into())).unwrap();
    let client = RawClient::connect(&xvfb);
    let atom = |name: &str| client.atom(name);
    let (utf8, png, targets, pair) = (atom("UTF8_STRING"), atom("image/png"), atom("TARGETS"), atom("ATOM_PAIR"));
    let (p1, p2, p3, list) = (atom("P1"), atom("P2"), atom("P3"), atom("REQUESTS"));
    let pairs = [utf8, p1, png, p2, targets, p3];
    client.conn.change_property32(PropMode::REPLACE, client.window, list, pair, &pairs).unwrap();
    client
        .conn
        .convert_selection(client.window, atom("CLIPBOARD"), atom("MULTIPLE"), list, x11rb::CURRENT_TIME)
        .unwrap();
    client.conn.flush().unwrap();
    client.wait_for(|e| matches!(e, Event::SelectionNotify(n) if n.property == list));
    let answered = client.get32(list);
    assert_eq!(answered, [utf8, p1, png, x11rb::NONE, targets, p3], "image/png refused in its pair");
    let text = client.conn.get_property(false, client.window, p1, AtomEnum::ANY, 0, 100).unwrap().reply().unwrap();
    assert_eq!((text.type_, text.value.as_slice()), (utf8, b"many at once".as_slice()));
    assert!(client.get32(p3).contains(&utf8));
}

#[test]
fn a_lost_display_is_an_error() {
    let xvfb = Xvfb::start_with(320, 240, 24);
    let mut clipboard = X11Clipboard::open(Some(xvfb.display())).unwrap();
    clipboard.set(ClipboardContent::Text("before".into())).unwrap();
    drop(xvfb);
    let error = wait_until(TIMEOUT, "poll to fail", || clipboard.poll().err());
    let started = Instant::now();
    let refused = clipboard.set(ClipboardContent::Text("after".into()));
    assert!(refused.is_err() && started.elapsed() < Duration::from_secs(1), "{refused:?}");
    eprintln!("after the display went: {error}");
}

/// Text of `bytes` bytes: numbered lines (so a misplaced chunk shows), with multi-byte
/// characters that chunks split.
fn large_text(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes);
    for line in 0.. {
        let next = format!("line {line:07}: abcdefghij ✓ é ß — 0123456789\n");
        if text.len() + next.len() > bytes {
            break;
        }
        text.push_str(&next);
    }
    let pad = bytes - text.len();
    text.extend(std::iter::repeat_n('x', pad));
    text
}

/// A hand-made X client with a window of its own that gets its property changes.
struct RawClient {
    conn: RustConnection,
    window: Window,
}

impl RawClient {
    fn connect(xvfb: &Xvfb) -> Self {
        let (conn, screen) = x11rb::connect(Some(xvfb.display())).unwrap();
        let root = conn.setup().roots[screen].root;
        let window = conn.generate_id().unwrap();
        let aux = CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        conn.create_window(0, window, root, 0, 0, 1, 1, 0, WindowClass::INPUT_ONLY, 0, &aux).unwrap().check().unwrap();
        Self { conn, window }
    }

    fn atom(&self, name: &str) -> Atom {
        self.conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom
    }

    fn wait_for(&self, mut wanted: impl FnMut(&Event) -> bool) -> Event {
        wait_until(TIMEOUT, "an event", || self.conn.poll_for_event().unwrap().filter(|e| wanted(e)))
    }

    fn get32(&self, property: Atom) -> Vec<u32> {
        let reply =
            self.conn.get_property(false, self.window, property, AtomEnum::ANY, 0, 1024).unwrap().reply().unwrap();
        reply.value32().map(Iterator::collect).unwrap_or_default()
    }
}

#[test]
fn the_png_writer_matches_known_checksums() {
    // CRC-32 check value, and the IEND chunk's well-known CRC.
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(crc32(b"IEND"), 0xae42_6082);
    let png = png_rgb(2, 2);
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x02\x08\x02"));
    assert!(png.ends_with(b"IEND\xae\x42\x60\x82"));
}
