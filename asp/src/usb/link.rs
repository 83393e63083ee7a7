//! USB redirection inside a session: each side's usbredir end ([`UsbEndpoint`]: the client's
//! [`DeviceHost`] for a device it shares, the server's [`Guest`] that uses it) exchanges its
//! byte stream over the USB channels (reliable, ordered, bulk class), cut into messages of at
//! most [`USB_CHUNK`] bytes and sent as the channel takes them, so that a disk copy shares the
//! link with the display.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use asp_core::{ChannelConfig, ChannelId, ChannelKind};
use asp_transport::Connection;
use bytes::Bytes;

use super::device::{DeviceHost, SoftDevice};
use super::filter::{Filter, FilterRule, FilteredDevice};
use super::guest::Guest;
use crate::bulk::{BulkChannel, Sent};

/// Largest message of the usbredir stream on the channel.
pub const USB_CHUNK: usize = 64 * 1024;
/// How often the session looks for what its end wants to send.
pub(crate) const POLL: Duration = Duration::from_millis(2);
/// How long to wait before retrying a full channel.
const RETRY: Duration = Duration::from_millis(5);
/// Messages sent per turn of the session task, so that the display and input keep their turn.
const CHUNKS_PER_TURN: usize = 8;

/// One side's end of a usbredir stream.
pub trait UsbEndpoint: Send {
    /// Bytes from the peer.
    ///
    /// # Errors
    /// A message when the stream is broken beyond repair; the session stops redirecting.
    fn handle_input(&mut self, data: &[u8]) -> Result<(), String>;

    /// Bytes for the peer, if any.
    ///
    /// # Errors
    /// As [`handle_input`](Self::handle_input).
    fn poll_transmit(&mut self) -> Result<Option<Vec<u8>>, String>;

    /// The redirected device's identity and interface classes, once known (a guest learns
    /// them from the host's `interface_info` and `device_connect`); what a server's
    /// [`UsbPolicy`] judges.
    fn device(&self) -> Option<FilteredDevice> {
        None
    }

    /// Sets the device filter this side sends the peer, if this end is a guest (sent once the
    /// peer's hello has come, where the peer can take one).
    ///
    /// # Errors
    /// As [`handle_input`](Self::handle_input).
    fn set_filter(&mut self, _filter: Filter) -> Result<(), String> {
        Ok(())
    }

    /// Refuses the peer's device (a guest: `filter_reject`, and nothing more asked of it).
    ///
    /// # Errors
    /// As [`handle_input`](Self::handle_input).
    fn reject(&mut self) -> Result<(), String> {
        Ok(())
    }

    /// Why the peer refused this side's device, once it has (a host told `filter_reject`).
    fn refused(&self) -> Option<String> {
        None
    }
}

/// Device classes a server's policy names (by `bInterfaceClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum UsbClass {
    /// Keyboards, mice, game pads (0x03).
    Hid,
    /// Printers (0x07).
    Printer,
    /// Disks and sticks (0x08).
    Storage,
    /// Smart-card readers (0x0b).
    SmartCard,
    /// Cameras (0x0e).
    Video,
}

impl UsbClass {
    /// Every class named here.
    pub const ALL: [Self; 5] = [Self::Hid, Self::Printer, Self::Storage, Self::SmartCard, Self::Video];

    /// Its `bInterfaceClass`.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Hid => 0x03,
            Self::Printer => 0x07,
            Self::Storage => 0x08,
            Self::SmartCard => 0x0b,
            Self::Video => 0x0e,
        }
    }

    /// Its name in refusals.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Hid => "HID",
            Self::Printer => "printer",
            Self::Storage => "mass-storage",
            Self::SmartCard => "smart-card",
            Self::Video => "video",
        }
    }
}

/// Which redirected devices a server takes, judged by every interface's class, on the server
/// whatever the client claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbPolicy {
    /// The classes allowed.
    pub allowed: Vec<UsbClass>,
    /// Whether classes not named in [`UsbClass`] are allowed.
    pub allow_other: bool,
}

impl Default for UsbPolicy {
    /// Everything allowed.
    fn default() -> Self {
        Self { allowed: UsbClass::ALL.to_vec(), allow_other: true }
    }
}

impl UsbPolicy {
    /// The usbredir filter that says the same: a rule for each class named in [`UsbClass`],
    /// then a catch-all for the others.
    #[must_use]
    pub fn to_filter(&self) -> Filter {
        let named = UsbClass::ALL.iter().map(|c| FilterRule::class(Some(c.code()), self.allowed.contains(c)));
        let other = FilterRule::class(None, self.allow_other);
        Filter::new(named.chain([other]).collect()).unwrap_or_default()
    }

