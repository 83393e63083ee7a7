//! The whole pipeline on loopback: a synthetic scene captured, encoded, carried over QUIC and
//! TLS/TCP, decoded; input sent back and answered; latency measured on the way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use asp::client::ClientConfig;
use asp::loopback::{Loopback, LoopbackOptions};
use asp::proto::input::InputEvent;
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::source::synth::SynthSource;
use asp_codec::synth::SourceKind;
use asp_transport::select::Carrier;

async fn run(carrier: Carrier) {
    let (source, injector) = SynthSource::new(SourceKind::Office, 640, 360, 3).unwrap();
    let shown = Arc::new(AtomicU64::new(0));
    let seen = shown.clone();
    let sink = move |frame: &DecodedFrame| {
        assert_eq!((frame.image.width, frame.image.height), (640, 360));
        seen.fetch_add(1, Ordering::Relaxed);
    };
    let config = ServerConfig { frame_rate: 30, ..ServerConfig::default() };
    let options = LoopbackOptions { carrier, ..LoopbackOptions::default() };
    let pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(sink),
        config,
        ClientConfig::default(),
        options,
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let clicks = 10;
    for i in 0..clicks {
        pair.client.send_input(InputEvent::Button { button: 1, down: true }).unwrap();
        pair.client.send_input(InputEvent::Button { button: 1, down: false }).unwrap();
        pair.client.send_input(InputEvent::PointerMove { x: 100 + i * 10, y: 200 }).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (server, client) = pair.stop().await;
    eprintln!("{carrier:?}: server {server:?}\nclient {client:?}");
    assert!(server.pipeline_errors.is_empty(), "{:?}", server.pipeline_errors);
    assert_eq!(server.input_events, u64::from(clicks) * 3, "every input event applied, none lost");
    assert_eq!(server.input_inject_errors + server.input_bad_messages, 0);
    assert!(client.frames_shown >= 30, "only {} frames shown in 2.5 s", client.frames_shown);
    assert_eq!(client.frames_shown, shown.load(Ordering::Relaxed));
    assert_eq!(client.decode_errors, 0);
    assert!(client.glass_to_glass.count > 0, "glass-to-glass measured");
    assert!(client.glass_to_glass.p50 > 0.0 && client.glass_to_glass.p50 < 1000.0);
    assert_eq!(client.click_to_photon.count, u64::from(clicks) * 3, "every input answered by a picture");
    let (offset, error) = client.clock_offset_us.unwrap();
    assert!(offset.abs() <= 2_000 && error < 2_000, "same clock: offset {offset} µs ± {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_scene_over_quic_with_input() {
    run(Carrier::Quic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_scene_over_tcp_with_input() {
    run(Carrier::Tcp).await;
}
