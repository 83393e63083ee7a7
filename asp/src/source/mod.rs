//! Where the server's pictures come from, and where the client's input goes on the server.
//!
//! A [`FrameSource`] hands out one BGRA picture per call; the server's capture thread paces
//! the calls at the frame rate. An [`InputInjector`] applies the client's input events to
//! whatever the source shows. Implementations: [`synth`] (asp-codec's synthetic scenes, which
//! also answer input so click-to-photon is measurable anywhere), [`y4m`] (a recording, for
//! researchers' own sequences) and, on Linux, [`crate::x11`] (a real X11 screen with MIT-SHM
//! capture and XTEST injection).

use asp_codec::RgbaImage;

use crate::proto::input::InputEvent;

pub mod synth;
pub mod y4m;

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The source has nothing more (a file's end).
    #[error("the source has ended")]
    Ended,
    /// Reading or capturing failed.
    #[error("capture failed: {0}")]
    Capture(String),
    /// Reading a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One captured picture.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The picture, BGRA or RGBA.
    pub image: RgbaImage,
    /// The newest input sequence number applied before this capture (0: none). The server
    /// reports it on the first frame whose content changed after that input.
    pub input_applied: u64,
}

/// A picture source. Calls come from the server's capture thread.
pub trait FrameSource: Send {
    /// Width and height of the pictures, in pixels (even, as the encoders need).
    fn size(&self) -> (u32, u32);

    /// Takes the next picture.
    ///
    /// # Errors
    /// [`SourceError::Ended`] at a file's end; [`SourceError::Capture`] when the screen can no
    /// longer be read.
    fn capture(&mut self) -> Result<Captured, SourceError>;

    /// Whether the picture comes into being during [`capture`](Self::capture) (a synthetic
    /// scene renders it then) rather than being read from a screen that already shows it.
    /// The capture instant, where glass-to-glass latency starts, is taken after the call for
    /// such sources and before it for the others, so rendering never counts as latency and
    /// reading a screen always does.
    fn renders_on_capture(&self) -> bool {
        false
    }

    /// The pointer of the same screen, followed apart from the picture (which then must not
    /// contain it), or `None` when the source has no pointer of its own. Called once, before
    /// the first capture; the server polls what it returns on a thread of its own.
    ///
    /// # Errors
    /// [`CursorError`](crate::cursor::CursorError) when the source has a pointer that cannot be
    /// followed (an X server without XFixes); the server streams without it and says so in
    /// [`ServerStats::cursor_unavailable`](crate::server::ServerStats::cursor_unavailable).
    fn cursor(&mut self) -> Result<Option<Box<dyn crate::cursor::CursorSource>>, crate::cursor::CursorError> {
        Ok(None)
    }

    /// The clipboard of the same desktop, shared with the client within the server's policy,
    /// or `None` when the source has none. Called once, before the first capture.
    ///
    /// # Errors
    /// [`ClipboardError`](crate::clipboard::ClipboardError) when it has one that cannot be
    /// watched; the server goes on without and says so in
    /// [`ServerStats::clipboard_unavailable`](crate::server::ServerStats::clipboard_unavailable).
    fn clipboard(&mut self) -> Result<Option<Box<dyn crate::clipboard::Clipboard>>, crate::clipboard::ClipboardError> {
        Ok(None)
    }
}

/// Why an input event could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InjectError {
    /// The target refused or lost its connection.
    #[error("input injection failed: {0}")]
    Failed(String),
    /// The event has no meaning for this target (a keysym with no key, say).
    #[error("input event not supported here: {0}")]
    Unsupported(String),
}

/// Applies input events on the server. Calls come from the server's input thread, in order.
pub trait InputInjector: Send {
    /// Applies one event; `seq` is its sequence number (see [`Captured::input_applied`]).
    ///
    /// # Errors
    /// [`InjectError`]; the server counts it and goes on.
    fn inject(&mut self, seq: u64, event: &InputEvent) -> Result<(), InjectError>;
}

/// A source and, where the source can take input, its injector.
pub type Pipeline = (Box<dyn FrameSource>, Option<Box<dyn InputInjector>>);

/// Opens a source from its textual form, as `asp serve --source` and the bindings take it:
/// `synth:SCENE` (office, video, 3d, idle; `synth` alone is office) at `size`, `y4m:PATH`
/// (looped), `x11` (the display in `$DISPLAY`) or `x11:DISPLAY`. `seed` varies a synthetic
/// scene between clients; the same seed gives the same pictures.
///
/// # Errors
/// [`SourceError::Capture`] naming what is wrong with `spec`, or why it could not open.
pub fn open(spec: &str, size: (u32, u32), seed: u64) -> Result<Pipeline, SourceError> {
    let (kind, arg) = spec.split_once(':').map_or((spec, None), |(k, a)| (k, Some(a)));
    let bad = |m: String| SourceError::Capture(m);
    match kind {
        "synth" => {
            let name = arg.unwrap_or("office");
            let scene = asp_codec::synth::SourceKind::from_name(name)
                .ok_or_else(|| bad(format!("unknown scene {name:?}: use office, video, 3d or idle")))?;
            let (s, i) = synth::SynthSource::new(scene, size.0, size.1, seed)?;
            Ok((Box::new(s), Some(Box::new(i))))
        }
        "y4m" => {
            let path = arg.ok_or_else(|| bad("y4m:PATH needs a path".into()))?;
            Ok((Box::new(y4m::Y4mSource::open(std::path::Path::new(path), true)?), None))
        }
        #[cfg(all(target_os = "linux", feature = "x11"))]
        "x11" => {
            let (capture, injector) = crate::x11::open(arg).map_err(|e| bad(e.to_string()))?;
            Ok((Box::new(capture), Some(Box::new(injector))))
        }
        #[cfg(not(all(target_os = "linux", feature = "x11")))]
        "x11" => Err(bad("this build has no X11 support (feature `x11`, Linux)".into())),
        other => Err(bad(format!("unknown source {other:?}: use x11, x11:DISPLAY, synth:SCENE or y4m:PATH"))),
    }
}
