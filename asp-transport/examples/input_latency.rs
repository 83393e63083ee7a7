//! Input latency over real sockets, through the impairment relay at 10 Mbit/s and 20 ms RTT:
//! idle, and with a display channel saturating the link, over QUIC and over TLS/TCP; and, for
//! contrast, the same small messages on one plain TCP stream behind the video (head-of-line
//! blocking). One process, one clock: every message carries its send time.
//!
//! ```text
//! cargo run --release -p asp-transport --example input_latency [-- --seconds N]
//! ```
#![allow(clippy::disallowed_methods)] // measures wall-clock latency

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use asp_core::sim::LinkProfile;
use asp_core::{ChannelConfig, ChannelKind, Event, SessionConfig};
use asp_transport::ConnectError;
use asp_transport::identity::ServerIdentity;
use asp_transport::quic::{self, QuicServer};
use asp_transport::relay::{Relay, Schedule};
use asp_transport::tcp::{self, TcpServer};
use asp_transport::token::TokenKey;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: [u8; 32] = [11; 32];

fn path() -> Schedule {
    vec![(
        Duration::ZERO,
        LinkProfile { queue_bytes: 64 << 10, ..LinkProfile::with_rate(Duration::from_millis(10), 10_000_000) },
    )]
}

fn stamp(epoch: Instant, len: usize) -> Bytes {
    let mut v = (epoch.elapsed().as_micros() as u64).to_be_bytes().to_vec();
    v.resize(len.max(8), 0);
    Bytes::from(v)
}

fn age(epoch: Instant, data: &[u8]) -> u64 {
    let sent = u64::from_be_bytes(data[..8].try_into().expect("stamped"));
    (epoch.elapsed().as_micros() as u64).saturating_sub(sent)
}

