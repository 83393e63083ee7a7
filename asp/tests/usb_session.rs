//! USB redirection through a whole session: a software mass-storage disk on the client,
//! redirected over the USB channel to the server, which enumerates it and writes 16 MiB through
//! SCSI WRITE(10) and reads them back through READ(10), checksums matching, while the display
//! streams a video scene beside it; the display's frame rate during the copy is measured.
#![allow(clippy::disallowed_methods)] // the frame rate and the waits are wall-clock

mod common;

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asp::client::ClientConfig;
use asp::loopback::{Loopback, LoopbackOptions};
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::source::synth::SynthSource;
use asp::usb::Limits;
use asp::usb::device::{DeviceHost, HidKeyboard, MassStorage};
use asp::usb::guest::{Guest, KeyEvent, KeyboardDriver, ScsiCommand, ScsiOutcome, StorageDriver};
use asp::usb::link::{UsbClass, UsbPolicy};
use asp_codec::synth::SourceKind;
use common::rng::Rng;

const DISK: usize = 32 << 20;
const DATA: usize = 16 << 20;
const PER_COMMAND: usize = 1 << 20;

async fn run(guest: &Mutex<Guest>, driver: &mut StorageDriver, command: &ScsiCommand) -> ScsiOutcome {
    driver.start(&mut guest.lock().unwrap(), command).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(outcome) = driver.poll(&mut guest.lock().unwrap()) {
            return outcome.unwrap();
        }
        assert!(Instant::now() < deadline, "the SCSI command did not complete");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirected_disk_takes_16_mib_beside_the_display() {
    let (source, injector) = SynthSource::new(SourceKind::Video, 640, 360, 1).unwrap();
    let pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 30, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let disk = MassStorage::new(Cursor::new(vec![0u8; DISK])).unwrap();
    let host = Arc::new(Mutex::new(DeviceHost::new(disk, "asp test disk", Limits::default()).unwrap()));
    let guest = Arc::new(Mutex::new(Guest::new("asp server", Limits::default()).unwrap()));
    pair.client.attach_usb(host.clone());
    pair.server.attach_usb(guest.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !guest.lock().unwrap().is_ready() {
        assert!(Instant::now() < deadline, "the redirected device was not enumerated");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut driver = StorageDriver::new(&guest.lock().unwrap()).unwrap();
    assert_eq!(run(&guest, &mut driver, &ScsiCommand::TestUnitReady).await.status, 0);

    // The display alone, then beside the copy.
    let frames = |pair: &Loopback| pair.client.stats().frames_shown;
    let (f0, t0) = (frames(&pair), Instant::now());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fps_before = (frames(&pair) - f0) as f64 / t0.elapsed().as_secs_f64();

    let mut rng = Rng(0x7573_6221);
    let mut data = vec![0u8; DATA];
    for chunk in data.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes()[..chunk.len()]);
    }
    let data = bytes::Bytes::from(data);
    let (f1, t1) = (frames(&pair), Instant::now());
    let lba0 = 2048u32;
    for at in (0..DATA).step_by(PER_COMMAND) {
        let lba = lba0 + (at / 512) as u32;
        let write = ScsiCommand::Write { lba, data: data.slice(at..at + PER_COMMAND) };
        let outcome = run(&guest, &mut driver, &write).await;
        assert_eq!((outcome.status, outcome.residue), (0, 0));
    }
    let mut back = Vec::with_capacity(DATA);
    for at in (0..DATA).step_by(PER_COMMAND) {
        let lba = lba0 + (at / 512) as u32;
        let read = ScsiCommand::Read { lba, blocks: (PER_COMMAND / 512) as u16 };
        let outcome = run(&guest, &mut driver, &read).await;
        assert_eq!((outcome.status, outcome.residue), (0, 0));
        back.extend_from_slice(&outcome.data);
    }
    let took = t1.elapsed().as_secs_f64();
    let fps_during = (frames(&pair) - f1) as f64 / took;
    assert_eq!(fnv(&back), fnv(&data), "read back what was written");
    let start = lba0 as usize * 512;
    let on_disk = fnv(&host.lock().unwrap().device_mut().store_mut().get_ref()[start..start + DATA]);
    assert_eq!(on_disk, fnv(&data), "the client's disk holds the data");

    let (server, client) = pair.stop().await;
    eprintln!(
        "16 MiB written and read back in {took:.1} s ({:.1} MB/s each way); display {fps_before:.1} fps alone, \
         {fps_during:.1} fps during the copy; usb bytes server sent {} received {}",
        DATA as f64 / took / 1e6,
        server.usb.bytes_sent,
        server.usb.bytes_received
    );
    assert!(server.usb.error.is_none() && client.usb.error.is_none(), "{:?} {:?}", server.usb, client.usb);
    assert!(fps_during > 0.0, "the display kept going during the copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_a_class_its_policy_denies() {
    let (source, injector) = SynthSource::new(SourceKind::Idle, 320, 240, 1).unwrap();
    let policy = UsbPolicy { allowed: vec![UsbClass::Hid], allow_other: false };
    let pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 10, usb: policy, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let disk = MassStorage::new(Cursor::new(vec![0u8; 1 << 20])).unwrap();
    let host = Arc::new(Mutex::new(DeviceHost::new(disk, "asp test disk", Limits::default()).unwrap()));
    let guest = Arc::new(Mutex::new(Guest::new("asp server", Limits::default()).unwrap()));
    pair.client.attach_usb(host.clone());
    pair.server.attach_usb(guest.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while pair.server.stats().usb.refused.is_none() || pair.client.stats().usb.refused.is_none() {
        assert!(Instant::now() < deadline, "no refusal: {:?} {:?}", pair.server.stats().usb, pair.client.stats().usb);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!guest.lock().unwrap().is_ready(), "a refused device is never configured");
    assert_eq!(host.lock().unwrap().configuration(), 0, "nor does the client's host see a configuration");
    let (server, client) = pair.stop().await;
    let why = server.usb.refused.unwrap();
    eprintln!("refused: {why}");
    assert!(why.contains("refuses mass-storage devices"), "{why}");
    // The client is told, by usbredir's own filter and filter_reject, in the same words.
    assert_eq!(client.usb.refused.as_deref(), Some(why.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirected_keyboard_types_on_the_server() {
    let (source, injector) = SynthSource::new(SourceKind::Office, 320, 240, 1).unwrap();
    // The policy that refused the disk above takes the keyboard.
    let policy = UsbPolicy { allowed: vec![UsbClass::Hid], allow_other: false };
    let pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 30, usb: policy, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let host =
        Arc::new(Mutex::new(DeviceHost::new(HidKeyboard::new(), "asp test keyboard", Limits::default()).unwrap()));
    let guest = Arc::new(Mutex::new(Guest::new("asp server", Limits::default()).unwrap()));
    pair.client.attach_usb(host.clone());
    pair.server.attach_usb(guest.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !guest.lock().unwrap().is_ready() {
        assert!(Instant::now() < deadline, "the redirected keyboard was not enumerated");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut keyboard = KeyboardDriver::start(&mut guest.lock().unwrap()).unwrap();

    // "asp", then shift held over "a" (the modifier byte's left shift is usage 0xe1).
    let typed = [0x04u8, 0x16, 0x13];
    let mut expected = Vec::new();
    for &usage in &typed {
        host.lock().unwrap().device_mut().press(usage);
        host.lock().unwrap().device_mut().release(usage);
        expected.extend([KeyEvent { usage, pressed: true }, KeyEvent { usage, pressed: false }]);
    }
    {
        let mut host = host.lock().unwrap();
        let device = host.device_mut();
        device.press(0xe1);
        device.press(0x04);
        device.release(0x04);
        device.release(0xe1);
    }
    expected.extend([
        KeyEvent { usage: 0xe1, pressed: true },
        KeyEvent { usage: 0x04, pressed: true },
        KeyEvent { usage: 0x04, pressed: false },
        KeyEvent { usage: 0xe1, pressed: false },
    ]);

    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < expected.len() {
        assert!(Instant::now() < deadline, "key events missing: saw {seen:?}");
        seen.extend(keyboard.poll(&mut guest.lock().unwrap()));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (server, client) = pair.stop().await;
    assert_eq!(seen, expected, "the server's keyboard driver saw the client's keys in order");
    assert!(server.usb.refused.is_none() && server.usb.error.is_none(), "{:?}", server.usb);
    assert!(client.usb.error.is_none(), "{:?}", client.usb);
    assert!(client.frames_shown > 0, "the display streamed beside the keyboard");
}
