//! The wire format: everything that turns bytes into protocol structures and back. Every
//! decoder here is fuzzed (fuzz/) and checked against the hex vectors in docs/vectors/.

pub mod coding;
pub mod control;
pub mod frame;
pub mod handshake;
pub mod packet;
