//! The clipboard inside a session task (server's or client's): a worker thread watches the
//! local [`Clipboard`], the task carries copies both ways over the clipboard channels through a
//! [`ClipboardLink`], sending chunks as the channel takes them so that a large copy never holds
//! up the display or input.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use asp_core::{ChannelConfig, ChannelId, ChannelKind};
use asp_transport::Connection;
use tokio::sync::mpsc;

use super::link::{ClipboardLink, ClipboardStats, Inbound};
use super::{Clipboard, ClipboardContent};
use crate::bulk::{BulkChannel, Sent};

/// How often the worker looks at the local clipboard.
const POLL: Duration = Duration::from_millis(100);
/// How long to wait before retrying a full channel.
const RETRY: Duration = Duration::from_millis(10);
/// Chunks sent per turn of the session task, so that a large copy shares the task with the
/// display and input.
const CHUNKS_PER_TURN: usize = 8;

/// What the worker tells the session task.
#[derive(Debug)]
pub(crate) enum LocalEvent {
    /// A clipboard is attached: copies for it go here.
    Attached(std_mpsc::Sender<ClipboardContent>),
    /// A copy was made on this side.
    Copied(ClipboardContent),
    /// The clipboard failed and is no longer watched.
    Failed(String),
}

/// Watches `clipboard` until the session ends: local copies out, the peer's copies in.
pub(crate) fn worker(mut clipboard: Box<dyn Clipboard>, events: &mpsc::Sender<LocalEvent>) {
    let (tx, incoming) = std_mpsc::channel();
    if events.blocking_send(LocalEvent::Attached(tx)).is_err() {
        return;
    }
    loop {
        match clipboard.poll() {
            Ok(Some(content)) => {
                if events.blocking_send(LocalEvent::Copied(content)).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                let _ = events.blocking_send(LocalEvent::Failed(e.to_string()));
                return;
            }
        }
        match incoming.recv_timeout(POLL) {
            Ok(content) => {
                if let Err(e) = clipboard.set(content) {
                    let _ = events.blocking_send(LocalEvent::Failed(e.to_string()));
                    return;
                }
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The session task's clipboard state.
#[derive(Debug)]
pub(crate) struct ClipboardPump {
    link: ClipboardLink,
    channel: BulkChannel,
    events: mpsc::Receiver<LocalEvent>,
    to_local: Option<std_mpsc::Sender<ClipboardContent>>,
    /// Why the local clipboard stopped being watched.
    pub(crate) failure: Option<String>,
}

impl ClipboardPump {
    /// A pump for `link`, opening this side's clipboard channel on `connection`; the sender is
    /// for [`worker`]s.
    pub(crate) async fn open(
        connection: &Connection,
        link: ClipboardLink,
    ) -> Result<(Self, mpsc::Sender<LocalEvent>), asp_transport::Ended> {
        let channel = BulkChannel::open(connection, ChannelKind::Clipboard, RETRY).await?;
        let (tx, events) = mpsc::channel(8);
        let pump = Self { link, channel, events, to_local: None, failure: None };
        Ok((pump, tx))
    }

    /// The counters.
    pub(crate) fn stats(&self) -> &ClipboardStats {
        self.link.stats()
    }

    /// A channel the peer opened; true when it is a clipboard channel (now ours to read).
    pub(crate) fn on_opened(&mut self, id: ChannelId, config: &ChannelConfig) -> bool {
        self.channel.on_opened(id, config)
    }

    /// Whether `channel` is the peer's clipboard channel.
    pub(crate) fn owns(&self, channel: ChannelId) -> bool {
        self.channel.owns(channel)
    }

    /// A message from the peer.
    pub(crate) async fn on_message(&mut self, data: &[u8], connection: &Connection) {
        match self.link.on_message(data) {
            Inbound::Copy(content) => {
                if let Some(local) = &self.to_local {
                    let _ = local.send(content);
                }
            }
            Inbound::Refuse(answer) => {
                if let Some(own) = self.channel.own() {
                    let _ = connection.send(own, answer, None).await;
                }
            }
            Inbound::Nothing => {}
        }
    }

    /// The next event from the worker (pending forever while none can come).
    pub(crate) async fn next_local(&mut self) -> Option<LocalEvent> {
        self.events.recv().await
    }

    /// What the worker said.
    pub(crate) fn on_local(&mut self, event: LocalEvent) {
        match event {
            LocalEvent::Attached(tx) => self.to_local = Some(tx),
            LocalEvent::Copied(content) => self.link.send(&content),
            LocalEvent::Failed(why) => self.failure = Some(why),
        }
    }

    /// Whether a chunk is waiting and the channel is not known to be full.
    pub(crate) fn ready(&self) -> bool {
        self.channel.can_send() && self.link.next_message().is_some()
    }

    /// When to try a full channel again, if it was full.
    pub(crate) fn retry_at(&self) -> Option<tokio::time::Instant> {
        self.channel.retry_at()
    }

    /// The wait is over: try again.
    pub(crate) fn retry(&mut self) {
        self.channel.retry();
    }

    /// Sends what the channel takes now.
    ///
    /// # Errors
    /// [`asp_transport::Ended`] when the session is gone.
    pub(crate) async fn pump(&mut self, connection: &Connection) -> Result<(), asp_transport::Ended> {
        if self.channel.own().is_none() {
            return Ok(());
        }
        for _ in 0..CHUNKS_PER_TURN {
            let Some(message) = self.link.next_message() else { break };
            match self.channel.send(connection, message).await? {
                Sent::Full => return Ok(()),
                // Refused means this copy cannot go: drop it, keep the session.
                Sent::Queued | Sent::Refused(_) => self.link.sent(),
            }
        }
        Ok(())
    }
}
