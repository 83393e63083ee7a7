//! # asp-transport: ASP over real networks
//!
//! Drives an [`asp_core::Session`] on tokio over a carrier. This first part carries ASP over
//! TLS 1.3 on TCP ([`tcp`]), with a self-signed server certificate that clients pin by
//! fingerprint ([`identity`]) and HMAC admission tokens with an expiry ([`token`]).
//!
//! Not built yet (the transport issue's remaining work, each said plainly where it belongs):
//! the QUIC carrier over quinn datagrams with a congestion controller that defers to the
//! engine, automatic QUIC-then-TCP selection, and the real-socket impairment relay.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use asp_core::SessionConfig;
//! use asp_transport::{identity::ServerIdentity, tcp, token::TokenKey};
//!
//! let identity = ServerIdentity::generate(&["localhost"])?;
//! let key = TokenKey::new(&[42; 32]);
//! let token = key.issue("viewer", u64::MAX);
//! let server = tcp::TcpServer::bind("127.0.0.1:0".parse()?, &identity, key, SessionConfig::default()).await?;
//! let addr = server.local_addr()?;
//! tokio::spawn(async move { server.accept().await });
//! let mut client = tcp::connect(addr, identity.fingerprint(), &token, SessionConfig::default()).await?;
//! while let Some(event) = client.next_event().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

pub mod driver;
pub mod error;
mod framing;
pub mod identity;
pub mod tcp;
pub mod token;

pub use driver::{Connection, Ended};
pub use error::{AcceptError, ConnectError};
