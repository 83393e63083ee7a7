//! Engine micro-benchmarks: packets framed and scheduled per second on one core, reassembly
//! throughput, and the packet parser. Run with `cargo bench -p asp-benches`.
// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::time::Duration;

use asp_benches::{connected_pair, drain, drain_paced, open_confirmed};
use asp_core::{ChannelKind, Input, Timestamp};
use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// One megabyte of display frames through the send path: scheduling, fragmentation, packet
/// writing. The pacer is set so high that it never holds a packet back.
fn send_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("send");
    let total = 1 << 20;
    group.throughput(Throughput::Bytes(total as u64));
    for (name, kind, message) in
        [("display_64k_frames", ChannelKind::Display, 64 << 10), ("usb_16k_messages", ChannelKind::Usb, 16 << 10)]
    {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let (mut client, mut server) = connected_pair(100_000_000_000);
                    let ch = open_confirmed(&mut server, &mut client, kind, Timestamp::ZERO);
                    (server, ch)
                },
                |(mut server, ch)| {
                    let now = Timestamp::from_millis(1);
                    let data = Bytes::from(vec![0x5a; message]);
                    for _ in 0..total / message {
                        let r = if kind == ChannelKind::Display {
                            server.send_frame(now, ch, data.clone(), now + Duration::from_secs(1))
                        } else {
                            server.send(now, ch, data.clone())
                        };
                        r.expect("queued");
                    }
                    let mut out = Vec::with_capacity(1024);
                    drain_paced(&mut server, now, &mut out);
                    assert!(out.len() > total / 1200, "{} packets", out.len());
                    out
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// The baseline the send and receive figures are read against, in the same run: copying the
/// same megabyte into packet-sized buffers, which is the least any packet writer does.
fn copy_baseline(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline");
    let total = 1 << 20;
    group.throughput(Throughput::Bytes(total as u64));
    let data = vec![0x5au8; total];
    group.bench_function("copy_1200_byte_chunks", |b| {
        b.iter(|| {
            let mut out: Vec<Vec<u8>> = Vec::with_capacity(total / 1200 + 1);
            for chunk in data.chunks(1200) {
                out.push(criterion::black_box(chunk).to_vec());
            }
            out
        });
    });
    group.finish();
}

/// The same megabyte through the receive path: parsing, acknowledgement bookkeeping,
/// reassembly into whole frames and delivery.
fn receive_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("receive");
    let total = 1 << 20;
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("display_64k_frames", |b| {
        b.iter_batched(
            || {
                let (mut client, mut server) = connected_pair(100_000_000_000);
                let ch = open_confirmed(&mut server, &mut client, ChannelKind::Display, Timestamp::ZERO);
                let now = Timestamp::from_millis(1);
                let mut out = Vec::new();
                let data = Bytes::from(vec![0x5a; 64 << 10]);
                for _ in 0..16 {
                    server.send_frame(now, ch, data.clone(), now + Duration::from_secs(1)).expect("queued");
                }
                let end = drain_paced(&mut server, now, &mut out);
                assert!(out.len() > total / 1200, "{} packets", out.len());
                (client, out, end)
            },
            |(mut client, packets, end)| {
                let now = end + Duration::from_millis(1);
                for d in packets {
                    client.handle_input(now, Input::Datagram(d));
                }
                let mut acks = Vec::new();
                drain(&mut client, now, &mut acks);
                acks
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

/// Parsing alone: header and frames of a full data packet.
fn parse(c: &mut Criterion) {
    let (mut client, mut server) = connected_pair(100_000_000_000);
    let ch = open_confirmed(&mut server, &mut client, ChannelKind::Usb, Timestamp::ZERO);
    let now = Timestamp::from_millis(1);
    server.send(now, ch, Bytes::from(vec![1u8; 64 << 10])).expect("queued");
    let mut out = Vec::new();
    drain(&mut server, now, &mut out);
    let packet = out.last().expect("a packet").clone();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    group.bench_function("data_packet", |b| {
        b.iter(|| {
            let mut buf = packet.clone();
            let header = asp_core::wire::packet::Header::decode(&mut buf).expect("header");
            let frames = asp_core::wire::frame::FrameIter::new(buf).filter(Result::is_ok).count();
            (header, frames)
        });
    });
    group.finish();
}

criterion_group!(benches, copy_baseline, send_path, receive_path, parse);
criterion_main!(benches);
