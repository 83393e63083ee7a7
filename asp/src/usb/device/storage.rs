//! USB mass storage, Bulk-Only Transport, SCSI transparent command set, one LUN, over any
//! `Read + Write + Seek` of 512-byte blocks. Bulk IN 0x81, bulk OUT 0x02.

use std::io::{Read, Seek, SeekFrom, Write};

use super::{ConfigDesc, DeviceDesc, EndpointDesc, InterfaceDesc, Setup, SoftDevice, Stall};
use crate::usb::{Speed, TransferType};

/// The block size.
pub const BLOCK_SIZE: u64 = 512;

/// Sense data: key, additional sense code and qualifier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sense {
    /// The sense key (5: ILLEGAL REQUEST, 3: MEDIUM ERROR).
    pub key: u8,
    /// ASC.
    pub asc: u8,
    /// ASCQ.
    pub ascq: u8,
}

const ILLEGAL_OPCODE: Sense = Sense { key: 5, asc: 0x20, ascq: 0 };
const LBA_OUT_OF_RANGE: Sense = Sense { key: 5, asc: 0x21, ascq: 0 };
const INVALID_FIELD: Sense = Sense { key: 5, asc: 0x24, ascq: 0 };
const MEDIUM_ERROR: Sense = Sense { key: 3, asc: 0x11, ascq: 0 };

#[derive(Debug)]
enum Phase {
    /// Waiting for a CBW.
    Command,
    /// Sending `data` from `at`.
    DataIn { data: Vec<u8>, at: usize },
    /// Reading `remaining` bytes of the store from `offset`.
    ReadIn { offset: u64, remaining: u64 },
    /// Writing `remaining` bytes to the store at `offset`.
    WriteOut { offset: u64, remaining: u64 },
    /// Data the host sends that the device drops (a failed write's data).
    Drain { remaining: u64 },
    /// The data IN stage of a failed command: one STALL, then the CSW.
    StallIn,
    /// The CSW is ready.
    Status,
}

/// A mass-storage device (Bulk-Only Transport, SCSI, one LUN, 512-byte blocks) over `S`.
#[derive(Debug)]
pub struct MassStorage<S> {
    device: DeviceDesc,
    config: ConfigDesc,
    store: S,
    blocks: u64,
    phase: Phase,
    tag: u32,
    expected: u32,
    moved: u64,
    failed: bool,
    sense: Sense,
}

impl<S: Read + Write + Seek> MassStorage<S> {
    /// Bulk IN endpoint.
    pub const ENDPOINT_IN: u8 = 0x81;
    /// Bulk OUT endpoint.
    pub const ENDPOINT_OUT: u8 = 0x02;

    /// A device over `store`, whose length (rounded down to blocks) is the medium's size.
    ///
    /// # Errors
    /// Seeking to the end of `store` failed.
    pub fn new(mut store: S) -> std::io::Result<MassStorage<S>> {
        let len = store.seek(SeekFrom::End(0))?;
        let bulk =
            |address| EndpointDesc { address, transfer_type: TransferType::Bulk, max_packet_size: 512, interval: 0 };
        Ok(MassStorage {
            device: DeviceDesc {
                speed: Speed::High,
                class: 0,
                subclass: 0,
                protocol: 0,
                max_packet_size0: 64,
                vendor_id: 0x1d6b,
                product_id: 0x0105,
                device_version_bcd: 0x0100,
                manufacturer: "asp".into(),
                product: "asp soft disk".into(),
                serial: "0123456789ab".into(),
            },
            config: ConfigDesc {
                attributes: 0x80,
                max_power: 100,
                interfaces: vec![InterfaceDesc {
                    number: 0,
                    class: 8,
                    subclass: 6,
                    protocol: 0x50,
                    class_descriptors: Vec::new(),
                    endpoints: vec![bulk(Self::ENDPOINT_IN), bulk(Self::ENDPOINT_OUT)],
                }],
            },
            store,
            blocks: len / BLOCK_SIZE,
            phase: Phase::Command,
            tag: 0,
            expected: 0,
            moved: 0,
            failed: false,
            sense: Sense::default(),
        })
    }

