//! Netflix VMAF scores of decoded video against its source, through libvmaf.
//!
//! [`Vmaf`] takes pairs of pictures (reference, distorted) as [`asp_codec::YuvImage`]s and scores
//! them with libvmaf's built-in `vmaf_v0.6.1` model, the model the VMAF figures in the literature
//! and in FFmpeg's `libvmaf` filter default to. [`score_y4m`] does the same for two Y4M files.
//!
//! ```no_run
//! use asp_vmaf::Vmaf;
//! use asp_codec::{YuvFormat, YuvImage};
//!
//! let mut vmaf = Vmaf::new(1280, 720, YuvFormat::I420, 2)?;
//! let reference = YuvImage::black(YuvFormat::I420, 1280, 720);
//! let distorted = reference.clone();
//! vmaf.push(&reference, &distorted)?;
//! let scores = vmaf.finish()?;
//! println!("VMAF {:.2} (min {:.2})", scores.mean, scores.min);
//! # Ok::<(), asp_vmaf::VmafError>(())
//! ```
//!
//! # Licence
//!
//! This crate is GPL-3.0-or-later, unlike the rest of the workspace (MIT OR Apache-2.0):
//! it links `libvmaf-sys`, which vendors libvmaf (BSD-2-Clause-Patent) and is itself published
//! under GPL-3.0-or-later, so a binary that contains it is GPL too. Only benches and tests depend
//! on it; nothing a user links (the facade, the FFI) does.
//!
//! # Linking
//!
//! `libvmaf-sys` builds libvmaf with meson into its `OUT_DIR`, as both `libvmaf.so` and
//! `libvmaf.a` (libvmaf's `default_library=both`). By default it links the shared library, which a
//! test binary then cannot find at run time without `LD_LIBRARY_PATH`. This crate turns on
//! `libvmaf-sys`'s `static` feature instead, which links `libvmaf.a` (all of libvmaf, its
//! feature extractors and SIMD kernels included) into the binary; libvmaf's C++ part needs
//! `libstdc++`, which `libvmaf-sys` links dynamically from the system, as every C++ program does.
//! Nothing is looked up at run time.
//!
//! `libvmaf-sys` builds libvmaf with meson's `debug` build type unless Cargo's profile is
//! `release`, so scoring is several times faster in `--release` builds (see the README).

mod ffi;

use std::ffi::CStr;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use asp_codec::y4m::{Y4mError, Y4mReader};
use asp_codec::{YuvFormat, YuvImage};

/// Built-in model every score here comes from.
pub const MODEL_VERSION: &str = "vmaf_v0.6.1";
const MODEL_VERSION_C: &CStr = c"vmaf_v0.6.1";

/// Smallest width and height accepted. libvmaf does not check sizes itself, and its four-scale
/// filter banks are not meant for pictures of a few pixels.
pub const MIN_DIMENSION: u32 = 64;
/// Largest width and height accepted (as for Y4M files).
pub const MAX_DIMENSION: u32 = asp_codec::y4m::MAX_DIMENSION;

/// Why scoring failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VmafError {
    /// VMAF here scores I420 and I444 pictures.
    #[error("{0:?} cannot be scored; use I420 or I444")]
    UnsupportedFormat(YuvFormat),
    /// The size is outside [`MIN_DIMENSION`]..=[`MAX_DIMENSION`], or odd for I420.
    #[error("cannot score {width}x{height} pictures (sides {MIN_DIMENSION}..={MAX_DIMENSION}, even for I420)")]
    BadSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// A picture's layout, size or plane lengths differ from what the scorer was made for.
    #[error("{which} picture does not match the scorer: {detail}")]
    Mismatch {
        /// `"reference"` or `"distorted"`.
        which: &'static str,
        /// What differs.
        detail: String,
    },
    /// [`Vmaf::finish`] without any picture pushed.
    #[error("no pictures were scored")]
    NoFrames,
    /// More pictures than libvmaf can index.
    #[error("too many pictures")]
    TooManyFrames,
    /// A libvmaf call failed; the scorer cannot be used any more after one.
    #[error("libvmaf {call} failed with {code}")]
    Libvmaf {
        /// The C function.
        call: &'static str,
        /// Its return value (a negative errno).
        code: i32,
    },
    /// An earlier libvmaf failure left this scorer unusable.
    #[error("the scorer failed earlier")]
    Failed,
    /// A Y4M file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A Y4M file could not be read.
    #[error("reading {path}: {source}")]
    Y4m {
        /// The file.
        path: String,
        /// Why.
        source: Y4mError,
    },
}

