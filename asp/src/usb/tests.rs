//! Unit tests of the usbredir codec and parser: byte layouts, round trips of every type under
//! several negotiations, every refusal, and the parser's streaming, negotiation and counters.

use bytes::Bytes;

use super::*;

fn all() -> Caps {
    Caps::all_known()
}

fn codec(sender: Role, caps: Caps) -> Codec {
    Codec::new(sender, caps, Limits::default())
}

fn encode(codec: &Codec, id: u64, packet: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    let n = codec.encode(id, packet, &mut out).unwrap_or_else(|e| panic!("{packet:?}: {e}"));
    assert_eq!(n, out.len());
    out
}

fn pattern(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

fn ep_info(caps: Caps) -> EpInfo {
    let mut info = EpInfo::empty(caps);
    for (endpoint, kind, interval) in [
        (0x00, TransferType::Control, 0),
        (0x80, TransferType::Control, 0),
        (0x02, TransferType::Bulk, 0),
        (0x83, TransferType::Interrupt, 4),
    ] {
        let i = EpInfo::index(endpoint);
        info.transfer_type[i] = kind;
        info.interval[i] = interval;
        info.interface[i] = endpoint & 1;
        if let Some(sizes) = &mut info.max_packet_size {
            sizes[i] = 512;
        }
        if let Some(streams) = &mut info.max_streams {
            streams[i] = u32::from(endpoint);
        }
    }
    info
}

/// A valid packet of every type `sender` may send on a link with `caps`.
fn samples(sender: Role, caps: Caps) -> Vec<Packet> {
    let has = |c| caps.contains(c);
    let mut packets = vec![
        Packet::Hello(Hello::new("unit test 1.0", all()).unwrap()),
        Packet::Hello(Hello { version: Version::new("").unwrap(), cap_words: vec![] }),
        Packet::Hello(Hello { version: Version::new("x").unwrap(), cap_words: vec![7; MAX_CAP_WORDS] }),
    ];
    if has(Capability::Filter) {
        packets.push(Packet::FilterFilter { rules: "0x03,-1,-1,-1,0|-1,-1,-1,-1,1".into() });
        packets.push(Packet::FilterFilter { rules: String::new() });
    }
    let (out_ep, in_ep) = (0x02, 0x81);
    match sender {
        Role::Host => {
            packets.extend([
                Packet::DeviceConnect(DeviceConnect {
                    speed: Speed::High,
                    device_class: 0xef,
                    device_subclass: 2,
                    device_protocol: 1,
                    vendor_id: 0x1234,
                    product_id: 0xabcd,
                    device_version_bcd: has(Capability::ConnectDeviceVersion).then_some(0x0210),
                }),
                Packet::DeviceDisconnect,
                Packet::InterfaceInfo(Box::new(
                    InterfaceInfo::new(&[
                        Interface { number: 0, class: 8, subclass: 6, protocol: 0x50 },
                        Interface { number: 1, class: 3, subclass: 1, protocol: 2 },
                    ])
                    .unwrap(),
                )),
                Packet::EpInfo(Box::new(ep_info(caps))),
                Packet::ConfigurationStatus { status: Status::Success, configuration: 1 },
                Packet::AltSettingStatus { status: Status::Stall, interface: 1, alt: 2 },
                Packet::IsoStreamStatus { status: Status::Other(99), endpoint: 0x85 },
                Packet::InterruptReceivingStatus { status: Status::Success, endpoint: 0x83 },
                Packet::BulkStreamsStatus { endpoints: 0x0006, no_streams: 16, status: Status::Success },
                Packet::Control(ControlPacket {
                    endpoint: 0x80,
                    request: 6,
                    request_type: 0x80,
                    status: Status::Success,
                    value: 0x0100,
                    index: 0,
                    length: 18,
                    data: pattern(18, 1),
                }),
                Packet::Control(ControlPacket {
                    endpoint: 0x00,
                    request: 9,
                    request_type: 0x21,
                    status: Status::Timeout,
                    value: 0x0200,
                    index: 1,
                    length: 4,
                    data: Bytes::new(),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: in_ep,
                    status: Status::Success,
                    length: 700,
                    stream_id: 0,
                    data: pattern(700, 2),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: out_ep,
                    status: Status::Cancelled,
                    length: 0,
                    stream_id: 3,
                    data: Bytes::new(),
                }),
                Packet::Iso(IsoPacket { endpoint: 0x85, status: Status::Success, length: 192, data: pattern(192, 3) }),
                Packet::Interrupt(InterruptPacket {
                    endpoint: 0x83,
                    status: Status::Success,
                    length: 8,
                    data: pattern(8, 4),
                }),
                Packet::Interrupt(InterruptPacket {
                    endpoint: 0x04,
                    status: Status::Success,
                    length: 8,
                    data: Bytes::new(),
                }),
            ]);
            if has(Capability::BulkLength32) {
                packets.push(Packet::Bulk(BulkPacket {
                    endpoint: in_ep,
                    status: Status::Success,
                    length: 70_000,
                    stream_id: 0,
                    data: pattern(70_000, 5),
                }));
            }
            if has(Capability::BulkReceiving) {
                packets.push(Packet::BulkReceivingStatus { stream_id: 0, endpoint: 0x87, status: Status::Success });
                packets.push(Packet::BufferedBulk(BufferedBulkPacket {
                    stream_id: 0,
                    length: 300,
                    endpoint: 0x87,
                    status: Status::Success,
                    data: pattern(300, 6),
                }));
            }
        }
        Role::Guest => {
            packets.extend([
                Packet::Reset,
                Packet::SetConfiguration { configuration: 2 },
                Packet::GetConfiguration,
                Packet::SetAltSetting { interface: 1, alt: 3 },
                Packet::GetAltSetting { interface: 1 },
                Packet::StartIsoStream { endpoint: 0x85, pkts_per_urb: 8, no_urbs: 3 },
                Packet::StopIsoStream { endpoint: 0x85 },
                Packet::StartInterruptReceiving { endpoint: 0x83 },
                Packet::StopInterruptReceiving { endpoint: 0x83 },
                Packet::AllocBulkStreams { endpoints: 0x6, no_streams: 32 },
                Packet::FreeBulkStreams { endpoints: 0x6 },
                Packet::CancelDataPacket,
                Packet::Control(ControlPacket {
                    endpoint: 0x80,
                    request: 6,
                    request_type: 0x80,
                    status: Status::Success,
                    value: 0x0100,
                    index: 0,
                    length: 18,
                    data: Bytes::new(),
                }),
                Packet::Control(ControlPacket {
                    endpoint: 0x00,
                    request: 9,
                    request_type: 0x21,
                    status: Status::Success,
                    value: 0x0200,
                    index: 1,
                    length: 4,
                    data: pattern(4, 7),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: out_ep,
                    status: Status::Success,
                    length: 1000,
                    stream_id: 0,
                    data: pattern(1000, 8),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: in_ep,
                    status: Status::Success,
                    length: 0xffff,
                    stream_id: 0,
                    data: Bytes::new(),
                }),
                Packet::Iso(IsoPacket { endpoint: 0x06, status: Status::Success, length: 64, data: pattern(64, 9) }),
                Packet::Interrupt(InterruptPacket {
                    endpoint: 0x04,
                    status: Status::Success,
                    length: 3,
                    data: pattern(3, 10),
                }),
            ]);
            if has(Capability::Filter) {
                packets.push(Packet::FilterReject);
            }
            if has(Capability::DeviceDisconnectAck) {
                packets.push(Packet::DeviceDisconnectAck);
            }
            if has(Capability::BulkReceiving) {
                packets.extend([
                    Packet::StartBulkReceiving {
                        stream_id: 0,
                        bytes_per_transfer: 4096,
                        endpoint: 0x87,
                        no_transfers: 4,
                    },
                    Packet::StopBulkReceiving { stream_id: 0, endpoint: 0x87 },
                ]);
            }
            if has(Capability::BulkLength32) {
                packets.push(Packet::Bulk(BulkPacket {
                    endpoint: in_ep,
                    status: Status::Success,
                    length: MAX_TRANSFER_LEN,
                    stream_id: 0,
                    data: Bytes::new(),
                }));
            }
        }
    }
    packets
}

fn cap_sets() -> Vec<Caps> {
    vec![
        Caps::NONE,
        all(),
        Caps::NONE.with(Capability::Ids64).with(Capability::EpInfoMaxPacketSize),
        all().without(Capability::Ids64).without(Capability::BulkLength32),
        // Bulk streams without max packet sizes: normalized away.
        Caps::NONE.with(Capability::BulkStreams).with(Capability::ConnectDeviceVersion),
    ]
}

#[test]
fn every_type_round_trips_under_every_negotiation() {
    let mut types = std::collections::HashSet::new();
    for caps in cap_sets() {
        for sender in [Role::Host, Role::Guest] {
            let c = codec(sender, caps);
            for (id, packet) in samples(sender, caps).into_iter().enumerate() {
                let id = id as u64 * 0x1_0001;
                let bytes = encode(&c, id, &packet);
                let fixed = packet.packet_type().fixed_len(c.caps());
                let data = match &packet {
                    Packet::Hello(h) => 4 * h.cap_words.len(),
                    Packet::FilterFilter { rules } => rules.len() + 1,
                    other => other.payload().map_or(0, Bytes::len),
                };
                assert_eq!(bytes.len(), c.header_len() + fixed + data, "{packet:?}");
                let header = Header::decode(&bytes, c.wide_ids()).unwrap();
                assert_eq!(header.packet_type, packet.packet_type().code());
                assert_eq!(header.length as usize, fixed + data);
                assert_eq!(c.decode(Bytes::from(bytes.clone())), Ok((id, packet.clone())), "{caps:?} {sender}");
                types.insert(packet.packet_type());
            }
        }
    }
    assert_eq!(types.len(), 33, "every packet type is covered");
}

#[test]
fn header_is_12_bytes_until_both_announce_64_bit_ids() {
    let cases = [
        (Caps::NONE, Caps::NONE, 12),
        (all(), all().without(Capability::Ids64), 12),
        (all().without(Capability::Ids64), all(), 12),
        (all(), all(), 16),
    ];
    for (ours, theirs, len) in cases {
        let c = codec(Role::Host, Caps::negotiate(ours, theirs));
        assert_eq!(c.header_len(), len);
        assert_eq!(encode(&c, 7, &Packet::DeviceDisconnect).len(), len);
    }
    // A 64-bit id on a 32-bit link cannot be written; on a 64-bit one it survives.
    let narrow = codec(Role::Host, Caps::NONE);
    let mut out = Vec::new();
    assert_eq!(
        narrow.encode(1 << 32, &Packet::DeviceDisconnect, &mut out),
        Err(EncodeError::IdTooLarge { id: 1 << 32 })
    );
    assert!(out.is_empty(), "nothing is written on failure");
    let wide = codec(Role::Host, all());
    let bytes = encode(&wide, u64::MAX - 1, &Packet::DeviceDisconnect);
    assert_eq!(wide.decode(bytes.into()), Ok((u64::MAX - 1, Packet::DeviceDisconnect)));
}

#[test]
fn byte_layouts() {
    // hello: type 0, length 64 + 4, id 0, the version padded with zeros, one word.
    let mut out = Vec::new();
    Parser::new(Role::Guest, Caps::from_bits(0xa5), Limits::default()).encode_hello("qemu", &mut out).unwrap();
    let mut expected = vec![0, 0, 0, 0, 68, 0, 0, 0, 0, 0, 0, 0];
    expected.extend(b"qemu");
    expected.extend([0; 60]);
    expected.extend([0xa5, 0, 0, 0]);
    assert_eq!(out, expected);

    // device_connect: 8 bytes, 10 with the device version.
    let connect = |bcd| {
        Packet::DeviceConnect(DeviceConnect {
            speed: Speed::Super,
            device_class: 9,
            device_subclass: 0,
            device_protocol: 3,
            vendor_id: 0x1d6b,
            product_id: 0x0003,
            device_version_bcd: bcd,
        })
    };
    assert_eq!(
        encode(&codec(Role::Host, Caps::NONE), 0, &connect(None)),
        [1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3, 9, 0, 3, 0x6b, 0x1d, 3, 0]
    );
    let c = codec(Role::Host, Caps::NONE.with(Capability::ConnectDeviceVersion));
    assert_eq!(encode(&c, 0, &connect(Some(0x0515)))[12..], [3, 9, 0, 3, 0x6b, 0x1d, 3, 0, 0x15, 0x05]);

    // bulk: 8-byte header, 10 with 32-bit lengths (the high half last).
    let bulk = Packet::Bulk(BulkPacket {
        endpoint: 0x81,
        status: Status::Success,
        length: 0x0001_0002,
        stream_id: 5,
        data: Bytes::new(),
    });
    let c = codec(Role::Guest, Caps::NONE.with(Capability::BulkLength32).with(Capability::Ids64));
    assert_eq!(
        encode(&c, 0x0102_0304_0506_0708, &bulk),
        [101, 0, 0, 0, 10, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, 0x81, 0, 2, 0, 5, 0, 0, 0, 1, 0]
    );
    let mut out = Vec::new();
    assert_eq!(
        codec(Role::Guest, Caps::NONE).encode(1, &bulk, &mut out),
        Err(EncodeError::Invalid(Violation::LengthTooLarge {
            packet: PacketType::BulkPacket,
            length: 0x0001_0002,
            max: 0xffff
        }))
    );

    // ep_info: 96 bytes, 160 with max packet sizes, 288 with streams too.
    for (caps, len) in [
        (Caps::NONE, 96),
        (Caps::NONE.with(Capability::EpInfoMaxPacketSize), 160),
        (Caps::NONE.with(Capability::BulkStreams), 96),
        (all(), 288),
    ] {
        let c = codec(Role::Host, caps);
        let bytes = encode(&c, 0, &Packet::EpInfo(Box::new(ep_info(caps.normalized()))));
        assert_eq!(bytes.len() - c.header_len(), len, "{caps:?}");
    }

    // A control request: 10 bytes after the header, no data for IN.
    let get_descriptor = Packet::Control(ControlPacket {
        endpoint: 0x80,
        request: 6,
        request_type: 0x80,
        status: Status::Success,
        value: 0x0100,
        index: 0,
        length: 18,
        data: Bytes::new(),
    });
    assert_eq!(
        encode(&codec(Role::Guest, Caps::NONE), 9, &get_descriptor),
        [100, 0, 0, 0, 10, 0, 0, 0, 9, 0, 0, 0, 0x80, 6, 0x80, 0, 0, 1, 0, 0, 18, 0]
    );
}

/// A frame with the given header fields and body, on a 32-bit-id link.
fn frame(code: u32, id: u32, body: &[u8]) -> Bytes {
    let mut out = Vec::new();
    out.extend(code.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(id.to_le_bytes());
    out.extend(body);
    out.into()
}

#[test]
fn refusals() {
    let host = codec(Role::Host, all().without(Capability::Ids64));
    let guest = codec(Role::Guest, all().without(Capability::Ids64));
    let bare_host = codec(Role::Host, Caps::NONE);
    let version = |text: &[u8]| {
        let mut v = [0u8; 64];
        v[..text.len()].copy_from_slice(text);
        v
    };
    let cases: Vec<(Codec, Bytes, DecodeError)> = vec![
        (host, frame(28, 0, &[]), DecodeError::UnknownType { code: 28 }),
        (host, frame(99, 0, &[]), DecodeError::UnknownType { code: 99 }),
        (host, frame(105, 0, &[]), DecodeError::UnknownType { code: 105 }),
        // Short: device_connect needs 10 bytes with the version capability.
        (host, frame(1, 0, &[0; 8]), DecodeError::Short { packet: PacketType::DeviceConnect, length: 8, needed: 10 }),
        (host, frame(0, 0, &[1; 10]), DecodeError::Short { packet: PacketType::Hello, length: 10, needed: 64 }),
        // A type without data that is longer than its header.
        (
            host,
            frame(2, 0, &[0]),
            DecodeError::LengthMismatch { packet: PacketType::DeviceDisconnect, length: 1, expected: 0 },
        ),
        (
            guest,
            frame(6, 0, &[1, 2]),
            DecodeError::LengthMismatch { packet: PacketType::SetConfiguration, length: 2, expected: 1 },
        ),
        // Capability words: whole and not too many.
        (host, frame(0, 0, &[version(b"v"), [0; 64]].concat()[..66]), DecodeError::CapWords { len: 2 }),
        (
            host,
            frame(0, 0, &[&version(b"v")[..], &[0; 4 * (MAX_CAP_WORDS + 1)]].concat()),
            DecodeError::CapWords { len: 4 * (MAX_CAP_WORDS + 1) },
        ),
        // Strings without their NUL.
        (host, frame(0, 0, &[b'v'; 64]), DecodeError::Unterminated { packet: PacketType::Hello }),
        (guest, frame(23, 0, b"-1,-1,-1,-1,1"), DecodeError::Unterminated { packet: PacketType::FilterFilter }),
        (guest, frame(23, 0, b""), DecodeError::Unterminated { packet: PacketType::FilterFilter }),
        (guest, frame(23, 0, b"-1,-1\0,-1,-1,1\0"), DecodeError::InteriorNul),
        (guest, frame(23, 0, b"\xff\0"), DecodeError::InvalidUtf8),
        // Direction.
        (
            guest,
            frame(1, 0, &[0; 10]),
            Violation::WrongDirection { packet: PacketType::DeviceConnect, sender: Role::Guest }.into(),
        ),
        (host, frame(3, 0, &[]), Violation::WrongDirection { packet: PacketType::Reset, sender: Role::Host }.into()),
        (
            guest,
            frame(104, 0, &[0; 10]),
            Violation::WrongDirection { packet: PacketType::BufferedBulkPacket, sender: Role::Guest }.into(),
        ),
        // Capabilities.
        (
            bare_host,
            frame(23, 0, b"\0"),
            Violation::NeedsCapability { packet: PacketType::FilterFilter, capability: Capability::Filter }.into(),
        ),
        (
            codec(Role::Guest, Caps::NONE),
            frame(24, 0, &[]),
            Violation::NeedsCapability {
                packet: PacketType::DeviceDisconnectAck,
                capability: Capability::DeviceDisconnectAck,
            }
            .into(),
        ),
        (
            bare_host,
            frame(27, 0, &[0; 6]),
            Violation::NeedsCapability {
                packet: PacketType::BulkReceivingStatus,
                capability: Capability::BulkReceiving,
            }
            .into(),
        ),
        // Payload where none belongs: IN data from the guest, OUT data from the host.
        (
            guest,
            frame(100, 0, &[0x80, 6, 0x80, 0, 0, 1, 0, 0, 2, 0, 0xaa, 0xbb]),
            Violation::UnexpectedPayload {
                packet: PacketType::ControlPacket,
                endpoint: 0x80,
                sender: Role::Guest,
                len: 2,
            }
            .into(),
        ),
        (
            host,
            frame(101, 0, &[0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xaa]),
            Violation::UnexpectedPayload { packet: PacketType::BulkPacket, endpoint: 0x02, sender: Role::Host, len: 1 }
                .into(),
        ),
        // Payload length against the length field.
        (
            guest,
            frame(101, 0, &[0x02, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0xaa]),
            Violation::PayloadLength { packet: PacketType::BulkPacket, endpoint: 0x02, declared: 3, actual: 1 }.into(),
        ),
        (
            host,
            frame(103, 0, &[0x83, 0, 1, 0]),
            Violation::PayloadLength { packet: PacketType::InterruptPacket, endpoint: 0x83, declared: 1, actual: 0 }
                .into(),
        ),
        // Packets that never travel that way.
        (
            host,
            frame(102, 0, &[0x06, 0, 0, 0]),
            Violation::EndpointDirection { packet: PacketType::IsoPacket, endpoint: 0x06, sender: Role::Host }.into(),
        ),
        (
            guest,
            frame(103, 0, &[0x83, 0, 8, 0]),
            Violation::EndpointDirection { packet: PacketType::InterruptPacket, endpoint: 0x83, sender: Role::Guest }
                .into(),
        ),
        (
            host,
            frame(104, 0, &[0, 0, 0, 0, 0, 0, 0, 0, 0x07, 0]),
            Violation::EndpointDirection { packet: PacketType::BufferedBulkPacket, endpoint: 0x07, sender: Role::Host }
                .into(),
        ),
        (
            guest,
            frame(15, 0, &[0x03]),
            Violation::NotInEndpoint { packet: PacketType::StartInterruptReceiving, endpoint: 0x03 }.into(),
        ),
        (
            guest,
            frame(25, 0, &[0, 0, 0, 0, 0, 0x10, 0, 0, 0x07, 1]),
            Violation::NotInEndpoint { packet: PacketType::StartBulkReceiving, endpoint: 0x07 }.into(),
        ),
        (
            guest,
            frame(25, 0, &[0, 0, 0, 0, 0, 0, 0, 0x10, 0x87, 1]),
            Violation::LengthTooLarge {
                packet: PacketType::StartBulkReceiving,
                length: 0x1000_0000,
                max: MAX_TRANSFER_LEN,
            }
            .into(),
        ),
        (
            host,
            frame(4, 0, &[&33u32.to_le_bytes()[..], &[0; 128]].concat()),
            Violation::TooManyInterfaces { count: 33 }.into(),
        ),
        (
            guest,
            frame(101, 0, &[0x81, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x08]),
            Violation::LengthTooLarge { packet: PacketType::BulkPacket, length: 0x0801_0000, max: MAX_TRANSFER_LEN }
                .into(),
        ),
    ];
    for (c, bytes, expected) in cases {
        assert_eq!(c.decode(bytes.clone()), Err(expected.clone()), "{bytes:?}");
        // The parser, after a hello, refuses the same way and skips the packet.
        let mut parser = Parser::new(c.sender().peer(), c.caps(), Limits::default());
        let mut hello = Vec::new();
        codec(c.sender(), Caps::NONE)
            .encode(0, &Packet::Hello(Hello::new("p", c.caps()).unwrap()), &mut hello)
            .unwrap();
        parser.feed(&hello);
        assert!(parser.poll().unwrap().is_ok());
        assert_eq!(parser.negotiated(), Some(c.caps()));
        parser.feed(&bytes);
        let next = encode(&c, 1, &Packet::Hello(Hello::new("again", Caps::NONE).unwrap()));
        parser.feed(&next);
        // A hello after the first is refused as such, whatever else is wrong with it.
        let first = if bytes[..4] == [0; 4] { DecodeError::DuplicateHello } else { expected };
        assert_eq!(parser.poll(), Some(Err(first)));
        assert_eq!(parser.poll(), Some(Err(DecodeError::DuplicateHello)));
        assert_eq!(parser.poll(), None);
        let stats = parser.stats();
        assert_eq!((stats.packets, stats.refused, stats.buffered), (1, 2, 0));
        assert_eq!(stats.bytes_fed, stats.consumed());
    }
}

#[test]
fn oversized_packets_are_skipped_without_buffering() {
    let limits = Limits::new(4096).unwrap();
    let mut parser = Parser::new(Role::Guest, all(), limits);
    let mut hello = Vec::new();
    Parser::new(Role::Host, all(), limits).encode_hello("host", &mut hello).unwrap();
    parser.feed(&hello);
    assert!(parser.poll().unwrap().is_ok());
    // A bulk IN answer that claims 100 MB: refused at its header.
    let length = 100_000_000u32;
    let mut header = Vec::new();
    header.extend(101u32.to_le_bytes());
    header.extend(length.to_le_bytes());
    header.extend(5u64.to_le_bytes());
    parser.feed(&header);
    assert_eq!(parser.poll(), Some(Err(DecodeError::TooLong { length, max: 4096 })));
    let chunk = vec![0xee; 1 << 20];
    let mut left = length as usize;
    while left > 0 {
        let n = left.min(chunk.len());
        parser.feed(&chunk[..n]);
        left -= n;
        assert_eq!(parser.poll(), None);
        let stats = parser.stats();
        assert_eq!(stats.buffered, 0, "skipped bytes are never held");
        assert_eq!(stats.skip_pending, left as u64);
        assert_eq!(stats.bytes_fed + stats.skip_pending, stats.consumed() + stats.buffered as u64);
    }
    // And the stream is in step again.
    let c = parser.incoming();
    parser.feed(&encode(&c, 6, &Packet::DeviceDisconnect));
    assert_eq!(parser.poll(), Some(Ok(Received { id: 6, packet: Packet::DeviceDisconnect })));
    // The limit applies to writing too.
    let big = Packet::Bulk(BulkPacket {
        endpoint: 0x81,
        status: Status::Success,
        length: 4096,
        stream_id: 0,
        data: pattern(4096, 0),
    });
    let mut out = Vec::new();
    assert_eq!(c.encode(1, &big, &mut out), Err(EncodeError::TooLong { length: 4106, max: 4096 }));
}

#[test]
fn parser_yields_the_same_whatever_the_split() {
    for caps in cap_sets() {
        for role in [Role::Host, Role::Guest] {
            let peer = role.peer();
            let mut stream = Vec::new();
            Parser::new(peer, caps, Limits::default()).encode_hello("peer", &mut stream).unwrap();
            let link = codec(peer, Caps::negotiate(caps, caps));
            let packets = samples(peer, link.caps());
            let body: Vec<&Packet> = packets.iter().filter(|p| !matches!(p, Packet::Hello(_))).collect();
            for (id, packet) in body.iter().enumerate() {
                link.encode(id as u64, packet, &mut stream).unwrap();
            }
            for step in [1, 2, 3, 7, 13, 64, 1000, stream.len()] {
                let mut parser = Parser::new(role, caps, Limits::default());
                let mut got = Vec::new();
                for chunk in stream.chunks(step) {
                    parser.feed(chunk);
                    while let Some(result) = parser.poll() {
                        got.push(result.unwrap());
                    }
                    let s = parser.stats();
                    assert_eq!(s.bytes_fed + s.skip_pending, s.consumed() + s.buffered as u64);
                }
                assert_eq!(got.len(), body.len() + 1, "step {step}");
                assert!(matches!(&got[0].packet, Packet::Hello(h) if h.caps() == caps));
                for (i, (r, p)) in got[1..].iter().zip(&body).enumerate() {
                    assert_eq!((r.id, &r.packet), (i as u64, *p));
                }
                let s = parser.stats();
                assert_eq!(s.packets, got.len() as u64);
                assert_eq!((s.refused, s.buffered, s.packet_bytes), (0, 0, stream.len() as u64));
                let payloads: u64 = body.iter().filter_map(|p| p.payload()).map(|d| d.len() as u64).sum();
                assert_eq!(s.payload_bytes, payloads);
            }
        }
    }
}

#[test]
fn the_first_packet_must_be_the_hello() {
    let mut parser = Parser::new(Role::Guest, all(), Limits::default());
    assert_eq!(parser.outgoing(), None, "nothing but the hello before the peer's hello");
    parser.feed(&frame(2, 0, &[]));
    assert_eq!(parser.poll(), Some(Err(DecodeError::ExpectedHello { code: 2 })));
    let mut hello = Vec::new();
    Parser::new(Role::Host, Caps::NONE.with(Capability::Ids64).with(Capability::Filter), Limits::default())
        .encode_hello("h", &mut hello)
        .unwrap();
    parser.feed(&hello);
    let received = parser.poll().unwrap().unwrap();
    assert_eq!(received.id, 0);
    let negotiated = Caps::NONE.with(Capability::Ids64).with(Capability::Filter);
    assert_eq!(parser.negotiated(), Some(negotiated));
    assert_eq!(parser.peer_caps(), Some(negotiated));
    assert_eq!(parser.incoming(), Codec::new(Role::Host, negotiated, Limits::default()));
    assert_eq!(parser.outgoing(), Some(Codec::new(Role::Guest, negotiated, Limits::default())));
    assert_eq!(parser.incoming().header_len(), 16);
}

#[test]
fn encoding_checks_what_decoding_checks() {
    let guest = codec(Role::Guest, Caps::NONE);
    let host = codec(Role::Host, all());
    let mut out = Vec::new();
    let cases: Vec<(Codec, Packet, EncodeError)> = vec![
        (
            guest,
            Packet::DeviceDisconnect,
            Violation::WrongDirection { packet: PacketType::DeviceDisconnect, sender: Role::Guest }.into(),
        ),
        (
            guest,
            Packet::FilterReject,
            Violation::NeedsCapability { packet: PacketType::FilterReject, capability: Capability::Filter }.into(),
        ),
        (
            host,
            Packet::DeviceConnect(DeviceConnect {
                speed: Speed::Full,
                device_class: 0,
                device_subclass: 0,
                device_protocol: 0,
                vendor_id: 1,
                product_id: 2,
                device_version_bcd: None,
            }),
            Violation::FieldMismatch {
                packet: PacketType::DeviceConnect,
                field: "device_version_bcd",
                capability: Capability::ConnectDeviceVersion,
            }
            .into(),
        ),
        (
            host,
            Packet::EpInfo(Box::new(EpInfo::empty(Caps::NONE))),
            Violation::FieldMismatch {
                packet: PacketType::EpInfo,
                field: "max_packet_size",
                capability: Capability::EpInfoMaxPacketSize,
            }
            .into(),
        ),
        (host, Packet::FilterFilter { rules: "a\0b".into() }, EncodeError::InteriorNul),
        (
            host,
            Packet::Hello(Hello { version: Version::new("v").unwrap(), cap_words: vec![0; MAX_CAP_WORDS + 1] }),
            EncodeError::TooManyCapWords { count: MAX_CAP_WORDS + 1 },
        ),
        (
            guest,
            Packet::Iso(IsoPacket { endpoint: 0x85, status: Status::Success, length: 0, data: Bytes::new() }),
            Violation::EndpointDirection { packet: PacketType::IsoPacket, endpoint: 0x85, sender: Role::Guest }.into(),
        ),
        (
            host,
            Packet::Control(ControlPacket {
                endpoint: 0x80,
                request: 6,
                request_type: 0x80,
                status: Status::Success,
                value: 0,
                index: 0,
                length: 18,
                data: pattern(17, 0),
            }),
            Violation::PayloadLength { packet: PacketType::ControlPacket, endpoint: 0x80, declared: 18, actual: 17 }
                .into(),
        ),
    ];
    for (c, packet, expected) in cases {
        assert_eq!(c.encode(1, &packet, &mut out), Err(expected), "{packet:?}");
        assert!(out.is_empty());
    }
    assert_eq!(Version::new(&"v".repeat(64)), Err(EncodeError::VersionTooLong { len: 64 }));
    assert_eq!(Version::new("a\0"), Err(EncodeError::InteriorNul));
    assert_eq!(Version::new(&"v".repeat(63)).unwrap().text(), "v".repeat(63));
    assert!(InterfaceInfo::new(&[Interface { number: 0, class: 0, subclass: 0, protocol: 0 }; 33]).is_err());
}

#[test]
fn garbage_after_the_version_survives_a_round_trip() {
    let mut body = vec![0u8; 64];
    body[..5].copy_from_slice(b"old\0x");
    body[63] = 0x7f;
    body.extend(0x3fu32.to_le_bytes());
    let bytes = frame(0, 0, &body);
    let c = codec(Role::Host, Caps::NONE);
    let (_, packet) = c.decode(bytes.clone()).unwrap();
    let Packet::Hello(hello) = &packet else { panic!("{packet:?}") };
    assert_eq!(hello.version.text(), "old");
    assert_eq!(hello.caps(), Caps::from_bits(0x3f));
    assert_eq!(encode(&c, 0, &packet), bytes);
}

#[test]
fn capabilities() {
    assert_eq!(Caps::all_known().bits(), 0xff);
    assert_eq!(Capability::ALL.iter().map(|c| c.bit()).sum::<u32>(), 0xff);
    let streams_alone = Caps::NONE.with(Capability::BulkStreams);
    assert_eq!(streams_alone.normalized(), Caps::NONE);
    assert_eq!(Caps::negotiate(all(), streams_alone.with(Capability::Ids64)), Caps::NONE.with(Capability::Ids64));
    assert_eq!(Caps::negotiate(all(), Caps::from_bits(0xffff_ffff)), all());
    assert_eq!(Caps::from_bits(0x1_0021).iter().collect::<Vec<_>>(), [Capability::BulkStreams, Capability::Ids64]);
    assert_eq!(format!("{:?}", Caps::from_bits(0x101)), "{BulkStreams, unknown 0x100}");
    assert_eq!([Capability::Filter].into_iter().collect::<Caps>(), Caps::from_bits(4));
    assert_eq!(Role::Host.peer(), Role::Guest);
    assert_eq!(Role::Guest.to_string(), "usb-guest");
}

#[test]
fn limits_are_checked() {
    assert!(Limits::new(MIN_MAX_PACKET_LEN - 1).is_err());
    assert!(Limits::new(PROTOCOL_MAX_PACKET_LEN + 1).is_err());
    assert_eq!(Limits::new(MIN_MAX_PACKET_LEN).unwrap().max_packet_len(), MIN_MAX_PACKET_LEN);
    assert_eq!(Limits::default().max_packet_len(), DEFAULT_MAX_PACKET_LEN);
    // Every fixed header fits the smallest limit.
    for code in (0..28).chain(100..105) {
        let t = PacketType::from_code(code).unwrap();
        assert_eq!(t.code(), code);
        assert!(t.fixed_len(all()) + 4 * MAX_CAP_WORDS <= MIN_MAX_PACKET_LEN as usize, "{t}");
    }
    assert_eq!(PacketType::from_code(28), None);
}

#[test]
fn endpoint_slots() {
    assert_eq!(EpInfo::index(0x00), 0);
    assert_eq!(EpInfo::index(0x0f), 15);
    assert_eq!(EpInfo::index(0x80), 16);
    assert_eq!(EpInfo::index(0x8f), 31);
    for i in 0..32 {
        assert_eq!(EpInfo::index(EpInfo::endpoint(i)), i);
    }
    for v in 0..=255u8 {
        assert_eq!(Status::from_u8(v).to_u8(), v);
        assert_eq!(Speed::from_u8(v).to_u8(), v);
        assert_eq!(TransferType::from_u8(v).to_u8(), v);
    }
}
