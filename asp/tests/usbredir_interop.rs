//! Interop of `asp::usb` with the real libusbredirparser (Debian's `libusbredirparser-dev`,
//! installed by scripts/setup.sh).
//!
//! The test compiles `tests/usbredir/peer.c` with the system `cc` against the library and runs
//! it as a child that speaks usbredir on its stdin and stdout, as the usb-host or the
//! usb-guest; the test plays the other role with our codec. Both sides run the same script:
//! hellos (the negotiated capabilities checked on both sides), the host's ep_info,
//! interface_info and device_connect, then the guest's requests (configuration and alternate
//! settings, control IN and OUT, bulk OUT and IN, interrupt and iso streams both ways, bulk
//! streams, bulk receiving, a cancelled transfer, a filter) and the host's answers, a reset
//! the device does not come back from, device_disconnect and its ack. Our parser checks every
//! packet the library wrote field by field; the peer prints every packet the library parsed
//! from our bytes as a line, which the test compares with what it sent. Each of the two
//! directions runs under three capability sets: all, none, and a mix. Every wait is bounded.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use asp::usb::{
    BufferedBulkPacket, BulkPacket, Capability, Caps, Codec, ControlPacket, DeviceConnect, EpInfo, Interface,
    InterfaceInfo, InterruptPacket, IsoPacket, Limits, Packet, Parser, Received, Role, Speed, Status, TransferType,
};
use bytes::Bytes;

/// How long any one wait may take.
const WAIT: Duration = Duration::from_secs(20);
const OUR_VERSION: &str = "asp-rs usbredir interop";
const PEER_VERSION: &str = "asp-usbredir-peer 1";

/// Builds the peer once.
fn peer_program() -> &'static Path {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| common::cc::build_usbredir_program("peer.c", "usbredir-peer"))
}

/// The C peer, and our side of the link to it.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    bytes: Receiver<Vec<u8>>,
    lines: Receiver<String>,
    parser: Parser,
    /// Cuts what the peer wrote into small pieces before our parser sees it.
    split: usize,
}

impl Peer {
    /// Starts the peer as `peer_role` announcing `peer_caps`; we play the other role with
    /// `our_caps` and send our hello at once.
    fn start(peer_role: Role, peer_caps: Caps, our_caps: Caps) -> Peer {
        let role = if peer_role == Role::Host { "host" } else { "guest" };
        let mut child = Command::new(peer_program())
            .args([role, &format!("{:x}", peer_caps.bits())])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the peer starts");
        let (byte_tx, bytes) = channel();
        let mut stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                if byte_tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let (line_tx, lines) = channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let parser = Parser::new(peer_role.peer(), our_caps, Limits::default());
        let mut peer = Peer { stdin: child.stdin.take(), child, bytes, lines, parser, split: 0 };
        let mut hello = Vec::new();
        peer.parser.encode_hello(OUR_VERSION, &mut hello).unwrap();
        peer.write(&hello);
        peer
    }

    fn write(&mut self, bytes: &[u8]) {
        self.stdin.as_mut().expect("stdin open").write_all(bytes).expect("the peer reads");
    }

    /// Sends packets with the negotiated framing.
    fn send(&mut self, packets: &[(u64, Packet)]) {
        let codec = self.codec();
        let mut out = Vec::new();
        for (id, packet) in packets {
            codec.encode(*id, packet, &mut out).unwrap_or_else(|e| panic!("encoding {packet:?}: {e}"));
        }
        self.write(&out);
    }

    fn codec(&self) -> Codec {
        self.parser.outgoing().expect("the peer's hello has arrived")
    }

    /// The next packet the peer sent.
    fn recv(&mut self) -> Received {
        loop {
            if let Some(result) = self.parser.poll() {
                return result.unwrap_or_else(|e| panic!("the peer's packet was refused: {e}"));
            }
            match self.bytes.recv_timeout(WAIT) {
                Ok(chunk) => {
                    // Feed in pieces of 1 to 7 bytes, then the rest, so packets split anywhere.
                    let mut rest = &chunk[..];
                    while !rest.is_empty() {
                        self.split = self.split % 7 + 1;
                        let n = if rest.len() > 4096 { rest.len() } else { self.split.min(rest.len()) };
                        self.parser.feed(&rest[..n]);
                        rest = &rest[n..];
                    }
                }
                Err(e) => panic!("no packet from the peer ({e:?}); it said: {:?}", self.drain_lines()),
            }
        }
    }

