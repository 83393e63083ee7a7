//! The clipboard, shared both ways: what a copy holds ([`ClipboardContent`]: text, a PNG image
//! or a list of files), where it comes from and goes to on each side ([`Clipboard`]: X11
//! selections through `asp::x11::X11Clipboard`, or [`MemoryClipboard`] for tests and
//! headless clients).

use std::collections::VecDeque;

pub mod link;
pub(crate) mod pump;

pub use link::{ClipboardDirection, ClipboardPolicy, ClipboardStats};

/// What a copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipboardContent {
    /// UTF-8 text (X11 `UTF8_STRING`, `text/plain;charset=utf-8`).
    Text(String),
    /// A PNG image (`image/png`).
    Png(Vec<u8>),
    /// Files, as URIs (`text/uri-list`, one per line).
    Files(Vec<String>),
}

/// The kinds of content, for policies and offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClipboardFormat {
    /// [`ClipboardContent::Text`].
    Text,
    /// [`ClipboardContent::Png`].
    Png,
    /// [`ClipboardContent::Files`].
    Files,
}

impl ClipboardContent {
    /// Its format.
    #[must_use]
    pub fn format(&self) -> ClipboardFormat {
        match self {
            Self::Text(_) => ClipboardFormat::Text,
            Self::Png(_) => ClipboardFormat::Png,
            Self::Files(_) => ClipboardFormat::Files,
        }
    }

    /// Its size in bytes as carried (text as UTF-8, files as a `text/uri-list`).
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Png(p) => p.len(),
            Self::Files(f) => f.iter().map(|u| u.len() + 2).sum(),
        }
    }

    /// Whether it holds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a clipboard could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("clipboard: {0}")]
pub struct ClipboardError(pub String);

/// One side's clipboard.
pub trait Clipboard: Send {
    /// A copy made on this side since the last call, by anyone but this clipboard itself (what
    /// [`set`](Self::set) put there is never reported back, so copies do not bounce).
    ///
    /// # Errors
    /// [`ClipboardError`] when the clipboard can no longer be read.
    fn poll(&mut self) -> Result<Option<ClipboardContent>, ClipboardError>;

    /// Puts `content` on this side's clipboard, as if copied here.
    ///
    /// # Errors
    /// [`ClipboardError`] when it cannot be set.
    fn set(&mut self, content: ClipboardContent) -> Result<(), ClipboardError>;
}

/// A clipboard in memory: copies are pushed by the application ([`copy`](Self::copy)), what
/// the peer sends is kept ([`pasted`](Self::pasted)).
#[derive(Debug, Default)]
pub struct MemoryClipboard {
    copied: VecDeque<ClipboardContent>,
    pasted: Vec<ClipboardContent>,
}

impl MemoryClipboard {
    /// An empty clipboard.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy made here, to be sent to the peer.
    pub fn copy(&mut self, content: ClipboardContent) {
        self.copied.push_back(content);
    }

    /// What the peer's copies put here, oldest first.
    #[must_use]
    pub fn pasted(&self) -> &[ClipboardContent] {
        &self.pasted
    }
}

impl Clipboard for MemoryClipboard {
    fn poll(&mut self) -> Result<Option<ClipboardContent>, ClipboardError> {
        Ok(self.copied.pop_front())
    }

    fn set(&mut self, content: ClipboardContent) -> Result<(), ClipboardError> {
        self.pasted.push(content);
        Ok(())
    }
}

/// A [`MemoryClipboard`] shared between the application and a session (which takes one
/// clone).
#[derive(Debug, Clone, Default)]
pub struct SharedClipboard(pub std::sync::Arc<std::sync::Mutex<MemoryClipboard>>);

impl SharedClipboard {
    /// An empty clipboard.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The clipboard, locked.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, MemoryClipboard> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clipboard for SharedClipboard {
    fn poll(&mut self) -> Result<Option<ClipboardContent>, ClipboardError> {
        self.lock().poll()
    }

    fn set(&mut self, content: ClipboardContent) -> Result<(), ClipboardError> {
        self.lock().set(content)
    }
}
