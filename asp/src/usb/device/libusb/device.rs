//! [`LibusbDevice`]: a real device behind the [`SoftDevice`] trait.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rusb::{Context, DeviceHandle, UsbContext};

use super::descriptors::{self, RawConfig};
use super::worker::{InWorker, Kind, Mode, READ_TIMEOUT};
use super::{LibusbError, Selector, context};
use crate::usb::TransferType;
use crate::usb::device::{ConfigDesc, DeviceDesc, Setup, SoftDevice, Stall};

/// How long a control transfer or an OUT transfer may take; the host waits for it.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long reading a descriptor at open may take.
const DESCRIPTOR_TIMEOUT: Duration = Duration::from_secs(1);

/// A USB device plugged into this machine, opened through libusb and served by a
/// [`DeviceHost`](crate::usb::device::DeviceHost).
///
/// The guest sees the device's configuration (the active one when opened), alternate setting 0
/// of each interface. Setting configuration 1 detaches the kernel's drivers from the
/// interfaces and claims them; dropping the device releases them and the kernel's drivers
/// come back. Control and OUT transfers block the caller for at most 5 s; IN endpoints are read by a thread each, started on the guest's first read of them
/// and stopped (and joined) when the configuration or interface setting changes, at a reset
/// and on drop.
pub struct LibusbDevice {
    handle: Arc<DeviceHandle<Context>>,
    /// `BUS-ADDR (VID:PID)`, for errors.
    name: String,
    device: DeviceDesc,
    config: ConfigDesc,
    /// The device's own `bConfigurationValue` for the guest's configuration 1.
    config_value: u8,
    claimed: Vec<u8>,
    /// The IN endpoints being read: endpoint, its interface, its worker.
    workers: Vec<(u8, u8, InWorker)>,
    last_error: Option<LibusbError>,
}

