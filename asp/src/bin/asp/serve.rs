//! `asp serve`: a server for remote clients. Listens for QUIC on a UDP port and for TLS over
//! TCP on the same TCP port; keeps its certificate and token key in a directory (made on first
//! use), prints the fingerprint and a token for the client, and serves each client its own
//! pipeline: the X11 display, a synthetic scene or a Y4M file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use asp::server::ServerSession;
use asp::source::synth::SynthSource;
use asp::source::y4m::Y4mSource;
use asp::source::{FrameSource, InputInjector};
use asp_core::SessionConfig;
use asp_transport::identity::ServerIdentity;
use asp_transport::quic::QuicServer;
use asp_transport::tcp::TcpServer;
use asp_transport::token::{self, TokenKey};

use crate::args::{Scene, StreamArgs};

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
    /// Stop after this many clients have come and gone (default: serve forever).
    #[arg(long)]
    max_clients: Option<u64>,
}

type Pipeline = (Box<dyn FrameSource>, Option<Box<dyn InputInjector>>);

fn open_source(spec: &str, size: (u32, u32), seed: u64) -> Result<Pipeline, String> {
    let (kind, arg) = spec.split_once(':').map_or((spec, None), |(k, a)| (k, Some(a)));
    match kind {
        "synth" => {
            let scene = <Scene as clap::ValueEnum>::from_str(arg.unwrap_or("office"), true)?;
            let (s, i) = SynthSource::new(scene.kind(), size.0, size.1, seed).map_err(|e| e.to_string())?;
            Ok((Box::new(s), Some(Box::new(i))))
        }
        "y4m" => {
            let path = arg.ok_or("y4m:PATH needs a path")?;
            Ok((Box::new(Y4mSource::open(Path::new(path), true).map_err(|e| e.to_string())?), None))
        }
        #[cfg(all(target_os = "linux", feature = "x11"))]
        "x11" => {
            let (capture, injector) = asp::x11::open(arg).map_err(|e| e.to_string())?;
            Ok((Box::new(capture), Some(Box::new(injector))))
        }
        #[cfg(not(all(target_os = "linux", feature = "x11")))]
        "x11" => Err("this build has no X11 support (feature `x11`, Linux)".into()),
        other => Err(format!("unknown source {other:?}: use x11, x11:DISPLAY, synth:SCENE or y4m:PATH")),
    }
}

/// Loads the identity and token key from `dir`, or makes and saves them.
fn load_or_create_keys(dir: &Path) -> Result<(ServerIdentity, [u8; 32]), String> {
    let read = |name: &str| std::fs::read(dir.join(name));
    if let (Ok(cert_der), Ok(key_der), Ok(secret)) = (read("cert.der"), read("key.der"), read("token.key")) {
        let secret: [u8; 32] =
            secret.try_into().map_err(|_| format!("{}: token.key must be 32 bytes", dir.display()))?;
        return Ok((ServerIdentity { cert_der, key_der }, secret));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let identity = ServerIdentity::generate(&["localhost"]).map_err(|e| e.to_string())?;
    let secret = token::random_secret().map_err(|_| "no randomness")?;
    for (name, bytes) in
        [("cert.der", &identity.cert_der[..]), ("key.der", &identity.key_der[..]), ("token.key", &secret[..])]
    {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("{}/{name}: {e}", dir.display()))?;
    }
    eprintln!("asp serve: new identity and token key written to {}", dir.display());
    Ok((identity, secret))
}

/// Runs the server.
pub(crate) async fn run(args: ServeArgs) -> Result<(), String> {
    // Fail early on a source that cannot open, before telling clients to connect.
    drop(open_source(&args.source, args.stream.size, 0)?);
    let (identity, secret) = load_or_create_keys(&args.keys)?;
    let expiry = token::expiry_after(Duration::from_secs(args.days.saturating_mul(86_400)));
    let token = TokenKey::new(&secret).issue(&args.client, expiry);
    let quic = QuicServer::bind(args.listen, &identity, TokenKey::new(&secret), SessionConfig::default())
        .map_err(|e| e.to_string())?;
    let tcp = TcpServer::bind(args.listen, &identity, TokenKey::new(&secret), SessionConfig::default())
        .await
        .map_err(|e| e.to_string())?;
    let port = quic.local_addr().map_err(|e| e.to_string())?.port();
    println!("asp serve: {} on UDP and TCP port {port}", args.source);
    println!("fingerprint {}", identity.fingerprint());
    println!("token       {token}");
    println!("connect with: asp connect HOST:{port} --fingerprint {} --token {token}", identity.fingerprint());
    let config = args.stream.server_config();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (mut served, mut finished) = (0u64, 0u64);
    loop {
        let accepted = tokio::select! {
            r = quic.accept() => r.map(|(c, who)| (c, who, "quic")),
            r = tcp.accept() => r.map(|(c, who)| (c, who, "tcp")),
            Some(()) = done_rx.recv() => {
                finished += 1;
                if args.max_clients.is_some_and(|m| finished >= m) {
                    return Ok(());
                }
                continue;
            }
        };
        let (connection, who, carrier) = match accepted {
            Ok(a) => a,
            Err(e) => {
                eprintln!("asp serve: refused a client: {e}");
                continue;
            }
        };
        served += 1;
        let (source, injector) = open_source(&args.source, args.stream.size, served)?;
        eprintln!("asp serve: client {who:?} connected over {carrier}");
        let session = ServerSession::start(connection, source, injector, config.clone(), asp::clock::Clock::new())
            .await
            .map_err(|e| e.to_string());
        let done = done_tx.clone();
        tokio::spawn(async move {
            match session {
                Ok(mut s) => {
                    while !s.is_finished() {
                        tokio::select! {
                            Some(alarm) = s.next_alarm() => crate::status::log_alarm(&alarm),
                            () = tokio::time::sleep(Duration::from_millis(200)) => {}
                        }
                    }
                    let stats = s.stop().await;
                    eprintln!(
                        "asp serve: client {who:?} left: {} frames sent, {} input events, {} stalls",
                        stats.frames_encoded, stats.input_events, stats.stalls
                    );
                }
                Err(e) => eprintln!("asp serve: client {who:?}: {e}"),
            }
            let _ = done.send(());
        });
    }
}