impl From<ffi::CallError> for VmafError {
    fn from(e: ffi::CallError) -> Self {
        Self::Libvmaf { call: e.call, code: e.code }
    }
}

/// Numbers of pictures in two inputs of different lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCounts {
    /// Pictures in the reference.
    pub reference: usize,
    /// Pictures in the distorted input.
    pub distorted: usize,
}

/// VMAF scores of a sequence, 0 (worst) to 100 (indistinguishable from the reference).
#[derive(Debug, Clone, PartialEq)]
pub struct VmafScores {
    /// Score of each picture pair, in order.
    pub per_frame: Vec<f64>,
    /// Arithmetic mean of `per_frame`: the figure usually quoted as "the VMAF".
    pub mean: f64,
    /// Worst picture.
    pub min: f64,
    /// libvmaf's harmonic mean, `n / sum(1 / (1 + s)) - 1`: pulled down by bad pictures.
    pub harmonic_mean: f64,
    /// `Some` when [`score_y4m`] was given files of different lengths: only the first
    /// `per_frame.len()` pictures of each were scored.
    pub length_mismatch: Option<FrameCounts>,
}

/// A VMAF scorer for one sequence of picture pairs of one size and layout.
///
/// Push pairs in display order (VMAF's motion feature compares each picture with the one
/// before), then [`finish`](Self::finish).
#[derive(Debug)]
pub struct Vmaf {
    ctx: ffi::Context,
    format: YuvFormat,
    width: u32,
    height: u32,
    frames: u32,
    failed: bool,
}

impl Vmaf {
    /// A scorer of `width` x `height` pictures in `format` (I420 or I444), with the built-in
    /// [`MODEL_VERSION`] model, computing on `threads` worker threads (0: on the thread that
    /// calls [`push`](Self::push)).
    ///
    /// # Errors
    ///
    /// [`VmafError::UnsupportedFormat`], [`VmafError::BadSize`], or [`VmafError::Libvmaf`] if
    /// libvmaf cannot start or load its model.
    pub fn new(width: u32, height: u32, format: YuvFormat, threads: u32) -> Result<Self, VmafError> {
        if format == YuvFormat::Nv12 {
            return Err(VmafError::UnsupportedFormat(format));
        }
        let range = MIN_DIMENSION..=MAX_DIMENSION;
        let odd = format == YuvFormat::I420 && (width % 2 != 0 || height % 2 != 0);
        if !range.contains(&width) || !range.contains(&height) || odd {
            return Err(VmafError::BadSize { width, height });
        }
        let ctx = ffi::Context::new(format, threads, MODEL_VERSION_C)?;
        Ok(Self { ctx, format, width, height, frames: 0, failed: false })
    }

    /// Scores one pair: the source picture and what came out of the codec.
    ///
    /// # Errors
    ///
    /// [`VmafError::Mismatch`] if either picture's layout, size or planes differ from the
    /// scorer's (the scorer stays usable); [`VmafError::Libvmaf`] if libvmaf fails, after which
    /// every call answers [`VmafError::Failed`]; [`VmafError::TooManyFrames`] past `u32::MAX`.
    pub fn push(&mut self, reference: &YuvImage, distorted: &YuvImage) -> Result<(), VmafError> {
        if self.failed {
            return Err(VmafError::Failed);
        }
        self.check("reference", reference)?;
        self.check("distorted", distorted)?;
        let index = self.frames;
        let next = index.checked_add(1).ok_or(VmafError::TooManyFrames)?;
        if let Err(e) = self.ctx.read_pictures(reference, distorted, index) {
            self.failed = true;
            return Err(e.into());
        }
        self.frames = next;
        Ok(())
    }

    /// Number of pairs pushed.
    #[must_use]
    pub fn frames(&self) -> u32 {
        self.frames
    }

    fn check(&self, which: &'static str, image: &YuvImage) -> Result<(), VmafError> {
        let mismatch = |detail: String| Err(VmafError::Mismatch { which, detail });
        if image.format != self.format || (image.width, image.height) != (self.width, self.height) {
            return mismatch(format!(
                "{:?} {}x{}, expected {:?} {}x{}",
                image.format, image.width, image.height, self.format, self.width, self.height
            ));
        }
        if image.planes.len() != self.format.plane_count() {
            return mismatch(format!("{} planes", image.planes.len()));
        }
        for (i, plane) in image.planes.iter().enumerate() {
            let (w, h) = self.format.plane_size(i, self.width, self.height);
            if plane.len() != w as usize * h as usize {
                return mismatch(format!("plane {i} has {} bytes, expected {}", plane.len(), w as usize * h as usize));
            }
        }
        Ok(())
    }

