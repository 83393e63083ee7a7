//! # A minimal usb-guest: enumeration and two class drivers
//!
//! [`Guest`] plays the usbredir *usb-guest* over the codec: it sends its hello, learns the
//! device from `interface_info`, `ep_info` and `device_connect`, reads the device and
//! configuration descriptors with `GET_DESCRIPTOR` control packets and sets configuration 1;
//! then [`Guest::is_ready`] is true. Requests are submitted with [`Guest::submit`] and their
//! answers taken by id with [`Guest::take_completion`]; interrupt reports the host sends on
//! its own are queued for [`Guest::take_interrupt`].
//!
//! Two small drivers run on top, each a state machine the caller steps with `poll`:
//! [`KeyboardDriver`] (starts interrupt receiving and turns boot reports into key presses and
//! releases) and [`StorageDriver`] (Bulk-Only Transport: CBW, data in bulk transfers of at
//! most [`MAX_BULK_CHUNK`] bytes, CSW).
//!
//! Sans-IO: [`Guest::handle_input`] takes the host's bytes, [`Guest::poll_transmit`] gives
//! the bytes to send.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::filter::Filter;
use super::{
    BulkPacket, Capability, Caps, ControlPacket, DecodeError, DeviceConnect, EncodeError, EpInfo, InterfaceInfo,
    InterruptPacket, Limits, Packet, PacketType, Parser, Role, Status,
};

/// The most bytes one bulk transfer of the [`StorageDriver`] carries.
pub const MAX_BULK_CHUNK: usize = 64 * 1024;
/// The most answers and interrupt reports a [`Guest`] holds before they are taken.
pub const MAX_QUEUED: usize = 4096;

/// What went wrong in a [`Guest`] or a driver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuestError {
    /// The host's bytes did not parse.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A request could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A request before the hellos were exchanged, or a packet the guest does not expect.
    #[error("unexpected {0}")]
    Unexpected(PacketType),
    /// Enumeration failed: a descriptor request was refused or malformed.
    #[error("enumeration failed: {0}")]
    Enumeration(&'static str),
    /// More than [`MAX_QUEUED`] answers or reports wait.
    #[error("more than {MAX_QUEUED} answers or reports queued")]
    QueueFull,
    /// The driver is busy with another command, or the device lacks what it needs.
    #[error("driver: {0}")]
    Driver(&'static str),
    /// A transfer ended with a status other than success where the driver cannot go on.
    #[error("transfer failed: {0:?}")]
    Transfer(Status),
}

/// Where enumeration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestState {
    /// Waiting for the host's hello and `device_connect`.
    Connecting,
    /// Reading the device descriptor.
    DeviceDescriptor(u64),
    /// Reading the configuration descriptor's first 9 bytes.
    ConfigHeader(u64),
    /// Reading the whole configuration descriptor.
    Config(u64),
    /// Setting configuration 1.
    SetConfiguration(u64),
    /// Enumerated and configured.
    Ready,
    /// Refused by this side ([`Guest::reject`]): nothing more is asked of the device.
    Rejected,
}

/// Counters of a [`Guest`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestStats {
    /// Packets sent.
    pub packets_sent: u64,
    /// Bytes sent, headers included.
    pub bytes_sent: u64,
    /// Packets received.
    pub packets_received: u64,
    /// Bytes received.
    pub bytes_received: u64,
}

/// The usb-guest; see the [module docs](self).
#[derive(Debug)]
pub struct Guest {
    parser: Parser,
    out: Vec<u8>,
    next_id: u64,
    state: GuestState,
    connect: Option<DeviceConnect>,
    interfaces: Option<InterfaceInfo>,
    endpoints: Option<EpInfo>,
    device_descriptor: Vec<u8>,
    config_descriptor: Vec<u8>,
    completions: HashMap<u64, Packet>,
    interrupts: VecDeque<InterruptPacket>,
    stats: GuestStats,
    /// The device filter to send the host once its hello has come.
    filter: Option<Filter>,
    /// Where in `out` the enumeration's first request starts, while it is still unsent.
    enumeration_from: Option<usize>,
}

