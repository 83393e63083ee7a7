//! The streaming parser: the peer's bytes in, split anywhere; packets out, with counters.

use bytes::{Buf, BytesMut};

use super::caps::{Caps, Role};
use super::codec::{Codec, Header, Limits};
use super::error::{DecodeError, EncodeError};
use super::packet::{Hello, Packet, PacketType};

/// A packet from the peer and the id its header carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The header's id.
    pub id: u64,
    /// The packet.
    pub packet: Packet,
}

/// What a [`Parser`] has seen.
///
/// At every moment `bytes_fed + skip_pending == packet_bytes + refused_bytes + buffered`:
/// every byte fed is part of a packet yielded, of a packet refused, or still held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParserStats {
    /// Bytes given to [`Parser::feed`].
    pub bytes_fed: u64,
    /// Packets yielded.
    pub packets: u64,
    /// Their bytes, headers included.
    pub packet_bytes: u64,
    /// Data packets (control, bulk, iso, interrupt, buffered bulk) among them.
    pub data_packets: u64,
    /// The payload bytes those carried.
    pub payload_bytes: u64,
    /// Packets refused (each an error from [`Parser::poll`]).
    pub refused: u64,
    /// Their bytes, headers included, counted in full when refused (see `skip_pending`).
    pub refused_bytes: u64,
    /// Bytes held: fed, not yet part of a packet yielded or refused.
    pub buffered: usize,
    /// Bytes of a refused packet still to come, to be dropped as they arrive.
    pub skip_pending: u64,
}

impl ParserStats {
    /// Bytes of the stream accounted for by packets yielded or refused (including a refused
    /// packet's bytes still to come): where the next packet starts.
    #[must_use]
    pub fn consumed(&self) -> u64 {
        self.packet_bytes + self.refused_bytes
    }
}

/// Reads the packets the peer sends, from bytes split anywhere, and negotiates the link's
/// capabilities from the peer's hello.
///
/// Run loop: [`feed`](Parser::feed) what the transport delivered, then
/// [`poll`](Parser::poll) until it returns `None`. Send [`encode_hello`](Parser::encode_hello)
/// first; once the peer's hello has been yielded, [`outgoing`](Parser::outgoing) gives the
/// codec for everything else this side sends.
///
/// A refused packet is an error from `poll`, counted in [`ParserStats::refused`]; its bytes
/// are skipped by its header's length without being buffered, and parsing goes on with the
/// next packet. The first packet must be the peer's hello, and only the first.
#[derive(Debug)]
pub struct Parser {
    role: Role,
    ours: Caps,
    peer: Option<Caps>,
    limits: Limits,
    incoming: Codec,
    buf: BytesMut,
    /// The header of the packet being buffered, once it has been checked.
    pending: Option<Header>,
    stats: ParserStats,
}

impl Parser {
    /// A parser for the side playing `role`, which announces `ours` in its hello.
    #[must_use]
    pub fn new(role: Role, ours: Caps, limits: Limits) -> Parser {
        Parser {
            role,
            ours,
            peer: None,
            limits,
            incoming: Codec::new(role.peer(), Caps::NONE, limits),
            buf: BytesMut::new(),
            pending: None,
            stats: ParserStats::default(),
        }
    }

    /// The role of this side (the peer plays the other).
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// What this side announces.
    #[must_use]
    pub fn our_caps(&self) -> Caps {
        self.ours
    }

    /// What the peer announced, once its hello has arrived.
    #[must_use]
    pub fn peer_caps(&self) -> Option<Caps> {
        self.peer
    }

    /// What both announced, once the peer's hello has arrived.
    #[must_use]
    pub fn negotiated(&self) -> Option<Caps> {
        self.peer.map(|peer| Caps::negotiate(self.ours, peer))
    }

    /// The codec the peer's packets are read with now.
    #[must_use]
    pub fn incoming(&self) -> Codec {
        self.incoming
    }

    /// The codec for what this side sends, once the peer's hello has arrived; until then
    /// nothing but this side's hello may be sent.
    #[must_use]
    pub fn outgoing(&self) -> Option<Codec> {
        self.negotiated().map(|caps| Codec::new(self.role, caps, self.limits))
    }

    /// Appends this side's hello (id 0, 32-bit header, one capability word: [`our_caps`](Parser::our_caps))
    /// to `out`.
    ///
    /// # Errors
    /// A version string of 64 bytes or more, or with a NUL.
    pub fn encode_hello(&self, version: &str, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        let hello = Packet::Hello(Hello::new(version, self.ours)?);
        Codec::new(self.role, Caps::NONE, self.limits).encode(0, &hello, out)
    }

    /// Takes bytes from the peer, as they came; [`poll`](Parser::poll) parses them.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.stats.bytes_fed += data.len() as u64;
    }

    /// The next packet, or why the next one was refused; `None` when more bytes are needed.
    #[must_use]
    pub fn poll(&mut self) -> Option<Result<Received, DecodeError>> {
        if self.stats.skip_pending > 0 {
            let n = self.buf.len().min(usize::try_from(self.stats.skip_pending).unwrap_or(usize::MAX));
            self.buf.advance(n);
            self.stats.skip_pending -= n as u64;
            if self.stats.skip_pending > 0 {
                return None;
            }
        }
        let header_len = self.incoming.header_len();
        let header = match self.pending {
            Some(header) => header,
            None => {
                let header = Header::decode(&self.buf, self.incoming.wide_ids())?;
                if let Err(error) = self.check(&header) {
                    self.buf.advance(header_len);
                    self.stats.refused += 1;
                    self.stats.refused_bytes += header_len as u64 + u64::from(header.length);
                    self.stats.skip_pending = u64::from(header.length);
                    return Some(Err(error));
                }
                self.pending = Some(header);
                header
            }
        };
        let frame_len = header_len + header.length as usize;
        if self.buf.len() < frame_len {
            return None;
        }
        self.pending = None;
        self.buf.advance(header_len);
        let body = self.buf.split_to(header.length as usize).freeze();
        match self.incoming.decode_body(&header, body) {
            Ok(packet) => {
                self.stats.packets += 1;
                self.stats.packet_bytes += frame_len as u64;
                if let Some(payload) = packet.payload() {
                    self.stats.data_packets += 1;
                    self.stats.payload_bytes += payload.len() as u64;
                }
                if let Packet::Hello(hello) = &packet {
                    let peer = hello.caps();
                    self.peer = Some(peer);
                    self.incoming = Codec::new(self.role.peer(), Caps::negotiate(self.ours, peer), self.limits);
                }
                Some(Ok(Received { id: header.id, packet }))
            }
            Err(error) => {
                self.stats.refused += 1;
                self.stats.refused_bytes += frame_len as u64;
                Some(Err(error))
            }
        }
    }

    /// Its counters.
    #[must_use]
    pub fn stats(&self) -> ParserStats {
        ParserStats { buffered: self.buf.len(), ..self.stats }
    }

    fn check(&self, header: &Header) -> Result<(), DecodeError> {
        let hello = header.packet_type == PacketType::Hello.code();
        match (self.peer.is_some(), hello) {
            (false, false) => Err(DecodeError::ExpectedHello { code: header.packet_type }),
            (true, true) => Err(DecodeError::DuplicateHello),
            _ => self.incoming.check_header(header).map(drop),
        }
    }
}
