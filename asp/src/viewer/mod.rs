//! A window that shows a client's stream and sends its keyboard and mouse back (feature
//! `viewer`: winit and softbuffer).
//!
//! ```text
//! decode thread ──ViewerSink──> slot (newest wins) ──EventLoopProxy wake──> event loop (main thread)
//!                                                                            convert, scale, present
//! window keyboard / mouse ──keysyms, stream pixels──> ClientSession::send_input
//! ```
//!
//! The decode thread never waits for the window: [`ViewerSink`] puts each picture in a
//! one-picture slot, replacing one the window has not drawn yet, and wakes the event loop
//! once. The window converts only the picture it draws (I420 or I444 to `0RGB`), fits it to
//! its size keeping the aspect (nearest neighbour; a window of the stream's size shows it
//! 1:1), and maps the pointer back to stream pixels. Keys are sent as keysyms
//! ([`keys::keysym`]); a key is released with the keysym it was pressed with, and keys still
//! held when the window loses the focus are released. Auto-repeat is left to the server's
//! display (the key stays down there), so the client's repeats are not sent. The title shows
//! the frame rate the window draws at and the glass-to-glass median.
//!
//! ```no_run
//! # async fn start(sink: asp::viewer::ViewerSink) -> asp::client::ClientSession { unreachable!() }
//! let runtime = tokio::runtime::Runtime::new()?;
//! let viewer = asp::viewer::Viewer::new()?; // on the main thread
//! let client = runtime.block_on(start(viewer.sink())); // ClientSession::start with this sink
//! let summary = viewer.run(&client, &asp::viewer::ViewerOptions::new("asp example"))?;
//! println!("{} pictures drawn", summary.frames_drawn);
//! runtime.block_on(client.stop());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! On Linux only the X11 backends are built; Wayland sessions run the viewer through XWayland.

pub mod keys;
pub mod picture;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::{ElementState, KeyEvent, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::keyboard::PhysicalKey;
use winit::window::{CustomCursor, Window, WindowId};

use crate::client::ClientSession;
use crate::clock::Clock;
use crate::cursor::{CursorSink, CursorUpdate};
use crate::proto::input::InputEvent;
use crate::sink::{DecodedFrame, FrameSink};
use picture::Placement;

/// How often the title's figures are refreshed, and the end conditions checked.
const TICK: Duration = Duration::from_millis(500);
/// Pixels of a touchpad's scroll that make one wheel step.
const PIXELS_PER_STEP: f64 = 40.0;

/// Why the viewer could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ViewerError {
    /// No event loop: no display to open (`$DISPLAY` unset or refused), or not on the main
    /// thread, or one was made already in this process.
    #[error("cannot open the display: {0}")]
    EventLoop(String),
    /// The window or its drawing surface could not be made.
    #[error("cannot create the window: {0}")]
    Window(String),
}

/// What wakes the event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// A new picture is in the slot.
    Frame,
    /// The stream ended.
    Ended,
    /// The server's pointer changed.
    Cursor,
}

/// The newest decoded picture, waiting for the window.
#[derive(Debug, Default)]
struct Slot {
    frame: Mutex<Option<DecodedFrame>>,
    /// A wake-up is on its way: the decode thread sends no second one.
    woken: AtomicBool,
}

impl Slot {
    fn take(&self) -> Option<DecodedFrame> {
        self.woken.store(false, Ordering::Release);
        self.frame.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The [`FrameSink`] that feeds a [`Viewer`]'s window; give it to the client.
#[derive(Debug)]
pub struct ViewerSink {
    slot: Arc<Slot>,
    proxy: EventLoopProxy<Wake>,
}

impl FrameSink for ViewerSink {
    fn show(&mut self, frame: &DecodedFrame) {
        *self.slot.frame.lock().unwrap_or_else(PoisonError::into_inner) = Some(frame.clone());
        if !self.slot.woken.swap(true, Ordering::AcqRel) {
            // Fails only once the event loop is gone: nobody is watching.
            let _ = self.proxy.send_event(Wake::Frame);
        }
    }

    fn finish(&mut self) {
        let _ = self.proxy.send_event(Wake::Ended);
    }
}

/// Hands the server's pointer to the window: the newest update in a slot, and a wake-up.
struct CursorToWindow {
    slot: Arc<Mutex<Option<CursorUpdate>>>,
    proxy: EventLoopProxy<Wake>,
}

impl CursorSink for CursorToWindow {
    fn update(&mut self, update: &CursorUpdate) {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        // A shape change must not be lost to a later move: keep the flag until it is taken.
        let shape_changed = update.shape_changed || slot.as_ref().is_some_and(|u| u.shape_changed);
        *slot = Some(CursorUpdate { shape_changed, ..update.clone() });
        let _ = self.proxy.send_event(Wake::Cursor);
    }
}

/// How the viewer runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerOptions {
    /// The start of the window's title (the figures follow it). Keep it ASCII: X11's
    /// `WM_NAME` is Latin-1.
    pub title: String,
    /// Close the window after this long.
    pub run_for: Option<Duration>,
}

impl ViewerOptions {
    /// A window titled `title`, open until closed.
    #[must_use]
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), run_for: None }
    }
}

