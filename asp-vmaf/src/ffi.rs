//! The one place this crate touches libvmaf: a context with its model loaded, pictures copied
//! into libvmaf's own buffers, and scores read back.
//!
//! Callers check sizes and formats before they get here; this module checks only what memory
//! safety needs (plane lengths against the rows it copies).
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_uint};
use std::ptr;

use asp_codec::{YuvFormat, YuvImage};
use libvmaf_sys as sys;

/// A failed libvmaf call: which one, and the negative errno it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallError {
    pub(crate) call: &'static str,
    pub(crate) code: c_int,
}

fn check(call: &'static str, code: c_int) -> Result<(), CallError> {
    if code == 0 { Ok(()) } else { Err(CallError { call, code }) }
}

/// Pooling methods this crate reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pool {
    Mean,
    Min,
    HarmonicMean,
}

/// A libvmaf context with one model, owned; both are freed on drop.
#[derive(Debug)]
pub(crate) struct Context {
    ctx: *mut sys::VmafContext,
    model: *mut sys::VmafModel,
    pix_fmt: sys::VmafPixelFormat,
}

// SAFETY: a libvmaf context and model have no thread affinity (no thread-local state; its worker
// pool is internal); `Context` owns both and every call needs `&mut self`, so only one thread uses
// them at a time.
unsafe impl Send for Context {}

impl Context {
    /// A context with `threads` workers (0: score on the calling thread) and the built-in model
    /// `version`, registered for its features.
    pub(crate) fn new(format: YuvFormat, threads: u32, version: &'static CStr) -> Result<Self, CallError> {
        let pix_fmt = match format {
            YuvFormat::I420 => sys::VmafPixelFormat::VMAF_PIX_FMT_YUV420P,
            YuvFormat::I444 => sys::VmafPixelFormat::VMAF_PIX_FMT_YUV444P,
            // Callers refuse other layouts first; treat as an invalid argument regardless.
            YuvFormat::Nv12 => return Err(CallError { call: "vmaf_picture_alloc", code: -22 }),
        };
        let cfg = sys::VmafConfiguration {
            log_level: sys::VmafLogLevel::VMAF_LOG_LEVEL_NONE,
            n_threads: threads,
            n_subsample: 1,
            cpumask: 0,
        };
        let mut ctx = ptr::null_mut();
        // SAFETY: `ctx` is a valid out-pointer; `cfg` is passed by value.
        check("vmaf_init", unsafe { sys::vmaf_init(&mut ctx, cfg) })?;
        let mut this = Self { ctx, model: ptr::null_mut(), pix_fmt };
        let mut model_cfg = sys::VmafModelConfig {
            name: c"vmaf".as_ptr(),
            flags: sys::VmafModelFlags::VMAF_MODEL_FLAGS_DEFAULT as u64,
        };
        // SAFETY: valid out-pointer and config; the name and version are static NUL-terminated
        // strings. On failure `model` stays null and drop skips it.
        check("vmaf_model_load", unsafe { sys::vmaf_model_load(&mut this.model, &mut model_cfg, version.as_ptr()) })?;
        // SAFETY: both pointers were just returned by libvmaf and are owned by `this`.
        check("vmaf_use_features_from_model", unsafe { sys::vmaf_use_features_from_model(this.ctx, this.model) })?;
        Ok(this)
    }

    /// Copies both pictures into libvmaf buffers and hands them to libvmaf as picture `index`.
    /// Both must be in this context's layout, of the same size, with full-length planes.
    pub(crate) fn read_pictures(
        &mut self,
        reference: &YuvImage,
        distorted: &YuvImage,
        index: u32,
    ) -> Result<(), CallError> {
        let mut pic_ref = self.picture(reference)?;
        let mut pic_dist = match self.picture(distorted) {
            Ok(p) => p,
            Err(e) => {
                unref(&mut pic_ref);
                return Err(e);
            }
        };
        // SAFETY: both pictures were allocated by `vmaf_picture_alloc` and filled within their
        // buffers. On success libvmaf has taken (and released) our references. On failure it may
        // or may not have; `vmaf_picture_unref` zeroes a released picture and answers a second
        // unref with -EINVAL without touching memory, so releasing both here is sound either way.
        let code = unsafe { sys::vmaf_read_pictures(self.ctx, &mut pic_ref, &mut pic_dist, index) };
        if code != 0 {
            unref(&mut pic_ref);
            unref(&mut pic_dist);
        }
        check("vmaf_read_pictures", code)
    }

