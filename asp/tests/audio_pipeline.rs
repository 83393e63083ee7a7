//! The audio pipeline over a simulated network, in virtual time: a 1 kHz tone goes through
//! `AudioSender` → a channel with delay, jitter and loss (seeded) → `AudioReceiver` ticking
//! every 20 ms, and the tone that comes out is compared with the one that went in.
//!
//! Figures (printed; run with `--nocapture`): one-way latency from capture to playout (mean,
//! 95th percentile), the share of frames concealed, and the received tone's SNR once aligned
//! to the source by cross-correlation. The assertions are on what must hold whatever the
//! codec's version: thresholds with a margin, and exact accounting of every frame.
//!
//! The sender's clock runs an hour ahead of the receiver's; the receiver is told the offset,
//! as `ClockSync` would tell it.

mod common;

use common::rng::Rng;
use std::collections::BTreeMap;

use asp::audio::quality::{align, snr_db};
use asp::audio::{
    AudioReceiver, AudioSender, AudioSink, AudioSource, FRAME_SAMPLES, FRAME_US, MemorySink, OpusConfig,
    ReceiverConfig, ReceiverStats, SenderOutput, TickOutcome, ToneSource, WavSink, WavSource,
};
use asp::proto::audio::AudioPacket;
use bytes::Bytes;

/// Sender's clock minus receiver's.
const OFFSET_US: i64 = 3_600_000_000;
const TONE_HZ: f64 = 1000.0;
const AMPLITUDE: i16 = 8000;
/// One minute of audio.
const FRAMES: u64 = 3000;
/// The receiver's ticks are this far off the sender's capture grid.
const TICK_PHASE_US: u64 = 3_000;

/// What the network does to each packet.
#[derive(Debug, Clone, Copy)]
struct Channel {
    delay_us: u64,
    /// Each packet is delayed by a further uniform 0..=jitter_us.
    jitter_us: u64,
    loss: f64,
    /// Scrambles every payload after its first byte (a broken channel).
    corrupt: bool,
    seed: u64,
    /// The receiver rebuilds lost frames from the next packet's FEC (else PLC only).
    fec: bool,
}

const IDENTITY: Channel = Channel { delay_us: 0, jitter_us: 0, loss: 0.0, corrupt: false, seed: 1, fec: true };
/// The network: 20 ms one way, 0..=30 ms of jitter.
const JITTERY: Channel = Channel { delay_us: 20_000, jitter_us: 30_000, ..IDENTITY };

/// What the sender captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// A 1 kHz sine.
    Tone,
    /// Voice-like: see [`Voiced`].
    Voiced,
}

/// A voice-like test signal: the first eight harmonics of 140 Hz (falling as 1/k), its
/// loudness swinging at 4 Hz like syllables. Opus's voice activity detector keeps such a
/// signal active, so its packets keep carrying FEC; a steady tone stops being "active" after a
/// few seconds, and from then on its packets carry none.
struct Voiced {
    position: u64,
}

impl AudioSource for Voiced {
    fn channels(&self) -> u8 {
        2
    }

    fn read_frame(&mut self, frame: &mut [i16]) -> std::io::Result<bool> {
        use std::f64::consts::TAU;
        for pair in frame.chunks_exact_mut(2) {
            let t = self.position as f64 / 48_000.0;
            let envelope = 0.55 + 0.45 * (TAU * 4.0 * t).sin();
            let voice: f64 = (1..=8).map(|k| (TAU * 140.0 * f64::from(k) * t).sin() / f64::from(k)).sum();
            pair.fill((5000.0 * envelope * voice).round() as i16);
            self.position += 1;
        }
        Ok(true)
    }
}

fn source(signal: Signal) -> Box<dyn AudioSource> {
    match signal {
        Signal::Tone => Box::new(ToneSource::new(TONE_HZ, AMPLITUDE, 2)),
        Signal::Voiced => Box::new(Voiced { position: 0 }),
    }
}

/// One run's results.
struct Run {
    stats: ReceiverStats,
    /// Channel 0 of what the sink got.
    received: Vec<i16>,
    /// Sequence numbers the channel dropped.
    dropped: Vec<u32>,
    /// Each tick's outcome, by sequence number where it has one.
    outcomes: BTreeMap<u32, Vec<TickOutcome>>,
    /// Most packets the receiver held at once.
    max_buffered: usize,
    capacity: usize,
}

fn simulate(channel: Channel) -> Run {
    simulate_signal(channel, Signal::Tone)
}

