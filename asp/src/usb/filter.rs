//! usbredir device filters: the rule text a usb-guest sends in `filter_filter` to say which
//! devices it takes, and the check a usb-host makes against it.
//!
//! The text and its meaning are libusbredirparser's (`usbredirfilter.c`), and a differential
//! test holds this module to the library on seeded random filters and devices: rules
//! separated by `|`, each five integers separated by `,` — class, vendor id, product id,
//! `bcdDevice`, allow (non-zero) or deny (0) — where `-1` means any, each read as `strtol`
//! base 0 reads a whole token (decimal, `0x` hex, leading-zero octal, leading blanks); empty
//! rules and empty fields are skipped, as `strtok` skips them. A device passes when its own
//! class (unless 0x00, "per interface", or 0xef, "miscellaneous") and each interface's class
//! meet a rule that allows them: the first rule that matches decides, and a class that no rule
//! matches is refused. Interfaces that are HID without the boot protocol (volume buttons on a
//! headset) are not judged when the device has other interfaces, unless every interface is
//! such. So a guest that lists only denials ends with a catch-all `-1,-1,-1,-1,1`.
//!
//! ASP's server turns its [`UsbPolicy`](super::link::UsbPolicy) into such a filter, sends it
//! to the client after the hellos, and answers a refused device with `filter_reject`; the
//! client's host checks its device against the filter it received and so can say which class
//! was refused. The server judges the device itself in any case: the filter is a courtesy to
//! the client, not the enforcement.

use std::fmt;

/// Longest filter text taken from a peer, bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Most rules in a filter.
pub const MAX_RULES: usize = 128;

/// One rule; `None` matches any value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterRule {
    /// A device or interface class.
    pub class: Option<u8>,
    /// `idVendor`.
    pub vendor: Option<u16>,
    /// `idProduct`.
    pub product: Option<u16>,
    /// `bcdDevice`.
    pub version: Option<u16>,
    /// Whether a match is allowed.
    pub allow: bool,
}

impl FilterRule {
    /// A rule on a class alone.
    #[must_use]
    pub fn class(class: Option<u8>, allow: bool) -> Self {
        Self { class, vendor: None, product: None, version: None, allow }
    }

    fn matches(&self, class: u8, device: &FilteredDevice) -> bool {
        self.class.is_none_or(|c| c == class)
            && self.vendor.is_none_or(|v| v == device.vendor)
            && self.product.is_none_or(|p| p == device.product)
            && self.version.is_none_or(|v| v == device.version)
    }
}

/// Why a filter's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// Longer than [`MAX_FILTER_LEN`].
    #[error("a USB filter of {0} bytes is longer than {MAX_FILTER_LEN}")]
    TooLong(usize),
    /// More than [`MAX_RULES`] rules.
    #[error("a USB filter of more than {MAX_RULES} rules")]
    TooManyRules,
    /// A rule that is not five integers in range.
    #[error("USB filter rule {index} ({text:?}): {why}")]
    Malformed {
        /// Its position, from 0.
        index: usize,
        /// The rule as sent, cut to 64 bytes.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// What a filter is checked against: the device's identity and its interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilteredDevice {
    /// `bDeviceClass`.
    pub class: u8,
    /// `idVendor`.
    pub vendor: u16,
    /// `idProduct`.
    pub product: u16,
    /// `bcdDevice`.
    pub version: u16,
    /// Every interface's `bInterfaceClass`, `bInterfaceSubClass` and `bInterfaceProtocol`.
    pub interfaces: Vec<[u8; 3]>,
}

/// Why a filter refuses a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The class refused.
    pub class: u8,
    /// The denying rule's position, or `None` when no rule matched the class.
    pub rule: Option<usize>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(rule) => write!(f, "class {:#04x} is denied by rule {rule} of the filter", self.class),
            None => write!(f, "class {:#04x} is allowed by no rule of the filter", self.class),
        }
    }
}

/// A device filter; see the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    rules: Vec<FilterRule>,
}

impl Filter {
    /// A filter of these rules, checked in order.
    ///
    /// # Errors
    /// [`FilterError::TooManyRules`].
    pub fn new(rules: Vec<FilterRule>) -> Result<Self, FilterError> {
        if rules.len() > MAX_RULES {
            return Err(FilterError::TooManyRules);
        }
        Ok(Self { rules })
    }

    /// Its rules.
    #[must_use]
    pub fn rules(&self) -> &[FilterRule] {
        &self.rules
    }

