//! The X11 window tracker on a private Xvfb (no window manager): xterms and windows made on a
//! second connection are created, moved, resized, retitled, restacked, focused and closed, the
//! client's requests reach the X server, and every event the tracker gives out is accepted by
//! a client's `WindowModel`, which ends equal to what the X server says.
#![cfg(all(target_os = "linux", feature = "x11"))]

mod common;

use asp::proto::window::{
    Direction, MAX_SIDE, MAX_TITLE_LEN, MAX_WINDOWS, Rect, WindowId, WindowKind, WindowMessage, WindowModel,
    WindowState,
};
use asp::x11::{WindowRequestError, X11Windows};
use common::xvfb::{TIMEOUT, TempDir, Xvfb, wait_until};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConfigureWindowAux, ConnectionExt as _, CreateWindowAux, InputFocus, PropMode, StackMode, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT, CURRENT_TIME, NONE};

/// Gives `event` to a client's model the way it would travel: encoded, decoded, applied.
fn feed(model: &mut WindowModel, event: &WindowMessage) {
    let bytes = event.encode().unwrap_or_else(|e| panic!("{event:?} does not encode: {e}"));
    let decoded = WindowMessage::decode(&bytes, Direction::ServerToClient).expect("an event decodes");
    model.apply(&decoded).unwrap_or_else(|e| panic!("the client's model refuses {event:?}: {e}"));
    assert!(model.is_consistent(), "after {event:?}");
}

/// The tracker, and a client's model fed its snapshot and every event since.
struct Follower {
    windows: X11Windows,
    client: WindowModel,
    /// Every event polled.
    log: Vec<WindowMessage>,
    /// Where the next wait starts looking in the log.
    seen: usize,
}

impl Follower {
    fn open(display: &str) -> Self {
        let windows = X11Windows::open(Some(display)).expect("opening the tracker");
        let mut client = WindowModel::new();
        for event in windows.snapshot() {
            feed(&mut client, &event);
        }
        assert_eq!(&client, windows.model());
        Self { windows, client, log: Vec::new(), seen: 0 }
    }

    fn poll(&mut self) {
        let batch = self.windows.poll().expect("polling the tracker");
        for event in &batch {
            feed(&mut self.client, event);
        }
        assert_eq!(&self.client, self.windows.model(), "the client's model and the tracker's agree");
        self.log.extend(batch);
    }

    /// Polls until an event not yet waited for passes `want`.
    fn wait_for<T>(&mut self, what: &str, mut want: impl FnMut(&WindowMessage) -> Option<T>) -> T {
        wait_until(TIMEOUT, what, || {
            self.poll();
            let (at, found) = self.log[self.seen..].iter().enumerate().find_map(|(i, e)| Some((i, want(e)?)))?;
            self.seen += at + 1;
            eprintln!("{what}: {:?}", self.log[self.seen - 1]);
            Some(found)
        })
    }

    /// A client that joins now, fed the snapshot, agrees with one that followed all along.
    fn assert_late_client_agrees(&self) {
        let mut late = WindowModel::new();
        for event in self.windows.snapshot() {
            feed(&mut late, &event);
        }
        assert_eq!(late, self.client);
    }

    fn x_window(&self, id: WindowId) -> Window {
        self.windows.x_window(id).unwrap_or_else(|| panic!("window {id} is tracked"))
    }

    fn id_of(&self, window: Window) -> Option<WindowId> {
        self.client.windows().keys().copied().find(|&id| self.windows.x_window(id) == Some(window))
    }

    /// Polls until the client's model is what the X server says: each window's rectangle,
    /// the stacking order and the focus.
    fn wait_for_x(&mut self, conn: &RustConnection, root: Window) {
        wait_until(TIMEOUT, "the client's model to match the X server", || {
            self.poll();
            let rects_match =
                self.client.windows().iter().all(|(&id, w)| geometry(conn, self.x_window(id)) == Some(w.rect));
            let stack: Vec<WindowId> = stack(conn, root).into_iter().filter_map(|w| self.id_of(w)).collect();
            let focus = focus_top(conn, root).and_then(|w| self.id_of(w));
            (rects_match && stack == self.client.stack() && focus == self.client.focus()).then_some(())
        });
    }
}

