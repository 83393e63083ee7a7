//! The devices driven directly through [`SoftDevice`], and the host's bounds.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use super::*;

fn cbw(tag: u32, expected: u32, is_in: bool, cb: &[u8]) -> Vec<u8> {
    let mut d = b"USBC".to_vec();
    d.extend_from_slice(&tag.to_le_bytes());
    d.extend_from_slice(&expected.to_le_bytes());
    d.extend_from_slice(&[if is_in { 0x80 } else { 0 }, 0, cb.len() as u8]);
    let mut block = [0u8; 16];
    block[..cb.len()].copy_from_slice(cb);
    d.extend_from_slice(&block);
    d
}

fn csw<S: Read + Write + Seek>(disk: &mut MassStorage<S>, tag: u32) -> (u32, u8) {
    let d = disk.bulk_in(0x81, 13).unwrap().unwrap();
    assert_eq!((&d[0..4], u32::from_le_bytes([d[4], d[5], d[6], d[7]])), (&b"USBS"[..], tag));
    (u32::from_le_bytes([d[8], d[9], d[10], d[11]]), d[12])
}

fn rw10(op: u8, lba: u32, blocks: u16) -> Vec<u8> {
    let mut cb = vec![op, 0];
    cb.extend_from_slice(&lba.to_be_bytes());
    cb.push(0);
    cb.extend_from_slice(&blocks.to_be_bytes());
    cb.push(0);
    cb
}

#[test]
fn storage_refusals_set_sense_and_csw() {
    let mut disk = MassStorage::new(Cursor::new(vec![0u8; 8 * 512])).unwrap();
    assert_eq!(disk.blocks(), 8);
    // Not a CBW.
    assert_eq!(disk.bulk_out(0x02, b"USBX"), Err(Stall));
    // Nothing to read between commands: the request waits.
    assert_eq!(disk.bulk_in(0x81, 13), Ok(None));
    // An unknown opcode.
    disk.bulk_out(0x02, &cbw(1, 0, false, &[0xff, 0, 0, 0, 0, 0])).unwrap();
    assert_eq!(csw(&mut disk, 1), (0, 1));
    assert_eq!(disk.sense(), Sense { key: 5, asc: 0x20, ascq: 0 });
    // REQUEST SENSE reports it, then clears it.
    disk.bulk_out(0x02, &cbw(2, 18, true, &[0x03, 0, 0, 0, 18, 0])).unwrap();
    let sense = disk.bulk_in(0x81, 18).unwrap().unwrap();
    assert_eq!((sense[0], sense[2], sense[12]), (0x70, 5, 0x20));
    assert_eq!(csw(&mut disk, 2), (0, 0));
    assert_eq!(disk.sense(), Sense::default());
    // A WRITE past the end: its data is taken and dropped, the store is unchanged.
    disk.bulk_out(0x02, &cbw(3, 1024, false, &rw10(0x2a, 7, 2))).unwrap();
    disk.bulk_out(0x02, &[9u8; 1024]).unwrap();
    assert_eq!(csw(&mut disk, 3), (1024, 1));
    assert_eq!(disk.sense(), Sense { key: 5, asc: 0x21, ascq: 0 });
    assert!(disk.store_mut().get_ref().iter().all(|&b| b == 0));
    // A READ whose length disagrees with the CBW: INVALID FIELD, the data stage stalls.
    disk.bulk_out(0x02, &cbw(4, 100, true, &rw10(0x28, 0, 1))).unwrap();
    assert_eq!(disk.bulk_in(0x81, 100), Err(Stall));
    assert_eq!(csw(&mut disk, 4), (100, 1));
    assert_eq!(disk.sense().asc, 0x24);
    // A good WRITE then READ of the last block, split into uneven transfers.
    disk.bulk_out(0x02, &cbw(5, 512, false, &rw10(0x2a, 7, 1))).unwrap();
    disk.bulk_out(0x02, &[7u8; 100]).unwrap();
    disk.bulk_out(0x02, &[8u8; 412]).unwrap();
    assert_eq!(csw(&mut disk, 5), (0, 0));
    disk.bulk_out(0x02, &cbw(6, 512, true, &rw10(0x28, 7, 1))).unwrap();
    let first = disk.bulk_in(0x81, 300).unwrap().unwrap();
    let second = disk.bulk_in(0x81, 300).unwrap().unwrap();
    assert_eq!((first.len(), second.len(), first[99], first[100]), (300, 212, 7, 8));
    assert_eq!(csw(&mut disk, 6), (0, 0));
    // BOT reset mid-command returns to waiting for a CBW.
    disk.bulk_out(0x02, &cbw(7, 512, true, &rw10(0x28, 0, 1))).unwrap();
    let reset = Setup { request_type: 0x21, request: 0xff, value: 0, index: 0, length: 0 };
    assert_eq!(disk.control(reset, &[]), Ok(Vec::new()));
    assert_eq!(disk.bulk_in(0x81, 512), Ok(None));
}

