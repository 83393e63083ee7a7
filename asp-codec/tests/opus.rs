//! Opus through the system libopus: 10 and 20 ms frames, in-band FEC, DTX and concealment.

use asp_codec::audio::{
    AudioDecoder, AudioEncoder, AudioError, AudioFrame, EncodedAudio, OpusConfig, OpusDecoder, OpusEncoder, OpusMode,
};

/// A deterministic test signal: two tones (440 Hz and 1250 Hz) with a slow tremolo, the same
/// on both channels.
fn signal(config: &OpusConfig, frame: u64) -> AudioFrame {
    let per_channel = config.frame_samples() / usize::from(config.channels);
    let rate = f64::from(config.sample_rate);
    let mut samples = Vec::with_capacity(config.frame_samples());
    for i in 0..per_channel {
        let t = (frame as f64 * per_channel as f64 + i as f64) / rate;
        let env = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
        let v = env
            * (0.5 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.3 * (2.0 * std::f64::consts::PI * 1250.0 * t).sin());
        let s = (v * 12_000.0) as i16;
        samples.extend(std::iter::repeat_n(s, usize::from(config.channels)));
    }
    AudioFrame {
        samples,
        channels: config.channels,
        sample_rate: config.sample_rate,
        pts_us: frame as i64 * i64::from(config.frame_ms) * 1000,
        frame_id: frame,
    }
}

fn silence(config: &OpusConfig, frame: u64) -> AudioFrame {
    let mut f = signal(config, frame);
    f.samples.iter_mut().for_each(|s| *s = 0);
    f
}

fn energy(samples: &[i16]) -> f64 {
    samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / samples.len().max(1) as f64
}

/// SNR in dB of `out` against `reference`, after finding the codec delay (the best lag up to
/// 20 ms) on the first channel.
fn snr_db(reference: &[i16], out: &[i16], channels: usize, max_lag: usize) -> f64 {
    let r: Vec<f64> = reference.iter().step_by(channels).map(|&s| f64::from(s)).collect();
    let o: Vec<f64> = out.iter().step_by(channels).map(|&s| f64::from(s)).collect();
    let n = r.len().min(o.len()).saturating_sub(max_lag);
    (0..max_lag)
        .map(|lag| {
            let (mut sig, mut err) = (0.0, 0.0);
            for i in 0..n {
                sig += r[i] * r[i];
                let d = r[i] - o[i + lag];
                err += d * d;
            }
            10.0 * (sig / err.max(1e-9)).log10()
        })
        .fold(f64::MIN, f64::max)
}

