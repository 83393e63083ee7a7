//! Audio both ways through a whole session, over QUIC through the impairment relay: the
//! server's desktop audio (a 1 kHz tone) to the client, the client's microphone (a 600 Hz
//! tone) to the server; one-way latency, concealment and SNR measured at each end, on a clean
//! link and with 5 % loss each way, and the loss each sender's encoder was told.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asp::audio::quality::{align, snr_db};
use asp::audio::{AudioSink, AudioStats, MemorySink, ToneSource};
use asp::bench::network::NetworkProfile;
use asp::client::ClientConfig;
use asp::loopback::{LinkEmulation, Loopback, LoopbackOptions};
use asp::server::ServerConfig;
use asp::sink::DecodedFrame;
use asp::source::synth::SynthSource;
use asp_codec::synth::SourceKind;

/// A memory sink the test can read after the session has taken it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<MemorySink>>);

impl AudioSink for Shared {
    fn write_frame(&mut self, samples: &[i16]) -> std::io::Result<()> {
        self.0.lock().unwrap().write_frame(samples)
    }
}

struct Direction {
    stats: AudioStats,
    snr_db: f64,
}

fn score(tone: f64, received: &[i16], stats: AudioStats) -> Direction {
    // Stereo, interleaved; the reference tone in both channels from its first sample.
    let reference_tone = ToneSource::new(tone, 8000, 2);
    let reference: Vec<i16> = (0..received.len() as u64 / 2).flat_map(|n| [reference_tone.sample_at(n); 2]).collect();
    // Skip the first second (start-up, warm-up of the jitter buffer) and compare 2 s.
    let from = 96_000;
    let lag = align(&reference, received, from, 48_000);
    let snr_db = snr_db(&reference, received, lag, from..from + 192_000);
    Direction { stats, snr_db }
}

async fn run(network: &str) -> (Direction, Direction) {
    let profile = NetworkProfile::named(network).unwrap();
    let link = LinkEmulation { up: profile.up.clone(), down: profile.down.clone(), seed: 11 };
    let (source, injector) = SynthSource::new(SourceKind::Idle, 320, 240, 1).unwrap();
    let mut pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 10, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions { link: Some(link), ..LoopbackOptions::default() },
    )
    .await
    .unwrap();
    let (speaker, server_mic_sink) = (Shared::default(), Shared::default());
    pair.client.attach_audio_sink(Box::new(speaker.clone())).unwrap();
    pair.server.attach_audio_sink(Box::new(server_mic_sink.clone())).unwrap();
    pair.server.attach_audio_source(Box::new(ToneSource::new(1000.0, 8000, 2))).unwrap();
    pair.client.attach_microphone(Box::new(ToneSource::new(600.0, 8000, 2))).unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (server, client) = pair.stop().await;
    let played = speaker.0.lock().unwrap().samples().to_vec();
    let heard = server_mic_sink.0.lock().unwrap().samples().to_vec();
    eprintln!("{network}: client {:?}\n{network}: server {:?}", client.audio, server.audio);
    (score(1000.0, &played, client.audio), score(600.0, &heard, server.audio))
}

fn report(network: &str, what: &str, d: &Direction) {
    eprintln!(
        "{network} {what}: latency mean {:.1} ms p95 {:.1} ms, concealed {:.1} %, target {:.1} ms, SNR {:.1} dB",
        d.stats.latency.mean,
        d.stats.latency.p95,
        100.0 * d.stats.concealment_rate,
        d.stats.buffer_target_ms,
        d.snr_db
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tones_both_ways_clean_and_with_loss() {
    let (playback, microphone) = run("lan").await;
    report("lan", "desktop audio", &playback);
    report("lan", "microphone", &microphone);
    for d in [&playback, &microphone] {
        assert!(d.stats.error.is_none(), "{:?}", d.stats.error);
        assert!(d.stats.frames_played > 120, "{} frames played", d.stats.frames_played);
        assert!(d.stats.latency.count > 100, "latency measured");
        assert!(d.stats.latency.mean > 0.0 && d.stats.latency.mean < 250.0, "{}", d.stats.latency.mean);
        // A clean link loses nothing; a frame or two may still come late on a loaded machine.
        assert!(d.stats.concealment_rate < 0.05, "clean link: {}", d.stats.concealment_rate);
        assert!(d.snr_db > 15.0, "clean link SNR {:.1} dB", d.snr_db);
        // The encoders were told the path's loss: next to none.
        assert!(d.stats.expected_loss_percent.is_some_and(|p| p <= 3), "{:?}", d.stats.expected_loss_percent);
    }
    let (playback, microphone) = run("lossy-5pct").await;
    report("lossy-5pct", "desktop audio", &playback);
    report("lossy-5pct", "microphone", &microphone);
    for d in [&playback, &microphone] {
        assert!(d.stats.frames_played > 100);
        // 5 % of the packets lost each way (a seeded relay): about as many frames concealed.
        assert!((0.01..0.15).contains(&d.stats.concealment_rate), "{}", d.stats.concealment_rate);
        assert!(d.stats.latency.mean > 20.0, "20 ms one way at least: {}", d.stats.latency.mean);
        assert!(d.snr_db > 3.0, "lossy SNR {:.1} dB", d.snr_db);
        // Each sender's encoder was told of the loss, for its FEC.
        assert!(d.stats.expected_loss_percent.is_some_and(|p| p >= 3), "{:?}", d.stats.expected_loss_percent);
    }
    // Desktop audio goes in Opus's CELT-only low-delay mode, whose concealment carries a
    // steady tone over a lost frame; the microphone's voice mode smears it (asp-codec's
    // low_delay_mode_is_the_most_faithful_to_desktop_sound).
    assert!(playback.snr_db > 20.0, "desktop audio under loss: {:.1} dB", playback.snr_db);
}
