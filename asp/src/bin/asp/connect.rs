//! `asp connect`: a client. Tries QUIC, falls back to TLS over TCP, shows the stream in a
//! window (`asp::viewer`, feature `viewer`) that sends the keyboard and mouse back, or
//! headless with a live status line, and can keep what it showed as Y4M.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use asp::client::{ClientConfig, ClientSession};
use asp::sink::y4m::Y4mSink;
use asp::sink::{DecodedFrame, FrameSink};
use asp_core::SessionConfig;
use asp_transport::identity::Fingerprint;
use asp_transport::select::{self, ServerAddrs};

use crate::status::StatusLine;

/// `asp connect` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct ConnectArgs {
    /// Server, `HOST:PORT` (port 7420 when absent).
    server: String,
    /// The server's certificate fingerprint, as `asp serve` printed it.
    #[arg(long)]
    fingerprint: String,
    /// The token `asp serve` printed.
    #[arg(long)]
    token: String,
    /// No window: print statistics only (the window needs the `viewer` feature and a display).
    #[arg(long)]
    headless: bool,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<f64>,
    /// Keep every picture shown, as Y4M.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Write the client's statistics as JSON here at the end.
    #[arg(long)]
    json: Option<PathBuf>,
}

struct Saving(Y4mSink);

impl FrameSink for Saving {
    fn show(&mut self, frame: &DecodedFrame) {
        self.0.show(frame);
    }

    fn finish(&mut self) {
        self.0.finish();
        if let Some(e) = self.0.error() {
            eprintln!("asp connect: saving failed: {e}");
        }
    }
}

/// Both sinks, one after the other: the window and the Y4M file.
#[cfg(feature = "viewer")]
struct Both(Box<dyn FrameSink>, Box<dyn FrameSink>);

#[cfg(feature = "viewer")]
impl FrameSink for Both {
    fn show(&mut self, frame: &DecodedFrame) {
        self.0.show(frame);
        self.1.show(frame);
    }

    fn finish(&mut self) {
        self.0.finish();
        self.1.finish();
    }
}

/// The window, when one is wanted. Opened before connecting, so that a missing display fails
/// fast.
#[cfg(feature = "viewer")]
type Window = Option<asp::viewer::Viewer>;
#[cfg(not(feature = "viewer"))]
type Window = Option<std::convert::Infallible>;

#[cfg(feature = "viewer")]
fn open_window(headless: bool) -> Result<Window, String> {
    if headless {
        return Ok(None);
    }
    asp::viewer::Viewer::new().map(Some).map_err(|e| format!("{e}; pass --headless to run without a window"))
}

#[cfg(not(feature = "viewer"))]
fn open_window(headless: bool) -> Result<Window, String> {
    if headless {
        Ok(None)
    } else {
        Err("this build has no window viewer (feature `viewer`); pass --headless for statistics only".into())
    }
}

/// Runs the client.
pub(crate) async fn run(args: ConnectArgs) -> Result<(), String> {
    let window = open_window(args.headless)?;
    let addr = asp::client::resolve_server(&args.server)?;
    let fingerprint = Fingerprint::parse(&args.fingerprint).ok_or("--fingerprint: expected 64 hex digits")?;
    let (connection, carrier) =
        select::connect(ServerAddrs { quic: addr, tcp: addr }, fingerprint, &args.token, SessionConfig::default())
            .await
            .map_err(|e| e.to_string())?;
    eprintln!("asp connect: connected to {addr} over {carrier:?}");
    let sink: Box<dyn FrameSink> = match &args.save {
        Some(path) => Box::new(Saving(Y4mSink::new(path, 60, false))),
        None => Box::new(|_: &DecodedFrame| {}),
    };
    #[cfg(feature = "viewer")]
    let sink: Box<dyn FrameSink> = match &window {
        Some(viewer) => Box::new(Both(Box::new(viewer.sink()), sink)),
        None => sink,
    };
    let client = ClientSession::start(connection, sink, ClientConfig::default(), asp::clock::Clock::new())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(viewer) = window {
        return show(viewer, client, &args, addr).await;
    }
    let clock = asp::clock::Clock::new();
    let mut status = StatusLine::default();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        status.print(clock.now_us() as f64 / 1e6, &client.stats());
        if client.is_finished() || args.seconds.is_some_and(|s| clock.now_us() as f64 / 1e6 >= s) {
            break;
        }
    }
    status.finish();
    let stats = client.stop().await;
    println!(
        "shown {} frames, glass-to-glass p50 {:.1} ms p95 {:.1} ms, click-to-photon p50 {:.1} ms, {} stalls",
        stats.frames_shown, stats.glass_to_glass.p50, stats.glass_to_glass.p95, stats.click_to_photon.p50, stats.stalls
    );
    write_json(&args, &stats)
}

/// Runs the window on this (the main) thread until it closes, then stops the client.
#[cfg(feature = "viewer")]
async fn show(
    viewer: asp::viewer::Viewer,
    client: ClientSession,
    args: &ConnectArgs,
    addr: SocketAddr,
) -> Result<(), String> {
    let options = asp::viewer::ViewerOptions {
        title: format!("asp {addr}"),
        run_for: args.seconds.map(|s| Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)),
    };
    // The event loop blocks this thread; the runtime's workers carry the session meanwhile.
    let shown = viewer.run(&client, &options);
    let stats = client.stop().await;
    let shown = shown.map_err(|e| e.to_string())?;
    println!(
        "shown {} frames ({} drawn in the window), glass-to-glass p50 {:.1} ms p95 {:.1} ms, click-to-photon p50 \
         {:.1} ms, {} inputs sent, {} stalls",
        stats.frames_shown,
        shown.frames_drawn,
        stats.glass_to_glass.p50,
        stats.glass_to_glass.p95,
        stats.click_to_photon.p50,
        shown.inputs_sent,
        stats.stalls
    );
    write_json(args, &stats)
}

#[cfg(not(feature = "viewer"))]
async fn show(
    viewer: std::convert::Infallible,
    _: ClientSession,
    _: &ConnectArgs,
    _: SocketAddr,
) -> Result<(), String> {
    match viewer {}
}

fn write_json(args: &ConnectArgs, stats: &asp::client::ClientStats) -> Result<(), String> {
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(stats).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
