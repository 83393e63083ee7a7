//! The X11 pointer through XFixes: its image (with the server's serial number as the shape id)
//! and position, on a connection of its own. X11 screen captures never contain the pointer,
//! so the client draws it from this.

use x11rb::connection::RequestConnection;
use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

use super::{X11Error, request_error};
use crate::cursor::{CursorError, CursorSample, CursorShape, CursorSource, CursorState};
use crate::proto::cursor::MAX_CURSOR_SIDE;

/// The pointer of one X display.
#[derive(Debug)]
pub struct X11Cursor {
    conn: RustConnection,
    origin: (i32, i32),
    last: Option<CursorShape>,
}

/// Shape ids: the X server's cursor serial, kept off 0.
fn shape_id(serial: u32) -> u64 {
    (1 << 32) | u64::from(serial)
}

impl X11Cursor {
    /// Follows the pointer of `display` (`None`: `$DISPLAY`); positions are given relative to
    /// `origin` (the captured window's top-left corner).
    ///
    /// # Errors
    /// [`X11Error::Connect`], or [`X11Error::MissingExtension`] without XFixes.
    pub fn open(display: Option<&str>, origin: (i32, i32)) -> Result<Self, X11Error> {
        let (conn, _) = x11rb::connect(display).map_err(|e| X11Error::Connect(e.to_string()))?;
        if conn.extension_information(x11rb::protocol::xfixes::X11_EXTENSION_NAME).map_err(request_error)?.is_none() {
            return Err(X11Error::MissingExtension("XFIXES"));
        }
        // XFixes must be told which version the client speaks before any other request.
        conn.xfixes_query_version(4, 0).map_err(request_error)?.reply().map_err(request_error)?;
        Ok(Self { conn, origin, last: None })
    }
}

/// XFixes gives premultiplied ARGB in native-endian 32-bit words; the wire wants straight RGBA.
fn to_rgba(argb: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(argb.len() * 4);
    for &p in argb {
        let a = (p >> 24) as u8;
        let straight = |c: u32| if a == 0 { 0 } else { ((c & 0xff) * 255 / u32::from(a)).min(255) as u8 };
        out.extend_from_slice(&[straight(p >> 16), straight(p >> 8), straight(p), a]);
    }
    out
}

/// The shape, cropped to [`MAX_CURSOR_SIDE`] around nothing but the top-left corner (a larger
/// X cursor is rare; its hot spot must stay inside).
fn shape(id: u64, width: u16, height: u16, xhot: u16, yhot: u16, image: &[u32]) -> Option<CursorShape> {
    let (w, h) = (width.min(MAX_CURSOR_SIDE), height.min(MAX_CURSOR_SIDE));
    if w == 0 || h == 0 || xhot >= w || yhot >= h || image.len() < usize::from(width) * usize::from(height) {
        return None;
    }
    let rows = image.chunks(usize::from(width)).take(usize::from(h));
    let cropped: Vec<u32> = rows.flat_map(|row| row[..usize::from(w)].iter().copied()).collect();
    Some(CursorShape { id, width: w, height: h, hot_x: xhot, hot_y: yhot, rgba: to_rgba(&cropped) })
}

impl CursorSource for X11Cursor {
    fn sample(&mut self) -> Result<CursorSample, CursorError> {
        let reply = self
            .conn
            .xfixes_get_cursor_image()
            .map_err(|e| CursorError(e.to_string()))?
            .reply()
            .map_err(|e| CursorError(e.to_string()))?;
        let id = shape_id(reply.cursor_serial);
        if self.last.as_ref().is_none_or(|s| s.id != id) {
            self.last = shape(id, reply.width, reply.height, reply.xhot, reply.yhot, &reply.cursor_image);
        }
        let state = CursorState {
            shape_id: id,
            x: i32::from(reply.x) - self.origin.0,
            y: i32::from(reply.y) - self.origin.1,
            visible: self.last.is_some(),
        };
        Ok(CursorSample { state, shape: None })
    }

    fn shape(&mut self, id: u64) -> Result<Option<CursorShape>, CursorError> {
        Ok(self.last.as_ref().filter(|s| s.id == id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premultiplied_argb_becomes_straight_rgba() {
        // Opaque red; half-transparent white (premultiplied 0x80); fully transparent.
        assert_eq!(to_rgba(&[0xffff_0000, 0x8080_8080, 0]), [255, 0, 0, 255, 255, 255, 255, 128, 0, 0, 0, 0]);
    }

    #[test]
    fn large_shapes_are_cropped_and_bad_ones_refused() {
        let image = vec![0xff00_00ff; 200 * 150];
        let s = shape(5, 200, 150, 3, 4, &image).unwrap();
        assert_eq!((s.width, s.height, s.rgba.len()), (128, 128, 128 * 128 * 4));
        assert!(shape(5, 200, 150, 150, 4, &image).is_none(), "hot spot cropped away");
        assert!(shape(5, 16, 16, 0, 0, &image[..10]).is_none(), "short image");
    }
}
