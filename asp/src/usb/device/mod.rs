//! # Software USB devices behind the usb-host role
//!
//! A [`SoftDevice`] is a USB device written in Rust: it describes itself (device,
//! configuration, interfaces, endpoints) and answers class requests and bulk and interrupt
//! transfers. A [`DeviceHost`] plays the usbredir *usb-host* for one of them: it answers the
//! guest's hello, announces the device (`interface_info`, `ep_info`, `device_connect`), and
//! answers every request the guest sends. The standard control requests (descriptors,
//! configuration, interface, status, clear feature) are answered here from the descriptors;
//! everything else goes to the device.
//!
//! It is sans-IO like the rest of [`crate::usb`]: the caller moves bytes.
//! [`DeviceHost::handle_input`] takes the guest's bytes, [`DeviceHost::poll_transmit`] gives
//! the bytes to send back (and first collects the interrupt reports the device has ready for
//! endpoints the guest receives on). Queues are bounded: at most [`MAX_PENDING_IN`] bulk IN
//! requests wait for data, and the outgoing buffer is drained by the caller.
//!
//! Two devices come with it: [`HidKeyboard`] (a boot-protocol keyboard) and [`MassStorage`]
//! (Bulk-Only Transport with SCSI over any `Read + Write + Seek`). With the `libusb` feature,
//! `libusb::LibusbDevice` is a real device plugged into this machine.
//!
//! ## Example
//!
//! A keyboard types "a" to a [`Guest`](crate::usb::guest::Guest) in memory:
//!
//! ```
//! use asp::usb::Limits;
//! use asp::usb::device::{DeviceHost, HidKeyboard};
//! use asp::usb::guest::{Guest, KeyEvent, KeyboardDriver};
//!
//! let mut host = DeviceHost::new(HidKeyboard::new(), "soft host", Limits::default()).unwrap();
//! let mut guest = Guest::new("guest", Limits::default()).unwrap();
//! // The run loop: move bytes each way until both sides are quiet.
//! let pump = |host: &mut DeviceHost<HidKeyboard>, guest: &mut Guest| loop {
//!     let to_host = guest.poll_transmit();
//!     let to_guest = host.poll_transmit().unwrap();
//!     if to_host.is_none() && to_guest.is_none() {
//!         break;
//!     }
//!     if let Some(bytes) = to_guest {
//!         guest.handle_input(&bytes).unwrap();
//!     }
//!     if let Some(bytes) = to_host {
//!         host.handle_input(&bytes).unwrap();
//!     }
//! };
//! pump(&mut host, &mut guest);
//! assert!(guest.is_ready());
//! let mut keyboard = KeyboardDriver::start(&mut guest).unwrap();
//! pump(&mut host, &mut guest);
//! host.device_mut().press(0x04);
//! host.device_mut().release(0x04);
//! pump(&mut host, &mut guest);
//! assert_eq!(
//!     keyboard.poll(&mut guest),
//!     [KeyEvent { usage: 0x04, pressed: true }, KeyEvent { usage: 0x04, pressed: false }]
//! );
//! ```

mod keyboard;
#[cfg(feature = "libusb")]
pub mod libusb;
mod storage;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use bytes::Bytes;

use super::filter::{Filter, FilteredDevice};
use super::{
    BulkPacket, Caps, ControlPacket, DecodeError, DeviceConnect, EncodeError, EpInfo, Interface, InterfaceInfo,
    InterruptPacket, Limits, Packet, PacketType, Parser, Role, Speed, Status, TransferType,
};

pub use keyboard::{HidKeyboard, MAX_QUEUED_REPORTS};
pub use storage::{BLOCK_SIZE, MassStorage, Sense};

/// The most bulk IN requests a [`DeviceHost`] holds while its device has no data for them.
pub const MAX_PENDING_IN: usize = 64;

/// One endpoint of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointDesc {
    /// Its address: number, and 0x80 for IN.
    pub address: u8,
    /// Bulk or interrupt (control and iso endpoints are not offered).
    pub transfer_type: TransferType,
    /// `wMaxPacketSize`.
    pub max_packet_size: u16,
    /// `bInterval`.
    pub interval: u8,
}

/// One interface (alternate setting 0) of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDesc {
    /// `bInterfaceNumber`.
    pub number: u8,
    /// `bInterfaceClass`.
    pub class: u8,
    /// `bInterfaceSubClass`.
    pub subclass: u8,
    /// `bInterfaceProtocol`.
    pub protocol: u8,
    /// Class-specific descriptors written between the interface and its endpoints (the HID
    /// descriptor), whole, with their own length and type bytes.
    pub class_descriptors: Vec<u8>,
    /// Its endpoints.
    pub endpoints: Vec<EndpointDesc>,
}

