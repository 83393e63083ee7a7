//! The packets of the usbredir protocol, as typed values.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use super::VERSION_LEN;
use super::caps::{Capability, Caps, Role};
use super::error::EncodeError;

/// Which side may send a packet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    Host,
    Guest,
    Both,
}

macro_rules! packet_types {
    ($($variant:ident = $code:literal, $name:literal, $sender:ident;)*) => {
        /// The type of a usbredir packet, with its code on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum PacketType {
            $(
                #[doc = concat!("`usb_redir_", $name, "` (", stringify!($code), ").")]
                $variant = $code,
            )*
        }

        impl PacketType {
            /// The type with this code, if there is one.
            #[must_use]
            pub fn from_code(code: u32) -> Option<PacketType> {
                match code {
                    $($code => Some(PacketType::$variant),)*
                    _ => None,
                }
            }

            /// The protocol's name, without the `usb_redir_` prefix.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(PacketType::$variant => $name,)*
                }
            }

            pub(crate) fn sender(self) -> Sender {
                match self {
                    $(PacketType::$variant => Sender::$sender,)*
                }
            }
        }
    };
}

packet_types! {
    Hello = 0, "hello", Both;
    DeviceConnect = 1, "device_connect", Host;
    DeviceDisconnect = 2, "device_disconnect", Host;
    Reset = 3, "reset", Guest;
    InterfaceInfo = 4, "interface_info", Host;
    EpInfo = 5, "ep_info", Host;
    SetConfiguration = 6, "set_configuration", Guest;
    GetConfiguration = 7, "get_configuration", Guest;
    ConfigurationStatus = 8, "configuration_status", Host;
    SetAltSetting = 9, "set_alt_setting", Guest;
    GetAltSetting = 10, "get_alt_setting", Guest;
    AltSettingStatus = 11, "alt_setting_status", Host;
    StartIsoStream = 12, "start_iso_stream", Guest;
    StopIsoStream = 13, "stop_iso_stream", Guest;
    IsoStreamStatus = 14, "iso_stream_status", Host;
    StartInterruptReceiving = 15, "start_interrupt_receiving", Guest;
    StopInterruptReceiving = 16, "stop_interrupt_receiving", Guest;
    InterruptReceivingStatus = 17, "interrupt_receiving_status", Host;
    AllocBulkStreams = 18, "alloc_bulk_streams", Guest;
    FreeBulkStreams = 19, "free_bulk_streams", Guest;
    BulkStreamsStatus = 20, "bulk_streams_status", Host;
    CancelDataPacket = 21, "cancel_data_packet", Guest;
    FilterReject = 22, "filter_reject", Guest;
    FilterFilter = 23, "filter_filter", Both;
    DeviceDisconnectAck = 24, "device_disconnect_ack", Guest;
    StartBulkReceiving = 25, "start_bulk_receiving", Guest;
    StopBulkReceiving = 26, "stop_bulk_receiving", Guest;
    BulkReceivingStatus = 27, "bulk_receiving_status", Host;
    ControlPacket = 100, "control_packet", Both;
    BulkPacket = 101, "bulk_packet", Both;
    IsoPacket = 102, "iso_packet", Both;
    InterruptPacket = 103, "interrupt_packet", Both;
    BufferedBulkPacket = 104, "buffered_bulk_packet", Host;
}

impl PacketType {
    /// Its code on the wire.
    #[must_use]
    pub fn code(self) -> u32 {
        self as u32
    }

    /// Whether `role` may send it.
    #[must_use]
    pub fn sent_by(self, role: Role) -> bool {
        matches!((self.sender(), role), (Sender::Both, _) | (Sender::Host, Role::Host) | (Sender::Guest, Role::Guest))
    }

    /// The capability both hellos must announce before it may be sent, if any.
    #[must_use]
    pub fn needs(self) -> Option<Capability> {
        match self {
            PacketType::FilterReject | PacketType::FilterFilter => Some(Capability::Filter),
            PacketType::DeviceDisconnectAck => Some(Capability::DeviceDisconnectAck),
            PacketType::StartBulkReceiving
            | PacketType::StopBulkReceiving
            | PacketType::BulkReceivingStatus
            | PacketType::BufferedBulkPacket => Some(Capability::BulkReceiving),
            _ => None,
        }
    }