/// Why the window closed, and what it drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerSummary {
    /// Pictures drawn in the window (fewer than the client decoded when the window was
    /// slower than the stream: the newest wins).
    pub frames_drawn: u64,
    /// Input events sent.
    pub inputs_sent: u64,
    /// The user closed the window (not the time limit, nor the session's end).
    pub closed_by_user: bool,
}

/// The window's event loop, made before the client starts so that the client's sink can
/// wake it.
#[derive(Debug)]
pub struct Viewer {
    event_loop: EventLoop<Wake>,
    slot: Arc<Slot>,
}

impl Viewer {
    /// Opens the display's event loop. Call it on the main thread, once per process.
    ///
    /// # Errors
    /// [`ViewerError::EventLoop`] when there is no display, or this is not the main thread.
    pub fn new() -> Result<Self, ViewerError> {
        let event_loop =
            EventLoop::<Wake>::with_user_event().build().map_err(|e| ViewerError::EventLoop(e.to_string()))?;
        Ok(Self { event_loop, slot: Arc::default() })
    }

    /// The sink to start the client with.
    #[must_use]
    pub fn sink(&self) -> ViewerSink {
        ViewerSink { slot: self.slot.clone(), proxy: self.event_loop.create_proxy() }
    }

    /// Shows `client`'s stream and sends it the window's input, until the window is closed,
    /// `options.run_for` has passed or the session ends. Blocks the calling (main) thread; the
    /// client's tokio runtime must run on other threads.
    ///
    /// # Errors
    /// [`ViewerError`] when the window cannot be made or the event loop fails.
    pub fn run(self, client: &ClientSession, options: &ViewerOptions) -> Result<ViewerSummary, ViewerError> {
        let mut app = App::new(client, options, self.slot);
        // The window's own pointer takes the server's shape: motion is drawn locally, at once.
        client.set_cursor_sink(Box::new(CursorToWindow {
            slot: app.cursor.clone(),
            proxy: self.event_loop.create_proxy(),
        }));
        self.event_loop.run_app(&mut app).map_err(|e| ViewerError::EventLoop(e.to_string()))?;
        match app.failure {
            Some(e) => Err(e),
            None => Ok(ViewerSummary {
                frames_drawn: app.frames_drawn,
                inputs_sent: app.inputs_sent,
                closed_by_user: app.closed_by_user,
            }),
        }
    }
}

type Surface = softbuffer::Surface<Rc<Window>, Rc<Window>>;

/// The window and what it draws.
struct Open {
    window: Rc<Window>,
    surface: Surface,
    /// The window's size the surface has.
    size: (u32, u32),
}

/// The event loop's state.
struct App<'a> {
    client: &'a ClientSession,
    title: String,
    run_for: Option<Duration>,
    slot: Arc<Slot>,
    clock: Clock,
    open: Option<Open>,
    /// The newest picture, as `0RGB`, and its size.
    pixels: Vec<u32>,
    picture: Option<(u32, u32)>,
    placement: Option<Placement>,
    /// Keys down on the server, by the physical key that pressed them.
    held: HashMap<PhysicalKey, u32>,
    /// Where the pointer was last sent, stream pixels.
    pointer: Option<(u32, u32)>,
    /// Wheel motion not yet sent as whole steps (x, y; positive right and down).
    wheel: (f64, f64),
    frames_drawn: u64,
    inputs_sent: u64,
    /// Frames drawn and µs at the last title refresh.
    last_tick: (u64, u64),
    closed_by_user: bool,
    failure: Option<ViewerError>,
    /// The server's newest pointer, not yet applied to the window.
    cursor: Arc<Mutex<Option<CursorUpdate>>>,
}

impl std::fmt::Debug for App<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("title", &self.title).field("frames_drawn", &self.frames_drawn).finish()
    }
}

impl<'a> App<'a> {
    fn new(client: &'a ClientSession, options: &ViewerOptions, slot: Arc<Slot>) -> Self {
        Self {
            client,
            title: options.title.clone(),
            run_for: options.run_for,
            slot,
            clock: Clock::new(),
            open: None,
            pixels: Vec::new(),
            picture: None,
            placement: None,
            held: HashMap::new(),
            pointer: None,
            wheel: (0.0, 0.0),
            frames_drawn: 0,
            inputs_sent: 0,
            last_tick: (0, 0),
            closed_by_user: false,
            failure: None,
            cursor: Arc::default(),
        }
    }