/// A window's rectangle as the channel gives it: sides clamped to 1..=`MAX_SIDE`.
fn geometry(conn: &RustConnection, window: Window) -> Option<Rect> {
    let g = conn.get_geometry(window).ok()?.reply().ok()?;
    let side = |s: u16| u32::from(s).clamp(1, MAX_SIDE);
    Some(Rect { x: g.x.into(), y: g.y.into(), width: side(g.width), height: side(g.height) })
}

/// The root's children, bottom first.
fn stack(conn: &RustConnection, root: Window) -> Vec<Window> {
    conn.query_tree(root).unwrap().reply().unwrap().children
}

/// The root's child that has the keyboard (under the pointer when the focus is the pointer
/// root).
fn focus_top(conn: &RustConnection, root: Window) -> Option<Window> {
    let mut window = conn.get_input_focus().unwrap().reply().unwrap().focus;
    if window == NONE {
        return None;
    }
    if window == u32::from(InputFocus::POINTER_ROOT) || window == root {
        return Some(conn.query_pointer(root).unwrap().reply().unwrap().child).filter(|&c| c != NONE);
    }
    for _ in 0..64 {
        let parent = conn.query_tree(window).ok()?.reply().ok()?.parent;
        if parent == root {
            return Some(window);
        }
        window = parent;
    }
    None
}

fn atom(conn: &RustConnection, name: &str) -> Atom {
    conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom
}

/// Makes (and maps) a plain window on `conn`; `setup` sets its properties before the map.
fn make_window(
    conn: &RustConnection,
    root: Window,
    rect: Rect,
    override_redirect: bool,
    setup: impl FnOnce(Window),
) -> Window {
    let window = conn.generate_id().unwrap();
    let aux = CreateWindowAux::new().background_pixel(0x00ff_8800).override_redirect(u32::from(override_redirect));
    let (x, y) = (i16::try_from(rect.x).unwrap(), i16::try_from(rect.y).unwrap());
    let (w, h) = (u16::try_from(rect.width).unwrap(), u16::try_from(rect.height).unwrap());
    conn.create_window(
        COPY_DEPTH_FROM_PARENT,
        window,
        root,
        x,
        y,
        w,
        h,
        0,
        WindowClass::INPUT_OUTPUT,
        COPY_FROM_PARENT,
        &aux,
    )
    .unwrap();
    setup(window);
    conn.map_window(window).unwrap();
    conn.flush().unwrap();
    window
}