    /// Whether variable data may follow its fixed header (capability words, a filter string,
    /// a transfer's payload).
    #[must_use]
    pub fn has_data(self) -> bool {
        matches!(
            self,
            PacketType::Hello
                | PacketType::FilterFilter
                | PacketType::ControlPacket
                | PacketType::BulkPacket
                | PacketType::IsoPacket
                | PacketType::InterruptPacket
                | PacketType::BufferedBulkPacket
        )
    }

    /// The size of its fixed header on a link with the `negotiated` capabilities.
    #[must_use]
    pub fn fixed_len(self, negotiated: Caps) -> usize {
        let has = |c| negotiated.contains(c);
        match self {
            PacketType::Hello => VERSION_LEN,
            PacketType::DeviceConnect if has(Capability::ConnectDeviceVersion) => 10,
            PacketType::DeviceConnect => 8,
            PacketType::InterfaceInfo => 4 + 4 * 32,
            PacketType::EpInfo => {
                let normalized = negotiated.normalized();
                if normalized.contains(Capability::BulkStreams) {
                    3 * 32 + 2 * 32 + 4 * 32
                } else if normalized.contains(Capability::EpInfoMaxPacketSize) {
                    3 * 32 + 2 * 32
                } else {
                    3 * 32
                }
            }
            PacketType::SetConfiguration => 1,
            PacketType::ConfigurationStatus => 2,
            PacketType::SetAltSetting => 2,
            PacketType::GetAltSetting => 1,
            PacketType::AltSettingStatus => 3,
            PacketType::StartIsoStream => 3,
            PacketType::StopIsoStream => 1,
            PacketType::IsoStreamStatus => 2,
            PacketType::StartInterruptReceiving | PacketType::StopInterruptReceiving => 1,
            PacketType::InterruptReceivingStatus => 2,
            PacketType::AllocBulkStreams => 8,
            PacketType::FreeBulkStreams => 4,
            PacketType::BulkStreamsStatus => 9,
            PacketType::StartBulkReceiving => 10,
            PacketType::StopBulkReceiving => 5,
            PacketType::BulkReceivingStatus => 6,
            PacketType::ControlPacket => 10,
            PacketType::BulkPacket if has(Capability::BulkLength32) => 10,
            PacketType::BulkPacket => 8,
            PacketType::IsoPacket | PacketType::InterruptPacket => 4,
            PacketType::BufferedBulkPacket => 10,
            PacketType::DeviceDisconnect
            | PacketType::Reset
            | PacketType::GetConfiguration
            | PacketType::CancelDataPacket
            | PacketType::FilterReject
            | PacketType::FilterFilter
            | PacketType::DeviceDisconnectAck => 0,
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! byte_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value the protocol does not define (kept as is).
            Other(u8),
        }

        impl $name {
            /// The value for this byte.
            #[must_use]
            pub fn from_u8(value: u8) -> $name {
                match value {
                    $($code => $name::$variant,)*
                    other => $name::Other(other),
                }
            }

            /// Its byte on the wire.
            #[must_use]
            pub fn to_u8(self) -> u8 {
                match self {
                    $($name::$variant => $code,)*
                    $name::Other(other) => other,
                }
            }
        }
    };
}

byte_enum! {
    /// The outcome a host reports for a request or transfer. Values the protocol does not
    /// define are errors too.
    Status {
        /// Done.
        Success = 0,
        /// The transfer was cancelled.
        Cancelled = 1,
        /// Invalid packet type, length or endpoint.
        Inval = 2,
        /// Input/output error.
        IoError = 3,
        /// The endpoint stalled.
        Stall = 4,
        /// The request timed out.
        Timeout = 5,
        /// The device babbled.
        Babble = 6,
    }
}

byte_enum! {
    /// A device's USB speed.
    Speed {
        /// Low speed (1.5 Mbit/s).
        Low = 0,
        /// Full speed (12 Mbit/s).
        Full = 1,
        /// High speed (480 Mbit/s).
        High = 2,
        /// SuperSpeed (5 Gbit/s).
        Super = 3,
        /// Not known.
        Unknown = 255,
    }
}

byte_enum! {
    /// An endpoint's transfer type (the USB specification's numbering).
    TransferType {
        /// Control.
        Control = 0,
        /// Isochronous.
        Iso = 1,
        /// Bulk.
        Bulk = 2,
        /// Interrupt.
        Interrupt = 3,
        /// No such endpoint.
        Invalid = 255,
    }
}