    /// Why `device` is refused, if it is: its own class (unless "per interface") and every
    /// interface's class are judged, as [`Filter::check`] does.
    #[must_use]
    pub fn refuses(&self, device: &FilteredDevice) -> Option<String> {
        self.to_filter().check(device).err().map(|refusal| describe(refusal.class))
    }
}

/// A refusal in plain words, naming the class as [`UsbClass::name`] does where it can.
#[must_use]
pub fn describe(class: u8) -> String {
    match UsbClass::ALL.into_iter().find(|c| c.code() == class) {
        Some(named) => format!("the server's USB policy refuses {} devices", named.name()),
        None => format!("the server's USB policy refuses devices of class {class:#04x}"),
    }
}

impl<D: SoftDevice + Send> UsbEndpoint for DeviceHost<D> {
    fn handle_input(&mut self, data: &[u8]) -> Result<(), String> {
        DeviceHost::handle_input(self, data).map_err(|e| e.to_string())
    }

    fn poll_transmit(&mut self) -> Result<Option<Vec<u8>>, String> {
        DeviceHost::poll_transmit(self).map_err(|e| e.to_string())
    }

    fn refused(&self) -> Option<String> {
        self.rejected().map(str::to_owned)
    }
}

impl UsbEndpoint for Guest {
    fn handle_input(&mut self, data: &[u8]) -> Result<(), String> {
        Guest::handle_input(self, data).map_err(|e| e.to_string())
    }

    fn poll_transmit(&mut self) -> Result<Option<Vec<u8>>, String> {
        Ok(Guest::poll_transmit(self))
    }

    fn device(&self) -> Option<FilteredDevice> {
        let (connect, interfaces) = (self.device_connect()?, self.interfaces()?);
        Some(FilteredDevice {
            class: connect.device_class,
            vendor: connect.vendor_id,
            product: connect.product_id,
            version: connect.device_version_bcd.unwrap_or(0),
            interfaces: interfaces.interfaces().map(|i| [i.class, i.subclass, i.protocol]).collect(),
        })
    }

    fn set_filter(&mut self, filter: Filter) -> Result<(), String> {
        Guest::set_filter(self, filter).map_err(|e| e.to_string())
    }

    fn reject(&mut self) -> Result<(), String> {
        Guest::reject(self).map(drop).map_err(|e| e.to_string())
    }
}

/// An endpoint the application keeps a hand on (to drive a guest's class drivers) while the
/// session pumps its bytes.
pub type SharedEndpoint = Arc<Mutex<dyn UsbEndpoint>>;

/// Counters of a session's USB channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UsbStats {
    /// usbredir bytes sent.
    pub bytes_sent: u64,
    /// usbredir bytes received.
    pub bytes_received: u64,
    /// Why redirection stopped, if it did.
    pub error: Option<String>,
    /// Why the server's policy refused the device, if it did (on the client: as the server's
    /// `filter_reject` and filter said).
    pub refused: Option<String>,
}

/// Where the application attaches its end of a session's USB stream.
#[derive(Clone)]
pub(crate) struct UsbSlot(Arc<Mutex<Option<SharedEndpoint>>>);

impl std::fmt::Debug for UsbSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let attached = self.0.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        f.debug_struct("UsbSlot").field("attached", &attached).finish()
    }
}

impl UsbSlot {
    /// Attaches `endpoint`, replacing the one before.
    pub(crate) fn attach(&self, endpoint: SharedEndpoint) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(endpoint);
    }
}

/// The session task's USB state.
pub(crate) struct UsbPump {
    channel: BulkChannel,
    endpoint: Arc<Mutex<Option<SharedEndpoint>>>,
    outbox: VecDeque<Bytes>,
    /// The server's policy, until the device has been judged.
    policy: Option<UsbPolicy>,
    /// Whether the server's filter has been given to its guest.
    filter_set: bool,
    pub(crate) stats: UsbStats,
}

