#![no_main]
//! Fuzz target: see `asp::fuzzing::facade_messages` (display frame headers, input messages).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::facade_messages(data));
