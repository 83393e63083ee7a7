#![no_main]
//! Fuzz target: see `asp::fuzzing::cursor_messages` (cursor shapes and states, and the client's
//! shape cache).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::cursor_messages(data));