fn simulate_signal(channel: Channel, signal: Signal) -> Run {
    let mut rng = Rng(channel.seed);
    let mut sender = AudioSender::new(source(signal), OpusConfig::default()).unwrap();
    // Every frame is captured at k × 20 ms on the receiver's clock; what reaches the receiver
    // and when is decided here, before the receiver runs.
    let mut arrivals: Vec<(u64, Bytes)> = Vec::new();
    let mut dropped = Vec::new();
    for k in 0..FRAMES {
        let sent_at = k * FRAME_US;
        let capture_us = (sent_at as i64 + OFFSET_US) as u64;
        let SenderOutput::Packet(packet) = sender.poll(capture_us).unwrap() else { panic!("never silent") };
        if rng.unit() < channel.loss {
            dropped.push(AudioPacket::decode(packet).unwrap().seq);
            continue;
        }
        let packet = if channel.corrupt {
            let mut v = packet.to_vec();
            v.iter_mut().skip(asp::proto::audio::HEADER_LEN + 1).for_each(|b| *b ^= 0xa5);
            Bytes::from(v)
        } else {
            packet
        };
        let jitter = (rng.unit() * (channel.jitter_us + 1) as f64) as u64;
        arrivals.push((sent_at + channel.delay_us + jitter, packet));
    }
    arrivals.sort_by_key(|(at, _)| *at);

    let config = ReceiverConfig { fec: channel.fec, ..ReceiverConfig::default() };
    let mut receiver = AudioReceiver::new(config, MemorySink::new()).unwrap();
    receiver.set_clock_offset(Some(OFFSET_US));
    let capacity = receiver.jitter().config().capacity;
    let mut arrivals = arrivals.into_iter().peekable();
    let mut outcomes: BTreeMap<u32, Vec<TickOutcome>> = BTreeMap::new();
    let mut max_buffered = 0;
    // Tick until the last frame has had its turn (or was skipped: the longest delay is 200 ms
    // plus the network's).
    let end = FRAMES * FRAME_US + channel.delay_us + channel.jitter_us + 300_000;
    let last = FRAMES as u32 - 1;
    let mut now = TICK_PHASE_US;
    while now < end && !outcomes.contains_key(&last) {
        while let Some((at, packet)) = arrivals.next_if(|(at, _)| *at <= now) {
            receiver.handle_packet(packet, at).unwrap();
            max_buffered = max_buffered.max(receiver.jitter().len());
        }
        let tick = receiver.tick(now).unwrap();
        match tick.outcome {
            TickOutcome::Played { seq } | TickOutcome::Concealed { seq, .. } | TickOutcome::Silence { seq } => {
                outcomes.entry(seq).or_default().push(tick.outcome);
            }
            TickOutcome::Waiting | TickOutcome::Stretched => {}
        }
        now += FRAME_US;
    }
    let stats = receiver.stats();
    let received = receiver.into_sink().into_samples().chunks_exact(2).map(|s| s[0]).collect();
    Run { stats, received, dropped, outcomes, max_buffered, capacity }
}

/// The source's channel 0, as the receiver should play it.
fn reference(signal: Signal, frames: u64) -> Vec<i16> {
    let mut source = source(signal);
    let mut frame = vec![0; 2 * FRAME_SAMPLES];
    let mut out = Vec::new();
    for _ in 0..frames {
        source.read_frame(&mut frame).unwrap();
        out.extend(frame.chunks_exact(2).map(|s| s[0]));
    }
    out
}

/// Aligns the received tone to the source and measures its SNR over all but the first
/// second (start-up) and the last half second. A 1 kHz tone repeats every 48 samples, so a
/// frame's worth of delay added or removed by the jitter buffer (960 samples) keeps it aligned.
fn tone_snr(run: &Run) -> f64 {
    signal_snr(run, Signal::Tone)
}

/// The same for any signal; one that does not repeat every frame stays aligned only if the
/// buffer neither stretches nor skips after the first second.
fn signal_snr(run: &Run, signal: Signal) -> f64 {
    snr_against(&reference(signal, FRAMES), run)
}

/// `run`'s output against `reference`, aligned.
fn snr_against(reference: &[i16], run: &Run) -> f64 {
    let max_lag = 19_200; // 400 ms
    let from = 48_000;
    let lag = align(reference, &run.received, from, max_lag);
    let to = FRAMES as usize * FRAME_SAMPLES - 24_000;
    assert!(to + lag <= run.received.len(), "the receiver played the whole stream");
    snr_db(reference, &run.received, lag, from..to)
}

