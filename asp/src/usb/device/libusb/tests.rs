//! What runs without a USB bus: the selector, the descriptor conversion, the IN-endpoint
//! workers over a scripted reader, and libusb on a machine with no bus.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::descriptors::{self, Isochronous, RawConfig, RawEndpoint, RawSetting};
use super::worker::{InTransfer, InWorker, Kind, MAX_QUEUED, Mode};
use super::*;
use crate::usb::TransferType;
use crate::usb::device::{ConfigDesc, EndpointDesc, HidKeyboard, InterfaceDesc, SoftDevice, Stall};

#[test]
fn selector_forms() {
    let vid_pid = Selector::VidPid { vendor_id: 0x046d, product_id: 0xc52b };
    assert_eq!("046d:c52b".parse(), Ok(vid_pid));
    assert_eq!(" 46D:C52B ".parse(), Ok(vid_pid));
    assert_eq!(vid_pid.to_string(), "046d:c52b");
    let bus_addr = Selector::BusAddr { bus: 1, address: 14 };
    assert_eq!("1-14".parse(), Ok(bus_addr));
    assert_eq!(bus_addr.to_string(), "1-14");
    assert!(vid_pid.matches(3, 7, 0x046d, 0xc52b) && !vid_pid.matches(3, 7, 0x046d, 0xc52c));
    assert!(bus_addr.matches(1, 14, 0, 0) && !bus_addr.matches(14, 1, 0, 0));
}

#[test]
fn selector_refusals_say_what_was_wrong() {
    let parse = |text: &str| text.parse::<Selector>().unwrap_err();
    assert_eq!(parse(""), SelectorError::Form(String::new()));
    assert_eq!(parse("logitech"), SelectorError::Form("logitech".into()));
    assert_eq!(parse("12345:1"), SelectorError::Id("12345".into()));
    assert_eq!(parse("046d:"), SelectorError::Id(String::new()));
    assert_eq!(parse("0x46d:1"), SelectorError::Id("0x46d".into()));
    assert_eq!(parse("1-256"), SelectorError::Number("256".into()));
    assert_eq!(parse("+1-4"), SelectorError::Number("+1".into()));
    assert_eq!(parse("1-4-2"), SelectorError::Number("4-2".into()));
    assert_eq!(parse("1-4:2"), SelectorError::Id("1-4".into()));
    let message = parse("mouse").to_string();
    assert!(message.contains("VID:PID") && message.contains("BUS-ADDR"), "{message}");
}

fn endpoint(address: u8, kind: rusb::TransferType, max_packet_size: u16) -> RawEndpoint {
    RawEndpoint { address, kind, max_packet_size, interval: 4 }
}

fn setting(number: u8, alt: u8, class: u8, extra: &[u8], endpoints: Vec<RawEndpoint>) -> RawSetting {
    RawSetting { number, alt, class, subclass: 1, protocol: 2, extra: extra.to_vec(), endpoints }
}

#[test]
fn configuration_keeps_alternate_setting_zero() {
    let hid = [9, 0x21, 0x11, 0x01, 0, 1, 0x22, 63, 0];
    let raw = RawConfig {
        value: 2,
        attributes: 0xe0,
        max_power: 50,
        settings: vec![
            setting(
                0,
                0,
                8,
                &[],
                vec![endpoint(0x81, rusb::TransferType::Bulk, 512), endpoint(0x02, rusb::TransferType::Bulk, 512)],
            ),
            setting(1, 0, 3, &hid, vec![endpoint(0x83, rusb::TransferType::Interrupt, 8)]),
            setting(1, 1, 3, &hid, vec![endpoint(0x84, rusb::TransferType::Interrupt, 64)]),
        ],
    };
    let ep =
        |address, transfer_type, max_packet_size| EndpointDesc { address, transfer_type, max_packet_size, interval: 4 };
    let expected = ConfigDesc {
        attributes: 0xe0,
        max_power: 50,
        interfaces: vec![
            InterfaceDesc {
                number: 0,
                class: 8,
                subclass: 1,
                protocol: 2,
                class_descriptors: Vec::new(),
                endpoints: vec![ep(0x81, TransferType::Bulk, 512), ep(0x02, TransferType::Bulk, 512)],
            },
            InterfaceDesc {
                number: 1,
                class: 3,
                subclass: 1,
                protocol: 2,
                class_descriptors: hid.to_vec(),
                endpoints: vec![ep(0x83, TransferType::Interrupt, 8)],
            },
        ],
    };
    let config = descriptors::config_desc(&raw).unwrap();
    assert_eq!(config, expected);
    // What the guest reads: two interfaces, the HID descriptor between interface and endpoint.
    let bytes = config.to_bytes();
    assert_eq!((bytes.len(), bytes[4], bytes[7]), (9 + 9 + 7 + 7 + 9 + 9 + 7, 2, 0xe0));
    assert_eq!(&bytes[41..50], &hid);
}

