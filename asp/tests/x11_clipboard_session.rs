//! The clipboard of a real X desktop through a session: copies made with `xclip` on the
//! server's Xvfb (text, a PNG image) reach the client's clipboard, and the client's copies are
//! what `xclip -o` pastes there, byte for byte.
#![cfg(all(target_os = "linux", feature = "x11"))]
#![allow(clippy::disallowed_methods)] // bounded waits on the wall clock

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use asp::client::ClientConfig;
use asp::clipboard::{ClipboardContent, SharedClipboard};
use asp::loopback::{Loopback, LoopbackOptions};
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use common::xvfb::{Xvfb, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xclip_on_the_server_desktop_and_the_client_clipboard() {
    let xvfb = Xvfb::start_with(320, 240, 24);
    let (capture, injector) = asp::x11::open(Some(xvfb.display())).unwrap();
    let mut pair = Loopback::start(
        Box::new(capture),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 10, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let client_clip = SharedClipboard::new();
    pair.client.attach_clipboard(Box::new(client_clip.clone())).unwrap();

    // Server desktop to client: xclip owns CLIPBOARD on the server's display.
    let text = "copied on the remote desktop ✓";
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .env("DISPLAY", xvfb.display())
        .stdin(Stdio::piped())
        .spawn()
        .expect("xclip (scripts/setup.sh installs it)");
    xclip.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    assert!(xclip.wait().unwrap().success());
    let got = wait_for("the remote copy on the client", || client_clip.lock().pasted().first().cloned()).await;
    assert_eq!(got, ClipboardContent::Text(text.into()));

    // Client to server desktop: what xclip pastes there.
    let back = "typed on the thin client";
    client_clip.lock().copy(ClipboardContent::Text(back.into()));
    wait_for("the client's copy in xclip -o", || {
        let out = Command::new("xclip")
            .args(["-selection", "clipboard", "-o"])
            .env("DISPLAY", xvfb.display())
            .output()
            .ok()?;
        (String::from_utf8_lossy(&out.stdout) == back).then_some(())
    })
    .await;
    // An image each way: xclip's PNG to the client, the client's PNG to xclip.
    let remote_png = common::png::png_rgb(120, 80);
    let mut xclip = Command::new("xclip")
        .args(["-selection", "clipboard", "-t", "image/png", "-i"])
        .env("DISPLAY", xvfb.display())
        .stdin(Stdio::piped())
        .spawn()
        .expect("xclip");
    xclip.stdin.take().unwrap().write_all(&remote_png).unwrap();
    assert!(xclip.wait().unwrap().success());
    let got = wait_for("the remote image on the client", || client_clip.lock().pasted().get(1).cloned()).await;
    assert_eq!(got, ClipboardContent::Png(remote_png), "byte for byte");
    let local_png = common::png::png_rgb(64, 200);
    client_clip.lock().copy(ClipboardContent::Png(local_png.clone()));
    wait_for("the client's image in xclip -o", || {
        let out = Command::new("xclip")
            .args(["-selection", "clipboard", "-t", "image/png", "-o"])
            .env("DISPLAY", xvfb.display())
            .output()
            .ok()?;
        (out.stdout == local_png).then_some(())
    })
    .await;

    let (server, client) = pair.stop().await;
    assert_eq!(server.clipboard_unavailable, None);
    assert_eq!((server.clipboard.sent, server.clipboard.received), (2, 2));
    assert_eq!((client.clipboard.sent, client.clipboard.received), (2, 2));
}