impl std::fmt::Debug for UsbPump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbPump").field("channel", &self.channel).field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl UsbPump {
    /// Opens this side's USB channel; the slot is where the application attaches its end. A
    /// server gives its policy; a client none.
    pub(crate) async fn open(
        connection: &Connection,
        policy: Option<UsbPolicy>,
    ) -> Result<(Self, UsbSlot), asp_transport::Ended> {
        let channel = BulkChannel::open(connection, ChannelKind::Usb, RETRY).await?;
        let endpoint = Arc::new(Mutex::new(None));
        let pump = Self {
            channel,
            endpoint: endpoint.clone(),
            outbox: VecDeque::new(),
            policy,
            filter_set: false,
            stats: UsbStats::default(),
        };
        Ok((pump, UsbSlot(endpoint)))
    }

    fn endpoint(&self) -> Option<SharedEndpoint> {
        self.endpoint.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// A channel the peer opened; true when it is its USB channel.
    pub(crate) fn on_opened(&mut self, id: ChannelId, config: &ChannelConfig) -> bool {
        self.channel.on_opened(id, config)
    }

    /// Whether `channel` is the peer's USB channel.
    pub(crate) fn owns(&self, channel: ChannelId) -> bool {
        self.channel.owns(channel)
    }

    /// Bytes from the peer.
    pub(crate) fn on_message(&mut self, data: &[u8]) {
        self.stats.bytes_received += data.len() as u64;
        let Some(endpoint) = self.endpoint() else { return };
        let mut end = endpoint.lock().unwrap_or_else(PoisonError::into_inner);
        // The filter is set before the peer's bytes, so that the guest sends it right after
        // the hellos, ahead of any request (and of a refusal).
        if !self.filter_set
            && let Some(policy) = &self.policy
        {
            self.filter_set = true;
            if let Err(e) = end.set_filter(policy.to_filter()) {
                drop(end);
                self.fail(e);
                return;
            }
        }
        if let Err(e) = end.handle_input(data) {
            drop(end);
            self.fail(e);
            return;
        }
        if let Some(why) = end.refused() {
            drop(end);
            self.stats.refused = Some(why.clone());
            self.fail(why);
            return;
        }
        // Judged once, as soon as the device is known, before it is used.
        let Some(policy) = &self.policy else { return };
        let Some(device) = end.device() else { return };
        let refusal = policy.refuses(&device);
        self.policy = None;
        if let Some(why) = refusal {
            // The rejection (and the filter, if still queued) go out before the end is let go.
            let sent = end.reject().and_then(|()| end.poll_transmit());
            drop(end);
            if let Ok(Some(bytes)) = sent {
                self.queue(Bytes::from(bytes));
            }
            self.stats.refused = Some(why.clone());
            self.fail(why);
        }
    }

    fn queue(&mut self, bytes: Bytes) {
        self.outbox
            .extend((0..bytes.len()).step_by(USB_CHUNK).map(|at| bytes.slice(at..(at + USB_CHUNK).min(bytes.len()))));
    }

    fn fail(&mut self, why: String) {
        self.stats.error.get_or_insert(why);
        *self.endpoint.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether to try sending now: an endpoint is attached and the channel is not known to
    /// be full.
    pub(crate) fn ready(&self) -> bool {
        self.channel.can_send() && (!self.outbox.is_empty() || self.endpoint().is_some())
    }

    /// When to try a full channel again.
    pub(crate) fn retry_at(&self) -> Option<tokio::time::Instant> {
        self.channel.retry_at()
    }

    /// The wait is over.
    pub(crate) fn retry(&mut self) {
        self.channel.retry();
    }

    /// Takes what the endpoint wants to send and sends what the channel takes now.
    ///
    /// # Errors
    /// [`asp_transport::Ended`] when the session is gone.
    pub(crate) async fn pump(&mut self, connection: &Connection) -> Result<(), asp_transport::Ended> {
        if self.channel.own().is_none() {
            return Ok(());
        }
        if self.outbox.len() < CHUNKS_PER_TURN
            && let Some(endpoint) = self.endpoint()
        {
            let mut end = endpoint.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                match end.poll_transmit() {
                    Ok(Some(bytes)) => {
                        self.queue(Bytes::from(bytes));
                        if self.outbox.len() >= CHUNKS_PER_TURN {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        drop(end);
                        self.fail(e);
                        break;
                    }
                }
            }
        }
        for _ in 0..CHUNKS_PER_TURN {
            let Some(message) = self.outbox.front().cloned() else { break };
            let len = message.len() as u64;
            match self.channel.send(connection, message).await? {
                Sent::Queued => {
                    self.outbox.pop_front();
                    self.stats.bytes_sent += len;
                }
                Sent::Full => break,
                Sent::Refused(e) => {
                    self.fail(format!("the USB channel refused a message: {e}"));
                    self.outbox.clear();
                    break;
                }
            }
        }
        Ok(())
    }
}
