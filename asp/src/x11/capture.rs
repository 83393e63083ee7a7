//! [`X11Capture`]: the pixels of the root window or of one window, as BGRA.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use asp_codec::{ChannelOrder, RgbaImage};
use x11rb::connection::Connection;
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, ImageOrder, Visualid, Window};
use x11rb::rust_connection::RustConnection;

use super::shm::Segment;
use super::{CaptureOptions, X11Error, request_error};
use crate::source::{Captured, FrameSource, SourceError};

/// Reads a window of an X11 display (the root window unless told otherwise) into BGRA
/// pictures, through an MIT-SHM segment when the server offers one and plain `GetImage`
/// otherwise.
///
/// The size is fixed when the capture is made and cropped to even numbers (the encoders need
/// them): a 1279x719 screen gives 1278x718 pictures. Depth 24 pictures get an opaque alpha
/// byte; depth 32 ones keep the window's own.
#[derive(Debug)]
pub struct X11Capture {
    conn: RustConnection,
    window: Window,
    width: u16,
    height: u16,
    origin: (i32, i32),
    layout: Layout,
    shm: Option<Segment>,
    applied: Arc<AtomicU64>,
    /// The display, for the pointer's own connection.
    display: Option<String>,
}

/// How the server's pixel bytes become ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// The order of the bytes once `swap` is applied.
    order: ChannelOrder,
    /// Each 32-bit pixel arrives most significant byte first and must be reversed.
    swap: bool,
    /// The fourth byte carries no alpha (depth 24) and is set to 255.
    opaque: bool,
}

impl X11Capture {
    /// Connects to `display` (`None`: `$DISPLAY`) and prepares to capture what `options` say.
    /// Its pictures report no input (`input_applied` 0); [`super::open`] pairs a capture with
    /// an injector.
    ///
    /// # Errors
    /// [`X11Error`]: no display, no such window, a pixel format other than 24- or 32-bit true
    /// colour, a window smaller than 2x2.
    pub fn connect(display: Option<&str>, options: &CaptureOptions) -> Result<Self, X11Error> {
        Self::with_counter(display, options, Arc::new(AtomicU64::new(0)))
    }

    pub(super) fn with_counter(
        display: Option<&str>,
        options: &CaptureOptions,
        applied: Arc<AtomicU64>,
    ) -> Result<Self, X11Error> {
        let (conn, screen_num) = x11rb::connect(display).map_err(|e| X11Error::Connect(e.to_string()))?;
        let screen = conn
            .setup()
            .roots
            .get(screen_num)
            .ok_or_else(|| X11Error::Connect(format!("the display has no screen {screen_num}")))?;
        let root = screen.root;
        let window = options.window.unwrap_or(root);
        let geometry = conn.get_geometry(window).map_err(request_error)?.reply().map_err(request_error)?;
        let visual = if window == root {
            screen.root_visual
        } else {
            conn.get_window_attributes(window).map_err(request_error)?.reply().map_err(request_error)?.visual
        };
        let origin = if window == root {
            (0, 0)
        } else {
            let at = conn
                .translate_coordinates(window, root, 0, 0)
                .map_err(request_error)?
                .reply()
                .map_err(request_error)?;
            (i32::from(at.dst_x), i32::from(at.dst_y))
        };
        let layout = layout(&conn, geometry.depth, visual)?;
        let (width, height) = (geometry.width & !1, geometry.height & !1);
        if width == 0 || height == 0 {
            return Err(X11Error::TooSmall { window, width: geometry.width, height: geometry.height });
        }
        let shm = if options.no_shm { None } else { Segment::create(&conn, frame_len(width, height)).ok() };
        let display = display.map(str::to_owned);
        let mut capture = Self { conn, window, width, height, origin, layout, shm, applied, display };
        capture.check_shm();
        Ok(capture)
    }

    /// Gives up MIT-SHM if a first grab through it fails where plain `GetImage` works (a
    /// server that creates segments it cannot fill). When both fail, the window is the
    /// trouble (not viewable yet, say) and MIT-SHM stays.
    fn check_shm(&mut self) {
        let Some(segment) = self.shm.take() else { return };
        let shm_works = self.grab_shm(&segment).is_ok();
        if shm_works || self.grab_plain().is_err() {
            self.shm = Some(segment);
        } else {
            segment.detach(&self.conn);
        }
    }

    /// Whether pictures come through MIT-SHM (`false`: plain `GetImage`).
    #[must_use]
    pub fn uses_shm(&self) -> bool {
        self.shm.is_some()
    }

    /// The captured window (the root window unless chosen).
    #[must_use]
    pub fn window(&self) -> u32 {
        self.window
    }

    /// Where the captured window's top-left corner was on the screen when the capture was made.
    #[must_use]
    pub fn origin(&self) -> (i32, i32) {
        self.origin
    }

    /// Grabs the window's pixels into a tight buffer, before any byte reordering.
    fn grab(&self) -> Result<Vec<u8>, String> {
        match &self.shm {
            Some(segment) => self.grab_shm(segment),
            None => self.grab_plain(),
        }
    }