/// What the device descriptor and the strings say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDesc {
    /// The speed announced in `device_connect`.
    pub speed: Speed,
    /// `bDeviceClass` (0: per interface).
    pub class: u8,
    /// `bDeviceSubClass`.
    pub subclass: u8,
    /// `bDeviceProtocol`.
    pub protocol: u8,
    /// `bMaxPacketSize0`.
    pub max_packet_size0: u8,
    /// `idVendor`.
    pub vendor_id: u16,
    /// `idProduct`.
    pub product_id: u16,
    /// `bcdDevice`.
    pub device_version_bcd: u16,
    /// String 1.
    pub manufacturer: String,
    /// String 2.
    pub product: String,
    /// String 3.
    pub serial: String,
}

/// The device's one configuration (value 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDesc {
    /// `bmAttributes` (0x80: bus powered).
    pub attributes: u8,
    /// `bMaxPower`, in 2 mA units.
    pub max_power: u8,
    /// Its interfaces.
    pub interfaces: Vec<InterfaceDesc>,
}

impl DeviceDesc {
    /// The 18-byte device descriptor.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut d = vec![18, 1, 0x00, 0x02, self.class, self.subclass, self.protocol, self.max_packet_size0];
        d.extend_from_slice(&self.vendor_id.to_le_bytes());
        d.extend_from_slice(&self.product_id.to_le_bytes());
        d.extend_from_slice(&self.device_version_bcd.to_le_bytes());
        d.extend_from_slice(&[1, 2, 3, 1]);
        d
    }
}

impl ConfigDesc {
    /// The whole configuration descriptor: configuration, interfaces, class descriptors and
    /// endpoints, `wTotalLength` filled in.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let count = u8::try_from(self.interfaces.len()).unwrap_or(u8::MAX);
        let mut d = vec![9, 2, 0, 0, count, 1, 0, self.attributes, self.max_power];
        for i in &self.interfaces {
            let endpoints = u8::try_from(i.endpoints.len()).unwrap_or(u8::MAX);
            d.extend_from_slice(&[9, 4, i.number, 0, endpoints, i.class, i.subclass, i.protocol, 0]);
            d.extend_from_slice(&i.class_descriptors);
            for e in &i.endpoints {
                d.extend_from_slice(&[7, 5, e.address, e.transfer_type.to_u8()]);
                d.extend_from_slice(&e.max_packet_size.to_le_bytes());
                d.push(e.interval);
            }
        }
        let total = u16::try_from(d.len()).unwrap_or(u16::MAX).to_le_bytes();
        d[2..4].copy_from_slice(&total);
        d
    }
}

/// The eight bytes of a control request's setup stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    /// `bmRequestType`.
    pub request_type: u8,
    /// `bRequest`.
    pub request: u8,
    /// `wValue`.
    pub value: u16,
    /// `wIndex`.
    pub index: u16,
    /// `wLength`.
    pub length: u16,
}

/// A device's refusal: the transfer ends with a STALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall;

/// A USB device in software.
pub trait SoftDevice {
    /// The device descriptor and strings.
    fn device(&self) -> &DeviceDesc;
    /// The configuration.
    fn configuration(&self) -> &ConfigDesc;
    /// A control request the host does not answer itself (class and vendor requests, and
    /// standard `GET_DESCRIPTOR` to an interface); `data` is the OUT stage. Returns the IN
    /// stage (at most `setup.length` bytes are sent).
    ///
    /// # Errors
    /// [`Stall`] for a request the device does not know.
    fn control(&mut self, setup: Setup, data: &[u8]) -> Result<Vec<u8>, Stall>;
    /// Data the guest sent to a bulk OUT endpoint.
    ///
    /// # Errors
    /// [`Stall`] when the device refuses it.
    fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall>;
    /// At most `max_len` bytes for a bulk IN request; `None` while the device has none.
    ///
    /// # Errors
    /// [`Stall`] when the endpoint is halted.
    fn bulk_in(&mut self, endpoint: u8, max_len: usize) -> Result<Option<Vec<u8>>, Stall>;
    /// The next report for an interrupt IN endpoint, if the device has one.
    fn interrupt_in(&mut self, endpoint: u8) -> Option<Vec<u8>>;
    /// A bus reset: back to the state after plugging in.
    fn reset(&mut self);