    /// Gives the window's pointer the server's shape and visibility.
    fn apply_cursor(&mut self, event_loop: &ActiveEventLoop) {
        let Some(open) = &self.open else { return };
        let Some(update) = self.cursor.lock().unwrap_or_else(PoisonError::into_inner).take() else { return };
        if update.shape_changed {
            let s = &update.shape;
            // A shape the platform refuses keeps the previous one; the stream goes on.
            if let Ok(source) = CustomCursor::from_rgba(s.rgba.clone(), s.width, s.height, s.hot_x, s.hot_y) {
                open.window.set_cursor(event_loop.create_custom_cursor(source));
            }
        }
        open.window.set_cursor_visible(update.state.visible);
    }

    fn fail(&mut self, event_loop: &ActiveEventLoop, error: ViewerError) {
        self.failure.get_or_insert(error);
        event_loop.exit();
    }

    fn send(&mut self, event_loop: &ActiveEventLoop, event: InputEvent) {
        match self.client.send_input(event) {
            Ok(_) => self.inputs_sent += 1,
            // The session is over: nothing more to show either.
            Err(_) => event_loop.exit(),
        }
    }

    fn open_window(&mut self, event_loop: &ActiveEventLoop) -> Result<Open, ViewerError> {
        let err = |e: &dyn std::fmt::Display| ViewerError::Window(e.to_string());
        let attributes = Window::default_attributes()
            .with_title(format!("{} | waiting for the first picture", self.title))
            .with_inner_size(PhysicalSize::new(640u32, 360u32));
        let window = Rc::new(event_loop.create_window(attributes).map_err(|e| err(&e))?);
        let context = softbuffer::Context::new(window.clone()).map_err(|e| err(&e))?;
        let surface = Surface::new(&context, window.clone()).map_err(|e| err(&e))?;
        Ok(Open { window, surface, size: (0, 0) })
    }

    /// Takes the newest picture from the slot, if there is one.
    fn take_picture(&mut self) {
        let Some(frame) = self.slot.take() else { return };
        let size = (frame.image.width, frame.image.height);
        if picture::to_0rgb(&frame.image, &mut self.pixels).is_err() {
            return;
        }
        if self.picture != Some(size) {
            self.picture = Some(size);
            self.placement = None;
            if let Some(open) = &self.open {
                // The stream's size, unless the screen is smaller: then the largest that fits.
                let screen = open.window.current_monitor().map(|m| m.size());
                let (w, h) = match screen {
                    Some(s) if s.width > 0 && s.height > 0 => {
                        let p = Placement::fit(size, (s.width.min(size.0), s.height.min(size.1)));
                        (p.width.max(1), p.height.max(1))
                    }
                    _ => size,
                };
                let _ = open.window.request_inner_size(PhysicalSize::new(w, h));
            }
        }
        if let Some(open) = &self.open {
            open.window.request_redraw();
        }
    }

    fn redraw(&mut self, event_loop: &ActiveEventLoop) {
        let Some(open) = self.open.as_mut() else { return };
        let inner = open.window.inner_size();
        let (Some(w), Some(h)) = (NonZeroU32::new(inner.width), NonZeroU32::new(inner.height)) else { return };
        if open.size != (inner.width, inner.height) {
            if let Err(e) = open.surface.resize(w, h) {
                return self.fail(event_loop, ViewerError::Window(e.to_string()));
            }
            open.size = (inner.width, inner.height);
        }
        let mut buffer = match open.surface.buffer_mut() {
            Ok(b) => b,
            Err(e) => return self.fail(event_loop, ViewerError::Window(e.to_string())),
        };
        match self.picture {
            Some(picture) => {
                let placement = Placement::fit(picture, open.size);
                placement.draw(&self.pixels, &mut buffer);
                self.placement = Some(placement);
            }
            None => buffer.fill(0),
        }
        if let Err(e) = buffer.present() {
            return self.fail(event_loop, ViewerError::Window(e.to_string()));
        }
        if self.picture.is_some() {
            self.frames_drawn += 1;
        }
    }

    fn key(&mut self, event_loop: &ActiveEventLoop, event: &KeyEvent, synthetic: bool) {
        match event.state {
            // winit makes presses up for keys already down when the window gains the focus:
            // they were pressed elsewhere. Repeats are the server display's business.
            ElementState::Pressed if synthetic || event.repeat => {}
            ElementState::Pressed => {
                if let Some(keysym) = keys::keysym(&event.logical_key, event.location) {
                    if let Some(old) = self.held.insert(event.physical_key, keysym) {
                        self.send(event_loop, InputEvent::Key { keysym: old, down: false });
                    }
                    self.send(event_loop, InputEvent::Key { keysym, down: true });
                }
            }
            // Released with the keysym it was pressed with, whatever the modifiers are now.
            ElementState::Released => {
                if let Some(keysym) = self.held.remove(&event.physical_key) {
                    self.send(event_loop, InputEvent::Key { keysym, down: false });
                }
            }
        }
    }

