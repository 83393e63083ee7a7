//! PulseAudio capture and playback (feature `pulse`) against a private PulseAudio daemon each
//! test starts for itself: a null sink named `asp_test` at 48 kHz and a native-protocol socket
//! in a temporary directory, passed to the API as the server name (never through the
//! process's environment, which the other tests' threads share).
//!
//! A 1 kHz tone played into the null sink through `PulseSink` is recorded from its monitor
//! through `PulseSource`, directly and through a whole session; its frequency, SNR and the
//! playback-to-capture latency are measured. The daemon runs as whatever user runs the tests;
//! as root pulseaudio warns ("not intended to be run as root") but runs, and with its own
//! HOME and runtime directory it touches nothing outside the temporary directory.
//!
//! The tests fail, not skip, when the `pulseaudio` binary is missing: scripts/setup.sh
//! installs it.
#![cfg(feature = "pulse")]
#![allow(clippy::disallowed_methods)] // latency and bounded waits on the wall clock

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asp::audio::pulse::{PulseOptions, PulseSink, PulseSource};
use asp::audio::{AudioSink, AudioSource, FRAME_SAMPLES, MemorySink, SAMPLE_RATE, ToneSource};

/// A pulseaudio daemon of the test's own, killed when dropped.
struct Daemon {
    child: Child,
    dir: PathBuf,
    /// Its server name, for `PulseOptions::server`.
    server: String,
}

const SINK: &str = "asp_test";
const MONITOR: &str = "asp_test.monitor";

