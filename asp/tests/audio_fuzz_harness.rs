//! Random and mutated event sequences through the audio fuzz harness
//! (`asp::fuzzing::audio_packets`): no panic, whatever parses survives a round trip, and the
//! jitter buffer it feeds stays within its bounds and plays in order (the harness asserts it).

mod common;

use asp::proto::audio::{AudioCodec, AudioPacket, MAX_PAYLOAD_LEN};
use bytes::Bytes;
use common::rng::Rng;

fn packet(seq: u32, capture_us: u64, payload_len: usize) -> Vec<u8> {
    AudioPacket {
        codec: AudioCodec::Opus,
        channels: 2,
        sample_rate: 48_000,
        resume: seq % 7 == 0,
        duration: 960,
        seq,
        capture_us,
        payload: Bytes::from(vec![0xfc; payload_len]),
    }
    .encode()
    .unwrap()
    .to_vec()
}

/// The harness's framing: a message of up to 126 bytes after its length byte.
fn arrive(message: Vec<u8>) -> Vec<u8> {
    assert!(message.len() < 0x7f);
    [vec![message.len() as u8], message].concat()
}

/// A playout tick `ms` after the last.
fn tick(ms: u8) -> Vec<u8> {
    vec![0x80 | ms]
}

/// A plausible stream: packets 0..40 with reordering, a duplicate and a gap, ticks every 20 ms.
fn stream() -> Vec<u8> {
    let mut events = Vec::new();
    for k in 0..40u32 {
        let seq = (u32::MAX - 20).wrapping_add(if k % 5 == 3 {
            k + 1
        } else if k % 5 == 4 {
            k - 1
        } else {
            k
        });
        if k != 17 {
            events.push(arrive(packet(seq, 1_000_000 + u64::from(k) * 20_000, 3 + (k as usize % 5))));
        }
        if k == 9 {
            events.push(arrive(packet(seq, 1_000_000 + u64::from(k) * 20_000, 3)));
        }
        events.push(tick(20));
    }
    events.concat()
}

#[test]
fn random_and_mutated_audio_streams() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let seed = stream();
    asp::fuzzing::audio_packets(&seed);
    let mut parsed = 0;
    for i in 0..20_000 {
        let mut data = seed.clone();
        for _ in 0..rng.next() % 6 {
            let at = (rng.next() as usize) % data.len();
            match rng.next() % 4 {
                0 => data[at] ^= 1 << (rng.next() % 8),
                1 => data[at] = rng.next() as u8,
                2 => data.truncate(at.max(1)),
                _ => data.insert(at, rng.next() as u8),
            }
        }
        if i % 11 == 0 {
            data = (0..rng.next() % 300).map(|_| rng.next() as u8).collect();
        }
        asp::fuzzing::audio_packets(&data);
        // Count the first event when it is a message that decodes.
        if let Some((&header, tail)) = data.split_first() {
            let len = usize::from(header).min(tail.len());
            parsed += usize::from(header < 0x7f && AudioPacket::decode(Bytes::copy_from_slice(&tail[..len])).is_ok());
        }
    }
    assert!(parsed > 1000, "the mutations must also keep valid packets ({parsed})");
}

/// The size limit: the harness's 127 header takes the rest of the input as one message.
#[test]
fn the_longest_packet_and_one_byte_more() {
    let longest = packet(5, 0, MAX_PAYLOAD_LEN);
    assert!(AudioPacket::decode(Bytes::from(longest.clone())).is_ok());
    asp::fuzzing::audio_packets(&[vec![0x7f], longest.clone()].concat());
    let over = [vec![0x7f], longest, vec![0]].concat();
    assert!(AudioPacket::decode(Bytes::copy_from_slice(&over[1..])).is_err());
    asp::fuzzing::audio_packets(&over);
}

/// Many streams whose sequence numbers jump about: resyncs and strays, bounded all along.
#[test]
fn jumping_sequence_numbers() {
    let mut rng = Rng(99);
    for _ in 0..500 {
        let mut events = Vec::new();
        for _ in 0..60 {
            if rng.next() % 3 == 0 {
                events.push(tick((rng.next() % 40) as u8));
            } else {
                let seq = if rng.next() % 4 == 0 { rng.next() as u32 } else { (rng.next() % 64) as u32 };
                events.push(arrive(packet(seq, rng.next() % 10_000_000, 1 + (rng.next() % 8) as usize)));
            }
        }
        asp::fuzzing::audio_packets(&events.concat());
    }
}
