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
//! Beside the pictures, both interfaces carry the server's pointer (`on_cursor` /
//! `CursorSink`), its audio (`on_audio` / `AudioSink`), a microphone the caller feeds
//! (`asp_client_push_audio` / `Microphone`) and the clipboard both ways (`on_clipboard`,
//! `asp_client_copy` / `ClipboardSink`, `Client.copy`).

uniffi::setup_scaffolding!("asp");

pub mod bench;
pub mod c_api;
pub mod checksum;
pub mod client;
pub mod error;
pub mod foreign;
mod media;
pub mod records;
mod runtime;
pub mod server;

pub use error::AspError;
