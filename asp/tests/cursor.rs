//! The cursor channels end to end on loopback: the pointer follows the client's input apart
//! from the picture, its shape crosses once however often it moves, and a state that arrives
//! before its shape waits for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asp::client::ClientConfig;
use asp::cursor::CursorUpdate;
use asp::loopback::{Loopback, LoopbackOptions};
use asp::proto::input::InputEvent;
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::source::synth::{SYNTH_ARROW_ID, SynthSource};
use asp_codec::synth::SourceKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shape_crosses_once_for_many_moves() {
    let (source, injector) = SynthSource::new(SourceKind::Idle, 640, 360, 1).unwrap();
    let pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 30, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let updates: Arc<Mutex<Vec<CursorUpdate>>> = Arc::default();
    let log = updates.clone();
    pair.client.set_cursor_sink(Box::new(move |u: &CursorUpdate| log.lock().unwrap().push(u.clone())));
    let moves = 200u32;
    for i in 0..moves {
        pair.client.send_input(InputEvent::PointerMove { x: 10 + i * 3, y: 20 + i }).unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (server, client) = pair.stop().await;
    let updates = updates.lock().unwrap();
    eprintln!(
        "server: {} shape(s), {} states sent; client: {:?}; {} updates seen",
        server.cursor_shapes_sent,
        server.cursor_states_sent,
        client.cursor,
        updates.len()
    );
    assert!(server.pipeline_errors.is_empty(), "{:?}", server.pipeline_errors);
    assert_eq!(server.cursor_shapes_sent, 1, "the arrow is sent once");
    assert_eq!(client.cursor.shapes, 1);
    assert_eq!(client.cursor.bad_messages, 0);
    // Sampled at 125 Hz while the pointer moved every 5 ms for a second: dozens of states, and
    // the latest-wins channel may drop superseded ones, never the newest.
    assert!(server.cursor_states_sent >= 50, "{} states", server.cursor_states_sent);
    assert!(updates.len() >= 50, "{} updates", updates.len());
    let last = updates.last().unwrap();
    let (lx, ly) = (10 + (moves - 1) * 3, 20 + moves - 1);
    assert_eq!((last.state.x, last.state.y), (i32::try_from(lx).unwrap(), i32::try_from(ly).unwrap()));
    assert!(updates.iter().all(|u| u.state.shape_id == SYNTH_ARROW_ID && u.state.visible));
    assert!(updates.iter().all(|u| Arc::ptr_eq(&u.shape, &updates[0].shape)), "one shared shape");
    assert_eq!(updates.iter().filter(|u| u.shape_changed).count(), 1, "the shape changed once: at the start");
    // Before any move the pointer is in the middle of the screen; that state may show first,
    // or be superseded while its shape is still on its way (a state waits for its shape, and
    // the newest waiting state wins). After it, the moves arrive in order.
    let moves: Vec<_> = updates.iter().skip_while(|u| (u.state.x, u.state.y) == (320, 180)).collect();
    assert!(moves.windows(2).all(|w| w[0].state.x <= w[1].state.x), "positions arrive in order");
}
