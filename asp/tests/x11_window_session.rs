//! Window management through a whole session on a private Xvfb: the server follows the
//! display's windows with `X11Windows`; the client's model gets a window opened before it
//! joined (the snapshot) and one opened later, sees them move, and its requests (move, raise,
//! close) are carried out on the X server, checked there; a request for a window that does
//! not exist is refused and said so in the figures.
#![cfg(all(target_os = "linux", feature = "x11"))]

mod common;

use asp::client::ClientConfig;
use asp::loopback::{Loopback, LoopbackOptions};
use asp::proto::window::{WindowId, WindowMessage, WindowModel};
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::x11::X11Windows;
use common::xvfb::{Xvfb, find_window, wait_for};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConfigureWindowAux, ConnectionExt};

fn titled(model: &WindowModel, title: &str) -> Option<WindowId> {
    model.windows().iter().find(|(_, w)| w.title == title).map(|(&id, _)| id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_follows_and_moves_the_remote_windows() {
    let xvfb = Xvfb::start_with(800, 600, 24);
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).unwrap();
    let root = conn.setup().roots[screen].root;
    let _first = xvfb.xterm("asp-window-one", (40, 10), "sleep 60");
    let one_x = xvfb.wait_for_window("asp-window-one").id;

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
    pair.server.attach_windows(Box::new(X11Windows::open(Some(xvfb.display())).unwrap())).unwrap();

    // Opened before the client joined: it comes in the snapshot.
    let one = wait_for("the first window at the client", || titled(&pair.client.windows(), "asp-window-one")).await;
    // Opened during the session, and moved by the application's side (another X client).
    let mut second = xvfb.xterm("asp-window-two", (30, 8), "sleep 60");
    let two_x = xvfb.wait_for_window("asp-window-two").id;
    let two = wait_for("the second window at the client", || titled(&pair.client.windows(), "asp-window-two")).await;
    conn.configure_window(two_x, &ConfigureWindowAux::new().x(300).y(250)).unwrap();
    conn.flush().unwrap();
    wait_for("the second window's move at the client", || {
        let rect = pair.client.windows().windows().get(&two)?.rect;
        (rect.x, rect.y).eq(&(300, 250)).then_some(())
    })
    .await;

    // The client moves the first window and raises it: done on the X server, and the events
    // come back to the model.
    pair.client.request_window(&WindowMessage::MoveRequest { id: one, x: 120, y: 90 }).unwrap();
    pair.client.request_window(&WindowMessage::RaiseRequest { id: one }).unwrap();
    wait_for("the first window moved and on top at the client", || {
        let model = pair.client.windows();
        let rect = model.windows().get(&one)?.rect;
        ((rect.x, rect.y) == (120, 90) && model.stack().last() == Some(&one)).then_some(())
    })
    .await;
    let geometry = conn.get_geometry(one_x).unwrap().reply().unwrap();
    assert_eq!((geometry.x, geometry.y), (120, 90), "the X server moved the window");
    let tree = conn.query_tree(root).unwrap().reply().unwrap();
    let (at_one, at_two) =
        (tree.children.iter().position(|&w| w == one_x), tree.children.iter().position(|&w| w == two_x));
    assert!(at_one > at_two, "the X server raised the first window above the second");

    // A request for a window that does not exist is refused, and the figures say so.
    pair.client.request_window(&WindowMessage::CloseRequest { id: 9999 }).unwrap();
    // An event is not a request: refused before it leaves.
    assert!(pair.client.request_window(&WindowMessage::Closed { id: one }).is_err());
    // The client closes the second window: xterm takes WM_DELETE_WINDOW and exits.
    pair.client.request_window(&WindowMessage::CloseRequest { id: two }).unwrap();
    wait_for("the second window gone at the client", || {
        (titled(&pair.client.windows(), "asp-window-two").is_none()).then_some(())
    })
    .await;
    wait_for("the second xterm to exit", || (!second.is_running()).then_some(())).await;
    assert!(find_window(&conn, root, "asp-window-two").is_none());

    let model = pair.client.windows();
    let (server, client) = pair.stop().await;
    eprintln!("server {:?}\nclient {:?}", server.windows, client.windows);
    assert!(model.is_consistent());
    assert_eq!(model.windows().len(), 1, "{model:?}");
    assert_eq!(client.windows.refused, 0, "the client's model took every event: {:?}", client.windows);
    assert_eq!(client.windows.events, server.windows.events, "every event sent was applied");
    assert_eq!((client.windows.requests, server.windows.requests), (4, 4));
    assert_eq!((server.windows.requests_applied, server.windows.requests_refused), (3, 1));
    let why = server.windows.last_refusal.unwrap_or_default();
    assert!(why.contains("9999"), "the refusal names the window: {why}");
    assert!(server.windows.error.is_none());
}