#[test]
fn isochronous_endpoint_is_refused_and_named() {
    // An audio device: the streaming interface's setting 0 has no endpoint, setting 1 an iso one.
    let raw = RawConfig {
        value: 1,
        attributes: 0x80,
        max_power: 50,
        settings: vec![
            setting(0, 0, 1, &[], Vec::new()),
            setting(1, 0, 1, &[], Vec::new()),
            setting(1, 1, 1, &[], vec![endpoint(0x84, rusb::TransferType::Isochronous, 192)]),
        ],
    };
    assert_eq!(descriptors::config_desc(&raw), Err(Isochronous { interface: 1, endpoint: 0x84 }));
    let error = LibusbError::Isochronous { device: "1-4 (0d8c:0014)".into(), interface: 1, endpoint: 0x84 };
    assert_eq!(
        error.to_string(),
        "USB device 1-4 (0d8c:0014) has isochronous endpoint 0x84 (interface 1), which USB redirection does not serve"
    );
}

#[test]
fn device_fields_convert() {
    for bcd in [0x0000, 0x0110, 0x0200, 0x1234, 0x9999] {
        assert_eq!(descriptors::bcd(rusb::Version::from_bcd(bcd)), bcd, "{bcd:#06x}");
    }
    let keyboard = HidKeyboard::new().device().to_bytes();
    assert_eq!(descriptors::device_version(&keyboard), Some(0x0100));
    assert_eq!(descriptors::device_version(&keyboard[..17]), None);
    assert_eq!(descriptors::device_version(&[18, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0]), None);
    assert_eq!(descriptors::speed(rusb::Speed::SuperPlus), Speed::Super);
    assert_eq!(descriptors::speed(rusb::Speed::High), Speed::High);
    assert_eq!(descriptors::speed(rusb::Speed::Unknown), Speed::Unknown);
    assert_eq!(descriptors::transfer_type(rusb::TransferType::Interrupt), TransferType::Interrupt);
}

/// Stands in for a device, which the machine running these tests does not have: each read
/// gets the next scripted outcome; with none left it waits out the timeout and times out, as
/// a quiet endpoint does. It records every read.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<Vec<u8>, rusb::Error>>>,
    reads: Mutex<Vec<(u8, Kind, usize)>>,
}

impl Scripted {
    fn new(script: impl IntoIterator<Item = Result<Vec<u8>, rusb::Error>>) -> Arc<Scripted> {
        Arc::new(Scripted { script: Mutex::new(script.into_iter().collect()), reads: Mutex::default() })
    }

    fn reads(&self) -> Vec<(u8, Kind, usize)> {
        self.reads.lock().unwrap().clone()
    }
}

impl InTransfer for Scripted {
    fn read(&self, endpoint: u8, kind: Kind, buf: &mut [u8], timeout: Duration) -> Result<usize, rusb::Error> {
        self.reads.lock().unwrap().push((endpoint, kind, buf.len()));
        let next = self.script.lock().unwrap().pop_front();
        match next {
            Some(Ok(data)) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Ok(n)
            }
            Some(Err(error)) => Err(error),
            None => {
                thread::sleep(timeout);
                Err(rusb::Error::Timeout)
            }
        }
    }
}

const TICK: Duration = Duration::from_millis(2);

fn spawn(reader: &Arc<Scripted>, kind: Kind, mode: Mode) -> InWorker {
    InWorker::spawn(reader.clone(), 0x81, kind, mode, TICK).unwrap()
}

/// Polls, as the host does, until `f` has something (at most about ten seconds).
fn poll<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..5000 {
        if let Some(value) = f() {
            return value;
        }
        thread::sleep(TICK);
    }
    panic!("nothing came");
}

#[test]
fn bulk_reads_only_on_request_with_the_length_asked() {
    let reader = Scripted::new([Ok(vec![7; 13]), Ok(vec![8; 100])]);
    let worker = spawn(&reader, Kind::Bulk, Mode::OnRequest);
    thread::sleep(10 * TICK);
    assert_eq!(reader.reads(), [], "no read ahead of a request");
    assert_eq!(worker.take(13), None);
    assert_eq!(poll(|| worker.take(13)), Ok(vec![7; 13]));
    thread::sleep(10 * TICK);
    assert_eq!(reader.reads(), [(0x81, Kind::Bulk, 13)], "one read per request");
    assert_eq!(poll(|| worker.take(512)), Ok(vec![8; 100]));
    assert_eq!(reader.reads()[1], (0x81, Kind::Bulk, 512));
}