#[test]
fn follows_windows_and_applies_requests() {
    let xvfb = Xvfb::start();
    let dir = TempDir::new("windows");
    let go = dir.path().join("go");
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).expect("connecting to Xvfb");
    let root = conn.setup().roots[screen].root;
    let mut f = Follower::open(xvfb.display());
    assert!(f.client.windows().is_empty(), "a bare Xvfb has no windows");

    // An xterm appears with its title and rectangle.
    let script =
        format!("while [ ! -e '{}' ]; do sleep 0.05; done; printf '\\033]0;asp renamed\\007'; sleep 60", go.display());
    let mut xterm_a = xvfb.xterm("asp-windows-a", (40, 10), &script);
    let (a, rect_a) = f.wait_for("Created for xterm a", |e| match e {
        WindowMessage::Created { id, parent: 0, kind: WindowKind::Normal, rect, title } if title == "asp-windows-a" => {
            Some((*id, *rect))
        }
        _ => None,
    });
    let win_a = xvfb.wait_for_window("asp-windows-a").id;
    assert_eq!(f.x_window(a), win_a);
    assert_eq!(Some(rect_a), geometry(&conn, win_a), "Created has the window's rectangle");

    // Moved and resized from another connection.
    conn.configure_window(win_a, &ConfigureWindowAux::new().x(100).y(50)).unwrap();
    conn.flush().unwrap();
    f.wait_for("Moved", |e| (*e == WindowMessage::Moved { id: a, x: 100, y: 50 }).then_some(()));
    conn.configure_window(win_a, &ConfigureWindowAux::new().width(300).height(200)).unwrap();
    conn.flush().unwrap();
    f.wait_for("Resized", |e| (*e == WindowMessage::Resized { id: a, width: 300, height: 200 }).then_some(()));
    assert_eq!(f.client.windows()[&a].rect, Rect { x: 100, y: 50, width: 300, height: 200 });

    // Retitled: by xterm itself (OSC 0), then in UTF-8 through _NET_WM_NAME, then too long.
    std::fs::write(&go, b"").unwrap();
    f.wait_for("Retitled by xterm", |e| {
        (*e == WindowMessage::Retitled { id: a, title: "asp renamed".into() }).then_some(())
    });
    let (net_wm_name, utf8) = (atom(&conn, "_NET_WM_NAME"), atom(&conn, "UTF8_STRING"));
    conn.change_property8(PropMode::REPLACE, win_a, net_wm_name, utf8, "título ☃".as_bytes()).unwrap();
    conn.flush().unwrap();
    f.wait_for("Retitled in UTF-8", |e| {
        (*e == WindowMessage::Retitled { id: a, title: "título ☃".into() }).then_some(())
    });
    conn.change_property8(PropMode::REPLACE, win_a, net_wm_name, utf8, "€".repeat(200).as_bytes()).unwrap();
    conn.flush().unwrap();
    let long = f.wait_for("Retitled, cut", |e| match e {
        WindowMessage::Retitled { id, title } if *id == a && title.starts_with('€') => Some(title.clone()),
        _ => None,
    });
    assert_eq!(long, "€".repeat(MAX_TITLE_LEN / 3), "cut at the last whole character within the limit");

    // A second xterm comes on top; raising the first restacks.
    let mut xterm_b = xvfb.xterm("asp-windows-b", (30, 8), "sleep 60");
    let b = f.wait_for("Created for xterm b", |e| match e {
        WindowMessage::Created { id, title, .. } if title == "asp-windows-b" => Some(*id),
        _ => None,
    });
    let win_b = f.x_window(b);
    assert_eq!(f.client.stack(), [a, b]);
    conn.configure_window(win_a, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE)).unwrap();
    conn.flush().unwrap();
    f.wait_for("Restacked", |e| (*e == WindowMessage::Restacked { order: vec![b, a] }).then_some(()));

    // The X input focus.
    conn.set_input_focus(InputFocus::POINTER_ROOT, win_b, CURRENT_TIME).unwrap();
    conn.flush().unwrap();
    f.wait_for("Focused", |e| (*e == WindowMessage::Focused { id: b }).then_some(()));

    // A dialog transient for b (Latin-1 WM_NAME), a tooltip and a pop-up menu.
    let dialog_rect = Rect { x: 500, y: 300, width: 120, height: 80 };
    let win_dialog = make_window(&conn, root, dialog_rect, false, |w| {
        conn.change_property32(PropMode::REPLACE, w, AtomEnum::WM_TRANSIENT_FOR, AtomEnum::WINDOW, &[win_b]).unwrap();
        conn.change_property8(PropMode::REPLACE, w, AtomEnum::WM_NAME, AtomEnum::STRING, b"asp dialog \xe9").unwrap();
    });
    let dialog = f.wait_for("Created for the dialog", |e| match e {
        WindowMessage::Created { id, parent, kind: WindowKind::Dialog, rect, title } if title == "asp dialog é" => {
            assert_eq!((*parent, *rect), (b, dialog_rect));
            Some(*id)
        }
        _ => None,
    });
    let (window_type, tooltip_type) = (atom(&conn, "_NET_WM_WINDOW_TYPE"), atom(&conn, "_NET_WM_WINDOW_TYPE_TOOLTIP"));
    let win_tooltip = make_window(&conn, root, Rect { x: 10, y: 600, width: 90, height: 20 }, true, |w| {
        conn.change_property32(PropMode::REPLACE, w, window_type, AtomEnum::ATOM, &[tooltip_type]).unwrap();
    });
    let tooltip = f.wait_for("Created for the tooltip", |e| match e {
        WindowMessage::Created { id, kind: WindowKind::Tooltip, .. } => Some(*id),
        _ => None,
    });
    assert_eq!(f.x_window(tooltip), win_tooltip);
    let win_popup = make_window(&conn, root, Rect { x: 200, y: 600, width: 100, height: 60 }, true, |_| {});
    let popup = f.wait_for("Created for the pop-up", |e| match e {
        WindowMessage::Created { id, kind: WindowKind::Popup, .. } => Some(*id),
        _ => None,
    });
    assert_eq!(f.x_window(popup), win_popup);
    conn.unmap_window(win_popup).unwrap();
    conn.destroy_window(win_tooltip).unwrap();
    conn.flush().unwrap();
    f.wait_for("Closed for the pop-up", |e| (*e == WindowMessage::Closed { id: popup }).then_some(()));
    f.wait_for("Closed for the tooltip", |e| (*e == WindowMessage::Closed { id: tooltip }).then_some(()));

    // _NET_WM_STATE, as a window manager would set it.
    let net_wm_state = atom(&conn, "_NET_WM_STATE");
    let maximized = [atom(&conn, "_NET_WM_STATE_MAXIMIZED_VERT"), atom(&conn, "_NET_WM_STATE_MAXIMIZED_HORZ")];
    conn.change_property32(PropMode::REPLACE, win_a, net_wm_state, AtomEnum::ATOM, &maximized).unwrap();
    conn.flush().unwrap();
    f.wait_for("maximised", |e| {
        (*e == WindowMessage::StateChanged { id: a, state: WindowState::Maximized }).then_some(())
    });
    conn.delete_property(win_a, net_wm_state).unwrap();
    conn.flush().unwrap();
    f.wait_for("normal", |e| (*e == WindowMessage::StateChanged { id: a, state: WindowState::Normal }).then_some(()));
    f.wait_for_x(&conn, root);

    // The client's requests reach the X server.
    f.windows.apply(&WindowMessage::MoveRequest { id: b, x: 400, y: 300 }).unwrap();
    let at = geometry(&conn, win_b).unwrap();
    assert_eq!((at.x, at.y), (400, 300), "moved on the X server");
    f.wait_for("Moved by request", |e| (*e == WindowMessage::Moved { id: b, x: 400, y: 300 }).then_some(()));
    f.windows.apply(&WindowMessage::ResizeRequest { id: b, width: 320, height: 240 }).unwrap();
    let size = geometry(&conn, win_b).unwrap();
    assert_eq!((size.width, size.height), (320, 240), "resized on the X server");
    f.wait_for("Resized by request", |e| {
        (*e == WindowMessage::Resized { id: b, width: 320, height: 240 }).then_some(())
    });
    assert_ne!(stack(&conn, root).last(), Some(&win_b), "the dialog is above b");
    f.windows.apply(&WindowMessage::RaiseRequest { id: b }).unwrap();
    assert_eq!(stack(&conn, root).last(), Some(&win_b), "raised on the X server");
    f.wait_for("Restacked by request", |e| match e {
        WindowMessage::Restacked { order } => (order.last() == Some(&b)).then_some(()),
        _ => None,
    });
    // The dialog is now below its parent: a late client still gets the parent first.
    assert_eq!(f.client.stack(), [a, dialog, b]);
    f.assert_late_client_agrees();
    f.windows.apply(&WindowMessage::FocusRequest { id: a }).unwrap();
    assert_eq!(conn.get_input_focus().unwrap().reply().unwrap().focus, win_a, "focused on the X server");
    f.wait_for("Focused by request", |e| (*e == WindowMessage::Focused { id: a }).then_some(()));
    // With no window manager, state requests are sent but change nothing.
    f.windows.apply(&WindowMessage::StateRequest { id: a, state: WindowState::Maximized }).unwrap();

    // Requests refused.
    let refusals = [
        (WindowMessage::MoveRequest { id: 999_999, x: 0, y: 0 }, "unknown"),
        (WindowMessage::Moved { id: a, x: 0, y: 0 }, "not a request"),
        (WindowMessage::ResizeRequest { id: a, width: 0, height: 10 }, "out of range"),
        (WindowMessage::CloseRequest { id: dialog }, "cannot close"),
    ];
    for (request, why) in &refusals {
        let refused = f.windows.apply(request).unwrap_err();
        let expected = match refused {
            WindowRequestError::Unknown(999_999) => "unknown",
            WindowRequestError::NotARequest => "not a request",
            WindowRequestError::OutOfRange("width") => "out of range",
            WindowRequestError::CannotClose(id) if id == dialog => "cannot close",
            ref other => panic!("{request:?} refused for the wrong reason: {other}"),
        };
        assert_eq!(expected, *why);
    }
    f.wait_for_x(&conn, root);

    // Closing b through WM_DELETE_WINDOW ends that xterm; its dialog closes with it in the
    // protocol and, still on the screen, comes back as a window of its own.
    f.windows.apply(&WindowMessage::CloseRequest { id: b }).unwrap();
    f.wait_for("Closed for b", |e| (*e == WindowMessage::Closed { id: b }).then_some(()));
    wait_until(TIMEOUT, "xterm b to exit", || (!xterm_b.is_running()).then_some(()));
    assert!(!f.client.windows().contains_key(&dialog));
    let dialog_again = f.wait_for("the dialog again", |e| match e {
        WindowMessage::Created { id, parent: 0, kind: WindowKind::Dialog, .. } => Some(*id),
        _ => None,
    });
    assert_ne!(dialog_again, dialog);
    assert_eq!(f.x_window(dialog_again), win_dialog);
    xterm_a.assert_running();
    f.windows.apply(&WindowMessage::CloseRequest { id: a }).unwrap();
    f.wait_for("Closed for a", |e| (*e == WindowMessage::Closed { id: a }).then_some(()));
    wait_until(TIMEOUT, "xterm a to exit", || (!xterm_a.is_running()).then_some(()));

    // The end: the client's model is the X server's picture, and a late client's too.
    f.wait_for_x(&conn, root);
    assert_eq!(f.client.stack(), [dialog_again]);
    f.assert_late_client_agrees();
    let stats = f.windows.stats();
    eprintln!("{} events: {:?}; {stats:?}", f.log.len(), f.log);
    assert_eq!(stats.events_emitted, f.log.len() as u64);
    assert_eq!((stats.requests_applied, stats.requests_refused, stats.windows_ignored), (7, 4, 0));
}

