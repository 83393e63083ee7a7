//! # asp-ffi: the ASP SDK for C, Kotlin, Swift and Python
//!
//! Two interfaces over the same client and server ([`client::ClientCore`],
//! [`server::ServerCore`], which wrap the `asp` facade and run it on one shared tokio
//! runtime):
//!
//! - [`c_api`]: a C ABI with opaque handles, status codes and a thread-local last-error
//!   message, frame and event callbacks. Its header, `bindings/c/include/asp.h`, is generated
//!   by cbindgen.
//! - The uniffi interface ([`foreign`], [`records`], [`bench`](mod@bench)): `Client` and `Server`
//!   objects, `FrameSink` / `EventSink` / `AudioSink` callback interfaces, records for
//!   configuration and figures, typed errors ([`AspError`]), and `run_bench` returning a bench
//!   report as JSON. `uniffi-bindgen` (a binary of this crate) writes the Kotlin, Swift and
//!   Python sources from the built library.
//!
//! Every frame callback gets the decoded planes; the bindings' tests check them with
//! [`checksum::frame_checksum`], computed in each language from the bytes it received.
//!
//! The server's pointer reaches the client through `on_cursor` / `CursorSink`. Audio and
//! clipboard are named in both interfaces but not carried yet: the calls that would use them
//! fail with [`AspError::Unsupported`] / `ASP_STATUS_UNSUPPORTED`.

uniffi::setup_scaffolding!("asp");

pub mod bench;
pub mod c_api;
pub mod checksum;
pub mod client;
pub mod error;
pub mod foreign;
pub mod records;
mod runtime;
pub mod server;
mod unfinished;

pub use error::AspError;
