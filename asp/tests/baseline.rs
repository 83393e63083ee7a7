//! The bench's baselines on real processes: the FFmpeg CLI's libx264, and its stream carried
//! by SRT (`srt-live-transmit`, Debian package srt-tools) and by plain TCP through the
//! impairment relay. Needs `ffmpeg` and `srt-live-transmit` on PATH
//! (scripts/install-codec-deps.sh); without them the tests fail naming the package.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use asp::baseline::{BaselineCarrier, CarriageReport, X264Baseline, carry, encode_x264};
use asp_core::sim::LinkProfile;
use asp_transport::relay::Schedule;

/// The carriage tests measure latency on the wall clock: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn work_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("baseline").join(name)
}

/// Writes `frames` frames of an FFmpeg test pattern (with `filter` after it) as Y4M.
fn test_source(dir: &Path, pattern: &str, frames: u32) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("source.y4m");
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", pattern, "-frames:v"])
        .arg(frames.to_string())
        .args(["-pix_fmt", "yuv420p"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("running ffmpeg (Debian package ffmpeg): {e}"));
    assert!(out.status.success(), "ffmpeg testsrc: {}", String::from_utf8_lossy(&out.stderr));
    path
}

fn y4m_frames(path: &Path) -> usize {
    let mut r = asp_codec::y4m::Y4mReader::new(BufReader::new(std::fs::File::open(path).unwrap())).unwrap();
    std::iter::from_fn(|| r.next_frame().unwrap()).count()
}

#[test]
fn x264_baseline_gives_one_access_unit_and_one_decoded_picture_per_frame() {
    let dir = work_dir("encode");
    let source = test_source(&dir, "testsrc=size=320x240:rate=30", 30);
    let x = encode_x264(&source, 300, 30, &dir).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "x264: {} frames, {:.0} kbit/s achieved for {} asked; {}",
        x.frames.len(),
        x.bitrate_kbps,
        x.target_kbps,
        x.settings
    );
    assert_eq!(x.frames.len(), 30);
    assert_eq!(x.idr_frames, 1, "one IDR, then P-frames only");
    assert_eq!(y4m_frames(&x.decoded_y4m), 30);
    assert!(x.bitrate_kbps > 0.0 && x.bitrate_kbps < 2.0 * 300.0, "{} kbit/s", x.bitrate_kbps);
    // A one-frame VBV: no frame much above its share of the rate (x264 allows a little slack).
    let share = 300_000.0 / 8.0 / 30.0;
    assert!(x.frames.iter().all(|f| (f.len() as f64) < 2.0 * share), "{:?}", x.frames.iter().map(|f| f.len()).max());
}

#[test]
fn x264_baseline_reports_a_bad_source() {
    let dir = work_dir("bad-source");
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("bogus.y4m");
    std::fs::write(&bogus, b"not a y4m file").unwrap();
    let err = encode_x264(&bogus, 300, 30, &dir).unwrap_err().to_string();
    assert!(err.contains("ffmpeg"), "{err}");
}

/// 3 s of a noisy pattern at 2 Mbit/s: about 6 SRT packets a frame, encoded once.
fn stream() -> &'static X264Baseline {
    static STREAM: OnceLock<X264Baseline> = OnceLock::new();
    STREAM.get_or_init(|| {
        let dir = work_dir("carriage");
        let source = test_source(&dir, "testsrc2=size=640x360:rate=30,noise=alls=30:allf=t", 90);
        encode_x264(&source, 2000, 30, &dir).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn schedule(delay_ms: u64, loss: f64) -> Schedule {
    vec![(Duration::ZERO, LinkProfile { delay: Duration::from_millis(delay_ms), loss, ..LinkProfile::default() })]
}

async fn run(carrier: BaselineCarrier, delay_ms: u64, loss: f64) -> CarriageReport {
    let _serial = SERIAL.lock().await;
    let x = stream();
    let r = carry(&x.frames, x.fps, carrier, schedule(delay_ms, loss), 7).await.unwrap_or_else(|e| panic!("{e}"));
    let s = r.summary.expect("some frames delivered");
    println!(
        "{carrier:?} over {delay_ms} ms, loss {loss}: {}/{} frames delivered, latency ms p50 {:.1} p95 {:.1} p99 {:.1} \
         mean {:.1} max {:.1}; {} (host UDP drops {:?})",
        r.frames_delivered,
        r.frames_sent,
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.mean_ms,
        s.max_ms,
        r.settings,
        r.host_udp_rcvbuf_errors
    );
    assert_eq!(r.bad_chunks, 0);
    assert_eq!(r.frames_delivered + r.frames_lost, r.frames_sent);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_tcp_clean_link_delivers_every_frame_after_the_delay() {
    let r = run(BaselineCarrier::Tcp, 20, 0.0).await;
    assert_eq!(r.frames_lost, 0);
    let min = r.latency_ms.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let s = r.summary.unwrap();
    assert!(min >= 20.0, "a frame arrived in {min} ms over a 20 ms link");
    // The link is unlimited: only the delay and local scheduling; a loaded machine gets slack.
    assert!(s.p50_ms < 20.0 + 50.0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_srt_clean_link_delivers_every_frame_after_its_latency() {
    let r = run(BaselineCarrier::Srt, 20, 0.0).await;
    assert_eq!(r.srt_latency_ms, Some(160), "4 x RTT of 40 ms");
    assert_eq!(r.frames_lost, 0);
    let min = r.latency_ms.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let s = r.summary.unwrap();
    assert!(min >= 20.0, "a frame arrived in {min} ms over a 20 ms link");
    // SRT holds each packet until its send time plus the latency (TSBPD), then the delay.
    assert!(s.p50_ms < 160.0 + 20.0 + 50.0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_srt_recovers_most_frames_from_random_loss() {
    let r = run(BaselineCarrier::Srt, 20, 0.05).await;
    assert!(r.loss_applied);
    // 4 RTTs leave room for retransmissions: nearly every frame should complete.
    assert!(r.frames_delivered * 10 >= r.frames_sent * 9, "{}/{} delivered", r.frames_delivered, r.frames_sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_tcp_relay_applies_no_loss() {
    // The TCP relay cannot drop bytes from a stream: the loss in the profile does not apply,
    // and this is a clean 20 ms link for TCP (random loss on TCP needs the kernel's netem).
    let r = run(BaselineCarrier::Tcp, 20, 0.05).await;
    assert!(!r.loss_applied);
    assert_eq!(r.frames_lost, 0);
}