    fn expect(&mut self, expected: &[(u64, Packet)]) {
        for (id, packet) in expected {
            let got = self.recv();
            assert_eq!((got.id, &got.packet), (*id, packet), "packet from the peer");
        }
    }

    fn drain_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Closes the link and returns what the peer printed, after checking it exited cleanly
    /// and our parser saw nothing it refused and holds nothing.
    fn finish(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let mut lines = Vec::new();
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("the peer did not finish; it said: {lines:?}");
                }
            }
        }
        let status = self.child.wait().expect("the peer exits");
        assert!(status.success(), "the peer failed ({status}); it said: {lines:?}");
        let stats = self.parser.stats();
        assert_eq!((stats.refused, stats.buffered), (0, 0), "{stats:?}");
        assert_eq!(stats.bytes_fed, stats.packet_bytes);
        lines
    }
}

// ---- The script both sides follow (mirrored in peer.c) ----

fn pattern(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

const DEVICE_DESCRIPTOR: [u8; 18] =
    [0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x34, 0x12, 0x78, 0x56, 0x10, 0x01, 0x01, 0x02, 0x03, 0x01];
const FILTER: &str = "0x03,-1,-1,-1,0|-1,-1,-1,-1,1";
const STREAM_ENDPOINTS: u32 = 0x0002_0004;

/// The script's ids: large when both sides have 64-bit ids, so that the upper half is used.
fn id(n: u64, caps: Caps) -> u64 {
    match n {
        0 => 0,
        n if caps.contains(Capability::Ids64) => (1 << 40) + n,
        n => n,
    }
}

/// ep_info, interface_info and device_connect, as the host announces the device.
fn announcement(caps: Caps) -> Vec<(u64, Packet)> {
    let mut ep_info = EpInfo::empty(caps);
    let endpoints = [
        (0x00, TransferType::Control, 0, 0, 64, 0),
        (0x80, TransferType::Control, 0, 0, 64, 0),
        (0x02, TransferType::Bulk, 0, 0, 512, 16),
        (0x81, TransferType::Bulk, 0, 0, 512, 16),
        (0x82, TransferType::Bulk, 0, 0, 512, 0),
        (0x83, TransferType::Interrupt, 4, 1, 8, 0),
        (0x04, TransferType::Interrupt, 4, 1, 8, 0),
        (0x85, TransferType::Iso, 1, 2, 192, 0),
        (0x06, TransferType::Iso, 1, 2, 192, 0),
        (0x87, TransferType::Bulk, 0, 0, 64, 0),
    ];
    for (address, kind, interval, interface, size, streams) in endpoints {
        let i = EpInfo::index(address);
        ep_info.transfer_type[i] = kind;
        ep_info.interval[i] = interval;
        ep_info.interface[i] = interface;
        if let Some(sizes) = &mut ep_info.max_packet_size {
            sizes[i] = size;
        }
        if let Some(max_streams) = &mut ep_info.max_streams {
            max_streams[i] = streams;
        }
    }
    let interfaces = InterfaceInfo::new(&[
        Interface { number: 0, class: 0x08, subclass: 0x06, protocol: 0x50 },
        Interface { number: 1, class: 0x03, subclass: 0, protocol: 0 },
        Interface { number: 2, class: 0x01, subclass: 0x02, protocol: 0 },
    ])
    .unwrap();
    let connect = DeviceConnect {
        speed: Speed::High,
        device_class: 0,
        device_subclass: 0,
        device_protocol: 0,
        vendor_id: 0x1234,
        product_id: 0x5678,
        device_version_bcd: caps.contains(Capability::ConnectDeviceVersion).then_some(0x0110),
    };
    vec![
        (0, Packet::EpInfo(Box::new(ep_info))),
        (0, Packet::InterfaceInfo(Box::new(interfaces))),
        (0, Packet::DeviceConnect(connect)),
    ]
}

fn control(endpoint: u8, request: u8, request_type: u8, value: u16, length: u16, data: Bytes) -> ControlPacket {
    ControlPacket { endpoint, request, request_type, status: Status::Success, value, index: 0, length, data }
}

fn bulk(endpoint: u8, status: Status, length: u32, data: Bytes) -> Packet {
    Packet::Bulk(BulkPacket { endpoint, status, length, stream_id: 0, data })
}

/// The guest's requests, in order.
fn requests(caps: Caps) -> Vec<(u64, Packet)> {
    let bulk_in = if caps.contains(Capability::BulkLength32) { 100_000 } else { 1000 };
    let mut script = vec![
        (1, Packet::SetConfiguration { configuration: 1 }),
        (2, Packet::GetConfiguration),
        (3, Packet::SetAltSetting { interface: 1, alt: 2 }),
        (4, Packet::GetAltSetting { interface: 1 }),
        (5, Packet::Control(control(0x80, 6, 0x80, 0x0100, 18, Bytes::new()))),
        (6, Packet::Control(control(0x00, 0x09, 0x21, 0x0200, 4, pattern(4, 11)))),
        (7, bulk(0x02, Status::Success, 300, pattern(300, 1))),
        (8, bulk(0x81, Status::Success, bulk_in, Bytes::new())),
        (9, Packet::StartInterruptReceiving { endpoint: 0x83 }),
        (
            10,
            Packet::Interrupt(InterruptPacket {
                endpoint: 0x04,
                status: Status::Success,
                length: 8,
                data: pattern(8, 4),
            }),
        ),
        (11, Packet::StartIsoStream { endpoint: 0x85, pkts_per_urb: 4, no_urbs: 2 }),
        (12, Packet::Iso(IsoPacket { endpoint: 0x06, status: Status::Success, length: 192, data: pattern(192, 9) })),
        (13, Packet::AllocBulkStreams { endpoints: STREAM_ENDPOINTS, no_streams: 16 }),
        (14, Packet::FreeBulkStreams { endpoints: STREAM_ENDPOINTS }),
    ];
    if caps.contains(Capability::BulkReceiving) {
        script.push((
            15,
            Packet::StartBulkReceiving { stream_id: 0, bytes_per_transfer: 4096, endpoint: 0x87, no_transfers: 3 },
        ));
        script.push((16, Packet::StopBulkReceiving { stream_id: 0, endpoint: 0x87 }));
    }
    script.extend([
        (17, Packet::StopInterruptReceiving { endpoint: 0x83 }),
        (18, Packet::StopIsoStream { endpoint: 0x85 }),
        (19, bulk(0x82, Status::Success, 64, Bytes::new())),
        (19, Packet::CancelDataPacket),
    ]);
    if caps.contains(Capability::Filter) {
        script.push((0, Packet::FilterFilter { rules: FILTER.into() }));
        script.push((0, Packet::FilterReject));
    }
    script.push((0, Packet::Reset));
    script.into_iter().map(|(n, p)| (id(n, caps), p)).collect()
}

/// What the host sends back for one request (answers keep the request's id; data the host
/// sends on its own counts from 0).
fn answers(request_id: u64, request: &Packet) -> Vec<(u64, Packet)> {
    let ok = Status::Success;
    match request {
        Packet::SetConfiguration { configuration } => {
            vec![(request_id, Packet::ConfigurationStatus { status: ok, configuration: *configuration })]
        }
        Packet::GetConfiguration => vec![(request_id, Packet::ConfigurationStatus { status: ok, configuration: 1 })],
        Packet::SetAltSetting { interface, alt } => {
            vec![(request_id, Packet::AltSettingStatus { status: ok, interface: *interface, alt: *alt })]
        }
        Packet::GetAltSetting { interface } => {
            vec![(request_id, Packet::AltSettingStatus { status: ok, interface: *interface, alt: 2 })]
        }
        Packet::Control(c) if c.endpoint & 0x80 != 0 => {
            let length = c.length.min(18);
            let data = Bytes::copy_from_slice(&DEVICE_DESCRIPTOR[..usize::from(length)]);
            vec![(request_id, Packet::Control(ControlPacket { length, data, ..c.clone() }))]
        }
        Packet::Control(c) => vec![(request_id, Packet::Control(ControlPacket { data: Bytes::new(), ..c.clone() }))],
        Packet::Bulk(b) if b.endpoint == 0x82 => vec![],
        Packet::Bulk(b) if b.endpoint & 0x80 != 0 => {
            vec![(request_id, bulk(b.endpoint, ok, b.length, pattern(b.length as usize, 2)))]
        }
        Packet::Bulk(b) => vec![(request_id, bulk(b.endpoint, ok, b.length, Bytes::new()))],
        Packet::StartInterruptReceiving { endpoint } => vec![
            (request_id, Packet::InterruptReceivingStatus { status: ok, endpoint: *endpoint }),
            (0, Packet::Interrupt(InterruptPacket { endpoint: *endpoint, status: ok, length: 8, data: pattern(8, 3) })),
        ],
        Packet::StopInterruptReceiving { endpoint } => {
            vec![(request_id, Packet::InterruptReceivingStatus { status: ok, endpoint: *endpoint })]
        }
        Packet::Interrupt(i) => {
            vec![(request_id, Packet::Interrupt(InterruptPacket { data: Bytes::new(), ..i.clone() }))]
        }
        Packet::StartIsoStream { endpoint, .. } => {
            let mut out = vec![(request_id, Packet::IsoStreamStatus { status: ok, endpoint: *endpoint })];
            for k in 0..2u8 {
                let data = pattern(192, 5 + 10 * k);
                out.push((u64::from(k), Packet::Iso(IsoPacket { endpoint: *endpoint, status: ok, length: 192, data })));
            }
            out
        }
        Packet::StopIsoStream { endpoint } => {
            vec![(request_id, Packet::IsoStreamStatus { status: ok, endpoint: *endpoint })]
        }
        Packet::Iso(_) | Packet::FilterFilter { .. } | Packet::FilterReject => vec![],
        Packet::AllocBulkStreams { endpoints, no_streams } => {
            vec![(request_id, Packet::BulkStreamsStatus { endpoints: *endpoints, no_streams: *no_streams, status: ok })]
        }
        Packet::FreeBulkStreams { endpoints } => {
            vec![(request_id, Packet::BulkStreamsStatus { endpoints: *endpoints, no_streams: 0, status: ok })]
        }
        Packet::StartBulkReceiving { stream_id, bytes_per_transfer, endpoint, .. } => vec![
            (request_id, Packet::BulkReceivingStatus { stream_id: *stream_id, endpoint: *endpoint, status: ok }),
            (
                0,
                Packet::BufferedBulk(BufferedBulkPacket {
                    stream_id: *stream_id,
                    length: *bytes_per_transfer,
                    endpoint: *endpoint,
                    status: ok,
                    data: pattern(*bytes_per_transfer as usize, 7),
                }),
            ),
        ],
        Packet::StopBulkReceiving { stream_id, endpoint } => {
            vec![(request_id, Packet::BulkReceivingStatus { stream_id: *stream_id, endpoint: *endpoint, status: ok })]
        }
        Packet::CancelDataPacket => vec![(request_id, bulk(0x82, Status::Cancelled, 0, Bytes::new()))],
        Packet::Reset => vec![(0, Packet::DeviceDisconnect)],
        other => panic!("not in the script: {other:?}"),
    }
}

// ---- How the peer prints what it parsed (mirrors peer.c) ----

fn payload(data: &[u8]) -> String {
    match data.len() {
        0 => "-".into(),
        1..=32 => data.iter().map(|b| format!("{b:02x}")).collect(),
        n => {
            let hash = data.iter().fold(2_166_136_261u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(16_777_619));
            format!("{n}#{hash:08x}")
        }
    }
}

fn line(id: u64, packet: &Packet) -> String {
    match packet {
        Packet::DeviceConnect(c) => format!(
            "device_connect speed={} class={:02x} subclass={:02x} protocol={:02x} vendor={:04x} product={:04x} version={}",
            c.speed.to_u8(),
            c.device_class,
            c.device_subclass,
            c.device_protocol,
            c.vendor_id,
            c.product_id,
            c.device_version_bcd.map_or("-".into(), |v| format!("{v:04x}"))
        ),
        Packet::DeviceDisconnect => "device_disconnect".into(),
        Packet::Reset => "reset".into(),
        Packet::InterfaceInfo(info) => {
            let mut s = format!("interface_info count={}", info.count);
            for i in info.interfaces() {
                s += &format!(" {:02x}:{:02x}:{:02x}:{:02x}", i.number, i.class, i.subclass, i.protocol);
            }
            s
        }
        Packet::EpInfo(info) => {
            let mut s = "ep_info".to_string();
            for i in 0..32 {
                if info.transfer_type[i] == TransferType::Invalid {
                    continue;
                }
                let size = info.max_packet_size.map_or("-".into(), |m| m[i].to_string());
                let streams = info.max_streams.map_or("-".into(), |m| m[i].to_string());
                s += &format!(
                    " {:02x}={}/{}/{}/{size}/{streams}",
                    EpInfo::endpoint(i),
                    info.transfer_type[i].to_u8(),
                    info.interval[i],
                    info.interface[i]
                );
            }
            s
        }
        Packet::SetConfiguration { configuration } => {
            format!("set_configuration id={id} configuration={configuration}")
        }
        Packet::GetConfiguration => format!("get_configuration id={id}"),
        Packet::ConfigurationStatus { status, configuration } => {
            format!("configuration_status id={id} status={} configuration={configuration}", status.to_u8())
        }
        Packet::SetAltSetting { interface, alt } => format!("set_alt_setting id={id} interface={interface} alt={alt}"),
        Packet::GetAltSetting { interface } => format!("get_alt_setting id={id} interface={interface}"),
        Packet::AltSettingStatus { status, interface, alt } => {
            format!("alt_setting_status id={id} status={} interface={interface} alt={alt}", status.to_u8())
        }
        Packet::StartIsoStream { endpoint, pkts_per_urb, no_urbs } => {
            format!("start_iso_stream id={id} endpoint={endpoint:02x} pkts_per_urb={pkts_per_urb} no_urbs={no_urbs}")
        }
        Packet::StopIsoStream { endpoint } => format!("stop_iso_stream id={id} endpoint={endpoint:02x}"),
        Packet::IsoStreamStatus { status, endpoint } => {
            format!("iso_stream_status id={id} status={} endpoint={endpoint:02x}", status.to_u8())
        }
        Packet::StartInterruptReceiving { endpoint } => {
            format!("start_interrupt_receiving id={id} endpoint={endpoint:02x}")
        }
        Packet::StopInterruptReceiving { endpoint } => {
            format!("stop_interrupt_receiving id={id} endpoint={endpoint:02x}")
        }
        Packet::InterruptReceivingStatus { status, endpoint } => {
            format!("interrupt_receiving_status id={id} status={} endpoint={endpoint:02x}", status.to_u8())
        }
        Packet::AllocBulkStreams { endpoints, no_streams } => {
            format!("alloc_bulk_streams id={id} endpoints={endpoints:08x} no_streams={no_streams}")
        }
        Packet::FreeBulkStreams { endpoints } => format!("free_bulk_streams id={id} endpoints={endpoints:08x}"),
        Packet::BulkStreamsStatus { endpoints, no_streams, status } => format!(
            "bulk_streams_status id={id} endpoints={endpoints:08x} no_streams={no_streams} status={}",
            status.to_u8()
        ),
        Packet::CancelDataPacket => format!("cancel_data_packet id={id}"),
        Packet::FilterReject => "filter_reject".into(),
        Packet::FilterFilter { rules } => format!("filter_filter rules={rules}"),
        Packet::DeviceDisconnectAck => "device_disconnect_ack".into(),
        Packet::StartBulkReceiving { stream_id, bytes_per_transfer, endpoint, no_transfers } => format!(
            "start_bulk_receiving id={id} stream_id={stream_id} bytes_per_transfer={bytes_per_transfer} \
             endpoint={endpoint:02x} no_transfers={no_transfers}"
        ),
        Packet::StopBulkReceiving { stream_id, endpoint } => {
            format!("stop_bulk_receiving id={id} stream_id={stream_id} endpoint={endpoint:02x}")
        }
        Packet::BulkReceivingStatus { stream_id, endpoint, status } => format!(
            "bulk_receiving_status id={id} stream_id={stream_id} endpoint={endpoint:02x} status={}",
            status.to_u8()
        ),
        Packet::Control(c) => format!(
            "control_packet id={id} endpoint={:02x} request={:02x} requesttype={:02x} status={} value={:04x} \
             index={:04x} length={} data={}",
            c.endpoint,
            c.request,
            c.request_type,
            c.status.to_u8(),
            c.value,
            c.index,
            c.length,
            payload(&c.data)
        ),
        Packet::Bulk(b) => format!(
            "bulk_packet id={id} endpoint={:02x} status={} length={} stream_id={} data={}",
            b.endpoint,
            b.status.to_u8(),
            b.length,
            b.stream_id,
            payload(&b.data)
        ),
        Packet::Iso(i) => format!(
            "iso_packet id={id} endpoint={:02x} status={} length={} data={}",
            i.endpoint,
            i.status.to_u8(),
            i.length,
            payload(&i.data)
        ),
        Packet::Interrupt(i) => format!(
            "interrupt_packet id={id} endpoint={:02x} status={} length={} data={}",
            i.endpoint,
            i.status.to_u8(),
            i.length,
            payload(&i.data)
        ),
        Packet::BufferedBulk(b) => format!(
            "buffered_bulk_packet id={id} stream_id={} endpoint={:02x} status={} length={} data={}",
            b.stream_id,
            b.endpoint,
            b.status.to_u8(),
            b.length,
            payload(&b.data)
        ),
        Packet::Hello(_) => unreachable!("the hello line is written by hello_line"),
    }
}

fn hello_line(our_caps: Caps, negotiated: Caps) -> String {
    format!(
        "hello version={OUR_VERSION} caps={:08x} negotiated={:08x}",
        our_caps.normalized().bits(),
        negotiated.bits()
    )
}

fn assert_lines(got: &[String], expected: &[String]) {
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g, e, "line {i} the peer printed");
    }
    assert_eq!(got.len(), expected.len(), "the peer printed {got:#?}\nexpected {expected:#?}");
}

