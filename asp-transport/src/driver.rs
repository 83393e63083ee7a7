//! Runs an asp-core [`Session`] on tokio: datagrams in from a reader task, datagrams out to a
//! writer, timers from the session's wake-ups, and commands from the application's
//! [`Connection`] handle. Process input, drain output, sleep: nothing else happens here.
// The driver is where wall-clock time enters the engine.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use asp_core::wire::control::ControlMessage;
use asp_core::{
    ChannelConfig, ChannelId, ChannelStats, CloseCode, Event, Input, OpenError, Output, SendError, Session,
    SessionStats, Timestamp,
};
use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::framing::write_frame;

/// Where a driver's datagrams go: a carrier's sending side.
pub(crate) trait DatagramOut: Send + 'static {
    /// Sends one datagram.
    fn send(&mut self, datagram: Bytes) -> impl Future<Output = std::io::Result<()>> + Send;
    /// Pushes out what was sent.
    fn flush(&mut self) -> impl Future<Output = std::io::Result<()>> + Send;
    /// Ends the carrier.
    fn shutdown(&mut self) -> impl Future<Output = ()> + Send;
}

/// A byte stream with length-framed datagrams (TLS over TCP).
pub(crate) struct StreamOut<W>(pub(crate) W);

impl<W: AsyncWrite + Unpin + Send + 'static> DatagramOut for StreamOut<W> {
    async fn send(&mut self, datagram: Bytes) -> std::io::Result<()> {
        write_frame(&mut self.0, &datagram).await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().await
    }

    async fn shutdown(&mut self) {
        let _ = self.0.shutdown().await;
    }
}

/// Longest the driver sleeps without checking in: timeouts far in the future are capped.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

enum Command {
    Open(ChannelConfig, oneshot::Sender<Result<ChannelId, OpenError>>),
    Send { channel: ChannelId, data: Bytes, deadline: Option<Duration>, reply: oneshot::Sender<Result<u64, SendError>> },
    Control(ControlMessage),
    Stats(oneshot::Sender<(SessionStats, Vec<(ChannelId, ChannelStats)>)>),
    Close(CloseCode, String),
}

/// The application's end of a running session. Dropping it closes the session.
#[derive(Debug)]
pub struct Connection {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<Event>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

/// The session has ended; the command could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session has ended")]
pub struct Ended;

impl Connection {
    /// The next event: messages, drops, control messages, rate changes, and finally `Closed`.
    /// `None` once the session is over and every event was taken.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Opens a channel.
    ///
    /// # Errors
    /// [`Ended`], or the engine's refusal inside.
    pub async fn open_channel(&self, config: ChannelConfig) -> Result<Result<ChannelId, OpenError>, Ended> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Open(config, tx)).map_err(|_| Ended)?;
        rx.await.map_err(|_| Ended)
    }

    /// Queues a message (a media frame when `deadline`, from now, is given).
    ///
    /// # Errors
    /// [`Ended`], or the engine's refusal inside (a full reliable queue is backpressure).
    pub async fn send(
        &self,
        channel: ChannelId,
        data: Bytes,
        deadline: Option<Duration>,
    ) -> Result<Result<u64, SendError>, Ended> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Send { channel, data, deadline, reply: tx }).map_err(|_| Ended)?;
        rx.await.map_err(|_| Ended)
    }

    /// Sends a control message to the peer.
    ///
    /// # Errors
    /// [`Ended`].
    pub fn send_control(&self, message: ControlMessage) -> Result<(), Ended> {
        self.commands.send(Command::Control(message)).map_err(|_| Ended)
    }

    /// Session statistics and every channel's.
    ///
    /// # Errors
    /// [`Ended`].
    pub async fn stats(&self) -> Result<(SessionStats, Vec<(ChannelId, ChannelStats)>), Ended> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Stats(tx)).map_err(|_| Ended)?;
        rx.await.map_err(|_| Ended)
    }

    /// Closes the session; `Closed` follows among the events.
    pub fn close(&self, code: CloseCode, reason: &str) {
        let _ = self.commands.send(Command::Close(code, reason.to_owned()));
    }

    /// Closes the session and waits, at most `timeout`, until it has ended, so that the CLOSE
    /// reaches the peer before the application goes on; the events still coming are dropped.
    pub async fn close_and_wait(&mut self, code: CloseCode, reason: &str, timeout: Duration) {
        self.close(code, reason);
        let _ = tokio::time::timeout(timeout, async { while self.next_event().await.is_some() {} }).await;
    }
}

/// Starts the driver task for `session` over a carrier: `frames` in, `writer` out.
pub(crate) fn spawn<W: DatagramOut>(
    session: Session,
    epoch: Instant,
    frames: mpsc::Receiver<Bytes>,
    writer: W,
) -> Connection {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (evt_tx, evt_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(session, epoch, frames, writer, cmd_rx, evt_tx));
    Connection { commands: cmd_tx, events: evt_rx }
}

fn timestamp(epoch: Instant) -> Timestamp {
    Timestamp::from_micros(u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX))
}

async fn run<W: DatagramOut>(
    mut session: Session,
    epoch: Instant,
    mut frames: mpsc::Receiver<Bytes>,
    mut writer: W,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut carrier_open = true;
    let mut app_open = true;
    loop {
        let now = timestamp(epoch);
        let wake = loop {
            match session.poll_output(now) {
                Output::Transmit(d) => {
                    if carrier_open && writer.send(d).await.is_err() {
                        carrier_open = false;
                    }
                }
                Output::Event(e) => {
                    let _ = events.send(e);
                }
                Output::Timeout(t) => break t,
            }
        };
        if carrier_open && writer.flush().await.is_err() {
            carrier_open = false;
        }
        if session.is_closed() {
            break;
        }
        let sleep = Duration::from_micros(wake.as_micros().saturating_sub(timestamp(epoch).as_micros())).min(MAX_SLEEP);
        tokio::select! {
            frame = frames.recv(), if carrier_open => match frame {
                Some(d) => session.handle_input(timestamp(epoch), Input::Datagram(d)),
                // The stream ended: nothing more can arrive, so end the session now rather
                // than at its idle timeout.
                None => {
                    carrier_open = false;
                    session.close(timestamp(epoch), CloseCode::INTERNAL, "carrier closed");
                }
            },
            () = tokio::time::sleep(sleep) => session.handle_input(timestamp(epoch), Input::Timeout),
            command = commands.recv(), if app_open => match command {
                Some(c) => apply(&mut session, timestamp(epoch), c),
                None => {
                    app_open = false;
                    session.close(timestamp(epoch), CloseCode::USER, "application went away");
                }
            },
        }
    }
    writer.shutdown().await;
}

fn apply(session: &mut Session, now: Timestamp, command: Command) {
    match command {
        Command::Open(config, reply) => {
            let _ = reply.send(session.open_channel(config));
        }
        Command::Send { channel, data, deadline, reply } => {
            let result = match deadline {
                Some(d) => session.send_frame(now, channel, data, now + d),
                None => session.send(now, channel, data),
            };
            let _ = reply.send(result);
        }
        Command::Control(message) => session.send_control(message),
        Command::Stats(reply) => {
            let channels =
                session.channels().filter_map(|(id, _)| session.channel_stats(id).map(|s| (id, s))).collect();
            let _ = reply.send((session.stats(), channels));
        }
        Command::Close(code, reason) => session.close(now, code, &reason),
    }
}