/// A hello's version string: 64 bytes on the wire, NUL-terminated. Bytes after the NUL are
/// kept as received (old libusbredirparser versions left garbage there) so that a packet
/// encodes back to the bytes it came from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Version([u8; VERSION_LEN]);

impl Version {
    /// A version string of at most 63 bytes and no NUL, padded with zeros.
    ///
    /// # Errors
    /// [`EncodeError::VersionTooLong`] or [`EncodeError::InteriorNul`].
    pub fn new(text: &str) -> Result<Version, EncodeError> {
        if text.len() >= VERSION_LEN {
            return Err(EncodeError::VersionTooLong { len: text.len() });
        }
        if text.contains('\0') {
            return Err(EncodeError::InteriorNul);
        }
        let mut bytes = [0; VERSION_LEN];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Version(bytes))
    }

    /// The 64 bytes as received, if they hold a NUL.
    pub(crate) fn from_wire(bytes: [u8; VERSION_LEN]) -> Option<Version> {
        bytes.contains(&0).then_some(Version(bytes))
    }

    /// The string before the NUL (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0[..self.0.iter().position(|&b| b == 0).unwrap_or(VERSION_LEN)])
    }

    /// The field's 64 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; VERSION_LEN] {
        &self.0
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", self.text())
    }
}

/// `hello`: the first packet each way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Free-form, for logs only.
    pub version: Version,
    /// The capability words, as many as were sent (at most [`MAX_CAP_WORDS`](super::MAX_CAP_WORDS)).
    pub cap_words: Vec<u32>,
}

impl Hello {
    /// A hello with one capability word.
    ///
    /// # Errors
    /// As [`Version::new`].
    pub fn new(version: &str, caps: Caps) -> Result<Hello, EncodeError> {
        Ok(Hello { version: Version::new(version)?, cap_words: vec![caps.bits()] })
    }

    /// The capabilities it announces (the first word; none when it sent no word).
    #[must_use]
    pub fn caps(&self) -> Caps {
        Caps::from_bits(self.cap_words.first().copied().unwrap_or(0))
    }
}

/// `device_connect`: a device is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceConnect {
    /// Its speed.
    pub speed: Speed,
    /// `bDeviceClass`.
    pub device_class: u8,
    /// `bDeviceSubClass`.
    pub device_subclass: u8,
    /// `bDeviceProtocol`.
    pub device_protocol: u8,
    /// `idVendor`.
    pub vendor_id: u16,
    /// `idProduct`.
    pub product_id: u16,
    /// `bcdDevice`: present exactly when both sides announce
    /// [`Capability::ConnectDeviceVersion`].
    pub device_version_bcd: Option<u16>,
}

/// One interface of an [`InterfaceInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// `bInterfaceNumber`.
    pub number: u8,
    /// `bInterfaceClass`.
    pub class: u8,
    /// `bInterfaceSubClass`.
    pub subclass: u8,
    /// `bInterfaceProtocol`.
    pub protocol: u8,
}

/// `interface_info`: the device's interfaces in its active configuration. The arrays are
/// the wire's (32 slots; slots from `count` on carry whatever was sent, kept for exact round
/// trips).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// How many slots are used: at most 32.
    pub count: u32,
    /// `bInterfaceNumber` per slot.
    pub interface: [u8; 32],
    /// `bInterfaceClass` per slot.
    pub class: [u8; 32],
    /// `bInterfaceSubClass` per slot.
    pub subclass: [u8; 32],
    /// `bInterfaceProtocol` per slot.
    pub protocol: [u8; 32],
}

impl InterfaceInfo {
    /// The packet for these interfaces (unused slots zero).
    ///
    /// # Errors
    /// [`EncodeError::Invalid`] with [`Violation::TooManyInterfaces`](super::Violation::TooManyInterfaces) for more than 32.
    pub fn new(interfaces: &[Interface]) -> Result<InterfaceInfo, EncodeError> {
        let count = u32::try_from(interfaces.len()).unwrap_or(u32::MAX);
        if interfaces.len() > 32 {
            return Err(super::Violation::TooManyInterfaces { count }.into());
        }
        let mut info =
            InterfaceInfo { count, interface: [0; 32], class: [0; 32], subclass: [0; 32], protocol: [0; 32] };
        for (slot, i) in interfaces.iter().enumerate() {
            info.interface[slot] = i.number;
            info.class[slot] = i.class;
            info.subclass[slot] = i.subclass;
            info.protocol[slot] = i.protocol;
        }
        Ok(info)
    }

