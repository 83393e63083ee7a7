//! Packets to bytes and back, for one direction of a link with known capabilities.

use bytes::{BufMut, Bytes};

use super::caps::{Capability, Caps, Role};
use super::error::{DecodeError, EncodeError, InvalidLimits, Violation};
use super::packet::{
    BufferedBulkPacket, BulkPacket, ControlPacket, DeviceConnect, EpInfo, Hello, InterfaceInfo, InterruptPacket,
    IsoPacket, Packet, PacketType, Speed, Status, TransferType, Version,
};
use super::{
    DEFAULT_MAX_PACKET_LEN, MAX_CAP_WORDS, MAX_TRANSFER_LEN, MIN_MAX_PACKET_LEN, PROTOCOL_MAX_PACKET_LEN, VERSION_LEN,
};

/// How much a link accepts, checked once at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_packet_len: u32,
}

impl Limits {
    /// Packets whose `length` (the bytes after the header) exceeds `max_packet_len` are
    /// refused, and not written.
    ///
    /// # Errors
    /// When `max_packet_len` is outside [`MIN_MAX_PACKET_LEN`]..=[`PROTOCOL_MAX_PACKET_LEN`].
    pub fn new(max_packet_len: u32) -> Result<Limits, InvalidLimits> {
        if (MIN_MAX_PACKET_LEN..=PROTOCOL_MAX_PACKET_LEN).contains(&max_packet_len) {
            Ok(Limits { max_packet_len })
        } else {
            Err(InvalidLimits { actual: max_packet_len, min: MIN_MAX_PACKET_LEN, max: PROTOCOL_MAX_PACKET_LEN })
        }
    }

    /// The largest `length` accepted.
    #[must_use]
    pub fn max_packet_len(self) -> u32 {
        self.max_packet_len
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_packet_len: DEFAULT_MAX_PACKET_LEN }
    }
}

/// The header every packet starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The type's code ([`PacketType::code`]); unknown codes are kept for the error.
    pub packet_type: u32,
    /// Bytes after the header: the type's fixed header and its data.
    pub length: u32,
    /// Matches an answer to its request; 32 bits on the wire unless both sides announce
    /// [`Capability::Ids64`].
    pub id: u64,
}

impl Header {
    /// Its size: 16 bytes with 64-bit ids, 12 without.
    #[must_use]
    pub fn len(wide_ids: bool) -> usize {
        if wide_ids { 16 } else { 12 }
    }

    /// The header at the start of `buf`, if it is all there.
    #[must_use]
    pub fn decode(buf: &[u8], wide_ids: bool) -> Option<Header> {
        let mut r = Reader::new(buf.get(..Header::len(wide_ids))?);
        let packet_type = r.u32()?;
        let length = r.u32()?;
        let id = if wide_ids { r.u64()? } else { u64::from(r.u32()?) };
        Some(Header { packet_type, length, id })
    }
}

/// Reads and writes the packets one side of a link sends, given what the hellos negotiated:
/// a plain value, cheap to copy. A [`Parser`](super::Parser) hands out the ones for both
/// directions; before the hellos, [`Codec::new`] with [`Caps::NONE`] frames the hello itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    sender: Role,
    caps: Caps,
    limits: Limits,
}

impl Codec {
    /// The codec for packets `sender` sends on a link that negotiated `negotiated`
    /// (normalized, see [`Caps::normalized`]).
    #[must_use]
    pub fn new(sender: Role, negotiated: Caps, limits: Limits) -> Codec {
        Codec { sender, caps: negotiated.normalized(), limits }
    }

    /// Who sends the packets this codec reads and writes.
    #[must_use]
    pub fn sender(&self) -> Role {
        self.sender
    }

    /// The negotiated capabilities it frames packets for.
    #[must_use]
    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// Its limits.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether ids are 64-bit.
    #[must_use]
    pub fn wide_ids(&self) -> bool {
        self.caps.contains(Capability::Ids64)
    }

