//! Software USB devices through usbredir, in memory: a [`DeviceHost`] and a [`Guest`] exchange
//! byte buffers, split at seeded random points, until both are quiet.

mod common;

use std::io::Cursor;

use asp::usb::device::{DeviceHost, HidKeyboard, MassStorage, SoftDevice};
use asp::usb::guest::{Guest, KeyEvent, KeyboardDriver, ScsiCommand, ScsiOutcome, StorageDriver};
use asp::usb::{BulkPacket, ControlPacket, Limits, Packet, Status};
use common::png::crc32;
use common::rng::Rng;

/// Moves bytes both ways, each buffer cut into random pieces, until neither side has any.
fn pump<D: SoftDevice>(host: &mut DeviceHost<D>, guest: &mut Guest, rng: &mut Rng) {
    loop {
        let mut moved = false;
        if let Some(bytes) = guest.poll_transmit() {
            for piece in split(&bytes, rng) {
                host.handle_input(piece).expect("host input");
            }
            moved = true;
        }
        if let Some(bytes) = host.poll_transmit().expect("host output") {
            for piece in split(&bytes, rng) {
                guest.handle_input(piece).expect("guest input");
            }
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn split<'a>(bytes: &'a [u8], rng: &mut Rng) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let cut = if rest.len() > 4096 && rng.next() % 2 == 0 {
            rest.len() / 2 + (rng.next() % 4096) as usize
        } else {
            1 + (rng.next() as usize) % rest.len()
        };
        let (piece, tail) = rest.split_at(cut.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

fn connect<D: SoftDevice>(device: D, rng: &mut Rng) -> (DeviceHost<D>, Guest) {
    let mut host = DeviceHost::new(device, "asp soft device", Limits::default()).unwrap();
    let mut guest = Guest::new("asp test guest", Limits::default()).unwrap();
    pump(&mut host, &mut guest, rng);
    assert!(guest.is_ready(), "enumeration: {:?}", guest.state());
    assert_eq!(host.configuration(), 1);
    (host, guest)
}

#[test]
fn keyboard_types_asp() {
    let mut rng = Rng(0x6b65_7962);
    let (mut host, mut guest) = connect(HidKeyboard::new(), &mut rng);
    let d = guest.device_descriptor();
    assert_eq!(u16::from_le_bytes([d[8], d[9]]), 0x1d6b);
    assert_eq!(u16::from_le_bytes([d[10], d[11]]), 0x0104);
    let config = guest.config_descriptor().to_vec();
    assert_eq!(usize::from(u16::from_le_bytes([config[2], config[3]])), config.len());
    assert_eq!(&config[9..12], &[9, 4, 0]);
    assert_eq!(config[18 + 1], 0x21, "HID descriptor after the interface");

    let mut driver = KeyboardDriver::start(&mut guest).unwrap();
    pump(&mut host, &mut guest, &mut rng);
    let usages: Vec<u8> = "asp".bytes().map(|c| 0x04 + (c - b'a')).collect();
    assert_eq!(usages, [0x04, 0x16, 0x13]);
    let mut events = Vec::new();
    for &usage in &usages {
        assert!(host.device_mut().press(usage));
        pump(&mut host, &mut guest, &mut rng);
        events.extend(driver.poll(&mut guest));
        assert!(host.device_mut().release(usage));
        pump(&mut host, &mut guest, &mut rng);
        events.extend(driver.poll(&mut guest));
    }
    // A shifted key: modifier first, then the key, released in reverse.
    for (usage, pressed) in [(0xe1, true), (0x04, true), (0x04, false), (0xe1, false)] {
        let keyboard = host.device_mut();
        assert!(if pressed { keyboard.press(usage) } else { keyboard.release(usage) });
    }
    pump(&mut host, &mut guest, &mut rng);
    events.extend(driver.poll(&mut guest));
    let mut expected: Vec<KeyEvent> = usages
        .iter()
        .flat_map(|&usage| [KeyEvent { usage, pressed: true }, KeyEvent { usage, pressed: false }])
        .collect();
    expected.extend(
        [(0xe1, true), (0x04, true), (0x04, false), (0xe1, false)].map(|(usage, pressed)| KeyEvent { usage, pressed }),
    );
    assert_eq!(events, expected);
    assert_eq!(driver.reports(), 10);
    let (h, g) = (host.stats(), guest.stats());
    println!(
        "keyboard: {} reports; host sent {} packets / {} bytes, guest sent {} packets / {} bytes",
        driver.reports(),
        h.packets_sent,
        h.bytes_sent,
        g.packets_sent,
        g.bytes_sent
    );
}

fn run(
    host: &mut DeviceHost<MassStorage<Cursor<Vec<u8>>>>,
    guest: &mut Guest,
    driver: &mut StorageDriver,
    command: &ScsiCommand,
    rng: &mut Rng,
) -> ScsiOutcome {
    driver.start(guest, command).unwrap();
    loop {
        pump(host, guest, rng);
        if let Some(outcome) = driver.poll(guest) {
            return outcome.unwrap();
        }
        assert!(guest.stats().packets_sent < 10_000_000, "stuck");
    }
}

#[test]
fn mass_storage_writes_and_reads_16_mib() {
    const DISK: usize = 32 << 20;
    const DATA: usize = 16 << 20;
    const PER_COMMAND: usize = 1 << 20;
    let mut rng = Rng(0x6d61_7373);
    let disk = MassStorage::new(Cursor::new(vec![0u8; DISK])).unwrap();
    let (mut host, mut guest) = connect(disk, &mut rng);
    let mut driver = StorageDriver::new(&guest).unwrap();

    let inquiry = run(&mut host, &mut guest, &mut driver, &ScsiCommand::Inquiry, &mut rng);
    assert_eq!(inquiry.status, 0);
    assert_eq!(inquiry.data.len(), 36);
    assert_eq!(&inquiry.data[8..16], b"asp     ");
    assert_eq!(run(&mut host, &mut guest, &mut driver, &ScsiCommand::TestUnitReady, &mut rng).status, 0);
    let capacity = run(&mut host, &mut guest, &mut driver, &ScsiCommand::ReadCapacity, &mut rng);
    let last = u32::from_be_bytes(capacity.data[0..4].try_into().unwrap());
    let block = u32::from_be_bytes(capacity.data[4..8].try_into().unwrap());
    assert_eq!((last, block), ((DISK / 512 - 1) as u32, 512));

    let mut data = vec![0u8; DATA];
    for chunk in data.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes()[..chunk.len()]);
    }
    let sum = crc32(&data);
    let lba0 = 4096u32;
    let data = bytes::Bytes::from(data);
    let mut transfers = 0;
    for (i, at) in (0..DATA).step_by(PER_COMMAND).enumerate() {
        let lba = lba0 + (at / 512) as u32;
        let command = ScsiCommand::Write { lba, data: data.slice(at..at + PER_COMMAND) };
        let outcome = run(&mut host, &mut guest, &mut driver, &command, &mut rng);
        assert_eq!((outcome.status, outcome.residue), (0, 0), "write {i}");
        transfers += outcome.transfers;
    }
    assert_eq!(transfers, 16 * (2 + 16), "CBW, 16 chunks of 64 KiB and CSW per command");
    let start = lba0 as usize * 512;
    let store = host.device_mut().store_mut().get_ref();
    assert_eq!(crc32(&store[start..start + DATA]), sum, "the backing store holds the data");
    assert!(store[..start].iter().all(|&b| b == 0));

    let mut back = Vec::with_capacity(DATA);
    for at in (0..DATA).step_by(PER_COMMAND) {
        let lba = lba0 + (at / 512) as u32;
        let command = ScsiCommand::Read { lba, blocks: (PER_COMMAND / 512) as u16 };
        let outcome = run(&mut host, &mut guest, &mut driver, &command, &mut rng);
        assert_eq!((outcome.status, outcome.residue), (0, 0));
        back.extend_from_slice(&outcome.data);
    }
    assert_eq!(crc32(&back), sum);
    assert!(back == data, "read back what was written");

    // Past the end: CHECK CONDITION, then ILLEGAL REQUEST / LBA OUT OF RANGE.
    let outside = ScsiCommand::Read { lba: (DISK / 512 - 1) as u32, blocks: 2 };
    let failed = run(&mut host, &mut guest, &mut driver, &outside, &mut rng);
    assert_eq!(failed.status, 1);
    assert_eq!(failed.residue, 1024);
    assert!(failed.data.is_empty());
    let sense = run(&mut host, &mut guest, &mut driver, &ScsiCommand::RequestSense, &mut rng);
    assert_eq!((sense.data[2] & 0x0f, sense.data[12], sense.data[13]), (5, 0x21, 0));
    let outside = ScsiCommand::Write { lba: (DISK / 512) as u32, data: bytes::Bytes::from(vec![7u8; 512]) };
    assert_eq!(run(&mut host, &mut guest, &mut driver, &outside, &mut rng).status, 1);
    assert_eq!(host.device_mut().sense().key, 5);
    assert_eq!(run(&mut host, &mut guest, &mut driver, &ScsiCommand::TestUnitReady, &mut rng).status, 0);

    let (h, g) = (host.stats(), guest.stats());
    println!(
        "mass storage: wrote and read {} bytes (crc32 {sum:#010x}); host sent {} packets / {} bytes, guest sent {} packets / {} bytes; bulk requests {}, control {}",
        DATA, h.packets_sent, h.bytes_sent, g.packets_sent, g.bytes_sent, h.bulk, h.control
    );
}

/// A control request through the guest, answered by the host.
fn control<D: SoftDevice>(
    host: &mut DeviceHost<D>,
    guest: &mut Guest,
    rng: &mut Rng,
    (request_type, request, value, index, length): (u8, u8, u16, u16, u16),
    data: &[u8],
) -> ControlPacket {
    let is_in = request_type & 0x80 != 0;
    let packet = ControlPacket {
        endpoint: if is_in { 0x80 } else { 0 },
        request,
        request_type,
        status: Status::Success,
        value,
        index,
        length: if is_in { length } else { data.len() as u16 },
        data: bytes::Bytes::copy_from_slice(data),
    };
    let id = guest.submit(&Packet::Control(packet)).unwrap();
    pump(host, guest, rng);
    match guest.take_completion(id) {
        Some(Packet::Control(answer)) => answer,
        other => panic!("no control answer: {other:?}"),
    }
}

fn answer<D: SoftDevice>(host: &mut DeviceHost<D>, guest: &mut Guest, rng: &mut Rng, packet: &Packet) -> Packet {
    let id = guest.submit(packet).unwrap();
    pump(host, guest, rng);
    guest.take_completion(id).expect("an answer")
}

#[test]
fn requests_cancel_and_reset() {
    let mut rng = Rng(0x7265_7173);
    let (mut host, mut guest) = connect(MassStorage::new(Cursor::new(vec![0u8; 1 << 20])).unwrap(), &mut rng);
    // GET MAX LUN, Bulk-Only reset, a string, an unknown request.
    let lun = control(&mut host, &mut guest, &mut rng, (0xa1, 0xfe, 0, 0, 1), &[]);
    assert_eq!((lun.status, &lun.data[..]), (Status::Success, &[0u8][..]));
    assert_eq!(control(&mut host, &mut guest, &mut rng, (0x21, 0xff, 0, 0, 0), &[]).status, Status::Success);
    let product = control(&mut host, &mut guest, &mut rng, (0x80, 6, 0x0302, 0x0409, 255), &[]);
    let text: Vec<u16> = product.data[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    assert_eq!(String::from_utf16(&text).unwrap(), "asp soft disk");
    assert_eq!(control(&mut host, &mut guest, &mut rng, (0xc0, 0x42, 0, 0, 4), &[]).status, Status::Stall);
    let short = control(&mut host, &mut guest, &mut rng, (0x80, 6, 0x0100, 0, 8), &[]);
    assert_eq!(short.data.len(), 8, "a descriptor cut to wLength");

    assert_eq!(
        answer(&mut host, &mut guest, &mut rng, &Packet::GetConfiguration),
        Packet::ConfigurationStatus { status: Status::Success, configuration: 1 }
    );
    assert_eq!(
        answer(&mut host, &mut guest, &mut rng, &Packet::SetAltSetting { interface: 0, alt: 0 }),
        Packet::AltSettingStatus { status: Status::Success, interface: 0, alt: 0 }
    );
    assert!(matches!(
        answer(&mut host, &mut guest, &mut rng, &Packet::GetAltSetting { interface: 5 }),
        Packet::AltSettingStatus { status: Status::Inval, .. }
    ));

    // Iso streams, bulk streams and bulk receiving are refused.
    assert_eq!(
        answer(
            &mut host,
            &mut guest,
            &mut rng,
            &Packet::StartIsoStream { endpoint: 0x81, pkts_per_urb: 8, no_urbs: 4 }
        ),
        Packet::IsoStreamStatus { status: Status::Stall, endpoint: 0x81 }
    );
    assert!(matches!(
        answer(&mut host, &mut guest, &mut rng, &Packet::AllocBulkStreams { endpoints: 3, no_streams: 4 }),
        Packet::BulkStreamsStatus { status: Status::Stall, .. }
    ));
    let receive = Packet::StartBulkReceiving { stream_id: 0, bytes_per_transfer: 512, endpoint: 0x81, no_transfers: 2 };
    assert!(matches!(
        answer(&mut host, &mut guest, &mut rng, &receive),
        Packet::BulkReceivingStatus { status: Status::Stall, .. }
    ));

    // MODE SENSE(6) and PREVENT ALLOW MEDIUM REMOVAL.
    let mut driver = StorageDriver::new(&guest).unwrap();
    let mode = run(&mut host, &mut guest, &mut driver, &ScsiCommand::ModeSense6, &mut rng);
    assert_eq!((mode.status, mode.data.len()), (0, 4));
    let prevent = ScsiCommand::PreventAllowMediumRemoval { prevent: true };
    assert_eq!(run(&mut host, &mut guest, &mut driver, &prevent, &mut rng).status, 0);

    // A bulk IN with nothing to read waits, and is cancelled.
    let read =
        BulkPacket { endpoint: 0x81, status: Status::Success, length: 13, stream_id: 0, data: bytes::Bytes::new() };
    let id = guest.submit(&Packet::Bulk(read)).unwrap();
    pump(&mut host, &mut guest, &mut rng);
    assert!(guest.take_completion(id).is_none(), "waits for data");
    guest.cancel(id).unwrap();
    pump(&mut host, &mut guest, &mut rng);
    assert!(matches!(guest.take_completion(id), Some(Packet::Bulk(BulkPacket { status: Status::Cancelled, .. }))));

    // Reset: unconfigured until the guest sets a configuration again.
    guest.submit(&Packet::Reset).unwrap();
    pump(&mut host, &mut guest, &mut rng);
    assert_eq!(host.configuration(), 0);

    // The keyboard's report descriptor and LEDs.
    let (mut host, mut guest) = connect(HidKeyboard::new(), &mut rng);
    let report = control(&mut host, &mut guest, &mut rng, (0x81, 6, 0x2200, 0, 255), &[]);
    assert_eq!((report.data.len(), report.data[0], report.data[62]), (63, 0x05, 0xc0));
    assert_eq!(control(&mut host, &mut guest, &mut rng, (0x21, 9, 0x0200, 0, 1), &[0x02]).status, Status::Success);
    assert_eq!(host.device().leds(), 0x02);
}

#[test]
fn mass_storage_backed_by_a_file() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("usb_devices_disk.img");
    let file = std::fs::File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    file.set_len(4 << 20).unwrap();
    let mut rng = Rng(0x6669_6c65);
    let mut host = DeviceHost::new(MassStorage::new(file).unwrap(), "file disk", Limits::default()).unwrap();
    let mut guest = Guest::new("guest", Limits::default()).unwrap();
    pump(&mut host, &mut guest, &mut rng);
    assert!(guest.is_ready());
    let mut driver = StorageDriver::new(&guest).unwrap();
    let data: Vec<u8> = (0..200 * 512).map(|_| rng.next() as u8).collect();
    let write = ScsiCommand::Write { lba: 4000, data: bytes::Bytes::from(data.clone()) };
    let steps = |host: &mut DeviceHost<_>, guest: &mut Guest, driver: &mut StorageDriver, rng: &mut Rng| loop {
        pump(host, guest, rng);
        if let Some(outcome) = driver.poll(guest) {
            return outcome.unwrap();
        }
    };
    driver.start(&mut guest, &write).unwrap();
    let written = steps(&mut host, &mut guest, &mut driver, &mut rng);
    assert_eq!((written.status, written.transfers), (0, 2 + 2), "100 KiB: two bulk transfers");
    driver.start(&mut guest, &ScsiCommand::Read { lba: 4000, blocks: 200 }).unwrap();
    let read = steps(&mut host, &mut guest, &mut driver, &mut rng);
    assert_eq!(read.status, 0);
    assert!(read.data == data);
    drop(host);
    let on_disk = std::fs::read(&path).unwrap();
    assert!(on_disk[4000 * 512..4200 * 512] == data[..], "the file holds the data");
    std::fs::remove_file(&path).unwrap();
}

/// Every buffer cut into pieces of 1 to 7 bytes: enumeration, typing and a disk round trip.
#[test]
fn tiny_pieces() {
    let mut rng = Rng(0x7469_6e79);
    let mut host =
        DeviceHost::new(MassStorage::new(Cursor::new(vec![0u8; 1 << 20])).unwrap(), "h", Limits::default()).unwrap();
    let mut guest = Guest::new("g", Limits::default()).unwrap();
    let tiny = |host: &mut DeviceHost<_>, guest: &mut Guest, rng: &mut Rng| loop {
        let to_host = guest.poll_transmit();
        let to_guest = host.poll_transmit().unwrap();
        if to_host.is_none() && to_guest.is_none() {
            return;
        }
        for piece in to_host.iter().flat_map(|b| b.chunks(1 + (rng.next() % 7) as usize)) {
            host.handle_input(piece).unwrap();
        }
        for piece in to_guest.iter().flat_map(|b| b.chunks(1 + (rng.next() % 7) as usize)) {
            guest.handle_input(piece).unwrap();
        }
    };
    tiny(&mut host, &mut guest, &mut rng);
    assert!(guest.is_ready());
    let mut driver = StorageDriver::new(&guest).unwrap();
    let data: Vec<u8> = (0..8 * 512).map(|_| rng.next() as u8).collect();
    for command in
        [ScsiCommand::Write { lba: 3, data: bytes::Bytes::from(data.clone()) }, ScsiCommand::Read { lba: 3, blocks: 8 }]
    {
        driver.start(&mut guest, &command).unwrap();
        let outcome = loop {
            tiny(&mut host, &mut guest, &mut rng);
            if let Some(outcome) = driver.poll(&mut guest) {
                break outcome.unwrap();
            }
        };
        assert_eq!(outcome.status, 0);
        if matches!(command, ScsiCommand::Read { .. }) {
            assert!(outcome.data == data);
        }
    }
    println!(
        "tiny pieces: guest received {} packets / {} bytes",
        guest.stats().packets_received,
        guest.stats().bytes_received
    );
}
