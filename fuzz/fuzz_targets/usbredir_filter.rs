#![no_main]
//! Fuzz target: see `asp::fuzzing::usbredir_filter` (usbredir device filter texts, parsed,
//! printed and checked).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::usbredir_filter(data));