fn report(name: &str, run: &Run, snr: f64) {
    let s = &run.stats;
    println!(
        "{name}: latency mean {:.1} ms, p95 {:.1} ms; concealed {:.2} % ({} of {}; channel dropped {}, late {}, FEC tried {}); \
         target {:.1} ms, stretched {}, skipped {}, max buffered {}; SNR {snr:.1} dB",
        s.latency.mean,
        s.latency.p95,
        100.0 * s.concealment_rate(),
        s.jitter.concealed,
        s.jitter.played + s.jitter.concealed,
        run.dropped.len(),
        s.jitter.late,
        s.fec_attempts,
        s.jitter.target_us as f64 / 1000.0,
        s.jitter.stretched,
        s.jitter.skipped,
        run.max_buffered,
    );
}

/// Every frame from the first played to the last is accounted for exactly once, played or
/// concealed, or counted as skipped; every frame the channel dropped was concealed.
fn check_accounting(run: &Run) {
    let first = *run.outcomes.keys().next().unwrap();
    let last = *run.outcomes.keys().last().unwrap();
    assert_eq!(last, FRAMES as u32 - 1, "every frame had its turn");
    assert!(run.outcomes.values().all(|o| o.len() == 1), "no frame is played twice");
    let seen = run.outcomes.len() as u64;
    assert_eq!(seen + run.stats.jitter.skipped, u64::from(last - first) + 1, "no frame vanishes unaccounted");
    for seq in run.dropped.iter().filter(|&&s| s >= first) {
        match run.outcomes.get(seq).map(|o| o[0]) {
            Some(TickOutcome::Concealed { .. }) | None => {} // None: skipped, counted above
            other => panic!("frame {seq} was dropped by the channel, yet {other:?}"),
        }
    }
    let concealed = run.outcomes.values().filter(|o| matches!(o[0], TickOutcome::Concealed { .. })).count() as u64;
    assert_eq!(concealed, run.stats.jitter.concealed);
    assert!(run.max_buffered <= run.capacity);
}

/// The controls: an identity channel gives a clean tone with nothing concealed, and a channel
/// that scrambles the payloads does not (so the SNR measure can fail).
#[test]
fn identity_channel_is_clean_and_a_broken_one_is_not() {
    let clean = simulate(IDENTITY);
    let clean_snr = tone_snr(&clean);
    report("identity", &clean, clean_snr);
    check_accounting(&clean);
    assert_eq!(clean.stats.jitter.concealed, 0);
    assert!(clean_snr > 20.0, "identity channel SNR {clean_snr:.1} dB");
    // Over a perfect network the buffer sits at its floor: 10 ms plus at most a frame and a half.
    assert!(clean.stats.latency.mean <= 40.0, "{:?}", clean.stats.latency);

    let broken = simulate(Channel { corrupt: true, ..IDENTITY });
    let broken_snr = tone_snr(&broken);
    report("scrambled payloads", &broken, broken_snr);
    assert!(broken_snr < 5.0, "a scrambled stream must not pass for the tone: {broken_snr:.1} dB");
}

/// 20 ms one way, 0..=30 ms of jitter, no loss: the buffer's target follows the jitter, almost
/// nothing is late, and the tone is as clean as over the identity channel.
#[test]
fn jitter_without_loss() {
    let run = simulate(Channel { seed: 7, ..JITTERY });
    let snr = tone_snr(&run);
    report("20 ms + 0..30 ms jitter", &run, snr);
    check_accounting(&run);
    let s = &run.stats;
    let target_ms = s.jitter.target_us as f64 / 1000.0;
    assert!((25.0..=35.0).contains(&target_ms), "target {target_ms} ms for 0..30 ms of jitter");
    assert!(s.concealment_rate() < 0.01, "concealed {:.2} %", 100.0 * s.concealment_rate());
    assert!(snr > 20.0, "SNR {snr:.1} dB");
    // Network 20 ms, plus the target (about 30 ms), plus up to a frame and a half of slack.
    assert!((45.0..=85.0).contains(&s.latency.mean), "{:?}", s.latency);
    assert!(s.latency.p95 <= 90.0, "{:?}", s.latency);
    assert_eq!(s.latency.count, s.jitter.played);
    assert!(run.max_buffered <= 8, "held {} packets", run.max_buffered);
}