    fn release_all(&mut self, event_loop: &ActiveEventLoop) {
        let held: Vec<u32> = self.held.drain().map(|(_, keysym)| keysym).collect();
        for keysym in held {
            self.send(event_loop, InputEvent::Key { keysym, down: false });
        }
    }

    fn wheel(&mut self, event_loop: &ActiveEventLoop, delta: MouseScrollDelta) {
        // winit's positive deltas move the content right and down, that is, scroll left and
        // up; the protocol's positive steps scroll right and down.
        let (dx, dy) = match delta {
            MouseScrollDelta::LineDelta(x, y) => (-f64::from(x), -f64::from(y)),
            MouseScrollDelta::PixelDelta(p) => (-p.x / PIXELS_PER_STEP, -p.y / PIXELS_PER_STEP),
        };
        self.wheel.0 += dx;
        self.wheel.1 += dy;
        let steps = (self.wheel.0.trunc(), self.wheel.1.trunc());
        if steps != (0.0, 0.0) {
            self.wheel.0 -= steps.0;
            self.wheel.1 -= steps.1;
            self.send(event_loop, InputEvent::Wheel { dx: steps.0 as i32, dy: steps.1 as i32 });
        }
    }

    fn refresh_title(&mut self) {
        let now = self.clock.now_us();
        let (frames, at) = self.last_tick;
        let elapsed = now.saturating_sub(at);
        if elapsed < TICK.as_micros() as u64 / 2 {
            return;
        }
        let fps = (self.frames_drawn - frames) as f64 * 1e6 / elapsed as f64;
        self.last_tick = (self.frames_drawn, now);
        let Some(open) = &self.open else { return };
        if self.picture.is_none() {
            return;
        }
        let stats = self.client.stats();
        let g2g = if stats.glass_to_glass.count > 0 {
            format!("glass-to-glass p50 {:.1} ms", stats.glass_to_glass.p50)
        } else {
            "glass-to-glass n/a".to_owned()
        };
        open.window.set_title(&format!("{} | {fps:.1} fps | {g2g}", self.title));
    }
}

impl ApplicationHandler<Wake> for App<'_> {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.open.is_some() {
            return;
        }
        match self.open_window(event_loop) {
            Ok(open) => {
                open.window.request_redraw();
                self.open = Some(open);
                // A picture and the pointer may have arrived before the window.
                self.take_picture();
                self.apply_cursor(event_loop);
            }
            Err(e) => self.fail(event_loop, e),
        }
    }

    fn user_event(&mut self, event_loop: &ActiveEventLoop, event: Wake) {
        match event {
            Wake::Frame => self.take_picture(),
            Wake::Ended => event_loop.exit(),
            Wake::Cursor => self.apply_cursor(event_loop),
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => {
                self.closed_by_user = true;
                self.release_all(event_loop);
                event_loop.exit();
            }
            WindowEvent::Resized(_) | WindowEvent::ScaleFactorChanged { .. } => {
                if let Some(open) = &self.open {
                    open.window.request_redraw();
                }
            }
            WindowEvent::RedrawRequested => self.redraw(event_loop),
            WindowEvent::Focused(false) => self.release_all(event_loop),
            WindowEvent::KeyboardInput { event, is_synthetic, .. } => self.key(event_loop, &event, is_synthetic),
            WindowEvent::CursorMoved { position, .. } => {
                let Some(placement) = self.placement else { return };
                let at = placement.to_stream(position.x, position.y);
                if self.pointer != Some(at) {
                    self.pointer = Some(at);
                    self.send(event_loop, InputEvent::PointerMove { x: at.0, y: at.1 });
                }
            }
            WindowEvent::MouseInput { state, button, .. } => {
                if let Some(button) = keys::button_number(button) {
                    let down = state == ElementState::Pressed;
                    self.send(event_loop, InputEvent::Button { button, down });
                }
            }
            WindowEvent::MouseWheel { delta, .. } => self.wheel(event_loop, delta),
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        let expired =
            self.run_for.is_some_and(|d| self.clock.now_us() >= u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        if expired || self.client.is_finished() {
            event_loop.exit();
            return;
        }
        self.refresh_title();
        event_loop.set_control_flow(ControlFlow::wait_duration(TICK));
    }
}
