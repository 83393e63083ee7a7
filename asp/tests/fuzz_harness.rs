//! Random and mutated bytes through the facade's fuzz harness: no panic, and whatever parses
//! survives a round trip (the harness asserts it).

use asp::proto::display::FrameHeader;
use asp::proto::input::{InputEvent, InputMessage};

/// A small deterministic generator (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_and_mutated_messages() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let header = FrameHeader::decode(bytes::Bytes::from(
        vec![1, 0, 3, 0, 0, 64, 0, 32].into_iter().chain([0; 24]).collect::<Vec<u8>>(),
    ))
    .unwrap()
    .0;
    let seeds: Vec<Vec<u8>> = vec![
        [vec![0], header.encode_with(b"\0\0\0\x01abc").to_vec()].concat(),
        [vec![1], InputMessage { seq: 5, event: InputEvent::Key { keysym: 0x61, down: true } }.encode()].concat(),
        [vec![1], InputMessage { seq: 9, event: InputEvent::Wheel { dx: -3, dy: 1 } }.encode()].concat(),
    ];
    let mut parsed = 0;
    for i in 0..60_000 {
        let mut data = seeds[i % seeds.len()].clone();
        let edits = rng.next() % 4;
        for _ in 0..edits {
            let at = (rng.next() as usize) % data.len().max(1);
            match rng.next() % 3 {
                0 if !data.is_empty() => data[at] = rng.next() as u8,
                1 => data.truncate(at),
                _ => data.insert(at.min(data.len()), rng.next() as u8),
            }
        }
        if i % 7 == 0 {
            data = (0..rng.next() % 64).map(|_| rng.next() as u8).collect();
        }
        asp::fuzzing::facade_messages(&data);
        parsed += usize::from(data.first().is_some_and(|s| s % 2 == 1) && InputMessage::decode(&data[1..]).is_ok());
    }
    assert!(parsed > 1000, "the mutations must also produce valid messages ({parsed})");
}