fn round_trip(config: OpusConfig, frames: u64) -> (Vec<i16>, Vec<i16>, Vec<usize>) {
    let mut enc = OpusEncoder::new(config).unwrap();
    let mut dec = OpusDecoder::new(config).unwrap();
    let (mut input, mut output, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..frames {
        let frame = signal(&config, n);
        let packet = enc.encode(&frame).unwrap().expect("a tone is never DTX silence");
        sizes.push(packet.data.len());
        let out = dec.decode(&packet).unwrap();
        assert_eq!((out.pts_us, out.frame_id), (frame.pts_us, frame.frame_id));
        assert_eq!(out.samples.len(), frame.samples.len());
        input.extend_from_slice(&frame.samples);
        output.extend_from_slice(&out.samples);
    }
    (input, output, sizes)
}

#[test]
fn ten_and_twenty_ms_frames_round_trip() {
    for frame_ms in [10, 20] {
        let config = OpusConfig { frame_ms, fec: false, ..OpusConfig::default() };
        let frames = 1000 / u64::from(frame_ms); // one second
        let (input, output, sizes) = round_trip(config, frames);
        let snr = snr_db(&input[48_000 / 5..], &output[48_000 / 5..], 2, 960);
        let kbps = sizes.iter().sum::<usize>() as f64 * 8.0 / 1000.0;
        println!("Opus {frame_ms} ms: SNR {snr:.1} dB, {kbps:.0} kbit/s");
        // Opus is a perceptual codec; on two clean tones at 64 kbit/s the waveform still matches
        // well. 12 dB is far above what a broken channel layout or frame size gives (< 0 dB).
        assert!(snr > 12.0, "{frame_ms} ms: SNR {snr:.1} dB");
        assert!((40.0..=90.0).contains(&kbps), "{frame_ms} ms: {kbps:.0} kbit/s for a 64 kbit/s target");
    }
}

#[test]
fn bitrate_change_changes_packet_sizes() {
    let config = OpusConfig { fec: false, dtx: false, ..OpusConfig::default() };
    let mut enc = OpusEncoder::new(config).unwrap();
    let mean = |enc: &mut OpusEncoder, from: u64| {
        (from..from + 50).map(|n| enc.encode(&signal(&config, n)).unwrap().unwrap().data.len()).sum::<usize>() / 50
    };
    let high = mean(&mut enc, 0);
    enc.set_bitrate(16_000).unwrap();
    let low = mean(&mut enc, 50);
    println!("Opus 64 kbit/s: {high} bytes/frame; 16 kbit/s: {low} bytes/frame");
    assert!(low * 3 < high, "{high} -> {low}");
}

#[test]
fn dtx_sends_nothing_in_silence() {
    let config = OpusConfig { dtx: true, ..OpusConfig::default() };
    let mut enc = OpusEncoder::new(config).unwrap();
    let sent = (0..100).filter(|&n| enc.encode(&silence(&config, n)).unwrap().is_some()).count();
    println!("Opus DTX: {sent} of 100 silent frames sent");
    // libopus still sends a comfort-noise update every 400 ms and a few frames on entering DTX.
    assert!(sent < 20, "{sent} of 100 silent frames sent");
    let off = OpusConfig { dtx: false, ..config };
    let mut enc = OpusEncoder::new(off).unwrap();
    assert!((0..100).all(|n| enc.encode(&silence(&off, n)).unwrap().is_some()));
}

#[test]
fn fec_recovers_a_lost_packet_better_than_concealment() {
    let config =
        OpusConfig { fec: true, expected_loss_percent: 20, bitrate_bps: 32_000, channels: 1, ..OpusConfig::default() };
    let mut enc = OpusEncoder::new(config).unwrap();
    let frames: Vec<AudioFrame> = (0..60).map(|n| signal(&config, n)).collect();
    let packets: Vec<EncodedAudio> = frames.iter().map(|f| enc.encode(f).unwrap().unwrap()).collect();
    let lost = 40;
    // Two receivers with the same history; packet `lost` never arrives.
    let mut with_fec = OpusDecoder::new(config).unwrap();
    let mut with_plc = OpusDecoder::new(config).unwrap();
    for p in &packets[..lost] {
        with_fec.decode(p).unwrap();
        with_plc.decode(p).unwrap();
    }
    let fec = with_fec.conceal(Some(&packets[lost + 1]), frames[lost].pts_us, frames[lost].frame_id).unwrap();
    let plc = with_plc.conceal(None, frames[lost].pts_us, frames[lost].frame_id).unwrap();
    assert_eq!(fec.samples.len(), frames[lost].samples.len());
    assert_eq!(plc.samples.len(), frames[lost].samples.len());
    assert_eq!(fec.frame_id, frames[lost].frame_id);
    // Compare against the decoder's own output for that frame (codec delay included).
    let mut reference = OpusDecoder::new(config).unwrap();
    let expected = packets[..=lost].iter().map(|p| reference.decode(p).unwrap()).last().unwrap();
    let err = |got: &AudioFrame| {
        got.samples.iter().zip(&expected.samples).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum::<f64>()
    };
    let (e_fec, e_plc) = (err(&fec), err(&plc));
    println!(
        "lost packet: FEC error {e_fec:.3e}, PLC error {e_plc:.3e}, signal {:.3e}",
        energy(&expected.samples) * expected.samples.len() as f64
    );
    assert!(e_fec < e_plc, "FEC {e_fec:.3e} should beat PLC {e_plc:.3e}");
    // Both make sound (not silence) for the missing frame.
    assert!(energy(&fec.samples) > 1e5 && energy(&plc.samples) > 1e3);
}

#[test]
fn bad_configuration_and_frames_are_refused() {
    let bad = OpusConfig { frame_ms: 15, ..OpusConfig::default() };
    assert!(matches!(OpusEncoder::new(bad), Err(AudioError::InvalidConfig { field: "frame_ms", .. })));
    let config = OpusConfig::default();
    let mut enc = OpusEncoder::new(config).unwrap();
    let mut short = signal(&config, 0);
    short.samples.truncate(100);
    assert!(matches!(enc.encode(&short), Err(AudioError::FrameSize { .. })));
}

/// A pure tone at `hz`, the same on both channels.
fn tone(config: &OpusConfig, frame: u64, hz: f64) -> AudioFrame {
    let mut f = signal(config, frame);
    let per_channel = config.frame_samples() / usize::from(config.channels);
    for (i, pair) in f.samples.chunks_mut(usize::from(config.channels)).enumerate() {
        let t = (frame as f64 * per_channel as f64 + i as f64) / f64::from(config.sample_rate);
        pair.fill(((2.0 * std::f64::consts::PI * hz * t).sin() * 8192.0) as i16);
    }
    f
}

/// SNR of `frames` of `source` through an encoder in `mode` and a decoder that loses 5 % of
/// the packets (seeded), concealing each from the next packet's FEC when that one arrived and
/// by loss concealment otherwise.
fn snr_under_loss(mode: OpusMode, loss_percent: u64, source: impl Fn(&OpusConfig, u64) -> AudioFrame) -> f64 {
    let config = OpusConfig { mode, dtx: false, expected_loss_percent: 5, ..OpusConfig::default() };
    let frames: Vec<AudioFrame> = (0..250).map(|n| source(&config, n)).collect();
    let mut enc = OpusEncoder::new(config).unwrap();
    let packets: Vec<EncodedAudio> = frames.iter().map(|f| enc.encode(f).unwrap().unwrap()).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let lost: Vec<bool> = (0..packets.len())
        .map(|n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            n > 10 && x % 100 < loss_percent
        })
        .collect();
    let mut dec = OpusDecoder::new(config).unwrap();
    let (mut input, mut output) = (Vec::new(), Vec::new());
    for (n, (frame, packet)) in frames.iter().zip(&packets).enumerate() {
        let out = if lost[n] {
            let next = packets.get(n + 1).filter(|_| !lost.get(n + 1).copied().unwrap_or(true));
            dec.conceal(next, frame.pts_us, frame.frame_id).unwrap()
        } else {
            dec.decode(packet).unwrap()
        };
        input.extend_from_slice(&frame.samples);
        output.extend_from_slice(&out.samples);
    }
    snr_db(&input, &output, 2, 960)
}

