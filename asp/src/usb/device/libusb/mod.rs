//! # Real USB devices through libusb-1.0 (feature `libusb`)
//!
//! This module owns the client's side of redirecting a real device: finding the devices
//! plugged into this machine ([`list_devices`]), naming one ([`Selector`]: `VID:PID` or
//! `BUS-ADDR`), and opening it as a [`SoftDevice`](super::SoftDevice) ([`LibusbDevice`]) that a
//! [`DeviceHost`](super::DeviceHost) serves to the guest like a device in software. The host
//! answers the standard requests from the descriptors read here, and tells the device when the
//! guest configures it, selects an interface setting or clears a halt; everything else is
//! forwarded to the device. Reading IN endpoints is done by a thread per endpoint so that the
//! host never waits on the device.
//!
//! What is not served: isochronous endpoints (audio, most cameras: such a device is refused
//! when opened), alternate settings other than 0, bulk streams, and descriptors beyond the
//! device, configuration, interface class and endpoint descriptors (SuperSpeed companions and
//! interface associations are not passed on).
//!
//! **Not tested against hardware here:** the machine that builds and tests this crate has no
//! USB bus. The tests cover what runs without one: the descriptor conversion, the selector,
//! the IN-endpoint workers over a scripted reader, and what libusb answers on a machine with
//! no bus.
//!
//! ## Example
//!
//! ```no_run
//! use asp::usb::Limits;
//! use asp::usb::device::DeviceHost;
//! use asp::usb::device::libusb::{LibusbDevice, Selector, list_devices};
//!
//! for device in list_devices()? {
//!     println!("{device}");
//! }
//! let selector: Selector = "046d:c52b".parse()?;
//! let device = LibusbDevice::open(&selector)?;
//! let host = DeviceHost::new(device, "asp", Limits::default())?;
//! // ... attach `host` to the session's USB slot.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod descriptors;
mod device;
mod selector;
#[cfg(test)]
mod tests;
mod worker;

use std::fmt;
use std::time::Duration;

use rusb::UsbContext;

use crate::usb::Speed;

pub use device::LibusbDevice;
pub use selector::{Selector, SelectorError};

/// How long a string descriptor read may take while listing.
const STRING_TIMEOUT: Duration = Duration::from_millis(200);

/// What went wrong finding or opening a device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LibusbError {
    /// libusb did not start.
    #[error("libusb could not start: {0}")]
    Init(#[source] rusb::Error),
    /// libusb lists no device at all, not even a root hub.
    #[error("no USB bus on this machine: libusb lists no USB device, not even a root hub")]
    NoBus,
    /// libusb could not list the devices.
    #[error("libusb could not list the USB devices: {0}")]
    List(#[source] rusb::Error),
    /// No device matches the selector.
    #[error("no USB device matches {0}")]
    NoMatch(Selector),
    /// Several devices match the selector.
    #[error("{count} USB devices match {selector}: name one by BUS-ADDR")]
    Ambiguous {
        /// The selector.
        selector: Selector,
        /// How many match.
        count: usize,
    },
    /// The operating system refused access.
    #[error("access to USB device {device} denied: check the udev rules that let this user open it")]
    Access {
        /// The device, as `BUS-ADDR (VID:PID)`.
        device: String,
    },
    /// Another program or driver holds the device.
    #[error("USB device {device} is busy: another program or driver holds it")]
    Busy {
        /// The device.
        device: String,
    },
    /// The device was unplugged.
    #[error("USB device {device} is gone: it was unplugged")]
    Gone {
        /// The device.
        device: String,
    },
    /// The device has an isochronous endpoint, which is not served.
    #[error(
        "USB device {device} has isochronous endpoint {endpoint:#04x} (interface {interface}), \
         which USB redirection does not serve"
    )]
    Isochronous {
        /// The device.
        device: String,
        /// The interface the endpoint belongs to.
        interface: u8,
        /// The endpoint's address.
        endpoint: u8,
    },
    /// Another libusb error.
    #[error("USB device {device}: {source}")]
    Usb {
        /// The device.
        device: String,
        /// libusb's error.
        #[source]
        source: rusb::Error,
    },
}

impl LibusbError {
    /// libusb's `source` for `device`, said plainly where it can be.
    fn from_usb(device: &str, source: rusb::Error) -> LibusbError {
        let device = device.to_owned();
        match source {
            rusb::Error::Access => LibusbError::Access { device },
            rusb::Error::Busy => LibusbError::Busy { device },
            rusb::Error::NoDevice => LibusbError::Gone { device },
            source => LibusbError::Usb { device, source },
        }
    }
}

/// A device plugged into this machine, as [`list_devices`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbDeviceInfo {
    /// Its bus number.
    pub bus: u8,
    /// Its address on the bus.
    pub address: u8,
    /// `idVendor`.
    pub vendor_id: u16,
    /// `idProduct`.
    pub product_id: u16,
    /// `bDeviceClass` (0: each interface says).
    pub class: u8,
    /// Its speed.
    pub speed: Speed,
    /// The manufacturer string, if the device has one and it could be read.
    pub manufacturer: Option<String>,
    /// The product string, likewise.
    pub product: Option<String>,
}

impl UsbDeviceInfo {
    /// The selector that names this device alone.
    #[must_use]
    pub fn selector(&self) -> Selector {
        Selector::BusAddr { bus: self.bus, address: self.address }
    }
}

impl fmt::Display for UsbDeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} {:04x}:{:04x}", self.bus, self.address, self.vendor_id, self.product_id)?;
        for text in [&self.manufacturer, &self.product].into_iter().flatten() {
            write!(f, " {text}")?;
        }
        Ok(())
    }
}

/// The USB devices plugged into this machine, root hubs included. Strings are read where the
/// device can be opened (see [`LibusbError::Access`]); an empty list is what libusb answers
/// on a machine with no USB bus.
///
/// # Errors
/// libusb did not start or could not list the devices.
pub fn list_devices() -> Result<Vec<UsbDeviceInfo>, LibusbError> {
    let context = context()?;
    let devices = context.devices().map_err(LibusbError::List)?;
    let mut list = Vec::new();
    for device in devices.iter() {
        // libusb keeps the device descriptor from enumeration: this read does not fail.
        let Ok(descriptor) = device.device_descriptor() else { continue };
        let strings = device.open().ok().map(|handle| device::read_strings(&handle, &descriptor, STRING_TIMEOUT));
        let [manufacturer, product, _] = strings.unwrap_or_default();
        list.push(UsbDeviceInfo {
            bus: device.bus_number(),
            address: device.address(),
            vendor_id: descriptor.vendor_id(),
            product_id: descriptor.product_id(),
            class: descriptor.class_code(),
            speed: descriptors::speed(device.speed()),
            manufacturer,
            product,
        });
    }
    Ok(list)
}

/// A libusb context of our own (rusb's global one panics when libusb does not start).
fn context() -> Result<rusb::Context, LibusbError> {
    rusb::Context::new().map_err(|error| {
        // libusb releases that need usbfs fail to start without it.
        if cfg!(target_os = "linux") && !std::path::Path::new("/dev/bus/usb").exists() {
            LibusbError::NoBus
        } else {
            LibusbError::Init(error)
        }
    })
}