    /// The used slots.
    pub fn interfaces(&self) -> impl Iterator<Item = Interface> + '_ {
        (0..(self.count.min(32) as usize)).map(|slot| Interface {
            number: self.interface[slot],
            class: self.class[slot],
            subclass: self.subclass[slot],
            protocol: self.protocol[slot],
        })
    }
}

/// `ep_info`: every endpoint's type, interval and interface, indexed by
/// [`EpInfo::index`] (OUT endpoints 0 to 15, then IN endpoints 0 to 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpInfo {
    /// Transfer type per endpoint ([`TransferType::Invalid`] where there is none).
    pub transfer_type: [TransferType; 32],
    /// `bInterval` per endpoint.
    pub interval: [u8; 32],
    /// The interface each endpoint belongs to.
    pub interface: [u8; 32],
    /// `wMaxPacketSize` per endpoint: present exactly when both sides announce
    /// [`Capability::EpInfoMaxPacketSize`].
    pub max_packet_size: Option<[u16; 32]>,
    /// Bulk streams per endpoint: present exactly when both sides announce
    /// [`Capability::BulkStreams`] (and [`Capability::EpInfoMaxPacketSize`]).
    pub max_streams: Option<[u32; 32]>,
}

impl EpInfo {
    /// No endpoint at all, with the optional arrays present as `negotiated` wants them.
    #[must_use]
    pub fn empty(negotiated: Caps) -> EpInfo {
        let negotiated = negotiated.normalized();
        EpInfo {
            transfer_type: [TransferType::Invalid; 32],
            interval: [0; 32],
            interface: [0; 32],
            max_packet_size: negotiated.contains(Capability::EpInfoMaxPacketSize).then_some([0; 32]),
            max_streams: negotiated.contains(Capability::BulkStreams).then_some([0; 32]),
        }
    }

    /// The slot of an endpoint address (bit 7 the direction, bits 0..4 the number).
    #[must_use]
    pub fn index(endpoint: u8) -> usize {
        usize::from(endpoint & 0x0f) + if endpoint & 0x80 != 0 { 16 } else { 0 }
    }

    /// The endpoint address of a slot (0..32).
    #[must_use]
    pub fn endpoint(index: usize) -> u8 {
        let number = (index & 0x0f) as u8;
        if index & 0x10 != 0 { 0x80 | number } else { number }
    }
}

/// `control_packet`: a control transfer on endpoint 0, the request from the guest or the
/// host's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPacket {
    /// 0x80 for an IN transfer, 0x00 for OUT.
    pub endpoint: u8,
    /// `bRequest`.
    pub request: u8,
    /// `bmRequestType`.
    pub request_type: u8,
    /// Meaningful in the host's answer only.
    pub status: Status,
    /// `wValue`.
    pub value: u16,
    /// `wIndex`.
    pub index: u16,
    /// `wLength` in the request; what was transferred in the answer.
    pub length: u16,
    /// OUT data in the guest's request, IN data in the host's answer (exactly `length`
    /// bytes); empty the other way.
    pub data: Bytes,
}

/// `bulk_packet`: a bulk transfer, the request from the guest or the host's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPacket {
    /// Endpoint address.
    pub endpoint: u8,
    /// Meaningful in the host's answer only.
    pub status: Status,
    /// Bytes to transfer, or transferred. Above 65535 only when both sides announce
    /// [`Capability::BulkLength32`]; at most [`MAX_TRANSFER_LEN`](super::MAX_TRANSFER_LEN).
    pub length: u32,
    /// USB 3 stream, 0 for none.
    pub stream_id: u32,
    /// OUT data with the guest's request, IN data with the host's answer; empty the other way.
    pub data: Bytes,
}

/// `iso_packet`: isochronous data, sent continuously once a stream is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoPacket {
    /// Endpoint address.
    pub endpoint: u8,
    /// Meaningful from the host only.
    pub status: Status,
    /// Length of `data`.
    pub length: u16,
    /// The data: OUT data from the guest, IN data from the host; never sent the other way.
    pub data: Bytes,
}