    /// The guest sets configuration `value` (0: unconfigured, 1: the one configuration),
    /// by usbredir packet or by the standard request. The host has checked `value`; a device
    /// in software has nothing to do.
    ///
    /// # Errors
    /// [`Stall`] when the device refuses it; the host then keeps its configuration.
    fn set_configuration(&mut self, value: u8) -> Result<(), Stall> {
        let _ = value;
        Ok(())
    }

    /// The guest selects alternate setting `alt` of `interface`. The host has checked that the
    /// interface exists and that `alt` is 0, the only setting it describes.
    ///
    /// # Errors
    /// [`Stall`] when the device refuses it.
    fn set_interface(&mut self, interface: u8, alt: u8) -> Result<(), Stall> {
        let _ = (interface, alt);
        Ok(())
    }

    /// The guest clears the halt of `endpoint` (`CLEAR_FEATURE(ENDPOINT_HALT)`).
    ///
    /// # Errors
    /// [`Stall`] when the device refuses it.
    fn clear_halt(&mut self, endpoint: u8) -> Result<(), Stall> {
        let _ = endpoint;
        Ok(())
    }

    /// Data the guest sent to an interrupt OUT endpoint. A device in software has none, and
    /// refuses.
    ///
    /// # Errors
    /// [`Stall`] when the device refuses it.
    fn interrupt_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall> {
        let _ = (endpoint, data);
        Err(Stall)
    }
}

/// What went wrong in a [`DeviceHost`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The guest's bytes did not parse.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An answer could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The guest sent a request before the hellos were exchanged, or a type the host does not
    /// serve.
    #[error("unexpected {0} from the guest")]
    Unexpected(PacketType),
    /// Too many bulk IN requests wait for data.
    #[error("more than {max} bulk IN requests pending")]
    TooManyPending {
        /// [`MAX_PENDING_IN`].
        max: usize,
    },
}

/// Counters of a [`DeviceHost`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Packets sent.
    pub packets_sent: u64,
    /// Bytes sent, headers included.
    pub bytes_sent: u64,
    /// Control requests answered.
    pub control: u64,
    /// Bulk requests answered.
    pub bulk: u64,
    /// Interrupt reports sent.
    pub interrupt: u64,
}

/// The usbredir usb-host for one [`SoftDevice`]; see the [module docs](self).
#[derive(Debug)]
pub struct DeviceHost<D> {
    device: D,
    parser: Parser,
    out: Vec<u8>,
    announced: bool,
    configuration: u8,
    receiving: u32,
    pending_in: VecDeque<(u64, BulkPacket)>,
    next_id: u64,
    stats: HostStats,
    /// The guest's device filter, once it has sent one.
    filter: Option<Filter>,
    /// Why the guest refused the device, once it has (`filter_reject`).
    rejected: Option<String>,
}

impl<D: SoftDevice> DeviceHost<D> {
    /// A host for `device`; its hello is queued at once.
    ///
    /// # Errors
    /// Only if `version` is too long for a hello.
    pub fn new(device: D, version: &str, limits: Limits) -> Result<DeviceHost<D>, HostError> {
        let parser = Parser::new(Role::Host, Caps::all_known(), limits);
        let mut out = Vec::new();
        parser.encode_hello(version, &mut out)?;
        Ok(DeviceHost {
            device,
            parser,
            out,
            announced: false,
            configuration: 0,
            receiving: 0,
            pending_in: VecDeque::new(),
            next_id: 0,
            stats: HostStats::default(),
            filter: None,
            rejected: None,
        })
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, to change it (press a key); [`poll_transmit`](Self::poll_transmit) sends
    /// what it then has.
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// Its counters.
    #[must_use]
    pub fn stats(&self) -> HostStats {
        self.stats
    }

    /// The guest's device filter, if it sent one (a filter that did not parse is kept as
    /// none).
    #[must_use]
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// Why the guest refused the device, once it has (`filter_reject`): the class its filter
    /// refuses, where the filter it sent says which.
    #[must_use]
    pub fn rejected(&self) -> Option<&str> {
        self.rejected.as_deref()
    }

    /// What a guest's filter is checked against.
    #[must_use]
    pub fn filtered_device(&self) -> FilteredDevice {
        let (d, interfaces) = (self.device.device(), &self.device.configuration().interfaces);
        FilteredDevice {
            class: d.class,
            vendor: d.vendor_id,
            product: d.product_id,
            version: d.device_version_bcd,
            interfaces: interfaces.iter().map(|i| [i.class, i.subclass, i.protocol]).collect(),
        }
    }

    /// The configuration the guest set (0: none).
    #[must_use]
    pub fn configuration(&self) -> u8 {
        self.configuration
    }

    /// Takes the guest's bytes and answers every whole packet in them.
    ///
    /// # Errors
    /// The first packet that did not parse or could not be answered; the rest stay buffered
    /// for the next call.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), HostError> {
        self.parser.feed(data);
        while let Some(received) = self.parser.poll() {
            let received = received?;
            self.handle(received.id, received.packet)?;
        }
        Ok(())
    }