#[test]
fn timeouts_are_no_data() {
    let timeouts = [rusb::Error::Timeout, rusb::Error::Timeout, rusb::Error::Interrupted].map(Err);
    let reader = Scripted::new(timeouts.into_iter().chain([Ok(vec![1, 2, 3])]));
    let worker = spawn(&reader, Kind::Bulk, Mode::OnRequest);
    assert_eq!(poll(|| worker.take(64)), Ok(vec![1, 2, 3]));
    assert_eq!(reader.reads(), [(0x81, Kind::Bulk, 64); 4], "the same read, again after each timeout");
}

#[test]
fn errors_stall_until_the_halt_is_cleared() {
    let reader = Scripted::new([Err(rusb::Error::Pipe), Ok(vec![9]), Err(rusb::Error::NoDevice)]);
    let worker = spawn(&reader, Kind::Interrupt, Mode::Continuous(8));
    assert_eq!(poll(|| worker.take(usize::MAX)), Err(Stall));
    thread::sleep(10 * TICK);
    assert_eq!(worker.take(usize::MAX), Some(Err(Stall)), "a halted endpoint stalls");
    assert_eq!(reader.reads().len(), 1, "no read while halted");
    worker.clear_halt();
    assert_eq!(poll(|| worker.take(usize::MAX)), Ok(vec![9]));
    // A gone device is a stall too, not a loop of failing reads.
    assert_eq!(poll(|| worker.take(usize::MAX)), Err(Stall));
    thread::sleep(10 * TICK);
    assert_eq!(reader.reads().len(), 3);
    assert_eq!(reader.reads()[0], (0x81, Kind::Interrupt, 8));
}

#[test]
fn interrupt_queue_is_bounded_and_ordered() {
    let reports: Vec<_> = (0..40u8).map(|i| Ok(vec![i; 8])).collect();
    let reader = Scripted::new(reports);
    let worker = spawn(&reader, Kind::Interrupt, Mode::Continuous(8));
    poll(|| (worker.queued() == MAX_QUEUED).then_some(()));
    thread::sleep(10 * TICK);
    assert_eq!((worker.queued(), reader.reads().len()), (MAX_QUEUED, MAX_QUEUED), "a full queue stops reading");
    // A report longer than asked comes in pieces.
    assert_eq!(worker.take(3), Some(Ok(vec![0; 3])));
    assert_eq!(worker.take(usize::MAX), Some(Ok(vec![0; 5])));
    for i in 1..40 {
        assert_eq!(poll(|| worker.take(usize::MAX)), Ok(vec![i; 8]));
    }
}

#[test]
fn dropping_a_worker_ends_its_thread() {
    // One blocked in reads that time out, one waiting for a request, one with a full queue.
    let quiet = Scripted::new([]);
    let worker = spawn(&quiet, Kind::Bulk, Mode::OnRequest);
    assert_eq!(worker.take(64), None);
    poll(|| (!quiet.reads().is_empty()).then_some(()));
    drop(worker);
    let idle = Scripted::new([]);
    drop(spawn(&idle, Kind::Bulk, Mode::OnRequest));
    let full = Scripted::new((0..MAX_QUEUED + 1).map(|_| Ok(vec![1])));
    let worker = spawn(&full, Kind::Interrupt, Mode::Continuous(8));
    poll(|| (worker.queued() == MAX_QUEUED).then_some(()));
    drop(worker);
    // The threads held the readers: joined, they let go.
    for reader in [quiet, idle, full] {
        assert_eq!(Arc::strong_count(&reader), 1);
    }
}

/// The machine that runs the tests has no USB bus (no /dev/bus/usb): libusb 1.0.26 starts
/// there and lists no device. Elsewhere the list is whatever is plugged in.
#[test]
fn without_a_bus_nothing_is_listed_and_nothing_opens() {
    let listed = list_devices();
    if std::path::Path::new("/dev/bus/usb").exists() {
        assert!(listed.is_ok(), "{listed:?}");
        return;
    }
    match listed {
        Ok(list) => assert_eq!(list, []),
        Err(LibusbError::NoBus) => {}
        Err(error) => panic!("{error}"),
    }
    let error = LibusbDevice::open(&Selector::BusAddr { bus: 1, address: 4 }).unwrap_err();
    assert!(matches!(error, LibusbError::NoBus), "{error}");
    assert_eq!(error.to_string(), "no USB bus on this machine: libusb lists no USB device, not even a root hub");
}
