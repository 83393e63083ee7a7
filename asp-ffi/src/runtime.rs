//! The tokio runtime every handle of the bindings shares, started on first use. Callers of the
//! bindings have no runtime of their own (or one we must not block), so blocking calls enter
//! this one; callbacks run on the SDK's own threads and are marked, so that a blocking call
//! made from one fails instead of deadlocking.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;

use crate::error::AspError;

fn runtime() -> Result<&'static tokio::runtime::Runtime, AspError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("asp-ffi")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| AspError::Internal { reason: format!("cannot start the runtime: {e}") })
}

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread marked as inside a callback.
pub(crate) fn in_callback<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_CALLBACK.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(IN_CALLBACK.with(|c| c.replace(true)));
    f()
}

/// Runs `future` to completion on the shared runtime, from a thread outside it.
///
/// # Errors
/// [`AspError::WrongThread`] from a callback or a runtime thread (`what` names the call).
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> Result<F::Output, AspError> {
    ensure_may_block(what)?;
    Ok(runtime()?.block_on(future))
}

/// Whether this thread may block on the runtime: not from a callback, nor from a runtime
/// thread.
///
/// # Errors
/// [`AspError::WrongThread`] naming `what`.
pub(crate) fn ensure_may_block(what: &str) -> Result<(), AspError> {
    if IN_CALLBACK.with(Cell::get) || tokio::runtime::Handle::try_current().is_ok() {
        return Err(AspError::WrongThread { reason: format!("{what} blocks; call it from your own thread") });
    }
    Ok(())
}

/// The shared runtime's handle, for spawning.
pub(crate) fn handle() -> Result<tokio::runtime::Handle, AspError> {
    Ok(runtime()?.handle().clone())
}
