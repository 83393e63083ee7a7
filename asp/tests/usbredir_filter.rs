//! `asp::usb::filter` against libusbredirparser's own filter code (`usbredirfilter.c`), case by
//! case: seeded random filter texts (numbers in decimal, hex, octal and signed forms, `-1`,
//! empty rules and fields, leading blanks, and malformed tokens) and random devices (classes
//! that are and are not judged, headsets' non-boot HID interfaces) go to both; the parse
//! outcome, the text each writes back, and the verdict must agree. Also the filter an ASP
//! server derives from its USB policy, read by the library.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use asp::usb::filter::{Filter, FilteredDevice};
use asp::usb::link::{UsbClass, UsbPolicy};
use common::rng::Rng;

const CASES: usize = 4000;
const EPERM: i32 = 1;
const ENOENT: i32 = 2;

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[(rng.next() % items.len() as u64) as usize]
}

/// One field of a rule: mostly well-formed, sometimes not; values mostly from `likely`, the
/// ones the generated devices have, so that rules match often.
fn token(rng: &mut Rng, likely: &[u32], max: u32) -> String {
    let value = if rng.next() % 5 == 0 { (rng.next() % u64::from(max + 1)) as u32 } else { *pick(rng, likely) };
    match rng.next() % 48 {
        0..=17 => "-1".to_owned(),
        18..=35 => format!("{value:#x}"),
        36..=39 => format!("{value}"),
        40 => format!("0{value:o}"),
        41 => format!(" +{value}"),
        42 => format!("0X{value:X}"),
        43 => (max + 1).to_string(),
        44 => pick(rng, &["x", "0x", "08", "-2", "1 ", "", "--1", "0x1g"]).to_string(),
        _ => format!("{value:#06x}"),
    }
}

const CLASSES: [u32; 9] = [0x00, 0x01, 0x03, 0x08, 0x09, 0x0b, 0x0e, 0xef, 0xff];

fn filter_text(rng: &mut Rng) -> String {
    let rules = 1 + rng.next() % 5;
    let mut text = String::new();
    for i in 0..rules {
        if i > 0 {
            text.push_str(if rng.next() % 12 == 0 { "||" } else { "|" });
        }
        let fields = match rng.next() % 20 {
            0 => 4,
            1 => 6,
            _ => 5,
        };
        let parts: Vec<String> = (0..fields)
            .map(|f| match f {
                0 => token(rng, &CLASSES, 0xff),
                1 => token(rng, &[0x0000, 0x1d6b, 0x046d, 0xffff], 0xffff),
                2 => token(rng, &[0x0001, 0x0104, 0xc52b], 0xffff),
                3 => token(rng, &[0x0100, 0x0200], 0xffff),
                _ => pick(rng, &["0", "1", "1", "0", "2", "-1"]).to_string(),
            })
            .collect();
        text.push_str(&parts.join(","));
    }
    match rng.next() % 10 {
        0 => text.push('|'),
        1..=4 => text.push_str(pick::<&str>(rng, &["|-1,-1,-1,-1,1", "|-1,-1,-1,-1,0"])),
        _ => {}
    }
    text
}

fn device(rng: &mut Rng) -> FilteredDevice {
    let class = *pick(rng, &[0x00, 0x00, 0x00, 0xef, 0x09, 0xff, 0x03, 0x08]);
    let interfaces = (0..rng.next() % 4)
        .map(|_| match rng.next() % 5 {
            0 => [0x03, 0x00, 0x00],
            1 => [0x03, 0x01, 0x01],
            _ => [*pick(rng, &[0x01, 0x03, 0x08, 0x0b, 0x0e, 0xff]), (rng.next() % 3) as u8, (rng.next() % 3) as u8],
        })
        .collect();
    let vendor = *pick(rng, &[0x0000, 0x1d6b, 0x046d, 0xffff]);
    let product = *pick(rng, &[0x0001, 0x0104, 0xc52b]);
    FilteredDevice { class, vendor, product, version: *pick(rng, &[0x0100, 0x0200]), interfaces }
}