#[test]
fn at_most_max_windows_are_tracked() {
    let xvfb = Xvfb::start_with(640, 480, 24);
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).expect("connecting to Xvfb");
    let root = conn.setup().roots[screen].root;
    let mut f = Follower::open(xvfb.display());
    // The first is wider than the channel allows.
    let wide = make_window(&conn, root, Rect { x: -100, y: 0, width: 20_000, height: 10 }, false, |_| {});
    let extra = 4;
    let mut made = vec![wide];
    for i in 1..MAX_WINDOWS + extra {
        let rect = Rect { x: (i % 60 * 10) as i32, y: (i / 60 * 10) as i32, width: 8, height: 8 };
        made.push(make_window(&conn, root, rect, false, |_| {}));
    }
    wait_until(TIMEOUT, "the tracker to take what it can", || {
        f.poll();
        (f.client.windows().len() == MAX_WINDOWS && f.windows.stats().windows_ignored == extra as u64).then_some(())
    });
    let wide_id = f.id_of(wide).expect("the first window is tracked");
    assert_eq!(f.client.windows()[&wide_id].rect, Rect { x: -100, y: 0, width: MAX_SIDE, height: 10 });
    assert!(made[MAX_WINDOWS..].iter().all(|&w| f.id_of(w).is_none()), "the last ones are ignored");
    f.wait_for_x(&conn, root);
    for window in made {
        conn.destroy_window(window).unwrap();
    }
    conn.flush().unwrap();
    wait_until(TIMEOUT, "every window closed", || {
        f.poll();
        f.client.windows().is_empty().then_some(())
    });
    let closed = f.log.iter().filter(|e| matches!(e, WindowMessage::Closed { .. })).count();
    assert_eq!(closed, MAX_WINDOWS);
}