/// The capability sets each direction runs under: (ours, the peer's).
fn cap_sets() -> Vec<(Caps, Caps)> {
    let mixed = Caps::NONE
        .with(Capability::Ids64)
        .with(Capability::EpInfoMaxPacketSize)
        .with(Capability::ConnectDeviceVersion)
        .with(Capability::Filter);
    vec![(Caps::all_known(), Caps::all_known()), (Caps::NONE, Caps::all_known()), (Caps::all_known(), mixed)]
}

/// libusbredirparser as the usb-host (the device side), our codec as the usb-guest.
#[test]
fn their_host_our_guest() {
    for (ours, theirs) in cap_sets() {
        let mut peer = Peer::start(Role::Host, theirs, ours);
        let hello = peer.recv();
        let Packet::Hello(h) = &hello.packet else { panic!("first packet: {hello:?}") };
        assert_eq!((hello.id, h.version.text().as_ref(), h.caps()), (0, PEER_VERSION, theirs));
        assert_eq!(h.cap_words.len(), 1);
        let negotiated = Caps::negotiate(ours, theirs);
        assert_eq!(peer.parser.negotiated(), Some(negotiated));
        assert_eq!(peer.codec().header_len(), if negotiated.contains(Capability::Ids64) { 16 } else { 12 });

        peer.expect(&announcement(negotiated));
        let script = requests(negotiated);
        peer.send(&script);
        let expected: Vec<_> = script.iter().flat_map(|(id, request)| answers(*id, request)).collect();
        peer.expect(&expected);
        let mut lines = vec![hello_line(ours, negotiated)];
        lines.extend(script.iter().map(|(id, p)| line(*id, p)));
        if negotiated.contains(Capability::DeviceDisconnectAck) {
            peer.send(&[(0, Packet::DeviceDisconnectAck)]);
            lines.push(line(0, &Packet::DeviceDisconnectAck));
        }
        lines.push("bye".into());
        let stats = peer.parser.stats();
        assert_eq!(stats.packets, 1 + 3 + expected.len() as u64);
        assert_lines(&peer.finish(), &lines);
    }
}

