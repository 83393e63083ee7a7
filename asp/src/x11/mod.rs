//! A real X11 screen: [`X11Capture`] reads it (MIT-SHM, or plain `GetImage` where shared
//! memory is not available), [`XTestInjector`] types and points on it (XTEST), and
//! [`X11Windows`] follows its top-level windows for the window channel.
//!
//! [`open`] makes the pair for one display. They share a counter: the injector records the
//! sequence number of each event once the X server has processed it, and the capture reads
//! that counter *before* it grabs a picture, so [`Captured::input_applied`] never names an
//! input the picture could not yet show. Each half has its own connection, so the server's
//! capture thread and input thread never wait on each other.
//!
//! ```no_run
//! use asp::source::{FrameSource, InputInjector};
//! use asp::proto::input::InputEvent;
//!
//! let (mut capture, mut injector) = asp::x11::open(None)?; // $DISPLAY
//! injector.inject(1, &InputEvent::Key { keysym: 0x61, down: true })?;
//! injector.inject(2, &InputEvent::Key { keysym: 0x61, down: false })?;
//! let frame = capture.capture()?;
//! assert_eq!(frame.input_applied, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Captured::input_applied`]: crate::source::Captured::input_applied

use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

mod capture;
mod clipboard;
mod cursor;
mod inject;
mod keymap;
mod shm;
mod windows;

pub use capture::X11Capture;
pub use clipboard::{ClipboardTransferError, X11Clipboard, X11ClipboardOptions, X11ClipboardStats};
pub use cursor::X11Cursor;
pub use inject::{MAX_WHEEL_STEPS, XTestInjector};
pub use windows::{WindowRequestError, X11Windows, X11WindowsStats};

/// Why an X11 capture or injector could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X11Error {
    /// No connection to the display (no `$DISPLAY`, no server, refused).
    #[error("cannot connect to the X display: {0}")]
    Connect(String),
    /// A request failed or the connection broke while setting up.
    #[error("X11 request failed: {0}")]
    Request(String),
    /// The server lacks an extension that is required (XTEST for the injector).
    #[error("the X server lacks the {0} extension")]
    MissingExtension(&'static str),
    /// The window's pixels are in a format the capture cannot read (only 24- and 32-bit
    /// true-colour visuals with 32 bits per pixel are supported).
    #[error("unsupported pixel format: {0}")]
    Format(String),
    /// The window has fewer than 2 x 2 pixels.
    #[error("window {window:#x} is {width}x{height}: too small to capture")]
    TooSmall {
        /// The window.
        window: u32,
        /// Its width.
        width: u16,
        /// Its height.
        height: u16,
    },
}

/// How [`X11Capture`] reads the screen.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    window: Option<u32>,
    no_shm: bool,
}

impl CaptureOptions {
    /// The defaults: the root window of the display's default screen, MIT-SHM when available.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Captures this window instead of the root window. Its size is read once, when the
    /// capture is made; it must stay viewable and on screen.
    #[must_use]
    pub fn window(mut self, window: u32) -> Self {
        self.window = Some(window);
        self
    }

    /// Uses plain `GetImage` (a copy through the socket) even when MIT-SHM is available.
    #[must_use]
    pub fn without_shm(mut self) -> Self {
        self.no_shm = true;
        self
    }
}

/// Opens a capture of the root window and an injector on `display` (`None`: `$DISPLAY`),
/// sharing the input-applied counter.
///
/// # Errors
/// [`X11Error`] when either half cannot be set up.
pub fn open(display: Option<&str>) -> Result<(X11Capture, XTestInjector), X11Error> {
    open_with(display, &CaptureOptions::new())
}

/// Like [`open`], with capture options. When a window is captured, the injector's absolute
/// pointer positions are taken relative to that window's top-left corner, as it was at
/// opening.
///
/// # Errors
/// [`X11Error`] when either half cannot be set up.
pub fn open_with(display: Option<&str>, options: &CaptureOptions) -> Result<(X11Capture, XTestInjector), X11Error> {
    let applied = Arc::new(AtomicU64::new(0));
    let capture = X11Capture::with_counter(display, options, Arc::clone(&applied))?;
    let injector = XTestInjector::with_counter(display, capture.origin(), applied)?;
    Ok((capture, injector))
}

/// Maps any X11 request or connection error to [`X11Error::Request`].
fn request_error(e: impl Display) -> X11Error {
    X11Error::Request(e.to_string())
}
