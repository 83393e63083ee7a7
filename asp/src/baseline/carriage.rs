//! Baselines (b) and (c): an encoded stream carried by SRT or by one plain TCP stream through
//! the same emulated link as ASP, frame k sent k/fps after the start, and timed until it is
//! complete at the receiver.
//!
//! The carrier comes up during a [`SETUP_WINDOW`] in which the relay applies the schedule's
//! first profile without its loss, duplication and reordering (an SRT handshake under heavy
//! loss can take seconds); the schedule proper starts when the window ends, and so does frame
//! 0, so that the schedule's offsets line up with the frames' send times.
//!
//! SRT: the sender writes chunks as UDP datagrams to a local `srt-live-transmit
//! udp://127.0.0.1:A srt://RELAY?latency=L` (caller); the SRT flow crosses a
//! [`Relay::udp`] with the schedule in both directions (so ACKs and NAKs see the link too) to
//! `srt-live-transmit srt://127.0.0.1:B?mode=listener&latency=L udp://127.0.0.1:C`, whose
//! datagrams the collector reads. Live mode with its defaults otherwise: too-late packet drop
//! on, so a frame whose chunks come later than the latency is never completed. The latency is
//! set explicitly to [`srt_latency`]: 4 × the schedule's largest RTT (the SRT maintainers'
//! recommendation for wired networks is 3 to 4 × RTT), at least [`SRT_MIN_LATENCY`].
//!
//! TCP: the sender connects through a [`Relay::tcp`] to a local listener, with TCP_NODELAY,
//! and writes the chunks. The relay applies delay, jitter and the rate but not loss (bytes
//! cannot be dropped out of a stream; see [`asp_transport::relay`]), so TCP here never sees
//! retransmissions: its figures under a lossy schedule are those of a clean link.
//!
//! `carry` is async: call it inside a tokio runtime with time and I/O enabled (the relay runs
//! as tasks on it). The `srt-live-transmit` processes are killed when it returns, and they
//! also carry their own exit timer (`-t`) in case this process dies first.
#![allow(clippy::disallowed_methods)] // frame latency on real sockets is wall-clock time

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use asp_core::sim::LinkProfile;
use asp_transport::relay::{Relay, Schedule};
use bytes::Bytes;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::time::timeout_at;

use super::BaselineError;
use super::chunk::{self, CHUNK_PAYLOAD, Collector, HEADER, Header, MAX_CHUNK, Received};
use super::process::Tool;

/// How long the carriers get to come up (SRT handshake through the link, TCP connect).
pub const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after the last frame's send time the receiver waits (on top of the SRT latency).
pub const DRAIN: Duration = Duration::from_secs(2);
/// SRT latency as a multiple of the RTT.
pub const SRT_RTT_MULTIPLIER: u32 = 4;
/// The least SRT latency chosen, for a link with (almost) no delay: the two
/// `srt-live-transmit` processes and the relay add scheduling jitter of their own.
pub const SRT_MIN_LATENCY: Duration = Duration::from_millis(20);
/// How long the carrier gets to come up over a loss-free link before the schedule and the
/// frames start (see the module documentation).
pub const SETUP_WINDOW: Duration = Duration::from_secs(1);
/// How often a probe is sent while SRT comes up.
const PROBE_EVERY: Duration = Duration::from_millis(20);

/// How the encoded frames travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BaselineCarrier {
    /// SRT live mode (`srt-live-transmit`), over the UDP relay.
    Srt,
    /// One TCP stream with TCP_NODELAY, over the TCP relay (which applies no loss).
    Tcp,
}

/// Latency figures over the delivered frames, milliseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Frames the figures are over.
    pub frames: usize,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl LatencySummary {
    /// The figures over `samples_ms`; `None` when it is empty.
    #[must_use]
    pub fn from_ms(samples_ms: &[f64]) -> Option<LatencySummary> {
        let mut s = samples_ms.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let rank = |p: f64| s[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1];
        (n > 0).then(|| LatencySummary {
            frames: n,
            mean_ms: s.iter().sum::<f64>() / n as f64,
            p50_ms: rank(50.0),
            p95_ms: rank(95.0),
            p99_ms: rank(99.0),
            max_ms: s[n - 1],
        })
    }
}