    /// The bytes to send to the guest, after collecting the device's interrupt reports and
    /// answering waiting bulk IN requests; `None` when there is nothing to send.
    ///
    /// # Errors
    /// An answer could not be encoded.
    pub fn poll_transmit(&mut self) -> Result<Option<Vec<u8>>, HostError> {
        if self.parser.outgoing().is_some() && self.configuration != 0 {
            for index in 16..32 {
                if self.receiving & (1 << index) == 0 {
                    continue;
                }
                let endpoint = EpInfo::endpoint(index);
                while let Some(report) = self.device.interrupt_in(endpoint) {
                    let id = self.next_id;
                    self.next_id += 1;
                    let length = u16::try_from(report.len()).unwrap_or(u16::MAX);
                    let packet = InterruptPacket { endpoint, status: Status::Success, length, data: report.into() };
                    self.send(id, &Packet::Interrupt(packet))?;
                    self.stats.interrupt += 1;
                }
            }
            self.serve_pending_in()?;
        }
        Ok((!self.out.is_empty()).then(|| std::mem::take(&mut self.out)))
    }

    fn send(&mut self, id: u64, packet: &Packet) -> Result<(), HostError> {
        let codec = self.parser.outgoing().ok_or(HostError::Unexpected(packet.packet_type()))?;
        let n = codec.encode(id, packet, &mut self.out)?;
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += n as u64;
        Ok(())
    }

    fn announce(&mut self) -> Result<(), HostError> {
        let caps = self.parser.negotiated().unwrap_or_default();
        let config = self.device.configuration().clone();
        let interfaces: Vec<Interface> = config
            .interfaces
            .iter()
            .map(|i| Interface { number: i.number, class: i.class, subclass: i.subclass, protocol: i.protocol })
            .collect();
        self.send(0, &Packet::InterfaceInfo(Box::new(InterfaceInfo::new(&interfaces)?)))?;
        let mut ep = EpInfo::empty(caps);
        for index in [0, 16] {
            ep.transfer_type[index] = TransferType::Control;
            if let Some(sizes) = ep.max_packet_size.as_mut() {
                sizes[index] = u16::from(self.device.device().max_packet_size0);
            }
        }
        for i in &config.interfaces {
            for e in &i.endpoints {
                let index = EpInfo::index(e.address);
                ep.transfer_type[index] = e.transfer_type;
                ep.interval[index] = e.interval;
                ep.interface[index] = i.number;
                if let Some(sizes) = ep.max_packet_size.as_mut() {
                    sizes[index] = e.max_packet_size;
                }
            }
        }
        self.send(0, &Packet::EpInfo(Box::new(ep)))?;
        let d = self.device.device();
        let connect = DeviceConnect {
            speed: d.speed,
            device_class: d.class,
            device_subclass: d.subclass,
            device_protocol: d.protocol,
            vendor_id: d.vendor_id,
            product_id: d.product_id,
            device_version_bcd: caps.contains(super::Capability::ConnectDeviceVersion).then_some(d.device_version_bcd),
        };
        self.send(0, &Packet::DeviceConnect(connect))?;
        self.announced = true;
        Ok(())
    }