fn pct(v: &mut [u64], q: f64) -> f64 {
    v.sort_unstable();
    v.get(((v.len().max(1) - 1) as f64 * q) as usize).map_or(0.0, |x| *x as f64 / 1e3)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Carrier {
    Quic,
    Tcp,
}

/// What one ASP run measured.
struct AspRun {
    /// One-way delays of client input, µs.
    input: Vec<u64>,
    /// One-way delays of the server's interactive messages, µs.
    interactive: Vec<u64>,
    /// Display payload delivered, bits per second.
    display_bps: f64,
}

/// One ASP session through the relay.
async fn asp_run(carrier: Carrier, loaded: bool, secs: u64) -> Result<AspRun, ConnectError> {
    let identity = ServerIdentity::generate(&["localhost"]).expect("identity");
    let token = TokenKey::new(&SECRET).issue("bench", u64::MAX / 2);
    // Pacing fixed just under the link, so the display really fills it (with rate control on,
    // the controller would keep it a little under, which only makes the point easier).
    let config = SessionConfig { target_rate_bps: 9_500_000, rate_control: None, ..SessionConfig::default() };
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let (client, mut server) = match carrier {
        Carrier::Quic => {
            let server = QuicServer::bind(any, &identity, TokenKey::new(&SECRET), config.clone())
                .map_err(|e| ConnectError::Tls(e.to_string()))?;
            let relay = Relay::udp(any, server.local_addr()?, path(), path(), 1).await?;
            let accepted = tokio::spawn(async move { (server.accept().await, server) });
            let client = quic::connect(relay.local_addr(), identity.fingerprint(), &token, config).await?;
            let (accepted, server) = accepted.await.expect("accept task");
            std::mem::forget(server);
            std::mem::forget(relay);
            (client, accepted.map_err(|e| ConnectError::Tls(e.to_string()))?.0)
        }
        Carrier::Tcp => {
            let server = TcpServer::bind(any, &identity, TokenKey::new(&SECRET), config.clone())
                .await
                .map_err(|e| ConnectError::Tls(e.to_string()))?;
            let relay = Relay::tcp(any, server.local_addr()?, path(), path(), 1).await?;
            let accepted = tokio::spawn(async move { (server.accept().await, server) });
            let client = tcp::connect(relay.local_addr(), identity.fingerprint(), &token, config).await?;
            let (accepted, server) = accepted.await.expect("accept task");
            std::mem::forget(server);
            std::mem::forget(relay);
            (client, accepted.map_err(|e| ConnectError::Tls(e.to_string()))?.0)
        }
    };
    let mut client = client;
    let input = client.open_channel(ChannelConfig::for_kind(ChannelKind::Input)).await.expect("live").expect("open");
    let window = server.open_channel(ChannelConfig::for_kind(ChannelKind::Window)).await.expect("live").expect("open");
    let display =
        server.open_channel(ChannelConfig::for_kind(ChannelKind::Display)).await.expect("live").expect("open");
    let epoch = Instant::now();
    let end = epoch + Duration::from_secs(secs + 1);
    let warm = epoch + Duration::from_secs(1);
    let (mut inputs, mut interactive) = (Vec::new(), Vec::new());
    let mut display_bytes = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut frame_tick = tokio::time::interval(Duration::from_micros(16_667));
    while Instant::now() < end {
        tokio::select! {
            _ = tick.tick() => {
                let _ = client.send(input, stamp(epoch, 32), None).await;
                let _ = server.send(window, stamp(epoch, 32), None).await;
            }
            _ = frame_tick.tick(), if loaded => {
                // 25 kB at 60 fps: 12 Mbit/s offered to a 10 Mbit/s link.
                let _ = server.send(display, stamp(epoch, 25_000), Some(Duration::from_millis(100))).await;
            }
            e = server.next_event() => if let Some(Event::Message { channel, data, .. }) = e {
                if channel == input && Instant::now() > warm { inputs.push(age(epoch, &data)); }
            },
            e = client.next_event() => if let Some(Event::Message { channel, data, .. }) = e {
                if channel == window && Instant::now() > warm { interactive.push(age(epoch, &data)); }
                if channel == display && Instant::now() > warm { display_bytes += data.len() as u64; }
            },
        }
    }
    Ok(AspRun { input: inputs, interactive, display_bps: display_bytes as f64 * 8.0 / secs as f64 })
}

/// Small messages behind video on one plain TCP stream through the same relay.
async fn plain_tcp_run(loaded: bool, secs: u64) -> std::io::Result<Vec<u64>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay = Relay::tcp("127.0.0.1:0".parse().expect("addr"), listener.local_addr()?, path(), path(), 3).await?;
    let epoch = Instant::now();
    let writer = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        let end = epoch + Duration::from_secs(secs + 1);
        let mut next_small = Instant::now();
        let video = vec![0u8; 25_000];
        while Instant::now() < end {
            if Instant::now() >= next_small {
                s.write_all(&[1]).await?;
                s.write_all(&stamp(epoch, 32)).await?;
                next_small += Duration::from_millis(5);
            } else if loaded {
                s.write_all(&[2]).await?;
                s.write_all(&(video.len() as u32).to_be_bytes()).await?;
                s.write_all(&video).await?;
            } else {
                tokio::time::sleep_until(next_small.into()).await;
            }
        }
        Ok::<_, std::io::Error>(())
    });
    let mut c = tokio::net::TcpStream::connect(relay.local_addr()).await?;
    let warm = epoch + Duration::from_secs(1);
    let mut delays = Vec::new();
    let mut small = [0u8; 32];
    let mut video = vec![0u8; 25_000];
    loop {
        let mut kind = [0u8; 1];
        if c.read_exact(&mut kind).await.is_err() {
            break;
        }
        if kind[0] == 1 {
            c.read_exact(&mut small).await?;
            if Instant::now() > warm {
                delays.push(age(epoch, &small));
            }
        } else {
            let mut len = [0u8; 4];
            c.read_exact(&mut len).await?;
            c.read_exact(&mut video[..u32::from_be_bytes(len) as usize]).await?;
        }
    }
    let _ = writer.await;
    drop(relay);
    Ok(delays)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs = std::env::args().skip_while(|a| a != "--seconds").nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    println!("10 Mbit/s each way, 10 ms one-way delay, 64 kB queues; {secs} s per run after 1 s of warm-up");
    println!(
        "{:<34} {:>9} {:>9} {:>13} {:>13} {:>12}",
        "run", "input p50", "input p99", "interact. p50", "interact. p99", "display"
    );
    for carrier in [Carrier::Quic, Carrier::Tcp] {
        for loaded in [false, true] {
            match asp_run(carrier, loaded, secs).await {
                Ok(mut r) => println!(
                    "{:<34} {:>7.2}ms {:>7.2}ms {:>11.2}ms {:>11.2}ms {:>7.2}Mbit/s",
                    format!("ASP over {carrier:?}, {}", if loaded { "display saturating" } else { "idle" }),
                    pct(&mut r.input, 0.5),
                    pct(&mut r.input, 0.99),
                    pct(&mut r.interactive, 0.5),
                    pct(&mut r.interactive, 0.99),
                    r.display_bps / 1e6
                ),
                Err(e) => println!("ASP over {carrier:?}: {e}"),
            }
        }
    }
    for loaded in [false, true] {
        match plain_tcp_run(loaded, secs).await {
            Ok(mut d) => println!(
                "{:<34} {:>9} {:>9} {:>11.2}ms {:>11.2}ms",
                format!("plain TCP stream, {}", if loaded { "behind video" } else { "idle" }),
                "-",
                "-",
                pct(&mut d, 0.5),
                pct(&mut d, 0.99)
            ),
            Err(e) => println!("plain TCP: {e}"),
        }
    }
}
