//! libusb's descriptors turned into the crate's [`DeviceDesc`] and [`ConfigDesc`].
//!
//! rusb's descriptor types can only be had from a real device, so the configuration is first
//! copied field by field into [`RawConfig`] (plain data, what libusb reports), and
//! [`config_desc`] converts that: the part the tests reach without hardware.

use crate::usb::device::{ConfigDesc, DeviceDesc, EndpointDesc, InterfaceDesc};
use crate::usb::{Speed, TransferType};

/// An endpoint as libusb describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RawEndpoint {
    pub(super) address: u8,
    pub(super) kind: rusb::TransferType,
    pub(super) max_packet_size: u16,
    pub(super) interval: u8,
}

/// One alternate setting of one interface as libusb describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawSetting {
    pub(super) number: u8,
    pub(super) alt: u8,
    pub(super) class: u8,
    pub(super) subclass: u8,
    pub(super) protocol: u8,
    /// The class descriptors after the interface descriptor.
    pub(super) extra: Vec<u8>,
    pub(super) endpoints: Vec<RawEndpoint>,
}

/// A configuration as libusb describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawConfig {
    /// `bConfigurationValue`: what the guest's configuration 1 stands for.
    pub(super) value: u8,
    /// `bmAttributes`.
    pub(super) attributes: u8,
    /// `bMaxPower`, in 2 mA units.
    pub(super) max_power: u8,
    /// Every alternate setting of every interface.
    pub(super) settings: Vec<RawSetting>,
}

impl RawConfig {
    /// Copies what libusb parsed.
    pub(super) fn read(config: &rusb::ConfigDescriptor) -> RawConfig {
        let settings = config
            .interfaces()
            .flat_map(|interface| interface.descriptors())
            .map(|s| RawSetting {
                number: s.interface_number(),
                alt: s.setting_number(),
                class: s.class_code(),
                subclass: s.sub_class_code(),
                protocol: s.protocol_code(),
                extra: s.extra().to_vec(),
                endpoints: s
                    .endpoint_descriptors()
                    .map(|e| RawEndpoint {
                        address: e.address(),
                        kind: e.transfer_type(),
                        max_packet_size: e.max_packet_size(),
                        interval: e.interval(),
                    })
                    .collect(),
            })
            .collect();
        let attributes = 0x80 | u8::from(config.self_powered()) << 6 | u8::from(config.remote_wakeup()) << 5;
        let max_power = u8::try_from(config.max_power() / 2).unwrap_or(u8::MAX);
        RawConfig { value: config.number(), attributes, max_power, settings }
    }
}

/// An isochronous endpoint, which [`DeviceHost`](crate::usb::device::DeviceHost) does not
/// serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Isochronous {
    pub(super) interface: u8,
    pub(super) endpoint: u8,
}

/// The configuration the guest sees: alternate setting 0 of every interface (the only one
/// the host describes), with its class descriptors and endpoints.
///
/// # Errors
/// The first isochronous endpoint in any alternate setting: a device that needs one (audio,
/// most cameras) would not work, so it is refused rather than offered half.
pub(super) fn config_desc(raw: &RawConfig) -> Result<ConfigDesc, Isochronous> {
    let mut interfaces = Vec::new();
    for setting in &raw.settings {
        if let Some(e) = setting.endpoints.iter().find(|e| e.kind == rusb::TransferType::Isochronous) {
            return Err(Isochronous { interface: setting.number, endpoint: e.address });
        }
        if setting.alt != 0 {
            continue;
        }
        let endpoints = setting
            .endpoints
            .iter()
            .map(|e| EndpointDesc {
                address: e.address,
                transfer_type: transfer_type(e.kind),
                max_packet_size: e.max_packet_size,
                interval: e.interval,
            })
            .collect();
        interfaces.push(InterfaceDesc {
            number: setting.number,
            class: setting.class,
            subclass: setting.subclass,
            protocol: setting.protocol,
            class_descriptors: setting.extra.clone(),
            endpoints,
        });
    }
    Ok(ConfigDesc { attributes: raw.attributes, max_power: raw.max_power, interfaces })
}

/// The device descriptor the guest sees; `strings` are the manufacturer, product and serial
/// (empty where the device has none or they did not read).
/// `version` is `bcdDevice` as the device sent it, if it was read.
pub(super) fn device_desc(
    d: &rusb::DeviceDescriptor,
    speed: rusb::Speed,
    version: Option<u16>,
    strings: [String; 3],
) -> DeviceDesc {
    let [manufacturer, product, serial] = strings;
    DeviceDesc {
        speed: self::speed(speed),
        class: d.class_code(),
        subclass: d.sub_class_code(),
        protocol: d.protocol_code(),
        max_packet_size0: d.max_packet_size(),
        vendor_id: d.vendor_id(),
        product_id: d.product_id(),
        device_version_bcd: version.unwrap_or_else(|| bcd(d.device_version())),
        manufacturer,
        product,
        serial,
    }
}

pub(super) fn transfer_type(kind: rusb::TransferType) -> TransferType {
    match kind {
        rusb::TransferType::Control => TransferType::Control,
        rusb::TransferType::Isochronous => TransferType::Iso,
        rusb::TransferType::Bulk => TransferType::Bulk,
        rusb::TransferType::Interrupt => TransferType::Interrupt,
    }
}

/// usbredir has no speed above SuperSpeed: SuperSpeed+ is announced as SuperSpeed.
pub(super) fn speed(speed: rusb::Speed) -> Speed {
    match speed {
        rusb::Speed::Low => Speed::Low,
        rusb::Speed::Full => Speed::Full,
        rusb::Speed::High => Speed::High,
        rusb::Speed::Super | rusb::Speed::SuperPlus => Speed::Super,
        _ => Speed::Unknown,
    }
}

/// A version back into its binary-coded decimal (`0x0110` for 1.1.0). rusb reads the major
/// byte as two decimal digits, so a `bcdDevice` that is not decimal does not come back
/// exactly: [`device_version`] is read from the device when it can be.
pub(super) fn bcd(version: rusb::Version) -> u16 {
    let major = u16::from(version.major());
    let [minor, sub_minor] = [version.minor(), version.sub_minor()].map(|n| u16::from(n & 0x0f));
    (major / 10).min(0x0f) << 12 | (major % 10) << 8 | minor << 4 | sub_minor
}

/// `bcdDevice` from the 18 bytes of a device descriptor, if they are one.
pub(super) fn device_version(descriptor: &[u8]) -> Option<u16> {
    match descriptor {
        [18, 1, _, _, _, _, _, _, _, _, _, _, low, high, _, _, _, _] => Some(u16::from_le_bytes([*low, *high])),
        _ => None,
    }
}