/// `interrupt_packet`: interrupt data; IN data comes unsolicited once receiving is started,
/// OUT data is a request the host answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptPacket {
    /// Endpoint address.
    pub endpoint: u8,
    /// Meaningful from the host only.
    pub status: Status,
    /// Bytes to transfer, or transferred.
    pub length: u16,
    /// OUT data from the guest, IN data from the host; empty in the host's answer to OUT.
    pub data: Bytes,
}

/// `buffered_bulk_packet`: bulk IN data the host read on its own once bulk receiving is
/// started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferedBulkPacket {
    /// USB 3 stream, 0 for none.
    pub stream_id: u32,
    /// Length of `data`, at most [`MAX_TRANSFER_LEN`](super::MAX_TRANSFER_LEN).
    pub length: u32,
    /// An IN endpoint address.
    pub endpoint: u8,
    /// The transfer's outcome.
    pub status: Status,
    /// The data read.
    pub data: Bytes,
}

/// One usbredir packet (without its header's id, which travels beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `hello`.
    Hello(Hello),
    /// `device_connect`.
    DeviceConnect(DeviceConnect),
    /// `device_disconnect`: the device is gone.
    DeviceDisconnect,
    /// `reset`: reset the device.
    Reset,
    /// `interface_info`.
    InterfaceInfo(Box<InterfaceInfo>),
    /// `ep_info`.
    EpInfo(Box<EpInfo>),
    /// `set_configuration`.
    SetConfiguration {
        /// `bConfigurationValue`.
        configuration: u8,
    },
    /// `get_configuration`.
    GetConfiguration,
    /// `configuration_status`: the answer to a set or get.
    ConfigurationStatus {
        /// Outcome.
        status: Status,
        /// The active configuration.
        configuration: u8,
    },
    /// `set_alt_setting`.
    SetAltSetting {
        /// Interface number.
        interface: u8,
        /// Alternate setting.
        alt: u8,
    },
    /// `get_alt_setting`.
    GetAltSetting {
        /// Interface number.
        interface: u8,
    },
    /// `alt_setting_status`: the answer to a set or get.
    AltSettingStatus {
        /// Outcome.
        status: Status,
        /// Interface number.
        interface: u8,
        /// The active alternate setting.
        alt: u8,
    },
    /// `start_iso_stream`.
    StartIsoStream {
        /// Endpoint address.
        endpoint: u8,
        /// Packets per URB the host submits.
        pkts_per_urb: u8,
        /// URBs the host keeps in flight.
        no_urbs: u8,
    },
    /// `stop_iso_stream`.
    StopIsoStream {
        /// Endpoint address.
        endpoint: u8,
    },
    /// `iso_stream_status`: the answer to a start or stop, or an unsolicited stream error.
    IsoStreamStatus {
        /// Outcome.
        status: Status,
        /// Endpoint address.
        endpoint: u8,
    },
    /// `start_interrupt_receiving`.
    StartInterruptReceiving {
        /// An IN endpoint address.
        endpoint: u8,
    },
    /// `stop_interrupt_receiving`.
    StopInterruptReceiving {
        /// An IN endpoint address.
        endpoint: u8,
    },
    /// `interrupt_receiving_status`.
    InterruptReceivingStatus {
        /// Outcome.
        status: Status,
        /// An IN endpoint address.
        endpoint: u8,
    },
    /// `alloc_bulk_streams`.
    AllocBulkStreams {
        /// Bitmask of the endpoints.
        endpoints: u32,
        /// Streams to allocate on each.
        no_streams: u32,
    },
    /// `free_bulk_streams`.
    FreeBulkStreams {
        /// Bitmask of the endpoints.
        endpoints: u32,
    },
    /// `bulk_streams_status`.
    BulkStreamsStatus {
        /// Bitmask of the endpoints.
        endpoints: u32,
        /// Streams allocated (0 after a free).
        no_streams: u32,
        /// Outcome.
        status: Status,
    },
    /// `cancel_data_packet`: cancel the data packet whose id the header carries.
    CancelDataPacket,
    /// `filter_reject`: the guest's filter refused the device.
    FilterReject,
    /// `filter_filter`: the sender's device filter.
    FilterFilter {
        /// Rules `class,vendor,product,version,allow` separated by `|` (sent NUL-terminated).
        rules: String,
    },
    /// `device_disconnect_ack`.
    DeviceDisconnectAck,
    /// `start_bulk_receiving`.
    StartBulkReceiving {
        /// USB 3 stream, 0 for none.
        stream_id: u32,
        /// Bytes per transfer, at most [`MAX_TRANSFER_LEN`](super::MAX_TRANSFER_LEN).
        bytes_per_transfer: u32,
        /// An IN endpoint address.
        endpoint: u8,
        /// Transfers the host keeps in flight.
        no_transfers: u8,
    },
    /// `stop_bulk_receiving`.
    StopBulkReceiving {
        /// USB 3 stream, 0 for none.
        stream_id: u32,
        /// An IN endpoint address.
        endpoint: u8,
    },
    /// `bulk_receiving_status`.
    BulkReceivingStatus {
        /// USB 3 stream, 0 for none.
        stream_id: u32,
        /// An IN endpoint address.
        endpoint: u8,
        /// Outcome.
        status: Status,
    },
    /// `control_packet`.
    Control(ControlPacket),
    /// `bulk_packet`.
    Bulk(BulkPacket),
    /// `iso_packet`.
    Iso(IsoPacket),
    /// `interrupt_packet`.
    Interrupt(InterruptPacket),
    /// `buffered_bulk_packet`.
    BufferedBulk(BufferedBulkPacket),
}