/// A store whose reads fail.
struct Broken;

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("broken"))
    }
}

impl Write for Broken {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Broken {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        Ok(if let SeekFrom::End(_) = pos { 4096 } else { 0 })
    }
}

#[test]
fn storage_read_error_is_a_medium_error() {
    let mut disk = MassStorage::new(Broken).unwrap();
    disk.bulk_out(0x02, &cbw(1, 512, true, &rw10(0x28, 0, 1))).unwrap();
    assert_eq!(disk.bulk_in(0x81, 512), Err(Stall));
    assert_eq!(csw(&mut disk, 1), (512, 1));
    assert_eq!(disk.sense(), Sense { key: 3, asc: 0x11, ascq: 0 });
}

#[test]
fn keyboard_bounds() {
    let mut kbd = HidKeyboard::new();
    for usage in 4..10 {
        assert!(kbd.press(usage));
    }
    assert!(!kbd.press(10), "six keys at most");
    assert!(!kbd.press(4), "already down");
    assert!(!kbd.release(11), "not down");
    for usage in 4..10 {
        assert!(kbd.release(usage));
    }
    while kbd.queued() < MAX_QUEUED_REPORTS {
        assert!(kbd.press(4) && kbd.release(4) || kbd.queued() == MAX_QUEUED_REPORTS);
    }
    assert!(!kbd.press(5), "queue full");
    assert_eq!(kbd.interrupt_in(0x81).map(|r| r[2]), Some(4));
    assert_eq!(kbd.interrupt_in(0x82), None);
}

#[test]
fn host_bounds_waiting_bulk_in() {
    let disk = MassStorage::new(Cursor::new(vec![0u8; 4096])).unwrap();
    let mut host = DeviceHost::new(disk, "host", Limits::default()).unwrap();
    let guest = Parser::new(Role::Guest, Caps::all_known(), Limits::default());
    let mut wire = Vec::new();
    guest.encode_hello("guest", &mut wire).unwrap();
    let codec = crate::usb::Codec::new(Role::Guest, Caps::all_known(), Limits::default());
    codec.encode(1, &Packet::SetConfiguration { configuration: 1 }, &mut wire).unwrap();
    for id in 0..=MAX_PENDING_IN as u64 {
        let read = BulkPacket { endpoint: 0x81, status: Status::Success, length: 13, stream_id: 0, data: Bytes::new() };
        codec.encode(10 + id, &Packet::Bulk(read), &mut wire).unwrap();
    }
    let error = host.handle_input(&wire).unwrap_err();
    assert!(matches!(error, HostError::TooManyPending { max: MAX_PENDING_IN }), "{error}");
    assert_eq!(host.configuration(), 1);
    assert!(host.poll_transmit().unwrap().is_some());
}

/// A keyboard that records the standard requests its host passes on, and refuses them all
/// when told to.
#[derive(Debug, Default)]
struct Recording {
    keyboard: HidKeyboard,
    calls: Vec<String>,
    refuse: bool,
}

impl Recording {
    fn record(&mut self, call: String) -> Result<(), Stall> {
        self.calls.push(call);
        if self.refuse { Err(Stall) } else { Ok(()) }
    }
}

impl SoftDevice for Recording {
    fn device(&self) -> &DeviceDesc {
        self.keyboard.device()
    }
    fn configuration(&self) -> &ConfigDesc {
        self.keyboard.configuration()
    }
    fn control(&mut self, setup: Setup, data: &[u8]) -> Result<Vec<u8>, Stall> {
        self.calls.push(format!("control {}", setup.request));
        self.keyboard.control(setup, data)
    }
    fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall> {
        self.keyboard.bulk_out(endpoint, data)
    }
    fn bulk_in(&mut self, endpoint: u8, max_len: usize) -> Result<Option<Vec<u8>>, Stall> {
        self.keyboard.bulk_in(endpoint, max_len)
    }
    fn interrupt_in(&mut self, endpoint: u8) -> Option<Vec<u8>> {
        self.keyboard.interrupt_in(endpoint)
    }
    fn reset(&mut self) {
        self.keyboard.reset();
    }
    fn set_configuration(&mut self, value: u8) -> Result<(), Stall> {
        self.record(format!("configuration {value}"))
    }
    fn set_interface(&mut self, interface: u8, alt: u8) -> Result<(), Stall> {
        self.record(format!("interface {interface} {alt}"))
    }
    fn clear_halt(&mut self, endpoint: u8) -> Result<(), Stall> {
        self.record(format!("clear halt {endpoint:#04x}"))
    }
    fn interrupt_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall> {
        self.record(format!("interrupt out {endpoint:#04x} {data:?}"))
    }
}

