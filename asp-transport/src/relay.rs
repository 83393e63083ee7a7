//! A userspace impairment relay for real sockets, since this kernel has no netem: it sits
//! between a client and a server and puts each direction through an
//! [`asp_core::sim::Link`] driven by the wall clock, with the same [`LinkProfile`] the
//! simulator uses (delay, jitter, random and burst loss, duplication, reordering, a rate with
//! a finite queue), and a schedule of profile changes over time.
//!
//! UDP (QUIC) is relayed datagram by datagram. TCP is relayed in chunks of at most one
//! segment: delay, jitter and the rate apply, a full queue holds the sender back (the relay
//! stops reading, as a bottleneck's backpressure reaches a TCP sender), and loss does not
//! apply, since dropping bytes out of a stream would corrupt it; random loss on TCP needs the
//! kernel (nft in a network namespace).
#![allow(clippy::disallowed_methods)] // the relay runs on the wall clock

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use asp_core::Timestamp;
use asp_core::sim::{Link, LinkProfile};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// Profile changes: from each offset on, this profile (the first entry applies from the start).
pub type Schedule = Vec<(Duration, LinkProfile)>;

/// Largest chunk a TCP relay moves at once.
const TCP_CHUNK: usize = 1448;

fn now_ts(epoch: Instant) -> Timestamp {
    Timestamp::from_micros(u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX))
}

fn profile_at(schedule: &Schedule, elapsed: Duration) -> Option<&LinkProfile> {
    schedule.iter().rev().find(|(at, _)| *at <= elapsed).map(|(_, p)| p)
}

/// One direction of a relay: a link on the wall clock, following its schedule.
struct Direction {
    link: Link<Bytes>,
    schedule: Schedule,
    applied: usize,
    epoch: Instant,
}

impl Direction {
    fn new(schedule: Schedule, seed: u64, epoch: Instant) -> Self {
        let first = profile_at(&schedule, Duration::ZERO).cloned().unwrap_or_default();
        Direction { link: Link::new(first, seed), schedule, applied: 1, epoch }
    }

    fn update(&mut self) {
        let elapsed = self.epoch.elapsed();
        let due = self.schedule.iter().filter(|(at, _)| *at <= elapsed).count();
        if due > self.applied {
            if let Some(p) = profile_at(&self.schedule, elapsed) {
                self.link.set_profile(p.clone());
            }
            self.applied = due;
        }
    }

    /// Time until the next datagram is due, if one is in flight.
    fn next_due(&self) -> Option<Duration> {
        let at = self.link.next_arrival()?;
        Some(Duration::from_micros(at.as_micros().saturating_sub(now_ts(self.epoch).as_micros())))
    }
}

/// A running relay; dropping it stops it.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// Relays UDP datagrams to `upstream`: the first sender to [`Relay::local_addr`] is the
    /// client (one per relay), and answers go back to it. `up` applies client to server,
    /// `down` server to client.
    ///
    /// # Errors
    /// When the sockets cannot be bound.
    pub async fn udp(
        listen: SocketAddr,
        upstream: SocketAddr,
        up: Schedule,
        down: Schedule,
        seed: u64,
    ) -> std::io::Result<Self> {
        let front = UdpSocket::bind(listen).await?;
        let addr = front.local_addr()?;
        let task = tokio::spawn(run_udp(front, upstream, up, down, seed));
        Ok(Relay { addr, task })
    }

    /// Relays every TCP connection to [`Relay::local_addr`] to `upstream`; `up` applies client
    /// to server, `down` server to client (loss and duplication in the profiles are ignored:
    /// see the module documentation).
    ///
    /// # Errors
    /// When the listener cannot be bound.
    pub async fn tcp(
        listen: SocketAddr,
        upstream: SocketAddr,
        up: Schedule,
        down: Schedule,
        seed: u64,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(run_tcp(listener, upstream, up, down, seed));
        Ok(Relay { addr, task })
    }

    /// Where clients send or connect.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

async fn run_udp(front: UdpSocket, upstream: SocketAddr, up: Schedule, down: Schedule, seed: u64) {
    // One client per relay is what the tests and benches need; the first sender is the client.
    let epoch = Instant::now();
    let back = match UdpSocket::bind(if upstream.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).await {
        Ok(s) => s,
        Err(_) => return,
    };
    let mut up = Direction::new(up, seed, epoch);
    let mut down = Direction::new(down, seed.wrapping_add(1), epoch);
    let mut client: Option<SocketAddr> = None;
    let (mut a, mut b) = (vec![0u8; 65_536], vec![0u8; 65_536]);
    loop {
        up.update();
        down.update();
        let sleep_up = up.next_due().unwrap_or(Duration::from_secs(1));
        let sleep_down = down.next_due().unwrap_or(Duration::from_secs(1));
        tokio::select! {
            r = front.recv_from(&mut a) => if let Ok((n, from)) = r {
                client = Some(from);
                up.link.send(now_ts(epoch), Bytes::copy_from_slice(&a[..n]));
            },
            r = back.recv(&mut b) => if let Ok(n) = r {
                down.link.send(now_ts(epoch), Bytes::copy_from_slice(&b[..n]));
            },
            () = tokio::time::sleep(sleep_up.min(sleep_down)) => {}
        }
        let now = now_ts(epoch);
        while let Some(d) = up.link.receive(now) {
            let _ = back.send_to(&d, upstream).await;
        }
        if let Some(c) = client {
            while let Some(d) = down.link.receive(now) {
                let _ = front.send_to(&d, c).await;
            }
        }
    }
}

async fn run_tcp(listener: TcpListener, upstream: SocketAddr, up: Schedule, down: Schedule, seed: u64) {
    let mut n = 0u64;
    while let Ok((client, _)) = listener.accept().await {
        n += 1;
        let (up, down) = (up.clone(), down.clone());
        tokio::spawn(async move {
            if let Ok(server) = TcpStream::connect(upstream).await {
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let epoch = Instant::now();
                tokio::spawn(pipe(cr, sw, up, seed.wrapping_add(2 * n), epoch));
                tokio::spawn(pipe(sr, cw, down, seed.wrapping_add(2 * n + 1), epoch));
            }
        });
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    schedule: Schedule,
    seed: u64,
    epoch: Instant,
) {
    let lossless = |p: &LinkProfile| LinkProfile { loss: 0.0, burst: None, duplicate: 0.0, reorder: 0.0, ..p.clone() };
    let schedule: Schedule = schedule.iter().map(|(at, p)| (*at, lossless(p))).collect();
    let mut dir = Direction::new(schedule, seed, epoch);
    let mut buf = vec![0u8; TCP_CHUNK];
    let mut open = true;
    loop {
        dir.update();
        let room = {
            let p = dir.link.profile();
            dir.link.queued_bytes(now_ts(epoch)) + TCP_CHUNK <= p.queue_bytes
        };
        let sleep = dir.next_due().unwrap_or(Duration::from_millis(50)).min(Duration::from_millis(50));
        tokio::select! {
            r = from.read(&mut buf), if open && room => match r {
                Ok(0) | Err(_) => open = false,
                Ok(n) => dir.link.send(now_ts(epoch), Bytes::copy_from_slice(&buf[..n])),
            },
            () = tokio::time::sleep(sleep) => {}
        }
        while let Some(chunk) = dir.link.receive(now_ts(epoch)) {
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        if !open && dir.link.next_arrival().is_none() {
            let _ = to.shutdown().await;
            return;
        }
    }
}
