#![no_main]
//! Fuzz target: see `asp::fuzzing::window_messages` (window channel messages and the client's
//! window model).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::window_messages(data));