impl Daemon {
    fn start() -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "asp-pulse-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("native");
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let spawned = Command::new("pulseaudio")
            .env("HOME", &dir)
            .env("XDG_RUNTIME_DIR", &dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env_remove("PULSE_SERVER")
            .args(["-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no"])
            .args(["--system=no", "--log-target=stderr", "-F", "/dev/null"])
            .arg(format!("--load=module-null-sink sink_name={SINK} rate={SAMPLE_RATE} channels=2"))
            .arg(format!("--load=module-native-protocol-unix socket={} auth-anonymous=1", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => panic!("cannot run pulseaudio ({e}): scripts/setup.sh installs it (apt-get install pulseaudio)"),
        };
        let mut daemon = Self { child, server: format!("unix:{}", socket.display()), dir };
        // Wait, boundedly, until the socket takes connections.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                return daemon;
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!("pulseaudio exited ({status}) before its socket was ready:\n{}", daemon.log());
            }
            assert!(Instant::now() < deadline, "pulseaudio's socket did not appear within 15 s:\n{}", daemon.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn options(&self, device: &str, channels: u8) -> PulseOptions {
        PulseOptions {
            server: Some(self.server.clone()),
            device: Some(device.into()),
            app_name: "asp-test".into(),
            channels,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The first channel of interleaved samples.
fn first_channel(samples: &[i16], channels: usize) -> Vec<f64> {
    samples.iter().step_by(channels).map(|&s| f64::from(s)).collect()
}

/// The index of the first sample above `threshold` in magnitude.
fn onset(x: &[f64], threshold: f64) -> Option<usize> {
    x.iter().position(|s| s.abs() > threshold)
}

/// Frequency in Hz from the median interval between rising zero crossings (interpolated
/// between samples); a gap or a glitch spoils one interval, not the estimate.
fn frequency(x: &[f64]) -> f64 {
    let crossings: Vec<f64> = x
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, w)| i as f64 + w[0] / (w[0] - w[1]))
        .collect();
    let mut periods: Vec<f64> = crossings.windows(2).map(|c| c[1] - c[0]).collect();
    assert!(periods.len() > 10, "{} zero crossings: no tone", crossings.len());
    periods.sort_by(f64::total_cmp);
    f64::from(SAMPLE_RATE) / periods[periods.len() / 2]
}

/// SNR in dB of a `hz` tone in each 20 ms block of `x`: the block's projection on a sine and
/// cosine of `hz` (a whole number of periods at 1 kHz) is the signal, the rest is noise.
fn block_snrs(x: &[f64], hz: f64) -> Vec<f64> {
    x.chunks_exact(FRAME_SAMPLES)
        .map(|block| {
            let n = block.len() as f64;
            let w = std::f64::consts::TAU * hz / f64::from(SAMPLE_RATE);
            let (mut c, mut s) = (0.0, 0.0);
            for (i, &v) in block.iter().enumerate() {
                c += v * (w * i as f64).cos();
                s += v * (w * i as f64).sin();
            }
            let (a, b) = (2.0 * c / n, 2.0 * s / n);
            let total: f64 = block.iter().map(|v| v * v).sum::<f64>() / n;
            let tone = (a * a + b * b) / 2.0;
            10.0 * (tone / (total - tone).max(1e-3)).log10()
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The tone's amplitude: a quarter of full scale.
const AMPLITUDE: i16 = 8192;

#[test]
fn a_tone_played_into_the_null_sink_is_recorded_from_its_monitor() {
    let daemon = Daemon::start();
    // Record in mono (the server mixes the stereo sink down) and play in stereo: both
    // channel counts are crossed.
    let mut source = PulseSource::open(&daemon.options(MONITOR, 1)).unwrap();
    assert!(source.is_live());
    let mut sink = PulseSink::open(&daemon.options(SINK, 2)).unwrap();
    let epoch = Instant::now();

    // The recorder: 3 s of frames, each with the time its read returned.
    const RECORD_FRAMES: usize = 150;
    const SILENT_FRAMES: usize = 25;
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let recorder = std::thread::spawn(move || {
        let mut frame = vec![0; FRAME_SAMPLES];
        let mut samples = Vec::new();
        let mut returned = Vec::new();
        let opened = epoch.elapsed();
        for k in 0..RECORD_FRAMES {
            assert!(source.read_frame(&mut frame).unwrap());
            returned.push(epoch.elapsed());
            samples.extend_from_slice(&frame);
            if k + 1 == SILENT_FRAMES {
                let _ = started_tx.send(());
            }
        }
        let latency = source.latency().unwrap();
        (samples, returned, latency, opened)
    });

    // The player: after half a second of silence, 1.5 s of tone, at the card's pace (the
    // writes block while the 40 ms buffer is full).
    started_rx.recv().unwrap();
    let mut tone = ToneSource::new(1000.0, AMPLITUDE, 2);
    let mut frame = vec![0; 2 * FRAME_SAMPLES];
    let play_start = epoch.elapsed();
    let mut playback_latency = Duration::ZERO;
    for k in 0..75 {
        tone.read_frame(&mut frame).unwrap();
        sink.write_frame(&frame).unwrap();
        if k == 40 {
            playback_latency = sink.latency().unwrap();
        }
    }
    sink.drain().unwrap();
    let (samples, returned, capture_latency, opened) = recorder.join().unwrap();
    let first_read_ms = 1000.0 * (returned[0] - opened).as_secs_f64();
    let read_gaps: Vec<f64> = returned.windows(2).skip(1).map(|w| 1000.0 * (w[1] - w[0]).as_secs_f64()).collect();
    let (gap_mean, gap_max) =
        (read_gaps.iter().sum::<f64>() / read_gaps.len() as f64, read_gaps.iter().copied().fold(0.0, f64::max));

    let x = first_channel(&samples, 1);
    let before = &x[..SILENT_FRAMES * FRAME_SAMPLES];
    let peak_before = before.iter().fold(0.0f64, |m, s| m.max(s.abs()));
    assert!(peak_before < 1.0, "the monitor is silent before the tone: peak {peak_before}");
    let start = onset(&x, f64::from(AMPLITUDE) / 4.0).unwrap_or_else(|| panic!("no tone in the recording"));
    assert!(start >= SILENT_FRAMES * FRAME_SAMPLES, "the tone came before it was played: sample {start}");

    // When the onset was recorded: its frame's read returned, less the samples after it.
    let frame_of = start / FRAME_SAMPLES;
    let after = (FRAME_SAMPLES - start % FRAME_SAMPLES) as f64 / f64::from(SAMPLE_RATE);
    let heard = returned[frame_of].as_secs_f64() - after;
    let latency_ms = 1000.0 * (heard - play_start.as_secs_f64());
    let returned_ms = 1000.0 * (returned[frame_of] - play_start).as_secs_f64();

    // A second of steady tone, from 100 ms after its onset.
    let steady = &x[start + 4800..start + 4800 + 48_000];
    let hz = frequency(steady);
    let snrs = block_snrs(steady, 1000.0);
    let worst = snrs.iter().copied().fold(f64::INFINITY, f64::min);
    let rms = (steady.iter().map(|v| v * v).sum::<f64>() / steady.len() as f64).sqrt();
    let snr = median(snrs.clone());
    eprintln!(
        "pulse null sink: {hz:.2} Hz, rms {rms:.0} (a sine of {AMPLITUDE} peak: {:.0}), SNR median {snr:.1} dB, \
         worst 20 ms block {worst:.1} dB; write-to-capture latency {latency_ms:.1} ms (the read holding the onset \
         returned {returned_ms:.1} ms after the first write); reads every {gap_mean:.2} ms (max {gap_max:.1}), the \
         first after {first_read_ms:.0} ms; server's figures: playback {:.1} ms, capture {:.1} ms",
        f64::from(AMPLITUDE) / 2f64.sqrt(),
        playback_latency.as_secs_f64() * 1000.0,
        capture_latency.as_secs_f64() * 1000.0,
    );
    // Each read returns as its 20 ms fragment is recorded; with the server's default
    // fragment (about 2 s) they would come in bursts, most of them at once.
    let gap_median = median(read_gaps);
    assert!((15.0..25.0).contains(&gap_median), "reads every {gap_median:.1} ms (median)");
    assert!((hz - 1000.0).abs() < 2.0, "{hz} Hz");
    // The path is digital end to end: the null sink runs at 48 kHz (no resampling) at unity
    // volume, and the monitor mixes the two equal channels down to mono; what comes back is
    // the tone up to rounding, well above 60 dB (a half-LSB error against this tone is about
    // 85 dB down). An underrun (the player thread starved on a loaded machine) breaks a block
    // or two, which the median does not see; 40 dB still catches a wrong rate, a wrong
    // channel layout or a byte-order mix-up, all of which leave little of the tone.
    assert!(snr > 40.0, "SNR {snr:.1} dB");
    assert!((rms - f64::from(AMPLITUDE) / 2f64.sqrt()).abs() < 0.05 * f64::from(AMPLITUDE), "rms {rms}");
    // 40 ms of playback buffer and a 20 ms capture fragment; a loaded machine adds its
    // scheduling delays, hence the wide bound. Without the buffer attributes it would be
    // seconds.
    assert!((0.0..500.0).contains(&latency_ms), "write-to-read latency {latency_ms:.1} ms");
}

#[test]
fn a_missing_server_or_device_is_an_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("asp-pulse-none-{}", std::process::id()));
    let server = format!("unix:{}/native", dir.display());
    let options = PulseOptions { server: Some(server.clone()), ..PulseOptions::device(MONITOR) };
    let e = PulseSource::open(&options).unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&server) && text.contains(MONITOR) && text.contains("PulseAudio recording"), "{text}");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{text}");
    let e = PulseSink::open(&PulseOptions { server: Some(server.clone()), ..PulseOptions::default() }).unwrap_err();
    assert!(e.to_string().contains(&server) && e.to_string().contains("playback"), "{e}");

    // A server that is there, without the device asked for.
    let daemon = Daemon::start();
    let e = PulseSource::open(&daemon.options("no_such_source", 2)).unwrap_err();
    assert!(e.to_string().contains("no_such_source"), "{e}");
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
    let e = PulseSink::open(&daemon.options("no_such_sink", 2)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
    eprintln!("errors: {e}");
}

/// A memory sink the test can read after the session has taken it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<MemorySink>>);

impl AudioSink for Shared {
    fn write_frame(&mut self, samples: &[i16]) -> std::io::Result<()> {
        self.0.lock().unwrap().write_frame(samples)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_audio_of_a_session_comes_from_pulseaudio() {
    use asp::client::ClientConfig;
    use asp::loopback::{Loopback, LoopbackOptions};
    use asp::server::ServerConfig;
    use asp::sink::DecodedFrame;
    use asp::source::synth::SynthSource;
    use asp_codec::synth::SourceKind;

    let daemon = Daemon::start();
    // Something plays on the desktop: 1 kHz into the null sink, until told to stop.
    let mut sink = PulseSink::open(&daemon.options(SINK, 2)).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let player = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let mut tone = ToneSource::new(1000.0, AMPLITUDE, 2);
            let mut frame = vec![0; 2 * FRAME_SAMPLES];
            while !stop.load(Ordering::Relaxed) {
                tone.read_frame(&mut frame).unwrap();
                sink.write_frame(&frame).unwrap();
            }
        }
    });

    let (source, injector) = SynthSource::new(SourceKind::Idle, 320, 240, 1).unwrap();
    let mut pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &DecodedFrame| {}),
        ServerConfig { frame_rate: 10, ..ServerConfig::default() },
        ClientConfig::default(),
        LoopbackOptions::default(),
    )
    .await
    .unwrap();
    let speaker = Shared::default();
    pair.client.attach_audio_sink(Box::new(speaker.clone())).unwrap();
    let mut desktop = PulseSource::open(&daemon.options(MONITOR, 2)).unwrap();
    // An idle null sink renders silence two seconds ahead and does not reschedule when a new
    // monitor stream asks for 20 ms, so the first fragment comes when that block is due (up to
    // 2 s after the daemon starts; `first_read_ms` in the test above). Take it here, so that
    // the session sees the steady state.
    desktop.read_frame(&mut vec![0; 2 * FRAME_SAMPLES]).unwrap();
    pair.server.attach_audio_source(Box::new(desktop)).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (server, client) = pair.stop().await;
    stop.store(true, Ordering::Relaxed);
    player.join().unwrap();