/// Sends `packets` to `host` after the hellos and gives back the statuses of its answers.
fn exchange<D: SoftDevice>(host: &mut DeviceHost<D>, packets: &[Packet]) -> Vec<Status> {
    let mut guest = Parser::new(Role::Guest, Caps::all_known(), Limits::default());
    let mut wire = Vec::new();
    guest.encode_hello("guest", &mut wire).unwrap();
    let codec = crate::usb::Codec::new(Role::Guest, Caps::all_known(), Limits::default());
    for (id, packet) in packets.iter().enumerate() {
        codec.encode(100 + id as u64, packet, &mut wire).unwrap();
    }
    host.handle_input(&wire).unwrap();
    guest.feed(&host.poll_transmit().unwrap().unwrap());
    let mut statuses = Vec::new();
    while let Some(received) = guest.poll() {
        let received = received.unwrap();
        let status = match received.packet {
            Packet::ConfigurationStatus { status, .. } | Packet::AltSettingStatus { status, .. } => status,
            Packet::Control(p) => p.status,
            Packet::Interrupt(p) => p.status,
            _ => continue,
        };
        assert!(received.id >= 100, "answers carry the request's id");
        statuses.push(status);
    }
    statuses
}

fn standard(request_type: u8, request: u8, value: u16, index: u16) -> Packet {
    let endpoint = request_type & 0x80;
    Packet::Control(ControlPacket {
        endpoint,
        request,
        request_type,
        status: Status::Success,
        value,
        index,
        length: 0,
        data: Bytes::new(),
    })
}

#[test]
fn host_tells_the_device_of_standard_requests() {
    let mut host = DeviceHost::new(Recording::default(), "host", Limits::default()).unwrap();
    let out = InterruptPacket { endpoint: 0x02, status: Status::Success, length: 2, data: Bytes::from_static(&[1, 2]) };
    let statuses = exchange(
        &mut host,
        &[
            Packet::SetConfiguration { configuration: 1 },
            Packet::SetConfiguration { configuration: 2 },
            standard(0x00, 9, 0, 0),
            standard(0x00, 9, 1, 0),
            Packet::SetAltSetting { interface: 0, alt: 0 },
            Packet::SetAltSetting { interface: 0, alt: 1 },
            Packet::SetAltSetting { interface: 5, alt: 0 },
            standard(0x01, 11, 0, 0),
            standard(0x02, 1, 0, 0x81),
            // CLEAR_FEATURE of another endpoint feature, and GET_STATUS: the host's own.
            standard(0x02, 1, 1, 0x81),
            standard(0x80, 0, 0, 0),
            Packet::Interrupt(out),
        ],
    );
    let (ok, stall) = (Status::Success, Status::Stall);
    assert_eq!(statuses, [ok, stall, ok, ok, ok, stall, stall, ok, ok, ok, ok, ok]);
    assert_eq!(
        host.device().calls,
        [
            "configuration 1",
            "configuration 0",
            "configuration 1",
            "interface 0 0",
            "interface 0 0",
            "clear halt 0x81",
            "interrupt out 0x02 [1, 2]"
        ]
    );
    assert_eq!(host.configuration(), 1);
}

#[test]
fn a_device_refusal_is_a_stall_and_changes_nothing() {
    let device = Recording { refuse: true, ..Recording::default() };
    let mut host = DeviceHost::new(device, "host", Limits::default()).unwrap();
    let statuses = exchange(
        &mut host,
        &[
            Packet::SetConfiguration { configuration: 1 },
            standard(0x00, 9, 1, 0),
            Packet::SetAltSetting { interface: 0, alt: 0 },
            standard(0x02, 1, 0, 0x81),
        ],
    );
    assert_eq!(statuses, [Status::Stall; 4]);
    assert_eq!(host.configuration(), 0);
    assert_eq!(host.device().calls.len(), 4);
}

#[test]
fn soft_devices_refuse_interrupt_out() {
    let mut host = DeviceHost::new(HidKeyboard::new(), "host", Limits::default()).unwrap();
    let out = InterruptPacket { endpoint: 0x02, status: Status::Success, length: 1, data: Bytes::from_static(&[1]) };
    assert_eq!(exchange(&mut host, &[Packet::Interrupt(out)]), [Status::Stall]);
}