    /// Reads the text of a `filter_filter` packet.
    ///
    /// # Errors
    /// [`FilterError`] for text too long, too many rules, or a rule that is not five integers
    /// in range; nothing is guessed.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(FilterError::TooLong(text.len()));
        }
        let mut rules = Vec::new();
        for (index, rule) in text.split('|').filter(|r| !r.is_empty()).enumerate() {
            if rules.len() == MAX_RULES {
                return Err(FilterError::TooManyRules);
            }
            rules.push(parse_rule(rule).map_err(|why| FilterError::Malformed {
                index,
                text: rule.chars().take(64).collect(),
                why,
            })?);
        }
        Ok(Self { rules })
    }

    /// Checks a device: its class (unless per-interface or miscellaneous), then each
    /// interface's class.
    ///
    /// # Errors
    /// The first class the filter refuses.
    pub fn check(&self, device: &FilteredDevice) -> Result<(), Refusal> {
        let own = (!matches!(device.class, 0x00 | 0xef)).then_some(device.class);
        let minor_hid = |i: &[u8; 3]| *i == [0x03, 0x00, 0x00];
        let skip = device.interfaces.len() > 1 && !device.interfaces.iter().all(minor_hid);
        let judged = device.interfaces.iter().filter(|i| !(skip && minor_hid(i))).map(|i| i[0]);
        for class in own.into_iter().chain(judged) {
            match self.rules.iter().position(|r| r.matches(class, device)) {
                Some(at) if self.rules[at].allow => {}
                rule => return Err(Refusal { class, rule }),
            }
        }
        Ok(())
    }
}

impl fmt::Display for Filter {
    /// The text libusbredirparser reads: hex classes and ids, `-1` for any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            let any = |v: Option<u16>| v.map_or_else(|| "-1".to_owned(), |v| format!("{v:#06x}"));
            let class = r.class.map_or_else(|| "-1".to_owned(), |c| format!("{c:#04x}"));
            write!(f, "{class},{},{},{},{}", any(r.vendor), any(r.product), any(r.version), u8::from(r.allow))?;
        }
        Ok(())
    }
}

fn parse_rule(rule: &str) -> Result<FilterRule, &'static str> {
    let mut fields = rule.split(',').filter(|f| !f.is_empty());
    let mut next = |max: i64| -> Result<Option<u16>, &'static str> {
        let field = fields.next().ok_or("fewer than five fields")?;
        match parse_int(field).ok_or("not an integer")? {
            -1 => Ok(None),
            v if (0..=max).contains(&v) => Ok(Some(v as u16)),
            _ => Err("a value out of range"),
        }
    };
    let class = next(0xff)?.map(|c| c as u8);
    let (vendor, product, version) = (next(0xffff)?, next(0xffff)?, next(0xffff)?);
    let allow = parse_int(fields.next().ok_or("fewer than five fields")?).ok_or("not an integer")? != 0;
    if fields.next().is_some() {
        return Err("more than five fields");
    }
    Ok(FilterRule { class, vendor, product, version, allow })
}