impl Guest {
    /// A guest; its hello is queued at once.
    ///
    /// # Errors
    /// Only if `version` is too long for a hello.
    pub fn new(version: &str, limits: Limits) -> Result<Guest, GuestError> {
        let parser = Parser::new(Role::Guest, Caps::all_known(), limits);
        let mut out = Vec::new();
        parser.encode_hello(version, &mut out)?;
        Ok(Guest {
            parser,
            out,
            next_id: 1,
            state: GuestState::Connecting,
            connect: None,
            interfaces: None,
            endpoints: None,
            device_descriptor: Vec::new(),
            config_descriptor: Vec::new(),
            completions: HashMap::new(),
            interrupts: VecDeque::new(),
            stats: GuestStats::default(),
            filter: None,
            enumeration_from: None,
        })
    }

    /// Where enumeration stands.
    #[must_use]
    pub fn state(&self) -> GuestState {
        self.state
    }

    /// Enumerated and configured.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.state == GuestState::Ready
    }

    /// What `device_connect` said.
    #[must_use]
    pub fn device_connect(&self) -> Option<&DeviceConnect> {
        self.connect.as_ref()
    }

    /// The interfaces `interface_info` listed.
    #[must_use]
    pub fn interfaces(&self) -> Option<&InterfaceInfo> {
        self.interfaces.as_ref()
    }

    /// The endpoints `ep_info` listed.
    #[must_use]
    pub fn endpoints(&self) -> Option<&EpInfo> {
        self.endpoints.as_ref()
    }

    /// The device descriptor read during enumeration.
    #[must_use]
    pub fn device_descriptor(&self) -> &[u8] {
        &self.device_descriptor
    }

    /// The whole configuration descriptor read during enumeration.
    #[must_use]
    pub fn config_descriptor(&self) -> &[u8] {
        &self.config_descriptor
    }

    /// Its counters.
    #[must_use]
    pub fn stats(&self) -> GuestStats {
        self.stats
    }

    /// Takes the host's bytes and handles every whole packet in them.
    ///
    /// # Errors
    /// The first packet that did not parse or was not expected, a full queue, a failed
    /// enumeration step.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), GuestError> {
        self.parser.feed(data);
        self.stats.bytes_received += data.len() as u64;
        while let Some(received) = self.parser.poll() {
            let received = received?;
            self.stats.packets_received += 1;
            self.handle(received.id, received.packet)?;
        }
        Ok(())
    }

    /// The bytes to send to the host; `None` when there are none.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.enumeration_from = None;
        (!self.out.is_empty()).then(|| std::mem::take(&mut self.out))
    }

    /// Sends a request; returns its id.
    ///
    /// # Errors
    /// Before the host's hello, or a packet the codec refuses.
    pub fn submit(&mut self, packet: &Packet) -> Result<u64, GuestError> {
        let id = self.next_id;
        let codec = self.parser.outgoing().ok_or(GuestError::Unexpected(packet.packet_type()))?;
        let n = codec.encode(id, packet, &mut self.out)?;
        self.next_id += 1;
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += n as u64;
        Ok(id)
    }

    /// Asks the host to cancel request `id` (`cancel_data_packet` carries the id it cancels);
    /// the host answers the request with status `Cancelled` if it still held it.
    ///
    /// # Errors
    /// Before the host's hello.
    pub fn cancel(&mut self, id: u64) -> Result<(), GuestError> {
        let codec = self.parser.outgoing().ok_or(GuestError::Unexpected(PacketType::CancelDataPacket))?;
        let n = codec.encode(id, &Packet::CancelDataPacket, &mut self.out)?;
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += n as u64;
        Ok(())
    }

    /// Sets this guest's device filter: sent to the host (`filter_filter`) as soon as its
    /// hello has come (at once if it has), where the host announced the filter capability, so
    /// that the host can tell which of its devices would be refused, and why.
    ///
    /// # Errors
    /// A filter the codec refuses (longer than a packet).
    pub fn set_filter(&mut self, filter: Filter) -> Result<(), GuestError> {
        self.filter = Some(filter);
        self.send_filter()
    }

    fn send_filter(&mut self) -> Result<(), GuestError> {
        if let Some(filter) = &self.filter
            && self.can_filter()
        {
            let rules = filter.to_string();
            self.submit(&Packet::FilterFilter { rules })?;
        }
        Ok(())
    }

    /// Refuses the host's device: the enumeration's request, if not yet taken by
    /// [`poll_transmit`](Self::poll_transmit), is withdrawn, `filter_reject` is sent where the
    /// host announced the filter capability, and nothing more is asked of the device. Returns
    /// whether `filter_reject` was sent.
    ///
    /// # Errors
    /// Only if the codec cannot encode `filter_reject`.
    pub fn reject(&mut self) -> Result<bool, GuestError> {
        if let Some(at) = self.enumeration_from.take() {
            self.stats.packets_sent -= 1;
            self.stats.bytes_sent -= (self.out.len() - at) as u64;
            self.out.truncate(at);
        }
        self.state = GuestState::Rejected;
        if !self.can_filter() {
            return Ok(false);
        }
        self.submit(&Packet::FilterReject)?;
        Ok(true)
    }

    fn can_filter(&self) -> bool {
        self.parser.outgoing().is_some() && self.parser.negotiated().is_some_and(|c| c.contains(Capability::Filter))
    }

    /// The answer to request `id`, once it has come.
    pub fn take_completion(&mut self, id: u64) -> Option<Packet> {
        self.completions.remove(&id)
    }

    /// The next interrupt IN report the host sent.
    pub fn take_interrupt(&mut self) -> Option<InterruptPacket> {
        self.interrupts.pop_front()
    }

    fn handle(&mut self, id: u64, packet: Packet) -> Result<(), GuestError> {
        match packet {
            Packet::Hello(_) => self.send_filter()?,
            Packet::InterfaceInfo(info) => self.interfaces = Some(*info),
            Packet::EpInfo(info) => self.endpoints = Some(*info),
            Packet::DeviceConnect(connect) if self.state == GuestState::Rejected => self.connect = Some(connect),
            Packet::DeviceConnect(connect) => {
                self.connect = Some(connect);
                self.enumeration_from = Some(self.out.len());
                let id = self.submit(&get_descriptor(1, 0, 18))?;
                self.state = GuestState::DeviceDescriptor(id);
            }
            Packet::DeviceDisconnect => {
                self.connect = None;
                if self.state != GuestState::Rejected {
                    self.state = GuestState::Connecting;
                }
            }
            Packet::Interrupt(p) if p.endpoint & 0x80 != 0 && p.status == Status::Success && !p.data.is_empty() => {
                if self.interrupts.len() >= MAX_QUEUED {
                    return Err(GuestError::QueueFull);
                }
                self.interrupts.push_back(p);
            }
            packet => {
                if self.enumerate(id, &packet)? {
                    return Ok(());
                }
                if self.completions.len() >= MAX_QUEUED {
                    return Err(GuestError::QueueFull);
                }
                self.completions.insert(id, packet);
            }
        }
        Ok(())
    }

    /// Steps enumeration when `packet` answers its request; true when it did.
    fn enumerate(&mut self, id: u64, packet: &Packet) -> Result<bool, GuestError> {
        let data = match packet {
            Packet::Control(p) if p.status == Status::Success => Some(p.data.clone()),
            Packet::Control(_) => None,
            _ => Some(Bytes::new()),
        };
        match self.state {
            GuestState::DeviceDescriptor(wait) if wait == id => {
                let data = data.filter(|d| d.len() == 18 && d[1] == 1).ok_or(GuestError::Enumeration("device"))?;
                self.device_descriptor = data.to_vec();
                let id = self.submit(&get_descriptor(2, 0, 9))?;
                self.state = GuestState::ConfigHeader(id);
            }
            GuestState::ConfigHeader(wait) if wait == id => {
                let data = data.filter(|d| d.len() == 9 && d[1] == 2).ok_or(GuestError::Enumeration("config"))?;
                let total = u16::from_le_bytes([data[2], data[3]]);
                let id = self.submit(&get_descriptor(2, 0, total))?;
                self.state = GuestState::Config(id);
            }
            GuestState::Config(wait) if wait == id => {
                let data = data.filter(|d| d.len() >= 9).ok_or(GuestError::Enumeration("config"))?;
                self.config_descriptor = data.to_vec();
                let configuration = data[5];
                let id = self.submit(&Packet::SetConfiguration { configuration })?;
                self.state = GuestState::SetConfiguration(id);
            }
            GuestState::SetConfiguration(wait) if wait == id => match packet {
                Packet::ConfigurationStatus { status: Status::Success, .. } => self.state = GuestState::Ready,
                _ => return Err(GuestError::Enumeration("set_configuration")),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A standard `GET_DESCRIPTOR` control request to the device.
fn get_descriptor(kind: u8, index: u8, length: u16) -> Packet {
    Packet::Control(ControlPacket {
        endpoint: 0x80,
        request: 6,
        request_type: 0x80,
        status: Status::Success,
        value: u16::from_le_bytes([index, kind]),
        index: 0,
        length,
        data: Bytes::new(),
    })
}

/// A key going down or up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEvent {
    /// The HID usage id (0xe0..=0xe7: modifiers).
    pub usage: u8,
    /// Down (true) or up.
    pub pressed: bool,
}

/// Boot-protocol keyboard driver: reports in, key events out.
#[derive(Debug)]
pub struct KeyboardDriver {
    endpoint: u8,
    last: [u8; 8],
    reports: u64,
}

impl KeyboardDriver {
    /// Starts interrupt receiving on the first interrupt IN endpoint of a HID boot keyboard
    /// interface (class 3, subclass 1, protocol 1).
    ///
    /// # Errors
    /// The guest is not ready or the device has no such endpoint.
    pub fn start(guest: &mut Guest) -> Result<KeyboardDriver, GuestError> {
        let endpoint = find_endpoint(guest, (3, 1, 1), super::TransferType::Interrupt, true)
            .ok_or(GuestError::Driver("no boot keyboard endpoint"))?;
        guest.submit(&Packet::StartInterruptReceiving { endpoint })?;
        Ok(KeyboardDriver { endpoint, last: [0; 8], reports: 0 })
    }

    /// Reports decoded so far.
    #[must_use]
    pub fn reports(&self) -> u64 {
        self.reports
    }

    /// Decodes every report the guest holds into key events, in order.
    pub fn poll(&mut self, guest: &mut Guest) -> Vec<KeyEvent> {
        let mut events = Vec::new();
        while let Some(p) = guest.take_interrupt() {
            if p.endpoint != self.endpoint || p.data.len() < 8 {
                continue;
            }
            self.reports += 1;
            let mut report = [0; 8];
            report.copy_from_slice(&p.data[..8]);
            let (old, new) = (self.last, report);
            for bit in 0..8 {
                let (was, is) = (old[0] >> bit & 1, new[0] >> bit & 1);
                if was != is {
                    events.push(KeyEvent { usage: 0xe0 + bit, pressed: is == 1 });
                }
            }
            let keys = |r: &[u8; 8]| r[2..].iter().copied().filter(|&k| k > 1).collect::<Vec<_>>();
            let (old_keys, new_keys) = (keys(&old), keys(&new));
            events.extend(
                old_keys.iter().filter(|k| !new_keys.contains(k)).map(|&usage| KeyEvent { usage, pressed: false }),
            );
            events.extend(
                new_keys.iter().filter(|k| !old_keys.contains(k)).map(|&usage| KeyEvent { usage, pressed: true }),
            );
            self.last = report;
        }
        events
    }
}

/// The endpoint of `kind` and direction in the first interface of (class, subclass, protocol).
fn find_endpoint(guest: &Guest, class: (u8, u8, u8), kind: super::TransferType, is_in: bool) -> Option<u8> {
    if !guest.is_ready() {
        return None;
    }
    let interface = guest.interfaces()?.interfaces().find(|i| (i.class, i.subclass, i.protocol) == class)?;
    let ep = guest.endpoints()?;
    (0..32)
        .find(|&index| {
            ep.transfer_type[index] == kind && ep.interface[index] == interface.number && (index >= 16) == is_in
        })
        .map(EpInfo::endpoint)
}

/// A SCSI command for the [`StorageDriver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScsiCommand {
    /// TEST UNIT READY.
    TestUnitReady,
    /// INQUIRY, 36 bytes.
    Inquiry,
    /// REQUEST SENSE, 18 bytes.
    RequestSense,
    /// READ CAPACITY(10).
    ReadCapacity,
    /// MODE SENSE(6), all pages, 4 bytes.
    ModeSense6,
    /// PREVENT ALLOW MEDIUM REMOVAL.
    PreventAllowMediumRemoval {
        /// Prevent (true) or allow.
        prevent: bool,
    },
    /// READ(10) of `blocks` blocks from `lba`.
    Read {
        /// First block.
        lba: u32,
        /// Block count.
        blocks: u16,
    },
    /// WRITE(10) of `data` (whole blocks) at `lba`.
    Write {
        /// First block.
        lba: u32,
        /// The data.
        data: Bytes,
    },
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScsiOutcome {
    /// The CSW status: 0 passed, 1 failed (CHECK CONDITION), 2 phase error.
    pub status: u8,
    /// The CSW residue.
    pub residue: u32,
    /// The data read.
    pub data: Vec<u8>,
    /// Bulk transfers it took, CBW and CSW included.
    pub transfers: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Cbw,
    DataIn,
    DataOut,
    Csw,
}

#[derive(Debug)]
struct Operation {
    tag: u32,
    length: u32,
    stage: Stage,
    moved: usize,
    out: Bytes,
    data: Vec<u8>,
    pending: u64,
    transfers: u32,
}

/// Bulk-Only Transport driver; see the [module docs](self).
#[derive(Debug)]
pub struct StorageDriver {
    ep_in: u8,
    ep_out: u8,
    tag: u32,
    op: Option<Operation>,
}

impl StorageDriver {
    /// A driver for the first mass-storage BOT interface (class 8, subclass 6, protocol 0x50).
    ///
    /// # Errors
    /// The guest is not ready or the device has no such interface with both bulk endpoints.
    pub fn new(guest: &Guest) -> Result<StorageDriver, GuestError> {
        let class = (8, 6, 0x50);
        let ep_in = find_endpoint(guest, class, super::TransferType::Bulk, true);
        let ep_out = find_endpoint(guest, class, super::TransferType::Bulk, false);
        match (ep_in, ep_out) {
            (Some(ep_in), Some(ep_out)) => Ok(StorageDriver { ep_in, ep_out, tag: 0, op: None }),
            _ => Err(GuestError::Driver("no bulk-only mass storage interface")),
        }
    }

    /// A command is under way.
    #[must_use]
    pub fn busy(&self) -> bool {
        self.op.is_some()
    }

    /// Starts a command: sends its CBW.
    ///
    /// # Errors
    /// A command is already under way, or the CBW could not be sent.
    pub fn start(&mut self, guest: &mut Guest, command: &ScsiCommand) -> Result<(), GuestError> {
        if self.op.is_some() {
            return Err(GuestError::Driver("busy"));
        }
        let mut cb = [0u8; 16];
        let (len, is_in, cb_len, out) = match command {
            ScsiCommand::TestUnitReady => (0, false, 6, Bytes::new()),
            ScsiCommand::Inquiry => {
                cb[0] = 0x12;
                cb[4] = 36;
                (36, true, 6, Bytes::new())
            }
            ScsiCommand::RequestSense => {
                cb[0] = 0x03;
                cb[4] = 18;
                (18, true, 6, Bytes::new())
            }
            ScsiCommand::ReadCapacity => {
                cb[0] = 0x25;
                (8, true, 10, Bytes::new())
            }
            ScsiCommand::ModeSense6 => {
                cb[0] = 0x1a;
                cb[2] = 0x3f;
                cb[4] = 4;
                (4, true, 6, Bytes::new())
            }
            ScsiCommand::PreventAllowMediumRemoval { prevent } => {
                cb[0] = 0x1e;
                cb[4] = u8::from(*prevent);
                (0, false, 6, Bytes::new())
            }
            ScsiCommand::Read { lba, blocks } => {
                cb[0] = 0x28;
                cb[2..6].copy_from_slice(&lba.to_be_bytes());
                cb[7..9].copy_from_slice(&blocks.to_be_bytes());
                (u32::from(*blocks) * 512, true, 10, Bytes::new())
            }
            ScsiCommand::Write { lba, data } => {
                let blocks = u16::try_from(data.len() / 512).map_err(|_| GuestError::Driver("write too long"))?;
                if data.len() % 512 != 0 {
                    return Err(GuestError::Driver("write not whole blocks"));
                }
                cb[0] = 0x2a;
                cb[2..6].copy_from_slice(&lba.to_be_bytes());
                cb[7..9].copy_from_slice(&blocks.to_be_bytes());
                (u32::from(blocks) * 512, false, 10, data.clone())
            }
        };
        self.tag = self.tag.wrapping_add(1);
        let mut cbw = b"USBC".to_vec();
        cbw.extend_from_slice(&self.tag.to_le_bytes());
        cbw.extend_from_slice(&len.to_le_bytes());
        cbw.extend_from_slice(&[if is_in { 0x80 } else { 0 }, 0, cb_len]);
        cbw.extend_from_slice(&cb);
        let pending = self.bulk(guest, self.ep_out, cbw.into(), 0)?;
        let stage = Stage::Cbw;
        let data = Vec::new();
        self.op = Some(Operation { tag: self.tag, length: len, stage, moved: 0, out, data, pending, transfers: 1 });
        Ok(())
    }

    fn bulk(&self, guest: &mut Guest, endpoint: u8, data: Bytes, length: usize) -> Result<u64, GuestError> {
        let length = if endpoint & 0x80 == 0 { data.len() } else { length };
        let length = u32::try_from(length).map_err(|_| GuestError::Driver("transfer too long"))?;
        guest.submit(&Packet::Bulk(BulkPacket { endpoint, status: Status::Success, length, stream_id: 0, data }))
    }

    /// Steps the command under way with the answers the guest has; `Some` when it ended.
    ///
    /// # Errors
    /// A transfer failed where BOT cannot go on, or a malformed CSW.
    pub fn poll(&mut self, guest: &mut Guest) -> Option<Result<ScsiOutcome, GuestError>> {
        let result = self.step(guest);
        match result {
            Ok(None) => None,
            Ok(Some(outcome)) => {
                self.op = None;
                Some(Ok(outcome))
            }
            Err(error) => {
                self.op = None;
                Some(Err(error))
            }
        }
    }

    fn step(&mut self, guest: &mut Guest) -> Result<Option<ScsiOutcome>, GuestError> {
        let (ep_in, ep_out) = (self.ep_in, self.ep_out);
        loop {
            let Some(op) = self.op.as_mut() else { return Ok(None) };
            let Some(answer) = guest.take_completion(op.pending) else { return Ok(None) };
            let Packet::Bulk(answer) = answer else { return Err(GuestError::Unexpected(answer.packet_type())) };
            let total = op.length as usize;
            let stall = answer.status == Status::Stall;
            if answer.status != Status::Success && !stall {
                return Err(GuestError::Transfer(answer.status));
            }
            match op.stage {
                Stage::Cbw | Stage::DataIn | Stage::DataOut => {
                    if stall && op.stage == Stage::Cbw {
                        return Err(GuestError::Transfer(Status::Stall));
                    }
                    let short = match op.stage {
                        Stage::DataIn => {
                            op.data.extend_from_slice(&answer.data);
                            op.moved += answer.data.len();
                            answer.data.len() < (total - (op.moved - answer.data.len())).min(MAX_BULK_CHUNK)
                        }
                        Stage::DataOut => {
                            op.moved += answer.length as usize;
                            false
                        }
                        _ => false,
                    };
                    let is_in = op.out.is_empty();
                    op.stage = if stall || short || op.moved >= total {
                        Stage::Csw
                    } else if is_in {
                        Stage::DataIn
                    } else {
                        Stage::DataOut
                    };
                    let (moved, out) = (op.moved, op.out.clone());
                    let next = match op.stage {
                        Stage::Csw => (ep_in, Bytes::new(), 13),
                        Stage::DataIn => (ep_in, Bytes::new(), (total - moved).min(MAX_BULK_CHUNK)),
                        _ => (ep_out, out.slice(moved..(moved + MAX_BULK_CHUNK).min(total)), 0),
                    };
                    let pending = self.bulk(guest, next.0, next.1, next.2)?;
                    if let Some(op) = self.op.as_mut() {
                        op.pending = pending;
                        op.transfers += 1;
                    }
                }
                Stage::Csw => {
                    let d = &answer.data;
                    if stall || d.len() != 13 || d[0..4] != *b"USBS" {
                        return Err(GuestError::Driver("bad CSW"));
                    }
                    if u32::from_le_bytes([d[4], d[5], d[6], d[7]]) != op.tag {
                        return Err(GuestError::Driver("CSW tag mismatch"));
                    }
                    return Ok(Some(ScsiOutcome {
                        status: d[12],
                        residue: u32::from_le_bytes([d[8], d[9], d[10], d[11]]),
                        data: std::mem::take(&mut op.data),
                        transfers: op.transfers,
                    }));
                }
            }
        }
    }
}
