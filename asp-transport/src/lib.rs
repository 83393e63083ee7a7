//! # asp-transport: ASP over real networks
//!
//! Drives an [`asp_core::Session`] on tokio over a carrier: QUIC datagrams through quinn
//! ([`quic`], with a congestion controller that defers to the engine's pacing), or TLS 1.3
//! over TCP when UDP is blocked ([`tcp`]); [`select`] tries them as a real client would. The
//! server's self-signed certificate is pinned by fingerprint ([`identity`]); clients are
//! admitted by HMAC tokens with an expiry ([`token`]).
//!
//! [`relay`] impairs real sockets in user space with the simulator's link profiles.
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
pub mod profile;
pub mod quic;
pub mod relay;
pub mod select;
pub mod tcp;
pub mod token;

pub use driver::{Connection, Ended};
pub use error::{AcceptError, ConnectError};
