//! Hostile input costs a bounded amount of memory and never panics: random bytes, truncated,
//! oversized and wrong-version packets, and well-formed fragments announcing huge messages on
//! every channel. A counting allocator measures the live heap while a server session takes it
//! all; this file holds one test so that no other test's allocations blur the figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use asp_core::sim::{LinkProfile, Pair};
use asp_core::wire::frame::{Fragment, Frame};
use asp_core::wire::packet::Header;
use asp_core::{ChannelConfig, ChannelKind, Input, Output, SessionConfig, Timestamp};
use bytes::{Bytes, BytesMut};
use rand::{Rng, RngCore, SeedableRng};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn packet(pn: u64, frames: &[Frame]) -> Bytes {
    let mut b = BytesMut::new();
    Header::Short { number: pn }.encode(&mut b);
    for f in frames {
        f.encode(&mut b);
    }
    b.freeze()
}

#[test]
fn hostile_input_is_counted_and_bounded() {
    let link = LinkProfile::default();
    let budget: u64 = 40 << 20;
    let server_config = SessionConfig { receive_budget: budget, rng_seed: 5, ..SessionConfig::default() };
    let mut pair = Pair::new(SessionConfig::default(), server_config, link.clone(), link, 3).unwrap();
    let mut sink = |_, _, _| {};
    assert!(pair.connect(Timestamp::from_millis(1000), &mut sink));
    // Legitimate channels from the client: the server now holds their receive windows.
    let mut channels = Vec::new();
    for kind in [
        ChannelKind::Display,
        ChannelKind::Usb,
        ChannelKind::Clipboard,
        ChannelKind::Input,
        ChannelKind::Audio,
        ChannelKind::Cursor,
    ] {
        channels.push(pair.client.open_channel(ChannelConfig::for_kind(kind)).unwrap());
    }
    // One channel too many for the server's budget is refused there, not accepted.
    let extra = pair.client.open_channel(ChannelConfig::for_kind(ChannelKind::Display)).unwrap();
    let now = pair.now();
    pair.run_until(now + Duration::from_millis(200), &mut sink);
    assert_eq!(pair.server.stats().channels_refused, 1);
    assert!(pair.client.channel_stats(extra).is_none(), "the refused channel is closed at its opener");

    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
    let now = pair.now();
    let server = &mut pair.server;
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let mut pn = 1_000_000u64;
    for i in 0..30_000u32 {
        let datagram = match i % 6 {
            // Random bytes, any length up to 64 KiB.
            0 => {
                let mut v = vec![0u8; rng.random_range(0..65_536)];
                rng.fill_bytes(&mut v);
                Bytes::from(v)
            }
            // A well-formed fragment announcing the largest message its channel allows (or
            // more), at a random offset, on a random channel, known or not.
            1 | 2 => {
                pn += 1;
                let channel = if rng.random_bool(0.8) {
                    u64::from(channels[rng.random_range(0..channels.len())].0)
                } else {
                    rng.random_range(0..1_000)
                };
                let total = rng.random_range(1..(32u64 << 20));
                let len = rng.random_range(0..1_100u64).min(total);
                let offset = rng.random_range(0..=total - len);
                let deadline = rng.random_bool(0.5).then(|| rng.random());
                let f = Fragment {
                    channel,
                    seq: rng.random_range(0..1 << 20),
                    total,
                    offset,
                    deadline,
                    data: Bytes::from(vec![1u8; len as usize]),
                };
                packet(pn, &[Frame::Fragment(f)])
            }
            // A real-looking packet cut short.
            3 => {
                pn += 1;
                let f = Fragment {
                    channel: 1,
                    seq: 3,
                    total: 900,
                    offset: 0,
                    deadline: None,
                    data: Bytes::from(vec![2u8; 900]),
                };
                let p = packet(pn, &[Frame::Ping, Frame::Fragment(f)]);
                p.slice(..rng.random_range(0..p.len()))
            }
            // A handshake packet of a version nobody speaks.
            4 => {
                let mut b = BytesMut::new();
                Header::Long { version: rng.random_range(2..u32::MAX), number: 1 }.encode(&mut b);
                Frame::Handshake(Bytes::from(vec![0u8; 100])).encode(&mut b);
                b.freeze()
            }
            // A datagram far larger than any MTU.
            _ => Bytes::from(vec![0x40u8; 200_000]),
        };
        server.handle_input(now, Input::Datagram(datagram));
        // The driver drains outputs as it must; events are dropped here.
        for _ in 0..1000 {
            if let Output::Timeout(_) = server.poll_output(now) {
                break;
            }
        }
    }
    let peak = PEAK.load(Ordering::Relaxed) - baseline;
    let stats = server.stats();
    let bad = stats.bad_packets;
    eprintln!("peak growth {peak} bytes, budget {budget}; {bad:?}");
    assert!(
        bad.not_asp > 0 && bad.truncated > 0 && bad.wrong_version > 0 && bad.unknown_channel > 0 && bad.oversized > 0
    );
    assert!(bad.window_exceeded + bad.malformed_frame > 0);
    // The receive budget, plus the hostile datagrams themselves in flight (one at a time,
    // at most 200 kB) and bookkeeping.
    assert!(peak as u64 <= budget + (4 << 20), "peak live heap grew by {peak} bytes");
    assert!(server.is_established(), "hostile input must not end the session");
}
