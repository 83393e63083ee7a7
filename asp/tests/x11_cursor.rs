//! The X11 pointer through XFixes on a private Xvfb: positions follow XTEST motion, the shape
//! changes between the root window and an xterm, and across the whole pipeline each shape
//! crosses once however often the pointer goes back and forth.
#![cfg(all(target_os = "linux", feature = "x11"))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asp::client::ClientConfig;
use asp::cursor::{CursorSource, CursorUpdate};
use asp::loopback::{Loopback, LoopbackOptions};
use asp::proto::input::InputEvent;
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::source::InputInjector;
use asp::x11::X11Cursor;
use common::xvfb::{TIMEOUT, Xvfb, wait_until};

#[test]
fn positions_and_shapes_follow_the_pointer() {
    let xvfb = Xvfb::start_with(640, 480, 24);
    let mut xterm = xvfb.xterm("asp-cursor-test", (40, 10), "sleep 60");
    let window = xvfb.wait_for_window("asp-cursor-test");
    let (_, mut injector) = asp::x11::open(Some(xvfb.display())).unwrap();
    let mut cursor = X11Cursor::open(Some(xvfb.display()), (0, 0)).unwrap();

    let outside = (window.x + window.width + 40, window.y + window.height + 40);
    injector.inject(1, &InputEvent::PointerMove { x: outside.0, y: outside.1 }).unwrap();
    let root = wait_until(TIMEOUT, "the pointer outside the xterm", || {
        let s = cursor.sample().unwrap();
        (s.state.x == outside.0 as i32 && s.state.y == outside.1 as i32).then_some(s)
    });
    let (cx, cy) = window.centre();
    injector.inject(2, &InputEvent::PointerMove { x: cx, y: cy }).unwrap();
    let inside = wait_until(TIMEOUT, "the pointer over the xterm", || {
        let s = cursor.sample().unwrap();
        (s.state.x == cx as i32 && s.state.y == cy as i32).then_some(s)
    });
    xterm.assert_running();
    assert!(root.state.visible && inside.state.visible);
    assert_ne!(root.state.shape_id, inside.state.shape_id, "the xterm has a cursor of its own");
    let shape = cursor.shape(inside.state.shape_id).unwrap().expect("the shape of the current cursor");
    assert!(shape.width > 0 && shape.height > 0 && shape.hot_x < shape.width && shape.hot_y < shape.height);
    assert!(shape.rgba.chunks(4).any(|p| p[3] == 255), "the cursor has opaque pixels");
    eprintln!(
        "root cursor id {:#x}, xterm cursor id {:#x}: {}x{} hot ({}, {})",
        root.state.shape_id, inside.state.shape_id, shape.width, shape.height, shape.hot_x, shape.hot_y
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_x11_shape_crosses_once() {
    let xvfb = Xvfb::start_with(640, 480, 24);
    let mut xterm = xvfb.xterm("asp-cursor-pipeline", (40, 10), "sleep 60");
    let window = xvfb.wait_for_window("asp-cursor-pipeline");
    let (capture, injector) = asp::x11::open(Some(xvfb.display())).unwrap();
    let pair = Loopback::start(
        Box::new(capture),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 15, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let updates: Arc<Mutex<Vec<CursorUpdate>>> = Arc::default();
    let log = updates.clone();
    pair.client.set_cursor_sink(Box::new(move |u: &CursorUpdate| log.lock().unwrap().push(u.clone())));
    let (cx, cy) = window.centre();
    let outside = (window.x + window.width + 40, window.y + window.height + 40);
    let trips = 10;
    for i in 0..trips {
        for step in 0..5 {
            pair.client.send_input(InputEvent::PointerMove { x: cx + step, y: cy }).unwrap();
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        pair.client.send_input(InputEvent::PointerMove { x: outside.0 + i, y: outside.1 }).unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (server, client) = pair.stop().await;
    xterm.assert_running();
    let updates = updates.lock().unwrap();
    let changes = updates.iter().filter(|u| u.shape_changed).count();
    eprintln!(
        "server: {} shapes, {} states sent; client {:?}; {} updates, {changes} shape changes",
        server.cursor_shapes_sent,
        server.cursor_states_sent,
        client.cursor,
        updates.len()
    );
    assert_eq!(server.cursor_unavailable, None);
    assert_eq!(server.cursor_shapes_sent, 2, "the root's and the xterm's cursor, once each");
    assert_eq!(client.cursor.shapes, 2);
    // Every crossing changes the shape; a state superseded on its way (latest wins) may hide
    // one, so at least half of them must be seen.
    assert!(changes >= trips as usize, "the shape changed on the crossings ({changes} of {})", 2 * trips);
    let last = updates.last().unwrap();
    assert_eq!((last.state.x, last.state.y), ((outside.0 + trips - 1) as i32, outside.1 as i32));
}