    fn grab_shm(&self, segment: &Segment) -> Result<Vec<u8>, String> {
        let len = frame_len(self.width, self.height);
        let format = u8::from(ImageFormat::Z_PIXMAP);
        let reply = self
            .conn
            .shm_get_image(self.window, 0, 0, self.width, self.height, !0, format, segment.seg(), 0)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        let bytes = segment.bytes();
        if (reply.size as usize) < len || bytes.len() < len {
            return Err(format!("MIT-SHM image of {} bytes, {len} expected", reply.size));
        }
        Ok(bytes[..len].to_vec())
    }

    fn grab_plain(&self) -> Result<Vec<u8>, String> {
        let len = frame_len(self.width, self.height);
        let reply = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.window, 0, 0, self.width, self.height, !0)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        let mut data = reply.data;
        if data.len() < len {
            return Err(format!("GetImage returned {} bytes, {len} expected", data.len()));
        }
        data.truncate(len);
        Ok(data)
    }
}

impl FrameSource for X11Capture {
    fn size(&self) -> (u32, u32) {
        (u32::from(self.width), u32::from(self.height))
    }

    fn capture(&mut self) -> Result<Captured, SourceError> {
        // Read before grabbing: every input counted here was processed by the server before
        // this picture was taken.
        let input_applied = self.applied.load(Ordering::Acquire);
        let mut data = self.grab().map_err(SourceError::Capture)?;
        self.layout.apply(&mut data);
        let image = RgbaImage {
            width: u32::from(self.width),
            height: u32::from(self.height),
            stride: usize::from(self.width) * 4,
            order: self.layout.order,
            data,
        };
        Ok(Captured { image, input_applied })
    }

    /// The display's CLIPBOARD selection.
    fn clipboard(&mut self) -> Result<Option<Box<dyn crate::clipboard::Clipboard>>, crate::clipboard::ClipboardError> {
        let clipboard = super::X11Clipboard::open(self.display.as_deref())
            .map_err(|e| crate::clipboard::ClipboardError(e.to_string()))?;
        Ok(Some(Box::new(clipboard)))
    }

    /// The pointer through XFixes.
    fn cursor(&mut self) -> Result<Option<Box<dyn crate::cursor::CursorSource>>, crate::cursor::CursorError> {
        let cursor = super::X11Cursor::open(self.display.as_deref(), self.origin)
            .map_err(|e| crate::cursor::CursorError(e.to_string()))?;
        Ok(Some(Box::new(cursor)))
    }
}

impl Drop for X11Capture {
    fn drop(&mut self) {
        if let Some(segment) = &self.shm {
            segment.detach(&self.conn);
        }
    }
}

impl Layout {
    /// Turns the server's bytes into `self.order`, in place.
    fn apply(self, data: &mut [u8]) {
        if !self.swap && !self.opaque {
            return;
        }
        for px in data.chunks_exact_mut(4) {
            if self.swap {
                px.reverse();
            }
            if self.opaque {
                px[3] = 0xff;
            }
        }
    }
}

/// Bytes of one tight 32-bit picture.
fn frame_len(width: u16, height: u16) -> usize {
    usize::from(width) * usize::from(height) * 4
}

/// Works out how the server lays out the pixels of a window of `depth` with `visual`.
fn layout(conn: &RustConnection, depth: u8, visual: Visualid) -> Result<Layout, X11Error> {
    let setup = conn.setup();
    if depth != 24 && depth != 32 {
        return Err(X11Error::Format(format!("depth {depth}")));
    }
    let bits = setup.pixmap_formats.iter().find(|f| f.depth == depth).map(|f| f.bits_per_pixel);
    if bits != Some(32) {
        return Err(X11Error::Format(format!("depth {depth} stored in {bits:?} bits per pixel")));
    }
    let visual = setup
        .roots
        .iter()
        .flat_map(|s| &s.allowed_depths)
        .flat_map(|d| &d.visuals)
        .find(|v| v.visual_id == visual)
        .ok_or_else(|| X11Error::Format(format!("unknown visual {visual:#x}")))?;
    let masks = (visual.red_mask, visual.green_mask, visual.blue_mask);
    // In a little-endian 32-bit pixel, mask 0xff is the first byte in memory.
    let order = match masks {
        (0x00ff_0000, 0x0000_ff00, 0x0000_00ff) => ChannelOrder::Bgra,
        (0x0000_00ff, 0x0000_ff00, 0x00ff_0000) => ChannelOrder::Rgba,
        _ => return Err(X11Error::Format(format!("visual masks {masks:#x?}"))),
    };
    Ok(Layout { order, swap: setup.image_byte_order == ImageOrder::MSB_FIRST, opaque: depth == 24 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_reorders_and_fills_alpha() {
        let mut data = vec![1, 2, 3, 4, 5, 6, 7, 8];
        Layout { order: ChannelOrder::Bgra, swap: false, opaque: false }.apply(&mut data);
        assert_eq!(data, [1, 2, 3, 4, 5, 6, 7, 8]);
        Layout { order: ChannelOrder::Bgra, swap: false, opaque: true }.apply(&mut data);
        assert_eq!(data, [1, 2, 3, 255, 5, 6, 7, 255]);
        let mut big_endian = vec![0, 10, 20, 30];
        Layout { order: ChannelOrder::Bgra, swap: true, opaque: true }.apply(&mut big_endian);
        assert_eq!(big_endian, [30, 20, 10, 255]);
    }
}