    fn handle(&mut self, id: u64, packet: Packet) -> Result<(), HostError> {
        match packet {
            Packet::Hello(_) => {
                if !self.announced {
                    self.announce()?;
                }
            }
            Packet::Reset => {
                self.device.reset();
                self.configuration = 0;
                self.receiving = 0;
                self.pending_in.clear();
            }
            Packet::SetConfiguration { configuration } => {
                let status = match self.set_configuration(configuration) {
                    Ok(()) => Status::Success,
                    Err(Stall) => Status::Stall,
                };
                self.send(id, &Packet::ConfigurationStatus { status, configuration: self.configuration })?;
            }
            Packet::GetConfiguration => {
                let configuration = self.configuration;
                self.send(id, &Packet::ConfigurationStatus { status: Status::Success, configuration })?;
            }
            Packet::SetAltSetting { interface, alt } => {
                let status = match self.set_interface(interface, alt) {
                    Ok(()) => Status::Success,
                    Err(Stall) => Status::Stall,
                };
                self.send(id, &Packet::AltSettingStatus { status, interface, alt: 0 })?;
            }
            Packet::GetAltSetting { interface } => {
                let status = if self.has_interface(interface) { Status::Success } else { Status::Inval };
                self.send(id, &Packet::AltSettingStatus { status, interface, alt: 0 })?;
            }
            Packet::StartInterruptReceiving { endpoint } => {
                let ok = self.endpoint_type(endpoint) == Some(TransferType::Interrupt);
                if ok {
                    self.receiving |= 1 << EpInfo::index(endpoint);
                }
                let status = if ok { Status::Success } else { Status::Inval };
                self.send(id, &Packet::InterruptReceivingStatus { status, endpoint })?;
            }
            Packet::StopInterruptReceiving { endpoint } => {
                self.receiving &= !(1 << EpInfo::index(endpoint));
                self.send(id, &Packet::InterruptReceivingStatus { status: Status::Success, endpoint })?;
            }
            Packet::CancelDataPacket => {
                if let Some(at) = self.pending_in.iter().position(|(pending, _)| *pending == id) {
                    if let Some((_, mut p)) = self.pending_in.remove(at) {
                        p.status = Status::Cancelled;
                        p.length = 0;
                        self.send(id, &Packet::Bulk(p))?;
                    }
                }
            }
            Packet::Control(p) => {
                let answer = self.control(p);
                self.stats.control += 1;
                self.send(id, &Packet::Control(answer))?;
            }
            Packet::Bulk(p) => self.bulk(id, p)?,
            Packet::Interrupt(p) if p.endpoint & 0x80 == 0 => {
                let status = match self.device.interrupt_out(p.endpoint, &p.data) {
                    Ok(()) => Status::Success,
                    Err(Stall) => Status::Stall,
                };
                let answer = InterruptPacket { status, data: Bytes::new(), ..p };
                self.send(id, &Packet::Interrupt(answer))?;
            }
            // What the soft devices do not offer is refused with the status packet it expects.
            Packet::StartIsoStream { endpoint, .. } | Packet::StopIsoStream { endpoint } => {
                self.send(id, &Packet::IsoStreamStatus { status: Status::Stall, endpoint })?;
            }
            Packet::AllocBulkStreams { endpoints, .. } | Packet::FreeBulkStreams { endpoints } => {
                let answer = Packet::BulkStreamsStatus { endpoints, no_streams: 0, status: Status::Stall };
                self.send(id, &answer)?;
            }
            Packet::StartBulkReceiving { stream_id, endpoint, .. }
            | Packet::StopBulkReceiving { stream_id, endpoint } => {
                self.send(id, &Packet::BulkReceivingStatus { stream_id, endpoint, status: Status::Stall })?;
            }
            Packet::FilterFilter { rules } => self.filter = Filter::parse(&rules).ok(),
            Packet::FilterReject => {
                let why = match self.filter.as_ref().map(|f| f.check(&self.filtered_device())) {
                    Some(Err(refusal)) => crate::usb::link::describe(refusal.class),
                    _ => "the server refused the device".to_owned(),
                };
                self.rejected = Some(why);
                self.pending_in.clear();
                self.receiving = 0;
            }
            Packet::Iso(_) | Packet::DeviceDisconnectAck => {}
            other => return Err(HostError::Unexpected(other.packet_type())),
        }
        Ok(())
    }

    /// Configuration 0 or 1, if the device takes it.
    fn set_configuration(&mut self, value: u8) -> Result<(), Stall> {
        if value > 1 {
            return Err(Stall);
        }
        self.device.set_configuration(value)?;
        self.configuration = value;
        Ok(())
    }

    /// Alternate setting 0 of an interface the configuration has, if the device takes it.
    fn set_interface(&mut self, interface: u8, alt: u8) -> Result<(), Stall> {
        if alt != 0 || !self.has_interface(interface) {
            return Err(Stall);
        }
        self.device.set_interface(interface, alt)
    }

    fn has_interface(&self, number: u8) -> bool {
        self.device.configuration().interfaces.iter().any(|i| i.number == number)
    }

