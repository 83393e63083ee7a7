//! An MIT-SHM segment the X server creates (`ShmCreateSegment`, SHM 1.2) and hands over as a
//! file descriptor, mapped read-only here.

use std::os::fd::OwnedFd;

use memmap2::{Mmap, MmapOptions};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

/// A segment of `len` bytes known to the server as `seg`.
#[derive(Debug)]
pub(super) struct Segment {
    seg: shm::Seg,
    map: Mmap,
}

impl Segment {
    /// Asks the server for a segment of `len` bytes, or says why not (no extension, a version
    /// before 1.2, a connection that cannot pass file descriptors, ...). The caller falls
    /// back to plain `GetImage` on `Err`.
    pub(super) fn create(conn: &RustConnection, len: usize) -> Result<Self, String> {
        if conn.extension_information(shm::X11_EXTENSION_NAME).map_err(|e| e.to_string())?.is_none() {
            return Err("no MIT-SHM extension".into());
        }
        let version = conn.shm_query_version().map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?;
        if (version.major_version, version.minor_version) < (1, 2) {
            return Err(format!("MIT-SHM {}.{} lacks CreateSegment", version.major_version, version.minor_version));
        }
        let size = u32::try_from(len).map_err(|_| format!("{len} bytes is too large a segment"))?;
        let seg = conn.generate_id().map_err(|e| e.to_string())?;
        let reply =
            conn.shm_create_segment(seg, size, false).map_err(|e| e.to_string())?.reply().map_err(|e| e.to_string())?;
        // The descriptor closes when `reply` goes; the mapping keeps the memory.
        match map_segment(&reply.shm_fd, len) {
            Ok(map) => Ok(Self { seg, map }),
            Err(e) => {
                let _ = conn.shm_detach(seg).map(|c| c.ignore_error());
                Err(format!("mapping the segment: {e}"))
            }
        }
    }

    /// The server's name for the segment.
    pub(super) fn seg(&self) -> shm::Seg {
        self.seg
    }

    /// The segment's bytes. Read them only after the reply to the request that filled them.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Tells the server to let go of the segment.
    pub(super) fn detach(&self, conn: &RustConnection) {
        if let Ok(cookie) = conn.shm_detach(self.seg) {
            cookie.ignore_error();
        }
        let _ = conn.flush();
    }
}

/// Maps `len` bytes of the server's segment, read-only and shared.
#[allow(unsafe_code)]
fn map_segment(fd: &OwnedFd, len: usize) -> std::io::Result<Mmap> {
    // SAFETY: the X server created this memfd of `len` bytes for us and never shrinks it, so
    // the mapping stays backed. The server writes into it only while it handles a
    // ShmGetImage on our connection; `X11Capture` reads the bytes only after that request's
    // reply has arrived and sends the next one only after it is done reading (`&mut self`).
    unsafe { MmapOptions::new().len(len).map(fd) }
}