    /// A libvmaf picture holding a copy of `image`.
    fn picture(&self, image: &YuvImage) -> Result<sys::VmafPicture, CallError> {
        let mut pic = sys::VmafPicture {
            pix_fmt: self.pix_fmt,
            bpc: 0,
            w: [0; 3],
            h: [0; 3],
            stride: [0; 3],
            data: [ptr::null_mut(); 3],
            ref_: ptr::null_mut(),
        };
        // SAFETY: `pic` is a valid picture struct to fill; libvmaf allocates its planes.
        check("vmaf_picture_alloc", unsafe {
            sys::vmaf_picture_alloc(&mut pic, self.pix_fmt, 8, image.width as c_uint, image.height as c_uint)
        })?;
        for (i, plane) in image.planes.iter().enumerate().take(3) {
            let (w, h) = (pic.w[i] as usize, pic.h[i] as usize);
            let stride = pic.stride[i] as usize;
            let src_stride = image.plane_width(i);
            if w > src_stride || plane.len() < src_stride * h.saturating_sub(1) + w || stride < w {
                unref(&mut pic);
                return Err(CallError { call: "vmaf_picture_alloc", code: -22 });
            }
            for y in 0..h {
                let row = &plane[y * src_stride..y * src_stride + w];
                // SAFETY: libvmaf allocated `stride * h` bytes for plane i (8 bits per sample),
                // `y < h` and `w <= stride`, so the destination row is inside the buffer; the
                // source row is a checked slice of `w` bytes; the buffers do not overlap.
                unsafe {
                    ptr::copy_nonoverlapping(row.as_ptr(), pic.data[i].cast::<u8>().add(y * stride), w);
                }
            }
        }
        Ok(pic)
    }

    /// Tells libvmaf that no more pictures come, so temporal features finish.
    pub(crate) fn flush(&mut self) -> Result<(), CallError> {
        // SAFETY: the context is valid; two null pictures is libvmaf's flush request.
        check("vmaf_read_pictures", unsafe { sys::vmaf_read_pictures(self.ctx, ptr::null_mut(), ptr::null_mut(), 0) })
    }

    /// The model's score of picture `index` (after [`flush`](Self::flush)).
    pub(crate) fn score_at(&mut self, index: u32) -> Result<f64, CallError> {
        let mut score = 0.0;
        // SAFETY: valid context, model and out-pointer.
        check("vmaf_score_at_index", unsafe { sys::vmaf_score_at_index(self.ctx, self.model, &mut score, index) })?;
        Ok(score)
    }

    /// The model's scores of pictures `0..=last`, pooled by libvmaf.
    pub(crate) fn pooled(&mut self, pool: Pool, last: u32) -> Result<f64, CallError> {
        let method = match pool {
            Pool::Mean => sys::VmafPoolingMethod::VMAF_POOL_METHOD_MEAN,
            Pool::Min => sys::VmafPoolingMethod::VMAF_POOL_METHOD_MIN,
            Pool::HarmonicMean => sys::VmafPoolingMethod::VMAF_POOL_METHOD_HARMONIC_MEAN,
        };
        let mut score = 0.0;
        // SAFETY: valid context, model and out-pointer.
        check("vmaf_score_pooled", unsafe {
            sys::vmaf_score_pooled(self.ctx, self.model, method, &mut score, 0, last)
        })?;
        Ok(score)
    }
}

fn unref(pic: &mut sys::VmafPicture) {
    // SAFETY: `pic` came from `vmaf_picture_alloc`; unref of an already released (zeroed)
    // picture returns -EINVAL and touches nothing.
    unsafe {
        sys::vmaf_picture_unref(pic);
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from `vmaf_init` and is closed once, here (waiting for its workers);
        // then the model it used, if one was loaded, is destroyed once.
        unsafe {
            sys::vmaf_close(self.ctx);
            if !self.model.is_null() {
                sys::vmaf_model_destroy(self.model);
            }
        }
    }
}

/// libvmaf's version string.
pub(crate) fn version() -> String {
    // SAFETY: `vmaf_version` returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::vmaf_version()) }.to_string_lossy().into_owned()
}