    let played = speaker.0.lock().unwrap().samples().to_vec();
    eprintln!("session: server {:?}\nsession: client {:?}", server.audio, client.audio);
    assert!(server.audio.error.is_none() && client.audio.error.is_none(), "{server:?} {client:?}");
    // Paced by the sound card rather than the system clock: about 50 packets a second (the
    // first frames, before the clocks are matched, are not sent).
    assert!((100..=160).contains(&server.audio.packets_sent), "{} packets in 3 s", server.audio.packets_sent);
    let x = first_channel(&played, 2);
    let start = onset(&x, f64::from(AMPLITUDE) / 4.0).expect("no tone reached the client");
    // Half a second of steady tone after its onset, through Opus: the SNR of a lossy codec,
    // not of a digital path.
    let steady = x.get(start + 9600..start + 9600 + 24_000).expect("less than 0.7 s of tone reached the client");
    let hz = frequency(steady);
    let snr = median(block_snrs(steady, 1000.0));
    eprintln!("session: {hz:.2} Hz, SNR median {snr:.1} dB, latency mean {:.1} ms", client.audio.latency.mean);
    assert!((hz - 1000.0).abs() < 5.0, "{hz} Hz");
    assert!(snr > 15.0, "SNR {snr:.1} dB through the session");
}