/// Why desktop audio is sent in [`OpusMode::LowDelay`] and a microphone in
/// [`OpusMode::Voice`]: on tones, clean and under 5 % loss (the loss concealed as a receiver
/// would), CELT alone keeps the waveform best, and with 4 ms less algorithmic delay.
#[test]
fn low_delay_mode_is_the_most_faithful_to_desktop_sound() {
    let tone_1k = |c: &OpusConfig, n| tone(c, n, 1000.0);
    let table: Vec<[f64; 4]> = [OpusMode::Voice, OpusMode::Music, OpusMode::LowDelay]
        .into_iter()
        .map(|mode| {
            [
                snr_under_loss(mode, 0, tone_1k),
                snr_under_loss(mode, 5, tone_1k),
                snr_under_loss(mode, 0, signal),
                snr_under_loss(mode, 5, signal),
            ]
        })
        .collect();
    println!("SNR dB (1 kHz tone: clean, 5 % loss; two tones: clean, 5 % loss)");
    for (name, row) in ["voice", "music", "low delay"].iter().zip(&table) {
        println!("{name:>9}: {:5.1} {:5.1} {:5.1} {:5.1}", row[0], row[1], row[2], row[3]);
    }
    let (voice, music, low_delay) = (table[0], table[1], table[2]);
    for column in 0..4 {
        assert!(
            low_delay[column] > music[column] && low_delay[column] > voice[column] + 1.0,
            "column {column}: low delay {:.1} dB, voice {:.1} dB, music {:.1} dB",
            low_delay[column],
            voice[column],
            music[column]
        );
    }
}