    /// The header's size.
    #[must_use]
    pub fn header_len(&self) -> usize {
        Header::len(self.wide_ids())
    }

    /// What can be checked from the header alone: a known type, sent by this side, allowed by
    /// the capabilities, within the limit, with a length the type can have.
    ///
    /// # Errors
    /// The first rule the header breaks.
    pub fn check_header(&self, header: &Header) -> Result<PacketType, DecodeError> {
        let packet =
            PacketType::from_code(header.packet_type).ok_or(DecodeError::UnknownType { code: header.packet_type })?;
        if header.length > self.limits.max_packet_len {
            return Err(DecodeError::TooLong { length: header.length, max: self.limits.max_packet_len });
        }
        self.check_type(packet)?;
        let fixed = packet.fixed_len(self.caps);
        let length = header.length as usize;
        if length < fixed {
            return Err(DecodeError::Short { packet, length: header.length, needed: fixed });
        }
        if length > fixed && !packet.has_data() {
            return Err(DecodeError::LengthMismatch { packet, length: header.length, expected: fixed });
        }
        if packet == PacketType::Hello {
            let words = length - fixed;
            if words % 4 != 0 || words / 4 > MAX_CAP_WORDS {
                return Err(DecodeError::CapWords { len: words });
            }
        }
        Ok(packet)
    }

    /// The packet whose header is `header` and whose bytes after the header are `body`
    /// (payloads share `body`'s memory).
    ///
    /// # Errors
    /// The first rule the packet breaks; [`DecodeError::FrameLength`] when `body` is not
    /// `header.length` bytes.
    pub fn decode_body(&self, header: &Header, body: Bytes) -> Result<Packet, DecodeError> {
        let packet_type = self.check_header(header)?;
        if body.len() != header.length as usize {
            let header_len = self.header_len() as u64;
            return Err(DecodeError::FrameLength {
                expected: header_len + u64::from(header.length),
                actual: self.header_len() + body.len(),
            });
        }
        let fixed = packet_type.fixed_len(self.caps);
        let data = body.slice(fixed..);
        let short = DecodeError::Short { packet: packet_type, length: header.length, needed: fixed };
        let head = body.get(..fixed).ok_or_else(|| short.clone())?;
        let packet = self.decode_fields(packet_type, head, data)?.ok_or(short)?;
        self.validate(&packet)?;
        Ok(packet)
    }

    /// The packet `frame` holds: exactly one header and what it announces.
    ///
    /// # Errors
    /// As [`Codec::decode_body`].
    pub fn decode(&self, frame: Bytes) -> Result<(u64, Packet), DecodeError> {
        let header_len = self.header_len();
        let Some(header) = Header::decode(&frame, self.wide_ids()) else {
            return Err(DecodeError::FrameLength { expected: header_len as u64, actual: frame.len() });
        };
        self.check_header(&header)?;
        let packet = self.decode_body(&header, frame.slice(header_len..))?;
        Ok((header.id, packet))
    }

