//! Which device to open, as a user writes it: `VID:PID` or `BUS-ADDR`.

use std::fmt;
use std::str::FromStr;

/// A device named by its ids (`046d:c52b`, hexadecimal) or by where it sits on the buses
/// (`1-4`: bus 1, address 4, decimal, as `lsusb` prints them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Selector {
    /// `idVendor` and `idProduct`.
    VidPid {
        /// `idVendor`.
        vendor_id: u16,
        /// `idProduct`.
        product_id: u16,
    },
    /// Bus number and device address.
    BusAddr {
        /// The bus number.
        bus: u8,
        /// The device's address on it.
        address: u8,
    },
}

/// Why a selector did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// Neither form.
    #[error("`{0}` names no USB device: write VID:PID in hex (046d:c52b) or BUS-ADDR in decimal (1-4)")]
    Form(String),
    /// A vendor or product id that is not 1 to 4 hex digits.
    #[error("`{0}` is not a USB id: 1 to 4 hex digits, as in 046d:c52b")]
    Id(String),
    /// A bus number or address that is not a decimal number from 0 to 255.
    #[error("`{0}` is not a bus number or address: a decimal number from 0 to 255, as in 1-4")]
    Number(String),
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(text: &str) -> Result<Selector, SelectorError> {
        let text = text.trim();
        if let Some((vendor, product)) = text.split_once(':') {
            return Ok(Selector::VidPid { vendor_id: id(vendor)?, product_id: id(product)? });
        }
        if let Some((bus, address)) = text.split_once('-') {
            return Ok(Selector::BusAddr { bus: number(bus)?, address: number(address)? });
        }
        Err(SelectorError::Form(text.to_owned()))
    }
}

fn id(text: &str) -> Result<u16, SelectorError> {
    let digits = (1..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit());
    digits.then(|| u16::from_str_radix(text, 16).ok()).flatten().ok_or_else(|| SelectorError::Id(text.to_owned()))
}

fn number(text: &str) -> Result<u8, SelectorError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten().ok_or_else(|| SelectorError::Number(text.to_owned()))
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::VidPid { vendor_id, product_id } => write!(f, "{vendor_id:04x}:{product_id:04x}"),
            Selector::BusAddr { bus, address } => write!(f, "{bus}-{address}"),
        }
    }
}

impl Selector {
    /// Whether the device at `bus`/`address` with these ids is the one named.
    #[must_use]
    pub fn matches(&self, bus: u8, address: u8, vendor_id: u16, product_id: u16) -> bool {
        match *self {
            Selector::VidPid { vendor_id: v, product_id: p } => (v, p) == (vendor_id, product_id),
            Selector::BusAddr { bus: b, address: a } => (b, a) == (bus, address),
        }
    }
}
