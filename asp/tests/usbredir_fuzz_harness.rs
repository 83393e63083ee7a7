//! Random and mutated usbredir streams through the USB redirection fuzz harness
//! (`asp::fuzzing::usbredir_packets`): no panic, whatever parses encodes back to its own
//! bytes, the stream cut into pieces yields what it yields whole, and the parser's counters
//! account for every byte (the harness asserts it).

mod common;

use asp::usb::{
    BufferedBulkPacket, BulkPacket, Capability, Caps, Codec, ControlPacket, DeviceConnect, EpInfo, Interface,
    InterfaceInfo, InterruptPacket, IsoPacket, Limits, Packet, Parser, Role, Speed, Status,
};
use bytes::Bytes;
use common::rng::Rng;

/// The harness's limit.
fn limits() -> Limits {
    Limits::new(4096).unwrap()
}

fn data(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8) ^ seed).collect::<Vec<u8>>().into()
}

/// Packets `sender` may send on a link with `caps`.
fn packets(sender: Role, caps: Caps) -> Vec<Packet> {
    let mut out = Vec::new();
    if caps.contains(Capability::Filter) {
        out.push(Packet::FilterFilter { rules: "0x08,-1,-1,-1,1".into() });
    }
    match sender {
        Role::Host => {
            out.extend([
                Packet::EpInfo(Box::new(EpInfo::empty(caps))),
                Packet::InterfaceInfo(Box::new(
                    InterfaceInfo::new(&[Interface { number: 0, class: 8, subclass: 6, protocol: 0x50 }]).unwrap(),
                )),
                Packet::DeviceConnect(DeviceConnect {
                    speed: Speed::High,
                    device_class: 0,
                    device_subclass: 0,
                    device_protocol: 0,
                    vendor_id: 0x0781,
                    product_id: 0x5567,
                    device_version_bcd: caps.contains(Capability::ConnectDeviceVersion).then_some(0x0100),
                }),
                Packet::ConfigurationStatus { status: Status::Success, configuration: 1 },
                Packet::Control(ControlPacket {
                    endpoint: 0x80,
                    request: 6,
                    request_type: 0x80,
                    status: Status::Success,
                    value: 0x0100,
                    index: 0,
                    length: 18,
                    data: data(18, 1),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: 0x81,
                    status: Status::Success,
                    length: 31,
                    stream_id: 0,
                    data: data(31, 2),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: 0x02,
                    status: Status::Stall,
                    length: 512,
                    stream_id: 0,
                    data: Bytes::new(),
                }),
                Packet::Interrupt(InterruptPacket {
                    endpoint: 0x83,
                    status: Status::Success,
                    length: 4,
                    data: data(4, 3),
                }),
                Packet::Iso(IsoPacket { endpoint: 0x85, status: Status::Success, length: 40, data: data(40, 4) }),
                Packet::InterruptReceivingStatus { status: Status::Success, endpoint: 0x83 },
                Packet::DeviceDisconnect,
            ]);
            if caps.contains(Capability::BulkReceiving) {
                out.push(Packet::BufferedBulk(BufferedBulkPacket {
                    stream_id: 0,
                    length: 64,
                    endpoint: 0x87,
                    status: Status::Success,
                    data: data(64, 5),
                }));
            }
        }
        Role::Guest => {
            out.extend([
                Packet::SetConfiguration { configuration: 1 },
                Packet::GetAltSetting { interface: 0 },
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
                Packet::Bulk(BulkPacket {
                    endpoint: 0x02,
                    status: Status::Success,
                    length: 31,
                    stream_id: 0,
                    data: data(31, 6),
                }),
                Packet::Bulk(BulkPacket {
                    endpoint: 0x81,
                    status: Status::Success,
                    length: 13,
                    stream_id: 0,
                    data: Bytes::new(),
                }),
                Packet::StartInterruptReceiving { endpoint: 0x83 },
                Packet::Interrupt(InterruptPacket {
                    endpoint: 0x04,
                    status: Status::Success,
                    length: 2,
                    data: data(2, 7),
                }),
                Packet::StartIsoStream { endpoint: 0x85, pkts_per_urb: 8, no_urbs: 2 },
                Packet::Iso(IsoPacket { endpoint: 0x06, status: Status::Success, length: 40, data: data(40, 8) }),
                Packet::CancelDataPacket,
                Packet::Reset,
            ]);
            if caps.contains(Capability::DeviceDisconnectAck) {
                out.push(Packet::DeviceDisconnectAck);
            }
        }
    }
    out
}

/// A harness input: our role and capabilities, then the peer's hello and packets; and how
/// many packets follow the hello.
fn input(our_role: Role, ours: Caps, theirs: Caps, cut_seed: u8) -> (Vec<u8>, usize) {
    let peer = our_role.peer();
    let selector = (cut_seed << 1) | u8::from(our_role == Role::Guest);
    let mut out = vec![selector, ours.bits() as u8];
    Parser::new(peer, theirs, limits()).encode_hello("fuzz seed", &mut out).unwrap();
    let codec = Codec::new(peer, Caps::negotiate(ours, theirs), limits());
    let packets = packets(peer, codec.caps());
    for (id, packet) in packets.iter().enumerate() {
        codec.encode(id as u64 * 3, packet, &mut out).unwrap();
    }
    (out, packets.len())
}

