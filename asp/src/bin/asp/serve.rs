//! `asp serve`: a server for remote clients. Listens for QUIC on a UDP port and for TLS over
//! TCP on the same TCP port; keeps its certificate and token key in a directory (made on first
//! use), prints the fingerprint and a token for the client, and serves each client its own
//! pipeline: the X11 display, a synthetic scene or a Y4M file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use asp::host::{Host, HostConfig, HostEvent, keys_from_dir};
use asp_core::SessionConfig;

use crate::args::StreamArgs;

/// `asp serve` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (UDP for QUIC and TCP for the fallback, same port).
    #[arg(long, default_value = "0.0.0.0:7420")]
    listen: SocketAddr,
    /// Directory with cert.der, key.der and token.key (created when absent).
    #[arg(long, default_value = "asp-keys")]
    keys: PathBuf,
    /// Name of the client to print a token for.
    #[arg(long, default_value = "viewer")]
    client: String,
    /// Days the printed token stays valid.
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// What to serve: `x11` (the display in $DISPLAY), `x11:DISPLAY`, `synth:SCENE`
    /// (office, video, 3d, idle) or `y4m:PATH` (looped).
    #[arg(long, default_value = "synth:office")]
    source: String,
    #[command(flatten)]
    stream: StreamArgs,
    /// Audio each client hears: `tone:HZ`, `wav:PATH` (16-bit PCM, 48 kHz, looped), or, in a
    /// build with the `pulse` feature, `pulse` (what the desktop plays: the default sink's
    /// monitor) or `pulse:SOURCE`.
    #[arg(long)]
    audio: Option<String>,
    /// Where each client's microphone goes: `wav:PATH`, `pulse` / `pulse:SINK` (with the
    /// `pulse` feature) or `discard` (the default; still
    /// measured).
    #[arg(long)]
    microphone: Option<String>,
    /// Stop after this many clients have come and gone (default: serve forever).
    #[arg(long)]
    max_clients: Option<u64>,
}

/// Runs the server.
pub(crate) async fn run(args: ServeArgs) -> Result<(), String> {
    let (identity, secret, created) = keys_from_dir(&args.keys).map_err(|e| e.to_string())?;
    if created {
        eprintln!("asp serve: new identity and token key written to {}", args.keys.display());
    }
    let config = HostConfig {
        listen: args.listen,
        source: args.source.clone(),
        size: args.stream.size,
        server: args.stream.server_config(),
        session: SessionConfig::default(),
        seed: None,
        audio: args.audio.clone(),
        microphone: args.microphone.clone(),
    };
    let host = Host::start(config, &identity, &secret).await.map_err(|e| e.to_string())?;
    let token = host.issue_token(&args.client, Duration::from_secs(args.days.saturating_mul(86_400)));
    let port = host.port();
    println!("asp serve: {} on UDP and TCP port {port}", args.source);
    println!("fingerprint {}", identity.fingerprint());
    println!("token       {token}");
    println!("connect with: asp connect HOST:{port} --fingerprint {} --token {token}", identity.fingerprint());
    let mut finished = 0u64;
    while let Some(event) = host.next_event().await {
        match event {
            HostEvent::Connected { client, name, carrier } => {
                eprintln!("asp serve: client {client} ({name:?}) connected over {}", carrier.name());
            }
            HostEvent::Refused { reason } => eprintln!("asp serve: refused a client: {reason}"),
            HostEvent::Failed { client, error } => {
                eprintln!("asp serve: client {client}: {error}");
                finished += 1;
            }
            HostEvent::Stall { alarm, .. } => crate::status::log_alarm(&alarm),
            HostEvent::Left { client, stats } => {
                eprintln!(
                    "asp serve: client {client} left: {} frames sent, {} input events, {} stalls",
                    stats.frames_encoded, stats.input_events, stats.stalls
                );
                finished += 1;
            }
            _ => {}
        }
        if args.max_clients.is_some_and(|m| finished >= m) {
            break;
        }
    }
    host.stop().await;
    Ok(())
}
