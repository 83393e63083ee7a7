//! A boot-protocol HID keyboard: 8-byte reports on interrupt IN endpoint 0x81.

use std::collections::VecDeque;

use super::{ConfigDesc, DeviceDesc, EndpointDesc, InterfaceDesc, Setup, SoftDevice, Stall};
use crate::usb::{Speed, TransferType};

/// The boot keyboard report descriptor (HID 1.11, appendix B.1).
const REPORT_DESCRIPTOR: [u8; 63] = [
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95,
    0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05,
    0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19,
    0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
];

/// The most reports a [`HidKeyboard`] holds before the guest reads them.
pub const MAX_QUEUED_REPORTS: usize = 256;

/// A boot-protocol keyboard. [`press`](HidKeyboard::press) and
/// [`release`](HidKeyboard::release) queue the reports the host sends on endpoint 0x81.
#[derive(Debug)]
pub struct HidKeyboard {
    device: DeviceDesc,
    config: ConfigDesc,
    modifiers: u8,
    keys: Vec<u8>,
    reports: VecDeque<[u8; 8]>,
    idle: u8,
    protocol: u8,
    leds: u8,
}

impl Default for HidKeyboard {
    fn default() -> Self {
        HidKeyboard::new()
    }
}

impl HidKeyboard {
    /// Its interrupt IN endpoint.
    pub const ENDPOINT: u8 = 0x81;

    /// A keyboard with no key down.
    #[must_use]
    pub fn new() -> HidKeyboard {
        let len = REPORT_DESCRIPTOR.len() as u16;
        let hid = vec![9, 0x21, 0x11, 0x01, 0, 1, 0x22, len.to_le_bytes()[0], len.to_le_bytes()[1]];
        HidKeyboard {
            device: DeviceDesc {
                speed: Speed::Full,
                class: 0,
                subclass: 0,
                protocol: 0,
                max_packet_size0: 8,
                vendor_id: 0x1d6b,
                product_id: 0x0104,
                device_version_bcd: 0x0100,
                manufacturer: "asp".into(),
                product: "asp soft keyboard".into(),
                serial: "kbd-1".into(),
            },
            config: ConfigDesc {
                attributes: 0xa0,
                max_power: 50,
                interfaces: vec![InterfaceDesc {
                    number: 0,
                    class: 3,
                    subclass: 1,
                    protocol: 1,
                    class_descriptors: hid,
                    endpoints: vec![EndpointDesc {
                        address: Self::ENDPOINT,
                        transfer_type: TransferType::Interrupt,
                        max_packet_size: 8,
                        interval: 10,
                    }],
                }],
            },
            modifiers: 0,
            keys: Vec::new(),
            reports: VecDeque::new(),
            idle: 0,
            protocol: 1,
            leds: 0,
        }
    }

    /// Presses a key (a HID usage id; 0xe0..=0xe7 are the modifiers) and queues the report.
    /// Returns false, queueing nothing, when the queue is full or the key is already down.
    pub fn press(&mut self, usage: u8) -> bool {
        if self.reports.len() >= MAX_QUEUED_REPORTS {
            return false;
        }
        if (0xe0..=0xe7).contains(&usage) {
            if self.modifiers & (1 << (usage - 0xe0)) != 0 {
                return false;
            }
            self.modifiers |= 1 << (usage - 0xe0);
        } else {
            if self.keys.contains(&usage) || self.keys.len() >= 6 {
                return false;
            }
            self.keys.push(usage);
        }
        self.queue();
        true
    }

    /// Releases a key and queues the report; false when it was not down or the queue is full.
    pub fn release(&mut self, usage: u8) -> bool {
        if self.reports.len() >= MAX_QUEUED_REPORTS {
            return false;
        }
        if (0xe0..=0xe7).contains(&usage) {
            if self.modifiers & (1 << (usage - 0xe0)) == 0 {
                return false;
            }
            self.modifiers &= !(1 << (usage - 0xe0));
        } else {
            let Some(at) = self.keys.iter().position(|&k| k == usage) else { return false };
            self.keys.remove(at);
        }
        self.queue();
        true
    }

    /// The LED state the guest last set (bit 0 num lock, 1 caps lock, 2 scroll lock).
    #[must_use]
    pub fn leds(&self) -> u8 {
        self.leds
    }

    /// Reports queued and not yet sent.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.reports.len()
    }

    fn report(&self) -> [u8; 8] {
        let mut r = [0; 8];
        r[0] = self.modifiers;
        for (slot, key) in self.keys.iter().enumerate() {
            r[2 + slot] = *key;
        }
        r
    }

    fn queue(&mut self) {
        let report = self.report();
        self.reports.push_back(report);
    }
}

impl SoftDevice for HidKeyboard {
    fn device(&self) -> &DeviceDesc {
        &self.device
    }

    fn configuration(&self) -> &ConfigDesc {
        &self.config
    }

    fn control(&mut self, s: Setup, data: &[u8]) -> Result<Vec<u8>, Stall> {
        match (s.request_type, s.request) {
            // GET_DESCRIPTOR (report) to the interface.
            (0x81, 6) if s.value >> 8 == 0x22 => Ok(REPORT_DESCRIPTOR.to_vec()),
            (0x81, 6) if s.value >> 8 == 0x21 => Ok(self.config.interfaces[0].class_descriptors.clone()),
            // GET_REPORT, SET_REPORT, GET_IDLE, SET_IDLE, GET_PROTOCOL, SET_PROTOCOL.
            (0xa1, 1) => Ok(self.report().to_vec()),
            (0x21, 9) => {
                self.leds = data.first().copied().unwrap_or(0);
                Ok(Vec::new())
            }
            (0xa1, 2) => Ok(vec![self.idle]),
            (0x21, 10) => {
                self.idle = (s.value >> 8) as u8;
                Ok(Vec::new())
            }
            (0xa1, 3) => Ok(vec![self.protocol]),
            (0x21, 11) => {
                self.protocol = (s.value & 1) as u8;
                Ok(Vec::new())
            }
            _ => Err(Stall),
        }
    }

    fn bulk_out(&mut self, _endpoint: u8, _data: &[u8]) -> Result<(), Stall> {
        Err(Stall)
    }

    fn bulk_in(&mut self, _endpoint: u8, _max_len: usize) -> Result<Option<Vec<u8>>, Stall> {
        Err(Stall)
    }

    fn interrupt_in(&mut self, endpoint: u8) -> Option<Vec<u8>> {
        if endpoint != Self::ENDPOINT {
            return None;
        }
        self.reports.pop_front().map(|r| r.to_vec())
    }

    fn reset(&mut self) {
        self.modifiers = 0;
        self.keys.clear();
        self.reports.clear();
        self.idle = 0;
        self.protocol = 1;
        self.leds = 0;
    }
}
