//! # asp: the ASP SDK's pipelines
//!
//! The crate users call. A [`server`] captures a [`source::FrameSource`], tracks damage and the
//! scene, encodes on its own thread with the rate controller's bitrate, and streams over an
//! [`asp_transport`] connection; it applies the client's input through a
//! [`source::InputInjector`]. A [`client`] decodes on its own thread and hands pictures to a
//! [`sink::FrameSink`], sends input, measures glass-to-glass and click-to-photon latency, and
//! reports stalls to the server. [`bench`](mod@bench) runs both through the network emulator
//! and scores what the client showed; `viewer` (feature `viewer`) shows a client's stream in a
//! window and sends its keyboard and mouse; the `asp` binary wraps it all (`asp demo`, `serve`,
//! `connect`, `bench`).
//!
//! Beside pictures and input a session carries the pointer ([`cursor`]), audio both ways
//! ([`audio`]) and the clipboard under the server's policy ([`clipboard`]); [`host`] serves many
//! clients on one port; USB devices are redirected over usbredir ([`usb`]: the codec, software
//! devices, a guest side, the session's USB channel). The window-management messages
//! ([`proto::window`]) are built but not yet carried by a session.

pub mod audio;
pub mod baseline;
pub mod bench;
mod bulk;
pub mod client;
pub mod clipboard;
pub mod clock;
pub mod clock_sync;
pub mod cursor;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod loopback;
pub mod mailbox;
pub mod metrics;
pub mod proto;
pub mod report;
pub mod server;
pub mod sink;
pub mod source;
pub mod stall;
pub mod usb;
#[cfg(feature = "viewer")]
pub mod viewer;
pub mod windows;
#[cfg(all(target_os = "linux", feature = "x11"))]
pub mod x11;
pub mod yuv420;
