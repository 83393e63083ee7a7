//! `asp`: the ASP command-line tool.
//!
//! ```text
//! asp demo    [--seconds N] [--scene office|video|3d|idle] [--json PATH]   server + client in one process
//! asp serve   [--listen ADDR] [--keys DIR] [--source ...]                   a server for remote clients
//! asp connect HOST[:PORT] --fingerprint HEX --token TOKEN [--headless]      a client
//! asp bench   [--scenes ...] [--networks ...] [--carriers ...]              latency / bitrate / VMAF bench
//! ```

mod args;
mod bench;
mod connect;
mod demo;
mod serve;
mod status;

use clap::{Parser, Subcommand};

/// ASP: stream a desktop to a thin client, and measure it.
#[derive(Debug, Parser)]
#[command(name = "asp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A server and a client in one process on loopback, with live statistics.
    Demo(demo::DemoArgs),
    /// Serve a desktop (X11), a synthetic scene or a Y4M file to remote clients.
    Serve(serve::ServeArgs),
    /// Connect to a server: a viewer window, or headless statistics.
    Connect(connect::ConnectArgs),
    /// Latency, bitrate and VMAF through emulated networks, with baselines and plots.
    Bench(bench::BenchArgs),
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(a) => demo::run(a).await,
            Command::Serve(a) => serve::run(a).await,
            Command::Connect(a) => connect::run(a).await,
            Command::Bench(a) => bench::run(a).await,
        }
    });
    if let Err(e) = result {
        fail(&e);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("asp: {message}");
    std::process::exit(1);
}