    fn endpoint_type(&self, address: u8) -> Option<TransferType> {
        self.device
            .configuration()
            .interfaces
            .iter()
            .flat_map(|i| &i.endpoints)
            .find(|e| e.address == address)
            .map(|e| e.transfer_type)
    }

    fn control(&mut self, p: ControlPacket) -> ControlPacket {
        let setup = Setup {
            request_type: p.request_type,
            request: p.request,
            value: p.value,
            index: p.index,
            length: p.length,
        };
        let is_in = p.endpoint & 0x80 != 0;
        let result = self.standard(setup).unwrap_or_else(|| self.device.control(setup, &p.data));
        let (status, mut data) = match result {
            Ok(data) => (Status::Success, data),
            Err(Stall) => (Status::Stall, Vec::new()),
        };
        if is_in {
            data.truncate(usize::from(p.length));
            ControlPacket { status, length: u16::try_from(data.len()).unwrap_or(0), data: data.into(), ..p }
        } else {
            ControlPacket { status, data: Bytes::new(), ..p }
        }
    }

    /// The standard requests answered from the descriptors; `None` for the device's own.
    fn standard(&mut self, s: Setup) -> Option<Result<Vec<u8>, Stall>> {
        let recipient = s.request_type & 0x1f;
        if s.request_type & 0x60 != 0 {
            return None;
        }
        Some(match (recipient, s.request) {
            (0, 6) => {
                let [index, kind] = s.value.to_le_bytes();
                match kind {
                    1 => Ok(self.device.device().to_bytes()),
                    2 if index == 0 => Ok(self.device.configuration().to_bytes()),
                    3 => self.string(index),
                    _ => Err(Stall),
                }
            }
            (0, 8) => Ok(vec![self.configuration]),
            (0, 9) => {
                let value = u8::try_from(s.value).map_err(|_| Stall);
                value.and_then(|value| self.set_configuration(value)).map(|()| Vec::new())
            }
            (_, 0) => Ok(vec![0, 0]),
            (1, 10) => Ok(vec![0]),
            (1, 11) => {
                let setting = u8::try_from(s.value).map_err(|_| Stall);
                setting.and_then(|alt| self.set_interface(s.index as u8, alt)).map(|()| Vec::new())
            }
            // CLEAR_FEATURE(ENDPOINT_HALT); other endpoint features are taken and ignored.
            (2, 1) if s.value == 0 => self.device.clear_halt(s.index as u8).map(|()| Vec::new()),
            (2, 1) | (0, 1) | (0, 3) => Ok(Vec::new()),
            (1, _) => return None,
            _ => Err(Stall),
        })
    }

    fn string(&self, index: u8) -> Result<Vec<u8>, Stall> {
        let d = self.device.device();
        let text = match index {
            0 => return Ok(vec![4, 3, 0x09, 0x04]),
            1 => &d.manufacturer,
            2 => &d.product,
            3 => &d.serial,
            _ => return Err(Stall),
        };
        let mut out = vec![0, 3];
        for unit in text.encode_utf16().take(126) {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out[0] = u8::try_from(out.len()).unwrap_or(u8::MAX);
        Ok(out)
    }

    fn bulk(&mut self, id: u64, p: BulkPacket) -> Result<(), HostError> {
        self.stats.bulk += 1;
        if p.endpoint & 0x80 == 0 {
            let status = match self.device.bulk_out(p.endpoint, &p.data) {
                Ok(()) => Status::Success,
                Err(Stall) => Status::Stall,
            };
            let answer = BulkPacket { status, data: Bytes::new(), ..p };
            return self.send(id, &Packet::Bulk(answer));
        }
        if self.pending_in.len() >= MAX_PENDING_IN {
            return Err(HostError::TooManyPending { max: MAX_PENDING_IN });
        }
        self.pending_in.push_back((id, p));
        self.serve_pending_in()
    }

    fn serve_pending_in(&mut self) -> Result<(), HostError> {
        while let Some((id, p)) = self.pending_in.pop_front() {
            let answer = match self.device.bulk_in(p.endpoint, p.length as usize) {
                Ok(None) => {
                    self.pending_in.push_front((id, p));
                    return Ok(());
                }
                Ok(Some(data)) => BulkPacket {
                    status: Status::Success,
                    length: u32::try_from(data.len()).unwrap_or(0),
                    data: data.into(),
                    ..p
                },
                Err(Stall) => BulkPacket { status: Status::Stall, length: 0, data: Bytes::new(), ..p },
            };
            self.send(id, &Packet::Bulk(answer))?;
        }
        Ok(())
    }
}