/// An integer as `strtol` base 0 reads a whole token: leading blanks, a sign, then decimal,
/// `0x` hex or leading-zero octal digits, and nothing after them. Values beyond `i32` are
/// refused (the library would clamp them to a `long` and cut that to an `int`).
fn parse_int(token: &str) -> Option<i64> {
    let token = token.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token.strip_prefix('+').unwrap_or(token)),
    };
    let (radix, digits) = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) if hex.starts_with(|c: char| c.is_ascii_hexdigit()) => (16, hex),
        _ if digits.len() > 1 && digits.starts_with('0') => (8, &digits[1..]),
        _ => (10, digits),
    };
    if digits.is_empty() || digits.len() > 11 || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i64::from_str_radix(digits, radix).ok()?;
    let value = if negative { -value } else { value };
    i32::try_from(value).is_ok().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk() -> FilteredDevice {
        FilteredDevice {
            class: 0,
            vendor: 0x1d6b,
            product: 0x0104,
            version: 0x0100,
            interfaces: vec![[0x08, 0x06, 0x50]],
        }
    }

    #[test]
    fn reads_what_libusbredirparser_writes() {
        let f = Filter::parse("0x08,-1,-1,-1,0|-1,-1,-1,-1,1").unwrap();
        assert_eq!(f.rules(), [FilterRule::class(Some(8), false), FilterRule::class(None, true)]);
        assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
        // Decimal, octal, signs, leading blanks and empty fields as strtol and strtok take them.
        let f = Filter::parse("| 8,, 0x1D6B, 0404, +1, 2||").unwrap();
        assert_eq!(
            f.rules()[0],
            FilterRule { class: Some(8), vendor: Some(0x1d6b), product: Some(0o404), version: Some(1), allow: true }
        );
        assert_eq!(Filter::parse("").unwrap().rules(), []);
    }

    #[test]
    fn refuses_malformed_rules() {
        for bad in [
            "8,-1,-1,-1",
            "8,-1,-1,-1,1,1",
            "0x100,-1,-1,-1,1",
            "8,-2,-1,-1,1",
            "8 ,-1,-1,-1,1",
            "8,x,-1,-1,1",
            "0x,-1,-1,-1,1",
            "08,-1,-1,-1,1",
            "8,-1,-1,-1,0x100000000",
        ] {
            assert!(matches!(Filter::parse(bad), Err(FilterError::Malformed { .. })), "{bad}");
        }
        assert!(matches!(Filter::parse(&"-1,-1,-1,-1,1|".repeat(MAX_RULES + 1)), Err(FilterError::TooManyRules)));
        assert!(matches!(Filter::parse(&" ".repeat(MAX_FILTER_LEN + 1)), Err(FilterError::TooLong(_))));
    }

    #[test]
    fn the_first_matching_rule_decides_and_unmatched_classes_are_refused() {
        let deny_disks = Filter::parse("0x08,-1,-1,-1,0|-1,-1,-1,-1,1").unwrap();
        assert_eq!(deny_disks.check(&disk()), Err(Refusal { class: 8, rule: Some(0) }));
        let keyboard = FilteredDevice { interfaces: vec![[0x03, 0x01, 0x01]], ..disk() };
        assert_eq!(deny_disks.check(&keyboard), Ok(()));

        let only_hid = Filter::parse("0x03,-1,-1,-1,1").unwrap();
        assert_eq!(only_hid.check(&keyboard), Ok(()));
        assert_eq!(only_hid.check(&disk()), Err(Refusal { class: 8, rule: None }));
        // A device class other than "per interface" is checked too.
        let hub = FilteredDevice { class: 0x09, interfaces: vec![[0x03, 0x01, 0x01]], ..disk() };
        assert_eq!(only_hid.check(&hub), Err(Refusal { class: 9, rule: None }));
        // A headset's volume buttons (HID without the boot protocol) are not judged beside its
        // audio interfaces, but are when they are all there is.
        let headset = FilteredDevice { interfaces: vec![[0x01, 0x01, 0x00], [0x03, 0x00, 0x00]], ..disk() };
        let no_hid = Filter::parse("0x03,-1,-1,-1,0|-1,-1,-1,-1,1").unwrap();
        assert_eq!(no_hid.check(&headset), Ok(()));
        let buttons = FilteredDevice { interfaces: vec![[0x03, 0x00, 0x00], [0x03, 0x00, 0x00]], ..disk() };
        assert_eq!(no_hid.check(&buttons), Err(Refusal { class: 3, rule: Some(0) }));
        // One vendor's disks allowed ahead of the denial.
        let this_vendor = Filter::parse("0x08,0x1d6b,-1,-1,1|0x08,-1,-1,-1,0|-1,-1,-1,-1,1").unwrap();
        assert_eq!(this_vendor.check(&disk()), Ok(()));
        assert!(this_vendor.check(&FilteredDevice { vendor: 1, ..disk() }).is_err());
    }

    /// The host's hello and its device's announcement arrive in one piece; the guest's filter
    /// still goes out before its refusal, so the host can name the refused class.
    #[test]
    fn a_refusal_follows_the_filter_even_when_the_device_comes_with_the_hello() {
        use crate::usb::Limits;
        use crate::usb::device::{DeviceHost, MassStorage};
        use crate::usb::guest::{Guest, GuestState};
        use crate::usb::link::{UsbClass, UsbPolicy, describe};

        let disk = MassStorage::new(std::io::Cursor::new(vec![0u8; 1 << 16])).unwrap();
        let mut host = DeviceHost::new(disk, "host", Limits::default()).unwrap();
        let mut guest = Guest::new("guest", Limits::default()).unwrap();
        let policy = UsbPolicy { allowed: vec![UsbClass::Hid], allow_other: false };
        guest.set_filter(policy.to_filter()).unwrap();
        // The guest's hello reaches the host, which answers with its hello and the device.
        host.handle_input(&guest.poll_transmit().unwrap()).unwrap();
        guest.handle_input(&host.poll_transmit().unwrap().unwrap()).unwrap();
        assert!(matches!(guest.state(), GuestState::DeviceDescriptor(_)), "enumeration began");
        let device = FilteredDevice { class: 0, vendor: 0, product: 0, version: 0, interfaces: vec![[8, 6, 0x50]] };
        assert_eq!(policy.refuses(&device), Some(describe(0x08)));
        assert!(guest.reject().unwrap(), "filter_reject sent");
        host.handle_input(&guest.poll_transmit().unwrap()).unwrap();
        assert_eq!(host.filter(), Some(&policy.to_filter()));
        assert_eq!(host.rejected(), Some(describe(0x08).as_str()));
        assert_eq!(host.stats().control, 0, "the withdrawn enumeration request never reached the host");
        assert_eq!(guest.state(), GuestState::Rejected);
    }
}
