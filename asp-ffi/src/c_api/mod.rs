//! The C ABI: opaque handles (`AspClient`, `AspServer`), `extern "C"` functions returning an
//! [`AspStatus`], a thread-local last-error message, and callbacks for frames and events. The
//! header `bindings/c/include/asp.h` is generated from this module by cbindgen (a test fails
//! when the committed header is out of date).
//!
//! Conventions, for every function:
//! - Pointers passed in must be valid for the call (or NULL where the function says so);
//!   strings are NUL-terminated UTF-8.
//! - On failure the function returns a status other than `ASP_STATUS_OK` and
//!   [`asp_last_error`] on the same thread describes it. No function panics across the ABI: a
//!   panic inside becomes `ASP_STATUS_PANIC`.
//! - Strings the SDK returns through a `char **` belong to the caller, who frees them with
//!   [`asp_string_free`].
//! - Thread safety is stated per function. Callbacks run on the SDK's threads; from a
//!   callback, functions that block (connect, stop, free, waiting for an event) fail with
//!   `ASP_STATUS_WRONG_THREAD` instead of deadlocking.
#![allow(unsafe_code)]

pub mod client;
pub mod server;

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::AspError;

/// What a call returned.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspStatus {
    /// Success.
    Ok = 0,
    /// An argument is NULL, malformed or out of range.
    InvalidArgument = 1,
    /// The client could not connect.
    Connect = 2,
    /// The server could not start.
    Server = 3,
    /// The session has ended or the handle was stopped.
    Ended = 4,
    /// The feature is named in the interface but not built yet.
    Unsupported = 5,
    /// A blocking call from a callback.
    WrongThread = 6,
    /// A bench run failed.
    Bench = 7,
    /// Something inside the SDK failed.
    Internal = 8,
    /// The SDK panicked; the handle should be freed.
    Panic = 9,
}

impl From<&AspError> for AspStatus {
    fn from(e: &AspError) -> Self {
        match e {
            AspError::InvalidArgument { .. } => Self::InvalidArgument,
            AspError::Connect { .. } => Self::Connect,
            AspError::Server { .. } => Self::Server,
            AspError::Ended => Self::Ended,
            AspError::Unsupported { .. } => Self::Unsupported,
            AspError::WrongThread { .. } => Self::WrongThread,
            AspError::Bench { .. } => Self::Bench,
            AspError::Internal { .. } => Self::Internal,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// Runs `f`, turning its error or panic into a status and the last-error message.
pub(crate) fn call(f: impl FnOnce() -> Result<(), AspError>) -> AspStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            AspStatus::Ok
        }
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            AspStatus::from(&e)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            set_last_error(&format!("the SDK panicked: {what}"));
            AspStatus::Panic
        }
    }
}

/// A string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn str_arg(p: *const c_char, what: &str) -> Result<String, AspError> {
    if p.is_null() {
        return Err(AspError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-null, and the caller promises a NUL-terminated string valid for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(str::to_owned).map_err(|_| AspError::invalid(format!("{what} is not UTF-8")))
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg(p: *const c_char, what: &str) -> Result<Option<String>, AspError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's promise, passed on.
    unsafe { str_arg(p, what) }.map(Some)
}

/// Hands `s` to the caller through `out`.
///
/// # Safety
/// `out` is NULL (an error) or valid for a write.
pub(crate) unsafe fn put_string(out: *mut *mut c_char, s: String) -> Result<(), AspError> {
    if out.is_null() {
        return Err(AspError::invalid("out is NULL"));
    }
    let s = CString::new(s.replace('\0', " ")).unwrap_or_default();
    // SAFETY: non-null and, by the caller's promise, valid for a write.
    unsafe { *out = s.into_raw() };
    Ok(())
}

/// Writes `value` through `out`.
///
/// # Safety
/// `out` is NULL (an error) or valid for a write of `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T) -> Result<(), AspError> {
    if out.is_null() {
        return Err(AspError::invalid("out is NULL"));
    }
    // SAFETY: non-null and, by the caller's promise, valid for a write.
    unsafe { out.write(value) };
    Ok(())
}

/// The message of the last failed call on this thread ("" after a success). The pointer stays
/// valid until the next `asp_` call on this thread. Thread safety: any thread; each has its
/// own message.
#[unsafe(no_mangle)]
pub extern "C" fn asp_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Frees a string the SDK returned. NULL is ignored. Thread safety: any thread.
///
/// # Safety
/// `s` is NULL or a string this SDK returned and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn asp_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: by the caller's promise it came from `CString::into_raw` in `put_string`.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// The SDK's version, a static string. Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn asp_version() -> *const c_char {
    static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}