fn line(text: &str, d: &FilteredDevice) -> String {
    let mut line = format!("{text}\t{} {} {} {}", d.class, d.vendor, d.product, d.version);
    for i in &d.interfaces {
        line.push_str(&format!(" {}.{}.{}", i[0], i[1], i[2]));
    }
    line
}

/// What we say, in the program's words.
fn ours(text: &str, d: &FilteredDevice) -> String {
    match Filter::parse(text) {
        Err(_) => "parse=-22".to_owned(),
        Ok(filter) => {
            let check = match filter.check(d) {
                Ok(()) => 0,
                Err(refusal) if refusal.rule.is_some() => -EPERM,
                Err(_) => -ENOENT,
            };
            format!("parse=0 rules={filter} check={check}")
        }
    }
}

fn run_library(lines: &[String]) -> Vec<String> {
    // Built once: the tests run in parallel and must not run it while it is written.
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    let exe = EXE.get_or_init(|| common::cc::build_usbredir_program("filter_check.c", "usbredir-filter-check"));
    let mut child =
        Command::new(exe).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("the filter checker starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = lines.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out: Vec<String> = BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap).collect();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "the filter checker failed");
    out
}

#[test]
fn filters_parse_print_and_judge_as_libusbredirparser_does() {
    let mut rng = Rng(0x6669_6c74_6572);
    let cases: Vec<(String, FilteredDevice)> = (0..CASES).map(|_| (filter_text(&mut rng), device(&mut rng))).collect();
    let lines: Vec<String> = cases.iter().map(|(t, d)| line(t, d)).collect();
    let theirs = run_library(&lines);
    assert_eq!(theirs.len(), cases.len(), "one answer per case");
    let (mut parsed, mut allowed, mut denied, mut unmatched) = (0, 0, 0, 0);
    for ((text, d), theirs) in cases.iter().zip(&theirs) {
        assert_eq!(&ours(text, d), theirs, "filter {text:?}, device {d:?}");
        parsed += usize::from(theirs.starts_with("parse=0"));
        allowed += usize::from(theirs.ends_with("check=0"));
        denied += usize::from(theirs.ends_with("check=-1"));
        unmatched += usize::from(theirs.ends_with("check=-2"));
    }
    eprintln!("{CASES} cases: {parsed} parsed ({allowed} allowed, {denied} denied, {unmatched} unmatched)");
    // The generator must reach every outcome, or the comparison proves little.
    assert!(parsed > CASES / 4 && parsed < CASES, "{parsed} parsed");
    assert!(allowed > 100 && denied > 100 && unmatched > 100, "{allowed} {denied} {unmatched}");
}

#[test]
fn a_policy_filter_means_the_same_to_the_library() {
    let policies = [
        UsbPolicy::default(),
        UsbPolicy { allowed: vec![UsbClass::Hid], allow_other: false },
        UsbPolicy { allowed: vec![UsbClass::Hid, UsbClass::Printer], allow_other: true },
        UsbPolicy { allowed: vec![], allow_other: false },
    ];
    let mut rng = Rng(0x706f_6c69_6379);
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for policy in &policies {
        let text = policy.to_filter().to_string();
        for _ in 0..200 {
            let d = device(&mut rng);
            lines.push(line(&text, &d));
            expected.push(ours(&text, &d));
            // The server's own judgement agrees with the filter it sends.
            assert_eq!(policy.refuses(&d).is_some(), !ours(&text, &d).ends_with("check=0"));
        }
    }
    assert_eq!(run_library(&lines), expected);
}

#[test]
fn the_fuzz_harness_takes_random_and_mutated_filters() {
    let mut rng = Rng(0x6675_7a7a);
    for _ in 0..4000 {
        let mut input: Vec<u8> = (0..4).map(|_| rng.next() as u8).collect();
        let mut text = filter_text(&mut rng).into_bytes();
        for _ in 0..rng.next() % 4 {
            if text.is_empty() {
                break;
            }
            let at = (rng.next() % text.len() as u64) as usize;
            match rng.next() % 3 {
                0 => text[at] = rng.next() as u8,
                1 => {
                    text.remove(at);
                }
                _ => text.insert(at, *pick(&mut rng, b",|-x0 9")),
            }
        }
        input.extend(text);
        asp::fuzzing::usbredir_filter(&input);
    }
}