/// libusbredirparser as the usb-guest, our codec as the usb-host.
#[test]
fn their_guest_our_host() {
    for (ours, theirs) in cap_sets() {
        let mut peer = Peer::start(Role::Guest, theirs, ours);
        let hello = peer.recv();
        let Packet::Hello(h) = &hello.packet else { panic!("first packet: {hello:?}") };
        // libusbredirparser adds device_disconnect_ack to a guest's capabilities.
        let theirs = theirs.with(Capability::DeviceDisconnectAck);
        assert_eq!((hello.id, h.version.text().as_ref(), h.caps()), (0, PEER_VERSION, theirs));
        let negotiated = Caps::negotiate(ours, theirs);
        assert_eq!(peer.parser.negotiated(), Some(negotiated));

        let announced = announcement(negotiated);
        peer.send(&announced);
        let mut lines = vec![hello_line(ours, negotiated)];
        lines.extend(announced.iter().map(|(id, p)| line(*id, p)));
        for (id, request) in requests(negotiated) {
            let got = peer.recv();
            assert_eq!((got.id, &got.packet), (id, &request), "request from the peer");
            let answer = answers(id, &request);
            peer.send(&answer);
            lines.extend(answer.iter().map(|(id, p)| line(*id, p)));
        }
        if negotiated.contains(Capability::DeviceDisconnectAck) {
            peer.expect(&[(0, Packet::DeviceDisconnectAck)]);
        }
        lines.push("bye".into());
        assert_lines(&peer.finish(), &lines);
    }
}