impl Packet {
    /// Its type.
    #[must_use]
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Hello(_) => PacketType::Hello,
            Packet::DeviceConnect(_) => PacketType::DeviceConnect,
            Packet::DeviceDisconnect => PacketType::DeviceDisconnect,
            Packet::Reset => PacketType::Reset,
            Packet::InterfaceInfo(_) => PacketType::InterfaceInfo,
            Packet::EpInfo(_) => PacketType::EpInfo,
            Packet::SetConfiguration { .. } => PacketType::SetConfiguration,
            Packet::GetConfiguration => PacketType::GetConfiguration,
            Packet::ConfigurationStatus { .. } => PacketType::ConfigurationStatus,
            Packet::SetAltSetting { .. } => PacketType::SetAltSetting,
            Packet::GetAltSetting { .. } => PacketType::GetAltSetting,
            Packet::AltSettingStatus { .. } => PacketType::AltSettingStatus,
            Packet::StartIsoStream { .. } => PacketType::StartIsoStream,
            Packet::StopIsoStream { .. } => PacketType::StopIsoStream,
            Packet::IsoStreamStatus { .. } => PacketType::IsoStreamStatus,
            Packet::StartInterruptReceiving { .. } => PacketType::StartInterruptReceiving,
            Packet::StopInterruptReceiving { .. } => PacketType::StopInterruptReceiving,
            Packet::InterruptReceivingStatus { .. } => PacketType::InterruptReceivingStatus,
            Packet::AllocBulkStreams { .. } => PacketType::AllocBulkStreams,
            Packet::FreeBulkStreams { .. } => PacketType::FreeBulkStreams,
            Packet::BulkStreamsStatus { .. } => PacketType::BulkStreamsStatus,
            Packet::CancelDataPacket => PacketType::CancelDataPacket,
            Packet::FilterReject => PacketType::FilterReject,
            Packet::FilterFilter { .. } => PacketType::FilterFilter,
            Packet::DeviceDisconnectAck => PacketType::DeviceDisconnectAck,
            Packet::StartBulkReceiving { .. } => PacketType::StartBulkReceiving,
            Packet::StopBulkReceiving { .. } => PacketType::StopBulkReceiving,
            Packet::BulkReceivingStatus { .. } => PacketType::BulkReceivingStatus,
            Packet::Control(_) => PacketType::ControlPacket,
            Packet::Bulk(_) => PacketType::BulkPacket,
            Packet::Iso(_) => PacketType::IsoPacket,
            Packet::Interrupt(_) => PacketType::InterruptPacket,
            Packet::BufferedBulk(_) => PacketType::BufferedBulkPacket,
        }
    }

    /// The transfer's payload, for data packets (empty where none travels).
    #[must_use]
    pub fn payload(&self) -> Option<&Bytes> {
        match self {
            Packet::Control(p) => Some(&p.data),
            Packet::Bulk(p) => Some(&p.data),
            Packet::Iso(p) => Some(&p.data),
            Packet::Interrupt(p) => Some(&p.data),
            Packet::BufferedBulk(p) => Some(&p.data),
            _ => None,
        }
    }
}