    /// Checks the rules of the protocol on a packet this side would send.
    ///
    /// # Errors
    /// The first rule it breaks.
    pub fn validate(&self, packet: &Packet) -> Result<(), Violation> {
        let packet_type = packet.packet_type();
        self.check_type(packet_type)?;
        let in_endpoint = |endpoint: u8| {
            if endpoint & 0x80 == 0 { Err(Violation::NotInEndpoint { packet: packet_type, endpoint }) } else { Ok(()) }
        };
        let field = |present: bool, field: &'static str, capability: Capability| {
            if present == self.caps.contains(capability) {
                Ok(())
            } else {
                Err(Violation::FieldMismatch { packet: packet_type, field, capability })
            }
        };
        let at_most = |length: u32, max: u32| {
            if length > max { Err(Violation::LengthTooLarge { packet: packet_type, length, max }) } else { Ok(()) }
        };
        match packet {
            Packet::DeviceConnect(d) => {
                field(d.device_version_bcd.is_some(), "device_version_bcd", Capability::ConnectDeviceVersion)
            }
            Packet::InterfaceInfo(info) if info.count > 32 => Err(Violation::TooManyInterfaces { count: info.count }),
            Packet::EpInfo(info) => {
                field(info.max_packet_size.is_some(), "max_packet_size", Capability::EpInfoMaxPacketSize)?;
                field(info.max_streams.is_some(), "max_streams", Capability::BulkStreams)
            }
            Packet::StartInterruptReceiving { endpoint }
            | Packet::StopInterruptReceiving { endpoint }
            | Packet::InterruptReceivingStatus { endpoint, .. }
            | Packet::StopBulkReceiving { endpoint, .. }
            | Packet::BulkReceivingStatus { endpoint, .. } => in_endpoint(*endpoint),
            Packet::StartBulkReceiving { bytes_per_transfer, endpoint, .. } => {
                at_most(*bytes_per_transfer, MAX_TRANSFER_LEN)?;
                in_endpoint(*endpoint)
            }
            Packet::Control(p) => self.check_payload(packet_type, p.endpoint, u32::from(p.length), p.data.len()),
            Packet::Bulk(p) => {
                let max = if self.caps.contains(Capability::BulkLength32) { MAX_TRANSFER_LEN } else { 0xffff };
                at_most(p.length, max)?;
                self.check_payload(packet_type, p.endpoint, p.length, p.data.len())
            }
            Packet::Iso(p) => self.check_payload(packet_type, p.endpoint, u32::from(p.length), p.data.len()),
            Packet::Interrupt(p) => self.check_payload(packet_type, p.endpoint, u32::from(p.length), p.data.len()),
            Packet::BufferedBulk(p) => {
                at_most(p.length, MAX_TRANSFER_LEN)?;
                self.check_payload(packet_type, p.endpoint, p.length, p.data.len())
            }
            _ => Ok(()),
        }
    }

    /// Appends the packet, with `id` in its header, to `out`; returns the bytes written.
    /// Nothing is written when it fails.
    ///
    /// # Errors
    /// The first rule the packet breaks, an id too large for the link, a packet over the limit.
    pub fn encode(&self, id: u64, packet: &Packet, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        self.validate(packet)?;
        let packet_type = packet.packet_type();
        let fixed = packet_type.fixed_len(self.caps);
        let data_len = match packet {
            Packet::Hello(h) if h.cap_words.len() > MAX_CAP_WORDS => {
                return Err(EncodeError::TooManyCapWords { count: h.cap_words.len() });
            }
            Packet::Hello(h) => 4 * h.cap_words.len(),
            Packet::FilterFilter { rules } if rules.contains('\0') => return Err(EncodeError::InteriorNul),
            Packet::FilterFilter { rules } => rules.len() + 1,
            other => other.payload().map_or(0, Bytes::len),
        };
        let length = (fixed + data_len) as u64;
        let max = self.limits.max_packet_len;
        if length > u64::from(max) {
            return Err(EncodeError::TooLong { length, max });
        }
        let wide = self.wide_ids();
        if !wide && id > u64::from(u32::MAX) {
            return Err(EncodeError::IdTooLarge { id });
        }
        let total = Header::len(wide) + fixed + data_len;
        out.reserve(total);
        out.put_u32_le(packet_type.code());
        out.put_u32_le(length as u32);
        if wide {
            out.put_u64_le(id);
        } else {
            out.put_u32_le(id as u32);
        }
        self.encode_fields(packet, fixed, out);
        Ok(total)
    }

    fn check_type(&self, packet: PacketType) -> Result<(), Violation> {
        if !packet.sent_by(self.sender) {
            return Err(Violation::WrongDirection { packet, sender: self.sender });
        }
        match packet.needs() {
            Some(capability) if !self.caps.contains(capability) => {
                Err(Violation::NeedsCapability { packet, capability })
            }
            _ => Ok(()),
        }
    }

    /// Data travels with OUT endpoints from the guest and IN endpoints from the host, exactly
    /// as long as the length field says; the other way, the packet carries none, and some
    /// types never travel that way at all.
    fn check_payload(&self, packet: PacketType, endpoint: u8, declared: u32, actual: usize) -> Result<(), Violation> {
        let carries = (endpoint & 0x80 != 0) == (self.sender == Role::Host);
        if carries {
            if actual as u64 != u64::from(declared) {
                return Err(Violation::PayloadLength { packet, endpoint, declared, actual });
            }
            return Ok(());
        }
        if actual != 0 {
            return Err(Violation::UnexpectedPayload { packet, endpoint, sender: self.sender, len: actual });
        }
        let never = match packet {
            PacketType::IsoPacket | PacketType::BufferedBulkPacket => true,
            PacketType::InterruptPacket => self.sender == Role::Guest,
            _ => false,
        };
        if never { Err(Violation::EndpointDirection { packet, endpoint, sender: self.sender }) } else { Ok(()) }
    }

    /// The typed packet from its fixed header `head` (exactly the type's size) and its `data`;
    /// `None` only if `head` were short, which [`Codec::check_header`] rules out.
    fn decode_fields(&self, packet: PacketType, head: &[u8], data: Bytes) -> Result<Option<Packet>, DecodeError> {
        let mut r = Reader::new(head);
        let r = &mut r;
        Ok(Some(match packet {
            PacketType::Hello => {
                let Some(version) = r.array::<VERSION_LEN>() else { return Ok(None) };
                let version = Version::from_wire(version).ok_or(DecodeError::Unterminated { packet })?;
                let mut words = Reader::new(&data);
                let cap_words = std::iter::from_fn(|| words.u32()).collect();
                Packet::Hello(Hello { version, cap_words })
            }
            PacketType::DeviceConnect => {
                let Some(connect) = (|| {
                    Some(DeviceConnect {
                        speed: Speed::from_u8(r.u8()?),
                        device_class: r.u8()?,
                        device_subclass: r.u8()?,
                        device_protocol: r.u8()?,
                        vendor_id: r.u16()?,
                        product_id: r.u16()?,
                        device_version_bcd: if head.len() == 10 { Some(r.u16()?) } else { None },
                    })
                })() else {
                    return Ok(None);
                };
                Packet::DeviceConnect(connect)
            }
            PacketType::DeviceDisconnect => Packet::DeviceDisconnect,
            PacketType::Reset => Packet::Reset,
            PacketType::InterfaceInfo => {
                let Some(info) = (|| {
                    Some(InterfaceInfo {
                        count: r.u32()?,
                        interface: r.array()?,
                        class: r.array()?,
                        subclass: r.array()?,
                        protocol: r.array()?,
                    })
                })() else {
                    return Ok(None);
                };
                Packet::InterfaceInfo(Box::new(info))
            }
            PacketType::EpInfo => {
                let Some(info) = (|| {
                    let types: [u8; 32] = r.array()?;
                    let interval = r.array()?;
                    let interface = r.array()?;
                    let max_packet_size = if head.len() > 96 { Some(r.u16_array()?) } else { None };
                    let max_streams = if head.len() > 160 { Some(r.u32_array()?) } else { None };
                    Some(EpInfo {
                        transfer_type: types.map(TransferType::from_u8),
                        interval,
                        interface,
                        max_packet_size,
                        max_streams,
                    })
                })() else {
                    return Ok(None);
                };
                Packet::EpInfo(Box::new(info))
            }
            PacketType::SetConfiguration => {
                let Some(configuration) = r.u8() else { return Ok(None) };
                Packet::SetConfiguration { configuration }
            }
            PacketType::GetConfiguration => Packet::GetConfiguration,
            PacketType::ConfigurationStatus => {
                let Some((status, configuration)) = (|| Some((r.status()?, r.u8()?)))() else { return Ok(None) };
                Packet::ConfigurationStatus { status, configuration }
            }
            PacketType::SetAltSetting => {
                let Some((interface, alt)) = (|| Some((r.u8()?, r.u8()?)))() else { return Ok(None) };
                Packet::SetAltSetting { interface, alt }
            }
            PacketType::GetAltSetting => {
                let Some(interface) = r.u8() else { return Ok(None) };
                Packet::GetAltSetting { interface }
            }
            PacketType::AltSettingStatus => {
                let Some((status, interface, alt)) = (|| Some((r.status()?, r.u8()?, r.u8()?)))() else {
                    return Ok(None);
                };
                Packet::AltSettingStatus { status, interface, alt }
            }
            PacketType::StartIsoStream => {
                let Some((endpoint, pkts_per_urb, no_urbs)) = (|| Some((r.u8()?, r.u8()?, r.u8()?)))() else {
                    return Ok(None);
                };
                Packet::StartIsoStream { endpoint, pkts_per_urb, no_urbs }
            }
            PacketType::StopIsoStream => {
                let Some(endpoint) = r.u8() else { return Ok(None) };
                Packet::StopIsoStream { endpoint }
            }
            PacketType::IsoStreamStatus => {
                let Some((status, endpoint)) = (|| Some((r.status()?, r.u8()?)))() else { return Ok(None) };
                Packet::IsoStreamStatus { status, endpoint }
            }
            PacketType::StartInterruptReceiving => {
                let Some(endpoint) = r.u8() else { return Ok(None) };
                Packet::StartInterruptReceiving { endpoint }
            }
            PacketType::StopInterruptReceiving => {
                let Some(endpoint) = r.u8() else { return Ok(None) };
                Packet::StopInterruptReceiving { endpoint }
            }
            PacketType::InterruptReceivingStatus => {
                let Some((status, endpoint)) = (|| Some((r.status()?, r.u8()?)))() else { return Ok(None) };
                Packet::InterruptReceivingStatus { status, endpoint }
            }
            PacketType::AllocBulkStreams => {
                let Some((endpoints, no_streams)) = (|| Some((r.u32()?, r.u32()?)))() else { return Ok(None) };
                Packet::AllocBulkStreams { endpoints, no_streams }
            }
            PacketType::FreeBulkStreams => {
                let Some(endpoints) = r.u32() else { return Ok(None) };
                Packet::FreeBulkStreams { endpoints }
            }
            PacketType::BulkStreamsStatus => {
                let Some((endpoints, no_streams, status)) = (|| Some((r.u32()?, r.u32()?, r.status()?)))() else {
                    return Ok(None);
                };
                Packet::BulkStreamsStatus { endpoints, no_streams, status }
            }
            PacketType::CancelDataPacket => Packet::CancelDataPacket,
            PacketType::FilterReject => Packet::FilterReject,
            PacketType::FilterFilter => {
                let Some((&0, text)) = data.split_last() else { return Err(DecodeError::Unterminated { packet }) };
                if text.contains(&0) {
                    return Err(DecodeError::InteriorNul);
                }
                let rules = std::str::from_utf8(text).map_err(|_| DecodeError::InvalidUtf8)?.to_owned();
                Packet::FilterFilter { rules }
            }
            PacketType::DeviceDisconnectAck => Packet::DeviceDisconnectAck,
            PacketType::StartBulkReceiving => {
                let Some((stream_id, bytes_per_transfer, endpoint, no_transfers)) =
                    (|| Some((r.u32()?, r.u32()?, r.u8()?, r.u8()?)))()
                else {
                    return Ok(None);
                };
                Packet::StartBulkReceiving { stream_id, bytes_per_transfer, endpoint, no_transfers }
            }
            PacketType::StopBulkReceiving => {
                let Some((stream_id, endpoint)) = (|| Some((r.u32()?, r.u8()?)))() else { return Ok(None) };
                Packet::StopBulkReceiving { stream_id, endpoint }
            }
            PacketType::BulkReceivingStatus => {
                let Some((stream_id, endpoint, status)) = (|| Some((r.u32()?, r.u8()?, r.status()?)))() else {
                    return Ok(None);
                };
                Packet::BulkReceivingStatus { stream_id, endpoint, status }
            }
            PacketType::ControlPacket => {
                let Some(control) = (|| {
                    Some(ControlPacket {
                        endpoint: r.u8()?,
                        request: r.u8()?,
                        request_type: r.u8()?,
                        status: r.status()?,
                        value: r.u16()?,
                        index: r.u16()?,
                        length: r.u16()?,
                        data: data.clone(),
                    })
                })() else {
                    return Ok(None);
                };
                Packet::Control(control)
            }
            PacketType::BulkPacket => {
                let Some(bulk) = (|| {
                    let endpoint = r.u8()?;
                    let status = r.status()?;
                    let low = r.u16()?;
                    let stream_id = r.u32()?;
                    let high = if head.len() == 10 { r.u16()? } else { 0 };
                    let length = u32::from(high) << 16 | u32::from(low);
                    Some(BulkPacket { endpoint, status, length, stream_id, data: data.clone() })
                })() else {
                    return Ok(None);
                };
                Packet::Bulk(bulk)
            }
            PacketType::IsoPacket => {
                let Some((endpoint, status, length)) = (|| Some((r.u8()?, r.status()?, r.u16()?)))() else {
                    return Ok(None);
                };
                Packet::Iso(IsoPacket { endpoint, status, length, data })
            }
            PacketType::InterruptPacket => {
                let Some((endpoint, status, length)) = (|| Some((r.u8()?, r.status()?, r.u16()?)))() else {
                    return Ok(None);
                };
                Packet::Interrupt(InterruptPacket { endpoint, status, length, data })
            }
            PacketType::BufferedBulkPacket => {
                let Some((stream_id, length, endpoint, status)) =
                    (|| Some((r.u32()?, r.u32()?, r.u8()?, r.status()?)))()
                else {
                    return Ok(None);
                };
                Packet::BufferedBulk(BufferedBulkPacket { stream_id, length, endpoint, status, data })
            }
        }))
    }

    /// Writes the fixed header (`fixed` bytes, as [`PacketType::fixed_len`] says for this
    /// link) and the data of a packet [`Codec::validate`] accepted.
    fn encode_fields(&self, packet: &Packet, fixed: usize, out: &mut Vec<u8>) {
        match packet {
            Packet::Hello(h) => {
                out.put_slice(h.version.as_bytes());
                for word in &h.cap_words {
                    out.put_u32_le(*word);
                }
            }
            Packet::DeviceConnect(d) => {
                out.put_slice(&[d.speed.to_u8(), d.device_class, d.device_subclass, d.device_protocol]);
                out.put_u16_le(d.vendor_id);
                out.put_u16_le(d.product_id);
                if let Some(bcd) = d.device_version_bcd {
                    out.put_u16_le(bcd);
                }
            }
            Packet::DeviceDisconnect
            | Packet::Reset
            | Packet::GetConfiguration
            | Packet::CancelDataPacket
            | Packet::FilterReject
            | Packet::DeviceDisconnectAck => {}
            Packet::InterfaceInfo(info) => {
                out.put_u32_le(info.count);
                for array in [&info.interface, &info.class, &info.subclass, &info.protocol] {
                    out.put_slice(array);
                }
            }
            Packet::EpInfo(info) => {
                out.put_slice(&info.transfer_type.map(TransferType::to_u8));
                out.put_slice(&info.interval);
                out.put_slice(&info.interface);
                for size in info.max_packet_size.iter().flatten() {
                    out.put_u16_le(*size);
                }
                for streams in info.max_streams.iter().flatten() {
                    out.put_u32_le(*streams);
                }
            }
            Packet::SetConfiguration { configuration } => out.put_u8(*configuration),
            Packet::ConfigurationStatus { status, configuration } => out.put_slice(&[status.to_u8(), *configuration]),
            Packet::SetAltSetting { interface, alt } => out.put_slice(&[*interface, *alt]),
            Packet::GetAltSetting { interface } => out.put_u8(*interface),
            Packet::AltSettingStatus { status, interface, alt } => out.put_slice(&[status.to_u8(), *interface, *alt]),
            Packet::StartIsoStream { endpoint, pkts_per_urb, no_urbs } => {
                out.put_slice(&[*endpoint, *pkts_per_urb, *no_urbs]);
            }
            Packet::StopIsoStream { endpoint }
            | Packet::StartInterruptReceiving { endpoint }
            | Packet::StopInterruptReceiving { endpoint } => out.put_u8(*endpoint),
            Packet::IsoStreamStatus { status, endpoint } | Packet::InterruptReceivingStatus { status, endpoint } => {
                out.put_slice(&[status.to_u8(), *endpoint]);
            }
            Packet::AllocBulkStreams { endpoints, no_streams } => {
                out.put_u32_le(*endpoints);
                out.put_u32_le(*no_streams);
            }
            Packet::FreeBulkStreams { endpoints } => out.put_u32_le(*endpoints),
            Packet::BulkStreamsStatus { endpoints, no_streams, status } => {
                out.put_u32_le(*endpoints);
                out.put_u32_le(*no_streams);
                out.put_u8(status.to_u8());
            }
            Packet::FilterFilter { rules } => {
                out.put_slice(rules.as_bytes());
                out.put_u8(0);
            }
            Packet::StartBulkReceiving { stream_id, bytes_per_transfer, endpoint, no_transfers } => {
                out.put_u32_le(*stream_id);
                out.put_u32_le(*bytes_per_transfer);
                out.put_slice(&[*endpoint, *no_transfers]);
            }
            Packet::StopBulkReceiving { stream_id, endpoint } => {
                out.put_u32_le(*stream_id);
                out.put_u8(*endpoint);
            }
            Packet::BulkReceivingStatus { stream_id, endpoint, status } => {
                out.put_u32_le(*stream_id);
                out.put_slice(&[*endpoint, status.to_u8()]);
            }
            Packet::Control(p) => {
                out.put_slice(&[p.endpoint, p.request, p.request_type, p.status.to_u8()]);
                out.put_u16_le(p.value);
                out.put_u16_le(p.index);
                out.put_u16_le(p.length);
                out.put_slice(&p.data);
            }
            Packet::Bulk(p) => {
                out.put_slice(&[p.endpoint, p.status.to_u8()]);
                out.put_u16_le(p.length as u16);
                out.put_u32_le(p.stream_id);
                if fixed == 10 {
                    out.put_u16_le((p.length >> 16) as u16);
                }
                out.put_slice(&p.data);
            }
            Packet::Iso(IsoPacket { endpoint, status, length, data })
            | Packet::Interrupt(InterruptPacket { endpoint, status, length, data }) => {
                out.put_slice(&[*endpoint, status.to_u8()]);
                out.put_u16_le(*length);
                out.put_slice(data);
            }
            Packet::BufferedBulk(p) => {
                out.put_u32_le(p.stream_id);
                out.put_u32_le(p.length);
                out.put_slice(&[p.endpoint, p.status.to_u8()]);
                out.put_slice(&p.data);
            }
        }
    }
}

/// Little-endian reads that return `None` past the end instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.buf.split_first_chunk::<N>()?;
        self.buf = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn status(&mut self) -> Option<Status> {
        self.u8().map(Status::from_u8)
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn u16_array(&mut self) -> Option<[u16; 32]> {
        let mut values = [0; 32];
        for v in &mut values {
            *v = self.u16()?;
        }
        Some(values)
    }

    fn u32_array(&mut self) -> Option<[u32; 32]> {
        let mut values = [0; 32];
        for v in &mut values {
            *v = self.u32()?;
        }
        Some(values)
    }
}
