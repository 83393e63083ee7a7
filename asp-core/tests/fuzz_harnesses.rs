//! Runs every fuzz harness on seeded random inputs and on mutations of real packets, so the
//! harnesses are exercised on every test run and cannot rot. Long fuzzing runs are separate
//! (see the README).

use asp_core::fuzzing;
use asp_core::sim::{LinkProfile, Pair};
use asp_core::{ChannelConfig, ChannelKind, SessionConfig, Timestamp};
use rand::{Rng, RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Real datagrams of a short session: handshake, channel opens, data of every mode, acks.
fn corpus() -> Vec<Vec<u8>> {
    let link = LinkProfile::default();
    let mut pair = Pair::new(
        SessionConfig::default(),
        SessionConfig { rng_seed: 3, ..SessionConfig::default() },
        link.clone(),
        link,
        1,
    )
    .unwrap();
    let mut sink = |_, _, _| {};
    assert!(pair.connect(Timestamp::from_millis(1000), &mut sink));
    let kinds = [ChannelKind::Input, ChannelKind::Display, ChannelKind::Cursor, ChannelKind::Audio];
    let channels: Vec<_> =
        kinds.iter().map(|k| pair.server.open_channel(ChannelConfig::for_kind(*k)).unwrap()).collect();
    // Data flows once the client has acknowledged the opens.
    let now = pair.now() + std::time::Duration::from_millis(100);
    pair.run_until(now, &mut sink);
    for (kind, ch) in kinds.into_iter().zip(channels) {
        for i in 0..5 {
            let data = bytes::Bytes::from(vec![i; 3000]);
            let _ = if kind == ChannelKind::Display {
                pair.server.send_frame(now, ch, data, now + std::time::Duration::from_millis(200))
            } else {
                pair.server.send(now, ch, data.slice(..500))
            };
        }
    }
    let mut packets = Vec::new();
    let (mut t, end) = (now, now + std::time::Duration::from_millis(100));
    while t < end && packets.len() < 40 {
        match pair.server.poll_output(t) {
            asp_core::Output::Transmit(d) => packets.push(d.to_vec()),
            asp_core::Output::Event(_) => {}
            asp_core::Output::Timeout(wake) => t = wake.max(t),
        }
    }
    // And the handshake's first packet.
    let mut client = asp_core::Session::client(SessionConfig::default(), Timestamp::ZERO).unwrap();
    if let asp_core::Output::Transmit(d) = client.poll_output(Timestamp::ZERO) {
        packets.push(d.to_vec());
    }
    assert!(packets.len() >= 10, "{} packets", packets.len());
    packets
}

fn mutate(rng: &mut Pcg64Mcg, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    match rng.random_range(0..4) {
        0 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] ^= 1 << rng.random_range(0..8);
        }
        1 => v.truncate(rng.random_range(0..=v.len())),
        2 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] = rng.random();
        }
        _ => v.extend((0..rng.random_range(1..32)).map(|_| rng.random::<u8>())),
    }
    v
}

fn inputs(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let corpus = corpus();
    (0..count)
        .map(|i| {
            if i % 3 == 0 {
                let mut v = vec![0u8; rng.random_range(0..1500)];
                rng.fill_bytes(&mut v);
                v
            } else {
                let base = &corpus[rng.random_range(0..corpus.len())];
                let mut v = mutate(&mut rng, base);
                for _ in 0..rng.random_range(0..4) {
                    v = mutate(&mut rng, &v);
                }
                v
            }
        })
        .collect()
}

#[test]
fn packet_harness() {
    for input in inputs(1, 20_000) {
        fuzzing::packet(&input);
        // Packet bodies past a short header are frames: feed those too.
        if input.len() > 2 {
            fuzzing::packet(&[&[0x40u8, 0x00][..], &input[2..]].concat());
        }
    }
}

#[test]
fn control_and_handshake_harnesses() {
    let mut rng = Pcg64Mcg::seed_from_u64(2);
    let open = asp_core::wire::control::ControlMessage::OpenChannel {
        id: asp_core::ChannelId(3),
        config: ChannelConfig::for_kind(ChannelKind::Usb),
    }
    .encode()
    .unwrap();
    let hello = asp_core::wire::handshake::HandshakeMessage::Hello { nonce: 9, capabilities: Default::default() }
        .encode()
        .unwrap();
    for _ in 0..20_000 {
        let c = mutate(&mut rng, &open);
        fuzzing::control_message(&c);
        let h = mutate(&mut rng, &hello);
        fuzzing::handshake_message(&h);
    }
}

#[test]
fn session_harnesses() {
    let mut rng = Pcg64Mcg::seed_from_u64(3);
    for input in inputs(4, 300) {
        fuzzing::session_input(&input);
    }
    let mut checked = 0;
    for _ in 0..40 {
        let mut ops = vec![0u8; 4 * rng.random_range(4..100)];
        rng.fill_bytes(&mut ops);
        // Mostly sends, steps and polls; some injections and opens.
        for op in ops.chunks_mut(4) {
            op[0] = [0, 0, 0, 0, 3, 3, 3, 4, 4, 5, 1, 2][rng.random_range(0..12)];
        }
        checked += fuzzing::session(&ops);
    }
    // Some runs forge packets and skip the delivery check; most do not.
    assert!(checked > 100, "only {checked} reliable messages checked");
}

/// Inputs the fuzzer once crashed on, kept so the bugs stay fixed.
#[test]
fn past_fuzzer_findings() {
    // Feedback whose arrival times ran backwards underflowed the delay-gradient estimator.
    fuzzing::session(include_bytes!("regressions/session-trendline-underflow.bin"));
}
