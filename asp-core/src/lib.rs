//! # asp-core: the sans-IO protocol engine of ASP
//!
//! ASP (Adaptive Streaming Protocol) carries a remote desktop over one connection split into
//! prioritized virtual channels. This crate is the whole protocol with no I/O: wire format,
//! handshake with version and capability negotiation, channels with four delivery modes,
//! acknowledgements and retransmission over a datagram carrier, a priority scheduler with
//! pacing, statistics, and a deterministic network simulator for tests.
//!
//! It never opens a socket, starts a thread or reads a clock: time comes in as `now`, and
//! randomness from a seed in [`SessionConfig`]. Carriers (QUIC datagrams, TLS over TCP, the
//! simulator) move the datagrams a [`Session`] produces.
//!
//! # Run loop
//!
//! ```
//! use asp_core::{Event, Input, Output, Session, SessionConfig, Timestamp};
//!
//! /// Drains `from`, handing its datagrams straight to `to` (a perfect, instant "carrier").
//! fn pump(from: &mut Session, to: &mut Session, now: Timestamp) -> Vec<Event> {
//!     let mut events = Vec::new();
//!     loop {
//!         match from.poll_output(now) {
//!             Output::Transmit(datagram) => to.handle_input(now, Input::Datagram(datagram)),
//!             Output::Event(event) => events.push(event),
//!             // A real driver sleeps until `wake_at` (or a datagram), then feeds
//!             // `Input::Timeout`.
//!             Output::Timeout(_wake_at) => return events,
//!         }
//!     }
//! }
//!
//! let now = Timestamp::ZERO;
//! let mut client = Session::client(SessionConfig::default(), now).unwrap();
//! let mut server = Session::server(SessionConfig::default(), now).unwrap();
//! pump(&mut client, &mut server, now); // Hello
//! pump(&mut server, &mut client, now); // Welcome
//! let events = pump(&mut client, &mut server, now);
//! assert!(matches!(events[0], Event::Connected(_)));
//! assert!(client.is_established() && server.is_established());
//! ```
//!
//! The wire format is documented byte by byte in `docs/PROTOCOL.md`.

#![forbid(unsafe_code)]

pub mod cc;
pub mod channel;
pub mod config;
pub mod error;
mod fec;
#[doc(hidden)]
pub mod fuzzing;
pub mod negotiate;
mod pacer;
mod range_set;
mod recv_channel;
mod rtt;
pub mod scheduler;
mod send_channel;
pub mod session;
pub mod sim;
pub mod stats;
pub mod time;
#[doc(hidden)]
pub mod vectors;
pub mod wire;

pub use cc::{NetworkClass, RateControlConfig, RateEstimate};
pub use channel::{ChannelConfig, ChannelId, ChannelKind, DeliveryMode, PriorityClass};
pub use config::{InvalidConfig, SessionConfig};
pub use error::{CloseCode, SessionError};
pub use negotiate::{CapabilityMismatch, Negotiated, negotiate};
pub use scheduler::SchedulerConfig;
pub use send_channel::SendError;
pub use session::{Event, Input, OpenError, Output, Role, Session, TimeoutReason};
pub use stats::{BadPacketCounters, ChannelStats, DropCounters, DropReason, RttStats, SessionStats};
pub use time::Timestamp;