/// How many packets after the hello our parser yields from a harness input.
fn parsed(input: &[u8]) -> usize {
    let role = if input[0] & 1 == 0 { Role::Host } else { Role::Guest };
    let mut parser = Parser::new(role, Caps::from_bits(u32::from(input[1])), limits());
    parser.feed(&input[2..]);
    std::iter::from_fn(|| parser.poll()).filter(Result::is_ok).count().saturating_sub(1)
}

fn seeds() -> Vec<(Vec<u8>, usize)> {
    let all = Caps::all_known();
    let mut seeds = Vec::new();
    for role in [Role::Host, Role::Guest] {
        for (ours, theirs) in [(all, all), (Caps::NONE, all), (all, Caps::NONE.with(Capability::Ids64))] {
            seeds.push(input(role, ours, theirs, seeds.len() as u8));
        }
    }
    seeds
}

#[test]
fn the_seeds_parse_entirely() {
    for (seed, count) in seeds() {
        asp::fuzzing::usbredir_packets(&seed);
        assert_eq!(parsed(&seed), count);
    }
}

#[test]
fn random_and_mutated_streams() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let seeds: Vec<Vec<u8>> = seeds().into_iter().map(|(seed, _)| seed).collect();
    let mut parsed_packets = 0;
    let mut refused_somewhere = 0;
    for i in 0..20_000 {
        let mut data = seeds[i % seeds.len()].clone();
        for _ in 0..rng.next() % 5 {
            let at = 2 + (rng.next() as usize) % (data.len() - 2);
            match rng.next() % 5 {
                0 => data[at] ^= 1 << (rng.next() % 8),
                1 => data[at] = rng.next() as u8,
                2 => data.truncate(at),
                3 => data.insert(at, rng.next() as u8),
                // A length field somewhere: a small number, or a huge one.
                _ => {
                    let value = if rng.next() % 2 == 0 { (rng.next() % 300) as u32 } else { rng.next() as u32 };
                    let end = (at + 4).min(data.len());
                    data[at..end].copy_from_slice(&value.to_le_bytes()[..end - at]);
                }
            }
            if data.len() <= 2 {
                break;
            }
        }
        if i % 13 == 0 {
            data = (0..rng.next() % 400).map(|_| rng.next() as u8).collect();
        }
        asp::fuzzing::usbredir_packets(&data);
        if data.len() > 2 {
            let n = parsed(&data);
            parsed_packets += n;
            refused_somewhere += usize::from(n < 5);
        }
    }
    assert!(parsed_packets > 60_000, "the mutations must also keep valid packets ({parsed_packets})");
    assert!(refused_somewhere > 3_000, "the mutations must also break packets ({refused_somewhere})");
}

/// The limit: a packet exactly as long as the harness allows parses; one byte more is
/// refused and skipped, and the next packet is read.
#[test]
fn the_longest_packet_and_one_byte_more() {
    let all = Caps::all_known();
    let host = Codec::new(Role::Host, all, limits());
    for extra in [0usize, 1] {
        // We are the guest, announcing everything.
        let mut stream = vec![1, 0xff];
        Parser::new(Role::Host, all, limits()).encode_hello("h", &mut stream).unwrap();
        // 10 bytes of bulk header and the data: 4096 bytes after the header, plus `extra`.
        let len = 4096 - 10 + extra;
        let mut bulk = Vec::new();
        bulk.extend(101u32.to_le_bytes());
        bulk.extend(((10 + len) as u32).to_le_bytes());
        bulk.extend(9u64.to_le_bytes());
        bulk.extend([0x81, 0]);
        bulk.extend(((len & 0xffff) as u16).to_le_bytes());
        bulk.extend(0u32.to_le_bytes());
        bulk.extend(((len >> 16) as u16).to_le_bytes());
        bulk.extend(std::iter::repeat_n(0x5a, len));
        stream.extend(&bulk);
        host.encode(10, &Packet::DeviceDisconnect, &mut stream).unwrap();
        asp::fuzzing::usbredir_packets(&stream);
        let mut parser = Parser::new(Role::Guest, all, limits());
        parser.feed(&stream[2..]);
        let results: Vec<_> = std::iter::from_fn(|| parser.poll()).collect();
        assert_eq!(results.len(), 3);
        assert_eq!(results[1].is_ok(), extra == 0, "{:?}", results[1].as_ref().err());
        assert_eq!(results[2].as_ref().unwrap().packet, Packet::DeviceDisconnect);
    }
}

/// Streams of valid packets in random order and random cuts: everything parses, whatever the
/// cut.
#[test]
fn random_valid_streams() {
    let mut rng = Rng(99);
    for _ in 0..300 {
        let our_role = if rng.next() % 2 == 0 { Role::Host } else { Role::Guest };
        let ours = Caps::from_bits(rng.next() as u32 & 0xff);
        let theirs = Caps::from_bits(rng.next() as u32 & 0xff);
        let mut stream = vec![(rng.next() as u8) << 1 | u8::from(our_role == Role::Guest), ours.bits() as u8];
        Parser::new(our_role.peer(), theirs, limits()).encode_hello("r", &mut stream).unwrap();
        let codec = Codec::new(our_role.peer(), Caps::negotiate(ours, theirs), limits());
        let choices = packets(our_role.peer(), codec.caps());
        let count = rng.next() % 20;
        for _ in 0..count {
            let packet = &choices[rng.next() as usize % choices.len()];
            let id = if codec.wide_ids() { rng.next() } else { rng.next() & 0xffff_ffff };
            codec.encode(id, packet, &mut stream).unwrap();
        }
        asp::fuzzing::usbredir_packets(&stream);
        assert_eq!(parsed(&stream), count as usize);
    }
}