    /// The number of blocks.
    #[must_use]
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// The store, to check it directly.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The store back.
    pub fn into_inner(self) -> S {
        self.store
    }

    /// The sense data the next REQUEST SENSE reports.
    #[must_use]
    pub fn sense(&self) -> Sense {
        self.sense
    }

    fn fail(&mut self, sense: Sense) {
        self.sense = sense;
        self.failed = true;
    }

    fn command(&mut self, cbw: &[u8]) -> Result<(), Stall> {
        if cbw.len() != 31 || cbw[0..4] != *b"USBC" {
            return Err(Stall);
        }
        self.tag = u32::from_le_bytes([cbw[4], cbw[5], cbw[6], cbw[7]]);
        self.expected = u32::from_le_bytes([cbw[8], cbw[9], cbw[10], cbw[11]]);
        let is_in = cbw[12] & 0x80 != 0;
        let cb = &cbw[15..31];
        self.moved = 0;
        self.failed = false;
        let lba = u64::from(u32::from_be_bytes([cb[2], cb[3], cb[4], cb[5]]));
        let count = u64::from(u16::from_be_bytes([cb[7], cb[8]]));
        let reply = |data: Vec<u8>| Phase::DataIn { data, at: 0 };
        self.phase = match cb[0] {
            0x00 | 0x1e => Phase::Status,
            0x03 => {
                let s = self.sense;
                self.sense = Sense::default();
                let mut d = vec![0; 18];
                d[0] = 0x70;
                d[2] = s.key;
                d[7] = 10;
                d[12] = s.asc;
                d[13] = s.ascq;
                d.truncate(usize::from(cb[4]));
                reply(d)
            }
            0x12 => {
                let mut d = vec![0, 0x80, 0x04, 0x02, 31, 0, 0, 0];
                d.extend_from_slice(b"asp     ");
                d.extend_from_slice(b"soft disk       ");
                d.extend_from_slice(b"1.0 ");
                d.truncate(usize::from(cb[4]));
                reply(d)
            }
            0x25 => {
                let last = u32::try_from(self.blocks.saturating_sub(1)).unwrap_or(u32::MAX);
                let mut d = last.to_be_bytes().to_vec();
                d.extend_from_slice(&(BLOCK_SIZE as u32).to_be_bytes());
                reply(d)
            }
            0x1a => {
                let mut d = vec![3, 0, 0, 0];
                d.truncate(usize::from(cb[4]));
                reply(d)
            }
            0x28 | 0x2a => {
                let write = cb[0] == 0x2a;
                let bytes = count * BLOCK_SIZE;
                if lba + count > self.blocks {
                    self.fail(LBA_OUT_OF_RANGE);
                    if write { Phase::Drain { remaining: u64::from(self.expected) } } else { Phase::StallIn }
                } else if u64::from(self.expected) != bytes || is_in == write {
                    self.fail(INVALID_FIELD);
                    Phase::Status
                } else if write {
                    Phase::WriteOut { offset: lba * BLOCK_SIZE, remaining: bytes }
                } else {
                    Phase::ReadIn { offset: lba * BLOCK_SIZE, remaining: bytes }
                }
            }
            _ => {
                self.fail(ILLEGAL_OPCODE);
                Phase::Status
            }
        };
        if matches!(self.phase, Phase::DataIn { ref data, .. } if data.is_empty()) {
            self.phase = Phase::Status;
        }
        if self.failed && matches!(self.phase, Phase::Status) && self.expected > 0 {
            self.phase = if is_in { Phase::StallIn } else { Phase::Drain { remaining: u64::from(self.expected) } };
        }
        if matches!(self.phase, Phase::Drain { remaining: 0 }) {
            self.phase = Phase::Status;
        }
        Ok(())
    }