/// What [`carry`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct CarriageReport {
    /// The carrier.
    pub carrier: BaselineCarrier,
    /// The carrier's settings, in words.
    pub settings: String,
    /// The SRT latency set (`?latency=`), milliseconds; `None` for TCP.
    pub srt_latency_ms: Option<u32>,
    /// Whether the relay applied the schedule's loss to this carrier (not to TCP).
    pub loss_applied: bool,
    /// Frames sent.
    pub frames_sent: usize,
    /// Frames complete at the receiver before the deadline.
    pub frames_delivered: usize,
    /// Frames never complete within [`CarriageReport::drain_ms`] after the last send time.
    pub frames_lost: usize,
    /// Per frame, complete-at-receiver minus scheduled send time, milliseconds; `None` if lost.
    pub latency_ms: Vec<Option<f64>>,
    /// Figures over the delivered frames; `None` if none was.
    pub summary: Option<LatencySummary>,
    /// Chunks that arrived but were not a chunk of the frames sent (corrupt or malformed).
    pub bad_chunks: u64,
    /// How long the receiver waited after the last frame's send time, milliseconds.
    pub drain_ms: u64,
    /// How late frame 0 went out after the schedule's offset 0, milliseconds: 0 unless the
    /// carrier took longer than [`SETUP_WINDOW`] to come up.
    pub schedule_lag_ms: f64,
    /// Growth of the host's UDP receive-buffer drops (`RcvbufErrors`, /proc/net/snmp, all
    /// sockets) during an SRT run: non-zero means some loss was local, not the link's.
    pub host_udp_rcvbuf_errors: Option<u64>,
}

