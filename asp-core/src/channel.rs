//! Channel identity and configuration: kind, delivery mode, priority class (DESIGN.md,
//! "Virtual channels"), and the defaults each kind gets.

use bincode::{Decode, Encode};

/// Identifies a channel within a session. Channel 0 is the control channel; ids opened by the
/// client are odd, ids opened by the server are even, so the two ends never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct ChannelId(pub u32);

impl ChannelId {
    /// The control channel, open from the start in both directions.
    pub const CONTROL: ChannelId = ChannelId(0);
}

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ch{}", self.0)
    }
}

/// What a channel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[non_exhaustive]
pub enum ChannelKind {
    /// Handshake, capabilities, keyframe requests, feedback, policy.
    Control,
    /// Keyboard, mouse, wheel, touch, pen, gamepad.
    Input,
    /// Cursor shapes and position.
    Cursor,
    /// Opus audio, either direction.
    Audio,
    /// Encoded video of one monitor or window.
    Display,
    /// Window management for application streaming.
    Window,
    /// USB redirection.
    Usb,
    /// Clipboard contents.
    Clipboard,
}

/// How a channel's messages are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
#[non_exhaustive]
pub enum DeliveryMode {
    /// Every message exactly once, in order: acknowledged and retransmitted.
    ReliableOrdered,
    /// Only the newest message matters: unsent older ones are replaced, stale ones dropped.
    LatestWins,
    /// Best effort, no retransmission, delivered in arrival order.
    Unreliable,
    /// Large messages with a deadline: delivered whole before the deadline, or dropped whole.
    MediaFrames,
}

/// Scheduling class: 0 is served first; see [`crate::SchedulerConfig`] for how 3 is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct PriorityClass(u8);

impl PriorityClass {
    /// Control, input, cursor, window management.
    pub const INTERACTIVE: PriorityClass = PriorityClass(0);
    /// Audio.
    pub const AUDIO: PriorityClass = PriorityClass(1);
    /// Display.
    pub const DISPLAY: PriorityClass = PriorityClass(2);
    /// USB, clipboard: guaranteed a minimum share.
    pub const BULK: PriorityClass = PriorityClass(3);
    /// Number of classes.
    pub const COUNT: usize = 4;

    /// A class by number, if it exists.
    #[must_use]
    pub fn new(class: u8) -> Option<Self> {
        (usize::from(class) < Self::COUNT).then_some(PriorityClass(class))
    }

    /// The class number, 0..=3.
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Everything that defines a channel. Both ends hold the same copy: the opener sends it in
/// the `OpenChannel` control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct ChannelConfig {
    /// What it carries.
    pub kind: ChannelKind,
    /// How it delivers.
    pub mode: DeliveryMode,
    /// Which class schedules it.
    pub class: PriorityClass,
    /// Share inside its class relative to the other channels of the class (1..=1000).
    pub weight: u16,
    /// Largest message, in bytes.
    pub max_message_len: u32,
    /// Receiver buffer for messages not yet delivered, in bytes; the sender never puts more
    /// than this in flight.
    pub window: u32,
    /// Sender queue limit, in bytes. Reliable channels refuse sends past it; the others drop
    /// their oldest queued message.
    pub send_buffer: u32,
}

/// Why a channel configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidChannelConfig {
    /// A numeric field out of its range.
    #[error("{field} = {actual} is outside {min}..={max}")]
    OutOfRange {
        /// Which field.
        field: &'static str,
        /// Its value.
        actual: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// Only the session opens the control channel.
    #[error("the control channel is opened by the session itself")]
    ControlKind,
}

impl ChannelConfig {
    /// The defaults for a kind, from the table in DESIGN.md.
    #[must_use]
    pub fn for_kind(kind: ChannelKind) -> Self {
        use ChannelKind as K;
        let (mode, class, max_message_len, window) = match kind {
            K::Control => (DeliveryMode::ReliableOrdered, PriorityClass::INTERACTIVE, 64 << 10, 256 << 10),
            K::Input => (DeliveryMode::ReliableOrdered, PriorityClass::INTERACTIVE, 4 << 10, 256 << 10),
            K::Window => (DeliveryMode::ReliableOrdered, PriorityClass::INTERACTIVE, 16 << 10, 256 << 10),
            K::Cursor => (DeliveryMode::LatestWins, PriorityClass::INTERACTIVE, 256 << 10, 512 << 10),
            K::Audio => (DeliveryMode::Unreliable, PriorityClass::AUDIO, 8 << 10, 64 << 10),
            K::Display => (DeliveryMode::MediaFrames, PriorityClass::DISPLAY, 8 << 20, 24 << 20),
            K::Usb => (DeliveryMode::ReliableOrdered, PriorityClass::BULK, 1 << 20, 4 << 20),
            K::Clipboard => (DeliveryMode::ReliableOrdered, PriorityClass::BULK, 1 << 20, 4 << 20),
        };
        ChannelConfig {
            kind,
            mode,
            class,
            weight: 100,
            max_message_len,
            window,
            send_buffer: window.max(max_message_len) * 2,
        }
    }

    /// Checks every field against its range.
    ///
    /// # Errors
    /// [`InvalidChannelConfig::OutOfRange`] names the first field out of range.
    pub fn validate(&self) -> Result<(), InvalidChannelConfig> {
        let check = |field, actual: u64, min, max| {
            if (min..=max).contains(&actual) {
                Ok(())
            } else {
                Err(InvalidChannelConfig::OutOfRange { field, actual, min, max })
            }
        };
        check("class", self.class.0.into(), 0, PriorityClass::COUNT as u64 - 1)?;
        check("weight", self.weight.into(), 1, 1000)?;
        check("max_message_len", self.max_message_len.into(), 1, crate::wire::frame::MAX_MESSAGE_LEN)?;
        check("window", self.window.into(), self.max_message_len.into(), 1 << 30)?;
        check("send_buffer", self.send_buffer.into(), self.max_message_len.into(), 1 << 31)?;
        Ok(())
    }
}
