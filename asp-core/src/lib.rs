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
//! use asp_core::{Input, Output, Session, SessionConfig, Timestamp};
//!
//! let mut client = Session::client(SessionConfig::default(), Timestamp::ZERO).unwrap();
//! let mut server = Session::server(SessionConfig::default(), Timestamp::ZERO).unwrap();
//! let now = Timestamp::ZERO;
//! // A zero-delay "carrier": hand every datagram straight to the other end.
//! for _ in 0..10 {
//!     for (from, to) in [(&mut client, &mut server), (&mut server, &mut client)] {
//!         loop {
//!             match from.poll_output(now) {
//!                 Output::Transmit(datagram) => to.handle_input(now, Input::Datagram(datagram)),
//!                 Output::Event(event) => println!("{event:?}"),
//!                 Output::Timeout(_wake_at) => break,
//!             }
//!         }
//!     }
//! }
//! assert!(client.is_established() && server.is_established());
//! ```
//!
//! The wire format is documented byte by byte in `docs/PROTOCOL.md`.

#![forbid(unsafe_code)]

pub mod channel;
pub mod config;
pub mod error;
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
pub mod wire;

pub use channel::{ChannelConfig, ChannelId, ChannelKind, DeliveryMode, PriorityClass};
pub use config::{InvalidConfig, SessionConfig};
pub use error::{CloseCode, SessionError};
pub use negotiate::{CapabilityMismatch, Negotiated, negotiate};
pub use scheduler::SchedulerConfig;
pub use send_channel::SendError;
pub use session::{Event, Input, OpenError, Output, Role, Session, TimeoutReason};
pub use stats::{BadPacketCounters, ChannelStats, DropCounters, DropReason, RttStats, SessionStats};
pub use time::Timestamp;