/// What a reparenting window manager does, played on a second connection: the application's
/// window (with `WM_STATE`) inside a frame, iconified and restored, then withdrawn.
#[test]
fn follows_client_windows_inside_frames() {
    let xvfb = Xvfb::start_with(640, 480, 24);
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).expect("connecting to Xvfb");
    let root = conn.setup().roots[screen].root;
    let mut f = Follower::open(xvfb.display());
    let wm_state = atom(&conn, "WM_STATE");
    let set_state = |window: Window, state: u32| {
        conn.change_property32(PropMode::REPLACE, window, wm_state, wm_state, &[state, NONE]).unwrap();
    };
    let frame_rect = Rect { x: 40, y: 30, width: 220, height: 180 };
    let (mut client, mut decoration) = (NONE, NONE);
    let frame = make_window(&conn, root, frame_rect, false, |frame| {
        // A decoration window first, then the client: the search must pass over the first.
        decoration = make_window(&conn, frame, Rect { x: 0, y: 0, width: 220, height: 20 }, false, |_| {});
        client = make_window(&conn, frame, Rect { x: 0, y: 20, width: 220, height: 160 }, false, |client| {
            conn.change_property8(PropMode::REPLACE, client, AtomEnum::WM_NAME, AtomEnum::STRING, b"framed").unwrap();
            set_state(client, 1);
        });
    });
    let id = f.wait_for("Created for the framed window", |e| match e {
        WindowMessage::Created { id, rect, title, .. } if title == "framed" => {
            assert_eq!(*rect, frame_rect, "the frame's rectangle");
            Some(*id)
        }
        _ => None,
    });
    assert_eq!(f.x_window(id), frame);
    assert_ne!(decoration, NONE);
    conn.change_property8(PropMode::REPLACE, client, AtomEnum::WM_NAME, AtomEnum::STRING, b"framed 2").unwrap();
    conn.flush().unwrap();
    f.wait_for("Retitled from the client window", |e| {
        (*e == WindowMessage::Retitled { id, title: "framed 2".into() }).then_some(())
    });

    // Iconified: WM_STATE iconic, then the frame unmapped; the window stays, minimised.
    set_state(client, 3);
    conn.unmap_window(frame).unwrap();
    conn.flush().unwrap();
    f.wait_for("minimised", |e| {
        (*e == WindowMessage::StateChanged { id, state: WindowState::Minimized }).then_some(())
    });
    f.wait_for_x(&conn, root);
    assert!(f.client.windows().contains_key(&id), "an iconified window is not closed");
    conn.map_window(frame).unwrap();
    set_state(client, 1);
    conn.flush().unwrap();
    f.wait_for("restored", |e| (*e == WindowMessage::StateChanged { id, state: WindowState::Normal }).then_some(()));

    // Withdrawn while iconic: closed.
    set_state(client, 3);
    conn.unmap_window(frame).unwrap();
    conn.flush().unwrap();
    f.wait_for("minimised again", |e| {
        (*e == WindowMessage::StateChanged { id, state: WindowState::Minimized }).then_some(())
    });
    conn.delete_property(client, wm_state).unwrap();
    conn.flush().unwrap();
    f.wait_for("Closed when withdrawn", |e| (*e == WindowMessage::Closed { id }).then_some(()));
    f.wait_for_x(&conn, root);
    assert!(f.client.windows().is_empty());
}