/// The SRT latency [`carry`] sets for `schedule`: [`SRT_RTT_MULTIPLIER`] × the largest RTT
/// of its profiles (twice delay plus jitter), at least [`SRT_MIN_LATENCY`], whole milliseconds.
#[must_use]
pub fn srt_latency(schedule: &Schedule) -> Duration {
    // An empty schedule is the relay's default profile.
    let default = [(Duration::ZERO, LinkProfile::default())];
    let profiles = if schedule.is_empty() { &default[..] } else { &schedule[..] };
    let rtt = profiles.iter().map(|(_, p)| 2 * (p.delay + p.jitter)).max().unwrap_or_default();
    let latency = (rtt * SRT_RTT_MULTIPLIER).max(SRT_MIN_LATENCY);
    Duration::from_millis(u64::try_from(latency.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
}

/// Sends `frames` at `fps` over `carrier` through a relay applying `schedule` (both
/// directions; `seed` seeds its randomness), and times each frame until complete at the
/// receiver. Frame k is sent k/fps after the carrier is up, cut into chunks of at most 1316
/// bytes (a 12-byte header, then the frame's bytes).
///
/// # Errors
/// [`BaselineError::InvalidArgument`] for a zero frame rate, no frames or an empty frame;
/// [`BaselineError::ToolMissing`] without `srt-live-transmit` (Debian package srt-tools);
/// [`BaselineError::Timeout`] when the carrier does not come up within [`READY_TIMEOUT`];
/// [`BaselineError::ToolFailed`] when an `srt-live-transmit` exits early;
/// [`BaselineError::Io`] when a local socket fails.
pub async fn carry(
    frames: &[Bytes],
    fps: u32,
    carrier: BaselineCarrier,
    schedule: Schedule,
    seed: u64,
) -> Result<CarriageReport, BaselineError> {
    if fps == 0 || frames.is_empty() || frames.iter().any(Bytes::is_empty) || u32::try_from(frames.len()).is_err() {
        return Err(BaselineError::InvalidArgument(format!(
            "need a positive frame rate ({fps}) and 1..2^32 non-empty frames ({})",
            frames.len()
        )));
    }
    let mut collector = Collector::new(frames);
    let mut done_at = vec![None; frames.len()];
    let last_send = Duration::from_secs(frames.len() as u64 - 1) / fps;
    let (settings, srt_latency_ms, drain, (start, schedule_zero), rcvbuf_errors) = match carrier {
        BaselineCarrier::Srt => {
            let latency = srt_latency(&schedule);
            let latency_ms = u32::try_from(latency.as_millis()).unwrap_or(u32::MAX);
            let drain = DRAIN + latency;
            let exit_after = READY_TIMEOUT + last_send + drain + Duration::from_secs(10);
            let mut srt = SrtPath::start(latency_ms, exit_after, schedule, seed).await?;
            let before = udp_rcvbuf_errors();
            let start = srt.schedule_zero.max(Instant::now());
            let deadline = start + last_send + drain;
            let (sent, received) = tokio::join!(
                send_frames(frames, fps, start, Sink::Udp(&srt.input, srt.input_addr)),
                receive_datagrams(&srt.output, &mut collector, &mut done_at, deadline),
            );
            sent?;
            received?;
            srt.check_alive()?;
            let errors = udp_rcvbuf_errors().zip(before).map(|(a, b)| a.saturating_sub(b));
            let settings = format!(
                "srt-live-transmit, live mode, latency {latency_ms} ms ({SRT_RTT_MULTIPLIER} x the largest RTT, at \
                 least {} ms), too-late packet drop on, chunks of at most {MAX_CHUNK} bytes",
                SRT_MIN_LATENCY.as_millis()
            );
            (settings, Some(latency_ms), drain, (start, srt.schedule_zero), errors)
        }
        BaselineCarrier::Tcp => {
            let tcp = TcpPath::start(schedule, seed).await?;
            let start = tcp.schedule_zero.max(Instant::now());
            let (mut rx, mut tx) = (tcp.rx, tcp.tx);
            let deadline = start + last_send + DRAIN;
            let (sent, received) = tokio::join!(
                send_frames(frames, fps, start, Sink::Tcp(&mut tx)),
                receive_stream(&mut rx, &mut collector, &mut done_at, deadline),
            );
            sent?;
            received?;
            let settings = format!(
                "one TCP stream, TCP_NODELAY, chunks of at most {MAX_CHUNK} bytes; the relay applies delay, jitter and \
                 rate but not loss"
            );
            (settings, None, DRAIN, (start, tcp.schedule_zero), None)
        }
    };
    let frame_interval = |k: usize| Duration::from_secs(k as u64) / fps;
    let latency_ms: Vec<Option<f64>> = done_at
        .iter()
        .enumerate()
        .map(|(k, at)| {
            at.map(|at: Instant| at.saturating_duration_since(start + frame_interval(k)).as_secs_f64() * 1e3)
        })
        .collect();
    let delivered: Vec<f64> = latency_ms.iter().flatten().copied().collect();
    Ok(CarriageReport {
        carrier,
        settings,
        srt_latency_ms,
        loss_applied: carrier == BaselineCarrier::Srt,
        frames_sent: frames.len(),
        frames_delivered: delivered.len(),
        frames_lost: frames.len() - delivered.len(),
        summary: LatencySummary::from_ms(&delivered),
        latency_ms,
        bad_chunks: collector.bad,
        drain_ms: u64::try_from(drain.as_millis()).unwrap_or(u64::MAX),
        schedule_lag_ms: start.saturating_duration_since(schedule_zero).as_secs_f64() * 1e3,
        host_udp_rcvbuf_errors: rcvbuf_errors,
    })
}

/// Where the sender writes chunks.
enum Sink<'a> {
    Udp(&'a UdpSocket, SocketAddr),
    Tcp(&'a mut TcpStream),
}

async fn send_frames(frames: &[Bytes], fps: u32, start: Instant, mut sink: Sink<'_>) -> Result<(), BaselineError> {
    for (k, frame) in frames.iter().enumerate() {
        let due = start + Duration::from_secs(k as u64) / fps;
        tokio::time::sleep_until(due.into()).await;
        let index = u32::try_from(k).unwrap_or(u32::MAX);
        for c in chunk::chunks(index, frame) {
            match &mut sink {
                Sink::Udp(sock, to) => {
                    sock.send_to(&c, *to).await.map_err(BaselineError::io("sending a chunk to srt-live-transmit"))?;
                }
                Sink::Tcp(stream) => {
                    stream.write_all(&c).await.map_err(BaselineError::io("writing a chunk to the TCP relay"))?;
                }
            }
        }
    }
    Ok(())
}

async fn receive_datagrams(
    sock: &UdpSocket,
    collector: &mut Collector<'_>,
    done_at: &mut [Option<Instant>],
    deadline: Instant,
) -> Result<(), BaselineError> {
    let mut buf = vec![0u8; 65_536];
    while !collector.done() {
        let Ok(r) = timeout_at(deadline.into(), sock.recv(&mut buf)).await else { break };
        let n = r.map_err(BaselineError::io("receiving from srt-live-transmit"))?;
        if let Received::Completed(k) = collector.on_chunk(&buf[..n]) {
            done_at[k] = Some(Instant::now());
        }
    }
    Ok(())
}

async fn receive_stream(
    stream: &mut TcpStream,
    collector: &mut Collector<'_>,
    done_at: &mut [Option<Instant>],
    deadline: Instant,
) -> Result<(), BaselineError> {
    let mut buf = vec![0u8; MAX_CHUNK];
    while !collector.done() {
        let Ok(r) = timeout_at(deadline.into(), stream.read_exact(&mut buf[..HEADER])).await else { break };
        match r {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(BaselineError::Io { what: "reading the TCP stream".into(), source: e }),
        }
        // A header the chunking rule cannot size leaves no way to find the next chunk.
        let Some(len) = Header::parse(&buf[..HEADER]).and_then(|h| h.payload_len()).filter(|&l| l <= CHUNK_PAYLOAD)
        else {
            collector.bad += 1;
            break;
        };
        let Ok(r) = timeout_at(deadline.into(), stream.read_exact(&mut buf[HEADER..HEADER + len])).await else { break };
        match r {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(BaselineError::Io { what: "reading the TCP stream".into(), source: e }),
        }
        if let Received::Completed(k) = collector.on_chunk(&buf[..HEADER + len]) {
            done_at[k] = Some(Instant::now());
        }
    }
    Ok(())
}

/// `schedule` shifted by [`SETUP_WINDOW`], after its first profile without loss, duplication
/// and reordering (an empty schedule is the relay's default profile).
fn with_setup_window(schedule: &Schedule) -> Schedule {
    // As the relay does: before a schedule's first offset, the default profile.
    let mut schedule = schedule.to_vec();
    if !schedule.iter().any(|(at, _)| at.is_zero()) {
        schedule.insert(0, (Duration::ZERO, LinkProfile::default()));
    }
    let first = schedule.iter().rev().find(|(at, _)| at.is_zero()).map(|(_, p)| p.clone()).unwrap_or_default();
    let clean = LinkProfile { loss: 0.0, burst: None, duplicate: 0.0, reorder: 0.0, ..first };
    std::iter::once((Duration::ZERO, clean))
        .chain(schedule.iter().map(|(at, p)| (*at + SETUP_WINDOW, p.clone())))
        .collect()
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A UDP port that was free a moment ago, for a child process to bind.
fn free_udp_port() -> Result<u16, BaselineError> {
    let s = std::net::UdpSocket::bind(localhost(0)).map_err(BaselineError::io("picking a free UDP port"))?;
    Ok(s.local_addr().map_err(BaselineError::io("picking a free UDP port"))?.port())
}

/// The host's UDP `RcvbufErrors` counter.
fn udp_rcvbuf_errors() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (udp.next()?, udp.next()?);
    let i = names.split_whitespace().position(|n| n == "RcvbufErrors")?;
    values.split_whitespace().nth(i)?.parse().ok()
}

/// The SRT path, up and carrying: sender socket -> srt-live-transmit (caller) -> relay ->
/// srt-live-transmit (listener) -> collector socket. Dropping it kills both processes and the
/// relay.
struct SrtPath {
    input: UdpSocket,
    input_addr: SocketAddr,
    output: UdpSocket,
    _relay: Relay,
    /// When the relay's schedule reaches its offset 0 (the end of the setup window).
    schedule_zero: Instant,
    sender: Tool,
    receiver: Tool,
}

impl SrtPath {
    async fn start(
        latency_ms: u32,
        exit_after: Duration,
        schedule: Schedule,
        seed: u64,
    ) -> Result<SrtPath, BaselineError> {
        let output = UdpSocket::bind(localhost(0)).await.map_err(BaselineError::io("binding the collector"))?;
        let out_port = output.local_addr().map_err(BaselineError::io("binding the collector"))?.port();
        let exit = format!("-t:{}", exit_after.as_secs());
        let listen_port = free_udp_port()?;
        let receiver = Tool::spawn(
            "srt-live-transmit",
            [
                exit.clone(),
                format!("srt://127.0.0.1:{listen_port}?mode=listener&latency={latency_ms}"),
                format!("udp://127.0.0.1:{out_port}"),
            ],
        )?;
        let schedule_zero = Instant::now() + SETUP_WINDOW;
        let schedule = with_setup_window(&schedule);
        let relay = Relay::udp(localhost(0), localhost(listen_port), schedule.clone(), schedule, seed)
            .await
            .map_err(BaselineError::io("starting the UDP relay"))?;
        let in_port = free_udp_port()?;
        let sender = Tool::spawn(
            "srt-live-transmit",
            [exit, format!("udp://127.0.0.1:{in_port}"), format!("srt://{}?latency={latency_ms}", relay.local_addr())],
        )?;
        let input = UdpSocket::bind(localhost(0)).await.map_err(BaselineError::io("binding the sender"))?;
        let mut path =
            SrtPath { input, input_addr: localhost(in_port), output, _relay: relay, schedule_zero, sender, receiver };
        path.wait_ready().await?;
        Ok(path)
    }

    /// Sends probes until one comes out at the collector: both processes are up and the SRT
    /// connection is established through the relay.
    async fn wait_ready(&mut self) -> Result<(), BaselineError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let probe = chunk::probe();
        let mut buf = vec![0u8; 65_536];
        loop {
            self.check_alive()?;
            if Instant::now() >= deadline {
                return Err(BaselineError::Timeout {
                    what: "SRT to carry a probe through the relay".into(),
                    after: READY_TIMEOUT,
                    stderr: format!("sender: {}; receiver: {}", self.sender.stderr(), self.receiver.stderr()),
                });
            }
            // Not yet bound or connected: the datagram is dropped, and the next one tries again.
            let _ = self.input.send_to(&probe, self.input_addr).await;
            let until = (Instant::now() + PROBE_EVERY).min(deadline);
            while let Ok(r) = timeout_at(until.into(), self.output.recv(&mut buf)).await {
                let n = r.map_err(BaselineError::io("receiving from srt-live-transmit"))?;
                if Header::parse(&buf[..n]).is_some_and(|h| h.frame == chunk::PROBE) {
                    return Ok(());
                }
            }
        }
    }

    /// An error if either process has exited.
    fn check_alive(&mut self) -> Result<(), BaselineError> {
        for tool in [&mut self.sender, &mut self.receiver] {
            if let Some(status) = tool.try_wait()? {
                return Err(BaselineError::ToolFailed {
                    program: tool.program(),
                    status: status.to_string(),
                    stderr: tool.stderr(),
                });
            }
        }
        Ok(())
    }
}

/// The TCP path, connected: the sender's stream through the relay, and the listener's end.
struct TcpPath {
    tx: TcpStream,
    rx: TcpStream,
    _relay: Relay,
    /// When the relay's schedule reaches its offset 0 (the end of the setup window).
    schedule_zero: Instant,
}

impl TcpPath {
    async fn start(schedule: Schedule, seed: u64) -> Result<TcpPath, BaselineError> {
        let listener = TcpListener::bind(localhost(0)).await.map_err(BaselineError::io("binding the TCP listener"))?;
        let upstream = listener.local_addr().map_err(BaselineError::io("binding the TCP listener"))?;
        let schedule_zero = Instant::now() + SETUP_WINDOW;
        let schedule = with_setup_window(&schedule);
        let relay = Relay::tcp(localhost(0), upstream, schedule.clone(), schedule, seed)
            .await
            .map_err(BaselineError::io("starting the TCP relay"))?;
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let timeout =
            |what: &str| BaselineError::Timeout { what: what.into(), after: READY_TIMEOUT, stderr: String::new() };
        let tx = timeout_at(deadline, TcpStream::connect(relay.local_addr()))
            .await
            .map_err(|_| timeout("a TCP connection to the relay"))?
            .map_err(BaselineError::io("connecting to the TCP relay"))?;
        tx.set_nodelay(true).map_err(BaselineError::io("setting TCP_NODELAY"))?;
        let (rx, _) = timeout_at(deadline, listener.accept())
            .await
            .map_err(|_| timeout("the relay to connect to the listener"))?
            .map_err(BaselineError::io("accepting the relayed TCP connection"))?;
        Ok(TcpPath { tx, rx, _relay: relay, schedule_zero })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        let sum = LatencySummary::from_ms(&s).unwrap();
        assert_eq!((sum.p50_ms, sum.p95_ms, sum.p99_ms, sum.max_ms), (50.0, 95.0, 99.0, 100.0));
        assert!((sum.mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(LatencySummary::from_ms(&[7.0]).unwrap().p99_ms, 7.0);
        assert!(LatencySummary::from_ms(&[]).is_none());
    }

    #[test]
    fn setup_window_is_clean_then_the_schedule_shifted() {
        let lossy = LinkProfile { delay: Duration::from_millis(30), loss: 0.2, ..LinkProfile::default() };
        let later = LinkProfile { delay: Duration::from_millis(5), ..LinkProfile::default() };
        let s = with_setup_window(&vec![(Duration::ZERO, lossy.clone()), (Duration::from_secs(2), later.clone())]);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].0, Duration::ZERO);
        assert_eq!((s[0].1.delay, s[0].1.loss), (lossy.delay, 0.0));
        assert_eq!(s[1], (SETUP_WINDOW, lossy));
        assert_eq!(s[2], (SETUP_WINDOW + Duration::from_secs(2), later.clone()));
        let empty = with_setup_window(&Vec::new());
        assert_eq!(empty[1], (SETUP_WINDOW, LinkProfile::default()));
        let late = with_setup_window(&vec![(Duration::from_secs(1), later.clone())]);
        assert_eq!(late[1..], [(SETUP_WINDOW, LinkProfile::default()), (SETUP_WINDOW + Duration::from_secs(1), later)]);
    }

    #[test]
    fn srt_latency_is_four_rtts_with_a_floor() {
        let at = |ms| LinkProfile { delay: Duration::from_millis(ms), ..LinkProfile::default() };
        assert_eq!(srt_latency(&vec![(Duration::ZERO, at(20))]), Duration::from_millis(160));
        assert_eq!(
            srt_latency(&vec![(Duration::ZERO, at(20)), (Duration::from_secs(1), at(50))]),
            Duration::from_millis(400)
        );
        assert_eq!(srt_latency(&vec![(Duration::ZERO, at(0))]), SRT_MIN_LATENCY);
        assert_eq!(srt_latency(&Vec::new()), Duration::from_millis(80));
    }
}
