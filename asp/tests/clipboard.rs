//! The clipboard channels end to end on loopback: copies of text, images and file lists cross
//! both ways whole, a large copy shares the link with a running display, and the server holds
//! the client to its policy whatever the client claims.
#![allow(clippy::disallowed_methods)] // bounded waits on the wall clock

use std::time::{Duration, Instant};

use asp::client::ClientConfig;
use asp::clipboard::{ClipboardContent, ClipboardDirection, ClipboardFormat, ClipboardPolicy, SharedClipboard};
use asp::loopback::{Loopback, LoopbackOptions};
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::source::synth::SynthSource;
use asp_codec::synth::SourceKind;

async fn pair(policy: ClipboardPolicy) -> (Loopback, SharedClipboard, SharedClipboard) {
    let (source, injector) = SynthSource::new(SourceKind::Office, 320, 240, 1).unwrap();
    let mut pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 30, clipboard: policy, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let (server_clip, client_clip) = (SharedClipboard::new(), SharedClipboard::new());
    pair.server.attach_clipboard(Box::new(server_clip.clone())).unwrap();
    pair.client.attach_clipboard(Box::new(client_clip.clone())).unwrap();
    (pair, server_clip, client_clip)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn png(len: usize) -> Vec<u8> {
    let mut p = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    p.extend((0..len - 8).map(|i| (i * 31 % 251) as u8));
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_cross_both_ways() {
    let (pair, server_clip, client_clip) = pair(ClipboardPolicy::default()).await;
    let copies = [
        ClipboardContent::Text("héllo from the client".into()),
        ClipboardContent::Png(png(200_000)),
        ClipboardContent::Files(vec!["file:///home/u/report.pdf".into(), "file:///tmp/x%20y.txt".into()]),
    ];
    for (i, copy) in copies.iter().enumerate() {
        client_clip.lock().copy(copy.clone());
        wait_for("the client's copy on the server", || server_clip.lock().pasted().len() > i).await;
        assert_eq!(&server_clip.lock().pasted()[i], copy);
        server_clip.lock().copy(copy.clone());
        wait_for("the server's copy on the client", || client_clip.lock().pasted().len() > i).await;
        assert_eq!(&client_clip.lock().pasted()[i], copy);
    }
    let (server, client) = pair.stop().await;
    assert_eq!((server.clipboard.sent, server.clipboard.received, server.clipboard.refused), (3, 3, 0));
    assert_eq!((client.clipboard.sent, client.clipboard.received), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_copy_shares_the_link_with_the_display() {
    let (pair, server_clip, client_clip) = pair(ClipboardPolicy::default()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = pair.client.stats().frames_shown;
    let big = ClipboardContent::Png(png(12 << 20));
    let started = Instant::now();
    server_clip.lock().copy(big.clone());
    wait_for("the 12 MiB copy", || !client_clip.lock().pasted().is_empty()).await;
    let took = started.elapsed();
    let during = pair.client.stats().frames_shown - before;
    assert_eq!(client_clip.lock().pasted()[0], big, "byte for byte");
    eprintln!("12 MiB copy in {took:?}; {during} frames shown meanwhile");
    assert!(during > 0, "the display kept going during the copy");
    pair.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_enforces_its_policy() {
    let policy = ClipboardPolicy {
        direction: ClipboardDirection::ServerToClient,
        formats: vec![ClipboardFormat::Text],
        max_bytes: 1024,
    };
    let (pair, server_clip, client_clip) = pair(policy).await;
    client_clip.lock().copy(ClipboardContent::Text("the client may not copy to the server".into()));
    wait_for("the refusal", || pair.client.stats().clipboard.refused_by_peer == 1).await;
    server_clip.lock().copy(ClipboardContent::Png(png(100)));
    server_clip.lock().copy(ClipboardContent::Text("x".repeat(2000)));
    server_clip.lock().copy(ClipboardContent::Text("allowed".into()));
    wait_for("the allowed copy", || !client_clip.lock().pasted().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (server, client) = pair.stop().await;
    assert!(server_clip.lock().pasted().is_empty(), "nothing reached the server");
    assert_eq!(client_clip.lock().pasted(), [ClipboardContent::Text("allowed".into())]);
    assert_eq!((server.clipboard.refused, server.clipboard.withheld), (1, 2));
    let reason = client.clipboard.last_refusal.clone().unwrap();
    assert!(reason.contains("does not allow copies this way"), "{reason}");
    eprintln!("server: {:?}\nclient: {:?}", server.clipboard, client.clipboard);
}
