#![no_main]
//! Fuzz target: see `asp::fuzzing::usbredir_packets` (usbredir packets through the USB
//! redirection parser, whole and cut into pieces).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::usbredir_packets(data));