/// The same with 5 % random loss: every lost frame is concealed, the concealment rate is the
/// loss rate (plus the few late packets), and the tone survives, less cleanly.
///
/// (A pure tone is hard on Opus here: expecting 10 % loss, the default, the encoder runs in
/// hybrid mode for its FEC, and after a loss the SILK layer takes several frames to find the
/// tone again, so each loss costs more than its own frame. And after a few seconds of steady
/// tone its packets carry no FEC any more: see [`Voiced`] for where FEC pays.)
#[test]
fn jitter_and_five_percent_loss() {
    let lossy = Channel { loss: 0.05, seed: 11, ..JITTERY };
    let run = simulate(lossy);
    let snr = tone_snr(&run);
    report("20 ms + 0..30 ms jitter + 5 % loss", &run, snr);
    check_accounting(&run);
    let s = &run.stats;
    let loss = run.dropped.len() as f64 / FRAMES as f64;
    assert!((0.035..=0.065).contains(&loss), "the channel's loss {loss}");
    let rate = s.concealment_rate();
    assert!(rate >= loss - 0.005 && rate <= loss + 0.015, "concealed {rate:.4} for a loss of {loss:.4}");
    assert!(s.fec_attempts > run.dropped.len() as u64 / 2, "most lost frames had their next packet at hand");
    assert!(snr > 5.0, "SNR {snr:.1} dB with 5 % loss");
    assert!((45.0..=85.0).contains(&s.latency.mean), "{:?}", s.latency);
    assert!(run.max_buffered <= 8, "held {} packets", run.max_buffered);

    let plc = simulate(Channel { fec: false, ..lossy });
    let plc_snr = tone_snr(&plc);
    report("the same, PLC only", &plc, plc_snr);
    assert_eq!(plc.dropped, run.dropped, "the same losses");
    assert_eq!(plc.stats.fec_attempts, 0);
    assert!(snr > plc_snr - 0.5, "FEC does no harm: {snr:.1} dB, PLC only {plc_snr:.1} dB");
}

/// Where FEC pays: voice-like audio over 20 ms with 5 % loss (no jitter, so that the buffer
/// does not adapt after its start and the signal stays aligned). What the losses cost is
/// measured against what the same receiver played over the same channel without loss, which
/// leaves the codec's own error out (Opus keeps how speech sounds, not its waveform):
/// rebuilding a lost frame from the next packet's FEC beats concealing it.
#[test]
fn fec_beats_concealment_on_voice_like_audio() {
    let lossy = Channel { delay_us: 20_000, loss: 0.05, seed: 5, ..IDENTITY };
    let clean = simulate_signal(Channel { loss: 0.0, ..lossy }, Signal::Voiced);
    let fec = simulate_signal(lossy, Signal::Voiced);
    let plc = simulate_signal(Channel { fec: false, ..lossy }, Signal::Voiced);
    let fec_snr = snr_against(&clean.received, &fec);
    let plc_snr = snr_against(&clean.received, &plc);
    report("voice-like, 20 ms, 5 % loss, FEC (SNR against the loss-free run)", &fec, fec_snr);
    report("voice-like, 20 ms, 5 % loss, PLC only (SNR against the loss-free run)", &plc, plc_snr);
    for run in [&clean, &fec, &plc] {
        check_accounting(run);
        assert_eq!(run.stats.jitter.stretched, 0, "stays aligned");
        assert!(run.stats.jitter.skipped <= 1, "one skip at most, at the start");
    }
    assert!(fec.stats.fec_attempts > fec.dropped.len() as u64 / 2);
    assert!(fec_snr > plc_snr + 3.0, "FEC {fec_snr:.1} dB, PLC only {plc_snr:.1} dB");
}

/// Received audio written to a WAV file reads back sample for sample.
#[test]
fn wav_round_trip() {
    let run = simulate(Channel { loss: 0.05, seed: 3, ..JITTERY });
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("audio_pipeline_round_trip.wav");
    let samples: Vec<i16> = run.received[..10 * FRAME_SAMPLES + 123].to_vec();
    let mut sink = WavSink::create(&path, 1).unwrap();
    for chunk in samples.chunks(FRAME_SAMPLES) {
        sink.write_frame(chunk).unwrap();
    }
    drop(sink.finish().unwrap());
    let mut source = WavSource::open(&path).unwrap();
    assert_eq!(source.channels(), 1);
    assert_eq!(source.len_samples(), Some(samples.len() as u64));
    let mut back = Vec::new();
    let mut frame = vec![0; FRAME_SAMPLES];
    while source.read_frame(&mut frame).unwrap() {
        back.extend_from_slice(&frame);
    }
    assert_eq!(back.len(), 11 * FRAME_SAMPLES, "whole frames, the last one padded");
    assert_eq!(back[..samples.len()], samples[..]);
    assert!(back[samples.len()..].iter().all(|&s| s == 0));
    std::fs::remove_file(&path).unwrap();
}