    fn csw(&mut self) -> Vec<u8> {
        let mut d = b"USBS".to_vec();
        d.extend_from_slice(&self.tag.to_le_bytes());
        let residue = u64::from(self.expected).saturating_sub(self.moved);
        d.extend_from_slice(&u32::try_from(residue).unwrap_or(u32::MAX).to_le_bytes());
        d.push(u8::from(self.failed));
        self.phase = Phase::Command;
        d
    }

    fn io<T>(&mut self, offset: u64, f: impl FnOnce(&mut S) -> std::io::Result<T>) -> Option<T> {
        let result = self.store.seek(SeekFrom::Start(offset)).and_then(|_| f(&mut self.store));
        if result.is_err() {
            self.fail(MEDIUM_ERROR);
            self.phase = Phase::Status;
        }
        result.ok()
    }
}

impl<S: Read + Write + Seek> SoftDevice for MassStorage<S> {
    fn device(&self) -> &DeviceDesc {
        &self.device
    }

    fn configuration(&self) -> &ConfigDesc {
        &self.config
    }

    fn control(&mut self, s: Setup, _data: &[u8]) -> Result<Vec<u8>, Stall> {
        match (s.request_type, s.request) {
            // GET MAX LUN.
            (0xa1, 0xfe) => Ok(vec![0]),
            // Bulk-Only Mass Storage Reset.
            (0x21, 0xff) => {
                self.phase = Phase::Command;
                Ok(Vec::new())
            }
            _ => Err(Stall),
        }
    }

    fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), Stall> {
        if endpoint != Self::ENDPOINT_OUT {
            return Err(Stall);
        }
        match self.phase {
            Phase::Command => self.command(data),
            Phase::WriteOut { offset, remaining } => {
                let n = (data.len() as u64).min(remaining);
                let chunk = &data[..n as usize];
                if self.io(offset, |s| s.write_all(chunk)).is_some() {
                    self.moved += n;
                    self.phase = if remaining == n {
                        Phase::Status
                    } else {
                        Phase::WriteOut { offset: offset + n, remaining: remaining - n }
                    };
                }
                Ok(())
            }
            Phase::Drain { remaining } => {
                let n = (data.len() as u64).min(remaining);
                self.phase = if remaining == n { Phase::Status } else { Phase::Drain { remaining: remaining - n } };
                Ok(())
            }
            _ => Err(Stall),
        }
    }

    fn bulk_in(&mut self, endpoint: u8, max_len: usize) -> Result<Option<Vec<u8>>, Stall> {
        if endpoint != Self::ENDPOINT_IN {
            return Err(Stall);
        }
        match &mut self.phase {
            Phase::Command | Phase::WriteOut { .. } | Phase::Drain { .. } => Ok(None),
            Phase::Status => Ok(Some(self.csw())),
            Phase::StallIn => {
                self.phase = Phase::Status;
                Err(Stall)
            }
            Phase::DataIn { data, at } => {
                let n = (data.len() - *at).min(max_len);
                let chunk = data[*at..*at + n].to_vec();
                *at += n;
                self.moved += n as u64;
                if *at == data.len() {
                    self.phase = Phase::Status;
                }
                Ok(Some(chunk))
            }
            Phase::ReadIn { offset, remaining } => {
                let (offset, remaining) = (*offset, *remaining);
                let n = remaining.min(max_len as u64);
                let mut chunk = vec![0; n as usize];
                if self.io(offset, |s| s.read_exact(&mut chunk)).is_none() {
                    return Err(Stall);
                }
                self.moved += n;
                self.phase = if remaining == n {
                    Phase::Status
                } else {
                    Phase::ReadIn { offset: offset + n, remaining: remaining - n }
                };
                Ok(Some(chunk))
            }
        }
    }

    fn interrupt_in(&mut self, _endpoint: u8) -> Option<Vec<u8>> {
        None
    }

    fn reset(&mut self) {
        self.phase = Phase::Command;
        self.sense = Sense::default();
    }
}
