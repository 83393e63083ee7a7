//! One bulk stream of a session task (the clipboard's, USB's): this side's channel to send
//! on, the peer's channels to read, and the back-off while ours is full. The pumps that own
//! a stream decide what to send; this owns how a message meets the channel, so that a large
//! transfer takes its turn with the display and input instead of waiting in the task.

use std::time::Duration;

use asp_core::{ChannelConfig, ChannelId, ChannelKind, SendError};
use asp_transport::Connection;

/// What became of a message handed to [`BulkChannel::send`].
#[derive(Debug)]
pub(crate) enum Sent {
    /// On its way.
    Queued,
    /// The channel is full: it was not taken, try again at [`BulkChannel::retry_at`].
    Full,
    /// The channel refused it for good (too long, closed).
    Refused(SendError),
}

/// A session's bulk stream of one kind; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct BulkChannel {
    kind: ChannelKind,
    own: Option<ChannelId>,
    peer: Vec<ChannelId>,
    retry_at: Option<tokio::time::Instant>,
    back_off: Duration,
}

impl BulkChannel {
    /// Opens this side's channel of `kind` (the engine's defaults for it); when it is full,
    /// sending waits `back_off`. Without a channel (the engine refused it) nothing is sent.
    pub(crate) async fn open(
        connection: &Connection,
        kind: ChannelKind,
        back_off: Duration,
    ) -> Result<Self, asp_transport::Ended> {
        let own = connection.open_channel(ChannelConfig::for_kind(kind)).await?.ok();
        Ok(Self { kind, own, peer: Vec::new(), retry_at: None, back_off })
    }

    /// This side's channel, if it has one.
    pub(crate) fn own(&self) -> Option<ChannelId> {
        self.own
    }

    /// A channel the peer opened; true when it is of this stream's kind (now ours to read).
    pub(crate) fn on_opened(&mut self, id: ChannelId, config: &ChannelConfig) -> bool {
        let mine = config.kind == self.kind;
        if mine {
            self.peer.push(id);
        }
        mine
    }

    /// Whether `channel` is one of the peer's channels of this stream.
    pub(crate) fn owns(&self, channel: ChannelId) -> bool {
        self.peer.contains(&channel)
    }

    /// Whether sending may be tried now: there is a channel and it is not known to be full.
    pub(crate) fn can_send(&self) -> bool {
        self.own.is_some() && self.retry_at.is_none()
    }

    /// When to try a full channel again.
    pub(crate) fn retry_at(&self) -> Option<tokio::time::Instant> {
        self.retry_at
    }

    /// The wait is over.
    pub(crate) fn retry(&mut self) {
        self.retry_at = None;
    }

    /// Hands `message` to the channel.
    ///
    /// # Errors
    /// [`asp_transport::Ended`] when the session is gone.
    pub(crate) async fn send(
        &mut self,
        connection: &Connection,
        message: bytes::Bytes,
    ) -> Result<Sent, asp_transport::Ended> {
        let Some(own) = self.own else { return Ok(Sent::Refused(SendError::NotOpen)) };
        Ok(match connection.send(own, message, None).await? {
            Ok(_) => Sent::Queued,
            Err(SendError::WouldBlock) => {
                self.retry_at = Some(tokio::time::Instant::now() + self.back_off);
                Sent::Full
            }
            Err(e) => Sent::Refused(e),
        })
    }
}
