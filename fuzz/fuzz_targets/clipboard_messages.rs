#![no_main]
//! Fuzz target: see `asp::fuzzing::clipboard_messages` (clipboard messages and the server's
//! reassembly under its policy).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::clipboard_messages(data));