    /// Finishes the sequence and reads its scores.
    ///
    /// # Errors
    ///
    /// [`VmafError::NoFrames`] if nothing was pushed, [`VmafError::Failed`] after an earlier
    /// libvmaf failure, [`VmafError::Libvmaf`] if libvmaf fails now.
    pub fn finish(mut self) -> Result<VmafScores, VmafError> {
        if self.failed {
            return Err(VmafError::Failed);
        }
        if self.frames == 0 {
            return Err(VmafError::NoFrames);
        }
        self.ctx.flush()?;
        let per_frame = (0..self.frames).map(|i| self.ctx.score_at(i)).collect::<Result<Vec<_>, _>>()?;
        let last = self.frames - 1;
        Ok(VmafScores {
            per_frame,
            mean: self.ctx.pooled(ffi::Pool::Mean, last)?,
            min: self.ctx.pooled(ffi::Pool::Min, last)?,
            harmonic_mean: self.ctx.pooled(ffi::Pool::HarmonicMean, last)?,
            length_mismatch: None,
        })
    }
}

/// libvmaf's version, e.g. `2.3.1`.
#[must_use]
pub fn libvmaf_version() -> String {
    ffi::version()
}

/// Scores the distorted Y4M file against the reference Y4M file, on `threads` workers.
///
/// Both must have the same size and layout (I420 or I444); frame rates are not compared. If one
/// file has more pictures than the other, the pairs the shorter one has are scored, and
/// [`VmafScores::length_mismatch`] gives both counts.
///
/// # Errors
///
/// [`VmafError::Open`] / [`VmafError::Y4m`] if a file cannot be opened or read,
/// [`VmafError::Mismatch`] if the files' sizes or layouts differ, [`VmafError::NoFrames`] if
/// either file has no picture, and what [`Vmaf::new`] and [`Vmaf::push`] answer.
pub fn score_y4m(reference: &Path, distorted: &Path, threads: u32) -> Result<VmafScores, VmafError> {
    let mut reference = Input::open(reference)?;
    let mut distorted = Input::open(distorted)?;
    let (r, d) = (*reference.reader.header(), *distorted.reader.header());
    if (r.width, r.height, r.format) != (d.width, d.height, d.format) {
        return Err(VmafError::Mismatch {
            which: "distorted",
            detail: format!(
                "file is {:?} {}x{}, reference {:?} {}x{}",
                d.format, d.width, d.height, r.format, r.width, r.height
            ),
        });
    }
    let mut vmaf = Vmaf::new(r.width, r.height, r.format, threads)?;
    let mut counts = FrameCounts { reference: 0, distorted: 0 };
    loop {
        match (reference.next()?, distorted.next()?) {
            (Some(a), Some(b)) => {
                vmaf.push(&a, &b)?;
                counts.reference += 1;
                counts.distorted += 1;
            }
            (a, b) => {
                counts.reference += usize::from(a.is_some()) + reference.count_rest()?;
                counts.distorted += usize::from(b.is_some()) + distorted.count_rest()?;
                break;
            }
        }
    }
    let mut scores = vmaf.finish()?;
    if counts.reference != counts.distorted {
        scores.length_mismatch = Some(counts);
    }
    Ok(scores)
}

/// One Y4M input of [`score_y4m`], with its path for error messages.
struct Input {
    path: String,
    reader: Y4mReader<BufReader<File>>,
}

impl Input {
    fn open(path: &Path) -> Result<Self, VmafError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| VmafError::Open { path: name.clone(), source })?;
        let reader =
            Y4mReader::new(BufReader::new(file)).map_err(|source| VmafError::Y4m { path: name.clone(), source })?;
        Ok(Self { path: name, reader })
    }

    fn next(&mut self) -> Result<Option<YuvImage>, VmafError> {
        self.reader.next_frame().map_err(|source| VmafError::Y4m { path: self.path.clone(), source })
    }

    /// Reads to the end, counting the pictures left.
    fn count_rest(&mut self) -> Result<usize, VmafError> {
        let mut n = 0;
        while self.next()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}
