//! `asp demo`: a server and a client in one process on loopback, a live status line, a
//! summary table at the end, and the report as JSON on request. The demo clicks twice a
//! second at the client so click-to-photon latency is measured too.

use std::path::PathBuf;
use std::time::Duration;

use asp::client::ClientConfig;
use asp::loopback::{Loopback, LoopbackOptions};
use asp::proto::input::InputEvent;
use asp::report::Report;
use asp::source::synth::SynthSource;

use crate::args::{CarrierArg, Scene, StreamArgs};
use crate::status::{StatusLine, summary};

/// `asp demo` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// How long to stream, seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Synthetic scene.
    #[arg(long, value_enum, default_value_t = Scene::Office)]
    scene: Scene,
    /// Carrier.
    #[arg(long, value_enum, default_value_t = CarrierArg::Quic)]
    carrier: CarrierArg,
    #[command(flatten)]
    stream: StreamArgs,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Runs the demo.
pub(crate) async fn run(args: DemoArgs) -> Result<(), String> {
    if !(args.seconds > 0.0 && args.seconds <= 86_400.0) {
        return Err("--seconds must be in (0, 86400]".into());
    }
    let (w, h) = args.stream.size;
    let (source, injector) = SynthSource::new(args.scene.kind(), w, h, 1).map_err(|e| e.to_string())?;
    let server_config = args.stream.server_config();
    let options = LoopbackOptions { carrier: args.carrier.carrier(), ..LoopbackOptions::default() };
    eprintln!(
        "asp demo: {} scene, {w}x{h} at {} fps, {:?} over {:?} on loopback, {} s",
        args.scene.name(),
        args.stream.fps,
        args.stream.codec,
        args.carrier,
        args.seconds
    );
    let mut pair = Loopback::start(
        Box::new(source),
        Some(Box::new(injector)),
        Box::new(|_: &asp::sink::DecodedFrame| {}),
        server_config,
        ClientConfig::default(),
        options,
    )
    .await
    .map_err(|e| e.to_string())?;
    let clock = asp::clock::Clock::new();
    let mut status = StatusLine::default();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut ticks = 0u64;
    let end_us = (args.seconds * 1e6) as u64;
    while clock.now_us() < end_us {
        tick.tick().await;
        ticks += 1;
        if ticks % 2 == 0 {
            let _ = pair.client.send_input(InputEvent::Button { button: 1, down: true });
            let _ = pair.client.send_input(InputEvent::Button { button: 1, down: false });
        }
        status.print(clock.now_us() as f64 / 1e6, &pair.client.stats());
        while let Some(alarm) = pair.server.try_alarm() {
            crate::status::log_alarm(&alarm);
        }
        if pair.server.is_finished() || pair.client.is_finished() {
            break;
        }
    }
    status.finish();
    let seconds = clock.now_us() as f64 / 1e6;
    while let Some(alarm) = pair.server.try_alarm() {
        crate::status::log_alarm(&alarm);
    }
    let (server, client) = pair.stop().await;
    let mut report = Report::from_stats(&server, &client, seconds);
    report.scene = args.scene.name().into();
    report.carrier = format!("{:?}", args.carrier).to_lowercase();
    report.network = "loopback".into();
    report.resolution = format!("{w}x{h}");
    summary(&report);
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(())
}