impl fmt::Debug for LibusbDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibusbDevice")
            .field("name", &self.name)
            .field("claimed", &self.claimed)
            .field("reading", &self.workers.iter().map(|(endpoint, ..)| endpoint).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl LibusbDevice {
    /// Opens the one device `selector` names and reads its descriptors; nothing is claimed
    /// until the guest sets the configuration.
    ///
    /// # Errors
    /// No device or several match, the device has an isochronous endpoint, access is denied
    /// (udev permissions), it is gone, or libusb failed.
    pub fn open(selector: &Selector) -> Result<LibusbDevice, LibusbError> {
        let context = context()?;
        let devices = context.devices().map_err(LibusbError::List)?;
        if devices.is_empty() {
            return Err(LibusbError::NoBus);
        }
        let mut matching = devices.iter().filter(|d| {
            let descriptor = d.device_descriptor();
            descriptor.is_ok_and(|e| selector.matches(d.bus_number(), d.address(), e.vendor_id(), e.product_id()))
        });
        let device = matching.next().ok_or(LibusbError::NoMatch(*selector))?;
        let others = matching.count();
        if others > 0 {
            return Err(LibusbError::Ambiguous { selector: *selector, count: others + 1 });
        }
        let descriptor = device.device_descriptor().map_err(LibusbError::List)?;
        let name = format!(
            "{}-{} ({:04x}:{:04x})",
            device.bus_number(),
            device.address(),
            descriptor.vendor_id(),
            descriptor.product_id()
        );
        let error = |e| LibusbError::from_usb(&name, e);
        let config = device.active_config_descriptor().or_else(|_| device.config_descriptor(0)).map_err(error)?;
        let raw = RawConfig::read(&config);
        let config = descriptors::config_desc(&raw).map_err(|iso| LibusbError::Isochronous {
            device: name.clone(),
            interface: iso.interface,
            endpoint: iso.endpoint,
        })?;
        let handle = device.open().map_err(error)?;
        match handle.set_auto_detach_kernel_driver(true) {
            Ok(()) | Err(rusb::Error::NotSupported) => {}
            Err(e) => return Err(error(e)),
        }
        let mut raw_device = [0u8; 18];
        let version = handle
            .read_control(0x80, 6, 0x0100, 0, &mut raw_device, DESCRIPTOR_TIMEOUT)
            .ok()
            .and_then(|n| descriptors::device_version(&raw_device[..n]));
        let strings = read_strings(&handle, &descriptor, DESCRIPTOR_TIMEOUT).map(Option::unwrap_or_default);
        Ok(LibusbDevice {
            handle: Arc::new(handle),
            device: descriptors::device_desc(&descriptor, device.speed(), version, strings),
            config,
            config_value: raw.value,
            claimed: Vec::new(),
            workers: Vec::new(),
            last_error: None,
            name,
        })
    }

    /// The device as `BUS-ADDR (VID:PID)`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Why the last configuration the guest set was refused, if it was (a stall tells the
    /// guest nothing more).
    #[must_use]
    pub fn last_error(&self) -> Option<&LibusbError> {
        self.last_error.as_ref()
    }

    /// The interface `endpoint` belongs to, if it is one of the configuration's.
    fn interface_of(&self, endpoint: u8) -> Option<(u8, TransferType, u16)> {
        let mut interfaces = self.config.interfaces.iter();
        interfaces.find_map(|i| {
            let e = i.endpoints.iter().find(|e| e.address == endpoint)?;
            Some((i.number, e.transfer_type, e.max_packet_size))
        })
    }

    /// The worker reading `endpoint`, started if need be; `None` when the endpoint is not of
    /// a claimed interface or the thread did not start.
    fn worker(&mut self, endpoint: u8) -> Option<&InWorker> {
        let at = match self.workers.iter().position(|(e, ..)| *e == endpoint) {
            Some(at) => at,
            None => {
                let (interface, kind, max_packet_size) = self.interface_of(endpoint)?;
                if !self.claimed.contains(&interface) {
                    return None;
                }
                let (kind, mode) = match kind {
                    TransferType::Interrupt => (Kind::Interrupt, Mode::Continuous(usize::from(max_packet_size))),
                    _ => (Kind::Bulk, Mode::OnRequest),
                };
                let worker = InWorker::spawn(self.handle.clone(), endpoint, kind, mode, READ_TIMEOUT).ok()?;
                self.workers.push((endpoint, interface, worker));
                self.workers.len() - 1
            }
        };
        self.workers.get(at).map(|(.., worker)| worker)
    }

    /// Stops (and joins) the workers of `interface`, or all of them.
    fn stop_workers(&mut self, interface: Option<u8>) {
        self.workers.retain(|(_, of, _)| interface.is_some_and(|number| number != *of));
    }

    /// Stops the workers and gives the interfaces back (their kernel drivers return).
    fn release(&mut self) {
        self.stop_workers(None);
        for interface in std::mem::take(&mut self.claimed) {
            // Nothing to do if this fails: the device is gone or was reset.
            let _ = self.handle.release_interface(interface);
        }
    }

    fn configure(&mut self) -> Result<(), LibusbError> {
        let error = |e| LibusbError::from_usb(&self.name, e);
        if self.handle.active_configuration().ok() != Some(self.config_value) {
            self.handle.set_active_configuration(self.config_value).map_err(error)?;
        }
        for interface in self.config.interfaces.iter().map(|i| i.number) {
            self.handle.claim_interface(interface).map_err(error)?;
            self.claimed.push(interface);
        }
        Ok(())
    }
}

impl SoftDevice for LibusbDevice {
    fn device(&self) -> &DeviceDesc {
        &self.device
    }

    fn configuration(&self) -> &ConfigDesc {
        &self.config
    }

    fn control(&mut self, setup: Setup, data: &[u8]) -> Result<Vec<u8>, Stall> {
        let Setup { request_type, request, value, index, length } = setup;
        if request_type & 0x80 != 0 {
            let mut buf = vec![0; usize::from(length)];
            let n = self.handle.read_control(request_type, request, value, index, &mut buf, TRANSFER_TIMEOUT);
            buf.truncate(n.map_err(|_| Stall)?);
            Ok(buf)
        } else {
            self.handle
                .write_control(request_type, request, value, index, data, TRANSFER_TIMEOUT)
                .map_err(|_| Stall)?;
            Ok(Vec::new())
        }
    }

    fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall> {
        match self.handle.write_bulk(endpoint, data, TRANSFER_TIMEOUT) {
            Ok(n) if n == data.len() => Ok(()),
            _ => Err(Stall),
        }
    }

    fn bulk_in(&mut self, endpoint: u8, max_len: usize) -> Result<Option<Vec<u8>>, Stall> {
        self.worker(endpoint).ok_or(Stall)?.take(max_len).transpose()
    }

    /// A failed read ends as no report: the interface has no way to say more. The endpoint
    /// stays halted until the guest clears it.
    fn interrupt_in(&mut self, endpoint: u8) -> Option<Vec<u8>> {
        self.worker(endpoint)?.take(usize::MAX)?.ok()
    }

    fn interrupt_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall> {
        match self.handle.write_interrupt(endpoint, data, TRANSFER_TIMEOUT) {
            Ok(n) if n == data.len() => Ok(()),
            _ => Err(Stall),
        }
    }

    fn reset(&mut self) {
        self.release();
        // A failed reset shows in the transfers that follow, as stalls.
        let _ = self.handle.reset();
    }

    fn set_configuration(&mut self, value: u8) -> Result<(), Stall> {
        self.release();
        if value == 0 {
            return Ok(());
        }
        self.last_error = self.configure().err();
        if self.last_error.is_some() {
            self.release();
            return Err(Stall);
        }
        Ok(())
    }

    fn set_interface(&mut self, interface: u8, alt: u8) -> Result<(), Stall> {
        if !self.claimed.contains(&interface) {
            return Err(Stall);
        }
        self.stop_workers(Some(interface));
        self.handle.set_alternate_setting(interface, alt).map_err(|_| Stall)
    }

    fn clear_halt(&mut self, endpoint: u8) -> Result<(), Stall> {
        self.handle.clear_halt(endpoint).map_err(|_| Stall)?;
        if let Some((.., worker)) = self.workers.iter().find(|(e, ..)| *e == endpoint) {
            worker.clear_halt();
        }
        Ok(())
    }
}

impl Drop for LibusbDevice {
    /// Joins the workers, then releases the interfaces: with automatic detaching, libusb
    /// gives each back to its kernel driver.
    fn drop(&mut self) {
        self.release();
    }
}

/// The manufacturer, product and serial strings, where the device has them and they read.
pub(super) fn read_strings<C: UsbContext>(
    handle: &DeviceHandle<C>,
    descriptor: &rusb::DeviceDescriptor,
    timeout: Duration,
) -> [Option<String>; 3] {
    let language = handle.read_languages(timeout).ok().and_then(|languages| languages.first().copied());
    let read = |index: Option<u8>| handle.read_string_descriptor(language?, index?, timeout).ok();
    [
        read(descriptor.manufacturer_string_index()),
        read(descriptor.product_string_index()),
        read(descriptor.serial_number_string_index()),
    ]
}
